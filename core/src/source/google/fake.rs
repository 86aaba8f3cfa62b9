//! A fake Google on 127.0.0.1 for tests (this crate's and the app's end-to-end
//! tests): the Sheets API v4 read endpoints, the OAuth authorize and token
//! endpoints, and the CSV export with its redirect — enough to drive every
//! mode of [`GoogleAuth`](super::GoogleAuth) through [`FakeGoogle::endpoints`].
//!
//! Faithful where Sendrow depends on Google's behaviour
//! (`docs/google.md`): trailing empty cells and rows are
//! dropped, `values` is absent for an empty tab, errors use Google's envelope
//! and words, PKCE S256 is checked, service-account JWTs are verified with the
//! public key the test registered, and a private sheet's export is an HTML
//! sign-in page. Simplified: only whole-tab ranges (`'Title'`), and
//! `valueRenderOption` must say `FORMATTED_VALUE` (the only thing Sendrow reads).
//!
//! Not here: writes, grid data, `fields` masks (a superset is returned),
//! dataFilter reads and Drive.

// Early returns here are whole HTTP responses; boxing them would only add noise.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};

use super::{oauth::pkce_challenge, service_account::Claims, GoogleEndpoints, SCOPE};

/// The identity the authorize endpoint signs in as unless told otherwise.
pub const DEFAULT_USER: &str = "me@example.com";

/// A fault for the next request to a [`FaultTarget`] (the value reads unless
/// queued with [`FakeGoogle::queue_faults_on`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 `RESOURCE_EXHAUSTED` with this `Retry-After` (seconds).
    RateLimited {
        /// The `Retry-After` header's value.
        retry_after_secs: u64,
    },
    /// 500 `INTERNAL`.
    ServerError,
    /// The caller's access token expires just now: 401 `UNAUTHENTICATED`.
    ExpireToken,
    /// 400 "Unable to parse range", as when the tab is renamed between the
    /// reader's `spreadsheets.get` and its `values.get`.
    RenamedMeanwhile,
}

/// Which endpoint a queued [`Fault`] strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultTarget {
    /// The value reads (`values.get`, `values:batchGet`): every kind of fault.
    Values,
    /// The token endpoint, whatever the grant: `RateLimited` and `ServerError` only.
    Token,
    /// The CSV export link (before its redirect): `RateLimited` and `ServerError` only.
    Export,
}

#[derive(Default)]
struct Tab {
    gid: u32,
    title: String,
    rows: Vec<Vec<String>>,
}

#[derive(Default)]
struct Spreadsheet {
    tabs: Vec<Tab>,
    link_shared: bool,
    shared_with: HashSet<String>,
}

struct PendingCode {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    user: String,
}

#[derive(Default)]
struct World {
    spreadsheets: HashMap<String, Spreadsheet>,
    clients: HashMap<String, String>,
    user: String,
    codes: HashMap<String, PendingCode>,
    refresh_tokens: HashMap<String, String>,
    access_tokens: HashMap<String, String>,
    service_accounts: HashMap<String, Vec<u8>>,
    api_keys: HashMap<String, bool>,
    token_lifetime: u64,
    faults: HashMap<FaultTarget, VecDeque<Fault>>,
    downloads: HashMap<String, String>,
    counts: HashMap<String, usize>,
}

struct Shared {
    base: String,
    world: Mutex<World>,
}

