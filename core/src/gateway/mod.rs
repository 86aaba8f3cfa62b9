//! The 8x8 SMS API client: the only module that talks HTTP to 8x8.
//!
//! It speaks 8x8's wire format (`docs/8x8.md`: single send, batch send,
//! message details) and turns every failure into an [`Error`] that says whether
//! a retry can help and whether the message may already have gone out. Retry
//! loops, the ledger and account bookkeeping are not here: callers decide.

pub mod wire;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::secrets::Secret;
pub use wire::{
    BatchRequest, BatchResponse, ErrorBody, ExportJob, ExportRequest, ExportStarted, MessageDetails, SmsRequest,
    SmsResponse,
};

/// 8x8's code for "Request was not authenticated properly".
pub const CODE_BAD_KEY: i64 = 1200;
/// 8x8's code for a subaccount the key's account does not own.
pub const CODE_FOREIGN_SUBACCOUNT: i64 = 1001;
/// 8x8's code for "Message not found".
pub const CODE_NOT_FOUND: i64 = 1300;
/// 8x8's code for an invalid parameter (e.g. "Invalid umid.").
pub const CODE_INVALID_PARAMETER: i64 = 1000;

/// How long to wait for 8x8 before calling the outcome ambiguous.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A failed call to 8x8. The text never contains the API key.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 401 / 1200: the key is wrong, disabled or deleted.
    #[error("8x8 refused the API key: {message} (code {code})")]
    BadKey {
        /// 8x8's code (1200).
        code: i64,
        /// 8x8's message.
        message: String,
    },
    /// 1001: the key works but its account does not own this subaccount.
    #[error("8x8 says this subaccount does not belong to the key's account: {message} (code {code})")]
    ForeignSubaccount {
        /// 8x8's code (1001).
        code: i64,
        /// 8x8's message.
        message: String,
    },
    /// 4xx other than auth and rate limiting: the request itself is wrong.
    #[error("8x8 rejected the request: {message} (HTTP {status}, code {code})")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// 8x8's code.
        code: i64,
        /// 8x8's message.
        message: String,
    },
    /// 429: too many requests; wait `retry_after`, then try again.
    #[error("8x8 asks us to slow down: {message} (retry after {} s)", retry_after.as_secs_f64())]
    RateLimited {
        /// From the `Retry-After` header (1 s when absent).
        retry_after: Duration,
        /// 8x8's message.
        message: String,
    },
    /// A 5xx that proves nothing was queued: 503 to a send, or any 5xx to a
    /// request that sends nothing. (Any other 5xx to a send is
    /// [`Error::Ambiguous`]: a proxy's 502/504, or 8x8's own 500, may come
    /// after 8x8 queued the messages.)
    #[error("8x8 had a server error: {message} (HTTP {status})")]
    Server {
        /// HTTP status.
        status: u16,
        /// 8x8's code, when the body had one.
        code: Option<i64>,
        /// 8x8's message, or the start of the body.
        message: String,
    },
    /// The request never reached 8x8 (DNS, refused, TLS): safe to retry.
    #[error("could not reach 8x8 at {url}: {reason}")]
    Unreachable {
        /// The URL we tried.
        url: String,
        /// Why.
        reason: String,
    },
    /// The request may have reached 8x8 but no answer came back (timeout,
    /// reset, unreadable reply). A send in this state must not be repeated
    /// automatically: the customer may already have the SMS.
    #[error("no usable answer from 8x8 at {url} after the request was sent ({reason}); it may or may not have been accepted")]
    Ambiguous {
        /// The URL we tried.
        url: String,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// Whether trying the same request again later can succeed. Ambiguous
    /// outcomes are not transient: repeating a send could text someone twice.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::RateLimited { .. } | Error::Server { .. } | Error::Unreachable { .. })
    }

    /// Whether the key or subaccount is refused, so the account must be marked
    /// inactive.
    pub fn rejects_account(&self) -> bool {
        matches!(self, Error::BadKey { .. } | Error::ForeignSubaccount { .. })
    }

    /// 8x8's numeric code, when it gave one.
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::BadKey { code, .. } | Error::ForeignSubaccount { code, .. } | Error::Rejected { code, .. } => {
                Some(*code)
            }
            Error::Server { code, .. } => *code,
            Error::RateLimited { .. } => Some(429),
            Error::Unreachable { .. } | Error::Ambiguous { .. } => None,
        }
    }

    /// 8x8's own words, when the error came from 8x8.
    pub fn reason(&self) -> String {
        match self {
            Error::BadKey { message, .. }
            | Error::ForeignSubaccount { message, .. }
            | Error::Rejected { message, .. }
            | Error::RateLimited { message, .. }
            | Error::Server { message, .. } => message.clone(),
            Error::Unreachable { reason, .. } | Error::Ambiguous { reason, .. } => reason.clone(),
        }
    }
}

