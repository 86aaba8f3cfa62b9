//! The local SQLite store: the only module that writes SQL.
//!
//! One `rusqlite::Connection` behind a `std::sync::Mutex`; critical sections are
//! short and never span an `.await`. Schema changes are numbered SQL files
//! applied in one transaction and counted in `PRAGMA user_version`. A database
//! written by a newer Sendrow is refused before anything is written to it.
//! Secrets are not here: the keychain holds them (see `secrets`).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

mod accounts;
mod connections;
mod ledger;
mod optouts;
mod reminders;
mod rows;
mod runs;

pub use accounts::NewAccount;
pub use connections::{Removal, StoredConnection};
pub use ledger::{reason_quiet_hours, reason_skipped, Claim, Entry, EntryStatus, NewEntry, Outcome, Resolution};
pub use optouts::OptOut;
pub use rows::observe;

use rusqlite::{params, Connection, OptionalExtension};

/// The migrations, in order. Never edit one that has shipped: add a new file.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_accounts.sql"),
    include_str!("migrations/0002_settings.sql"),
    include_str!("migrations/0003_connections.sql"),
    include_str!("migrations/0004_rows.sql"),
    include_str!("migrations/0005_ledger.sql"),
    include_str!("migrations/0006_optouts.sql"),
    include_str!("migrations/0007_runs.sql"),
    include_str!("migrations/0008_runs_already_sent.sql"),
    include_str!("migrations/0009_queued_at_and_run_cost.sql"),
    include_str!("migrations/0010_row_note.sql"),
    include_str!("migrations/0011_exactly_once_edges.sql"),
    include_str!("migrations/0012_sandbox_flag.sql"),
    include_str!("migrations/0013_reminders.sql"),
    include_str!("migrations/0014_cancelled_flag.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a statement waits for another process's write to finish (the
/// window, a CLI run and a daemon share one file). Writes are short and
/// chunked, so this is only reached when something is badly stuck.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

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
    #[error("cannot open the Sendrow database {path}: {source}{}", open_hint(source))]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's reason.
        source: rusqlite::Error,
    },
    /// A name that must be unique is taken.
    #[error("an account named {0:?} already exists: choose another name, or remove the old one first")]
    DuplicateAccount(String),
    /// A second sandbox account; the sandbox is one account per data folder.
    #[error("the sandbox account already exists: use it, or remove it first")]
    DuplicateSandbox,
    /// A connection name that is taken.
    #[error("a connection named {0:?} already exists: choose another name, or remove the old one first")]
    DuplicateConnection(String),
    /// Another process recorded a read of this connection's rows after this
    /// one started; nothing of this read was recorded.
    #[error(
        "another Sendrow process read the rows of connection {connection_id} at the same time; \
         nothing from this read was recorded or sent: run it again"
    )]
    StaleRows {
        /// The connection.
        connection_id: i64,
    },
    /// Any other SQLite failure.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// What to do about a database that cannot be opened for writing.