impl Shared {
    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running fake; it stops when dropped.
pub struct FakeGoogle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGoogle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGoogle {
    /// Binds a free loopback port and serves. Nothing is shared, no client,
    /// key or service account is known yet; tokens live an hour.
    pub async fn start() -> std::io::Result<FakeGoogle> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let world = World { user: DEFAULT_USER.into(), token_lifetime: 3599, ..World::default() };
        let shared = Arc::new(Shared { base: format!("http://{addr}"), world: Mutex::new(world) });
        let app = router(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeGoogle { addr, shared, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every Google address, pointing here.
    pub fn endpoints(&self) -> GoogleEndpoints {
        let base = self.base_url();
        GoogleEndpoints {
            sheets_api: base.clone(),
            token: format!("{base}/token"),
            authorize: format!("{base}/o/oauth2/v2/auth"),
            docs: base,
        }
    }

    /// Creates or replaces tab `gid` of `spreadsheet` (created too) with
    /// `title` and `rows`, as typed in the grid (rows may be ragged).
    pub fn set_tab(&self, spreadsheet: &str, gid: u32, title: &str, rows: &[&[&str]]) {
        let rows = rows.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
        let mut world = self.shared.world();
        let sheet = world.spreadsheets.entry(spreadsheet.into()).or_default();
        match sheet.tabs.iter_mut().find(|t| t.gid == gid) {
            Some(tab) => {
                tab.title = title.into();
                tab.rows = rows;
            }
            None => sheet.tabs.push(Tab { gid, title: title.into(), rows }),
        }
    }

    /// Renames a tab; its gid and rows stay.
    pub fn rename_tab(&self, spreadsheet: &str, gid: u32, title: &str) {
        let mut world = self.shared.world();
        let tab = world.spreadsheets.get_mut(spreadsheet).and_then(|s| s.tabs.iter_mut().find(|t| t.gid == gid));
        tab.expect("rename_tab: no such tab in the fake").title = title.into();
    }

    /// Deletes a tab.
    pub fn delete_tab(&self, spreadsheet: &str, gid: u32) {
        let mut world = self.shared.world();
        world.spreadsheets.get_mut(spreadsheet).expect("delete_tab: no such spreadsheet").tabs.retain(|t| t.gid != gid);
    }

    /// Shares the spreadsheet with an e-mail (a user or a service account).
    pub fn share_with(&self, spreadsheet: &str, email: &str) {
        self.shared.world().spreadsheets.entry(spreadsheet.into()).or_default().shared_with.insert(email.into());
    }

    /// Shares the spreadsheet with "Anyone with the link" (API key and CSV export work).
    pub fn share_with_link(&self, spreadsheet: &str) {
        self.shared.world().spreadsheets.entry(spreadsheet.into()).or_default().link_shared = true;
    }

    /// Registers an OAuth client.
    pub fn add_oauth_client(&self, client_id: &str, client_secret: &str) {
        self.shared.world().clients.insert(client_id.into(), client_secret.into());
    }

    /// Who the authorize endpoint signs in as from now on.
    pub fn sign_in_as(&self, email: &str) {
        self.shared.world().user = email.into();
    }

    /// Trusts JWTs from `email` signed by the key whose public half is
    /// `public_key` (PKCS#1 DER, as [`service_account_key`] returns it).
    pub fn add_service_account(&self, email: &str, public_key: &[u8]) {
        self.shared.world().service_accounts.insert(email.into(), public_key.to_vec());
    }

    /// Knows an API key; `allowed_for_sheets: false` is a key whose API
    /// restrictions leave the Sheets API out.
    pub fn add_api_key(&self, key: &str, allowed_for_sheets: bool) {
        self.shared.world().api_keys.insert(key.into(), allowed_for_sheets);
    }

    /// The `expires_in` of access tokens granted from now on.
    pub fn set_token_lifetime(&self, seconds: u64) {
        self.shared.world().token_lifetime = seconds;
    }

    /// Revokes every refresh token, as "remove access" in the Google account does.
    pub fn revoke_refresh_tokens(&self) {
        self.shared.world().refresh_tokens.clear();
    }

    /// Queues faults for the next value reads, one each, in order.
    pub fn queue_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.queue_faults_on(FaultTarget::Values, faults);
    }

    /// Queues faults for the next requests to `target`, one each, in order.
    /// Panics on a fault that endpoint cannot have (an expired token or a
    /// renamed tab outside the value reads): that is a mistake in the test.
    pub fn queue_faults_on(&self, target: FaultTarget, faults: impl IntoIterator<Item = Fault>) {
        let faults: Vec<Fault> = faults.into_iter().collect();
        if target != FaultTarget::Values {
            let odd = faults.iter().find(|f| !matches!(f, Fault::RateLimited { .. } | Fault::ServerError));
            assert!(odd.is_none(), "the fake's {target:?} endpoint only fails with 429 or 500, not {odd:?}");
        }
        self.shared.world().faults.entry(target).or_default().extend(faults);
    }

    /// How many requests of a kind were served: `spreadsheets.get`,
    /// `values.get`, `values:batchGet`, `authorize`, `export`, `download`, or
    /// `token:<grant_type>` (e.g. `token:refresh_token`).
    pub fn count(&self, kind: &str) -> usize {
        self.shared.world().counts.get(kind).copied().unwrap_or(0)
    }
}

/// A throw-away service account for `email`: its JSON key file (as Google
/// Cloud console downloads it, `private_key_id` = `test-key-1`) and the
/// public key to give [`FakeGoogle::add_service_account`]. Generated anew on
/// every call, so no private key is ever committed.
pub fn service_account_key(email: &str) -> (String, Vec<u8>) {
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("RSA key generation works");
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).expect("a fresh key encodes as PKCS#8");
    let body = STANDARD.encode(der.as_ref());
    let lines: Vec<&str> =
        body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("base64 is ASCII")).collect();
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"));
    let json = json!({
        "type": "service_account",
        "project_id": "sendrow-test",
        "private_key_id": "test-key-1",
        "private_key": pem,
        "client_email": email,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    });
    use aws_lc_rs::signature::KeyPair as _;
    (json.to_string(), pair.public_key().as_ref().to_vec())
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v4/spreadsheets/{id}", get(spreadsheet_get))
        .route("/v4/spreadsheets/{id}/values/{range}", get(values_get))
        .route("/v4/spreadsheets/{id}/values:batchGet", get(values_batch_get))
        .route("/o/oauth2/v2/auth", get(authorize))
        .route("/token", post(token))
        .route("/spreadsheets/d/{id}/export", get(export))
        .route("/dl/{nonce}", get(download))
        .with_state(shared)
}

