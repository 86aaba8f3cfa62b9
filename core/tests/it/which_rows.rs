//! Which rows and when (product.md §8–9) through `Core`: conditions on cells
//! and reminders from a date in the row, against a real CSV file, the real
//! SQLite store and the loopback simulator, with injected clocks.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeZone};
use sendrow_core::run::RunOptions;
use sendrow_core::send::RetryPolicy;
use sendrow_core::sim::Simulator;
use sendrow_core::store::EntryStatus;
use sendrow_core::Core;

use crate::sim;

struct Clinic {
    dir: tempfile::TempDir,
    core: Core,
    sim: Simulator,
    header: &'static str,
}

impl Clinic {
    async fn open(header: &'static str) -> Clinic {
        let sim = sim().await;
        let dir = tempfile::tempdir().unwrap();
        let secrets = std::sync::Arc::new(sendrow_core::secrets::MemorySecrets::new());
        let core = Core::open(&dir.path().join("data"), secrets).unwrap();
        crate::add_main_account(&core, &sim).await;
        Clinic { dir, core, sim, header }
    }

    fn csv(&self) -> PathBuf {
        self.dir.path().join("rows.csv")
    }

    fn write(&self, rows: &[&str]) {
        let mut text = format!("{}\n", self.header);
        for r in rows {
            text.push_str(r);
            text.push('\n');
        }
        std::fs::write(self.csv(), text).unwrap();
    }

    fn spec(&self, extra: serde_json::Value) -> sendrow_core::connection::ConnectionSpec {
        let mut spec = serde_json::json!({
            "name": "C",
            "source": {"type": "csv", "path": "rows.csv"},
            "row_key": {"column": "ID"},
            "start_from": "all_rows",
            "account": "main",
            "phone_field": "Phone",
            "default_country": "UA",
            "message": "Hi {{Name}}",
        });
        for (k, v) in extra.as_object().unwrap() {
            spec[k] = v.clone();
        }
        serde_json::from_value(spec).unwrap()
    }

    async fn add(&self, extra: serde_json::Value) -> Result<sendrow_core::connection::Saved, sendrow_core::Error> {
        self.core.add_connection(self.spec(extra), self.dir.path()).await
    }

    async fn run_at(&self, now: DateTime<FixedOffset>) -> sendrow_core::run::RunSummary {
        let options = RunOptions {
            now,
            retry: RetryPolicy {
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
                ..Default::default()
            },
            ..RunOptions::default()
        };
        self.core.run("C", &options).await.unwrap()
    }

    fn status_of(&self, row: &str) -> Vec<EntryStatus> {
        self.core
            .history("C")
            .unwrap()
            .into_iter()
            .filter(|e| e.row_key == row && !e.is_test)
            .map(|e| e.status)
            .collect()
    }
}

fn kyiv(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(2 * 3600).unwrap().with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

const SHOP: &str = "ID,Name,Phone,Статус,Сума";

#[tokio::test]
async fn bad_conditions_and_reminders_are_refused_at_save_naming_the_field() {
    let shop = Clinic::open(SHOP).await;
    shop.write(&["1,Olena,0671234567,нове,100"]);
    async fn shop_err(shop: &Clinic, json: serde_json::Value) -> String {
        shop.add(json).await.unwrap_err().to_string()
    }
    let err = shop_err(
        &shop,
        serde_json::json!({"conditions": {"all": [{"column": "Status", "op": "equals", "value": "paid"}]}}),
    )
    .await;
    assert!(err.contains("conditions.all[0].column") && err.contains("\"Статус\""), "{err}");
    let err = shop_err(&shop, serde_json::json!({"send_at": {"column": "Visit"}})).await;
    assert!(err.contains("send_at.column") && err.contains("\"Сума\""), "{err}");
    let mut spec = shop.spec(serde_json::json!({"send_at": {"column": "Сума"}}));
    spec.row_key = None;
    let err = shop.core.add_connection(spec, shop.dir.path()).await.unwrap_err().to_string();
    assert!(err.starts_with("send_at:") && err.contains("ID column") && err.contains("row_key"), "{err}");
    let unknown_op = sendrow_core::connection::ConnectionSpec::parse(
        &serde_json::json!({"name": "C", "source": {"type": "csv", "path": "x.csv"}, "account": "main",
            "phone_field": "Phone", "message": "hi",
            "conditions": {"any": [{"column": "Статус", "op": "is", "value": "paid"}]}})
        .to_string(),
    )
    .unwrap_err()
    .to_string();
    assert!(unknown_op.contains("conditions.any[0].op") && unknown_op.contains("not_contains"), "{unknown_op}");
    assert!(shop.core.connections().unwrap().is_empty(), "nothing was saved");

    let saved = shop
        .add(serde_json::json!({"conditions": {"all": [{"column": "Статус", "op": "equals", "value": "оплачено"}]}}))
        .await
        .unwrap();
    let shown = serde_json::to_value(&saved.connection).unwrap();
    assert_eq!(shown["conditions"]["all"][0]["value"], "оплачено", "connection show --json has them: {shown}");
}
