//! Signing in with Google as a desktop app: the system browser, a loopback
//! redirect to `http://127.0.0.1:<random port>/`, PKCE S256 and a checked
//! `state`; the code is exchanged for tokens and the refresh token goes to the
//! keychain. Also the refresh grant used on every later read.
//!
//! ```no_run
//! # async fn demo(secrets: &dyn sendrow_core::secrets::SecretStore, client: sendrow_core::source::google::OAuthClient) -> Result<(), sendrow_core::source::google::Error> {
//! use sendrow_core::source::google::{GoogleEndpoints, OAuthFlow};
//! let (url, pending) = OAuthFlow::start(client, GoogleEndpoints::default()).await?;
//! // open `url` in the system browser (the caller's job), then:
//! pending.finish(secrets, "me@example.com").await?;
//! # Ok(()) }
//! ```
//!
//! Not here: opening the browser, timing out an abandoned sign-in (wrap
//! `finish` in `tokio::time::timeout`), and the access-token cache
//! (`credentials`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Url;
use ring::digest;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{api, http_client, Error, GoogleAuth, GoogleEndpoints, RetryPolicy, SCOPE};
use crate::secrets::{Secret, SecretStore};

/// The OAuth client ("Desktop app" type) the user registered in Google Cloud
/// console. Google calls the secret a secret but treats desktop clients as
/// public; it is still kept out of logs.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    /// The client ID, `….apps.googleusercontent.com`.
    pub client_id: String,
    /// The client secret.
    pub client_secret: Secret,
}

/// How long a connection to the loopback listener may take to send its request.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Starts a sign-in; see the module docs.
pub struct OAuthFlow;

/// A sign-in waiting for the browser to come back to the loopback address.
pub struct PendingLogin {
    listener: TcpListener,
    redirect_uri: String,
    state: String,
    verifier: Secret,
    client: OAuthClient,
    endpoints: GoogleEndpoints,
}

/// What the token endpoint grants.
#[derive(Deserialize)]
pub(super) struct Granted {
    #[serde(deserialize_with = "secret")]
    pub access_token: Secret,
    #[serde(default = "an_hour")]
    pub expires_in: u64,
    #[serde(default, deserialize_with = "some_secret")]
    pub refresh_token: Option<Secret>,
}

fn an_hour() -> u64 {
    3600
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    String::deserialize(d).map(Secret::new)
}

fn some_secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Option::<String>::deserialize(d).map(|s| s.map(Secret::new))
}

/// `{"error": "invalid_grant", "error_description": "…"}`.
#[derive(Deserialize, Default)]
pub(super) struct TokenError {
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub error_description: String,
}

/// 32 random bytes as base64url: a PKCE verifier (43 characters) or a state.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .expect("the system random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `BASE64URL(SHA256(verifier))`, RFC 7636 §4.2.
pub(crate) fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
}

