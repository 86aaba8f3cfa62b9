//! Google Sheets as a row source: one tab of one spreadsheet read as a
//! [`Table`] of values as displayed.
//!
//! The tab is stored by its gid (`sheetId`), which survives renames, and
//! resolved to its current title on every read through the Sheets API v4
//! (`spreadsheets.get`, then `values.get` with `FORMATTED_VALUE`). Sign-in is
//! one of the modes of [`GoogleAuth`]; every Google URL comes from
//! [`GoogleEndpoints`] so tests point them at [`fake::FakeGoogle`].
//!
//! - `api`: the HTTP calls, bounded retries and Google's error envelope.
//! - `credentials`: turns a [`GoogleAuth`] into a bearer token or API key.
//! - [`oauth`]: the desktop sign-in (loopback redirect + PKCE) and refresh.
//! - `service_account`: the RS256 JWT exchanged for a token.
//! - `export`: the CSV export of a link-shared sheet, with no API at all.
//! - [`fake`]: a loopback fake of all of the above for tests.
//!
//! Not here: which rows are new (decided from the `Table` elsewhere), polling
//! schedules, opening the browser (the caller's job) and storing the
//! connection spec.

mod api;
mod credentials;
mod export;
// Tests only: the app is built without it.
#[cfg(feature = "google-fake")]
pub mod fake;
pub mod oauth;
mod service_account;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Shape, Table};
use crate::secrets::{self, SecretStore};
pub use oauth::{OAuthClient, OAuthFlow, PendingLogin};
pub use service_account::ServiceAccountKey;

/// The only scope Sendrow asks for: read any sheet the user can open, nothing else.
pub const SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets.readonly";

/// How Sendrow signs in to Google for one connection: the `source.auth` object
/// of a connection spec. Secrets are never in the spec, only the names of the
/// keychain entries holding them.
///
/// | `mode` | other keys | reads | needs |
/// |---|---|---|---|
/// | `oauth` | `account`: a name for the Google login, e.g. its e-mail | any sheet that account can open | a one-time sign-in in the browser; the refresh token is kept in the keychain entry `google-oauth:<account>` |
/// | `service_account` | `key_entry`: the keychain entry holding the service account's JSON key | sheets shared with the service account's e-mail | a key from Google Cloud console |
/// | `api_key` | `key_entry`: the keychain entry holding the API key | sheets shared with "Anyone with the link" | an API key allowed for the Google Sheets API |
/// | `public_csv` | — | sheets shared with "Anyone with the link" | nothing; uses the CSV export link, no API |
///
/// ```json
/// {"mode": "oauth", "account": "me@example.com"}
/// {"mode": "service_account", "key_entry": "google-sa:reports"}
/// {"mode": "api_key", "key_entry": "google-api-key:main"}
/// {"mode": "public_csv"}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum GoogleAuth {
    /// A Google login through the browser (OAuth for desktop apps).
    #[serde(rename = "oauth")]
    OAuth {
        /// The user's name for this login; it names the keychain entry.
        account: String,
    },
    /// A service account's JSON key, kept in the keychain.
    ServiceAccount {
        /// The keychain entry holding the whole JSON key file.
        key_entry: String,
    },
    /// An API key, kept in the keychain; only link-shared sheets.
    ApiKey {
        /// The keychain entry holding the API key.
        key_entry: String,
    },
    /// The sheet's CSV export link; only link-shared sheets, no API quota.
    PublicCsv,
}

impl GoogleAuth {
    /// The keychain entry that holds the OAuth refresh token for `account`.
    pub fn oauth_entry(account: &str) -> String {
        format!("google-oauth:{account}")
    }