/// Where and as whom to call 8x8.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Base URL without a trailing slash, e.g. `https://sms.8x8.uk`.
    pub base_url: String,
    /// The subaccount in every path.
    pub subaccount_id: String,
    /// The bearer key.
    pub api_key: Secret,
}

/// A client for one 8x8 subaccount.
#[derive(Clone)]
pub struct Gateway {
    http: reqwest::Client,
    endpoint: Endpoint,
}

/// What a zero-cost probe of the credentials found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// 8x8 accepted the key for this subaccount.
    Accepted,
    /// 8x8 refused; the reason and code are 8x8's.
    Refused {
        /// 8x8's message.
        reason: String,
        /// 8x8's code.
        code: i64,
    },
}

/// What a cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// 8x8 will not send it.
    Cancelled,
    /// Too late: 8x8 no longer holds it (already sent).
    AlreadyGone,
}

/// Messages in a batch from which its JSON is written and read off the
/// caller's thread (see [`Gateway::send_batch`]); smaller ones are not worth
/// the hand-over.
const OFF_THREAD_BATCH: usize = 1_000;

impl Gateway {
    /// A client with the default timeout.
    pub fn new(endpoint: Endpoint) -> Gateway {
        Gateway::with_timeout(endpoint, DEFAULT_TIMEOUT)
    }