fn random(prefix: &str) -> String {
    let tail: String = std::iter::repeat_with(fastrand::alphanumeric).take(24).collect();
    format!("{prefix}{tail}")
}

fn count(world: &mut World, kind: &str) {
    *world.counts.entry(kind.into()).or_default() += 1;
}

/// Google's error envelope.
fn google_error(status: StatusCode, canonical: &str, message: &str, reason: Option<&str>) -> Response {
    let mut error = json!({"code": status.as_u16(), "message": message, "status": canonical});
    if let Some(reason) = reason {
        error["details"] = json!([{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": reason,
            "domain": "googleapis.com",
            "metadata": {"service": "sheets.googleapis.com"},
        }]);
    }
    (status, Json(json!({ "error": error }))).into_response()
}

/// Who is calling the Sheets API: an identity (user or service account), or
/// `None` for an API key (anyone-with-the-link access only).
fn caller(world: &World, headers: &HeaderMap, query: &HashMap<String, String>) -> Result<Option<String>, Response> {
    let bearer =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if let Some(token) = bearer {
        return world.access_tokens.get(token).cloned().map(Some).ok_or_else(|| {
            google_error(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other \
                 valid authentication credential.",
                None,
            )
        });
    }
    match query.get("key").map(|k| world.api_keys.get(k)) {
        Some(Some(true)) => Ok(None),
        Some(Some(false)) => Err(google_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "Requests to this API sheets.googleapis.com method google.apps.sheets.v4.SpreadsheetsService.GetValues \
             are blocked.",
            Some("API_KEY_SERVICE_BLOCKED"),
        )),
        Some(None) => Err(google_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            Some("API_KEY_INVALID"),
        )),
        None => Err(google_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "The request is missing a valid API key.",
            None,
        )),
    }
}

/// The spreadsheet, if the caller may read it.
fn readable<'w>(world: &'w World, id: &str, who: &Option<String>) -> Result<&'w Spreadsheet, Response> {
    let sheet = world
        .spreadsheets
        .get(id)
        .ok_or_else(|| google_error(StatusCode::NOT_FOUND, "NOT_FOUND", "Requested entity was not found.", None))?;
    let allowed = sheet.link_shared || who.as_ref().is_some_and(|w| sheet.shared_with.contains(w));
    if allowed {
        Ok(sheet)
    } else {
        Err(google_error(StatusCode::FORBIDDEN, "PERMISSION_DENIED", "The caller does not have permission", None))
    }
}

fn next_fault(world: &mut World, target: FaultTarget) -> Option<Fault> {
    world.faults.get_mut(&target)?.pop_front()
}

fn with_retry_after(mut response: Response, seconds: u64) -> Response {
    response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
    response
}