impl OAuthFlow {
    /// Listens on 127.0.0.1 at a random port and returns the address to open
    /// in the browser, plus the sign-in waiting for its redirect.
    pub async fn start(client: OAuthClient, endpoints: GoogleEndpoints) -> Result<(String, PendingLogin), Error> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.map_err(Error::Loopback)?;
        let port = listener.local_addr().map_err(Error::Loopback)?.port();
        let redirect_uri = format!("http://127.0.0.1:{port}/");
        let state = random_token();
        let verifier = Secret::new(random_token());
        let mut url = Url::parse(&endpoints.authorize)
            .map_err(|e| Error::Unreadable(format!("the authorization address is not a URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("client_id", &client.client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", SCOPE)
            .append_pair("code_challenge", &pkce_challenge(verifier.expose()))
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", &state)
            // Without these Google grants no refresh token on a repeated consent.
            .append_pair("access_type", "offline")
            .append_pair("prompt", "consent");
        let pending = PendingLogin { listener, redirect_uri, state, verifier, client, endpoints };
        Ok((url.into(), pending))
    }
}

impl PendingLogin {
    /// The loopback address Google will redirect to.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for the browser's redirect, checks `state`, exchanges the code
    /// (with the PKCE verifier) and keeps the refresh token in `secrets` under
    /// [`GoogleAuth::oauth_entry`]`(account)`. The browser tab is told how it went.
    pub async fn finish(self, secrets: &dyn SecretStore, account: &str) -> Result<(), Error> {
        let (mut stream, target) = self.wait_for_redirect().await?;
        let query: Vec<(String, String)> = Url::parse(&format!("http://127.0.0.1{target}"))
            .map(|u| u.query_pairs().into_owned().collect())
            .unwrap_or_default();
        let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let outcome = match (param("state"), param("error"), param("code")) {
            (state, _, _) if state.as_deref() != Some(self.state.as_str()) => Err(Error::StateMismatch),
            (_, Some(error), _) => Err(Error::SignInCancelled { error }),
            (_, None, Some(code)) => self.exchange(&code).await,
            (_, None, None) => Err(Error::SignInCancelled { error: "no code in the redirect".into() }),
        };
        let outcome = outcome.and_then(|refresh| {
            let refresh = refresh.ok_or_else(|| Error::SignInRefused {
                error: "no refresh token".into(),
                description: "Google granted access without a refresh token".into(),
            })?;
            secrets.set(&GoogleAuth::oauth_entry(account), &refresh).map_err(Error::Keychain)
        });
        match &outcome {
            Ok(()) => respond(&mut stream, "200 OK", "Sendrow is connected to Google. You can close this tab.").await,
            Err(e) => respond(&mut stream, "400 Bad Request", &format!("Sendrow could not sign in: {e}")).await,
        }
        outcome
    }

    /// The first `GET /?…` on the listener. Each connection is read on its
    /// own task: browsers open speculative connections that never send a
    /// request, and one of those must not hold up the real redirect.
    async fn wait_for_redirect(&self) -> Result<(TcpStream, String), Error> {
        let (found, mut redirects) = tokio::sync::mpsc::channel::<(TcpStream, String)>(1);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (mut stream, _) = accepted.map_err(Error::Loopback)?;
                    let found = found.clone();
                    tokio::spawn(async move {
                        match tokio::time::timeout(REQUEST_TIMEOUT, read_target(&mut stream)).await {
                            Ok(Some(target)) if target == "/" || target.starts_with("/?") => {
                                let _ = found.send((stream, target)).await;
                            }
                            // Browsers also ask for /favicon.ico and the like.
                            Ok(Some(_)) => respond(&mut stream, "404 Not Found", "Not found.").await,
                            _ => {}
                        }
                    });
                }
                Some(redirect) = redirects.recv() => return Ok(redirect),
            }
        }
    }

    async fn exchange(&self, code: &str) -> Result<Option<Secret>, Error> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.redirect_uri),
            ("client_id", &self.client.client_id),
            ("client_secret", self.client.client_secret.expose()),
            ("code_verifier", self.verifier.expose()),
        ];
        let http = http_client();
        let granted =
            token_request(&http, &self.endpoints, &RetryPolicy::default(), &form).await.map_err(|e| match e {
                TokenFailure::Refused(t) => refused(t),
                TokenFailure::Other(e) => e,
            })?;
        Ok(granted.refresh_token)
    }
}

fn refused(t: TokenError) -> Error {
    match t.error.as_str() {
        "invalid_client" | "unauthorized_client" => Error::OAuthClientRejected { description: t.error_description },
        _ => Error::SignInRefused { error: t.error, description: t.error_description },
    }
}

/// The request target of one HTTP request (`/?code=…`), or `None` when it is
/// not a readable GET.
async fn read_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut words = head.lines().next()?.split_whitespace();
    (words.next()? == "GET").then_some(())?;
    words.next().map(str::to_owned)
}

