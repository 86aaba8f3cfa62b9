//! `sendrow sim`: an 8x8-compatible SMS API on 127.0.0.1, for the sandbox and
//! for every test that needs "8x8".
//!
//! It follows what `docs/8x8.md` lists: bearer auth first (401/1200, then 1001 for a
//! subaccount the key does not own), the documented validations and error
//! envelopes, per-item QUEUED/REJECTED in batches, destinations echoed without
//! `+`, GSM7/UCS2 detection, delivery states that move queued → sent →
//! delivered (or undelivered), 429 with `Retry-After` over a rate limit, and
//! injected faults: refusals that accept nothing (429, 500, 503) and answers
//! lost after the messages were accepted (timeout, reset, and a 500, 502 or
//! 504 after acceptance). Where 8x8 leaves a detail
//! undocumented, the choice is marked INFERRED below.
//!
//! Test hooks, not part of 8x8: `GET/DELETE /_sim/messages` (every accepted
//! message) and `POST /_sim/faults` (`{"next": ["timeout", "500"]}` queues
//! faults for the next send requests, one each, in order). They are off
//! (`SimConfig::test_hooks`) in the app's in-process sandbox, where any
//! program on the machine could otherwise read its messages or break it.
//!
//! `scheduled` and `expiry` are checked as documented; a scheduled message is
//! held until its time (its details say `scheduled`, delivery states start
//! then) and `DELETE …/messages/{umid}` cancels it before then (200
//! `{"cancelledCount":1}`; 404/1300 for a message already sent, cancelled
//! or unknown — INFERRED, 8x8 documents only the success). Not here:
//! webhooks/DLR callbacks and batch cancellation. The log export job is in
//! `export.rs`.

// Early returns here are whole HTTP responses; boxing them would only add noise
// to a test server where a few bytes on the stack do not matter.
#![allow(clippy::result_large_err)]

mod export;
mod validate;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::gsm7::Encoding;
pub use export::CSV_COLUMNS as EXPORT_COLUMNS;
use validate::Accepted;

/// The sandbox account served when no `--account` is given.
pub const SANDBOX_SUBACCOUNT: &str = "sandbox_hq";
/// The sandbox account's API key.
pub const SANDBOX_KEY: &str = "sandbox-key";

/// A fault the simulator can inject into send requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    /// 429 with `Retry-After` ([`SimConfig::retry_after_secs`]); nothing accepted.
    #[serde(rename = "429")]
    TooManyRequests,
    /// 500 with code 2000; nothing accepted.
    #[serde(rename = "500")]
    ServerError,
    /// 503, as 8x8 or a load balancer says "not now"; nothing accepted.
    #[serde(rename = "503")]
    Unavailable,
    /// The messages are accepted, then 8x8 answers 500 (code 2000).
    #[serde(rename = "accepted-500")]
    AcceptedThen500,
    /// The messages are accepted, then a proxy in front answers 502.
    #[serde(rename = "accepted-502")]
    AcceptedThen502,
    /// The messages are accepted, then a proxy in front answers 504.
    #[serde(rename = "accepted-504")]
    AcceptedThen504,
    /// The messages are accepted, then no answer ever comes.
    #[serde(rename = "timeout")]
    Timeout,
    /// The messages are accepted, then the connection is cut mid-answer.
    #[serde(rename = "reset")]
    Reset,
}

impl Fault {
    /// Every fault, by the name `parse` reads.
    pub const NAMES: &'static str = "429, 500, 503, timeout, reset, accepted-500, accepted-502, accepted-504";

    /// Parses one of [`Fault::NAMES`].
    pub fn parse(text: &str) -> Option<Fault> {
        serde_json::from_value(Value::String(text.trim().to_owned())).ok()
    }
}

