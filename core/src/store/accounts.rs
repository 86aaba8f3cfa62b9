//! The `accounts` table.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{Error, Store};
use crate::model::{Account, AccountStatus, Region};

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
    /// Whether this is the built-in sandbox ("Open the sandbox"); at most one is.
    pub sandbox: bool,
}

impl Store {
    /// Saves a new account; fails with `DuplicateAccount` when the name is taken.
    pub fn insert_account(&self, new: &NewAccount<'_>) -> Result<Account, Error> {
        let conn = self.conn();
        let (status, reason, code) = new.status.to_columns();
        let now = new.now.to_rfc3339();
        let verified_at = new.verified.then(|| now.clone());
        let inserted = conn.execute(
            "INSERT INTO accounts (name, subaccount_id, region, base_url, secret_ref, status, status_reason, status_code, verified_at, created_at, is_sandbox)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
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
                now,
                new.sandbox
            ],
        );
        match inserted {
            // The only other unique column, `secret_ref`, is a fresh UUID.
            Err(rusqlite::Error::SqliteFailure(e, msg))
                if e.code == rusqlite::ErrorCode::ConstraintViolation
                    && msg.as_deref().is_some_and(|m| m.contains("is_sandbox")) =>
            {
                return Err(Error::DuplicateSandbox)
            }
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

    /// The built-in sandbox's account (marked when "Open the sandbox"
    /// created it), whatever its name.
    pub fn sandbox_account(&self) -> Result<Option<Account>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{ACCOUNT_SELECT} WHERE is_sandbox = 1"))?;
        Ok(stmt.query_row([], account_from_row).optional()?)
    }

    /// Points the sandbox account, and only it, at the simulator's address of
    /// this start; returns whether there is one.
    pub fn move_sandbox_account(&self, base_url: &str, now: DateTime<Utc>) -> Result<bool, Error> {
        let changed = self.conn().execute(
            "UPDATE accounts SET base_url = ?1, verified_at = ?2 WHERE is_sandbox = 1",
            params![base_url, now.to_rfc3339()],
        )?;
        Ok(changed > 0)
    }

    /// Deletes the account; returns whether it existed.
    pub fn delete_account(&self, name: &str) -> Result<bool, Error> {
        Ok(self.conn().execute("DELETE FROM accounts WHERE name = ?1", [name])? > 0)
    }
}

const ACCOUNT_SELECT: &str = "SELECT name, subaccount_id, region, base_url, secret_ref, status, status_reason, status_code, verified_at, created_at, is_sandbox FROM accounts";

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
        sandbox: row.get(10)?,
    })
}
