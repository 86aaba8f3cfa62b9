//! The local SQLite store: the only module that writes SQL.
//!
//! One `rusqlite::Connection` behind a `std::sync::Mutex`; critical sections are
//! short and never span an `.await`. Schema changes are numbered SQL files
//! applied in one transaction and counted in `PRAGMA user_version`. A database
//! written by a newer Sendrow is refused before anything is written to it.
//! Secrets are not here: the keychain holds them (see `secrets`).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::account::{Account, AccountStatus, Region};

/// The migrations, in order. Never edit one that has shipped: add a new file.
const MIGRATIONS: &[&str] =
    &[include_str!("migrations/0001_accounts.sql"), include_str!("migrations/0002_settings.sql")];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The database file's name inside the data folder.
pub const DB_FILE: &str = "sendrow.db";

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file was written by a newer Sendrow; it is left untouched.
    #[error(
        "the data in {path} was written by a newer version of Sendrow (schema {found}, this version knows up to {supported}); \
         it has not been touched: update Sendrow, or point --data-dir at another folder"
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The file could not be opened or is not a Sendrow database.
    #[error("cannot open the Sendrow database {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's reason.
        source: rusqlite::Error,
    },
    /// A name that must be unique is taken.
    #[error("an account named {0:?} already exists: choose another name, or remove the old one first")]
    DuplicateAccount(String),
    /// Any other SQLite failure.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Fields of an account that is about to be saved.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    /// Unique, user-chosen name.
    pub name: &'a str,
    /// 8x8 subaccount ID.
    pub subaccount_id: &'a str,
    /// The region, or `None` for a custom base URL.
    pub region: Option<Region>,
    /// The API base URL requests go to.
    pub base_url: &'a str,
    /// Names the keychain entry holding the key.
    pub secret_ref: &'a str,
    /// Status at creation.
    pub status: &'a AccountStatus,
    /// When it was created (and verified, when `verified` is set).
    pub now: DateTime<Utc>,
    /// Whether `status` comes from a verification that reached 8x8.
    pub verified: bool,
}

/// Handle to the SQLite database of one data folder.
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating when missing) the database in `data_dir` and brings its
    /// schema up to date.
    pub fn open(data_dir: &Path) -> Result<Store, Error> {
        let path = data_dir.join(DB_FILE);
        let conn = Connection::open(&path).map_err(|source| Error::Open { path: path.clone(), source })?;
        Self::from_connection(conn, &path)
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> Result<Store, Error> {
        let conn = Connection::open_in_memory()?;
        Self::from_connection(conn, Path::new(":memory:"))
    }

    fn from_connection(mut conn: Connection, path: &Path) -> Result<Store, Error> {
        // Read the version before any pragma: WAL mode writes the file header,
        // and a newer database must stay byte-for-byte as it was.
        let found = user_version(&conn).map_err(|source| Error::Open { path: path.to_owned(), source })?;
        if found > SCHEMA_VERSION {
            return Err(Error::TooNew { path: path.to_owned(), found, supported: SCHEMA_VERSION });
        }
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn, MIGRATIONS.len())?;
        Ok(Store { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (the
        // transaction rolls back on drop), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, Error> {
        Ok(user_version(&self.conn())?)
    }

    /// Saves a new account; fails with `DuplicateAccount` when the name is taken.
    pub fn insert_account(&self, new: &NewAccount<'_>) -> Result<Account, Error> {
        let conn = self.conn();
        let (status, reason, code) = new.status.to_columns();
        let now = new.now.to_rfc3339();
        let verified_at = new.verified.then(|| now.clone());
        let inserted = conn.execute(
            "INSERT INTO accounts (name, subaccount_id, region, base_url, secret_ref, status, status_reason, status_code, verified_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                new.name,
                new.subaccount_id,
                new.region.map(Region::as_str),
                new.base_url,
                new.secret_ref,
                status,
                reason,
                code,
                verified_at,
                now
            ],
        );
        match inserted {
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                return Err(Error::DuplicateAccount(new.name.to_owned()))
            }
            other => other?,
        };
        drop(conn);
        Ok(self.account(new.name)?.expect("the account was inserted just now"))
    }

    /// Every account, by name.
    pub fn accounts(&self) -> Result<Vec<Account>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{ACCOUNT_SELECT} ORDER BY name COLLATE NOCASE"))?;
        let rows = stmt.query_map([], account_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The account called `name`, if there is one.
    pub fn account(&self, name: &str) -> Result<Option<Account>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{ACCOUNT_SELECT} WHERE name = ?1"))?;
        Ok(stmt.query_row([name], account_from_row).optional()?)
    }

    /// Records the outcome of a verification (or of a later call that showed the
    /// key no longer works).
    pub fn set_account_status(&self, name: &str, status: &AccountStatus, now: DateTime<Utc>) -> Result<(), Error> {
        let (status, reason, code) = status.to_columns();
        self.conn().execute(
            "UPDATE accounts SET status = ?2, status_reason = ?3, status_code = ?4, verified_at = ?5 WHERE name = ?1",
            params![name, status, reason, code, now.to_rfc3339()],
        )?;
        Ok(())
    }

    /// Deletes the account; returns whether it existed.
    pub fn delete_account(&self, name: &str) -> Result<bool, Error> {
        Ok(self.conn().execute("DELETE FROM accounts WHERE name = ?1", [name])? > 0)
    }

    /// A setting's JSON value.
    pub fn setting(&self, key: &str) -> Result<Option<serde_json::Value>, Error> {
        let text: Option<String> =
            self.conn().query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Stores a setting.
    pub fn set_setting(&self, key: &str, value: &serde_json::Value) -> Result<(), Error> {
        self.conn().execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value.to_string()],
        )?;
        Ok(())
    }
}

