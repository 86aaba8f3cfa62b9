//! `sendrow preview`, `test-send`, `run` and `reconcile`: a connection's
//! messages composed, sent, and settled with 8x8.

use std::process::ExitCode;

use super::output::{amount, print_json};
use super::shutdown_signal;
use crate::run::RunOptions;
use crate::store::EntryStatus;
use crate::{Core, Error};

/// ` because of "ї" "є"` for the preview: the characters that forced UCS-2
/// (the first eight), invisible ones by code point; empty for GSM-7.
fn ucs2_because(culprits: &[char]) -> String {
    if culprits.is_empty() {
        return String::new();
    }
    let shown = |&c: &char| {
        if (c.is_whitespace() && c != ' ') || format!("{c:?}").contains("\\u") {
            format!("U+{:04X}", u32::from(c))
        } else {
            format!("\"{c}\"")
        }
    };
    let mut text: String = culprits.iter().take(8).map(|c| format!(" {}", shown(c))).collect();
    if culprits.len() > 8 {
        text.push_str(" …");
    }
    format!(" because of{text}")
}

/// `sendrow preview`: what the next run would send.
pub(super) async fn preview(core: &Core, name: String, json: bool, limit: Option<usize>) -> Result<ExitCode, Error> {
    let (items, warning) = core.preview(&name, limit).await?;
    if let Some(w) = warning {
        tell!("warning: {w}");
    }
    if json {
        print_json(&items);
    } else if items.is_empty() {
        say!("Nothing new to send for {name:?}.");
    } else {
        for i in &items {
            let to = i.composed.phone.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "-".into());
            let m = &i.composed.measure;
            let cost = i.cost.map(|c| format!(", cost {}", amount(c))).unwrap_or_default();
            say!(
                "[{}] {} → {} ({}{}, {} part(s){cost}): {}",
                i.composed.status.as_str(),
                i.row,
                to,
                m.encoding.as_str(),
                ucs2_because(&m.ucs2_culprits),
                m.segments,
                i.composed.text
            );
            if let Some(reason) = &i.composed.reason {
                say!("    {reason}");
            }
        }
        let ready: Vec<_> = items.iter().filter(|i| i.composed.status == crate::compose::Status::Ready).collect();
        // Ready items have a cost when the connection has a price.
        if ready.iter().any(|i| i.cost.is_some()) {
            let price: f64 = ready.iter().filter_map(|i| i.cost).sum();
            let parts: usize = ready.iter().map(|i| i.composed.measure.segments).sum();
            say!("{} message(s) ready, {parts} part(s), cost {}", ready.len(), amount(price));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `sendrow test-send`: one row's SMS now.
pub(super) async fn test_send(
    core: &Core,
    name: String,
    row: Option<usize>,
    to: Option<String>,
    json: bool,
) -> Result<ExitCode, Error> {
    let sent = core.test_send(&name, row, to.as_deref()).await?;
    if json {
        print_json(&sent);
    } else if sent.status == EntryStatus::Queued {
        say!(
            "Row {} (line {}) sent to {}: 8x8 queued it as {}.",
            sent.row,
            sent.line,
            sent.phone,
            sent.umid.clone().unwrap_or_default()
        );
        if sent.counts_as_row_message {
            say!("It went to the row's own phone, so the first run will not text this customer again.");
        }
    }
    if sent.status != EntryStatus::Queued {
        tell!("error: the test SMS was not sent ({}): {}", sent.status.as_str(), sent.reason.unwrap_or_default());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// `sendrow run`: a run now; exit 3 when the flood guard holds rows.
pub(super) async fn run(core: &Core, name: String, json: bool, yes: bool) -> Result<ExitCode, Error> {
    let mut options = RunOptions { release_held: yes, ..RunOptions::default() };
    // Smaller batches make crash tests meaningful; users never need it.
    if let Some(size) = std::env::var("SENDROW_BATCH_SIZE").ok().and_then(|v| v.parse().ok()) {
        options.retry.batch_size = size;
    }
    let asked = chrono::Utc::now().to_rfc3339();
    // SIGTERM or Ctrl-C drops the run: messages whose request was
    // not written go back to pending (send::Unwritten).
    let outcome = tokio::select! {
        outcome = core.run(&name, &options) => outcome,
        _ = shutdown_signal() => {
            tell!(
                "stopped: messages not sent yet go with the next run; any whose request was already out \
                 are checked with 8x8 (`sendrow reconcile {name}`)"
            );
            return Ok(ExitCode::from(130));
        }
    };
    let summary = match outcome {
        Ok(summary) => summary,
        Err(e) => {
            // A run that stopped part-way still says what it did.
            let recorded = core.connection_view(&name).ok().and_then(|c| c.last_run);
            if let Some(run) = recorded.filter(|r| json && r.started_at >= asked) {
                print_json(&run);
            }
            return Err(e);
        }
    };
    if json {
        print_json(&summary);
    } else {
        say!(
                "{name}: {} new row(s) ({} already had their SMS); sent {}, rejected {}, failed {}, skipped {}, unknown {}, held {}, waiting {}, left for the next run {}.",
                summary.new_rows,
                summary.already_sent,
                summary.sent,
                summary.rejected,
                summary.failed,
                summary.skipped,
                summary.unknown,
                summary.held,
                summary.waiting,
                summary.pending
            );
        if !summary.rows_to_fix.is_empty() {
            say!("Not taken yet, looked at again by the next run:");
            for row in &summary.rows_to_fix {
                say!("    {}", row.describe());
            }
        }
        if summary.not_matching > 0 {
            say!("{} row(s) do not meet the conditions now; each run looks at them again.", summary.not_matching);
        }
        if summary.scheduled + summary.cancelled > 0 {
            say!("reminders: {} scheduled, {} cancelled.", summary.scheduled, summary.cancelled);
        }
        if let Some(cost) = summary.cost {
            say!("{} segment(s) queued, costing {}.", summary.segments, amount(cost));
        }
    }
    if let Some(w) = &summary.warning {
        tell!("warning: {w}");
    }
    if summary.held > 0 {
        tell!(
            "held: {} new rows are more than this connection's flood limit; nothing of them was sent. \
                 Run `sendrow run {name} --yes` to send them, or `sendrow skip-held {name}` to skip them.",
            summary.held
        );
        return Ok(ExitCode::from(3));
    }
    if summary.unknown > 0 {
        tell!(
            "attention: {} message(s) may or may not have reached 8x8; Sendrow asks 8x8 about them by itself \
                 (now: `sendrow reconcile {name}`); see `sendrow history {name}`.",
            summary.unknown
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `sendrow reconcile`: ask 8x8 about `unknown` messages now.
pub(super) async fn reconcile(core: &Core, name: Option<String>, json: bool) -> Result<ExitCode, Error> {
    let mut settings = crate::reconcile::Settings::default();
    // For tests only (README, "test knobs"): against the simulator an
    // export is exact at once, so they need not wait ten minutes.
    if let Some(secs) = std::env::var("SENDROW_RECONCILE_MARGIN_SECS").ok().and_then(|v| v.parse().ok()) {
        settings.margin = chrono::Duration::seconds(secs);
    }
    let report = core.reconcile(name.as_deref(), &settings, chrono::Utc::now()).await?;
    if json {
        print_json(&report);
    } else if report.checked == 0 {
        say!("No message is waiting for an answer from 8x8.");
    } else {
        say!(
                "Checked {} message(s) with 8x8: {} had arrived (queued), {} never arrived (the next run sends them), {} still unknown (asked again later).",
                report.checked,
                report.found,
                report.not_found,
                report.still_unknown
            );
    }
    Ok(ExitCode::SUCCESS)
}