fn open_hint(source: &rusqlite::Error) -> &'static str {
    match source.sqlite_error_code() {
        Some(
            rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::PermissionDenied,
        ) => {
            "; Sendrow must be able to write this file and its folder: check that both are writable by you \
             (not on a read-only disk or share), or point --data-dir at another folder"
        }
        _ => "",
    }
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
        make_private(&path);
        let conn = Connection::open(&path).map_err(|source| Error::Open { path: path.clone(), source })?;
        // Any SQLite failure while opening (a read-only folder or file,
        // say) is about this file: name it.
        Self::from_connection(conn, &path).map_err(|e| match e {
            Error::Sqlite(source) => Error::Open { path: path.clone(), source },
            other => other,
        })
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
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a committed claim (`sending`) must survive a power cut too,
        // or the message could be sent again after it (docs/message-states.md). Runs
        // commit in chunks, so the cost is a few syncs per run.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // 16 MB of page cache (the default is 2 MB): a run over a big sheet
        // writes 100,000 rows into several indexes, which thrash a small cache.
        conn.pragma_update(None, "cache_size", -16_000)?;
        // The log is copied into the file once it passes 8,000 pages (32 MB)
        // rather than 1,000: a run's claims and outcomes rewrite the same pages
        // chunk after chunk, which were copied after every commit.
        conn.pragma_update(None, "wal_autocheckpoint", 8_000)?;
        migrate(&mut conn, MIGRATIONS.len())?;
        // A file Sendrow may read but not write would fail only later, at
        // the first outcome to record: find out now, while the path is known.
        conn.execute_batch("BEGIN IMMEDIATE; COMMIT")?;
        Ok(Store { conn: Mutex::new(conn) })
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (the
        // transaction rolls back on drop), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` in one immediate write transaction: everything it writes
    /// commits together or not at all.
    pub fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, Error>) -> Result<T, Error> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// [`Store::write`] for what must not be lost to a busy database (the
    /// outcome of a request 8x8 answered): tried again, a few times, when
    /// another process held its write past [`BUSY_TIMEOUT`].
    pub(crate) fn write_patiently<T>(
        &self,
        f: impl Fn(&rusqlite::Transaction<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut tries = 1;
        loop {
            match self.write(&f) {
                Err(Error::Sqlite(e)) if is_busy(&e) && tries < 5 => tries += 1,
                other => return other,
            }
        }
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, Error> {
        Ok(user_version(&self.conn())?)
    }

    /// A setting's JSON value.
    pub fn setting(&self, key: &str) -> Result<Option<serde_json::Value>, Error> {
        let text: Option<String> =
            self.conn().query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Stores a setting.
    pub fn set_setting(&self, key: &str, value: &serde_json::Value) -> Result<(), Error> {
        self.conn().execute(SET_SETTING, params![key, value.to_string()])?;
        Ok(())
    }
}

/// A write transaction lent to a caller so its own rows are committed
/// together with the store's (see `Store::commit_observation`). Tables add
/// their writes as methods here, so SQL stays in this module; the `Store`
/// itself is locked meanwhile, so a closure holding a `Tx` must not call it.
/// (Table modules under `store` reach the connection through the private field.)
pub struct Tx<'a> {
    conn: &'a Connection,
}

impl Tx<'_> {
    /// Stores a setting, in this transaction.
    pub fn set_setting(&self, key: &str, value: &serde_json::Value) -> Result<(), Error> {
        self.conn.execute(SET_SETTING, params![key, value.to_string()])?;
        Ok(())
    }
}

const SET_SETTING: &str =
    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// The database holds customers' names and numbers: on Unix only its owner
/// may read it (0600; SQLite gives its -wal and -shm files the same mode). A
/// new file is created so; an older, looser one is tightened when it is ours.
fn make_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        // An empty file is a valid empty database; SQLite fills it in.
        let _ = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Applies the pending migrations up to `target` (a count) in one transaction:
/// either the schema reaches `target` or nothing changes.
fn migrate(conn: &mut Connection, target: usize) -> Result<(), Error> {
    if user_version(conn)? as usize >= target {
        return Ok(());
    }
    // IMMEDIATE: the app and a CLI upgrading the same file at once take
    // turns (the second finds the work done) instead of one failing as
    // "database is locked" when its read lock cannot become a write lock.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
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
    use crate::model::{AccountStatus, Region};
    use chrono::Utc;

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
            sandbox: false,
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
                if start >= 5 {
                    // A message 8x8 queued, and one still pending, from before `queued_at`.
                    conn.execute_batch(
                        "INSERT INTO connections (id, name, spec, created_at, updated_at)
                         VALUES (1, 'Orders', '{}', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00');
                         INSERT INTO messages (connection_id, row_key, text, client_message_id, status, umid,
                                               created_at, updated_at)
                         VALUES (1, 'A', 'hi', 'sr-1-1', 'queued', 'u-1', '2026-01-01T00:00:00+00:00',
                                 '2026-01-02T00:00:00+00:00'),
                                (1, 'B', 'hi', 'sr-1-2', 'pending', NULL, '2026-01-01T00:00:00+00:00',
                                 '2026-01-02T00:00:00+00:00');",
                    )
                    .unwrap();
                }
                if start >= 5 {
                    // A shrink warning held from before notes on skipped rows.
                    conn.execute(
                        "INSERT INTO row_state (connection_id, key_mode, identity_columns, last_count, warning,
                                                generation, updated_at)
                         VALUES (1, 'fingerprint', '[]', 30, 'shrank', 3, '2026-01-02T00:00:00+00:00')",
                        [],
                    )
                    .unwrap();
                }
                if start >= 7 {
                    conn.execute(
                        "INSERT INTO runs (connection_id, started_at, finished_at, sent)
                         VALUES (1, '2026-01-02T00:00:00+00:00', '2026-01-02T00:00:01+00:00', 1)",
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
            // Messages written after migration 0009 have `queued_at` set by the ledger itself.
            if (5..9).contains(&start) {
                let queued_at: Vec<Option<String>> = store
                    .conn()
                    .prepare("SELECT queued_at FROM messages ORDER BY id")
                    .unwrap()
                    .query_map([], |r| r.get(0))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                assert_eq!(
                    queued_at,
                    [Some("2026-01-02T00:00:00+00:00".to_owned()), None],
                    "an old queued message counts its receipts from its last change, a pending one from nothing"
                );
            }
            if start >= 5 {
                let state = store.row_memory(1).unwrap().state.expect("the old row state survives");
                assert_eq!((state.last_count, state.note), (Some(30), None), "no note on an old state");
                assert_eq!(store.row_warning(1).unwrap().as_deref(), Some("shrank"), "its warning is still shown");
            }
            if start >= 7 {
                let run = store.last_run(1).unwrap().expect("the old run survives");
                assert_eq!((run.sent, run.segments, run.cost, run.pending), (1, 0, None, 0), "new columns default");
            }
            store.set_setting("language", &serde_json::json!("uk")).unwrap();
            assert_eq!(store.setting("language").unwrap(), Some(serde_json::json!("uk")), "latest tables usable");
        }
    }

    #[test]
    fn a_cancelled_entry_keeps_freeing_its_row_after_the_flag_migration() {
        let before = MIGRATIONS.iter().position(|sql| sql.contains("ADD COLUMN cancelled")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        {
            let mut conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
            migrate(&mut conn, before).unwrap();
            // Before the flag: row 1's reminder cancelled, row 2's queued.
            conn.execute_batch(
                "INSERT INTO connections (id, name, spec, created_at, updated_at)
                   VALUES (1, 'Orders', '{}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
                 INSERT INTO messages (id, connection_id, row_key, text, client_message_id, status, created_at, updated_at)
                   VALUES (1, 1, '1', 'hi', 'c1', 'cancelled', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
                          (2, 1, '2', 'hi', 'c2', 'queued', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');",
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let conn = store.conn();
        let flags: Vec<(i64, i64)> = conn
            .prepare("SELECT id, cancelled FROM messages ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(flags, [(1, 1), (2, 0)], "the cancelled entry, and only it, is flagged");
        let add = |id: i64, row: &str| {
            conn.execute(
                "INSERT INTO messages (id, connection_id, row_key, text, client_message_id, status, created_at, updated_at)
                 VALUES (?1, 1, ?2, 'hi', 'c' || ?1, 'pending', '2026-01-02T00:00:00Z', '2026-01-02T00:00:00Z')",
                params![id, row],
            )
        };
        assert!(add(3, "1").is_ok(), "a row whose reminder was cancelled may get a new entry");
        assert!(add(4, "2").is_err(), "a row with a live entry may not get a second");
    }

    #[test]
    fn the_sandbox_flag_goes_to_the_old_sandbox_only() {
        let before = MIGRATIONS.iter().position(|sql| sql.contains("ADD COLUMN is_sandbox")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        {
            let mut conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
            migrate(&mut conn, before).unwrap();
            // What an older version left: its sandbox (known by name); a user's
            // "Sandbox" in a region and one with its own address, both rewired
            // to that version's simulator at its last start; the user's
            // `sendrow sim` account, which only shares the simulator's subaccount.
            conn.execute_batch(
                "INSERT INTO accounts (name, subaccount_id, region, base_url, secret_ref, status, created_at) VALUES
                   ('Sandbox', 'sandbox_hq', NULL, 'http://127.0.0.1:40123', 'r1', 'active', '2026-01-01T00:00:00Z'),
                   ('local', 'sandbox_hq', NULL, 'http://127.0.0.1:8080', 'r2', 'active', '2026-01-01T00:00:00Z');",
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let sandbox = store.sandbox_account().unwrap().expect("the old sandbox is marked");
        assert_eq!(sandbox.name, "Sandbox");
        assert!(!store.account("local").unwrap().unwrap().sandbox, "a user's simulator account is not the sandbox");
        assert!(store.move_sandbox_account("http://127.0.0.1:40999", Utc::now()).unwrap());
        assert_eq!(
            store.account("local").unwrap().unwrap().base_url,
            "http://127.0.0.1:8080",
            "only the sandbox moves"
        );

        for (region, expected) in [(Some("eu"), "https://sms.8x8.uk"), (None, "http://127.0.0.1:40123")] {
            let dir = tempfile::tempdir().unwrap();
            {
                let mut conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
                migrate(&mut conn, before).unwrap();
                conn.execute(
                    "INSERT INTO accounts (name, subaccount_id, region, base_url, secret_ref, status, created_at)
                     VALUES ('Sandbox', 'shop_hq', ?1, 'http://127.0.0.1:40123', 'r1', 'active', '2026-01-01T00:00:00Z')",
                    [region],
                )
                .unwrap();
            }
            let store = Store::open(dir.path()).unwrap();
            assert!(store.sandbox_account().unwrap().is_none(), "a user's own Sandbox ({region:?}) is not marked");
            let mine = store.account("Sandbox").unwrap().unwrap();
            assert_eq!(mine.base_url, expected, "a region gives the address back");
            match (region, &mine.status) {
                (Some(_), AccountStatus::Active) => {}
                (None, AccountStatus::Inactive { reason, .. }) => {
                    assert!(reason.contains("add it again"), "a lost address is told, not used: {reason}")
                }
                (_, status) => panic!("{region:?}: unexpected {status:?}"),
            }
        }
    }

    /// Another process (the window, a daemon) holding a write longer than
    /// SQLite's old 5-second wait must not cost the outcome of a request.
    #[test]
    fn an_outcome_waits_for_another_processs_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO connections (id, name, spec, created_at, updated_at)
                 VALUES (1, 'Orders', '{}', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00');
                 INSERT INTO messages (id, connection_id, row_key, text, client_message_id, status, created_at, updated_at)
                 VALUES (7, 1, 'A', 'hi', 'sr-1-7', 'sending', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00');",
            )
            .unwrap();
        let (locked, wait_locked) = std::sync::mpsc::channel();
        let path = dir.path().join(DB_FILE);
        let other = std::thread::spawn(move || {
            let conn = Connection::open(path).unwrap();
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            locked.send(()).unwrap();
            std::thread::sleep(std::time::Duration::from_secs(6));
            conn.execute_batch("COMMIT").unwrap();
        });
        wait_locked.recv().unwrap();
        let outcome = [(7, Outcome::Queued { umid: "u-7".into() })];
        store.record(&outcome, Utc::now()).expect("the outcome is recorded once the other write ends");
        other.join().unwrap();
        let status: String =
            store.conn().query_row("SELECT status FROM messages WHERE id = 7", [], |r| r.get(0)).unwrap();
        assert_eq!(status, "queued");
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

    #[test]
    fn the_database_file_is_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mode: String = store.conn().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal", "readers do not block the writer");
        drop(store);
        // WAL is a property of the file: a plain connection, as another
        // process would open, finds it without asking.
        let other = Connection::open(dir.path().join(DB_FILE)).unwrap();
        let mode: String = other.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal", "the mode is kept in the file");
    }
}