/// Applies the next queued token-endpoint fault, if any, in the OAuth error shape.
fn token_fault(world: &mut World) -> Option<Response> {
    match next_fault(world, FaultTarget::Token)? {
        Fault::RateLimited { retry_after_secs } => Some(with_retry_after(
            token_error(StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded", "Rate limit exceeded."),
            retry_after_secs,
        )),
        _ => Some(token_error(StatusCode::INTERNAL_SERVER_ERROR, "internal_failure", "Backend Error")),
    }
}

/// Applies the next queued export fault, if any: Docs answers with HTML pages.
fn export_fault(world: &mut World) -> Option<Response> {
    match next_fault(world, FaultTarget::Export)? {
        Fault::RateLimited { retry_after_secs } => Some(with_retry_after(
            html(StatusCode::TOO_MANY_REQUESTS, "<title>Error 429 (Too Many Requests)!!1</title>"),
            retry_after_secs,
        )),
        _ => Some(html(StatusCode::INTERNAL_SERVER_ERROR, "<title>Error 500 (Server Error)!!1</title>")),
    }
}

/// Applies the next queued fault, if any, to a value read.
fn fault(world: &mut World, headers: &HeaderMap) -> Option<Response> {
    match next_fault(world, FaultTarget::Values)? {
        Fault::RateLimited { retry_after_secs } => {
            let mut response = google_error(
                StatusCode::TOO_MANY_REQUESTS,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of \
                 service 'sheets.googleapis.com'.",
                Some("RATE_LIMIT_EXCEEDED"),
            );
            response.headers_mut().insert(header::RETRY_AFTER, retry_after_secs.into());
            Some(response)
        }
        Fault::ServerError => {
            Some(google_error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "Internal error encountered.", None))
        }
        Fault::RenamedMeanwhile => {
            Some(google_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "Unable to parse range: 'Old title'", None))
        }
        Fault::ExpireToken => {
            let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
            if let Some(token) = bearer.and_then(|v| v.strip_prefix("Bearer ")) {
                world.access_tokens.remove(token);
            }
            None
        }
    }
}

async fn spreadsheet_get(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut world = shared.world();
    count(&mut world, "spreadsheets.get");
    let answer = || -> Result<Value, Response> {
        let who = caller(&world, &headers, &query)?;
        let sheet = readable(&world, &id, &who)?;
        let sheets: Vec<Value> = sheet
            .tabs
            .iter()
            .enumerate()
            .map(|(index, tab)| {
                json!({"properties": {
                    "sheetId": tab.gid, "title": tab.title, "index": index, "sheetType": "GRID",
                    "gridProperties": {"rowCount": tab.rows.len().max(1000), "columnCount": 26},
                }})
            })
            .collect();
        Ok(json!({"spreadsheetId": id, "properties": {"title": "Fake spreadsheet"}, "sheets": sheets}))
    };
    match answer() {
        Ok(body) => Json(body).into_response(),
        Err(response) => response,
    }
}

/// The tab a whole-tab A1 range names: `'Title'` (with `''` for `'`) or `Title`.
fn tab_of<'s>(sheet: &'s Spreadsheet, range: &str) -> Result<&'s Tab, Response> {
    let unparsable =
        || google_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", &format!("Unable to parse range: {range}"), None);
    let title = match range.strip_prefix('\'') {
        Some(rest) => {
            let inner = rest.strip_suffix('\'').ok_or_else(|| {
                google_error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_ARGUMENT",
                    &format!("the fake serves whole-tab ranges ('Title') only, not {range}"),
                    None,
                )
            })?;
            inner.replace("''", "'")
        }
        None if range.contains('!') => {
            let message = format!("the fake serves whole-tab ranges ('Title') only, not {range}");
            return Err(google_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", &message, None));
        }
        None => range.to_owned(),
    };
    sheet.tabs.iter().find(|t| t.title == title).ok_or_else(unparsable)
}

/// A tab's values as Google returns them: no trailing empty cells or rows,
/// and no `values` at all when nothing is left.
fn value_range(tab: &Tab) -> Value {
    let mut rows: Vec<Vec<String>> = tab
        .rows
        .iter()
        .map(|row| {
            let keep = row.iter().rposition(|c| !c.is_empty()).map_or(0, |i| i + 1);
            row[..keep].to_vec()
        })
        .collect();
    while rows.last().is_some_and(Vec::is_empty) {
        rows.pop();
    }
    let quoted = format!("'{}'", tab.title.replace('\'', "''"));
    let mut range = json!({"range": format!("{quoted}!A1:Z{}", tab.rows.len().max(1000)), "majorDimension": "ROWS"});
    if !rows.is_empty() {
        range["values"] = json!(rows);
    }
    range
}

