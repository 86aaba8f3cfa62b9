//! 8x8's log export job (docs/8x8.md, "the log export job"), as the
//! simulator serves it: how reconciliation learns what 8x8 really received.
//!
//! `POST …/messages/exports` answers 202 `{"jobId"}`; `GET …/exports/{jobId}`
//! says `running` for the first [`SimConfig::export_polls_running`] polls,
//! then `succeeded` with a download link (or `empty` when nothing matched);
//! an unknown job is 404 code 4018. The link is pre-signed (it needs no key)
//! and serves the CSV with 8x8's columns, phone numbers and bodies masked.
//! INFERRED: how 8x8 words a bad `from`/`to`; 400 code 1000 as for other
//! invalid parameters.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{json, Value};

use super::{error, lock, parse_body, Shared, SimMessage};

/// The columns of 8x8's export file, in its order.
pub const CSV_COLUMNS: &str = "umid,subaccountid,direction,country,operator,mcc,mnc,status_value,status_details,\
status_errorcode,status_errormessage,status_timestamp,msisdn,source,encoding,createdat,smscount,price_currency,\
price_persms,price_total,clientmessageid,clientbatchid,batchid,body";

/// An export job the simulator keeps.
#[derive(Debug, Clone)]
pub(super) struct Job {
    subaccount: String,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    polls: u32,
    /// The secret part of the download link.
    token: String,
}

/// `from`/`to` as 8x8 takes them: a UTC date, a UTC date-time, or a local
/// date-time with an offset. A date as `to` means the end of that day.
fn parse_bound(text: &str, end_of_day: bool) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S") {
        return Some(t.and_utc());
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let day = if end_of_day { day.succ_opt()? } else { day };
    Some(day.and_hms_opt(0, 0, 0)?.and_utc())
}

pub(super) async fn start(
    State(s): State<Arc<Shared>>,
    Path(sub): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = s.admit(&headers, &sub).await {
        return r;
    }
    let request = if body.is_empty() {
        json!({})
    } else {
        match parse_body(&body) {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
    let bound = |name: &str, end_of_day: bool| -> Result<Option<DateTime<Utc>>, Response> {
        match request.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => parse_bound(text, end_of_day).map(Some).ok_or_else(|| {
                error(StatusCode::BAD_REQUEST, 1000, &format!("Invalid parameter: {name} is not a date or date-time"))
            }),
            Some(_) => {
                Err(error(StatusCode::BAD_REQUEST, 1000, &format!("Invalid parameter: {name} must be a string")))
            }
        }
    };
    let (from, to) = match (bound("from", false), bound("to", true)) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let to = to.unwrap_or_else(|| parse_bound(&Utc::now().format("%Y-%m-%d").to_string(), true).unwrap_or_default());
    let from = from.unwrap_or(to - chrono::Duration::days(7));
    if from >= to {
        return error(StatusCode::BAD_REQUEST, 1000, "Invalid parameter: from must be before to");
    }
    let id = uuid::Uuid::new_v4().to_string();
    let job = Job { subaccount: sub, from, to, polls: 0, token: uuid::Uuid::new_v4().simple().to_string() };
    lock(&s.jobs).insert(id.clone(), job);
    (StatusCode::ACCEPTED, Json(json!({ "jobId": id }))).into_response()
}

fn matching(s: &Shared, job: &Job) -> Vec<SimMessage> {
    lock(&s.messages)
        .iter()
        .filter(|m| m.subaccount_id == job.subaccount && m.received_at >= job.from && m.received_at < job.to)
        .cloned()
        .collect()
}

pub(super) async fn poll(
    State(s): State<Arc<Shared>>,
    Path((sub, job_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = s.admit(&headers, &sub).await {
        return r;
    }
    let job = {
        let mut jobs = lock(&s.jobs);
        let Some(job) = jobs.get_mut(&job_id).filter(|j| j.subaccount == sub) else {
            return error(StatusCode::NOT_FOUND, 4018, "Invalid jobId");
        };
        job.polls += 1;
        job.clone()
    };
    if job.polls <= s.config.export_polls_running {
        return Json(json!({ "status": "running", "data": null, "expires": null })).into_response();
    }
    if matching(&s, &job).is_empty() {
        return Json(json!({ "status": "empty", "data": [], "expires": null })).into_response();
    }
    // The simulator serves only 127.0.0.1; "localhost" is another host by
    // name, as a storage service's link would be.
    let host = if s.config.export_links_elsewhere { "localhost" } else { "127.0.0.1" };
    let port = s.port.get().copied().unwrap_or_default();
    let link = format!("http://{host}:{port}/_export/{job_id}/{}.csv", job.token);
    let expires = Utc::now() + chrono::Duration::days(30);
    Json(json!({ "status": "succeeded", "data": [link], "expires": expires })).into_response()
}

/// The pre-signed download link: the token in the path is the permission.
pub(super) async fn download(
    State(s): State<Arc<Shared>>,
    Path((job_id, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let job = lock(&s.jobs).get(&job_id).cloned();
    let Some(job) = job.filter(|j| file.strip_suffix(".csv") == Some(j.token.as_str())) else {
        return (StatusCode::NOT_FOUND, "no such export file").into_response();
    };
    lock(&s.downloads).push(headers.contains_key(header::AUTHORIZATION));
    let mut out = String::from(CSV_COLUMNS);
    out.push('\n');
    for m in matching(&s, &job) {
        let cells = [
            m.umid.clone(),
            m.subaccount_id.clone(),
            "1".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            "queued".into(),
            String::new(),
            String::new(),
            String::new(),
            m.received_at.to_rfc3339(),
            // Masked by default, as 8x8's are.
            format!("{}*****", m.destination.chars().take(4).collect::<String>()),
            m.source.clone().unwrap_or_default(),
            m.encoding.as_str().into(),
            m.received_at.to_rfc3339(),
            m.sms_count.to_string(),
            String::new(),
            String::new(),
            String::new(),
            m.client_message_id.clone().unwrap_or_default(),
            String::new(),
            m.batch_id.clone().unwrap_or_default(),
            "**MASKED**".into(),
        ];
        let quoted: Vec<String> = cells
            .iter()
            .map(|c| if c.contains([',', '"', '\n']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.clone() })
            .collect();
        out.push_str(&quoted.join(","));
        out.push('\n');
    }
    ([(header::CONTENT_TYPE, "text/csv")], out).into_response()
}
