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

fn paid() -> serde_json::Value {
    serde_json::json!({"conditions": {"all": [{"column": "Статус", "op": "equals", "value": "оплачено"},
                                              {"column": "Сума", "op": "greater_than", "value": "500"}]}})
}

#[tokio::test]
async fn a_row_is_sent_the_first_time_it_meets_the_conditions_and_never_twice() {
    let shop = Clinic::open(SHOP).await;
    shop.write(&[
        "1,Olena,0671234567,нове,\"1 200,50 грн\"",
        "2,Ivan,0501112233, ОПЛАЧЕНО ,900",
        "3,Petro,0931234567,оплачено,450 грн",
    ]);
    let saved = shop.add(paid()).await.unwrap();
    assert_eq!(saved.will_send, 1, "only the paid order over 500 would go now");
    let preview = shop.core.preview("C", None).await.unwrap().0;
    assert_eq!(preview.iter().map(|p| p.row.as_str()).collect::<Vec<_>>(), ["2"], "preview lists only rows that go");

    let now = kyiv(2026, 12, 1, 12, 0);
    let first = shop.run_at(now).await;
    assert_eq!((first.sent, first.not_matching, first.new_rows), (1, 2, 1), "{first:?}");
    assert_eq!(shop.status_of("1"), [], "a row not matching yet is not done: no entry, not seen");

    // The status turns to paid: the next read sends it.
    shop.write(&[
        "1,Olena,0671234567,оплачено,\"1 200,50 грн\"",
        "2,Ivan,0501112233,оплачено,900",
        "3,Petro,0931234567,оплачено,450 грн",
    ]);
    let second = shop.run_at(now).await;
    assert_eq!((second.sent, second.not_matching), (1, 1), "{second:?}");
    assert_eq!(shop.status_of("1"), [EntryStatus::Queued]);

    // Back and forth never texts twice.
    for status in ["нове", "оплачено", "нове", "оплачено"] {
        shop.write(&[&format!("1,Olena,0671234567,{status},\"1 200,50 грн\""), "2,Ivan,0501112233,оплачено,900"]);
        let again = shop.run_at(now).await;
        assert_eq!(again.sent, 0, "{status}: {again:?}");
    }
    assert_eq!(shop.sim.messages().len(), 2, "two SMS in all");
    assert_eq!(shop.status_of("3"), [], "450 is not over 500: still waiting for a match, never sent");
}

#[tokio::test]
async fn new_rows_takes_as_baseline_only_the_rows_matching_at_save() {
    let shop = Clinic::open(SHOP).await;
    shop.write(&["1,Olena,0671234567,оплачено,600", "2,Ivan,0501112233,нове,900"]);
    let saved =
        shop.add(serde_json::json!({"start_from": "new_rows", "conditions": paid()["conditions"]})).await.unwrap();
    assert_eq!(saved.will_send, 0);
    let now = kyiv(2026, 12, 1, 12, 0);
    let first = shop.run_at(now).await;
    assert_eq!((first.sent, first.not_matching), (0, 1), "the paid row was there at save: {first:?}");
    shop.write(&[
        "1,Olena,0671234567,оплачено,600",
        "2,Ivan,0501112233,оплачено,900",
        "3,Petro,0931234567,оплачено,700",
    ]);
    let second = shop.run_at(now).await;
    assert_eq!(second.sent, 2, "row 2 came to match after the save, row 3 is new: {second:?}");
    assert_eq!(shop.status_of("1"), [], "the baseline row is never sent");
    let mut sent: Vec<String> = shop.sim.messages().into_iter().map(|m| m.destination).collect();
    sent.sort();
    assert_eq!(sent, ["380501112233", "380931234567"]);
}