    /// A `key_entry` may only name a Google key of its own kind: the
    /// keychain also holds 8x8 API keys and OAuth tokens, and a spec naming
    /// one of those would send it to Google.
    pub fn check_key_entry(&self) -> Result<(), Error> {
        let (entry, prefix) = match self {
            GoogleAuth::ServiceAccount { key_entry } => (key_entry, "google-sa:"),
            GoogleAuth::ApiKey { key_entry } => (key_entry, "google-api-key:"),
            GoogleAuth::OAuth { .. } | GoogleAuth::PublicCsv => return Ok(()),
        };
        match entry.strip_prefix(prefix) {
            Some(name) if !name.is_empty() => Ok(()),
            _ => Err(Error::NotAKeyEntry { entry: entry.clone(), prefix }),
        }
    }
}

/// Every Google address Sendrow calls. Tests replace them with a loopback
/// fake; the defaults are Google's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleEndpoints {
    /// The Sheets API root, without `/v4`.
    pub sheets_api: String,
    /// The OAuth token endpoint (code exchange, refresh and service-account JWTs).
    pub token: String,
    /// The OAuth authorization page opened in the browser.
    pub authorize: String,
    /// Where `…/spreadsheets/d/ID/export` lives.
    pub docs: String,
}

impl Default for GoogleEndpoints {
    fn default() -> Self {
        GoogleEndpoints {
            sheets_api: "https://sheets.googleapis.com".into(),
            token: "https://oauth2.googleapis.com/token".into(),
            authorize: "https://accounts.google.com/o/oauth2/v2/auth".into(),
            docs: "https://docs.google.com".into(),
        }
    }
}

/// One tab of one spreadsheet, as stored in a connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SheetRef {
    /// The spreadsheet ID (the part of the URL between `/d/` and `/edit`).
    pub spreadsheet_id: String,
    /// The tab's gid (`sheetId`): stable when the tab is renamed.
    pub gid: u32,
}

/// What a pasted spreadsheet address or ID names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpreadsheetLink {
    /// The spreadsheet ID.
    pub spreadsheet_id: String,
    /// The tab, when the URL named one (`#gid=…` or `?gid=…`).
    pub gid: Option<u32>,
}

/// A tab of a spreadsheet, for the user to choose from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tab {
    /// Its gid (`sheetId`).
    pub gid: u32,
    /// Its current title.
    pub title: String,
}

/// Parses what a user pastes: a Google Sheets URL (`…/spreadsheets/d/ID/edit#gid=N`,
/// with or without `https://`) or a bare spreadsheet ID.
pub fn parse_spreadsheet(input: &str) -> Result<SpreadsheetLink, Error> {
    let text = input.trim();
    let bad = || Error::BadSpreadsheet { input: text.chars().take(100).collect() };
    if is_spreadsheet_id(text) {
        return Ok(SpreadsheetLink { spreadsheet_id: text.to_owned(), gid: None });
    }
    let with_scheme = if text.contains("://") { text.to_owned() } else { format!("https://{text}") };
    let url = reqwest::Url::parse(&with_scheme).map_err(|_| bad())?;
    let host = url.host_str().unwrap_or_default();
    if host != "docs.google.com" {
        return Err(bad());
    }
    let segments: Vec<&str> = url.path_segments().map(Iterator::collect).unwrap_or_default();
    let d = segments.iter().position(|s| *s == "d").ok_or_else(bad)?;
    if segments.first() != Some(&"spreadsheets") {
        return Err(bad());
    }
    let id = *segments.get(d + 1).ok_or_else(bad)?;
    if id == "e" {
        // "Publish to web" links carry a different ID that the API does not accept.
        return Err(Error::PublishedLink);
    }
    if !is_spreadsheet_id(id) {
        return Err(bad());
    }
    let gid_in = |text: &str| {
        text.split(['&', '#', '?']).find_map(|pair| pair.strip_prefix("gid=")).and_then(|g| g.parse::<u32>().ok())
    };
    let gid = url.fragment().and_then(gid_in).or_else(|| url.query().and_then(gid_in));
    Ok(SpreadsheetLink { spreadsheet_id: id.to_owned(), gid })
}

