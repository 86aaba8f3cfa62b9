//! The `runs` table: one summary per run of a connection.

use rusqlite::{params, OptionalExtension};

use super::{Error, Store};
use crate::code::{Code, Coded};
use crate::model::RunSummary;

const COLUMNS: &str =
    "started_at, finished_at, new_rows, sent, rejected, failed, skipped, unknown, held, waiting, warning, error, already_sent, \
     segments, cost, pending, incomplete, transient, rows_to_fix, edited";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunSummary> {
    let count = |i: usize| -> rusqlite::Result<usize> { Ok(r.get::<_, i64>(i)? as usize) };
    let error = r.get::<_, Option<String>>(11)?.map(|text| Coded::from_stored(&text));
    Ok(RunSummary {
        started_at: r.get(0)?,
        finished_at: r.get(1)?,
        new_rows: count(2)?,
        sent: count(3)?,
        rejected: count(4)?,
        failed: count(5)?,
        skipped: count(6)?,
        unknown: count(7)?,
        held: count(8)?,
        waiting: count(9)?,
        warning: r.get(10)?,
        error: error.as_ref().map(|e| e.text.clone()),
        error_code: error.map(|e| e.code),
        already_sent: count(12)?,
        segments: count(13)?,
        cost: r.get(14)?,
        pending: count(15)?,
        incomplete: count(16)?,
        transient: r.get(17)?,
        rows_to_fix: r
            .get::<_, Option<String>>(18)?
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default(),
        edited: count(19)?,
        // Not kept per run: the ledger's counts by status say how many
        // reminders are scheduled or cancelled.
        ..RunSummary::default()
    })
}

impl Store {
    /// Records a finished run.
    pub fn record_run(&self, connection_id: i64, run: &RunSummary) -> Result<(), Error> {
        self.conn().execute(
            &format!("INSERT INTO runs (connection_id, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)"),
            params![
                connection_id,
                run.started_at,
                run.finished_at,
                run.new_rows as i64,
                run.sent as i64,
                run.rejected as i64,
                run.failed as i64,
                run.skipped as i64,
                run.unknown as i64,
                run.held as i64,
                run.waiting as i64,
                run.warning,
                // With its code, read back by `from_row`.
                run.error.as_ref().map(|text| Coded::new(run.error_code.unwrap_or(Code::Text), text.clone()).to_stored()),
                run.already_sent as i64,
                run.segments as i64,
                run.cost,
                run.pending as i64,
                run.incomplete as i64,
                run.transient,
                (!run.rows_to_fix.is_empty()).then(|| serde_json::to_string(&run.rows_to_fix).unwrap_or_default()),
                run.edited as i64
            ],
        )?;
        Ok(())
    }

    /// The connection's latest run.
    pub fn last_run(&self, connection_id: i64) -> Result<Option<RunSummary>, Error> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare(&format!("SELECT {COLUMNS} FROM runs WHERE connection_id = ?1 ORDER BY id DESC LIMIT 1"))?;
        let found = stmt.query_row([connection_id], from_row).optional()?;
        Ok(found)
    }

    /// The connection's latest `n` runs, newest first.
    pub fn recent_runs(&self, connection_id: i64, n: usize) -> Result<Vec<RunSummary>, Error> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare(&format!("SELECT {COLUMNS} FROM runs WHERE connection_id = ?1 ORDER BY id DESC LIMIT ?2"))?;
        let rows = stmt.query_map(params![connection_id, n as i64], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