fn check_render_option(query: &HashMap<String, String>) -> Result<(), Response> {
    match query.get("valueRenderOption").map(String::as_str) {
        Some("FORMATTED_VALUE") => Ok(()),
        other => Err(google_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            &format!("the fake holds display values only; ask for valueRenderOption=FORMATTED_VALUE, not {other:?}"),
            None,
        )),
    }
}

async fn values_get(
    State(shared): State<Arc<Shared>>,
    Path((id, range)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut world = shared.world();
    count(&mut world, "values.get");
    if let Some(response) = fault(&mut world, &headers) {
        return response;
    }
    let answer = || -> Result<Value, Response> {
        let who = caller(&world, &headers, &query)?;
        let sheet = readable(&world, &id, &who)?;
        check_render_option(&query)?;
        Ok(value_range(tab_of(sheet, &range)?))
    };
    match answer() {
        Ok(body) => Json(body).into_response(),
        Err(response) => response,
    }
}

async fn values_batch_get(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let pairs: Vec<(String, String)> = reqwest::Url::parse(&format!("http://x/?{}", raw.unwrap_or_default()))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default();
    let query: HashMap<String, String> = pairs.iter().cloned().collect();
    let mut world = shared.world();
    count(&mut world, "values:batchGet");
    if let Some(response) = fault(&mut world, &headers) {
        return response;
    }
    let answer = || -> Result<Value, Response> {
        let who = caller(&world, &headers, &query)?;
        let sheet = readable(&world, &id, &who)?;
        check_render_option(&query)?;
        let ranges = pairs.iter().filter(|(k, _)| k == "ranges").map(|(_, r)| tab_of(sheet, r).map(value_range));
        Ok(json!({"spreadsheetId": id, "valueRanges": ranges.collect::<Result<Vec<_>, _>>()?}))
    };
    match answer() {
        Ok(body) => Json(body).into_response(),
        Err(response) => response,
    }
}

fn html(status: StatusCode, body: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body.to_owned()).into_response()
}

/// The consent screen, already clicked through: redirects to `redirect_uri`
/// with a code bound to the PKCE challenge.
async fn authorize(State(shared): State<Arc<Shared>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut world = shared.world();
    count(&mut world, "authorize");
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let client_id = get("client_id");
    if !world.clients.contains_key(&client_id) {
        return html(StatusCode::UNAUTHORIZED, "<h1>Error 401: invalid_client</h1><p>The OAuth client was not found.");
    }
    let redirect_uri = get("redirect_uri");
    let problems = [
        (get("response_type") != "code", "response_type must be code"),
        (get("code_challenge_method") != "S256", "code_challenge_method must be S256"),
        (get("code_challenge").len() != 43, "code_challenge must be a SHA-256 in base64url"),
        (!get("scope").split(' ').any(|s| s == SCOPE), "scope must include spreadsheets.readonly"),
        (!redirect_uri.starts_with("http://127.0.0.1:"), "redirect_uri must be a loopback IP address"),
    ];
    if let Some((_, why)) = problems.iter().find(|(bad, _)| *bad) {
        return html(StatusCode::BAD_REQUEST, &format!("<h1>Error 400: invalid_request</h1><p>{why}"));
    }
    let code = random("4/fake-code-");
    let user = world.user.clone();
    world.codes.insert(
        code.clone(),
        PendingCode { client_id, redirect_uri: redirect_uri.clone(), challenge: get("code_challenge"), user },
    );
    let Ok(mut target) = reqwest::Url::parse(&redirect_uri) else {
        return html(StatusCode::BAD_REQUEST, "<h1>Error 400: invalid_request</h1><p>redirect_uri is not a URL");
    };
    target.query_pairs_mut().append_pair("code", &code).append_pair("state", &get("state")).append_pair("scope", SCOPE);
    (StatusCode::FOUND, [(header::LOCATION, target.to_string())]).into_response()
}

fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({"error": error, "error_description": description}))).into_response()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