/// Google's IDs are long URL-safe base64; 20 characters keeps a tab name or a
/// typo from passing as one while accepting every real ID.
fn is_spreadsheet_id(text: &str) -> bool {
    text.len() >= 20 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Builds the table from a tab's rows as Google returns them, by the same
/// rules as a CSV file (`source::assemble`): the first non-blank row is the
/// header, trimmed; ragged rows are padded; blank rows are skipped, keeping
/// every other row's sheet row number; a repeated header, or a value in a
/// column with no header, is refused. A tab with nothing in it is an empty
/// table. `tab` names the tab in errors (`"Orders"`, or `with gid 42`).
pub(crate) fn table_from_rows(rows: Vec<Vec<String>>, tab: &str) -> Result<Table, Error> {
    let records = rows.into_iter().enumerate().map(|(i, cells)| (i + 1, cells));
    match super::assemble(records) {
        Ok(table) => Ok(table),
        Err(Shape::NoHeader) => Ok(Table::default()),
        Err(Shape::DuplicateHeader { name, first, second }) => Err(Error::DuplicateHeader {
            tab: tab.to_owned(),
            name,
            first: column_letters(first),
            second: column_letters(second),
        }),
        Err(Shape::UnnamedColumn { column, line }) => {
            Err(Error::UnnamedColumn { tab: tab.to_owned(), column: column_letters(column), row: line })
        }
    }
}

/// A 1-based column number as the letters Google Sheets shows: 1 → A, 27 → AA.
fn column_letters(mut column: usize) -> String {
    let mut letters = Vec::new();
    while column > 0 {
        column -= 1;
        letters.push(b'A' + (column % 26) as u8);
        column /= 26;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

/// A function that waits; [`RetryPolicy`] calls it between attempts.
pub type SleepFn = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// How a call retries after 429, 5xx or a failed connection.
#[derive(Clone)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The wait after the first failure; doubled each time, plus up to 25 % jitter.
    pub first_delay: Duration,
    /// The longest wait inside one call. A `Retry-After` longer than this ends
    /// the call with [`Error::RateLimited`] so the scheduler waits instead.
    pub max_delay: Duration,
    /// How to wait; tests pass one that records the delay and returns at once.
    pub sleep: SleepFn,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(32),
            sleep: Arc::new(|d| Box::pin(tokio::time::sleep(d))),
        }
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("attempts", &self.attempts)
            .field("first_delay", &self.first_delay)
            .field("max_delay", &self.max_delay)
            .finish_non_exhaustive()
    }
}

/// Reads tabs of Google spreadsheets with one way of signing in. Access
/// tokens are cached inside; create one `Reader` per connection and keep it.
pub struct Reader {
    http: reqwest::Client,
    endpoints: GoogleEndpoints,
    retry: RetryPolicy,
    credentials: credentials::Credentials,
}

/// How long one request to Google may take.
const TIMEOUT: Duration = Duration::from_secs(30);

impl Reader {
    /// A reader signing in as `auth` says, with Google's real addresses.
    /// `oauth_client` is needed for [`GoogleAuth::OAuth`] only.
    pub fn new(auth: GoogleAuth, secrets: Arc<dyn SecretStore>, oauth_client: Option<OAuthClient>) -> Reader {
        Reader {
            http: http_client(),
            endpoints: GoogleEndpoints::default(),
            retry: RetryPolicy::default(),
            credentials: credentials::Credentials::new(auth, secrets, oauth_client),
        }
    }

    /// Uses other Google addresses (a fake in tests).
    pub fn with_endpoints(mut self, endpoints: GoogleEndpoints) -> Reader {
        self.endpoints = endpoints;
        self
    }