const ACCOUNT_SELECT: &str = "SELECT name, subaccount_id, region, base_url, secret_ref, status, status_reason, status_code, verified_at, created_at FROM accounts";

fn account_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    let region: Option<String> = row.get(2)?;
    let status: String = row.get(5)?;
    Ok(Account {
        name: row.get(0)?,
        subaccount_id: row.get(1)?,
        region: region.as_deref().and_then(Region::parse),
        base_url: row.get(3)?,
        secret_ref: row.get(4)?,
        status: AccountStatus::from_columns(&status, row.get(6)?, row.get(7)?),
        verified_at: row.get(8)?,
        created_at: row.get(9)?,
    })
}

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Applies the pending migrations up to `target` (a count) in one transaction:
/// either the schema reaches `target` or nothing changes.
fn migrate(conn: &mut Connection, target: usize) -> Result<(), Error> {
    let tx = conn.transaction()?;
    let current = user_version(&tx)? as usize;
    for sql in &MIGRATIONS[current.min(target)..target] {
        tx.execute_batch(sql)?;
    }
    if current < target {
        // PRAGMA takes no bound parameters; `target` is our own integer.
        tx.execute_batch(&format!("PRAGMA user_version = {target}"))?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(status: &AccountStatus) -> NewAccount<'_> {
        NewAccount {
            name: "main",
            subaccount_id: "shop_hq",
            region: Some(Region::Eu),
            base_url: "https://sms.8x8.uk",
            secret_ref: "ref-1",
            status,
            now: Utc::now(),
            verified: true,
        }
    }

    #[test]
    fn fresh_database_reaches_the_current_schema() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION, "all migrations applied");
    }

    #[test]
    fn every_older_schema_migrates_and_keeps_its_data() {
        for start in 0..MIGRATIONS.len() {
            let dir = tempfile::tempdir().unwrap();
            {
                let mut conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
                migrate(&mut conn, start).unwrap();
                if start >= 1 {
                    conn.execute(
                        "INSERT INTO accounts (name, subaccount_id, region, base_url, secret_ref, status, created_at)
                         VALUES ('old', 'old_hq', 'apac', 'https://sms.8x8.com', 'r', 'active', '2026-01-01T00:00:00Z')",
                        [],
                    )
                    .unwrap();
                }
            }
            let store = Store::open(dir.path()).unwrap();
            assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION, "migrated from version {start}");
            if start >= 1 {
                let old = store.account("old").unwrap().expect("the account written at the old version survives");
                assert_eq!(old.region, Some(Region::Apac), "columns keep their meaning across versions");
            }
            store.set_setting("language", &serde_json::json!("uk")).unwrap();
            assert_eq!(store.setting("language").unwrap(), Some(serde_json::json!("uk")), "latest tables usable");
        }
    }

    #[test]
    fn newer_database_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&format!("CREATE TABLE future (x); PRAGMA user_version = {}", SCHEMA_VERSION + 1))
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let files_before = std::fs::read_dir(dir.path()).unwrap().count();
        let err = Store::open(dir.path()).err().expect("a newer schema must be refused");
        assert!(matches!(err, Error::TooNew { found, .. } if found == SCHEMA_VERSION + 1), "got {err:?}");
        assert!(err.to_string().contains("newer version of Sendrow"), "the message says why: {err}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "not one byte of the newer database changed");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), files_before, "no -wal or -shm file appeared");
    }

    #[test]
    fn failed_migration_leaves_the_old_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, 1).unwrap();
        // A table the next migration wants to create already exists: it must fail whole.
        conn.execute_batch("CREATE TABLE settings (k)").unwrap();
        assert!(migrate(&mut conn, MIGRATIONS.len()).is_err(), "the clash must fail the migration");
        assert_eq!(user_version(&conn).unwrap(), 1, "the version did not move past the failed migration");
    }

    #[test]
    fn duplicate_account_names_are_refused_by_name() {
        let store = Store::open_in_memory().unwrap();
        let active = AccountStatus::Active;
        store.insert_account(&sample(&active)).unwrap();
        let mut again = sample(&active);
        again.secret_ref = "ref-2";
        let err = store.insert_account(&again).unwrap_err();
        assert!(matches!(err, Error::DuplicateAccount(ref n) if n == "main"), "got {err:?}");
    }

    #[test]
    fn status_round_trips_with_reason_and_code() {
        let store = Store::open_in_memory().unwrap();
        store.insert_account(&sample(&AccountStatus::Active)).unwrap();
        let inactive =
            AccountStatus::Inactive { reason: "Request was not authenticated properly".into(), code: Some(1200) };
        store.set_account_status("main", &inactive, Utc::now()).unwrap();
        let got = store.account("main").unwrap().unwrap();
        assert_eq!(got.status, inactive, "reason and code are kept");
        assert!(store.delete_account("main").unwrap(), "the account existed");
        assert!(store.account("main").unwrap().is_none(), "and is gone");
    }
}
