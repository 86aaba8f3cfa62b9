//! The `row_state` and `seen_rows` tables: what new-row detection remembers
//! per connection (migration 0004), and the one way to record a read.
//!
//! How the run pipeline uses it:
//!
//! ```text
//! let table = source::read(&spec).await?;                    // no store lock held
//! let obs = store::observe(&store, id, table, &rules, now)?;
//! store.commit_observation(&obs, |tx| {
//!     for row in obs.new_rows() { /* tx.insert_ledger_entry(...)? */ }
//!     Ok::<_, MyError>(())
//! })?;                                                        // keys + ledger, or neither
//! // only now send what the ledger holds
//! ```
//!
//! The keys a read marks as seen and whatever the caller writes about those
//! rows (ledger entries, a history line, pausing the connection) commit in one
//! SQLite transaction: a crash or an error in between leaves neither, and the
//! rows are new again on the next read. Not here: deciding what is new (that
//! is `source::rows`, pure) and the ledger itself.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::{Error, Store, Tx};
use crate::code::Coded;
use crate::source::rows::{detect, Memory, Observation, RowState, Rules, StateWrite, Trace};
use crate::source::Table;

/// Reads what the store remembers for `connection_id` and detects the new
/// rows of `table` (the detection itself is `source::rows::detect`, pure).
/// Commit the result with `Store::commit_observation`.
pub fn observe(
    store: &Store,
    connection_id: i64,
    table: Table,
    rules: &Rules<'_>,
    now: DateTime<Utc>,
) -> Result<Observation, Error> {
    let memory = store.row_memory(connection_id)?;
    Ok(detect(connection_id, table, &memory, rules, now))
}

