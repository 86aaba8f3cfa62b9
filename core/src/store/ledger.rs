//! The `messages` table: the send ledger (`docs/message-states.md`).
//!
//! An entry exists before its HTTP request is written. Claiming entries for
//! sending is one conditional `UPDATE` in an immediate transaction, so two
//! processes on one data folder can never claim the same entry. Only
//! `sending` entries take a send outcome; what is left in `sending` by a crash
//! becomes `unknown` at start-up and is never resent without a person.

use chrono::{DateTime, Utc};
use rusqlite::{params, params_from_iter, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use super::{Error, Store};
use crate::code::{Code, Coded};

/// Where a ledger entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// Ready to send, not yet claimed.
    Pending,
    /// Claimed; its request may be in flight.
    Sending,
    /// 8x8 queued it (there is a umid).
    Queued,
    /// 8x8 refused it; resending the same text will not help.
    Rejected,
    /// A transient failure; the next run tries again.
    Failed,
    /// It may or may not have gone out; a person decides.
    Unknown,
    /// Not sent on purpose (invalid phone, opted out, …); `reason` says why.
    Skipped,
    /// Waiting for a person (the flood guard).
    Held,
    /// Waiting for the end of quiet hours (`not_before`).
    Waiting,
    /// A person marked it as sent.
    Sent,
    /// Handed to 8x8 to be sent at `send_at` (a reminder).
    Scheduled,
    /// A reminder called off before its time (`reason` says why).
    Cancelled,
}

impl EntryStatus {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Pending => "pending",
            EntryStatus::Sending => "sending",
            EntryStatus::Queued => "queued",
            EntryStatus::Rejected => "rejected",
            EntryStatus::Failed => "failed",
            EntryStatus::Unknown => "unknown",
            EntryStatus::Skipped => "skipped",
            EntryStatus::Held => "held",
            EntryStatus::Waiting => "waiting",
            EntryStatus::Sent => "sent",
            EntryStatus::Scheduled => "scheduled",
            EntryStatus::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> EntryStatus {
        match s {
            "pending" => EntryStatus::Pending,
            "sending" => EntryStatus::Sending,
            "queued" => EntryStatus::Queued,
            "rejected" => EntryStatus::Rejected,
            "failed" => EntryStatus::Failed,
            "skipped" => EntryStatus::Skipped,
            "held" => EntryStatus::Held,
            "waiting" => EntryStatus::Waiting,
            "sent" => EntryStatus::Sent,
            "scheduled" => EntryStatus::Scheduled,
            "cancelled" => EntryStatus::Cancelled,
            // The CHECK constraint allows nothing else; be safe rather than panic.
            _ => EntryStatus::Unknown,
        }
    }
}

/// An entry about to be written.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// The row's key in its source.
    pub row_key: String,
    /// The row's line in the source, for people.
    pub row_line: Option<i64>,
    /// E.164, or `None` when the row had no usable number.
    pub phone: Option<String>,
    /// The rendered text.
    pub text: String,
    /// `Pending`, `Skipped`, `Held` or `Waiting`.
    pub status: EntryStatus,
    /// Why it is skipped, held or waiting: English, or a [`Coded`] as
    /// stored (`Coded::to_stored`), read back as its English.
    pub reason: Option<String>,
    /// A test send: does not count as the row's message unless resolved so.
    pub is_test: bool,
    /// For `Waiting`: not before this moment.
    pub not_before: Option<DateTime<Utc>>,
    /// Where `{{$time}}` and friends are in `text` (`TimeSlots::encode`), so
    /// a message sent later shows the send time.
    pub time_slots: Option<String>,
}

