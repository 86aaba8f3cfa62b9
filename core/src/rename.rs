//! Renaming a connection. Its history stays (the ledger refers to its id),
//! and connections that run right after it follow the new name.

use chrono::Utc;
use rusqlite::params;

use crate::{store, Core, Error};

impl Core {
    /// Renames connection `old` to `new`: the same rules as a new name, and
    /// `DuplicateConnection` when another connection has it. One transaction,
    /// so a failure leaves both names as they were.
    pub fn rename_connection(&self, old: &str, new: &str) -> Result<(), Error> {
        let stored = self.stored_connection(old)?;
        if new == old {
            return Ok(());
        }
        if new.trim().is_empty() || new.trim() != new || new.chars().count() > 80 {
            return Err(Error::Invalid(format!(
                "name: {new:?} must be 1 to 80 characters without leading or trailing spaces"
            )));
        }
        let mut conn = self.store().conn();
        let tx = conn.transaction().map_err(store::Error::from)?;
        let now = Utc::now().to_rfc3339();
        let renamed = tx.execute(
            "UPDATE connections SET name = ?2, spec = json_set(spec, '$.name', ?2), updated_at = ?3 WHERE id = ?1",
            params![stored.id, new, now],
        );
        match renamed {
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                return Err(store::Error::DuplicateConnection(new.to_owned()).into());
            }
            other => other.map_err(store::Error::from)?,
        };
        // "Only after connection X" names X: keep those following it.
        tx.execute(
            "UPDATE connections SET spec = json_set(spec, '$.schedule.after', ?2), updated_at = ?3
             WHERE json_extract(spec, '$.schedule.after') = ?1",
            params![old, new, now],
        )
        .map_err(store::Error::from)?;
        tx.commit().map_err(store::Error::from)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::ConnectionSpec;
    use std::sync::Arc;

    fn spec(name: &str, schedule: serde_json::Value) -> ConnectionSpec {
        serde_json::from_value(serde_json::json!({
            "name": name, "account": "Main",
            "source": {"type": "csv", "path": "orders.csv"},
            "phone_field": "Phone", "message": "Hi {{Name}}",
            "schedule": schedule,
        }))
        .expect("a spec")
    }

    fn core() -> (tempfile::TempDir, Core) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let core = Core::open(dir.path(), Arc::new(crate::secrets::MemorySecrets::new())).expect("a core");
        (dir, core)
    }

    fn insert(core: &Core, spec: &ConnectionSpec) {
        let value = serde_json::to_value(spec).expect("json");
        core.store().insert_connection(&spec.name, &value, false, Utc::now()).expect("inserted");
    }

    #[test]
    fn a_renamed_connection_keeps_its_id_and_its_followers_follow() {
        let (_dir, core) = core();
        insert(&core, &spec("Orders", serde_json::json!({"every_minutes": 15})));
        insert(&core, &spec("Thanks", serde_json::json!({"after": "Orders"})));
        let id = core.stored_connection("Orders").expect("there").id;

        core.rename_connection("Orders", "Замовлення").expect("renamed");

        let renamed = core.stored_connection("Замовлення").expect("the new name");
        assert_eq!(renamed.id, id, "the same connection, so its history stays");
        assert_eq!(renamed.spec["name"], "Замовлення", "the spec says the new name too");
        assert!(core.stored_connection("Orders").is_err(), "the old name is gone");
        let follower = core.stored_connection("Thanks").expect("there");
        assert_eq!(follower.spec["schedule"]["after"], "Замовлення", "a follower follows the new name");
    }

    #[test]
    fn a_taken_or_blank_name_is_refused_and_nothing_changes() {
        let (_dir, core) = core();
        insert(&core, &spec("Orders", serde_json::Value::Null));
        insert(&core, &spec("Thanks", serde_json::json!({"after": "Orders"})));
        let taken = core.rename_connection("Orders", "Thanks").expect_err("taken");
        assert!(matches!(taken, Error::Store(store::Error::DuplicateConnection(ref n)) if n == "Thanks"), "{taken:?}");
        let blank = core.rename_connection("Orders", " ").expect_err("blank");
        assert!(matches!(blank, Error::Invalid(_)), "{blank:?}");
        assert!(core.rename_connection("Nope", "Other").is_err(), "no such connection");
        assert_eq!(core.stored_connection("Thanks").expect("there").spec["schedule"]["after"], "Orders");
        assert!(core.stored_connection("Orders").is_ok(), "nothing was renamed");
    }
}