impl Store {
    /// What detection needs for `connection_id`: its state and every key seen.
    pub fn row_memory(&self, connection_id: i64) -> Result<Memory, Error> {
        let conn = self.conn();
        let state = conn
            .query_row(
                "SELECT key_mode, identity_columns, last_count, warning, generation, note FROM row_state WHERE connection_id = ?1",
                [connection_id],
                |r| {
                    let identity: String = r.get(1)?;
                    let last_count: Option<i64> = r.get(2)?;
                    // A default here would change every fingerprint and resend
                    // every row, so an unreadable value is an error instead.
                    let identity = serde_json::from_str(&identity).map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
                    })?;
                    Ok(RowState {
                        key_mode: r.get(0)?,
                        identity,
                        last_count: last_count.map(|n| n as usize),
                        warning: r.get(3)?,
                        generation: r.get(4)?,
                        note: r.get(5)?,
                    })
                },
            )
            .optional()?;
        let mut stmt =
            conn.prepare_cached("SELECT row_key, gone, cells IS NULL FROM seen_rows WHERE connection_id = ?1")?;
        let rows = stmt
            .query_map([connection_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?, r.get::<_, bool>(2)?)))?;
        let mut memory = Memory { state, ..Memory::default() };
        let fingerprinted = memory.state.as_ref().is_some_and(|s| s.key_mode == "fingerprint");
        for row in rows {
            let (key, gone, untraced) = row?;
            if gone {
                memory.gone.insert(key.clone());
            }
            // Traces matter only without an ID column.
            if untraced && fingerprinted {
                memory.untraced.insert(key.clone());
            }
            memory.seen.insert(key);
        }
        Ok(memory)
    }

    /// The traces kept of these seen keys of `connection_id`, by key (keys
    /// without one are left out): what [`Observation::follow_edits`] needs.
    pub fn traces(&self, connection_id: i64, keys: &[String]) -> Result<HashMap<String, Trace>, Error> {
        let conn = self.conn();
        let mut found = HashMap::new();
        for chunk in keys.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(",");
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT row_key, phone, cells, line FROM seen_rows
                 WHERE connection_id = ? AND cells IS NOT NULL AND row_key IN ({marks})"
            ))?;
            let values = std::iter::once(rusqlite::types::Value::Integer(connection_id))
                .chain(chunk.iter().map(|k| rusqlite::types::Value::Text(k.clone())));
            let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?;
            for row in rows {
                let (key, phone, cells, line) = row?;
                if let Some(trace) = Trace::decode(&phone.unwrap_or_default(), &cells, line as usize) {
                    found.insert(key, trace);
                }
            }
        }
        Ok(found)
    }

    /// Records `observation` and runs `also` in the same transaction: both
    /// commit, or neither does (an `Err` from `also` rolls the observation
    /// back too). `also` writes through the [`Tx`] it is given, never through
    /// `self`, which stays locked until the commit.
    ///
    /// Fails with [`Error::StaleRows`] when another read of the connection was
    /// committed after `observation` was made: read and detect again.
    pub fn commit_observation<T, E>(
        &self,
        observation: &Observation,
        also: impl FnOnce(&Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<Error>,
    {
        let mut conn = self.conn();
        // IMMEDIATE takes the write lock before the generation is checked, so
        // a second process cannot slip in between the check and the writes.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(Error::from)?;
        record(&tx, observation.connection_id, observation)?;
        let out = also(&Tx { conn: &tx })?;
        tx.commit().map_err(Error::from)?;
        Ok(out)
    }

    /// [`Store::commit_observation`] with `also` first: it may still leave
    /// rows out of the observation ([`Observation::hold_back`]) while it
    /// writes, and what it leaves in is recorded after it, in the same
    /// transaction.
    pub fn commit_observation_after<T, E>(
        &self,
        observation: &mut Observation,
        also: impl FnOnce(&Tx<'_>, &mut Observation) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<Error>,
    {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(Error::from)?;
        let out = also(&Tx { conn: &tx }, observation)?;
        record(&tx, observation.connection_id, observation)?;
        tx.commit().map_err(Error::from)?;
        Ok(out)
    }

    /// What is held for the user about `connection_id`'s source, if
    /// anything: a shrink warning, else the last read's note about rows it
    /// skipped for their ID.
    pub fn row_warning(&self, connection_id: i64) -> Result<Option<String>, Error> {
        Ok(self.row_warning_coded(connection_id)?.map(|w| w.text))
    }

    /// [`Store::row_warning`] with its code and parameters, for the window.
    pub fn row_warning_coded(&self, connection_id: i64) -> Result<Option<Coded>, Error> {
        self.row_state_text(connection_id, "warning")
    }

    /// The note about rows the last read skipped for their ID, if any.
    pub fn row_note(&self, connection_id: i64) -> Result<Option<String>, Error> {
        Ok(self.row_note_coded(connection_id)?.map(|n| n.text))
    }

    /// [`Store::row_note`] with its code and parameters, for the window.
    pub fn row_note_coded(&self, connection_id: i64) -> Result<Option<Coded>, Error> {
        self.row_state_text(connection_id, "note")
    }

    fn row_state_text(&self, connection_id: i64, column: &str) -> Result<Option<Coded>, Error> {
        let kept: Option<Option<String>> = self
            .conn()
            .query_row(&format!("SELECT {column} FROM row_state WHERE connection_id = ?1"), [connection_id], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(kept.flatten().map(|text| Coded::from_stored(&text)))
    }

    /// The user confirms a sharp shrink was on purpose: the warning goes, and
    /// the next read is not compared with the count before it. Keys stay seen.
    /// With no shrink warning, only the note about skipped rows goes (until a
    /// read finds such rows again) and the shrink check stays as it was.
    pub fn dismiss_row_warning(&self, connection_id: i64) -> Result<(), Error> {
        self.conn().execute(
            "UPDATE row_state SET last_count = CASE WHEN warning IS NULL THEN last_count END, warning = NULL,
                 note = NULL, generation = generation + 1
             WHERE connection_id = ?1",
            [connection_id],
        )?;
        Ok(())
    }

    /// Drops the note about rows skipped for their ID, and nothing else.
    pub fn dismiss_row_note(&self, connection_id: i64) -> Result<(), Error> {
        self.conn().execute("UPDATE row_state SET note = NULL WHERE connection_id = ?1", [connection_id])?;
        Ok(())
    }

    /// Forgets every row `connection_id` has seen, so its next read starts over
    /// as its `start_from` says (after a paused connection's columns changed
    /// for good, say). With `all_rows` that read sends every row again.
    pub fn forget_rows(&self, connection_id: i64) -> Result<(), Error> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM seen_rows WHERE connection_id = ?1", [connection_id])?;
        tx.execute("DELETE FROM row_state WHERE connection_id = ?1", [connection_id])?;
        tx.commit()?;
        Ok(())
    }
}

impl Store {
    /// Saves a new connection and, with `baseline`, records that first read
    /// of its source (a `new_rows` start), in one transaction: a failure
    /// leaves neither, never a connection whose rows are not yet seen, which
    /// its first run would take for new. The baseline's own `connection_id`
    /// is not used (the connection has no id until it is inserted), so it is
    /// detected from an empty [`Memory`] before this is called.
    pub fn insert_connection_with_baseline(
        &self,
        name: &str,
        spec: &serde_json::Value,
        auto_update: bool,
        now: chrono::DateTime<chrono::Utc>,
        baseline: Option<&Observation>,
    ) -> Result<i64, Error> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = super::connections::insert_connection(&tx, name, spec, auto_update, now)?;
        if let Some(observation) = baseline {
            record(&tx, id, observation)?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Starts the connection over: forgets every row it has seen and records
    /// `observation` (a first read of the source as it is now) in one
    /// transaction, so a failure leaves the old memory whole, never an empty
    /// one that a later read would take for "every row is new".
    pub fn start_over(&self, observation: &Observation) -> Result<(), Error> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = observation.connection_id;
        let before: Option<i64> =
            tx.query_row("SELECT generation FROM row_state WHERE connection_id = ?1", [id], |r| r.get(0)).optional()?;
        tx.execute("DELETE FROM seen_rows WHERE connection_id = ?1", [id])?;
        tx.execute("DELETE FROM row_state WHERE connection_id = ?1", [id])?;
        record(&tx, id, observation)?;
        // The generation counts on from before: a read another process made
        // of the old memory must still be refused as stale.
        if let Some(before) = before {
            tx.execute("UPDATE row_state SET generation = ?2 WHERE connection_id = ?1", params![id, before + 1])?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// Writes `observation` as connection `id`'s.
fn record(tx: &rusqlite::Transaction<'_>, id: i64, observation: &Observation) -> Result<(), Error> {
    let write = &observation.write;
    let now = observation.read_at.to_rfc3339();
    let generation: Option<i64> =
        tx.query_row("SELECT generation FROM row_state WHERE connection_id = ?1", [id], |r| r.get(0)).optional()?;
    if generation != write.generation {
        return Err(Error::StaleRows { connection_id: id });
    }
    match &write.state {
        StateWrite::Full { key_mode, identity, last_count, note } => {
            let identity = serde_json::to_string(identity).unwrap_or_else(|_| "[]".into());
            tx.execute(
                "INSERT INTO row_state (connection_id, key_mode, identity_columns, last_count, warning, note, generation, updated_at)
                 VALUES (?1, ?2, ?3, ?4, NULL, ?6, 1, ?5)
                 ON CONFLICT (connection_id) DO UPDATE SET key_mode = excluded.key_mode,
                     identity_columns = excluded.identity_columns, last_count = excluded.last_count,
                     warning = NULL, note = excluded.note, generation = generation + 1, updated_at = excluded.updated_at",
                params![id, key_mode, identity, *last_count as i64, now, note.as_ref().map(Coded::to_stored)],
            )?;
        }
        StateWrite::Warning(warning) => {
            tx.execute(
                "UPDATE row_state SET warning = ?2, generation = generation + 1, updated_at = ?3 WHERE connection_id = ?1",
                params![id, warning.to_stored(), now],
            )?;
        }
        StateWrite::Untouched => {
            tx.execute(
                "UPDATE row_state SET generation = generation + 1, updated_at = ?2 WHERE connection_id = ?1",
                params![id, now],
            )?;
        }
    }
    let origin = if write.baseline { "baseline" } else { "new" };
    use rusqlite::types::Value;
    // Many keys per statement: a first read of a big sheet records 100,000.
    for chunk in write.keys.chunks(300) {
        let tuples = vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(",");
        let mut insert = tx.prepare_cached(&format!(
            "INSERT INTO seen_rows (connection_id, row_key, origin, line, first_seen_at, phone, cells) VALUES {tuples}"
        ))?;
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 7);
        for (key, line) in chunk {
            let trace = write.traces.get(key);
            values.extend([
                Value::Integer(id),
                Value::Text(key.clone()),
                Value::Text(origin.to_owned()),
                Value::Integer(*line as i64),
                Value::Text(now.clone()),
                trace.map_or(Value::Null, |t| Value::Text(t.phone.clone())),
                trace.map_or(Value::Null, |t| Value::Text(t.encode_cells())),
            ]);
        }
        insert.execute(rusqlite::params_from_iter(values))?;
    }
    for (keys, gone) in [(&write.gone, true), (&write.back, false)] {
        for chunk in keys.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(",");
            let mut update = tx.prepare_cached(&format!(
                "UPDATE seen_rows SET gone = ? WHERE connection_id = ? AND row_key IN ({marks})"
            ))?;
            let values = [Value::Integer(i64::from(gone)), Value::Integer(id)]
                .into_iter()
                .chain(chunk.iter().map(|k| Value::Text(k.clone())));
            update.execute(rusqlite::params_from_iter(values))?;
        }
    }
    let mut retrace =
        tx.prepare_cached("UPDATE seen_rows SET phone = ?3, cells = ?4 WHERE connection_id = ?1 AND row_key = ?2")?;
    for (key, trace) in &write.retrace {
        retrace.execute(params![id, key, trace.phone, trace.encode_cells()])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::rows::{Outcome, RowKey, Rules, StartFrom};
    use crate::source::{Row, Table};

    fn table(names: &[&str]) -> Table {
        Table {
            headers: vec!["Name".into()],
            rows: names
                .iter()
                .enumerate()
                .map(|(i, n)| Row { line: i + 2, cells: vec![n.to_string()], ..Default::default() })
                .collect(),
        }
    }

    fn observe(store: &Store, id: i64, names: &[&str]) -> Observation {
        let key = RowKey::Fingerprint;
        let rules = Rules { key: &key, start_from: StartFrom::AllRows, used_columns: &[], phone_column: None };
        super::observe(store, id, table(names), &rules, chrono::Utc::now()).unwrap()
    }

    fn connection(store: &Store) -> i64 {
        store.insert_connection("c", &serde_json::json!({}), true, chrono::Utc::now()).unwrap()
    }

    #[test]
    fn a_failing_caller_rolls_the_observation_back() {
        let store = Store::open_in_memory().unwrap();
        let id = connection(&store);
        let obs = observe(&store, id, &["Anna"]);
        let result: Result<(), Error> = store.commit_observation(&obs, |tx| {
            tx.set_setting("ledger", &serde_json::json!("written"))?;
            Err(Error::StaleRows { connection_id: 0 })
        });
        assert!(result.is_err(), "the caller's error comes back");
        assert_eq!(store.setting("ledger").unwrap(), None, "the caller's own write was rolled back");
        let again = observe(&store, id, &["Anna"]);
        assert_eq!(again.new_rows().len(), 1, "and the row is still new, so it is not lost");
    }

    #[test]
    fn the_callers_writes_commit_with_the_keys() {
        let store = Store::open_in_memory().unwrap();
        let id = connection(&store);
        let obs = observe(&store, id, &["Anna"]);
        let n = store
            .commit_observation(&obs, |tx| {
                tx.set_setting("ledger", &serde_json::json!(obs.new_rows().len()))?;
                Ok::<_, Error>(obs.new_rows().len())
            })
            .unwrap();
        assert_eq!(n, 1, "the closure's value is returned");
        assert_eq!(store.setting("ledger").unwrap(), Some(serde_json::json!(1)), "its write is committed");
        assert!(observe(&store, id, &["Anna"]).new_rows().is_empty(), "and the row is seen");
    }

    #[test]
    fn a_stale_observation_is_refused() {
        let store = Store::open_in_memory().unwrap();
        let id = connection(&store);
        let first = observe(&store, id, &["Anna"]);
        let second = observe(&store, id, &["Anna"]);
        store.commit_observation(&first, |_| Ok::<_, Error>(())).unwrap();
        let err = store.commit_observation(&second, |_| Ok::<_, Error>(())).unwrap_err();
        assert!(matches!(err, Error::StaleRows { .. }), "a second process must not hand on Anna again: {err:?}");
    }

    #[test]
    fn a_dismissed_warning_lets_a_smaller_source_through() {
        let store = Store::open_in_memory().unwrap();
        let id = connection(&store);
        let many: Vec<String> = (0..20).map(|i| format!("n{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        store.commit_observation(&observe(&store, id, &many), |_| Ok::<_, Error>(())).unwrap();
        let shrunk = observe(&store, id, &["new"]);
        assert_eq!(shrunk.outcome, Outcome::Shrunk { previous: 20 }, "1 of 20 is held");
        store.commit_observation(&shrunk, |_| Ok::<_, Error>(())).unwrap();
        assert!(store.row_warning(id).unwrap().is_some(), "the warning is remembered for the user");
        store.dismiss_row_warning(id).unwrap();
        assert_eq!(store.row_warning(id).unwrap(), None, "dismissed");
        let after = observe(&store, id, &["new"]);
        assert_eq!(after.new_rows().len(), 1, "the cleared-on-purpose source sends its genuinely new row");
    }

    #[test]
    fn dismissing_a_note_about_skipped_rows_keeps_the_shrink_check() {
        let store = Store::open_in_memory().unwrap();
        let id = connection(&store);
        let key = RowKey::Column("ID".into());
        let rules = Rules { key: &key, start_from: StartFrom::AllRows, used_columns: &[], phone_column: None };
        let rows = |n: usize, blank_id: bool| Table {
            headers: vec!["ID".into(), "Name".into()],
            rows: (0..n)
                .map(|i| {
                    let id = if blank_id && i == 0 { String::new() } else { i.to_string() };
                    Row { line: i + 2, cells: vec![id, format!("n{i}")], ..Default::default() }
                })
                .collect(),
        };
        let read = |table| super::observe(&store, id, table, &rules, chrono::Utc::now()).unwrap();
        let noted = read(rows(20, true));
        assert!(noted.warning().is_some_and(|w| w.contains("line 2 has no \"ID\"")), "{:?}", noted.warning());
        store.commit_observation(&noted, |_| Ok::<_, Error>(())).unwrap();
        assert_eq!(store.row_note(id).unwrap().as_deref(), noted.warning(), "the note is kept for the card");
        assert_eq!(store.row_warning(id).unwrap(), None, "apart from a warning, which holds rows back");
        store.dismiss_row_warning(id).unwrap();
        assert_eq!(store.row_note(id).unwrap(), None, "and can be dismissed");
        let shrunk = read(rows(1, false));
        assert_eq!(shrunk.outcome, Outcome::Shrunk { previous: 20 }, "a sheet cleared just after is still held");
    }

    #[test]
    fn a_read_of_the_memory_before_a_start_over_is_stale_after_it() {
        let store = Store::open_in_memory().unwrap();
        let id = connection(&store);
        store.commit_observation(&observe(&store, id, &["Anna"]), |_| Ok::<_, Error>(())).unwrap();
        // Another process reads the memory, then the user starts over.
        let elsewhere = observe(&store, id, &["Anna", "Bohdan"]);
        let fresh = crate::source::rows::detect(
            id,
            table(&["Anna", "Bohdan"]),
            &crate::source::rows::Memory::default(),
            &Rules { key: &RowKey::Fingerprint, start_from: StartFrom::NewRows, used_columns: &[], phone_column: None },
            chrono::Utc::now(),
        );
        store.start_over(&fresh).unwrap();
        let late = store.commit_observation(&elsewhere, |_| Ok::<_, Error>(()));
        assert!(
            matches!(late, Err(Error::StaleRows { .. })),
            "the older read must not land on the new memory: {late:?}"
        );
    }

    #[test]
    fn a_note_can_be_dismissed_without_touching_a_shrink_warning() {
        let store = Store::open_in_memory().unwrap();
        let id = connection(&store);
        store.conn().execute(
            "INSERT INTO row_state (connection_id, key_mode, identity_columns, last_count, warning, note, generation, updated_at)
             VALUES (?1, 'fingerprint', '[]', 40, 'the source now has 2 row(s)', 'line 3 has no ID', 1, 'now')",
            [id],
        )
        .unwrap();
        store.dismiss_row_note(id).unwrap();
        assert_eq!(store.row_note(id).unwrap(), None, "the note goes");
        assert!(store.row_warning(id).unwrap().is_some(), "the shrink warning stays, holding rows back");
        assert_eq!(store.row_memory(id).unwrap().state.unwrap().last_count, Some(40), "and so does its count");
    }

    #[test]
    fn forgetting_starts_over_and_deleting_the_connection_cleans_up() {
        let store = Store::open_in_memory().unwrap();
        let id = connection(&store);
        store.commit_observation(&observe(&store, id, &["Anna"]), |_| Ok::<_, Error>(())).unwrap();
        store.forget_rows(id).unwrap();
        let memory = store.row_memory(id).unwrap();
        assert!(memory.state.is_none() && memory.seen.is_empty(), "nothing remembered after forgetting");
        store.commit_observation(&observe(&store, id, &["Anna"]), |_| Ok::<_, Error>(())).unwrap();
        store.conn().execute("DELETE FROM connections WHERE id = ?1", [id]).unwrap();
        let memory = store.row_memory(id).unwrap();
        assert!(memory.seen.is_empty(), "a removed connection's keys go with it (foreign key cascade)");
    }
}