/// How the simulator behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// `(subaccount, key)` pairs; a key owns every subaccount listed with it.
    pub accounts: Vec<(String, String)>,
    /// Added before every API answer.
    pub latency: Duration,
    /// Chance (0..=1) that a send request meets one of `faults`.
    pub fail_rate: f64,
    /// The faults drawn from when `fail_rate` hits.
    pub faults: Vec<Fault>,
    /// Send requests allowed per second per subaccount; `None` is 8x8's 1,800.
    pub rate_limit: Option<u32>,
    /// The `Retry-After` of every 429, in seconds (8x8's example says 1).
    pub retry_after_secs: u64,
    /// Destinations (digits, no `+`) whose messages end `undelivered`.
    pub undeliverable: Vec<String>,
    /// Time from one delivery state to the next.
    pub delivery_step: Duration,
    /// Polls of an export job that answer `running` before it is done.
    pub export_polls_running: u32,
    /// Export download links on another host name than the API's (as a
    /// storage service's would be), so the key must not go along.
    pub export_links_elsewhere: bool,
    /// Whether the `/_sim/*` test hooks are served (404 otherwise, as on 8x8).
    pub test_hooks: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            accounts: vec![(SANDBOX_SUBACCOUNT.into(), SANDBOX_KEY.into())],
            latency: Duration::ZERO,
            fail_rate: 0.0,
            faults: vec![Fault::ServerError],
            rate_limit: None,
            retry_after_secs: 1,
            undeliverable: Vec::new(),
            delivery_step: Duration::from_secs(1),
            export_polls_running: 1,
            export_links_elsewhere: false,
            test_hooks: true,
        }
    }
}

impl SimConfig {
    /// The app's built-in sandbox: 8x8's API only, no test hooks.
    pub fn sandbox() -> SimConfig {
        SimConfig { test_hooks: false, ..SimConfig::default() }
    }
}

/// A message the simulator accepted, as `GET /_sim/messages` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimMessage {
    /// The umid 8x8 would return.
    pub umid: String,
    /// The subaccount it was sent from.
    pub subaccount_id: String,
    /// As 8x8 echoes it: digits without `+`.
    pub destination: String,
    /// The text.
    pub text: String,
    /// The sender ID, if one was given.
    pub source: Option<String>,
    /// The client's reference (named as on 8x8's wire).
    #[serde(rename = "clientMessageId")]
    pub client_message_id: Option<String>,
    /// `GSM7` or `UCS2`.
    pub encoding: Encoding,
    /// Billed parts.
    pub sms_count: u32,
    /// The batch it came in, if any.
    pub batch_id: Option<String>,
    /// When it was accepted.
    pub received_at: DateTime<Utc>,
    /// The same moment on the monotonic clock, for delivery states.
    #[serde(skip, default = "Instant::now")]
    accepted_at: Instant,
    /// When it is to be sent, for a message accepted with `scheduled` ahead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled: Option<DateTime<Utc>>,
    /// Cancelled (`DELETE …/messages/{umid}`) before its scheduled time.
    #[serde(default)]
    pub cancelled: bool,
}