async fn token(State(shared): State<Arc<Shared>>, Form(form): Form<HashMap<String, String>>) -> Response {
    let mut world = shared.world();
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let grant_type = get("grant_type");
    count(&mut world, &format!("token:{}", grant_type.rsplit(':').next().unwrap_or_default()));
    if let Some(response) = token_fault(&mut world) {
        return response;
    }
    let client_ok = || world.clients.get(&get("client_id")).is_some_and(|s| *s == get("client_secret"));
    let identity = match grant_type.as_str() {
        "authorization_code" => {
            if !client_ok() {
                return token_error(StatusCode::UNAUTHORIZED, "invalid_client", "Unauthorized");
            }
            // A code is good for one exchange, whatever its outcome.
            let Some(pending) = world.codes.remove(&get("code")) else {
                return token_error(StatusCode::BAD_REQUEST, "invalid_grant", "Malformed auth code.");
            };
            if pending.client_id != get("client_id") || pending.redirect_uri != get("redirect_uri") {
                return token_error(StatusCode::BAD_REQUEST, "redirect_uri_mismatch", "Bad Request");
            }
            if pkce_challenge(&get("code_verifier")) != pending.challenge {
                return token_error(StatusCode::BAD_REQUEST, "invalid_grant", "Invalid code verifier.");
            }
            let refresh = random("1//fake-refresh-");
            world.refresh_tokens.insert(refresh.clone(), pending.user.clone());
            return grant(&mut world, pending.user, Some(refresh));
        }
        "refresh_token" => {
            if !client_ok() {
                return token_error(StatusCode::UNAUTHORIZED, "invalid_client", "Unauthorized");
            }
            match world.refresh_tokens.get(&get("refresh_token")) {
                Some(user) => user.clone(),
                None => {
                    return token_error(StatusCode::BAD_REQUEST, "invalid_grant", "Token has been expired or revoked.")
                }
            }
        }
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => match check_jwt(&world, &get("assertion"), &shared.base) {
            Ok(email) => email,
            Err(description) => return token_error(StatusCode::BAD_REQUEST, "invalid_grant", &description),
        },
        _ => return token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "Invalid grant_type: "),
    };
    grant(&mut world, identity, None)
}

fn grant(world: &mut World, identity: String, refresh_token: Option<String>) -> Response {
    let access = random("ya29.fake-");
    world.access_tokens.insert(access.clone(), identity);
    let mut body =
        json!({"access_token": access, "expires_in": world.token_lifetime, "token_type": "Bearer", "scope": SCOPE});
    if let Some(refresh) = refresh_token {
        body["refresh_token"] = refresh.into();
    }
    Json(body).into_response()
}

/// Checks a service account's JWT as Google does; the error is Google's words.
fn check_jwt(world: &World, jwt: &str, base: &str) -> Result<String, String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else { return Err("Invalid JWT: not three segments".into()) };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| "Invalid JWT: bad base64".to_owned());
    let header: Value = serde_json::from_slice(&decode(header)?).map_err(|_| "Invalid JWT header".to_owned())?;
    if header["alg"] != "RS256" {
        return Err("Invalid JWT: alg must be RS256".into());
    }
    let claims: Claims = serde_json::from_slice(&decode(claims)?).map_err(|e| format!("Invalid JWT claims: {e}"))?;
    let public_key = world.service_accounts.get(&claims.iss).ok_or("Invalid grant: account not found")?;
    let signing_input = &jwt[..jwt.rfind('.').expect("three segments")];
    aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256, public_key)
        .verify(signing_input.as_bytes(), &decode(signature)?)
        .map_err(|_| "Invalid JWT Signature.".to_owned())?;
    if claims.aud != format!("{base}/token") {
        return Err(format!("Invalid JWT: audience {:?} is not this token endpoint", claims.aud));
    }
    if !claims.scope.split(' ').any(|s| s == SCOPE) {
        return Err("Invalid JWT: scope must include spreadsheets.readonly".into());
    }
    let now = now();
    if claims.exp <= claims.iat || claims.exp - claims.iat > 3600 || claims.iat > now + 60 || claims.exp <= now {
        return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. \
                    Check your iat and exp values in the JWT claim."
            .into());
    }
    Ok(claims.iss)
}

