//! `sendrow history`, `resend`, `mark-sent` and `skip-held`: a connection's
//! messages, and a person's decisions on them.

use std::io::Write;
use std::process::ExitCode;

use super::output::print_json;
use crate::run::RunOptions;
use crate::store::{Entry, Resolution};
use crate::{Core, Error};

/// `sendrow history`: every message, as lines, JSON or CSV.
pub(super) fn history(core: &Core, name: String, json: bool, csv: bool) -> Result<ExitCode, Error> {
    let entries = core.history(&name)?;
    if json {
        print_json(&entries.iter().map(HistoryLine::from).collect::<Vec<_>>());
    } else if csv {
        let _ = write!(std::io::stdout().lock(), "{}", core.history_csv(&name)?);
    } else {
        for e in &entries {
            say!(
                "{}{}\t{}\t{}\t{}\t{}",
                e.row_key,
                if e.is_test { " (test)" } else { "" },
                e.phone.clone().unwrap_or_default(),
                e.status.as_str(),
                e.umid.clone().or(e.reason.clone()).unwrap_or_default(),
                e.text
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `sendrow resend`: one row's message again by the next run, or every
/// failed message now (`--failed`).
pub(super) async fn resend(core: &Core, name: String, row: Option<String>, json: bool) -> Result<ExitCode, Error> {
    match row {
        Some(row) => {
            core.resolve(&name, &row, Resolution::Resend)?;
            say!("Row {row:?} will be sent again by the next run of {name:?}.");
        }
        None => {
            let summary = core.resend_failed(&name, &RunOptions::default()).await?;
            if json {
                print_json(&summary);
            } else {
                say!(
                    "{name}: failed messages sent again: {} sent, {} rejected, {} still failing, {} unknown.",
                    summary.sent,
                    summary.rejected,
                    summary.failed,
                    summary.unknown
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `sendrow mark-sent`: a person says the message did arrive.
pub(super) fn mark_sent(core: &Core, name: String, row: String) -> Result<ExitCode, Error> {
    core.resolve(&name, &row, Resolution::MarkSent)?;
    say!("Row {row:?} is marked as sent; it will not be sent again.");
    Ok(ExitCode::SUCCESS)
}

/// `sendrow skip-held`: the rows the flood guard holds are never sent.
pub(super) fn skip_held(core: &Core, name: String, json: bool) -> Result<ExitCode, Error> {
    let skipped = core.skip_held(&name)?;
    if json {
        print_json(&serde_json::json!({"skipped": skipped}));
    } else if skipped == 0 {
        say!("{name:?} has no rows held by the flood guard.");
    } else {
        say!("{skipped} held row(s) of {name:?} skipped; they will not be sent.");
    }
    Ok(ExitCode::SUCCESS)
}

/// One ledger entry as `history --json` prints it.
#[derive(serde::Serialize)]
struct HistoryLine<'a> {
    row: &'a str,
    line: Option<i64>,
    phone: Option<&'a str>,
    text: &'a str,
    status: &'static str,
    test: bool,
    umid: Option<&'a str>,
    code: Option<i64>,
    reason: Option<&'a str>,
    attempts: i64,
    delivery: Option<&'a str>,
    delivery_error: Option<&'a str>,
    client_message_id: &'a str,
    created_at: &'a str,
    updated_at: &'a str,
    checked_at: Option<&'a str>,
    check_note: Option<&'a str>,
    /// A reminder's send time (RFC 3339, the machine's offset).
    send_at: Option<String>,
}

impl<'a> From<&'a Entry> for HistoryLine<'a> {
    fn from(e: &'a Entry) -> Self {
        HistoryLine {
            row: &e.row_key,
            line: e.row_line,
            phone: e.phone.as_deref(),
            text: &e.text,
            status: e.status.as_str(),
            test: e.is_test,
            umid: e.umid.as_deref(),
            code: e.error_code,
            reason: e.reason.as_deref(),
            attempts: e.attempts,
            delivery: e.delivery_state.as_deref(),
            delivery_error: e.delivery_error.as_deref(),
            client_message_id: &e.client_message_id,
            created_at: &e.created_at,
            updated_at: &e.updated_at,
            checked_at: e.checked_at.as_deref(),
            check_note: e.check_note.as_deref(),
            send_at: e
                .send_at
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Local).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)),
        }
    }
}