    /// A client whose requests give up after `timeout`.
    pub fn with_timeout(endpoint: Endpoint, timeout: Duration) -> Gateway {
        let http = crate::http_client()
            .user_agent(concat!("Sendrow/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10).min(timeout))
            .timeout(timeout)
            .build()
            .expect("a client with only timeouts and a user agent always builds");
        let base_url = endpoint.base_url.trim_end_matches('/').to_owned();
        Gateway { http, endpoint: Endpoint { base_url, ..endpoint } }
    }

    fn url(&self, tail: &str) -> String {
        format!("{}/api/v1/subaccounts/{}/messages{tail}", self.endpoint.base_url, self.endpoint.subaccount_id)
    }

    /// `POST …/messages`: one SMS.
    pub async fn send(&self, message: &SmsRequest) -> Result<SmsResponse, Error> {
        self.call(Method::POST, &self.url(""), Some(message), true).await
    }

    /// `POST …/messages/batch`: up to 10,000 SMS in one request.
    pub async fn send_batch(&self, batch: BatchRequest) -> Result<BatchResponse, Error> {
        let url = self.url("/batch");
        if batch.messages.len() < OFF_THREAD_BATCH {
            return self.call(Method::POST, &url, Some(&batch), true).await;
        }
        // Megabytes of JSON each way, written and read on tokio's blocking
        // pool: meanwhile the run's thread, which bounds a big run, records
        // the batch before. Nothing was sent if the body cannot be written.
        let unsent = |reason: String| Error::Unreachable { url: url.clone(), reason };
        let body = tokio::task::spawn_blocking(move || serde_json::to_vec(&batch))
            .await
            .map_err(|e| unsent(format!("the request was not written: {e}")))?
            .map_err(|e| unsent(format!("the request was not written: {e}")))?;
        let bytes = self.exchange(Method::POST, &url, Some(body), true).await?;
        let read = tokio::task::spawn_blocking(move || serde_json::from_slice(&bytes)).await;
        match read {
            Ok(parsed) => parsed.map_err(|e| unreadable_success(&url, &e, true)),
            Err(e) => Err(Error::Ambiguous { url, reason: format!("8x8's answer was not read: {e}") }),
        }
    }

    /// `GET …/messages/{umid}`: a message's delivery state. 8x8 allows one such
    /// request per second per subaccount.
    pub async fn message_status(&self, umid: &str) -> Result<MessageDetails, Error> {
        self.call::<(), _>(Method::GET, &self.url(&format!("/{umid}")), None, false).await
    }

    /// `POST …/messages/exports`: asks 8x8 to list the messages it received
    /// in a window (docs/8x8.md, "the log export job"); answers a job to poll.
    pub async fn start_export(&self, request: &ExportRequest) -> Result<ExportStarted, Error> {
        self.call(Method::POST, &self.url("/exports"), Some(request), false).await
    }

    /// `GET …/messages/exports/{jobId}`: how the export job is doing.
    pub async fn export_job(&self, job_id: &str) -> Result<ExportJob, Error> {
        self.call::<(), _>(Method::GET, &self.url(&format!("/exports/{job_id}")), None, false).await
    }

    /// Downloads one of an export's CSV files. The API key goes along only
    /// when the link is on the account's own API host: a link elsewhere (a
    /// storage service) is pre-signed and must never see the key.
    pub async fn download_export(&self, link: &str) -> Result<String, Error> {
        let mut request = self.http.get(link);
        if same_origin(link, &self.endpoint.base_url) {
            request = request.bearer_auth(self.endpoint.api_key.expose());
        }
        // A pre-signed link's query is its permission: errors name the file, not it.
        let shown = link.split(['?', '#']).next().unwrap_or_default();
        let response = request.send().await.map_err(|e| transport_error(shown, &e, false))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| transport_error(shown, &e, false))?;
        if !status.is_success() {
            return Err(error_from_response(status, &bytes, None, None));
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// `DELETE …/messages/{umid}`: cancels a message scheduled for later.
    /// 404 means there is nothing to cancel any more: the SMS already left
    /// (or the umid is unknown), reported as [`Cancel::AlreadyGone`].
    pub async fn cancel(&self, umid: &str) -> Result<Cancel, Error> {
        match self.call::<(), wire::CancelResponse>(Method::DELETE, &self.url(&format!("/{umid}")), None, false).await {
            Ok(answer) if answer.cancelled_count > 0 => Ok(Cancel::Cancelled),
            Ok(_) => Ok(Cancel::AlreadyGone),
            Err(Error::Rejected { status: 404, .. }) => Ok(Cancel::AlreadyGone),
            Err(other) => Err(other),
        }
    }

    /// Checks key and subaccount without sending anything or costing money: asks
    /// for the details of a message that cannot exist. 8x8 authenticates first,
    /// so a good key gets "message not found" (404/1300), a bad key 401/1200 and
    /// a subaccount the key does not own 1001. When rate limited it waits as told
    /// (at most 5 s) and asks once more.
    pub async fn probe(&self) -> Result<Probe, Error> {
        let mut waited = false;
        loop {
            let umid = uuid::Uuid::new_v4().to_string();
            match self.message_status(&umid).await {
                // A message that exists by chance still proves the key works.
                Ok(_) => return Ok(Probe::Accepted),
                Err(Error::Rejected { code, .. }) if code == CODE_NOT_FOUND || code == CODE_INVALID_PARAMETER => {
                    return Ok(Probe::Accepted)
                }
                Err(Error::BadKey { code, message }) | Err(Error::ForeignSubaccount { code, message }) => {
                    return Ok(Probe::Refused { reason: message, code })
                }
                Err(Error::RateLimited { retry_after, .. }) if !waited => {
                    waited = true;
                    tokio::time::sleep(retry_after.min(Duration::from_secs(5))).await;
                }
                Err(other) => return Err(other),
            }
        }
    }

    async fn call<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        url: &str,
        body: Option<&B>,
        sends: bool,
    ) -> Result<T, Error> {
        let body = body.map(serde_json::to_vec).transpose().map_err(|e| Error::Unreachable {
            url: url.to_owned(),
            reason: format!("the request was not written: {e}"),
        })?;
        let bytes = self.exchange(method, url, body, sends).await?;
        serde_json::from_slice(&bytes).map_err(|e| unreadable_success(url, &e, sends))
    }

    /// One request with a JSON `body`: the answer's body when 8x8 says yes,
    /// else 8x8's refusal as an [`Error`].
    async fn exchange(&self, method: Method, url: &str, body: Option<Vec<u8>>, sends: bool) -> Result<Vec<u8>, Error> {
        let mut request = self.http.request(method, url).bearer_auth(self.endpoint.api_key.expose());
        if let Some(body) = body {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        }
        let response = request.send().await.map_err(|e| {
            let error = transport_error(url, &e, sends);
            tracing::warn!(url, "8x8 not reached: {error}");
            error
        })?;
        let status = response.status();
        tracing::debug!(url, status = status.as_u16(), "8x8 answered");
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
        let bytes = response.bytes().await.map_err(|e| transport_error(url, &e, sends))?;
        if status.is_success() {
            return Ok(Vec::from(bytes));
        }
        let error = error_from_response(status, &bytes, retry_after, sends.then_some(url));
        // A probe's "message not found" is the answer it hopes for; 5xx is 8x8's trouble.
        if status.is_server_error() {
            tracing::warn!(url, status = status.as_u16(), code = ?error.code(), "8x8 failed: {error}");
        } else {
            tracing::info!(url, status = status.as_u16(), code = ?error.code(), "8x8 refused: {error}");
        }
        Err(error)
    }
}

/// Whether `link` has the scheme, host and port of `base`.
fn same_origin(link: &str, base: &str) -> bool {
    let origin = |url: &str| {
        reqwest::Url::parse(url)
            .ok()
            .map(|u| (u.scheme().to_owned(), u.host_str().map(str::to_owned), u.port_or_known_default()))
    };
    matches!((origin(link), origin(base)), (Some(a), Some(b)) if a == b)
}

/// `Retry-After` as RFC 9110 §10.2.3 allows it: delay-seconds or an HTTP-date
/// (IMF-fixdate, or the obsolete RFC 850 and asctime forms a recipient must
/// still accept). A date already past means "now". `None` when unreadable.
fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        // Negative, NaN or too big for a Duration: unreadable, not a panic.
        return Duration::try_from_secs_f64(secs).ok();
    }
    let date =
        chrono::DateTime::parse_from_rfc2822(value).map(|d| d.with_timezone(&chrono::Utc)).ok().or_else(|| {
            ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
                .iter()
                .find_map(|format| chrono::NaiveDateTime::parse_from_str(value, format).ok())
                .map(|naive| naive.and_utc())
        })?;
    Some((date - now).to_std().unwrap_or(Duration::ZERO))
}