/// The export link: a redirect to a one-off download for a link-shared sheet,
/// a sign-in page (200, HTML) for a private one.
async fn export(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut world = shared.world();
    count(&mut world, "export");
    if let Some(response) = export_fault(&mut world) {
        return response;
    }
    let Some(sheet) = world.spreadsheets.get(&id) else {
        return html(StatusCode::NOT_FOUND, "<title>Page Not Found</title><p>Sorry, unable to open the file.");
    };
    if !sheet.link_shared {
        return html(
            StatusCode::OK,
            "<!doctype html><html><head><title>Google Sheets - Sign in</title></head>\
             <body><form action=\"https://accounts.google.com/signin\"><input type=email name=identifier></form></body></html>",
        );
    }
    // Without a gid the export is of the first tab.
    let gid = q.get("gid").and_then(|g| g.parse::<u32>().ok());
    let Some(tab) = sheet.tabs.iter().find(|t| gid.is_none_or(|gid| t.gid == gid)) else {
        return html(StatusCode::NOT_FOUND, "<title>Page Not Found</title><p>Sorry, unable to open the file.");
    };
    if q.get("format").map(String::as_str) != Some("csv") {
        return html(StatusCode::BAD_REQUEST, "<p>the fake exports format=csv only");
    }
    let csv = to_csv(tab);
    let nonce = random("");
    world.downloads.insert(nonce.clone(), csv);
    (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, format!("{}/dl/{nonce}", shared.base))]).into_response()
}

/// The tab as Google's CSV export writes it: every row as wide as the widest.
fn to_csv(tab: &Tab) -> String {
    let width = tab.rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    for row in &tab.rows {
        let mut cells = row.clone();
        cells.resize(width, String::new());
        writer.write_record(&cells).expect("writing CSV to memory cannot fail");
    }
    String::from_utf8(writer.into_inner().expect("flushing to memory cannot fail")).expect("cells are UTF-8")
}

async fn download(State(shared): State<Arc<Shared>>, Path(nonce): Path<String>) -> Response {
    let mut world = shared.world();
    count(&mut world, "download");
    match world.downloads.remove(&nonce) {
        Some(csv) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response(),
        None => html(StatusCode::NOT_FOUND, "<p>Gone."),
    }
}

#[cfg(test)]
mod tests {
    use super::super::service_account::{claims, sign, ServiceAccountKey};
    use super::*;

    const EMAIL: &str = "bot@proj.iam.gserviceaccount.com";

    /// Posts `claims`, signed by `key`, to the fake's token endpoint as a
    /// service account would: the status and the JSON answer.
    async fn post_jwt(google: &FakeGoogle, key: &ServiceAccountKey, claims: &Claims) -> (u16, Value) {
        let assertion = sign(key, claims).expect("a generated key signs");
        let form = [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion.as_str())];
        let answer = reqwest::Client::new().post(google.endpoints().token).form(&form).send().await.unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.expect("the token endpoint answers JSON"))
    }

    // Sendrow only ever signs good claims, so without this the fake's claim
    // checks could be broken and every test would still pass.
    #[tokio::test]
    async fn the_token_endpoint_refuses_a_jwt_with_any_bad_claim() {
        let google = FakeGoogle::start().await.unwrap();
        let (json, public_key) = service_account_key(EMAIL);
        google.add_service_account(EMAIL, &public_key);
        let key = ServiceAccountKey::parse(&json).unwrap();
        let now = now();
        let good = claims(&key, &google.endpoints().token, now);
        let (status, body) = post_jwt(&google, &key, &good).await;
        assert_eq!(status, 200, "the claims Sendrow signs are accepted, so a refusal below is the claim's: {body}");
        assert!(body["access_token"].as_str().is_some_and(|t| t.starts_with("ya29.")), "a token is granted: {body}");

        let bad = [
            (
                Claims { aud: "https://oauth2.googleapis.com/token".into(), ..good.clone() },
                "audience",
                "another audience",
            ),
            (
                Claims { scope: "https://www.googleapis.com/auth/drive.readonly".into(), ..good.clone() },
                "scope",
                "a scope without spreadsheets.readonly",
            ),
            (Claims { iat: now - 7200, exp: now - 3600, ..good.clone() }, "iat and exp", "an expired exp"),
            (Claims { exp: now + 7200, ..good.clone() }, "iat and exp", "a lifetime over an hour"),
            (Claims { iat: now + 600, exp: now + 1200, ..good.clone() }, "iat and exp", "an iat in the future"),
        ];
        for (claims, words, what) in bad {
            let (status, body) = post_jwt(&google, &key, &claims).await;
            assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{what} is refused: {body}");
            let description = body["error_description"].as_str().unwrap_or_default();
            assert!(description.contains(words), "{what}: Google's reason names the claim: {description}");
            assert!(body.get("access_token").is_none(), "{what}: no token is granted: {body}");
        }
        assert_eq!(google.shared.world().access_tokens.len(), 1, "only the good JWT bought a token");
    }
}
