//! The ledger's side of reminders (product.md §9): send times on entries,
//! `scheduled` entries becoming `queued` when 8x8 sends them, and
//! cancellations. Every change is conditional on the entry's status, so a
//! run in another process that claimed an entry meanwhile wins.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::ledger::{from_row, COLUMNS};
use super::{Entry, Error, Store};

/// Statuses of a reminder not sent yet, which a moved date or a deleted row
/// cancels.
const FOLLOWED: &str = "'pending', 'waiting', 'scheduled', 'failed', 'held'";

impl super::Tx<'_> {
    /// Gives the just-written entries `written` of the connection their send
    /// times, by row key.
    pub fn set_send_at(
        &self,
        written: &[(i64, super::EntryStatus)],
        send_times: &[(String, DateTime<Utc>)],
    ) -> Result<(), Error> {
        set_send_at(self.conn, written, send_times)
    }
}

fn set_send_at(
    conn: &rusqlite::Connection,
    written: &[(i64, super::EntryStatus)],
    send_times: &[(String, DateTime<Utc>)],
) -> Result<(), Error> {
    if send_times.is_empty() {
        return Ok(());
    }
    let mut stmt = conn.prepare_cached("UPDATE messages SET send_at = ?2 WHERE id = ?1 AND row_key = ?3")?;
    let times: std::collections::HashMap<&str, String> =
        send_times.iter().map(|(k, t)| (k.as_str(), t.to_rfc3339())).collect();
    let mut keys = conn.prepare_cached("SELECT row_key FROM messages WHERE id = ?1")?;
    for (id, _) in written {
        let key: String = keys.query_row([id], |r| r.get(0))?;
        if let Some(at) = times.get(key.as_str()) {
            stmt.execute(params![id, at, key])?;
        }
    }
    Ok(())
}

impl Store {
    /// Writes entries with their send times in one transaction; rows that
    /// already have a real entry are left out. Returns the written ids.
    pub fn insert_with_send_at(
        &self,
        connection_id: i64,
        entries: &[super::NewEntry],
        send_times: &[(String, DateTime<Utc>)],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, Error> {
        self.write(|tx| {
            let written = super::ledger::insert_entries_tx(tx, connection_id, entries, now)?;
            set_send_at(tx, &written, send_times)?;
            Ok(written.into_iter().map(|(id, _)| id).collect())
        })
    }

    /// Reminders of the connection not sent yet: what a read follows.
    pub fn reminders_to_follow(&self, connection_id: i64) -> Result<Vec<Entry>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM messages
             WHERE connection_id = ?1 AND is_test = 0 AND send_at IS NOT NULL AND status IN ({FOLLOWED})
             ORDER BY id"
        ))?;
        let rows = stmt.query_map([connection_id], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Rows whose every real entry is cancelled: a read finding one matching
    /// again (with a date ahead) gives it a new reminder.
    pub fn rows_only_cancelled(&self, connection_id: i64) -> Result<HashSet<String>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT DISTINCT row_key FROM messages m
             WHERE connection_id = ?1 AND is_test = 0 AND status = 'cancelled'
               AND NOT EXISTS (SELECT 1 FROM messages o WHERE o.connection_id = m.connection_id
                               AND o.row_key = m.row_key AND o.is_test = 0 AND o.status <> 'cancelled')",
        )?;
        let rows = stmt.query_map([connection_id], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Cancels a reminder 8x8 does not hold (not handed over yet). Returns
    /// whether it was still cancellable.
    pub fn cancel_local(&self, id: i64, reason: &str, now: DateTime<Utc>) -> Result<bool, Error> {
        Ok(self.conn().execute(
            "UPDATE messages SET status = 'cancelled', cancelled = 1, reason = ?2, updated_at = ?3
             WHERE id = ?1 AND status IN ('pending', 'waiting', 'failed', 'held')",
            params![id, reason, now.to_rfc3339()],
        )? > 0)
    }

    /// Records 8x8's answer to cancelling a `scheduled` entry: cancelled, or
    /// too late (the SMS already left: it is `queued`, with why).
    pub fn settle_cancel(&self, id: i64, cancelled: bool, reason: &str, now: DateTime<Utc>) -> Result<(), Error> {
        let sql = if cancelled {
            "UPDATE messages SET status = 'cancelled', cancelled = 1, reason = ?2, updated_at = ?3
             WHERE id = ?1 AND status = 'scheduled'"
        } else {
            "UPDATE messages SET status = 'queued', reason = ?2, updated_at = ?3, queued_at = coalesce(send_at, ?3)
             WHERE id = ?1 AND status = 'scheduled'"
        };
        self.conn().execute(sql, params![id, reason, now.to_rfc3339()])?;
        Ok(())
    }

    /// Entries 8x8 queued for a later time become `scheduled` (not polled
    /// for delivery before then). Returns how many. An entry whose
    /// `queued_at` is its send time is one 8x8 already sent (a refused
    /// cancel, [`Store::settle_cancel`]): it stays `queued`.
    pub fn mark_scheduled(&self, connection_id: i64, now: DateTime<Utc>) -> Result<usize, Error> {
        Ok(self.conn().execute(
            "UPDATE messages SET status = 'scheduled', updated_at = ?2
             WHERE connection_id = ?1 AND status = 'queued' AND send_at IS NOT NULL AND send_at > ?2
               AND queued_at IS NOT send_at",
            params![connection_id, now.to_rfc3339()],
        )?)
    }

    /// `scheduled` entries whose time has come are what 8x8 has sent: they
    /// become `queued`, with delivery checks counted from their send time.
    pub fn scheduled_now_due(&self, now: DateTime<Utc>) -> Result<usize, Error> {
        Ok(self.conn().execute(
            "UPDATE messages SET status = 'queued', queued_at = send_at, updated_at = ?1
             WHERE status = 'scheduled' AND send_at <= ?1",
            [now.to_rfc3339()],
        )?)
    }

    /// The connection's reminders still to go (at 8x8 or kept here) and the
    /// earliest send time among them.
    pub fn reminders_ahead(&self, connection_id: i64) -> Result<(i64, Option<String>), Error> {
        Ok(self.conn().query_row(
            "SELECT count(*), min(send_at) FROM messages
             WHERE connection_id = ?1 AND is_test = 0 AND send_at IS NOT NULL
               AND status IN ('scheduled', 'waiting', 'pending')",
            [connection_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }
}
