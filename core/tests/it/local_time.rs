//! `{{$time}}`, `{{$date}}` and friends are the wall time of the run's clock,
//! never UTC. That the default clock is the machine's time zone is checked on
//! the real binary under another `TZ` (`tests/app/flow.rs`).

use std::sync::Arc;

use chrono::{FixedOffset, TimeZone, Utc};
use sendrow_core::connection::ConnectionSpec;
use sendrow_core::run::RunOptions;
use sendrow_core::secrets::MemorySecrets;
use sendrow_core::sim::Simulator;
use sendrow_core::Core;

use crate::sim;

/// A data folder with one CSV row and the connection "Clock" whose message is
/// only the time variables.
async fn clock_connection(date_format: &str) -> (tempfile::TempDir, Core, Simulator) {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(&dir.path().join("data"), Arc::new(MemorySecrets::new())).unwrap();
    crate::add_main_account(&core, &sim).await;
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