    /// Retries as `retry` says.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Reader {
        self.retry = retry;
        self
    }

    /// The spreadsheet's tabs, in order, for the user to pick one. Needs the
    /// API, so not in `public_csv` mode (paste a URL with `#gid=` there).
    pub async fn tabs(&self, spreadsheet_id: &str) -> Result<Vec<Tab>, Error> {
        if self.credentials.is_public_csv() {
            return Err(Error::TabsNeedApi);
        }
        api::tabs(self, spreadsheet_id).await
    }

    /// The tab titled `title` (spaces around it ignored). Needs the API: in
    /// `public_csv` mode the error asks for the tab's address instead.
    pub async fn tab_titled(&self, spreadsheet_id: &str, title: &str) -> Result<Tab, Error> {
        let title = title.trim();
        if self.credentials.is_public_csv() {
            return Err(Error::TabTitleNeedsApi { title: title.to_owned() });
        }
        let tabs = api::tabs(self, spreadsheet_id).await?;
        match tabs.iter().find(|t| t.title.trim() == title) {
            Some(tab) => Ok(tab.clone()),
            None => Err(Error::NoTabTitled { title: title.to_owned(), tabs }),
        }
    }

    /// Reads the tab: header row first, then every non-blank data row with
    /// its sheet row number.
    pub async fn read(&self, sheet: &SheetRef) -> Result<Table, Error> {
        if self.credentials.is_public_csv() {
            return export::read(self, sheet).await;
        }
        api::read(self, sheet).await
    }
}

