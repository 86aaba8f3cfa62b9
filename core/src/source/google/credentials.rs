//! Turns a [`GoogleAuth`] into what a Sheets API request carries: a bearer
//! token (OAuth, service account) or an API key, reading secrets from the
//! keychain and caching the access token until shortly before it expires.
//!
//! Not here: the wire format of the token endpoint (`oauth`,
//! `service_account`) and retries (`api`).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{oauth, service_account, Error, GoogleAuth, GoogleEndpoints, OAuthClient, RetryPolicy};
use crate::secrets::{self, Secret, SecretStore};

/// A token this close to expiry is renewed before use, so it cannot expire
/// between the check and Google reading it.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// What one request carries.
pub(super) enum Access {
    /// `Authorization: Bearer …`.
    Bearer(Secret),
    /// `?key=…`.
    Key(Secret),
}

struct Cached {
    token: Secret,
    expires_at: Instant,
}

pub(super) struct Credentials {
    auth: GoogleAuth,
    secrets: Arc<dyn SecretStore>,
    oauth_client: Option<OAuthClient>,
    // Held across the token request so concurrent reads refresh only once.
    cached: tokio::sync::Mutex<Option<Cached>>,
    // The service account's e-mail, once its key was read, for 403 hints.
    sa_email: std::sync::Mutex<Option<String>>,
}

impl Credentials {
    pub(super) fn new(auth: GoogleAuth, secrets: Arc<dyn SecretStore>, oauth_client: Option<OAuthClient>) -> Self {
        Credentials {
            auth,
            secrets,
            oauth_client,
            cached: tokio::sync::Mutex::new(None),
            sa_email: std::sync::Mutex::new(None),
        }
    }

    pub(super) fn is_public_csv(&self) -> bool {
        self.auth == GoogleAuth::PublicCsv
    }

    /// What to send; renews the access token when there is none or it is
    /// about to expire.
    pub(super) async fn access(
        &self,
        http: &reqwest::Client,
        endpoints: &GoogleEndpoints,
        retry: &RetryPolicy,
    ) -> Result<Access, Error> {
        self.auth.check_key_entry()?;
        match &self.auth {
            GoogleAuth::ApiKey { key_entry } => Ok(Access::Key(self.secret(key_entry, "Google API key")?)),
            GoogleAuth::PublicCsv => unreachable!("public_csv reads the export link, not the API"),
            GoogleAuth::OAuth { .. } | GoogleAuth::ServiceAccount { .. } => {
                let mut cached = self.cached.lock().await;
                if let Some(c) = cached.as_ref().filter(|c| Instant::now() + EXPIRY_MARGIN < c.expires_at) {
                    return Ok(Access::Bearer(c.token.clone()));
                }
                let granted = self.fetch_token(http, endpoints, retry).await?;
                let token = granted.access_token.clone();
                *cached = Some(Cached {
                    token: granted.access_token,
                    expires_at: Instant::now() + Duration::from_secs(granted.expires_in),
                });
                Ok(Access::Bearer(token))
            }
        }
    }

    /// Forgets the access token after Google answered 401 with it.
    pub(super) async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    async fn fetch_token(
        &self,
        http: &reqwest::Client,
        endpoints: &GoogleEndpoints,
        retry: &RetryPolicy,
    ) -> Result<oauth::Granted, Error> {
        match &self.auth {
            GoogleAuth::OAuth { account } => {
                let client = self.oauth_client.as_ref().ok_or(Error::NoOAuthClient)?;
                let entry = GoogleAuth::oauth_entry(account);
                let refresh = match self.secrets.get(&entry) {
                    Err(secrets::Error::Missing(_)) => return Err(Error::NotConnected { account: account.clone() }),
                    other => other.map_err(Error::Keychain)?,
                };
                let granted = oauth::refresh(http, endpoints, retry, client, &refresh, account).await?;
                // Google may rotate the refresh token; the new one replaces the old.
                if let Some(new) = &granted.refresh_token {
                    self.secrets.set(&entry, new).map_err(Error::Keychain)?;
                }
                Ok(granted)
            }
            GoogleAuth::ServiceAccount { key_entry } => {
                let json = self.secret(key_entry, "service-account key")?;
                let key = service_account::ServiceAccountKey::parse(json.expose())?;
                *self.sa_email.lock().unwrap_or_else(|p| p.into_inner()) = Some(key.client_email.clone());
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
                let assertion = service_account::assertion(&key, &endpoints.token, now)?;
                service_account::exchange(http, endpoints, retry, &assertion).await
            }
            GoogleAuth::ApiKey { .. } | GoogleAuth::PublicCsv => unreachable!("only token modes fetch tokens"),
        }
    }

    fn secret(&self, entry: &str, what: &'static str) -> Result<Secret, Error> {
        match self.secrets.get(entry) {
            Err(secrets::Error::Missing(_)) => Err(Error::MissingSecret { what, entry: entry.to_owned() }),
            other => other.map_err(Error::Keychain),
        }
    }

    /// Which permission a 403 is missing, in the user's terms.
    pub(super) fn denied_hint(&self, reason: Option<&str>, message: &str) -> String {
        match &self.auth {
            GoogleAuth::ServiceAccount { .. } => {
                let email = self.sa_email.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let email = email.unwrap_or_else(|| "shown in the key file as client_email".into());
                format!("share the sheet with the service account's email {email} (Share → add it as Viewer)")
            }
            GoogleAuth::OAuth { account } => format!(
                "the Google account connected as {account:?} cannot open this sheet; ask the owner to share it with \
                 that account, or reconnect Google with an account that can"
            ),
            GoogleAuth::ApiKey { .. } => {
                let lower = message.to_ascii_lowercase();
                if reason == Some("API_KEY_HTTP_REFERRER_BLOCKED") || lower.contains("referer") {
                    "the API key is restricted to websites; in Google Cloud console → Credentials set its \
                     application restriction to None and its API restriction to Google Sheets API"
                        .into()
                } else if reason == Some("API_KEY_SERVICE_BLOCKED") || lower.contains("are blocked") {
                    "the API key is not allowed for Sheets API; in Google Cloud console → Credentials add \
                     Google Sheets API to the key's API restrictions (and enable the API for the project)"
                        .into()
                } else {
                    "an API key can only read sheets shared with 'anyone with the link'; in Google Sheets choose \
                     Share → General access → Anyone with the link, or sign in with Google instead"
                        .into()
                }
            }
            GoogleAuth::PublicCsv => "share the sheet with 'anyone with the link'".into(),
        }
    }
}
