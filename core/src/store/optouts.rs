//! The `optouts` table: numbers (E.164) that are never texted.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::{Error, Store};

/// An opted-out number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptOut {
    /// E.164.
    pub phone: String,
    /// Why, or where it came from.
    pub note: Option<String>,
    /// When it was added (RFC 3339).
    pub added_at: String,
}

impl Store {
    /// Adds numbers (E.164) in one transaction; returns how many were new.
    pub fn add_optouts(&self, phones: &[(String, Option<String>)], now: DateTime<Utc>) -> Result<usize, Error> {
        self.write(|tx| {
            let mut insert =
                tx.prepare_cached("INSERT OR IGNORE INTO optouts (phone, note, added_at) VALUES (?1, ?2, ?3)")?;
            let mut added = 0;
            for (phone, note) in phones {
                added += insert.execute(params![phone, note, now.to_rfc3339()])?;
            }
            Ok(added)
        })
    }

    /// Removes a number; returns whether it was there.
    pub fn remove_optout(&self, phone: &str) -> Result<bool, Error> {
        Ok(self.conn().execute("DELETE FROM optouts WHERE phone = ?1", [phone])? > 0)
    }

    /// Every opted-out number, sorted.
    pub fn optouts(&self) -> Result<Vec<OptOut>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT phone, note, added_at FROM optouts ORDER BY phone")?;
        let rows = stmt.query_map([], |r| Ok(OptOut { phone: r.get(0)?, note: r.get(1)?, added_at: r.get(2)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The opted-out numbers as a set, for filtering a run.
    pub fn optout_set(&self) -> Result<HashSet<String>, Error> {
        Ok(self.optouts()?.into_iter().map(|o| o.phone).collect())
    }
}