async fn respond(stream: &mut TcpStream, status: &str, text: &str) {
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>Sendrow</title><p style=\"font:16px sans-serif\">{}</p>",
        text.replace('&', "&amp;").replace('<', "&lt;")
    );
    let answer = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // The browser may already be gone; the sign-in's outcome does not depend on it.
    let _ = stream.write_all(answer.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Why a token request failed.
pub(super) enum TokenFailure {
    /// The endpoint answered with an OAuth error body.
    Refused(TokenError),
    /// Anything else (unreachable, 5xx after retries, unreadable).
    Other(Error),
}

/// `POST` `form` to the token endpoint.
pub(super) async fn token_request(
    http: &reqwest::Client,
    endpoints: &GoogleEndpoints,
    retry: &RetryPolicy,
    form: &[(&str, &str)],
) -> Result<Granted, TokenFailure> {
    let url = Url::parse(&endpoints.token)
        .map_err(|e| TokenFailure::Other(Error::Unreadable(format!("the token address is not a URL: {e}"))))?;
    let reply = api::send(retry, &url, || http.post(url.clone()).form(form)).await.map_err(TokenFailure::Other)?;
    if reply.status.is_success() {
        return serde_json::from_slice(&reply.body)
            // serde's message could quote a token, so only the fact is kept.
            .map_err(|_| {
                TokenFailure::Other(Error::Unreadable("the token endpoint's answer is not token JSON".into()))
            });
    }
    if reply.status.as_u16() == 429 {
        let retry_after = reply.retry_after.unwrap_or(std::time::Duration::from_secs(60));
        let message = "too many sign-in requests".into();
        return Err(TokenFailure::Other(Error::RateLimited { retry_after, message }));
    }
    if reply.status.is_server_error() {
        let message = match serde_json::from_slice::<TokenError>(&reply.body) {
            Ok(t) if !t.error_description.is_empty() => t.error_description,
            Ok(t) if !t.error.is_empty() => t.error,
            _ => String::from_utf8_lossy(&reply.body).chars().take(200).collect(),
        };
        return Err(TokenFailure::Other(Error::Server { status: reply.status.as_u16(), message }));
    }
    match serde_json::from_slice::<TokenError>(&reply.body) {
        Ok(t) if !t.error.is_empty() => Err(TokenFailure::Refused(t)),
        _ => Err(TokenFailure::Refused(TokenError {
            error: format!("HTTP {}", reply.status.as_u16()),
            error_description: String::from_utf8_lossy(&reply.body).chars().take(200).collect(),
        })),
    }
}

/// Trades the stored refresh token for an access token. `invalid_grant`
/// (revoked, expired, unused for months) means the user must sign in again.
pub(super) async fn refresh(
    http: &reqwest::Client,
    endpoints: &GoogleEndpoints,
    retry: &RetryPolicy,
    client: &OAuthClient,
    refresh_token: &Secret,
    account: &str,
) -> Result<Granted, Error> {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose()),
        ("client_id", &client.client_id),
        ("client_secret", client.client_secret.expose()),
    ];
    let refreshed = token_request(http, endpoints, retry, &form).await;
    if let Err(TokenFailure::Refused(t)) = &refreshed {
        tracing::warn!(error = %t.error, account, "Google refused to renew the sign-in: {}", t.error_description);
    }
    refreshed.map_err(|e| match e {
        TokenFailure::Refused(t) if t.error == "invalid_grant" => {
            Error::ReconnectGoogle { account: account.to_owned(), description: t.error_description }
        }
        TokenFailure::Refused(t) => refused(t),
        TokenFailure::Other(e) => e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "the S256 challenge is the RFC's worked example"
        );
    }

    #[test]
    fn verifiers_are_long_random_and_url_safe() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b, "two sign-ins never share a verifier or state");
        assert_eq!(a.len(), 43, "32 bytes of base64url: within RFC 7636's 43..=128 characters");
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "unreserved characters only");
    }
}