/// Requests counted in the current one-second window, by (subaccount, endpoint kind).
type Windows = HashMap<(String, &'static str), (Instant, u32)>;

struct Shared {
    config: SimConfig,
    messages: Mutex<Vec<SimMessage>>,
    next_faults: Mutex<VecDeque<Fault>>,
    // Fixed one-second windows per (subaccount, kind of endpoint).
    windows: Mutex<Windows>,
    // How far tests have moved the simulator's clock past the real one.
    clock_offset: Mutex<Duration>,
    // Log export jobs by id.
    jobs: Mutex<HashMap<String, export::Job>>,
    // For each export file downloaded: whether the request carried a key.
    downloads: Mutex<Vec<bool>>,
    // The bound port, for download links.
    port: OnceLock<u16>,
}

/// A running simulator; it stops when dropped or on [`Simulator::stop`].
pub struct Simulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Simulator {
    /// Binds 127.0.0.1:`port` (0 for any free port) and starts serving.
    pub async fn start(config: SimConfig, port: u16) -> std::io::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config,
            messages: Mutex::default(),
            next_faults: Mutex::default(),
            windows: Mutex::default(),
            clock_offset: Mutex::default(),
            jobs: Mutex::default(),
            downloads: Mutex::default(),
            port: OnceLock::from(addr.port()),
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Simulator { addr, shared, shutdown: Some(tx), task: Some(task) })
    }

    /// `http://127.0.0.1:PORT`, the base URL to give an account.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every accepted message so far.
    pub fn messages(&self) -> Vec<SimMessage> {
        lock(&self.shared.messages).clone()
    }

    /// For each export file downloaded so far: whether the request carried
    /// an API key (it never should to a link on another host).
    pub fn export_downloads(&self) -> Vec<bool> {
        lock(&self.shared.downloads).clone()
    }

    /// Makes the next send requests meet these faults, one each, in order.
    pub fn queue_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.shared.next_faults).extend(faults);
    }

    /// Moves the simulator's clock on by `by`: delivery states and rate-limit
    /// windows see that much more time passed. For tests that must see each
    /// state without depending on how fast the machine is.
    pub fn advance_clock(&self, by: Duration) {
        *lock(&self.shared.clock_offset) += by;
    }

    /// Stops serving; requests in flight are dropped.
    pub async fn stop(mut self) {
        self.halt().await;
    }

    async fn halt(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            // Hung "timeout" requests would hold graceful shutdown forever.
            task.abort();
            let _ = task.await;
        }
    }

    /// Serves until `stop` resolves (the CLI passes Ctrl-C / SIGTERM).
    pub async fn run_until(mut self, stop: impl std::future::Future<Output = ()>) {
        stop.await;
        self.halt().await;
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn router(shared: Arc<Shared>) -> Router {
    let hooks = if shared.config.test_hooks {
        Router::new()
            .route("/_sim/messages", get(list_messages).delete(clear_messages))
            .route("/_sim/faults", post(queue_faults))
    } else {
        Router::new()
    };
    Router::new()
        .route("/api/v1/subaccounts/{sub}/messages", post(send_single))
        // The community n8n node posts with a trailing slash; 8x8 evidently accepts it.
        .route("/api/v1/subaccounts/{sub}/messages/", post(send_single))
        .route("/api/v1/subaccounts/{sub}/messages/batch", post(send_batch))
        .route("/api/v1/subaccounts/{sub}/messages/{umid}", get(message_details).delete(cancel_message))
        .route("/api/v1/subaccounts/{sub}/messages/exports", post(export::start))
        .route("/api/v1/subaccounts/{sub}/messages/exports/{job}", get(export::poll))
        .route("/_export/{job}/{file}", get(export::download))
        .merge(hooks)
        // INFERRED: 8x8 documents no 405; its envelope on every error (§4.3)
        // is kept, with 2001 as for a path it does not serve.
        .method_not_allowed_fallback(|| async {
            error(StatusCode::METHOD_NOT_ALLOWED, 2001, "Function not implemented for this HTTP method")
        })
        .fallback(|| async { error(StatusCode::NOT_FOUND, 2001, "Function not implemented") })
        .with_state(shared)
}

/// 8x8's error envelope, with a fresh `errorId` and timestamp.
fn error(status: StatusCode, code: i64, message: &str) -> Response {
    // 8x8 documents `yyyy-MM-ddTHH:mm:ss.ffZ`: hundredths of a second.
    let now = Utc::now();
    let timestamp = format!("{}.{:02}Z", now.format("%Y-%m-%dT%H:%M:%S"), now.timestamp_subsec_millis() / 10);
    let body = json!({
        "code": code,
        "message": message,
        "errorId": uuid::Uuid::new_v4().to_string(),
        "timestamp": timestamp,
    });
    (status, Json(body)).into_response()
}

/// `^[A-Za-z0-9\-._&]{3,50}$`, 8x8's pattern for `{subAccountId}`.
fn is_subaccount_id(sub: &str) -> bool {
    (3..=50).contains(&sub.len()) && sub.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._&".contains(&b))
}

fn too_many(retry_after_secs: u64) -> Response {
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        429,
        &format!("Quota exceeded. Please try again in {retry_after_secs} second(s)."),
    );
    response.headers_mut().insert(header::RETRY_AFTER, retry_after_secs.into());
    response
}