pub(crate) fn http_client() -> reqwest::Client {
    crate::http_client()
        .user_agent(concat!("Sendrow/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(TIMEOUT)
        // The export link answers with a redirect to a download host.
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .expect("a client with only timeouts, redirects and a user agent always builds")
}

/// A failed read or sign-in. The text says what is wrong and what to do; it
/// never contains a token, key or password.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pasted text is neither a spreadsheet URL nor an ID.
    #[error(
        "{input:?} is not a Google Sheets address or spreadsheet ID: paste the address from the browser, like \
         https://docs.google.com/spreadsheets/d/<ID>/edit#gid=<tab>, or just the ID (the long part between /d/ and /edit)"
    )]
    BadSpreadsheet {
        /// What was pasted (at most 100 characters).
        input: String,
    },
    /// A "Publish to web" link (`/d/e/…`), whose ID the API does not know.
    #[error(
        "this is a \"Publish to web\" link; paste the spreadsheet's own address instead \
         (open the sheet and copy the address bar: https://docs.google.com/spreadsheets/d/<ID>/edit)"
    )]
    PublishedLink,
    /// 404: no spreadsheet with this ID (or one the caller cannot even see).
    #[error(
        "Google has no spreadsheet with ID {spreadsheet_id:?} ({message}); check the spreadsheet ID or paste the \
         sheet's address again"
    )]
    SpreadsheetNotFound {
        /// The ID asked for.
        spreadsheet_id: String,
        /// Google's words.
        message: String,
    },
    /// The export link has no tab with this gid, though the spreadsheet is
    /// there (the CSV export cannot list tabs to choose from).
    #[error(
        "the spreadsheet is there, but it has no tab with gid {gid} (was the tab deleted?); open the tab you want in \
         the browser and paste its address, which ends in #gid=…, again"
    )]
    TabNotFound {
        /// The gid asked for.
        gid: u32,
    },
    /// Two columns of the header row have the same name.
    #[error(
        "the sheet's tab {tab}: columns {first} and {second} are both named {name:?}; rename one so each column has \
         its own name"
    )]
    DuplicateHeader {
        /// The tab: its title in quotes, or `with gid N`.
        tab: String,
        /// The repeated name.
        name: String,
        /// The first column with it, as letters (`A`).
        first: String,
        /// The second, as letters.
        second: String,
    },
    /// A column has a value but no name in the header row.
    #[error(
        "the sheet's tab {tab}: column {column} has a value in row {row} but no name in the header row; type a name \
         for the column in the header row, or clear the value"
    )]
    UnnamedColumn {
        /// The tab: its title in quotes, or `with gid N`.
        tab: String,
        /// The column, as letters (`F`).
        column: String,
        /// The first sheet row with a value there.
        row: usize,
    },
    /// The stored gid is not among the spreadsheet's tabs (deleted?).
    #[error(
        "the spreadsheet has no tab with gid {gid} any more (was it deleted?); its tabs are: {}; choose one of them",
        list_tabs(tabs)
    )]
    NoSuchTab {
        /// The gid asked for.
        gid: u32,
        /// The tabs there are.
        tabs: Vec<Tab>,
    },
    /// No tab has the title a connection spec names.
    #[error("the spreadsheet has no tab titled {title:?}; its tabs are: {}; use one of these titles", list_tabs(tabs))]
    NoTabTitled {
        /// The title asked for.
        title: String,
        /// The tabs there are.
        tabs: Vec<Tab>,
    },
    /// A tab named by its title in `public_csv` mode, which cannot list tabs.
    #[error(
        "the tab is named by its title {title:?}, but a sheet read through its link (\"public_csv\") cannot look a tab \
         up by title: open the tab in the browser and use its address, which ends in #gid=…, as the spreadsheet's \
         address (or give the number after gid= as the tab)"
    )]
    TabTitleNeedsApi {
        /// The title given.
        title: String,
    },
    /// 403: signed in, but not allowed to read this spreadsheet.
    #[error("Google refused to let Sendrow read the spreadsheet ({message}): {hint}")]
    PermissionDenied {
        /// Which permission is missing and how to grant it.
        hint: String,
        /// Google's words.
        message: String,
    },
    /// 400 `API_KEY_INVALID`: Google does not know the API key.
    #[error("Google does not accept the API key ({message}); store the key again, copied from Google Cloud console → Credentials")]
    ApiKeyRejected {
        /// Google's words.
        message: String,
    },
    /// 401 even with a fresh token.
    #[error("Google did not accept Sendrow's sign-in ({message}); reconnect Google")]
    Unauthenticated {
        /// Google's words.
        message: String,
    },
    /// The refresh token was revoked or expired (`invalid_grant`).
    #[error(
        "reconnect Google: the sign-in for {account:?} has expired or was revoked ({description}); \
         sign in again to keep reading the sheet"
    )]
    ReconnectGoogle {
        /// The login's name.
        account: String,
        /// Google's words.
        description: String,
    },
    /// OAuth mode, but no sign-in was ever completed for this login.
    #[error("Google is not connected for {account:?}; sign in with Google first")]
    NotConnected {
        /// The login's name.
        account: String,
    },
    /// OAuth mode, but no client ID/secret was supplied.
    #[error("signing in with Google needs an OAuth client ID and secret; enter them in Settings")]
    NoOAuthClient,
    /// The token endpoint refused the OAuth client (`invalid_client`, `unauthorized_client`).
    #[error("Google does not accept the OAuth client ID or secret ({description}); check them in Settings")]
    OAuthClientRejected {
        /// Google's words.
        description: String,
    },
    /// The token endpoint refused the sign-in code.
    #[error("Google refused the sign-in: {error} ({description}); start signing in again")]
    SignInRefused {
        /// The OAuth error code.
        error: String,
        /// Google's words.
        description: String,
    },
    /// The browser came back with `error=…` (e.g. the user clicked Cancel).
    #[error("the sign-in was not completed in the browser ({error}); start signing in again")]
    SignInCancelled {
        /// The OAuth error code from the redirect.
        error: String,
    },
    /// The redirect's `state` is not the one sent: not our sign-in.
    #[error(
        "the browser returned from a different sign-in than the one started (state mismatch); start signing in again"
    )]
    StateMismatch,
    /// The loopback listener for the sign-in failed.
    #[error("the sign-in could not listen on 127.0.0.1 ({0}); check that local connections are allowed and try again")]
    Loopback(std::io::Error),
    /// The service-account JSON key cannot be used.
    #[error("the service-account key is not usable: {0}; download a new JSON key in Google Cloud console → IAM → Service accounts → Keys")]
    BadServiceAccountKey(String),
    /// The token endpoint refused the service account's JWT.
    #[error(
        "Google refused the service-account key ({description}); check that the key was not deleted in Google Cloud \
         console and that this computer's clock is right"
    )]
    ServiceAccountRefused {
        /// Google's words.
        description: String,
    },
    /// The keychain has no entry for the configured secret.
    #[error("the keychain has no {what} under {entry:?}; store it again in the connection's settings")]
    MissingSecret {
        /// What should be there.
        what: &'static str,
        /// The entry name.
        entry: String,
    },
    /// A `key_entry` that is not a Google key entry of its mode.
    #[error(
        "source.auth.key_entry {entry:?} is not a Google key entry: this mode reads only entries named {prefix}NAME, \
         stored with `sendrow google key {prefix}NAME`"
    )]
    NotAKeyEntry {
        /// The entry named.
        entry: String,
        /// What its name must start with.
        prefix: &'static str,
    },
    /// The keychain failed.
    #[error(transparent)]
    Keychain(secrets::Error),
    /// The CSV export answered with a web page: the sheet is private.
    #[error(
        "this sheet is not shared with 'anyone with the link': Google answered with a sign-in page instead of CSV; \
         in Google Sheets choose Share → General access → Anyone with the link (Viewer), or sign in with Google instead"
    )]
    NotShared,
    /// `tabs()` in `public_csv` mode.
    #[error("listing tabs needs the Sheets API; paste the tab's address (with #gid=…) instead")]
    TabsNeedApi,
    /// 429 beyond the retries.
    #[error("Google asked Sendrow to slow down ({message}; wait {} s): nothing was sent, and the next run reads the sheet again", retry_after.as_secs())]
    RateLimited {
        /// How long Google asked to wait (or our own back-off).
        retry_after: Duration,
        /// Google's words.
        message: String,
    },
    /// 5xx beyond the retries.
    #[error("Google had a server error (HTTP {status}: {message}); Sendrow tries again later")]
    Server {
        /// HTTP status.
        status: u16,
        /// Google's words.
        message: String,
    },
    /// No connection to Google (DNS, refused, TLS, timeout).
    #[error("could not reach Google at {url}: {reason}; check the internet connection")]
    Unreachable {
        /// The address tried, without its query (which may hold a key).
        url: String,
        /// Why.
        reason: String,
    },
    /// Any other refusal, e.g. 400 "Unable to parse range".
    #[error(
        "Google refused the request (HTTP {status}{}): {message}; check the spreadsheet's address and the tab in the \
         connection, then try again",
        if status_text.is_empty() { String::new() } else { format!(", {status_text}") }
    )]
    Refused {
        /// HTTP status.
        status: u16,
        /// Google's canonical status, e.g. `INVALID_ARGUMENT`.
        status_text: String,
        /// Google's words.
        message: String,
    },
    /// A 2xx answer Sendrow cannot read (or an address it cannot use).
    #[error(
        "Google answered in a way Sendrow does not understand ({0}); something other than Google may have answered \
         (a Wi-Fi sign-in page, a proxy): check that this computer reaches Google, then try again. If Google's address \
         was changed with `sendrow google base-url`, undo that with `sendrow google base-url --reset`"
    )]
    Unreadable(String),
}