/// A transport failure. Only a failure to connect proves the request never
/// left; anything later may have reached 8x8.
fn transport_error(url: &str, err: &reqwest::Error, sends: bool) -> Error {
    let reason = describe(err);
    if err.is_connect() || err.is_builder() || !sends {
        Error::Unreachable { url: url.to_owned(), reason }
    } else {
        Error::Ambiguous { url: url.to_owned(), reason }
    }
}

/// A 2xx whose body we cannot read: 8x8 accepted something we cannot match.
fn unreadable_success(url: &str, err: &serde_json::Error, sends: bool) -> Error {
    let reason = format!("8x8 answered with a body Sendrow does not understand: {err}");
    if sends {
        Error::Ambiguous { url: url.to_owned(), reason }
    } else {
        Error::Server { status: 200, code: None, message: reason }
    }
}

fn describe(err: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = if err.is_timeout() { "timed out".to_owned() } else { "connection failed".to_owned() };
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// An error answer. `sent_to` is the URL when the request sends messages:
/// then only 503 among the 5xx proves that nothing was queued (docs/8x8.md,
/// "ambiguous answers"); any other 5xx may come after 8x8 queued them.
fn error_from_response(status: StatusCode, body: &[u8], retry_after: Option<Duration>, sent_to: Option<&str>) -> Error {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let code = parsed.as_ref().map(|b| b.code);
    let message = match &parsed {
        Some(b) => b.message.clone(),
        None => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                status.canonical_reason().unwrap_or("no message").to_owned()
            } else {
                text.chars().take(200).collect()
            }
        }
    };
    match (status.as_u16(), code) {
        (_, Some(CODE_FOREIGN_SUBACCOUNT)) => Error::ForeignSubaccount { code: CODE_FOREIGN_SUBACCOUNT, message },
        (401, c) => Error::BadKey { code: c.unwrap_or(CODE_BAD_KEY), message },
        (429, _) => Error::RateLimited { retry_after: retry_after.unwrap_or(Duration::from_secs(1)), message },
        (s, _) if s >= 500 && s != 503 && sent_to.is_some() => Error::Ambiguous {
            url: sent_to.unwrap_or_default().to_owned(),
            reason: format!("8x8 or a server in front of it answered HTTP {s} ({message}), which can come after 8x8 queued the messages"),
        },
        (s, c) if s >= 500 => Error::Server { status: s, code: c, message },
        (s, c) => Error::Rejected { status: s, code: c.unwrap_or(0), message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_map_to_situations() {
        let body = |code: i64, msg: &str| {
            serde_json::to_vec(&serde_json::json!({"code": code, "message": msg, "errorId": "x", "timestamp": "t"}))
                .unwrap()
        };
        assert!(matches!(
            error_from_response(StatusCode::UNAUTHORIZED, &body(1200, "no"), None, None),
            Error::BadKey { code: 1200, .. }
        ));
        assert!(matches!(
            error_from_response(StatusCode::FORBIDDEN, &body(1001, "no"), None, None),
            Error::ForeignSubaccount { .. }
        ));
        let limited =
            error_from_response(StatusCode::TOO_MANY_REQUESTS, &body(429, "slow"), Some(Duration::from_secs(3)), None);
        assert!(matches!(limited, Error::RateLimited { retry_after, .. } if retry_after == Duration::from_secs(3)));
        assert!(limited.is_transient(), "a rate limit passes");
        let server = error_from_response(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>", None, None);
        assert!(
            matches!(server, Error::Server { status: 502, code: None, .. }),
            "non-JSON 5xx to a request that sends nothing is a server error"
        );
        let invalid = error_from_response(StatusCode::BAD_REQUEST, &body(1002, "Invalid MSISDN"), None, None);
        assert!(!invalid.is_transient() && invalid.code() == Some(1002), "validation errors keep 8x8's code");
    }

    #[test]
    fn the_key_goes_only_to_the_accounts_own_host() {
        let base = "https://sms.8x8.uk";
        assert!(same_origin("https://sms.8x8.uk/api/v1/exports/x.csv", base), "the API host itself");
        assert!(same_origin("https://sms.8x8.uk:443/x", base), "the default port written out");
        assert!(!same_origin("https://storage.example.com/x.csv?sig=1", base), "another host");
        assert!(!same_origin("http://sms.8x8.uk/x", base), "another scheme");
        assert!(!same_origin("https://sms.8x8.uk.evil.example/x", base), "a look-alike host");
        assert!(!same_origin("not a url", base), "nonsense");
        assert!(
            !same_origin("http://localhost:9/x", "http://127.0.0.1:9"),
            "a name is not the same host as an address"
        );
    }

    #[test]
    fn to_a_send_only_503_among_the_5xx_proves_nothing_was_queued() {
        let send = Some("http://127.0.0.1/api/v1/subaccounts/x/messages");
        for status in [500, 502, 504, 520] {
            let answer = error_from_response(StatusCode::from_u16(status).unwrap(), b"oops", None, send);
            assert!(
                matches!(answer, Error::Ambiguous { .. }) && !answer.is_transient(),
                "HTTP {status} to a send may come after 8x8 queued it: ambiguous, never retried, got {answer:?}"
            );
        }
        let unavailable = error_from_response(StatusCode::SERVICE_UNAVAILABLE, b"busy", None, send);
        assert!(
            matches!(unavailable, Error::Server { status: 503, .. }) && unavailable.is_transient(),
            "503 means 8x8 took nothing: retried, got {unavailable:?}"
        );
        let envelope =
            serde_json::to_vec(&serde_json::json!({"code": 1002, "message": "bad", "errorId": "e", "timestamp": "t"}))
                .unwrap();
        let refused = error_from_response(StatusCode::BAD_REQUEST, &envelope, None, send);
        assert!(matches!(refused, Error::Rejected { status: 400, code: 1002, .. }), "a 4xx envelope: nothing queued");
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_an_http_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-29T18:00:00Z").unwrap().with_timezone(&chrono::Utc);
        let read = |v: &str| parse_retry_after(v, now);
        assert_eq!(read("3"), Some(Duration::from_secs(3)), "delay-seconds");
        assert_eq!(read(" 0 "), Some(Duration::ZERO), "zero, with spaces around");
        assert_eq!(read("Sun, 29 Nov 2026 18:00:07 GMT"), Some(Duration::from_secs(7)), "IMF-fixdate");
        assert_eq!(read("Sunday, 29-Nov-26 18:00:05 GMT"), Some(Duration::from_secs(5)), "the RFC 850 form");
        assert_eq!(read("Sun Nov 29 18:00:09 2026"), Some(Duration::from_secs(9)), "the asctime form");
        assert_eq!(read("Sun, 29 Nov 2026 17:59:00 GMT"), Some(Duration::ZERO), "a date already past means now");
        assert_eq!(read("-1"), None, "a negative delay is not valid");
        assert_eq!(read("1e300"), None, "a delay too long for a Duration is unreadable, not a panic");
        assert_eq!(
            read("Tue Dec  1 18:00:00 2026"),
            Some(Duration::from_secs(2 * 86_400)),
            "asctime pads a one-digit day with a space"
        );
        assert_eq!(read("soon"), None, "nonsense is not a delay");
    }
}
