//! Service accounts: the JSON key (kept whole in the keychain) signs an RS256
//! JWT that the token endpoint trades for an access token; there is no
//! refresh token, a new JWT is minted each time.
//!
//! The JWT goes to [`GoogleEndpoints::token`], not to the key file's own
//! `token_uri`: a signed assertion is as good as a token for an hour, so it is
//! only ever sent to the address Sendrow is configured with.
//!
//! Not here: the token cache (`credentials`).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde::{Deserialize, Serialize};

use super::oauth::{token_request, Granted, TokenFailure};
use super::{Error, GoogleEndpoints, RetryPolicy, SCOPE};
use crate::secrets::Secret;

/// How long a JWT may live; Google refuses more than an hour.
const LIFETIME_SECS: u64 = 3600;

/// The fields Sendrow uses from a service account's JSON key file.
#[derive(Debug, Clone)]
pub struct ServiceAccountKey {
    /// The account's e-mail: the sheet must be shared with it.
    pub client_email: String,
    /// Which of the account's keys this is (the JWT's `kid`).
    pub private_key_id: Option<String>,
    private_key: Secret,
}

#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: Option<String>,
    private_key_id: Option<String>,
    private_key: Option<String>,
}

impl ServiceAccountKey {
    /// Reads a key file's JSON; the error names what is missing.
    pub fn parse(json: &str) -> Result<ServiceAccountKey, Error> {
        let bad = |why: &str| Error::BadServiceAccountKey(why.to_owned());
        // serde's message could quote the private key, so it is not passed on.
        let file: KeyFile = serde_json::from_str(json).map_err(|_| bad("it is not a JSON key file"))?;
        if file.kind.as_deref().is_some_and(|k| k != "service_account") {
            return Err(bad("its \"type\" is not \"service_account\""));
        }
        let client_email =
            file.client_email.filter(|e| e.contains('@')).ok_or_else(|| bad("it has no client_email"))?;
        let private_key = file.private_key.ok_or_else(|| bad("it has no private_key"))?;
        let key = ServiceAccountKey {
            client_email,
            private_key_id: file.private_key_id,
            private_key: Secret::new(private_key),
        };
        key.key_pair()?;
        Ok(key)
    }

    fn key_pair(&self) -> Result<RsaKeyPair, Error> {
        let bad = |why: &str| Error::BadServiceAccountKey(why.to_owned());
        let pem = self.private_key.expose();
        let body: String = pem
            .lines()
            .map(str::trim)
            .skip_while(|l| *l != "-----BEGIN PRIVATE KEY-----")
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .collect();
        if body.is_empty() {
            return Err(bad("its private_key is not a PEM \"BEGIN PRIVATE KEY\" block"));
        }
        let der = STANDARD.decode(body).map_err(|_| bad("its private_key is not valid base64"))?;
        RsaKeyPair::from_pkcs8(&der).map_err(|_| bad("its private_key is not an RSA key"))
    }
}

/// The JWT claims Google wants for a service account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Claims {
    pub iss: String,
    pub scope: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

pub(crate) fn claims(key: &ServiceAccountKey, audience: &str, now: u64) -> Claims {
    Claims {
        iss: key.client_email.clone(),
        scope: SCOPE.into(),
        aud: audience.into(),
        iat: now,
        exp: now + LIFETIME_SECS,
    }
}

/// The signed JWT (`header.claims.signature`) for `audience` at `now` (Unix seconds).
pub(super) fn assertion(key: &ServiceAccountKey, audience: &str, now: u64) -> Result<String, Error> {
    sign(key, &claims(key, audience, now))
}

/// `claims` as a JWT signed with RS256 by `key`. Separate from [`assertion`]
/// so tests can sign claims Sendrow would never send, to see the fake refuse them.
pub(crate) fn sign(key: &ServiceAccountKey, claims: &Claims) -> Result<String, Error> {
    let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = &key.private_key_id {
        header["kid"] = kid.clone().into();
    }
    let claims = serde_json::to_vec(claims).expect("claims always serialize");
    let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims));
    let pair = key.key_pair()?;
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut signature)
        .map_err(|_| Error::BadServiceAccountKey("signing with its private_key failed".into()))?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// Trades the JWT for an access token.
pub(super) async fn exchange(
    http: &reqwest::Client,
    endpoints: &GoogleEndpoints,
    retry: &RetryPolicy,
    assertion: &str,
) -> Result<Granted, Error> {
    let form = [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion)];
    token_request(http, endpoints, retry, &form).await.map_err(|e| match e {
        TokenFailure::Refused(t) => Error::ServiceAccountRefused {
            description: if t.error_description.is_empty() { t.error } else { t.error_description },
        },
        TokenFailure::Other(e) => e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> (ServiceAccountKey, Vec<u8>) {
        let (json, public_key) = crate::source::google::fake::service_account_key("bot@proj.iam.gserviceaccount.com");
        (ServiceAccountKey::parse(&json).expect("a generated key parses"), public_key)
    }

    #[test]
    fn claims_follow_googles_rules() {
        let (key, _) = key();
        let c = claims(&key, "https://oauth2.googleapis.com/token", 1_700_000_000);
        assert_eq!(c.iss, "bot@proj.iam.gserviceaccount.com", "the issuer is the service account");
        assert_eq!(c.aud, "https://oauth2.googleapis.com/token", "the audience is the token URL");
        assert_eq!(c.scope, SCOPE, "read-only sheets, nothing more");
        assert_eq!(c.iat, 1_700_000_000, "issued now");
        assert!(c.exp > c.iat && c.exp - c.iat <= 3600, "Google refuses JWTs living over an hour: {c:?}");
    }

    #[test]
    fn the_jwt_is_rs256_signed_by_the_key() {
        let (key, public_key) = key();
        let jwt = assertion(&key, "http://127.0.0.1:1/token", 1_700_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3, "header.claims.signature");
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256", "Google only takes RS256");
        assert_eq!(header["kid"], "test-key-1", "the key ID lets Google pick the public key");
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let verifier =
            ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, &public_key);
        verifier
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .expect("the signature verifies with the key's public half");
    }

    #[test]
    fn bad_key_files_say_what_is_wrong_without_quoting_the_key() {
        let cases = [
            ("{", "not a JSON key file"),
            (r#"{"type":"authorized_user","client_email":"a@b","private_key":"x"}"#, "\"type\""),
            (r#"{"type":"service_account","private_key":"x"}"#, "client_email"),
            (r#"{"type":"service_account","client_email":"a@b"}"#, "no private_key"),
            (r#"{"client_email":"a@b","private_key":"SECRET-MATERIAL"}"#, "PEM"),
        ];
        for (json, words) in cases {
            let err = ServiceAccountKey::parse(json).expect_err(json).to_string();
            assert!(err.contains(words), "{json} is refused with {words:?}: {err}");
            assert!(!err.contains("SECRET-MATERIAL"), "the key never appears in errors: {err}");
        }
        let (key, _) = key();
        assert!(!format!("{key:?}").contains("PRIVATE KEY"), "Debug hides the private key");
    }
}
