//! The Sheets API v4 calls (`spreadsheets.get`, `values.get`), the bounded
//! retry every Google call goes through, and Google's JSON error envelope
//! turned into an [`Error`] that says what to do.
//!
//! Not here: getting the token (`credentials`) and the CSV export (`export`).

use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::credentials::Access;
use super::{table_from_rows, Error, Reader, RetryPolicy, SheetRef, Tab};
use crate::source::Table;

/// A final answer from Google, whatever its status.
pub(super) struct Reply {
    pub status: StatusCode,
    pub retry_after: Option<Duration>,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Sends the request `build` makes, again after a failed connection, 429 or
/// 5xx, waiting as the policy says (or as `Retry-After` says). Returns the
/// last answer, whatever its status, once retrying is over; the caller maps
/// non-2xx to an error. `url` is for error text and must hold no secret.
pub(super) async fn send(
    retry: &RetryPolicy,
    url: &Url,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<Reply, Error> {
    let mut failures = 0u32;
    loop {
        let last_try = failures + 1 >= retry.attempts.max(1);
        let (reply, retry_after) = match build().send().await {
            Ok(response) => {
                let status = response.status();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                tracing::debug!(%url, status = status.as_u16(), "Google answered");
                match response.bytes().await {
                    Ok(body) => {
                        let reply = Reply { status, retry_after, content_type, body: body.to_vec() };
                        let again = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
                        if !again || last_try {
                            return Ok(reply);
                        }
                        (Ok(reply), retry_after)
                    }
                    Err(e) => (Err(unreachable(url, e)), None),
                }
            }
            Err(e) => (Err(unreachable(url, e)), None),
        };
        if last_try {
            return reply;
        }
        let backoff = retry.first_delay.saturating_mul(1 << failures.min(16));
        let delay = match retry_after {
            // Longer than one call should block: let the scheduler wait instead.
            Some(wait) if wait > retry.max_delay => return reply,
            Some(wait) => wait,
            None => (backoff + backoff.mul_f64(fastrand::f64() / 4.0)).min(retry.max_delay),
        };
        (retry.sleep)(delay).await;
        failures += 1;
    }
}

fn unreachable(url: &Url, err: reqwest::Error) -> Error {
    use std::error::Error as _;
    // `without_url` because the URL may carry `?key=`.
    let err = err.without_url();
    let mut reason = if err.is_timeout() { "timed out".to_owned() } else { "connection failed".to_owned() };
    let mut source = err.source();
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    let mut shown = url.clone();
    shown.set_query(None);
    Error::Unreachable { url: shown.to_string(), reason }
}

/// `{"error": {"code", "message", "status", "details": [{"reason"}]}}`.
#[derive(Deserialize)]
struct Envelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<Detail>,
}

#[derive(Deserialize)]
struct Detail {
    reason: Option<String>,
}

/// Google's own words from an error answer, and its `details[].reason`.
fn google_words(reply: &Reply) -> (String, String, Option<String>) {
    match serde_json::from_slice::<Envelope>(&reply.body) {
        Ok(Envelope { error }) => {
            let reason = error.details.into_iter().find_map(|d| d.reason);
            (error.message, error.status, reason)
        }
        Err(_) => {
            let text = String::from_utf8_lossy(&reply.body);
            let text = text.trim();
            let message = if text.is_empty() || text.starts_with('<') {
                reply.status.canonical_reason().unwrap_or("no message").to_owned()
            } else {
                text.chars().take(200).collect()
            };
            (message, String::new(), None)
        }
    }
}

fn api_error(reader: &Reader, reply: &Reply, spreadsheet_id: &str) -> Error {
    let (message, status_text, reason) = google_words(reply);
    tracing::warn!(http = reply.status.as_u16(), status = %status_text, reason = ?reason, "Google refused: {message}");
    match reply.status.as_u16() {
        404 => Error::SpreadsheetNotFound { spreadsheet_id: spreadsheet_id.to_owned(), message },
        403 => Error::PermissionDenied { hint: reader.credentials.denied_hint(reason.as_deref(), &message), message },
        400 if reason.as_deref() == Some("API_KEY_INVALID") || message.contains("API key not valid") => {
            Error::ApiKeyRejected { message }
        }
        401 => Error::Unauthenticated { message },
        429 => Error::RateLimited { retry_after: reply.retry_after.unwrap_or(Duration::from_secs(60)), message },
        s if s >= 500 => Error::Server { status: s, message },
        status => Error::Refused { status, status_text, message },
    }
}

/// `GET {sheets_api}/v4/spreadsheets/{segments…}?{query}` with the reader's
/// credentials; a 401 renews the token once and tries again.
async fn get_json<T: DeserializeOwned>(
    reader: &Reader,
    segments: &[&str],
    query: &[(&str, &str)],
    spreadsheet_id: &str,
) -> Result<T, Error> {
    let mut url = Url::parse(&reader.endpoints.sheets_api)
        .map_err(|e| Error::Unreadable(format!("the Sheets API address is not a URL: {e}")))?;
    url.path_segments_mut()
        .map_err(|()| Error::Unreadable("the Sheets API address cannot take a path".into()))?
        .pop_if_empty()
        .extend(["v4", "spreadsheets"])
        .extend(segments);
    url.query_pairs_mut().extend_pairs(query);
    let mut renewed = false;
    loop {
        let access = reader.credentials.access(&reader.http, &reader.endpoints, &reader.retry).await?;
        let (target, bearer) = match access {
            Access::Key(key) => {
                let mut with_key = url.clone();
                with_key.query_pairs_mut().append_pair("key", key.expose());
                (with_key, None)
            }
            Access::Bearer(token) => (url.clone(), Some(token)),
        };
        let reply = send(&reader.retry, &url, || {
            let request = reader.http.get(target.clone());
            match &bearer {
                Some(token) => request.bearer_auth(token.expose()),
                None => request,
            }
        })
        .await?;
        if reply.status.is_success() {
            return serde_json::from_slice(&reply.body).map_err(|e| Error::Unreadable(e.to_string()));
        }
        if reply.status == StatusCode::UNAUTHORIZED && bearer.is_some() && !renewed {
            // The token expired early or was revoked server-side: get a new one.
            reader.credentials.invalidate().await;
            renewed = true;
            continue;
        }
        return Err(api_error(reader, &reply, spreadsheet_id));
    }
}

#[derive(Deserialize)]
struct Spreadsheet {
    #[serde(default)]
    sheets: Vec<Sheet>,
}

#[derive(Deserialize)]
struct Sheet {
    properties: SheetProperties,
}

// proto3 JSON may leave out zero values, so a missing sheetId is gid 0.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SheetProperties {
    #[serde(default)]
    sheet_id: u32,
    #[serde(default)]
    title: String,
    sheet_type: Option<String>,
}

