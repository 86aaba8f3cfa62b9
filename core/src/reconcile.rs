//! Reconciliation: settling `unknown` sends by asking 8x8, not the user.
//!
//! An entry is `unknown` when its request was written but no usable answer
//! came back (a timeout, a reset, a 5xx other than 503, a crash mid-send).
//! 8x8 has no idempotency key, so sending it again could text the customer
//! twice; instead Sendrow asks 8x8 what it received (docs/8x8.md):
//!
//! - with a umid, `GET …/messages/{umid}` (one request a second per
//!   subaccount);
//! - otherwise 8x8's log export job over a window around the send, matched
//!   on `clientMessageId` (unique in the world: the data folder's random id
//!   and the entry's).
//!
//! Found → `queued` with 8x8's umid (delivery polling follows). Not in an
//! export whose window closed at least [`Settings::margin`] after the request
//! → `pending`, so the next run sends it, once. Anything less certain stays
//! `unknown` and is asked again later; a person can still resend or mark it
//! sent. Each decision is kept on the entry (`checked_at`, `check_note`).
//!
//! Not here: when to reconcile (the daemon, the CLI, the window's button).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::gateway::{self, ExportRequest, Gateway};
use crate::store::Entry;
use crate::{Core, Error};

/// How reconciliation asks.
#[derive(Debug, Clone)]
pub struct Settings {
    /// "Not in the export" proves nothing about a request made less than
    /// this long before the export's window closed: 8x8 may have queued it
    /// late (a request stuck behind a proxy) or not listed it yet.
    pub margin: chrono::Duration,
    /// The first wait before polling an export job; doubled each time.
    pub first_poll: Duration,
    /// The longest single wait between two polls.
    pub max_poll: Duration,
    /// How long to wait for one export job before leaving it for later.
    pub give_up_after: Duration,
    /// The gap between two details requests on one subaccount (8x8: 1/s).
    pub per_subaccount_gap: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            margin: chrono::Duration::minutes(10),
            first_poll: Duration::from_secs(1),
            max_poll: Duration::from_secs(15),
            give_up_after: Duration::from_secs(120),
            per_subaccount_gap: Duration::from_secs(1),
        }
    }
}

/// What a reconciliation did; `sendrow reconcile --json` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `unknown` entries looked at.
    pub checked: usize,
    /// 8x8 had them: now `queued`.
    pub found: usize,
    /// 8x8 provably never got them: now `pending`, sent by the next run.
    pub not_found: usize,
    /// 8x8 could not say yet: still `unknown`, asked again later.
    pub still_unknown: usize,
}

impl Report {
    fn add(&mut self, other: &Report) {
        self.checked += other.checked;
        self.found += other.found;
        self.not_found += other.not_found;
        self.still_unknown += other.still_unknown;
    }
}

fn rfc3339(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

/// The CSV of an export: clientMessageId → umid, read by column name.
fn read_export(csv_text: &str, into: &mut HashMap<String, String>) -> Result<(), String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(csv_text.as_bytes());
    let headers = reader.headers().map_err(|e| format!("the export file has no header row: {e}"))?.clone();
    let column = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let (Some(umid), Some(reference)) = (column("umid"), column("clientmessageid")) else {
        return Err("the export file has no umid or clientmessageid column".into());
    };
    for record in reader.records() {
        let record = record.map_err(|e| format!("the export file cannot be read: {e}"))?;
        if let (Some(umid), Some(reference)) = (record.get(umid), record.get(reference)) {
            if !reference.is_empty() {
                into.insert(reference.to_owned(), umid.to_owned());
            }
        }
    }
    Ok(())
}

/// What an export job said, once it finished.
enum Export {
    /// 8x8 listed these messages (clientMessageId → umid) for the window
    /// ending at `to`.
    Listed { by_reference: HashMap<String, String>, to: DateTime<Utc> },
    /// No answer that settles anything; why, in words.
    Unsettled(String),
}

async fn export(gateway: &Gateway, from: DateTime<Utc>, to: DateTime<Utc>, settings: &Settings) -> Export {
    let stamp = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    // 8x8 reads whole seconds: the window ends at the next whole second, so
    // a message of this very second is inside it.
    let to = rfc3339(&stamp(to)).map(|t| t + chrono::Duration::seconds(1)).unwrap_or(to);
    let request = ExportRequest { from: Some(stamp(from)), to: Some(stamp(to)) };
    let job = match gateway.start_export(&request).await {
        Ok(started) => started.job_id,
        Err(e) => return Export::Unsettled(format!("8x8 did not start a log export: {e}")),
    };
    let started = tokio::time::Instant::now();
    let mut wait = settings.first_poll;
    loop {
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(settings.max_poll);
        let status = match gateway.export_job(&job).await {
            Ok(status) => status,
            Err(gateway::Error::RateLimited { retry_after, .. }) => {
                wait = wait.max(retry_after);
                continue;
            }
            Err(e) if e.is_transient() && started.elapsed() < settings.give_up_after => continue,
            Err(e) => return Export::Unsettled(format!("8x8's log export could not be read: {e}")),
        };
        match status.status.as_str() {
            _ if status.is_pending() => {
                if started.elapsed() >= settings.give_up_after {
                    return Export::Unsettled(
                        "8x8's log export did not finish in time; Sendrow asks again later".into(),
                    );
                }
            }
            "empty" => return Export::Listed { by_reference: HashMap::new(), to },
            "succeeded" => {
                let mut by_reference = HashMap::new();
                for link in status.data.unwrap_or_default() {
                    let text = match gateway.download_export(&link).await {
                        Ok(text) => text,
                        Err(e) => return Export::Unsettled(format!("8x8's log export could not be downloaded: {e}")),
                    };
                    if let Err(why) = read_export(&text, &mut by_reference) {
                        return Export::Unsettled(why);
                    }
                }
                return Export::Listed { by_reference, to };
            }
            other => return Export::Unsettled(format!("8x8's log export ended {other:?}; Sendrow asks again later")),
        }
    }
}

