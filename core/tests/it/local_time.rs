//! `{{$time}}`, `{{$date}}` and friends are the machine's local time at send
//! time, never UTC: the offset of the run's clock is applied, and the default
//! clock of a preview and a run is the local time zone (checked in a child
//! process whose `TZ` is 14 hours from UTC, so UTC could not pass by chance).

use std::process::Command;
use std::sync::Arc;

use chrono::{Duration, FixedOffset, TimeZone, Utc};
use sendrow_core::account::{AccountInput, Target};
use sendrow_core::connection::ConnectionSpec;
use sendrow_core::run::RunOptions;
use sendrow_core::secrets::{MemorySecrets, Secret};
use sendrow_core::sim::{Simulator, SANDBOX_KEY, SANDBOX_SUBACCOUNT};
use sendrow_core::Core;

use crate::sim;

/// A data folder with one CSV row and the connection "Clock" whose message is
/// only the time variables.
async fn clock_connection(date_format: &str) -> (tempfile::TempDir, Core, Simulator) {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(&dir.path().join("data"), Arc::new(MemorySecrets::new())).unwrap();
    core.add_account(AccountInput {
        name: "main".into(),
        subaccount_id: SANDBOX_SUBACCOUNT.into(),
        target: Target::BaseUrl(sim.base_url()),
        api_key: Secret::new(SANDBOX_KEY),
    })
    .await
    .unwrap();
    std::fs::write(dir.path().join("orders.csv"), "Order ID,Phone\n1,067 123 45 67\n").unwrap();
    let spec: ConnectionSpec = serde_json::from_value(serde_json::json!({
        "name": "Clock",
        "source": {"type": "csv", "path": "orders.csv"},
        "row_key": {"column": "Order ID"},
        "start_from": "all_rows",
        "account": "main",
        "phone_field": "Phone",
        "message": "{{$date}} {{$time}} {{$year}}/{{$month}}/{{$day}}",
        "date_format": date_format
    }))
    .unwrap();
    core.add_connection(spec, dir.path()).await.unwrap();
    (dir, core, sim)
}

#[tokio::test]
async fn a_run_renders_the_time_in_its_clocks_offset() {
    // 23:50 UTC on 9 March is 05:35 on 10 March in Kathmandu (+05:45): UTC
    // would give another day, another hour and another minute.
    let kathmandu = FixedOffset::east_opt(5 * 3600 + 45 * 60).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 3, 9, 23, 50, 0).unwrap().with_timezone(&kathmandu);
    for (format, expected) in
        [("YYYY-MM-DD", "2026-03-10 05:35 2026/03/10"), ("DD.MM.YYYY", "10.03.2026 05:35 2026/03/10")]
    {
        let (_dir, core, sim) = clock_connection(format).await;
        let summary = core.run("Clock", &RunOptions { now, ..RunOptions::default() }).await.unwrap();
        assert_eq!(summary.sent, 1, "the row was sent: {summary:?}");
        let texts: Vec<String> = sim.messages().into_iter().map(|m| m.text).collect();
        assert_eq!(texts, vec![expected.to_owned()], "8x8 got the local wall time, {format}");
    }
}

const CHILD: &str = "local_time::child_preview_and_run_use_the_local_zone";
const OFFSET_VAR: &str = "SENDROW_TEST_UTC_OFFSET_MINUTES";

#[test]
fn variables_follow_the_machines_time_zone() {
    // 14 hours ahead of UTC: the local date and hour always differ from UTC's.
    let out = Command::new(std::env::current_exe().unwrap())
        .args([CHILD, "--exact", "--ignored", "--test-threads=1"])
        .env("TZ", "<+14>-14")
        .env(OFFSET_VAR, "840")
        .output()
        .expect("the test binary runs itself");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the child test failed under TZ=<+14>-14:\n{report}");
    assert!(stdout.contains("1 passed"), "the child test ran (not filtered away):\n{report}");
}

/// `{{$date}} {{$time}}` as the local wall clock shows it `offset` minutes
/// from UTC right now.
fn wall_clock(offset: i64) -> String {
    (Utc::now().naive_utc() + Duration::minutes(offset)).format("%Y-%m-%d %H:%M").to_string()
}

#[tokio::test]
#[ignore = "run by variables_follow_the_machines_time_zone in a child process with TZ set"]
async fn child_preview_and_run_use_the_local_zone() {
    let offset: i64 = std::env::var(OFFSET_VAR)
        .expect("run by variables_follow_the_machines_time_zone, which sets the zone")
        .parse()
        .unwrap();
    assert_eq!(
        i64::from(chrono::Local::now().offset().local_minus_utc()),
        offset * 60,
        "TZ took effect in this process"
    );
    let (_dir, core, sim) = clock_connection("YYYY-MM-DD").await;

    let before = wall_clock(offset);
    let (items, _) = core.preview("Clock", None).await.unwrap();
    let after = wall_clock(offset);
    let shown = &items[0].composed.text[..16];
    assert!(before.as_str() <= shown && shown <= after.as_str(), "the preview's {shown} is local ({before}…{after})");

    let before = wall_clock(offset);
    core.run("Clock", &RunOptions::default()).await.unwrap();
    let after = wall_clock(offset);
    let sent = sim.messages().into_iter().map(|m| m.text).next().expect("the run sent the row");
    let sent = &sent[..16];
    assert!(before.as_str() <= sent && sent <= after.as_str(), "the run's {sent} is local ({before}…{after})");
}
