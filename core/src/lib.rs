//! Sendrow's engine: everything the app does, with no GUI and no tauri.
//!
//! - `model`: the records the store keeps (accounts, run summaries).
//! - `store`: the SQLite file in the data folder; the only module with SQL.
//! - `schedule`: schedule kinds and "when next", with the 5-minute rule.
//! - `scheduler`: the background loop that runs connections when they are due.
//! - `secrets`: the OS keychain (and an in-memory stand-in for unit tests).
//! - `account`: 8x8 accounts, verified without sending anything.
//! - `google_setup`: Google endpoints, the OAuth client, sign-in and keys.
//! - `gateway`: the 8x8 SMS API client; the only module that talks to 8x8.
//! - `send`: claimed ledger entries out through 8x8, every outcome classified.
//! - `delivery`: asks 8x8 what became of queued messages.
//! - `reconcile`: asks 8x8 whether it got the messages whose answer was lost.
//! - `sim`: an 8x8-compatible server on loopback for the sandbox and tests.
//! - `source`: where rows come from, read as a `Table`, and which of them are new.
//! - `connection`: the connection spec, validated against the real source.
//! - `draft`: the wizard's check of a draft connection, with its preview.
//! - `run`: a run of a connection and its preview.
//! - `test_send`: one row sent at once, before the first run.
//! - `history`: the ledger as a list or CSV, and a person's decisions on it.
//! - `sandbox`: the simulator plus a sample account and connection for newcomers.
//! - `optout`: numbers never texted.
//! - `lock`: file locks that let several processes share a data folder.
//! - `gsm7`: which texts fit the GSM 03.38 alphabet.
//! - `compose`: a row's SMS: template, phone number, sender, segments.
//! - `settings`: choices the user makes in the window (language, …).
//! - `logging`: the log file in the data folder (`SENDROW_LOG` sets the level).
//! - `daemon`: the scheduler wired to a data folder (the tray app and `sendrow daemon`).
//! - `cli`: the headless command line (`docs/cli.md`).
//!
//! [`Core`] ties a data folder's store to a secret store; the desktop app and
//! the CLI both go through it.
//!
//! A module uses only the modules below it: the order is `LAYERS` in
//! `core/tests/it/tidy.rs`, which fails on an import pointing up.

pub mod account;
pub mod cli;
pub mod code;
pub mod compose;
pub mod conditions;
pub mod connection;
pub mod daemon;
pub mod data_dir;
pub mod delivery;
pub mod draft;
pub mod follow;
pub mod gateway;
pub mod google_setup;
pub mod gsm7;
pub mod history;
pub mod lock;
pub mod logging;
pub mod model;
pub mod optout;
pub mod reconcile;
pub mod reminder;
pub mod rename;
pub mod run;
pub mod sandbox;
pub mod schedule;
pub mod scheduler;
pub mod secrets;
pub mod send;
pub mod settings;
pub mod sim;
pub mod source;
pub mod store;
pub mod test_send;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrets::SecretStore;
use store::Store;

/// The builder of every HTTPS client Sendrow makes (8x8, Google): TLS through
/// rustls with ring, installed as the process's provider before the first
/// client is built (reqwest's own, aws-lc, would cost about 1 MB of binary).
pub(crate) fn http_client() -> reqwest::ClientBuilder {
    install_tls_provider();
    reqwest::Client::builder()
}