/// `spreadsheets.get` for the tabs that hold cells (charts have none).
pub(super) async fn tabs(reader: &Reader, spreadsheet_id: &str) -> Result<Vec<Tab>, Error> {
    let fields = [("fields", "sheets.properties(sheetId,title,index,sheetType)")];
    let spreadsheet: Spreadsheet = get_json(reader, &[spreadsheet_id], &fields, spreadsheet_id).await?;
    Ok(spreadsheet
        .sheets
        .into_iter()
        .filter(|s| s.properties.sheet_type.as_deref().is_none_or(|t| t == "GRID"))
        .map(|s| Tab { gid: s.properties.sheet_id, title: s.properties.title })
        .collect())
}

async fn title_of(reader: &Reader, sheet: &SheetRef) -> Result<String, Error> {
    let tabs = tabs(reader, &sheet.spreadsheet_id).await?;
    match tabs.iter().find(|t| t.gid == sheet.gid) {
        Some(tab) => Ok(tab.title.clone()),
        None => Err(Error::NoSuchTab { gid: sheet.gid, tabs }),
    }
}

#[derive(Deserialize)]
struct ValueRange {
    // Absent when the tab has no data at all.
    values: Option<Vec<Vec<serde_json::Value>>>,
}

/// The whole tab as an A1 range. Always quoted: a tab named like a cell
/// (`A1`) would otherwise be read as one; `'` inside is doubled.
fn whole_tab(title: &str) -> String {
    format!("'{}'", title.replace('\'', "''"))
}

async fn values(reader: &Reader, spreadsheet_id: &str, title: &str) -> Result<Vec<Vec<String>>, Error> {
    let range = whole_tab(title);
    let query = [("valueRenderOption", "FORMATTED_VALUE"), ("majorDimension", "ROWS")];
    let range: ValueRange = get_json(reader, &[spreadsheet_id, "values", &range], &query, spreadsheet_id).await?;
    let cell = |v: serde_json::Value| match v {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    Ok(range.values.unwrap_or_default().into_iter().map(|row| row.into_iter().map(cell).collect()).collect())
}

/// Resolves the gid to the tab's current title, then reads the tab.
pub(super) async fn read(reader: &Reader, sheet: &SheetRef) -> Result<Table, Error> {
    let mut title = title_of(reader, sheet).await?;
    let rows = match values(reader, &sheet.spreadsheet_id, &title).await {
        // Renamed between the two calls: resolve once more.
        Err(Error::Refused { status: 400, message, .. }) if message.contains("Unable to parse range") => {
            title = title_of(reader, sheet).await?;
            values(reader, &sheet.spreadsheet_id, &title).await?
        }
        other => other?,
    };
    table_from_rows(rows, &format!("{title:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_always_quoted() {
        assert_eq!(whole_tab("A1"), "'A1'", "a tab named like a cell stays a tab");
        assert_eq!(whole_tab("Jon's Data"), "'Jon''s Data'", "an apostrophe is doubled");
    }
}
