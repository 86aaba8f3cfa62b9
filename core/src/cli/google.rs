//! `sendrow google …`: Google's endpoints, the OAuth client, sign-in and keys.
//! Secrets are read from standard input, never argv.

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;

use crate::secrets::Secret;
use crate::{Core, Error};

/// `sendrow google …`
#[derive(Debug, Subcommand)]
pub enum GoogleCommand {
    /// Store your OAuth client (Google Cloud console → Credentials → "Desktop app"); the secret is read from stdin.
    Client {
        /// The client ID (….apps.googleusercontent.com).
        #[arg(long)]
        id: String,
    },
    /// Sign in to Google in the browser; the sign-in is kept in the keychain for {"mode": "oauth", "account": NAME}.
    SignIn {
        /// A name for the Google login, e.g. your e-mail.
        account: String,
    },
    /// Keep a service-account JSON key (entry google-sa:NAME) or an API key (google-api-key:NAME) in the keychain; read from stdin.
    Key {
        /// The keychain entry, as the connection's auth.key_entry names it.
        entry: String,
    },
    /// Forget a sign-in or a key (a keychain entry).
    Forget {
        /// The keychain entry.
        entry: String,
    },
    /// Send every Google request to one address laid out like the test fake (the fake itself, or a
    /// reverse proxy routing those paths to Google).
    BaseUrl {
        /// The base URL; omit with --reset to go back to Google's own.
        url: Option<String>,
        /// Use Google's own addresses again.
        #[arg(long, conflicts_with = "url")]
        reset: bool,
    },
    /// Set each Google address on its own; one not given stays Google's own.
    /// `google base-url --reset` goes back to Google for all of them.
    Endpoints {
        /// The Sheets API root (Google's: https://sheets.googleapis.com).
        #[arg(long, value_name = "URL")]
        sheets_api: Option<String>,
        /// The OAuth token endpoint (Google's: https://oauth2.googleapis.com/token).
        #[arg(long, value_name = "URL")]
        token: Option<String>,
        /// The sign-in page (Google's: https://accounts.google.com/o/oauth2/v2/auth).
        #[arg(long, value_name = "URL")]
        authorize: Option<String>,
        /// Where `/spreadsheets/d/ID/export` lives (Google's: https://docs.google.com).
        #[arg(long, value_name = "URL")]
        docs: Option<String>,
    },
}

fn read_stdin_secret(what: &str) -> Result<Secret, Error> {
    let mut text = String::new();
    std::io::stdin()
        .lock()
        .read_to_string(&mut text)
        .map_err(|e| Error::Invalid(format!("cannot read {what}: {e}")))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Invalid(format!("no {what} on standard input: pipe it in (never pass it as an argument)")));
    }
    Ok(Secret::new(text))
}

pub(super) async fn google(core: &Core, cmd: GoogleCommand) -> Result<ExitCode, Error> {
    match cmd {
        GoogleCommand::Client { id } => {
            core.set_google_oauth_client(&id, read_stdin_secret("client secret")?)?;
            say!("Google OAuth client saved; the secret is in the keychain.");
        }
        GoogleCommand::SignIn { account } => {
            let (url, pending) = core.start_google_sign_in().await?;
            tell!("Open this address in your browser and allow Sendrow to read your sheets:\n{url}");
            // Best effort: the user can always copy the address. (The app opens
            // browsers through the `open` crate, the portable path.)
            #[cfg(target_os = "linux")]
            let _ = std::process::Command::new("xdg-open")
                .arg(&url)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn();
            match tokio::time::timeout(Duration::from_secs(600), core.finish_google_sign_in(pending, &account)).await {
                Ok(result) => result?,
                Err(_) => {
                    return Err(Error::Invalid("the sign-in was not finished within 10 minutes; run it again".into()))
                }
            }
            say!("Signed in to Google as {account:?}. Use {{\"mode\": \"oauth\", \"account\": {account:?}}} in a connection.");
        }
        GoogleCommand::Key { entry } => {
            let email = core.store_google_key(&entry, read_stdin_secret("key")?)?;
            match email {
                Some(email) => say!("Key saved. Share your sheets with {email} (Viewer is enough)."),
                None => say!("API key saved. It can read sheets shared with \"Anyone with the link\"."),
            }
        }
        GoogleCommand::Forget { entry } => {
            core.forget_google(&entry)?;
            say!("{entry:?} removed from the keychain.");
        }
        GoogleCommand::BaseUrl { url, reset } => match (url, reset) {
            (Some(url), _) => {
                crate::account::check_base_url(&url)?;
                core.set_google_base_url(Some(&url))?;
                say!("Google requests now go to {url}.");
            }
            (None, true) => {
                core.set_google_base_url(None)?;
                say!("Google requests go to Google again.");
            }
            (None, false) => return Err(Error::Invalid("give a URL, or --reset".into())),
        },
        GoogleCommand::Endpoints { sheets_api, token, authorize, docs } => {
            let google = crate::source::google::GoogleEndpoints::default();
            let pick = |flag: &str, given: Option<String>, default: String| -> Result<String, Error> {
                match given {
                    Some(url) => {
                        crate::account::check_base_url(&url).map_err(|e| Error::Invalid(format!("--{flag}: {e}")))
                    }
                    None => Ok(default),
                }
            };
            let endpoints = crate::source::google::GoogleEndpoints {
                sheets_api: pick("sheets-api", sheets_api, google.sheets_api)?,
                token: pick("token", token, google.token)?,
                authorize: pick("authorize", authorize, google.authorize)?,
                docs: pick("docs", docs, google.docs)?,
            };
            core.set_google_endpoints(Some(&endpoints))?;
            say!(
                "Google requests now go to: API {}, tokens {}, sign-in {}, CSV export {}.",
                endpoints.sheets_api,
                endpoints.token,
                endpoints.authorize,
                endpoints.docs
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