/// A ledger entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Row id.
    pub id: i64,
    /// The connection it belongs to.
    pub connection_id: i64,
    /// The row's key in its source.
    pub row_key: String,
    /// The row's line in the source.
    pub row_line: Option<i64>,
    /// E.164 destination.
    pub phone: Option<String>,
    /// The text.
    pub text: String,
    /// Our reference on 8x8's side: `sr-{install}-{entry}` (older entries:
    /// `sr-{connection}-{entry}`), at most 50 characters, unique in the world.
    pub client_message_id: String,
    /// Where it stands.
    pub status: EntryStatus,
    /// Whether it was a test send.
    pub is_test: bool,
    /// Why it is skipped/held/failed/unknown, or 8x8's description when
    /// rejected: the English sentence the CLI shows.
    pub reason: Option<String>,
    /// The same reason as a code and parameters the window words in its
    /// language; `None` for 8x8's own words and text of an older Sendrow.
    pub reason_coded: Option<Coded>,
    /// 8x8's message ID.
    pub umid: Option<String>,
    /// 8x8's code when it refused.
    pub error_code: Option<i64>,
    /// Requests made for it (retries within a run included).
    pub attempts: i64,
    /// Delivery state from 8x8 (queued, sent, delivered, undelivered, …).
    pub delivery_state: Option<String>,
    /// The carrier's error when undelivered.
    pub delivery_error: Option<String>,
    /// When a `Waiting` entry may go.
    pub not_before: Option<String>,
    /// When written (RFC 3339).
    pub created_at: String,
    /// When last changed (RFC 3339).
    pub updated_at: String,
    /// See [`NewEntry::time_slots`].
    #[serde(skip)]
    pub time_slots: Option<String>,
    /// When Sendrow last asked 8x8 about it, having lost 8x8's answer.
    pub checked_at: Option<String>,
    /// What that check decided, in words.
    pub check_note: Option<String>,
    /// When a reminder is to be sent (RFC 3339), for entries with a send time.
    pub send_at: Option<String>,
}

/// The result of a send attempt for one claimed entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// 8x8 queued it.
    Queued {
        /// 8x8's message ID.
        umid: String,
    },
    /// 8x8 refused it.
    Rejected {
        /// 8x8's code, when it gave one.
        code: Option<i64>,
        /// 8x8's words.
        description: String,
    },
    /// Transient failure; the next run retries it.
    Failed {
        /// What went wrong.
        reason: String,
    },
    /// May have gone out; never retried automatically.
    Unknown {
        /// What went wrong.
        reason: String,
    },
    /// Provably never left the machine (e.g. the account was refused before
    /// anything was accepted): back to `pending`, the attempt uncounted.
    Unsent,
}

/// A person's decision about an `unknown` or `failed` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Send it again.
    Resend,
    /// It did arrive; never send it.
    MarkSent,
}

/// Delivery states after which 8x8 reports nothing new.
pub const FINAL_DELIVERY_STATES: &str = "'delivered', 'undelivered', 'failed', 'rejected', 'read', 'error'";

/// "quiet hours", as kept in `reason`.
pub fn reason_quiet_hours() -> String {
    Coded::new(Code::QuietHours, "quiet hours").to_stored()
}

fn reason_opted_out_while_waiting() -> String {
    Coded::new(
        Code::OptedOutWhileWaiting,
        "the number was put on the opt-out list while this message waited; it was not sent",
    )
    .to_stored()
}

/// Why a row that will not go is skipped, as kept in `reason`: its compose
/// status as a code (the parts for a text too long), the English as composed.
pub fn reason_skipped(composed: &crate::compose::Composed) -> String {
    use crate::compose::Status;
    let code = match composed.status {
        Status::InvalidPhone => Code::RowInvalidPhone,
        Status::MissingPhone => Code::RowMissingPhone,
        Status::OptedOut => Code::RowOptedOut,
        Status::TooLong => Code::RowTooLong,
        Status::EmptyText => Code::RowEmptyText,
        Status::Incomplete => Code::RowIncomplete,
        Status::Ready => Code::Text,
    };
    let text = composed.reason.clone().unwrap_or_else(|| composed.status.as_str().to_owned());
    let mut coded = Coded::new(code, text);
    if code == Code::RowTooLong {
        coded = coded.param("parts", composed.measure.segments).param("max", crate::compose::MAX_PARTS);
    }
    coded.to_stored()
}

pub(super) const COLUMNS: &str =
    "id, connection_id, row_key, row_line, phone, text, client_message_id, status, is_test, reason, \
     umid, error_code, attempts, delivery_state, delivery_error, not_before, created_at, updated_at, time_slots, \
     checked_at, check_note, send_at";

pub(super) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    let status: String = r.get(7)?;
    let reason = r.get::<_, Option<String>>(9)?.map(|stored| Coded::from_stored(&stored));
    Ok(Entry {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        row_key: r.get(2)?,
        row_line: r.get(3)?,
        phone: r.get(4)?,
        text: r.get(5)?,
        client_message_id: r.get(6)?,
        status: EntryStatus::parse(&status),
        is_test: r.get(8)?,
        reason: reason.as_ref().map(|c| c.text.clone()),
        reason_coded: reason.filter(|c| c.code != Code::Text),
        umid: r.get(10)?,
        error_code: r.get(11)?,
        attempts: r.get(12)?,
        delivery_state: r.get(13)?,
        delivery_error: r.get(14)?,
        not_before: r.get(15)?,
        created_at: r.get(16)?,
        updated_at: r.get(17)?,
        time_slots: r.get(18)?,
        checked_at: r.get(19)?,
        check_note: r.get(20)?,
        send_at: r.get(21)?,
    })
}

