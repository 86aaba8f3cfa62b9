//! The records the store keeps and every layer passes around: accounts and
//! their status, and what a run did. A leaf: it knows no service, so the
//! store can hold these without reaching up to the modules that make them
//! (`account`, `run` re-export them where callers have always found them).

use serde::Serialize;

use crate::code::Code;

/// The four regions 8x8 documents; an account lives in exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    /// Asia-Pacific, the default.
    Apac,
    /// North America.
    Us,
    /// Europe (also the Middle East and Africa).
    Eu,
    /// Indonesia.
    Id,
}

impl Region {
    /// Every region, in the order the UI lists them.
    pub const ALL: [Region; 4] = [Region::Apac, Region::Us, Region::Eu, Region::Id];

    /// The SMS API base URL of the region.
    pub fn base_url(self) -> &'static str {
        match self {
            Region::Apac => "https://sms.8x8.com",
            Region::Us => "https://sms.us.8x8.com",
            Region::Eu => "https://sms.8x8.uk",
            Region::Id => "https://sms.8x8.id",
        }
    }

    /// The name used on the command line and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Apac => "apac",
            Region::Us => "us",
            Region::Eu => "eu",
            Region::Id => "id",
        }
    }

    /// Parses `apac`, `us`, `eu` or `id` (any case).
    pub fn parse(text: &str) -> Option<Region> {
        Region::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// Whether an account can send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountStatus {
    /// 8x8 accepted the key for the subaccount.
    Active,
    /// 8x8 refused it (or it was never verified); `reason` says why.
    Inactive {
        /// 8x8's words, or ours when 8x8 could not be asked.
        reason: String,
        /// 8x8's code, when 8x8 gave one.
        code: Option<i64>,
    },
}

impl AccountStatus {
    /// `"active"` or `"inactive"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Inactive { .. } => "inactive",
        }
    }

    pub(crate) fn to_columns(&self) -> (&'static str, Option<&str>, Option<i64>) {
        match self {
            AccountStatus::Active => ("active", None, None),
            AccountStatus::Inactive { reason, code } => ("inactive", Some(reason), *code),
        }
    }

    pub(crate) fn from_columns(status: &str, reason: Option<String>, code: Option<i64>) -> AccountStatus {
        if status == "active" {
            AccountStatus::Active
        } else {
            AccountStatus::Inactive { reason: reason.unwrap_or_default(), code }
        }
    }
}

/// A saved account. It holds no secret, so it may be shown and serialized.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// Unique, user-chosen name.
    pub name: String,
    /// 8x8 subaccount ID.
    pub subaccount_id: String,
    /// The region, or `None` for a custom base URL.
    pub region: Option<Region>,
    /// The base URL requests go to.
    pub base_url: String,
    /// Names the keychain entry with the API key.
    pub secret_ref: String,
    /// Active or inactive, with 8x8's reason.
    pub status: AccountStatus,
    /// When 8x8 last answered a verification (RFC 3339).
    pub verified_at: Option<String>,
    /// When it was added (RFC 3339).
    pub created_at: String,
    /// Whether this is the built-in sandbox, which the app points at its
    /// in-process simulator (a flag, never the name: see `sandbox`).
    pub sandbox: bool,
}

/// What a run did; `run --json` prints it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunSummary {
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it finished (RFC 3339).
    pub finished_at: String,
    /// New rows the read found.
    pub new_rows: usize,
    /// Messages 8x8 queued.
    pub sent: usize,
    /// Messages 8x8 refused.
    pub rejected: usize,
    /// Transient failures, retried next run.
    pub failed: usize,
    /// Rows not sent on purpose (bad phone, opted out, too long, …),
    /// counting the `incomplete` ones, skipped this time only.
    pub skipped: usize,
    /// Messages that may or may not have gone out.
    pub unknown: usize,
    /// Rows the flood guard holds for a person.
    pub held: usize,
    /// Rows waiting for quiet hours to end.
    pub waiting: usize,
    /// Messages found but not sent yet, left for the next run (8x8 failed
    /// part-way, or the account was refused).
    pub pending: usize,
    /// Rows without a phone number yet: not taken, looked at again by the
    /// next run (a row still being typed). Not in `new_rows`.
    pub incomplete: usize,
    /// The `error` is likely gone by the next run by itself (a file caught
    /// half-saved, Google busy): it neither counts towards pausing the
    /// connection nor raises a notification.
    pub transient: bool,
    /// Something the user should look at (e.g. the sheet came back empty).
    pub warning: Option<String>,
    /// Why the run could not do its work.
    pub error: Option<String>,
    /// `error`'s code, for the window's words (`error.<code>`).
    pub error_code: Option<Code>,
    /// New rows that already had their SMS (a test send reached them).
    pub already_sent: usize,
    /// Rows seen that do not meet the connection's conditions now (not
    /// taken: looked at again by the next read).
    pub not_matching: usize,
    /// Reminders set for a later time by this run: handed to 8x8 with
    /// `scheduled`, or kept until they are within 8x8's 7 days.
    pub scheduled: usize,
    /// Reminders this run cancelled (the row's date moved, the row was
    /// deleted or stopped meeting the conditions).
    pub cancelled: usize,
    /// SMS segments of the messages 8x8 queued in this run.
    pub segments: usize,
    /// What they cost, when the connection has a price per segment.
    pub cost: Option<f64>,
    /// Rows left for the next read, each with its line and why: not typed to
    /// the end yet, or a phone number to correct. Once fixed they go, once.
    pub rows_to_fix: Vec<RowToFix>,
    /// Rows without an ID column recognised as edits of rows already seen:
    /// never texted again.
    pub edited: usize,
}

/// A row a run left for the next read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RowToFix {
    /// The row's key.
    pub row: String,
    /// Its line in the source.
    pub line: usize,
    /// `missing_phone`, `incomplete` or `invalid_phone`.
    pub status: String,
    /// What is wrong and what to do.
    pub reason: String,
}

impl RowToFix {
    /// "line 7: the number is too short", as the run and the card say it.
    pub fn describe(&self) -> String {
        format!("line {}: {}", self.line, self.reason)
    }
}
