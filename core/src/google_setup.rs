//! Setting Google up for a data folder: where Google's endpoints are, the
//! OAuth client a user registered, signing in as a user, and keys kept in the
//! keychain for service accounts and API keys. Reading sheets is
//! `source::google`'s job; this module only stores what it needs.

use crate::secrets::Secret;
use crate::source::google::{self, OAuthClient, OAuthFlow, PendingLogin, ServiceAccountKey};
use crate::{Core, Error, GOOGLE_CLIENT_ID_SETTING, GOOGLE_CLIENT_SECRET_ENTRY};

/// Keychain entries of Google sign-ins start with this (`google-oauth:ACCOUNT`).
pub const SIGN_IN_ENTRY_PREFIX: &str = "google-oauth:";

/// Keychain entries Sendrow may store Google keys under start with this.
pub const KEY_ENTRY_PREFIXES: [&str; 2] = ["google-sa:", "google-api-key:"];

impl Core {
    /// Stores the OAuth client ("Desktop app" type from Google Cloud console):
    /// the ID in the settings, the secret in the keychain.
    pub fn set_google_oauth_client(&self, client_id: &str, client_secret: Secret) -> Result<(), Error> {
        let id = client_id.trim();
        if id.is_empty() || id.contains(char::is_whitespace) {
            return Err(Error::Invalid(
                "the OAuth client ID is empty or has spaces: copy it from Google Cloud console → Credentials".into(),
            ));
        }
        self.secrets.set(GOOGLE_CLIENT_SECRET_ENTRY, &client_secret)?;
        Ok(self.store().set_setting(GOOGLE_CLIENT_ID_SETTING, &serde_json::json!(id))?)
    }

    /// Starts signing in to Google as `account`: returns the address to open
    /// in the browser and the sign-in waiting for the browser to come back.
    pub async fn start_google_sign_in(&self) -> Result<(String, PendingLogin), Error> {
        let access = self.google_access();
        let client: OAuthClient = access.oauth_client.ok_or_else(|| {
            Error::Invalid(
                "no Google OAuth client is set up: run `sendrow google client --id CLIENT_ID` with the secret on stdin first"
                    .into(),
            )
        })?;
        OAuthFlow::start(client, access.endpoints).await.map_err(|e| Error::Source(e.into()))
    }

    /// Finishes a sign-in: the refresh token goes to the keychain for `account`.
    pub async fn finish_google_sign_in(&self, pending: PendingLogin, account: &str) -> Result<(), Error> {
        pending.finish(self.secrets.as_ref(), account).await.map_err(|e| Error::Source(e.into()))
    }

    /// Keeps a service-account JSON key or an API key in the keychain under
    /// `entry` (`google-sa:…` or `google-api-key:…`), checking a service-account
    /// key's shape first. Returns the service account's e-mail, to share sheets with.
    pub fn store_google_key(&self, entry: &str, key: Secret) -> Result<Option<String>, Error> {
        if !KEY_ENTRY_PREFIXES.iter().any(|p| entry.starts_with(p) && entry.len() > p.len()) {
            return Err(Error::Invalid(format!(
                "{entry:?} is not a Google key entry: name it google-sa:NAME for a service account's JSON key \
                 or google-api-key:NAME for an API key"
            )));
        }
        let email = if entry.starts_with("google-sa:") {
            let parsed = ServiceAccountKey::parse(key.expose()).map_err(|e| Error::Source(e.into()))?;
            Some(parsed.client_email.clone())
        } else {
            None
        };
        self.secrets.set(entry, &key)?;
        Ok(email)
    }

    /// Forgets a Google sign-in or key; only those, so no typo can delete
    /// an 8x8 account's key or the OAuth client's secret.
    pub fn forget_google(&self, entry: &str) -> Result<(), Error> {
        let mut google = std::iter::once(SIGN_IN_ENTRY_PREFIX).chain(KEY_ENTRY_PREFIXES);
        if !google.any(|p| entry.starts_with(p) && entry.len() > p.len()) {
            return Err(Error::Invalid(format!(
                "{entry:?} is not a Google sign-in or key: name a google-oauth:NAME, google-sa:NAME \
                 or google-api-key:NAME entry"
            )));
        }
        Ok(self.secrets.delete(entry)?)
    }
}

/// The keychain entry of a user's sign-in, for `{"mode": "oauth", "account": …}`.
pub fn sign_in_entry(account: &str) -> String {
    google::GoogleAuth::oauth_entry(account)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::{MemorySecrets, SecretStore};
    use std::sync::Arc;

    #[test]
    fn only_google_entries_can_be_forgotten() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let secrets = Arc::new(MemorySecrets::new());
        let core = Core::open(dir.path(), secrets.clone()).expect("a core");
        for entry in ["account:8x8-main", "google-oauth-client", "google-sa:", "google-api-key:sheet"] {
            secrets.set(entry, &Secret::new("kept")).expect("stored");
        }
        for refused in ["account:8x8-main", "google-oauth-client", "google-sa:"] {
            let err = core.forget_google(refused).expect_err(refused);
            assert!(matches!(err, Error::Invalid(_)), "{refused}: {err:?}");
            assert!(secrets.get(refused).is_ok(), "{refused} is still there");
        }
        core.forget_google("google-api-key:sheet").expect("a Google key is forgotten");
        assert!(secrets.get("google-api-key:sheet").is_err(), "and gone");
    }
}