impl Core {
    /// Settles the `unknown` entries of the named connection (every
    /// connection when `None`) with 8x8, as of `now`.
    pub async fn reconcile(
        &self,
        name: Option<&str>,
        settings: &Settings,
        now: DateTime<Utc>,
    ) -> Result<Report, Error> {
        let connections = match name {
            Some(name) => vec![self.stored_connection(name)?],
            None => self.store().connections()?,
        };
        let ids: Vec<i64> = connections.iter().map(|c| c.id).collect();
        let account_of: HashMap<i64, String> = connections
            .iter()
            .filter_map(|c| c.spec.get("account").and_then(|a| a.as_str()).map(|a| (c.id, a.to_owned())))
            .collect();
        let mut by_account: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
        for entry in self.store().unknown_entries(Some(&ids))? {
            let account = account_of.get(&entry.connection_id).cloned().unwrap_or_default();
            by_account.entry(account).or_default().push(entry);
        }
        let mut report = Report::default();
        for (account, entries) in by_account {
            let gateway = self.account(&account).and_then(|a| self.gateway(&a));
            let part = match gateway {
                Ok(gateway) => self.reconcile_with(&gateway, entries, settings, now).await?,
                Err(e) => {
                    let note = format!("could not ask 8x8: the account {account:?} cannot be used ({e})");
                    for entry in &entries {
                        self.store().note_unknown_check(entry.id, &note, now)?;
                    }
                    Report { checked: entries.len(), still_unknown: entries.len(), ..Report::default() }
                }
            };
            report.add(&part);
        }
        Ok(report)
    }

    async fn reconcile_with(
        &self,
        gateway: &Gateway,
        entries: Vec<Entry>,
        settings: &Settings,
        now: DateTime<Utc>,
    ) -> Result<Report, Error> {
        let mut report = Report { checked: entries.len(), ..Report::default() };
        let when = now.format("%Y-%m-%d %H:%M UTC");
        let mut unsettled = Vec::new();
        let mut last_details: Option<tokio::time::Instant> = None;
        for entry in entries {
            let Some(umid) = entry.umid.clone() else {
                unsettled.push(entry);
                continue;
            };
            if let Some(previous) = last_details {
                tokio::time::sleep_until(previous + settings.per_subaccount_gap).await;
            }
            let answer = gateway.message_status(&umid).await;
            last_details = Some(tokio::time::Instant::now());
            match answer {
                Ok(details) => {
                    let note = format!("checked with 8x8 on {when}: 8x8 has it ({})", details.status.state);
                    if self.store().settle_unknown(entry.id, Some(&umid), &note, now)? {
                        report.found += 1;
                    }
                }
                // Not found by umid proves nothing yet: the export may list it.
                Err(_) => unsettled.push(entry),
            }
        }
        if unsettled.is_empty() {
            return Ok(report);
        }
        // The window opens before the first entry was written (its request
        // came later) and closes now.
        let opened = unsettled.iter().filter_map(|e| rfc3339(&e.created_at)).min().unwrap_or(now);
        let from = opened - chrono::Duration::minutes(5);
        match export(gateway, from, now, settings).await {
            Export::Listed { by_reference, to } => {
                for entry in unsettled {
                    // `updated_at` of an unknown entry is when its outcome was
                    // recorded: after its request was written.
                    let requested = rfc3339(&entry.updated_at).unwrap_or(now);
                    if let Some(umid) = by_reference.get(&entry.client_message_id) {
                        let note = format!("checked with 8x8 on {when}: 8x8 received it (umid {umid})");
                        if self.store().settle_unknown(entry.id, Some(umid), &note, now)? {
                            report.found += 1;
                        }
                    } else if requested + settings.margin <= to {
                        let note =
                            format!("checked with 8x8 on {when}: 8x8 never received it, so the next run sends it");
                        if self.store().settle_unknown(entry.id, None, &note, now)? {
                            report.not_found += 1;
                        }
                    } else {
                        let note = format!(
                            "checked with 8x8 on {when}: not listed yet, but too recent to be sure; Sendrow asks again later"
                        );
                        self.store().note_unknown_check(entry.id, &note, now)?;
                        report.still_unknown += 1;
                    }
                }
            }
            Export::Unsettled(why) => {
                let note = format!("checked with 8x8 on {when}: {why}");
                for entry in &unsettled {
                    self.store().note_unknown_check(entry.id, &note, now)?;
                }
                report.still_unknown += unsettled.len();
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_file_is_read_by_column_name() {
        let text = "umid,clientmessageid,body\nu-1,sr-ab-1,**MASKED**\nu-2,,**MASKED**\n\"u-3\",\"sr-ab-3\",\"a, b\"\n";
        let mut found = HashMap::new();
        read_export(text, &mut found).unwrap();
        assert_eq!(found.len(), 2, "messages without our reference are not ours: {found:?}");
        assert_eq!(found.get("sr-ab-3").map(String::as_str), Some("u-3"), "quoted cells");
        let err = read_export("umid,body\nu-1,x\n", &mut HashMap::new()).unwrap_err();
        assert!(err.contains("clientmessageid"), "a file without the key column says so: {err}");
    }
}