impl Shared {
    /// Auth comes first, as on 8x8: an unknown key is 401/1200 whatever the
    /// path; a known key for someone else's subaccount is 1001 (INFERRED: 8x8
    /// does not document the HTTP status of 1001; 401 as the notes suggest).
    fn authorize(&self, headers: &HeaderMap, sub: &str) -> Result<(), Response> {
        let key = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, key)| key.trim());
        let unauthenticated = || error(StatusCode::UNAUTHORIZED, 1200, "Request was not authenticated properly");
        let key = key.ok_or_else(unauthenticated)?;
        let mut owned = self.config.accounts.iter().filter(|(_, k)| k == key).peekable();
        if owned.peek().is_none() {
            return Err(unauthenticated());
        }
        // The path pattern of 8x8's OpenAPI file (§1.2), checked once the key is
        // known. INFERRED: 400/1000 as for other malformed parameters (§9.3).
        if !is_subaccount_id(sub) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                1000,
                "Invalid parameter: subAccountId must match ^[A-Za-z0-9\\-._&]{3,50}$",
            ));
        }
        if !owned.any(|(s, _)| s == sub) {
            return Err(error(StatusCode::UNAUTHORIZED, 1001, "Provided subAccountId doesn't belongs to your account"));
        }
        Ok(())
    }

    /// The front of every endpoint but the sends: latency, then auth.
    async fn admit(&self, headers: &HeaderMap, sub: &str) -> Result<(), Response> {
        tokio::time::sleep(self.config.latency).await;
        self.authorize(headers, sub)
    }

    /// The real monotonic clock plus what tests advanced it by.
    fn now(&self) -> Instant {
        Instant::now() + *lock(&self.clock_offset)
    }

    /// The wall clock plus what tests advanced it by: when scheduled
    /// messages go.
    fn wall_now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(*lock(&self.clock_offset)).unwrap_or_default()
    }

    /// Fixed one-second windows; `limit` requests per window per subaccount.
    fn over_limit(&self, sub: &str, kind: &'static str, limit: u32) -> bool {
        let now = self.now();
        let mut windows = lock(&self.windows);
        let entry = windows.entry((sub.to_owned(), kind)).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(1) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 > limit
    }

    fn draw_fault(&self) -> Option<Fault> {
        if let Some(f) = lock(&self.next_faults).pop_front() {
            return Some(f);
        }
        let c = &self.config;
        (c.fail_rate > 0.0 && !c.faults.is_empty() && fastrand::f64() < c.fail_rate)
            .then(|| c.faults[fastrand::usize(..c.faults.len())])
    }

    /// The common front of both send endpoints: latency, auth, rate limit and
    /// faults that refuse before accepting anything.
    async fn admit_send(&self, headers: &HeaderMap, sub: &str) -> Result<Option<Fault>, Response> {
        tokio::time::sleep(self.config.latency).await;
        self.authorize(headers, sub)?;
        if self.over_limit(sub, "send", self.config.rate_limit.unwrap_or(1800)) {
            return Err(too_many(self.config.retry_after_secs));
        }
        match self.draw_fault() {
            Some(Fault::TooManyRequests) => Err(too_many(self.config.retry_after_secs)),
            Some(Fault::ServerError) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, 2000, "Internal server error")),
            Some(Fault::Unavailable) => Err(proxy_page(StatusCode::SERVICE_UNAVAILABLE)),
            other => Ok(other),
        }
    }

    fn record<'a>(&self, sub: &str, accepted: impl Iterator<Item = (&'a Accepted, &'a str)>, batch_id: Option<&str>) {
        let now = self.now();
        let received_at = Utc::now();
        let mut messages = lock(&self.messages);
        for (accepted, umid) in accepted {
            messages.push(SimMessage {
                umid: umid.to_owned(),
                subaccount_id: sub.to_owned(),
                destination: accepted.destination.clone(),
                text: accepted.text.clone(),
                source: accepted.source.clone(),
                client_message_id: accepted.client_message_id.clone(),
                encoding: accepted.encoding,
                sms_count: accepted.sms_count,
                batch_id: batch_id.map(str::to_owned),
                received_at,
                accepted_at: now,
                scheduled: accepted.scheduled,
                cancelled: false,
            });
        }
    }
}