/// Writes entries inside the caller's transaction, so the source state that
/// produced them and the entries commit together. A row that already has a
/// real entry (a test send that reached the row's own phone, say) gets no
/// second one: it is left out of the returned ids.
pub(crate) fn insert_entries_tx(
    tx: &rusqlite::Connection,
    connection_id: i64,
    entries: &[NewEntry],
    now: DateTime<Utc>,
) -> Result<Vec<(i64, EntryStatus)>, Error> {
    let now = now.to_rfc3339();
    // Ids are chosen here so the clientMessageId can be written with the row
    // in one statement; callers hold a write transaction, so no other writer
    // can take the same ids meanwhile.
    let mut next: i64 = tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM messages", [], |r| r.get(0))?;
    let install = install_id(tx)?;
    let mut written = Vec::with_capacity(entries.len());
    // Many rows per statement: a run may write 100,000 entries, and one
    // statement per row would dominate it.
    for chunk in entries.chunks(INSERT_CHUNK) {
        // A row that already has a real entry (a test send reached its phone)
        // gets no second one; RETURNING says which rows went in. Any other
        // conflict fails the statement.
        let tuples = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(",");
        let mut stmt = tx.prepare_cached(&format!(
            "INSERT INTO messages (id, connection_id, row_key, row_line, phone, text, client_message_id, status, is_test,
                                   reason, not_before, created_at, updated_at, time_slots) VALUES {tuples}
             ON CONFLICT (connection_id, row_key) WHERE is_test = 0 AND cancelled = 0 DO NOTHING
             RETURNING id"
        ))?;
        let mut values: Vec<rusqlite::types::Value> = Vec::with_capacity(chunk.len() * 14);
        let first = next;
        for e in chunk {
            use rusqlite::types::Value;
            let text = |s: &str| Value::Text(s.to_owned());
            let opt = |s: Option<String>| s.map(Value::Text).unwrap_or(Value::Null);
            values.extend([
                Value::Integer(next),
                Value::Integer(connection_id),
                text(&e.row_key),
                e.row_line.map(Value::Integer).unwrap_or(Value::Null),
                opt(e.phone.clone()),
                text(&e.text),
                // Unique in the world (this data folder's random id and the
                // entry's), and short: 8x8 once capped it at 50.
                Value::Text(format!("sr-{install}-{next}")),
                text(e.status.as_str()),
                Value::Integer(i64::from(e.is_test)),
                opt(e.reason.clone()),
                opt(e.not_before.map(|t| t.to_rfc3339())),
                text(&now),
                text(&now),
                opt(e.time_slots.clone()),
            ]);
            next += 1;
        }
        let inserted = stmt.query_map(params_from_iter(values), |r| r.get::<_, i64>(0))?;
        let mut ids: Vec<i64> = inserted.collect::<Result<_, _>>()?;
        ids.sort_unstable();
        written.extend(ids.into_iter().map(|id| (id, chunk[(id - first) as usize].status)));
    }
    Ok(written)
}

/// This data folder's random id (migration 0011), for clientMessageIds.
fn install_id(tx: &rusqlite::Connection) -> Result<String, Error> {
    let json: String = tx.query_row("SELECT value FROM settings WHERE key = 'install_id'", [], |r| r.get(0))?;
    Ok(json.trim_matches('"').to_owned())
}

/// Which entries a claim takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Everything a run sends: pending, failed, and waiting past its time.
    Due,
    /// As [`Claim::Due`] without the failed ones.
    DueButFailed,
    /// Only failed entries ("resend failed").
    OnlyFailed,
}

/// Outcomes per UPDATE statement (6 parameters each).
const RECORD_CHUNK: usize = 500;

/// Entries per INSERT statement (14 parameters each, well under SQLite's cap).
const INSERT_CHUNK: usize = 400;

impl super::Tx<'_> {
    /// Writes ledger entries in this transaction (see [`Store::insert_entries`]).
    pub fn insert_entries(
        &self,
        connection_id: i64,
        entries: &[NewEntry],
        now: DateTime<Utc>,
    ) -> Result<Vec<(i64, EntryStatus)>, Error> {
        insert_entries_tx(self.conn, connection_id, entries, now)
    }

    /// Pauses or resumes a connection in this transaction.
    pub fn set_paused(
        &self,
        connection_id: i64,
        reason: Option<&crate::code::Coded>,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        super::connections::set_paused(self.conn, connection_id, reason, now)
    }
}

