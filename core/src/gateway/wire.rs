//! 8x8's JSON bodies, field for field as 8x8 documents them (`docs/8x8.md`).
//! Only what Sendrow sends or reads is modelled; unknown response fields are
//! ignored so that 8x8 adding one breaks nothing.

use serde::{Deserialize, Serialize};

/// One SMS (`SmsRequest`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsRequest {
    /// E.164 number, `+` optional.
    pub destination: String,
    /// The body.
    pub text: String,
    /// Sender ID; the account default when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Our reference, echoed back and used to match batch items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
    /// `AUTO`, `GSM7` or `UCS2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// When 8x8 is to send it (ISO 8601 with offset, at most 7 days ahead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled: Option<String>,
}

/// A batch (`BatchSmsRequest`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchRequest {
    /// 1 to 10,000 messages.
    pub messages: Vec<SmsRequest>,
    /// Our reference for the batch, at most 20 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_batch_id: Option<String>,
    /// Ask for a per-message result array; Sendrow always wants it.
    pub include_messages_in_response: bool,
}

/// `status` of a send result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendStatus {
    /// `QUEUED` or `REJECTED`.
    pub code: String,
    /// 8x8's words.
    pub description: String,
}

impl SendStatus {
    /// Whether 8x8 queued the message.
    pub fn is_queued(&self) -> bool {
        self.code.eq_ignore_ascii_case("QUEUED")
    }

    /// Whether a refusal is 8x8's own passing trouble rather than something
    /// wrong with the message: of the per-item descriptions 8x8 documents,
    /// only "Internal server error". Sending it again later can succeed.
    pub fn is_transient_refusal(&self) -> bool {
        !self.is_queued() && self.description.trim().eq_ignore_ascii_case("Internal server error")
    }
}

/// The answer to one SMS (`SmsResponse`), alone or inside a batch answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsResponse {
    /// 8x8's message ID.
    pub umid: String,
    /// Our reference, or null.
    pub client_message_id: Option<String>,
    /// The number as 8x8 understood it, without `+`.
    pub destination: String,
    /// `GSM7` or `UCS2`, as 8x8 picked.
    pub encoding: String,
    /// Queued or rejected.
    pub status: SendStatus,
}

/// The answer to a batch (`BatchSmsResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    /// 8x8's batch ID.
    pub batch_id: String,
    /// Our batch reference, or null.
    pub client_batch_id: Option<String>,
    /// How many were queued.
    pub accepted_count: u64,
    /// How many were rejected.
    pub rejected_count: u64,
    /// Per-message results, when asked for.
    pub messages: Option<Vec<SmsResponse>>,
}

/// The error envelope of every 4xx/5xx answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// 8x8's numeric code.
    pub code: i64,
    /// 8x8's words.
    pub message: String,
    /// Support reference.
    #[serde(default)]
    pub error_id: Option<String>,
    /// When it happened.
    #[serde(default)]
    pub timestamp: Option<String>,
}

/// `status` of a message's details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryStatus {
    /// queued, sent, delivered, undelivered, failed, …
    pub state: String,
    /// e.g. `delivered_to_recipient`.
    #[serde(default)]
    pub detail: Option<String>,
    /// The carrier's error code, when undelivered.
    #[serde(default)]
    pub error_code: Option<i64>,
    /// The carrier's error text.
    #[serde(default)]
    pub error_message: Option<String>,
    /// When the state was reached.
    #[serde(default)]
    pub timestamp: Option<String>,
}

/// `GET …/messages/{umid}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageDetails {
    /// 8x8's message ID.
    pub umid: String,
    /// The delivery state.
    pub status: DeliveryStatus,
    /// Parts billed.
    #[serde(default)]
    pub sms_count: Option<u32>,
    /// The encoding used.
    #[serde(default)]
    pub encoding: Option<String>,
    /// Our reference.
    #[serde(default)]
    pub client_message_id: Option<String>,
}

/// `POST …/messages/exports`: which messages to list (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportRequest {
    /// Start of the window: a UTC date, `yyyy-MM-ddTHH:mm:ssZ`, or a local
    /// date-time with offset (8x8: seven days before `to` when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// End of the window (8x8: today, UTC, when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// The 202 answer to starting an export job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportStarted {
    /// The job to poll.
    pub job_id: String,
}

/// `GET …/messages/exports/{jobId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportJob {
    /// `queued`, `running`, `succeeded`, `failed`, `cancelled`, `empty` or `error`.
    pub status: String,
    /// Download links of the CSV files, once `succeeded`.
    #[serde(default)]
    pub data: Option<Vec<String>>,
    /// Until when the links work.
    #[serde(default)]
    pub expires: Option<String>,
}

impl ExportJob {
    /// Whether 8x8 is still working on it.
    pub fn is_pending(&self) -> bool {
        matches!(self.status.as_str(), "queued" | "running")
    }
}

/// The answer to `DELETE …/messages/{umid}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelResponse {
    /// How many messages were cancelled (1).
    pub cancelled_count: u64,
}