/// What a fault that strikes after acceptance does to the answer.
async fn finish(fault: Option<Fault>, body: &impl Serialize) -> Response {
    match fault {
        Some(Fault::Timeout) => {
            // The client gives up first; the sim never answers.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Some(Fault::Reset) => {
            // Promise a body, then fail the stream: hyper cuts the connection.
            let broken = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "sim reset"))
            });
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, "4096")
                .body(Body::from_stream(broken))
                .expect("static response parts are valid")
        }
        Some(Fault::AcceptedThen500) => error(StatusCode::INTERNAL_SERVER_ERROR, 2000, "Internal server error"),
        Some(Fault::AcceptedThen502) => proxy_page(StatusCode::BAD_GATEWAY),
        Some(Fault::AcceptedThen504) => proxy_page(StatusCode::GATEWAY_TIMEOUT),
        _ => (StatusCode::OK, Json(body)).into_response(),
    }
}

/// What a load balancer in front of 8x8 answers: its own HTML, not 8x8's envelope.
fn proxy_page(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("error");
    let page = format!("<html><body><h1>{} {reason}</h1></body></html>", status.as_u16());
    (status, [(header::CONTENT_TYPE, "text/html")], page).into_response()
}

fn parse_body(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, 1000, "Invalid parameter: the request body is not a JSON object"))
}

/// `SmsResponse`, typed so a 10,000-item batch answer is written straight to
/// bytes rather than through a `Value` tree.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SmsOut<'a> {
    umid: String,
    client_message_id: Option<&'a str>,
    destination: &'a str,
    encoding: &'static str,
    status: StatusOut,
}

#[derive(Serialize)]
struct StatusOut {
    code: &'static str,
    description: &'static str,
}

const QUEUED: StatusOut = StatusOut { code: "QUEUED", description: "SMS is accepted and queued for processing" };

/// `BatchSmsResponse`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchOut<'a> {
    batch_id: String,
    client_batch_id: Option<&'a str>,
    accepted_count: usize,
    rejected_count: usize,
    messages: Option<Vec<SmsOut<'a>>>,
}

fn sms_response(accepted: &Accepted, umid: String) -> SmsOut<'_> {
    SmsOut {
        umid,
        client_message_id: accepted.client_message_id.as_deref(),
        destination: &accepted.destination,
        encoding: accepted.encoding.as_str(),
        status: QUEUED,
    }
}

async fn send_single(
    State(s): State<Arc<Shared>>,
    Path(sub): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = match s.admit_send(&headers, &sub).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let request = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match validate::message_at(&request, None, s.wall_now()) {
        Ok(accepted) => {
            let umid = uuid::Uuid::new_v4().to_string();
            s.record(&sub, std::iter::once((&accepted, umid.as_str())), None);
            finish(fault, &sms_response(&accepted, umid)).await
        }
        Err(rejection) => error(StatusCode::BAD_REQUEST, rejection.code, rejection.description),
    }
}

async fn send_batch(
    State(s): State<Arc<Shared>>,
    Path(sub): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = match s.admit_send(&headers, &sub).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let request = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let batch = match validate::batch_at(&request, s.wall_now()) {
        Ok(b) => b,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.code, rejection.description),
    };
    let batch_id = uuid::Uuid::new_v4().to_string();
    let mut items = Vec::with_capacity(batch.items.len());
    let (mut accepted_count, mut rejected_count) = (0, 0);
    for item in &batch.items {
        let umid = uuid::Uuid::new_v4().to_string();
        match item {
            Ok(accepted) => {
                accepted_count += 1;
                items.push(sms_response(accepted, umid));
            }
            Err((rejection, echo)) => {
                rejected_count += 1;
                items.push(SmsOut {
                    umid,
                    client_message_id: echo.client_message_id.as_deref(),
                    destination: &echo.destination,
                    encoding: echo.encoding.as_str(),
                    status: StatusOut { code: "REJECTED", description: rejection.description },
                });
            }
        }
    }
    let accepted =
        batch.items.iter().zip(&items).filter_map(|(item, out)| item.as_ref().ok().map(|a| (a, out.umid.as_str())));
    s.record(&sub, accepted, Some(&batch_id));
    let body = BatchOut {
        batch_id: batch_id.clone(),
        client_batch_id: batch.client_batch_id.as_deref(),
        accepted_count,
        rejected_count,
        messages: batch.include_messages.then_some(items),
    };
    finish(fault, &body).await
}