/// Makes ring the process's rustls provider, unless one is installed. A
/// process whose rustls has two providers compiled in (a test binary, whose
/// dev-dependencies bring aws-lc) must choose before any TLS client starts.
pub fn install_tls_provider() {
    // Err only when a provider is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Any failure a user can meet, by the step where it happened.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that cannot be used; the text names the field and what is accepted.
    #[error("{0}")]
    Invalid(String),
    /// The named account does not exist.
    #[error("there is no account named {0:?}; `sendrow account list` shows the accounts there are")]
    NoSuchAccount(String),
    /// The data folder cannot be created or used.
    #[error("cannot use the data folder {path}: {source}")]
    DataDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A removal would forget messages nobody has settled yet.
    #[error(
        "connection {connection:?} still has {}: removing it forgets them for good. \
         See them with `sendrow history {connection:?}`; settle them first (`sendrow resend`, `sendrow mark-sent`, \
         or a run), or remove it anyway with `sendrow connection remove {connection:?} --force`",
        unsettled_words(*unknown, *failed)
    )]
    Unsettled {
        /// The connection.
        connection: String,
        /// Messages that may have reached 8x8.
        unknown: i64,
        /// Messages that failed and wait to be sent again.
        failed: i64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The keychain failed.
    #[error(transparent)]
    Secrets(#[from] secrets::Error),
    /// 8x8 failed or refused.
    #[error(transparent)]
    Gateway(#[from] gateway::Error),
    /// The source could not be read.
    #[error(transparent)]
    Source(#[from] source::Error),
}

impl Error {
    /// Whether the same step is likely to work in a moment with nobody doing
    /// anything: a file caught half-saved, Google busy or out of reach.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Source(e) => e.is_transient(),
            Error::Store(store::Error::StaleRows { .. }) => true,
            _ => false,
        }
    }

    /// A stable, closed code for the UI to branch on and translate.
    pub fn code(&self) -> code::Code {
        use code::Code;
        match self {
            Error::Invalid(_) => Code::InvalidInput,
            Error::NoSuchAccount(_) => Code::NoSuchAccount,
            Error::Unsettled { .. } => Code::Unsettled,
            Error::DataDir { .. } => Code::DataDir,
            Error::Store(store::Error::TooNew { .. }) => Code::DatabaseTooNew,
            Error::Store(store::Error::DuplicateAccount(_)) => Code::DuplicateAccount,
            Error::Store(store::Error::DuplicateConnection(_)) => Code::DuplicateConnection,
            Error::Store(store::Error::StaleRows { .. }) => Code::Busy,
            Error::Store(_) => Code::Database,
            Error::Secrets(secrets::Error::Unavailable(_)) => Code::KeychainUnavailable,
            Error::Secrets(secrets::Error::Missing(_)) => Code::KeychainEntryMissing,
            Error::Gateway(e) if e.rejects_account() => Code::GatewayAuth,
            Error::Gateway(gateway::Error::Unreachable { .. }) => Code::GatewayUnreachable,
            Error::Gateway(_) => Code::Gateway,
            Error::Source(source::Error::Google(e)) => e.code(),
            Error::Source(source::Error::NoRowsYet { .. }) => Code::SourceNoRows,
            Error::Source(e) if e.is_transient() => Code::SourceBusy,
            Error::Source(_) => Code::Source,
        }
    }
}

/// "2 messages that may have reached 8x8 (unknown) and 1 that failed and
/// waits to be sent again (failed)", for `Error::Unsettled`.
fn unsettled_words(unknown: i64, failed: i64) -> String {
    let plural = |n: i64| if n == 1 { "message" } else { "messages" };
    let unknown_words = format!("{unknown} {} that may have reached 8x8 (unknown)", plural(unknown));
    let failed_words = |lead: &str| {
        let verb = if failed == 1 { "waits" } else { "wait" };
        format!("{failed} {lead}failed and {verb} to be sent again (failed)")
    };
    match (unknown > 0, failed > 0) {
        (true, true) => format!("{unknown_words} and {}", failed_words("that ")),
        (true, false) => unknown_words,
        _ => failed_words(&format!("{} that ", plural(failed))),
    }
}

/// A data folder opened for work: its store plus the secret store to use.
pub struct Core {
    data_dir: PathBuf,
    store: Store,
    secrets: Arc<dyn SecretStore>,
    http_timeout: Duration,
    /// Sends of this `Core` between claiming messages and recording outcomes.
    sending_now: Arc<AtomicUsize>,
    /// One turn per connection: runs of a connection through this `Core`
    /// (the schedule's, the window's arrow) take turns, never overlap.
    run_turns: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Held while a send of this `Core` may have ledger entries in `sending`:
/// the folder's shared sending lock plus this `Core`'s own count.
pub(crate) struct Sending {
    _lock: lock::SendingGuard,
    count: Arc<AtomicUsize>,
}

impl Drop for Sending {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Core {
    /// Opens `data_dir` (creating it when missing) and migrates its database.
    pub fn open(data_dir: &Path, secrets: Arc<dyn SecretStore>) -> Result<Core, Error> {
        data_dir::create(data_dir)?;
        let store = Store::open(data_dir)?;
        // Entries a crashed process left in `sending` may have gone out: they
        // are `unknown` from the first look at the history, not only after
        // the next run. Skipped while another process is sending for real.
        lock::when_nobody_sends(data_dir, || Ok(store.recover_interrupted(chrono::Utc::now())?))?;
        Ok(Core {
            data_dir: data_dir.to_owned(),
            store,
            secrets,
            http_timeout: gateway::DEFAULT_TIMEOUT,
            sending_now: Arc::default(),
            run_turns: Mutex::default(),
        })
    }

    /// Opens `data_dir` with the OS keychain, as the app and CLI do.
    pub fn open_with_keychain(data_dir: &Path) -> Result<Core, Error> {
        Core::open(data_dir, Arc::new(secrets::Keychain::new()))
    }

    /// Changes how long calls to 8x8 may take before they count as ambiguous.
    pub fn set_http_timeout(&mut self, timeout: Duration) {
        self.http_timeout = timeout;
    }

    /// The data folder.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Takes the folder's sending lock for a send of this `Core`; hold it
    /// from before claiming messages until their outcomes are recorded.
    pub(crate) fn start_sending(&self) -> Result<Sending, Error> {
        let lock = lock::sending(&self.data_dir)?;
        self.sending_now.fetch_add(1, Ordering::SeqCst);
        Ok(Sending { _lock: lock, count: self.sending_now.clone() })
    }

    /// The turn runs of connection `name` take through this `Core`.
    pub(crate) fn run_turn(&self, name: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut turns = self.run_turns.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        turns.entry(name.to_owned()).or_default().clone()
    }

    /// Whether a run or test send of this `Core` is between claiming
    /// messages and recording their outcomes. The app waits for this to be
    /// false before it replaces itself (closing its window to the tray).
    pub fn is_sending(&self) -> bool {
        self.sending_now.load(Ordering::SeqCst) > 0
    }

    /// What reading a Google source needs: the keychain, the endpoints and
    /// OAuth client from the settings.
    pub fn google_access(&self) -> source::GoogleAccess {
        let endpoints = self
            .store
            .setting(GOOGLE_ENDPOINTS_SETTING)
            .ok()
            .flatten()
            .and_then(|v| serde_json::from_value::<GoogleEndpointsSetting>(v).ok())
            .map(|s| s.into_endpoints())
            .unwrap_or_default();
        let oauth_client = self
            .store
            .setting(GOOGLE_CLIENT_ID_SETTING)
            .ok()
            .flatten()
            .and_then(|v| v.as_str().map(str::to_owned))
            .and_then(|client_id| {
                let secret = self.secrets.get(GOOGLE_CLIENT_SECRET_ENTRY).ok()?;
                Some(source::google::OAuthClient { client_id, client_secret: secret })
            });
        source::GoogleAccess { secrets: Some(self.secrets.clone()), endpoints, oauth_client }
    }

    /// Points every Google endpoint at `base_url`, laid out as the fake lays
    /// them out (`/v4/…`, `/token`, `/o/oauth2/v2/auth`, `/spreadsheets/d/…`):
    /// a local fake in tests, or a reverse proxy routing those paths to
    /// Google's hosts. `None` goes back to Google's own.
    pub fn set_google_base_url(&self, base_url: Option<&str>) -> Result<(), Error> {
        let value = match base_url {
            Some(url) => serde_json::json!({ "base_url": url.trim_end_matches('/') }),
            None => serde_json::Value::Null,
        };
        Ok(self.store.set_setting(GOOGLE_ENDPOINTS_SETTING, &value)?)
    }

    /// Sets each Google endpoint on its own (the API, the token endpoint,
    /// the sign-in page, the CSV export host); `None` goes back to Google's
    /// own for all of them.
    pub fn set_google_endpoints(&self, endpoints: Option<&source::google::GoogleEndpoints>) -> Result<(), Error> {
        let value = match endpoints {
            Some(e) => serde_json::json!({
                "sheets_api": e.sheets_api.trim_end_matches('/'),
                "token": e.token,
                "authorize": e.authorize,
                "docs": e.docs.trim_end_matches('/'),
            }),
            None => serde_json::Value::Null,
        };
        Ok(self.store.set_setting(GOOGLE_ENDPOINTS_SETTING, &value)?)
    }

    /// The store, for modules of this crate.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }
}

const GOOGLE_ENDPOINTS_SETTING: &str = "google.endpoints";
pub(crate) const GOOGLE_CLIENT_ID_SETTING: &str = "google.oauth_client_id";
pub(crate) const GOOGLE_CLIENT_SECRET_ENTRY: &str = "google-oauth-client";

/// The stored form of the Google endpoints: one base URL laid out like the
/// fake, or each endpoint on its own.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum GoogleEndpointsSetting {
    Base { base_url: String },
    Each { sheets_api: String, token: String, authorize: String, docs: String },
}

impl GoogleEndpointsSetting {
    fn into_endpoints(self) -> source::google::GoogleEndpoints {
        match self {
            GoogleEndpointsSetting::Base { base_url: b } => source::google::GoogleEndpoints {
                sheets_api: b.clone(),
                token: format!("{b}/token"),
                authorize: format!("{b}/o/oauth2/v2/auth"),
                docs: b,
            },
            GoogleEndpointsSetting::Each { sheets_api, token, authorize, docs } => {
                source::google::GoogleEndpoints { sheets_api, token, authorize, docs }
            }
        }
    }
}
