//! Exactly once at the edges (ARCHITECTURE.md, "Invariants"): rows typed
//! left to right, numbers corrected later, opt-outs that arrive while a
//! message waits. Real CSV, real SQLite, the loopback simulator; every test
//! checks what 8x8 received.

use sendrow_core::compose::Country;
use sendrow_core::run::RunOptions;
use sendrow_core::sim::Fault;
use sendrow_core::store::EntryStatus;

use crate::run::{kyiv, quick, Shop};

fn ua() -> Country {
    Country::parse("UA").unwrap()
}

/// Orders with an amount the message uses.
fn write_orders(shop: &Shop, rows: &[&str]) {
    let mut text = String::from("Order ID,Name,Phone,Amount\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(shop.csv(), text).unwrap();
}

const WITH_AMOUNT: &str = "{{Name}}, order {{Order ID}}: {{Amount}} UAH.";

#[tokio::test]
async fn a_row_typed_left_to_right_goes_once_complete_with_or_without_an_id_column() {
    for row_key in [serde_json::json!({"column": "Order ID"}), serde_json::Value::Null] {
        let shop = Shop::open().await;
        write_orders(&shop, &["5,Olena,0671234567,"]);
        shop.add(serde_json::json!({"row_key": row_key, "message": WITH_AMOUNT})).await.unwrap();
        let early = shop.run(&quick()).await;
        assert_eq!((early.sent, early.incomplete, early.new_rows), (0, 1, 0), "{row_key}: not yet: {early:?}");
        assert!(
            early.rows_to_fix[0].describe().contains("\"Amount\" still empty"),
            "{row_key}: the run names what is missing: {:?}",
            early.rows_to_fix
        );
        assert!(shop.core.history("Orders").unwrap().is_empty(), "{row_key}: nothing written off");
        let (preview, _) = shop.core.preview("Orders", None).await.unwrap();
        assert_eq!(preview[0].composed.status.as_str(), "incomplete", "{row_key}: the preview says so too");

        write_orders(&shop, &["5,Olena,0671234567,1200"]);
        let done = shop.run(&quick()).await;
        assert_eq!(done.sent, 1, "{row_key}: complete now, sent: {done:?}");
        assert_eq!(shop.run(&quick()).await.sent, 0, "{row_key}: and once");
        let texts: Vec<String> = shop.sim.messages().into_iter().map(|m| m.text).collect();
        assert_eq!(texts, ["Olena, order 5: 1200 UAH."], "{row_key}: never \"Olena, order 5: \"");
    }
}

#[tokio::test]
async fn a_number_fixed_later_is_sent_once_with_or_without_an_id_column() {
    for row_key in [serde_json::json!({"column": "Order ID"}), serde_json::Value::Null] {
        let shop = Shop::open().await;
        shop.write(&["1,Olena,0671234567", "2,Ivan,050 111 22"]);
        shop.add(serde_json::json!({"row_key": row_key})).await.unwrap();
        let first = shop.run(&quick()).await;
        assert_eq!((first.sent, first.skipped), (1, 1), "{row_key}: Ivan's number is too short: {first:?}");
        let named: Vec<String> = first.rows_to_fix.iter().map(|r| r.describe()).collect();
        assert!(named[0].starts_with("line 3: "), "{row_key}: the run names the line: {named:?}");
        let (preview, _) = shop.core.preview("Orders", None).await.unwrap();
        assert_eq!(preview.len(), 1, "{row_key}: the preview still lists it: {preview:?}");
        assert_eq!(preview[0].composed.status.as_str(), "invalid_phone", "{row_key}: with why");
        let again = shop.run(&quick()).await;
        assert_eq!((again.sent, again.skipped), (0, 1), "{row_key}: not lost, still waiting: {again:?}");
        let last = shop.core.connection_view("Orders").unwrap().last_run.unwrap();
        assert_eq!(last.rows_to_fix, again.rows_to_fix, "{row_key}: the card reads it from the last run");

        shop.write(&["1,Olena,0671234567", "2,Ivan,050 111 22 33"]);
        let fixed = shop.run(&quick()).await;
        assert_eq!((fixed.sent, fixed.skipped), (1, 0), "{row_key}: the corrected number goes: {fixed:?}");
        assert_eq!(shop.run(&quick()).await.sent, 0, "{row_key}: once");
        assert_eq!(shop.destinations(), ["380501112233", "380671234567"], "{row_key}: each customer once");
    }
}

#[tokio::test]
async fn a_number_opted_out_while_its_message_waited_is_never_texted() {
    // Held by the flood guard, then "send all".
    let shop = Shop::open().await;
    shop.write(&["1,A,0671111111", "2,B,0672222222"]);
    shop.add(serde_json::json!({"flood_limit": 1})).await.unwrap();
    assert_eq!(shop.run(&quick()).await.held, 2, "both held");
    shop.core.add_optout("0672222222", ua(), None).unwrap();
    let released = shop.run(&RunOptions { release_held: true, ..quick() }).await;
    assert_eq!(released.sent, 1, "only A goes: {released:?}");
    assert_eq!(shop.destinations(), ["380671111111"], "B was opted out while held");
    let b = shop.core.history("Orders").unwrap().into_iter().find(|e| e.row_key == "2").unwrap();
    assert_eq!(b.status, EntryStatus::Skipped, "B is skipped: {b:?}");
    assert!(b.reason.as_deref().unwrap_or_default().contains("opt-out list"), "with why: {b:?}");

    // Waiting for quiet hours, then the morning run.
    let shop = Shop::open().await;
    shop.write(&["1,A,0671111111"]);
    shop.add(serde_json::json!({"quiet_hours": {"from": "21:00", "to": "08:00"}})).await.unwrap();
    let night = shop.run(&RunOptions { now: kyiv(2026, 5, 1, 23, 0), ..quick() }).await;
    assert_eq!(night.waiting, 1, "waits for the morning");
    shop.core.add_optout("0671111111", ua(), None).unwrap();
    let morning = shop.run(&RunOptions { now: kyiv(2026, 5, 2, 8, 0), ..quick() }).await;
    assert_eq!(morning.sent, 0, "opted out at night: {morning:?}");

    // Failed, then "resend failed".
    let shop = Shop::open().await;
    shop.write(&["1,A,0671111111"]);
    shop.add(serde_json::json!({})).await.unwrap();
    shop.sim.queue_faults([Fault::Unavailable; 5]);
    assert_eq!(shop.run(&quick()).await.failed, 1, "8x8 was busy");
    shop.core.add_optout("0671111111", ua(), None).unwrap();
    let resent = shop.core.resend_failed("Orders", &quick()).await.unwrap();
    assert_eq!(resent.sent, 0, "opted out before the retry: {resent:?}");
    assert!(shop.sim.messages().is_empty(), "8x8 never saw any of them");
}