async fn message_details(
    State(s): State<Arc<Shared>>,
    Path((sub, umid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = s.admit(&headers, &sub).await {
        return r;
    }
    // 8x8 documents one details request per second per subaccount.
    if s.over_limit(&sub, "details", 1) {
        return too_many(s.config.retry_after_secs);
    }
    if uuid::Uuid::parse_str(&umid).is_err() {
        return error(StatusCode::BAD_REQUEST, 1000, "Invalid umid.");
    }
    let found = lock(&s.messages).iter().find(|m| m.umid == umid && m.subaccount_id == sub).cloned();
    let Some(m) = found else {
        return error(StatusCode::NOT_FOUND, 1300, "Message not found.");
    };
    // A scheduled message leaves at its time: states count from then.
    let age = match m.scheduled {
        Some(at) => (s.wall_now() - at).to_std().ok(),
        None => Some(s.now().saturating_duration_since(m.accepted_at)),
    };
    let step = s.config.delivery_step;
    let undeliverable = s.config.undeliverable.iter().any(|d| d.trim_start_matches('+') == m.destination);
    let status = if m.cancelled {
        json!({"state": "cancelled", "timestamp": m.received_at})
    } else if age.is_none() {
        json!({"state": "scheduled", "timestamp": m.received_at})
    } else if age.is_some_and(|a| a < step) {
        json!({"state": "queued", "timestamp": m.received_at})
    } else if age.is_some_and(|a| a < step * 2) {
        json!({"state": "sent", "detail": "delivered_to_operator", "timestamp": Utc::now()})
    } else if undeliverable {
        json!({"state": "undelivered", "detail": "undelivered_to_recipient", "errorCode": 1,
               "errorMessage": "Absent subscriber", "timestamp": Utc::now()})
    } else {
        json!({"state": "delivered", "detail": "delivered_to_recipient", "timestamp": Utc::now()})
    };
    Json(json!({
        "umid": m.umid,
        "subAccountId": m.subaccount_id,
        "direction": "outbound",
        "status": status,
        "msisdn": format!("+{}", m.destination),
        "source": m.source,
        "body": "**MASKED**",
        "encoding": m.encoding.as_str(),
        "createdAt": m.received_at,
        "smsCount": m.sms_count,
        "clientMessageId": m.client_message_id,
        "batchId": m.batch_id,
    }))
    .into_response()
}

/// `DELETE …/messages/{umid}`: cancels a message whose scheduled time is
/// still ahead.
async fn cancel_message(
    State(s): State<Arc<Shared>>,
    Path((sub, umid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = s.admit(&headers, &sub).await {
        return r;
    }
    // INFERRED: any umid 8x8 holds nothing for is "not found", malformed or not.
    let now = s.wall_now();
    let mut messages = lock(&s.messages);
    let waiting = messages
        .iter_mut()
        .find(|m| m.umid == umid && m.subaccount_id == sub && !m.cancelled && m.scheduled.is_some_and(|t| t > now));
    match waiting {
        Some(m) => {
            m.cancelled = true;
            Json(json!({"cancelledCount": 1})).into_response()
        }
        None => error(StatusCode::NOT_FOUND, 1300, "Message not found."),
    }
}

async fn list_messages(State(s): State<Arc<Shared>>) -> Json<Vec<SimMessage>> {
    Json(lock(&s.messages).clone())
}

async fn clear_messages(State(s): State<Arc<Shared>>) -> StatusCode {
    lock(&s.messages).clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct FaultQueue {
    next: Vec<Fault>,
}

async fn queue_faults(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultQueue>(&body) {
        Ok(q) => {
            lock(&s.next_faults).extend(q.next);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            format!("expected {{\"next\": [fault, …]}} with faults among {}: {e}", Fault::NAMES),
        )
            .into_response(),
    }
}