impl Store {
    /// Writes entries in a transaction of their own; rows that already have
    /// a real entry are left out of the returned ids.
    pub fn insert_entries(
        &self,
        connection_id: i64,
        entries: &[NewEntry],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, Error> {
        let written = self.write(|tx| insert_entries_tx(tx, connection_id, entries, now))?;
        Ok(written.into_iter().map(|(id, _)| id).collect())
    }

    /// Atomically claims up to `limit` entries of the connection that are
    /// `pending`, `failed` (when `retry_failed`) or `waiting` past their time,
    /// moving them to `sending` and counting the attempt. Another process
    /// claiming at the same moment gets other entries or none.
    pub fn claim(
        &self,
        connection_id: i64,
        retry_failed: bool,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<Entry>, Error> {
        self.claim_scope(connection_id, if retry_failed { Claim::Due } else { Claim::DueButFailed }, limit, now)
    }

    /// [`Store::claim`] for the entries `scope` names.
    pub fn claim_scope(
        &self,
        connection_id: i64,
        scope: Claim,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<Entry>, Error> {
        self.claim_retexted(connection_id, scope, limit, now, &|_| None)
    }

    /// [`Store::claim_scope`], giving each claimed entry the text `retext`
    /// returns for it (time variables brought to the send time) in the same
    /// transaction, so what is claimed is what its request carries.
    pub fn claim_retexted(
        &self,
        connection_id: i64,
        scope: Claim,
        limit: usize,
        now: DateTime<Utc>,
        retext: &dyn Fn(&Entry) -> Option<String>,
    ) -> Result<Vec<Entry>, Error> {
        let (pending, failed) = match scope {
            Claim::Due => (true, true),
            Claim::DueButFailed => (true, false),
            Claim::OnlyFailed => (false, true),
        };
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = now.to_rfc3339();
        const DUE: &str = "connection_id = ?2 AND is_test = 0
                           AND status IN ('pending', 'failed', 'waiting')
                           AND ((status = 'pending' AND ?4)
                                OR (status = 'failed' AND ?3)
                                OR (status = 'waiting' AND ?4 AND not_before <= ?1))";
        // The opt-out list as it is now, not as it was when the row was read:
        // a number opted out while its message waited (quiet hours, the flood
        // guard, a retry) is never texted. Same transaction as the claim.
        let any_optout: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM optouts)", [], |r| r.get(0))?;
        if any_optout {
            tx.prepare_cached(&format!(
                "UPDATE messages SET status = 'skipped', updated_at = ?1,
                        reason = ?5
                 WHERE {DUE} AND phone IN (SELECT phone FROM optouts)"
            ))?
            .execute(params![now, connection_id, failed, pending, reason_opted_out_while_waiting()])?;
        }
        // The first `limit` due entries, then every due entry up to the last
        // of them claimed by one ranged UPDATE: the same rows (one write
        // transaction), without the IN list and RETURNING buffer that made
        // a claim of 10,000 cost half again as much.
        let mut claimed: Vec<Entry> = tx
            .prepare_cached(&format!("SELECT {COLUMNS} FROM messages WHERE {DUE} ORDER BY id LIMIT ?5"))?
            .query_map(params![now, connection_id, failed, pending, limit as i64], from_row)?
            .collect::<Result<_, _>>()?;
        if let Some(last) = claimed.last().map(|e| e.id) {
            let updated = tx
                .prepare_cached(&format!(
                    "UPDATE messages SET status = 'sending', attempts = attempts + 1, updated_at = ?1
                     WHERE {DUE} AND id <= ?5"
                ))?
                .execute(params![now, connection_id, failed, pending, last])?;
            if updated != claimed.len() {
                // Cannot happen inside one write transaction; if it ever did,
                // nothing is claimed rather than something unaccounted for.
                return Err(rusqlite::Error::StatementChangedRows(updated).into());
            }
            for entry in &mut claimed {
                entry.status = EntryStatus::Sending;
                entry.attempts += 1;
                entry.updated_at.clone_from(&now);
            }
        }
        {
            let mut update = tx.prepare_cached("UPDATE messages SET text = ?2 WHERE id = ?1")?;
            for entry in &mut claimed {
                if let Some(text) = retext(entry).filter(|t| *t != entry.text) {
                    update.execute(params![entry.id, text])?;
                    entry.text = text;
                }
            }
        }
        tx.commit()?;
        Ok(claimed)
    }

    /// Which of `row_keys` already have a real (non-test) entry.
    pub fn rows_with_entries(
        &self,
        connection_id: i64,
        row_keys: &[&str],
    ) -> Result<std::collections::HashSet<String>, Error> {
        let conn = self.conn();
        let mut found = std::collections::HashSet::new();
        for chunk in row_keys.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(",");
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT row_key FROM messages WHERE connection_id = ? AND is_test = 0 AND row_key IN ({marks})"
            ))?;
            let values = std::iter::once(rusqlite::types::Value::Integer(connection_id))
                .chain(chunk.iter().map(|k| rusqlite::types::Value::Text((*k).to_owned())));
            let rows = stmt.query_map(params_from_iter(values), |r| r.get::<_, String>(0))?;
            for row in rows {
                found.insert(row?);
            }
        }
        Ok(found)
    }

    /// Quiet hours: every `pending` or `waiting` entry of the connection
    /// waits until `until`. Returns how many wait.
    pub fn defer_until(&self, connection_id: i64, until: DateTime<Utc>, now: DateTime<Utc>) -> Result<usize, Error> {
        Ok(self.conn().execute(
            "UPDATE messages SET status = 'waiting', not_before = ?2, reason = ?4, updated_at = ?3
             WHERE connection_id = ?1 AND is_test = 0 AND status IN ('pending', 'waiting') AND send_at IS NULL",
            params![connection_id, until.to_rfc3339(), now.to_rfc3339(), reason_quiet_hours()],
        )?)
    }

    /// Quiet hours: the connection's `failed` entries wait until `until`
    /// ("resend failed" pressed at night). Returns how many wait.
    pub fn defer_failed_until(
        &self,
        connection_id: i64,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<usize, Error> {
        Ok(self.conn().execute(
            "UPDATE messages SET status = 'waiting', not_before = ?2, reason = ?4, updated_at = ?3
             WHERE connection_id = ?1 AND is_test = 0 AND status = 'failed'",
            params![connection_id, until.to_rfc3339(), now.to_rfc3339(), reason_quiet_hours()],
        )?)
    }

    /// How many of the connection's real entries have `status`.
    pub fn count_status(&self, connection_id: i64, status: EntryStatus) -> Result<usize, Error> {
        let n: i64 = self.conn().query_row(
            "SELECT count(*) FROM messages WHERE connection_id = ?1 AND is_test = 0 AND status = ?2",
            params![connection_id, status.as_str()],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// When the connection's earliest message held back by quiet hours may go out.
    pub fn earliest_waiting(&self, connection_id: i64) -> Result<Option<DateTime<Utc>>, Error> {
        let first: Option<String> = self.conn().query_row(
            "SELECT min(not_before) FROM messages WHERE connection_id = ?1 AND status = 'waiting' AND is_test = 0",
            [connection_id],
            |r| r.get(0),
        )?;
        Ok(first.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc)))
    }

    /// Claims one entry by id (a test send), if it is pending.
    pub fn claim_one(&self, id: i64, now: DateTime<Utc>) -> Result<Option<Entry>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "UPDATE messages SET status = 'sending', attempts = attempts + 1, updated_at = ?1
             WHERE id = ?2 AND status = 'pending' RETURNING {COLUMNS}"
        ))?;
        let mut rows = stmt.query_map(params![now.to_rfc3339(), id], from_row)?;
        Ok(rows.next().transpose()?)
    }

    /// Records send outcomes in one transaction. Only entries still in
    /// `sending` change, so a late or repeated outcome cannot overwrite a
    /// person's decision.
    pub fn record(&self, outcomes: &[(i64, Outcome)], now: DateTime<Utc>) -> Result<(), Error> {
        self.record_after_retries(outcomes, 0, now)
    }

    /// [`Store::record`] for outcomes whose request was retried `retries`
    /// times: each entry's `attempts` counts every request made for it.
    pub fn record_after_retries(
        &self,
        outcomes: &[(i64, Outcome)],
        retries: u32,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let now = now.to_rfc3339();
        self.write_patiently(|tx| {
            // Many outcomes per statement (UPDATE … FROM VALUES): a batch
            // answer brings 10,000 of them at once.
            for chunk in outcomes.chunks(RECORD_CHUNK) {
                let tuples = vec!["(?, ?, ?, ?, ?, ?)"; chunk.len()].join(",");
                let mut stmt = tx.prepare_cached(&format!(
                    "UPDATE messages SET status = v.column2, umid = coalesce(v.column3, messages.umid),
                            error_code = v.column4, reason = v.column5, attempts = messages.attempts + v.column6,
                            queued_at = CASE WHEN v.column2 = 'queued' THEN ?1 ELSE messages.queued_at END,
                            updated_at = ?1
                     FROM (VALUES {tuples}) AS v
                     WHERE messages.id = v.column1 AND messages.status = 'sending'"
                ))?;
                use rusqlite::types::Value;
                let mut values: Vec<Value> = Vec::with_capacity(1 + chunk.len() * 6);
                values.push(Value::Text(now.clone()));
                for (id, outcome) in chunk {
                    let text = |s: &str| Value::Text(s.to_owned());
                    let retries = i64::from(retries);
                    // An unsent entry's claim is taken back: no request carried it.
                    let (status, umid, code, reason, more_attempts) = match outcome {
                        Outcome::Queued { umid } => ("queued", text(umid), Value::Null, Value::Null, retries),
                        Outcome::Rejected { code, description } => (
                            "rejected",
                            Value::Null,
                            code.map(Value::Integer).unwrap_or(Value::Null),
                            text(description),
                            retries,
                        ),
                        Outcome::Failed { reason } => {
                            let reason = Coded::new(Code::SendFailed, reason.as_str()).to_stored();
                            ("failed", Value::Null, Value::Null, text(&reason), retries)
                        }
                        Outcome::Unknown { reason } => {
                            let reason = Coded::new(Code::SendUnknown, reason.as_str()).to_stored();
                            ("unknown", Value::Null, Value::Null, text(&reason), retries)
                        }
                        Outcome::Unsent => ("pending", Value::Null, Value::Null, Value::Null, -1),
                    };
                    values.extend([
                        Value::Integer(*id),
                        text(status),
                        umid,
                        code,
                        reason,
                        Value::Integer(more_attempts),
                    ]);
                }
                stmt.execute(params_from_iter(values))?;
            }
            Ok(())
        })
    }

    /// Takes back claims whose request was never written (a delivery
    /// stopped before it): `sending` → `pending`, the attempt uncounted.
    pub fn unclaim(&self, ids: &[i64], now: DateTime<Utc>) -> Result<usize, Error> {
        let now = now.to_rfc3339();
        self.write(|tx| {
            let mut changed = 0;
            for chunk in ids.chunks(500) {
                let marks = vec!["?"; chunk.len()].join(",");
                let mut stmt = tx.prepare_cached(&format!(
                    "UPDATE messages SET status = 'pending', attempts = max(attempts - 1, 0), updated_at = ?
                     WHERE status = 'sending' AND id IN ({marks})"
                ))?;
                let values = std::iter::once(rusqlite::types::Value::Text(now.clone()))
                    .chain(chunk.iter().map(|id| rusqlite::types::Value::Integer(*id)));
                changed += stmt.execute(params_from_iter(values))?;
            }
            Ok(changed)
        })
    }

    /// After a crash: every entry left in `sending` may have gone out, so it
    /// becomes `unknown` for a person to resolve. Returns how many.
    pub fn recover_interrupted(&self, now: DateTime<Utc>) -> Result<usize, Error> {
        Ok(self.conn().execute(
            "UPDATE messages SET status = 'unknown', updated_at = ?1, reason = ?2 WHERE status = 'sending'",
            params![
                now.to_rfc3339(),
                Coded::new(
                    Code::StoppedWhileSending,
                    "Sendrow stopped while this message was being sent; it may or may not have gone out"
                )
                .to_stored()
            ],
        )?)
    }

    /// Every entry of the connection, oldest first.
    pub fn history(&self, connection_id: i64) -> Result<Vec<Entry>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM messages WHERE connection_id = ?1 ORDER BY id"))?;
        let rows = stmt.query_map([connection_id], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Counts the connection's entries by status.
    pub fn status_counts(&self, connection_id: i64) -> Result<Vec<(EntryStatus, i64)>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT status, count(*) FROM messages WHERE connection_id = ?1 AND is_test = 0 GROUP BY status ORDER BY status",
        )?;
        let rows = stmt.query_map([connection_id], |r| Ok((EntryStatus::parse(&r.get::<_, String>(0)?), r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Applies a person's decision to the row's `unknown` or `failed` entry.
    /// Returns whether an entry changed.
    pub fn resolve(
        &self,
        connection_id: i64,
        row_key: &str,
        resolution: Resolution,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let to = match resolution {
            Resolution::Resend => "pending",
            Resolution::MarkSent => "sent",
        };
        let changed = self.conn().execute(
            "UPDATE messages SET status = ?3, updated_at = ?4,
                    reason = CASE WHEN ?3 = 'sent' THEN ?5 ELSE reason END
             WHERE connection_id = ?1 AND row_key = ?2 AND is_test = 0 AND status IN ('unknown', 'failed')",
            params![
                connection_id,
                row_key,
                to,
                now.to_rfc3339(),
                Coded::new(Code::MarkedSentByPerson, "marked as sent by a person").to_stored()
            ],
        )?;
        Ok(changed > 0)
    }

    /// Moves every `held` entry of the connection to `to` (`Pending` to send
    /// them, `Skipped` to drop them). Returns how many.
    pub fn release_held(&self, connection_id: i64, to: EntryStatus, now: DateTime<Utc>) -> Result<usize, Error> {
        let reason = (to == EntryStatus::Skipped).then(|| {
            Coded::new(Code::SkippedByPerson, "skipped by a person after the flood guard held it").to_stored()
        });
        Ok(self.conn().execute(
            "UPDATE messages SET status = ?2, reason = ?3, updated_at = ?4 WHERE connection_id = ?1 AND status = 'held'",
            params![connection_id, to.as_str(), reason, now.to_rfc3339()],
        )?)
    }

    /// Queued entries whose delivery is not settled yet, queued within
    /// `window` before `now` and not checked since `recheck_after`, oldest
    /// check first.
    pub fn due_for_delivery_check(
        &self,
        now: DateTime<Utc>,
        window: chrono::Duration,
        recheck_after: chrono::Duration,
        limit: usize,
    ) -> Result<Vec<Entry>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM messages
             WHERE status = 'queued' AND umid IS NOT NULL
               AND (delivery_state IS NULL OR delivery_state NOT IN ({FINAL_DELIVERY_STATES}))
               AND coalesce(queued_at, created_at) >= ?1
               AND (delivery_checked_at IS NULL OR delivery_checked_at <= ?2)
             ORDER BY delivery_checked_at IS NOT NULL, delivery_checked_at, id
             LIMIT ?3"
        ))?;
        let rows = stmt.query_map(
            params![(now - window).to_rfc3339(), (now - recheck_after).to_rfc3339(), limit as i64],
            from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The real entries whose send is `unknown`, of the given connections
    /// (every connection when `None`), oldest first.
    pub fn unknown_entries(&self, connection_ids: Option<&[i64]>) -> Result<Vec<Entry>, Error> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!("SELECT {COLUMNS} FROM messages WHERE status = 'unknown' AND is_test = 0 ORDER BY id"))?;
        let rows = stmt.query_map([], from_row)?;
        let all: Vec<Entry> = rows.collect::<Result<_, _>>()?;
        Ok(match connection_ids {
            Some(ids) => all.into_iter().filter(|e| ids.contains(&e.connection_id)).collect(),
            None => all,
        })
    }

    /// Whether any real entry is `unknown`: the scheduler asks 8x8 only then.
    pub fn has_unknown(&self) -> Result<bool, Error> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE status = 'unknown' AND is_test = 0)",
            [],
            |r| r.get(0),
        )?)
    }

    /// Reconciliation's decision on an `unknown` entry: 8x8 has it (`Some`
    /// umid: `queued`, delivery polling follows) or provably never got it
    /// (`None`: `pending`, so the next run sends it, once). Only an entry
    /// still `unknown` changes, so a person's decision meanwhile stands.
    /// Returns whether it changed.
    pub fn settle_unknown(&self, id: i64, umid: Option<&str>, note: &str, now: DateTime<Utc>) -> Result<bool, Error> {
        let now = now.to_rfc3339();
        let changed = self.conn().execute(
            "UPDATE messages SET status = CASE WHEN ?2 IS NULL THEN 'pending' ELSE 'queued' END,
                    umid = coalesce(?2, umid), queued_at = CASE WHEN ?2 IS NULL THEN queued_at ELSE ?4 END,
                    reason = NULL, checked_at = ?4, check_note = ?3, updated_at = ?4
             WHERE id = ?1 AND status = 'unknown'",
            params![id, umid, note, now],
        )?;
        Ok(changed > 0)
    }

    /// Notes a check of an `unknown` entry that settled nothing (8x8 could
    /// not say yet). `updated_at` stays: it bounds when the request was made.
    pub fn note_unknown_check(&self, id: i64, note: &str, now: DateTime<Utc>) -> Result<(), Error> {
        self.conn().execute(
            "UPDATE messages SET checked_at = ?3, check_note = ?2 WHERE id = ?1 AND status = 'unknown'",
            params![id, note, now.to_rfc3339()],
        )?;
        Ok(())
    }

    /// Records what 8x8 says about an entry's delivery.
    pub fn record_delivery(&self, id: i64, state: &str, error: Option<&str>, now: DateTime<Utc>) -> Result<(), Error> {
        self.conn().execute(
            "UPDATE messages SET delivery_state = ?2, delivery_error = ?3, delivery_checked_at = ?4, updated_at = ?4
             WHERE id = ?1",
            params![id, state, error, now.to_rfc3339()],
        )?;
        Ok(())
    }

    /// Notes that the poller looked at an entry's delivery (answered or not),
    /// so it waits its turn again: failing entries cannot starve the others.
    pub fn mark_delivery_checked(&self, id: i64, now: DateTime<Utc>) -> Result<(), Error> {
        self.conn()
            .execute("UPDATE messages SET delivery_checked_at = ?2 WHERE id = ?1", params![id, now.to_rfc3339()])?;
        Ok(())
    }

    /// Writes `entry` already claimed (`sending`, one attempt) in one
    /// transaction, so no other process's run can claim it first. `None`
    /// when the row already has a real entry.
    pub fn insert_claimed(
        &self,
        connection_id: i64,
        entry: &NewEntry,
        now: DateTime<Utc>,
    ) -> Result<Option<Entry>, Error> {
        self.write(|tx| {
            let Some((id, _)) = insert_entries_tx(tx, connection_id, std::slice::from_ref(entry), now)?.pop() else {
                return Ok(None);
            };
            let mut stmt = tx.prepare(&format!(
                "UPDATE messages SET status = 'sending', attempts = 1 WHERE id = ?1 RETURNING {COLUMNS}"
            ))?;
            Ok(stmt.query_row([id], from_row).optional()?)
        })
    }

    /// Ends a test send to another phone that never left the machine.
    pub fn settle_test(&self, id: i64, to: EntryStatus, reason: &str) -> Result<(), Error> {
        self.conn().execute(
            "UPDATE messages SET status = ?2, reason = ?3 WHERE id = ?1 AND is_test = 1 AND status = 'pending'",
            params![id, to.as_str(), reason],
        )?;
        Ok(())
    }

    /// The history's record of a test send that was the row's own SMS: a
    /// test entry with the same outcome (the real entry is what counts).
    pub fn record_test_copy(&self, sent: &Entry, now: DateTime<Utc>) -> Result<(), Error> {
        let copy = NewEntry {
            row_key: sent.row_key.clone(),
            row_line: sent.row_line,
            phone: sent.phone.clone(),
            text: sent.text.clone(),
            status: sent.status,
            reason: Some(match (sent.status, &sent.reason) {
                (EntryStatus::Queued, _) | (_, None) => "test send, to the row's own phone: it is the row's SMS".into(),
                (_, Some(why)) => format!("test send, to the row's own phone: {why}"),
            }),
            is_test: true,
            not_before: None,
            time_slots: None,
        };
        // No umid on the copy: delivery is asked for (and shown) once, on the row's entry.
        self.write(|tx| {
            for (id, _) in insert_entries_tx(tx, sent.connection_id, &[copy], now)? {
                tx.execute(
                    "UPDATE messages SET error_code = ?2, attempts = ?3 WHERE id = ?1",
                    params![id, sent.error_code, sent.attempts],
                )?;
            }
            Ok(())
        })
    }

    /// Entries by id, in id order. Asked in chunks: SQLite caps the number
    /// of parameters of one statement, and a run may write 100,000 entries.
    pub fn entries(&self, ids: &[i64]) -> Result<Vec<Entry>, Error> {
        let conn = self.conn();
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(",");
            let mut stmt =
                conn.prepare_cached(&format!("SELECT {COLUMNS} FROM messages WHERE id IN ({marks}) ORDER BY id"))?;
            let rows = stmt.query_map(params_from_iter(chunk), from_row)?;
            for row in rows {
                found.push(row?);
            }
        }
        found.sort_by_key(|e| e.id);
        Ok(found)
    }
}