fn list_tabs(tabs: &[Tab]) -> String {
    if tabs.is_empty() {
        return "none".into();
    }
    tabs.iter().map(|t| format!("{:?} (gid {})", t.title, t.gid)).collect::<Vec<_>>().join(", ")
}

impl Error {
    /// Whether the same read can succeed later without anyone acting.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::RateLimited { .. } | Error::Server { .. } | Error::Unreachable { .. })
    }

    /// Whether the user must sign in with Google (again).
    pub fn needs_reconnect(&self) -> bool {
        matches!(self, Error::ReconnectGoogle { .. } | Error::NotConnected { .. } | Error::Unauthenticated { .. })
    }

    /// A stable, closed code for the UI to branch on and translate.
    pub fn code(&self) -> crate::code::Code {
        use crate::code::Code;
        match self {
            Error::BadSpreadsheet { .. } | Error::PublishedLink => Code::GoogleBadAddress,
            Error::SpreadsheetNotFound { .. } => Code::GoogleNotFound,
            Error::NoSuchTab { .. } | Error::TabNotFound { .. } | Error::NoTabTitled { .. } => Code::GoogleNoSuchTab,
            // The same words as a CSV file with the same fault.
            Error::DuplicateHeader { .. } | Error::UnnamedColumn { .. } => Code::Source,
            Error::PermissionDenied { .. } | Error::NotShared => Code::GooglePermission,
            Error::ApiKeyRejected { .. } => Code::GoogleApiKey,
            Error::Unauthenticated { .. } | Error::ReconnectGoogle { .. } | Error::NotConnected { .. } => {
                Code::GoogleReconnect
            }
            Error::NoOAuthClient | Error::OAuthClientRejected { .. } => Code::GoogleOauthClient,
            Error::SignInRefused { .. } | Error::SignInCancelled { .. } | Error::StateMismatch | Error::Loopback(_) => {
                Code::GoogleSignIn
            }
            Error::BadServiceAccountKey(_) | Error::ServiceAccountRefused { .. } => Code::GoogleServiceAccount,
            Error::MissingSecret { .. } => Code::KeychainEntryMissing,
            Error::NotAKeyEntry { .. } => Code::InvalidInput,
            Error::Keychain(_) => Code::KeychainUnavailable,
            Error::TabsNeedApi | Error::TabTitleNeedsApi { .. } => Code::GoogleTabsNeedApi,
            Error::RateLimited { .. } | Error::Server { .. } | Error::Unreachable { .. } => Code::GoogleUnreachable,
            Error::Refused { .. } | Error::Unreadable(_) => Code::Google,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd";

    #[track_caller]
    fn check(input: &str, gid: Option<u32>) {
        let link = parse_spreadsheet(input).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"));
        assert_eq!(link.spreadsheet_id, ID, "the ID is the segment after /d/ in {input:?}");
        assert_eq!(link.gid, gid, "the gid comes from the fragment or query of {input:?}");
    }

    #[test]
    fn urls_and_ids_parse() {
        check(ID, None);
        check(&format!("  {ID}\n"), None);
        check(&format!("https://docs.google.com/spreadsheets/d/{ID}/edit#gid=123456789"), Some(123456789));
        check(&format!("https://docs.google.com/spreadsheets/d/{ID}/edit?gid=7#gid=7"), Some(7));
        check(&format!("https://docs.google.com/spreadsheets/d/{ID}/edit?usp=sharing"), None);
        check(&format!("docs.google.com/spreadsheets/d/{ID}"), None);
        check(&format!("https://docs.google.com/spreadsheets/u/0/d/{ID}/htmlview"), None);
        check(&format!("https://docs.google.com/spreadsheets/d/{ID}/export?format=csv&gid=42"), Some(42));
    }

    #[test]
    fn bad_input_says_what_an_address_looks_like() {
        for input in [
            "",
            "Leads",
            "https://example.com/spreadsheets/d/1AbCdEfGhIjKlMnOpQrStUvWxYz/edit",
            "https://docs.google.com/document/d/1AbCdEfGhIjKlMnOpQrStUvWxYz/edit",
            "https://docs.google.com/spreadsheets/d/short/edit",
            "not a url at all with spaces",
        ] {
            let err = parse_spreadsheet(input).expect_err(input);
            assert!(matches!(err, Error::BadSpreadsheet { .. }), "{input:?} is not a sheet: {err:?}");
            assert!(
                err.to_string().contains("https://docs.google.com/spreadsheets/d/<ID>/edit"),
                "the error shows what to paste: {err}"
            );
        }
        let published = parse_spreadsheet("https://docs.google.com/spreadsheets/d/e/2PACX-1vRabcdefghijklmnop/pubhtml");
        assert!(matches!(published, Err(Error::PublishedLink)), "publish-to-web IDs are refused with their own reason");
    }

    #[test]
    fn auth_modes_have_the_documented_json_shapes() {
        let shapes = [
            (r#"{"mode":"oauth","account":"me@example.com"}"#, GoogleAuth::OAuth { account: "me@example.com".into() }),
            (
                r#"{"mode":"service_account","key_entry":"google-sa:x"}"#,
                GoogleAuth::ServiceAccount { key_entry: "google-sa:x".into() },
            ),
            (r#"{"mode":"api_key","key_entry":"k"}"#, GoogleAuth::ApiKey { key_entry: "k".into() }),
            (r#"{"mode":"public_csv"}"#, GoogleAuth::PublicCsv),
        ];
        for (json, auth) in shapes {
            assert_eq!(serde_json::from_str::<GoogleAuth>(json).unwrap(), auth, "{json} parses");
            assert_eq!(serde_json::to_string(&auth).unwrap(), json, "{auth:?} writes back the same shape");
        }
        let typo = serde_json::from_str::<GoogleAuth>(r#"{"mode":"api_key","key":"AIza…"}"#);
        assert!(typo.is_err(), "a key pasted in place of the entry name is refused, not ignored");
    }

    #[test]
    fn rows_are_padded_and_blank_rows_skipped_keeping_row_numbers() {
        let s = |v: &[&str]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let table = table_from_rows(
            vec![vec![], s(&[" id", "name ", "phone"]), s(&["1", "Ann"]), vec![], s(&["", "", ""]), s(&["3"])],
            "\"Leads\"",
        )
        .unwrap();
        assert_eq!(table.headers, s(&["id", "name", "phone"]), "the first non-blank row names the fields, trimmed");
        assert_eq!(table.rows.len(), 2, "blank rows carry nothing to send");
        assert_eq!((table.rows[0].line, table.rows[1].line), (3, 6), "lines are the sheet's row numbers");
        assert_eq!(table.rows[0].cells, s(&["1", "Ann", ""]), "short rows are padded to the header");
        assert_eq!(table_from_rows(vec![], "\"Leads\"").unwrap(), Table::default(), "an empty tab is an empty table");
    }

    #[test]
    fn header_faults_are_refused_like_a_csv_files() {
        let s = |v: &[&str]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let dup = table_from_rows(vec![s(&["Phone", "Name", "Phone "])], "\"Leads\"").unwrap_err();
        assert!(
            matches!(&dup, Error::DuplicateHeader { name, first, second, .. } if name == "Phone" && first == "A" && second == "C"),
            "a repeated header, even with a stray space, is named with its columns: {dup:?}"
        );
        let unnamed =
            table_from_rows(vec![s(&["Name", "Phone"]), s(&["Ann", "1"]), s(&["Bo", "2", "", "note"])], "with gid 7")
                .unwrap_err();
        assert!(
            matches!(&unnamed, Error::UnnamedColumn { column, row: 3, .. } if column == "D"),
            "a value with no header is refused, not cut off: {unnamed:?}"
        );
        assert!(unnamed.to_string().contains("tab with gid 7"), "the tab is named: {unnamed}");
        assert_eq!(column_letters(1), "A", "first column");
        assert_eq!(
            (column_letters(26), column_letters(27), column_letters(703)),
            ("Z".into(), "AA".into(), "AAA".into())
        );
    }

    #[test]
    fn refusals_and_odd_answers_say_what_to_do() {
        let api = Error::Refused { status: 400, status_text: "INVALID_ARGUMENT".into(), message: "Bad range".into() };
        let export = Error::Refused { status: 410, status_text: String::new(), message: "Gone".into() };
        assert!(api
            .to_string()
            .starts_with("Google refused the request (HTTP 400, INVALID_ARGUMENT): Bad range; check"));
        assert!(export.to_string().starts_with("Google refused the request (HTTP 410): Gone; check"), "{export}");
        let odd = Error::Unreadable("expected value at line 1 column 1".into()).to_string();
        assert!(odd.contains("then try again") && odd.contains("base-url --reset"), "{odd}");
    }

    #[test]
    fn deleted_tab_error_lists_the_tabs() {
        let err = Error::NoSuchTab {
            gid: 9,
            tabs: vec![Tab { gid: 0, title: "Leads".into() }, Tab { gid: 5, title: "Q1".into() }],
        };
        let text = err.to_string();
        assert!(text.contains(r#""Leads" (gid 0), "Q1" (gid 5)"#), "the user can pick a tab from the text: {text}");
    }
}
