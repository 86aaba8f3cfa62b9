//! The `connections` table: a connection's validated spec kept whole as JSON,
//! plus the columns queries filter on.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{Error, Store};
use crate::code::Coded;

/// A connection as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredConnection {
    /// Row id; ledger entries refer to it.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// The validated spec, as JSON.
    pub spec: serde_json::Value,
    /// Whether scheduled runs happen.
    pub auto_update: bool,
    /// Why the connection is paused, or `None` when active.
    pub paused_reason: Option<Coded>,
    /// When it was saved first (RFC 3339).
    pub created_at: String,
    /// When it was last changed (RFC 3339); the 5-minute rule counts from here.
    pub updated_at: String,
}

impl Store {
    /// Saves a new connection and returns its id; `DuplicateConnection` when the name is taken.
    pub fn insert_connection(
        &self,
        name: &str,
        spec: &serde_json::Value,
        auto_update: bool,
        now: DateTime<Utc>,
    ) -> Result<i64, Error> {
        insert_connection(&self.conn(), name, spec, auto_update, now)
    }

    /// Replaces a connection's spec and toggle.
    pub fn update_connection(
        &self,
        id: i64,
        spec: &serde_json::Value,
        auto_update: bool,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        self.conn().execute(
            "UPDATE connections SET spec = ?2, auto_update = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, spec.to_string(), auto_update, now.to_rfc3339()],
        )?;
        Ok(())
    }

    /// Every connection, by name.
    pub fn connections(&self) -> Result<Vec<StoredConnection>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY name COLLATE NOCASE"))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The connection called `name`.
    pub fn connection(&self, name: &str) -> Result<Option<StoredConnection>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{SELECT} WHERE name = ?1"))?;
        let found = stmt.query_row([name], from_row).optional()?;
        Ok(found)
    }

    /// Switches scheduled runs on or off.
    pub fn set_auto_update(&self, name: &str, on: bool, now: DateTime<Utc>) -> Result<bool, Error> {
        let changed = self.conn().execute(
            // The spec keeps its own copy of the toggle; both say the same.
            "UPDATE connections SET auto_update = ?2, updated_at = ?3,
                    spec = json_set(spec, '$.auto_update', json(CASE WHEN ?2 THEN 'true' ELSE 'false' END))
             WHERE name = ?1",
            params![name, on, now.to_rfc3339()],
        )?;
        Ok(changed > 0)
    }

    /// Pauses the connection with a reason the user will read, or resumes it (`None`).
    pub fn set_paused(&self, id: i64, reason: Option<&Coded>, now: DateTime<Utc>) -> Result<(), Error> {
        set_paused(&self.conn(), id, reason, now)
    }

    /// Deletes the connection and, through the foreign key, its ledger.
    pub fn delete_connection(&self, name: &str) -> Result<bool, Error> {
        Ok(self.conn().execute("DELETE FROM connections WHERE name = ?1", [name])? > 0)
    }

    /// Deletes the connection unless it has messages a removal would lose
    /// (`unknown`: may have reached 8x8; `failed`: still to be sent), or
    /// `force` says to. Checked and deleted in one transaction, so a run in
    /// another process cannot slip an outcome in between.
    pub fn delete_connection_settled(&self, name: &str, force: bool) -> Result<Removal, Error> {
        self.write(|tx| {
            let counts: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT (SELECT count(*) FROM messages m WHERE m.connection_id = c.id AND m.is_test = 0 AND m.status = 'unknown'),
                            (SELECT count(*) FROM messages m WHERE m.connection_id = c.id AND m.is_test = 0 AND m.status = 'failed')
                     FROM connections c WHERE c.name = ?1",
                    [name],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((unknown, failed)) = counts else { return Ok(Removal::Missing) };
            if (unknown > 0 || failed > 0) && !force {
                return Ok(Removal::Unsettled { unknown, failed });
            }
            tx.execute("DELETE FROM connections WHERE name = ?1", [name])?;
            Ok(Removal::Removed)
        })
    }
}

/// What `delete_connection_settled` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The connection and its history are gone.
    Removed,
    /// There was no such connection.
    Missing,
    /// Kept: it has messages a removal would lose.
    Unsettled {
        /// Messages that may have reached 8x8.
        unknown: i64,
        /// Messages that failed and wait to be sent again.
        failed: i64,
    },
}

/// Inserts a connection through `conn` (a transaction's, to save more with it).
pub(super) fn insert_connection(
    conn: &rusqlite::Connection,
    name: &str,
    spec: &serde_json::Value,
    auto_update: bool,
    now: DateTime<Utc>,
) -> Result<i64, Error> {
    let now = now.to_rfc3339();
    let inserted = conn.execute(
        "INSERT INTO connections (name, spec, auto_update, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![name, spec.to_string(), auto_update, now],
    );
    match inserted {
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
            Err(Error::DuplicateConnection(name.to_owned()))
        }
        other => {
            other?;
            Ok(conn.last_insert_rowid())
        }
    }
}

const SELECT: &str = "SELECT id, name, spec, auto_update, status_reason, created_at, updated_at FROM connections";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredConnection> {
    let spec: String = row.get(2)?;
    Ok(StoredConnection {
        id: row.get(0)?,
        name: row.get(1)?,
        spec: serde_json::from_str(&spec).unwrap_or(serde_json::Value::Null),
        auto_update: row.get(3)?,
        paused_reason: row.get::<_, Option<String>>(4)?.map(|text| Coded::from_stored(&text)),
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
    })
}

pub(super) fn set_paused(
    conn: &rusqlite::Connection,
    id: i64,
    reason: Option<&Coded>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    // Kept with its code (`Coded::to_stored`); `StoredConnection::paused`
    // reads it back.
    conn.execute(
        "UPDATE connections SET status = CASE WHEN ?2 IS NULL THEN 'active' ELSE 'paused' END,
                                status_reason = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, reason.map(Coded::to_stored), now.to_rfc3339()],
    )?;
    Ok(())
}
