//! `cargo bench -p sendrow-core --bench new_rows`: how long one run's read and
//! new-row detection take on a 100,000-row CSV after 50 rows were appended,
//! and the process's peak memory meanwhile. Goals: at most 1 s and 150 MB on
//! the 2-core machine CI runs on.
//!
//! For scale it also times a naive detector (each current key looked up by
//! linear search in the list of seen keys) on a tenth of the rows, and
//! extrapolates: it is quadratic, so 10x the rows is 100x the time.
//!
//! A plain `fn main` (no criterion): one measured run is what a connection
//! does every tick, so it is the figure that matters. Not a test: nothing
//! here fails on a slow machine; it prints the figures next to the goals.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use sendrow_core::source::rows::{RowKey, Rules, StartFrom};
use sendrow_core::source::{self, SourceSpec};
use sendrow_core::store::observe;
use sendrow_core::store::{self, Store};

const ROWS: usize = 100_000;
const APPENDED: usize = 50;
const GOAL_TIME: Duration = Duration::from_secs(1);
const GOAL_MB: f64 = 150.0;

fn write_csv(path: &Path, rows: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create the CSV"));
    // Semicolons and a Ukrainian header, as a Ukrainian Excel export has them.
    writeln!(out, "Замовлення;Ім'я;Телефон;Місто;Сума;Дата").unwrap();
    for i in 0..rows {
        writeln!(out, "{};Клієнт {i};+38067{:07};Київ;{}.50;2025-10-{:02}", 100_000 + i, i, i % 997, i % 28 + 1)
            .unwrap();
    }
}

/// The process's peak resident memory in MB, from /proc (Linux only).
fn peak_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Resets the peak so it covers only what follows (Linux 4.0+); returns
/// whether that worked, so the printout can say what the figure covers.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn main() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temp folder");
    let path = dir.path().join("orders.csv");
    let spec = SourceSpec::Csv { path: path.clone() };
    let store = Store::open(dir.path()).expect("the store opens");
    let id = store.insert_connection("bench", &serde_json::json!({}), true, Utc::now()).expect("a connection row");
    let key = RowKey::Fingerprint;
    let used = ["Ім'я".to_owned(), "Телефон".to_owned()];
    let rules = Rules { key: &key, start_from: StartFrom::NewRows, used_columns: &used, phone_column: None };
    let run = || {
        let started = Instant::now();
        let table = runtime.block_on(source::read(&spec)).expect("the CSV reads");
        let read = started.elapsed();
        let obs = observe(&store, id, table, &rules, Utc::now()).expect("detection runs");
        let detected = started.elapsed();
        store.commit_observation(&obs, |_| Ok::<_, store::Error>(())).expect("the commit succeeds");
        (obs, read, detected - read, started.elapsed() - detected)
    };

    write_csv(&path, ROWS);
    let (baseline, read, detect, commit) = run();
    println!(
        "baseline of {} rows: read {read:.2?}, detect {detect:.2?}, commit {commit:.2?} (once per connection)",
        baseline.total
    );

    write_csv(&path, ROWS + APPENDED);
    let peak_is_run_only = reset_peak();
    let (obs, read, detect, commit) = run();
    let total = read + detect + commit;
    assert_eq!(obs.new_rows().len(), APPENDED, "the bench measures the real thing: exactly the appended rows are new");
    let peak = peak_mb();

    // Naive detector on a tenth of the rows: the seen keys as a Vec and a
    // linear search per current key.
    let memory = store.row_memory(id).expect("the keys load");
    let seen: Vec<&String> = memory.seen.iter().take(ROWS / 10).collect();
    let current: Vec<String> = seen.iter().map(|k| k.to_string()).chain((0..5).map(|i| format!("new{i}"))).collect();
    let started = Instant::now();
    let naive_new = current.iter().filter(|k| !seen.iter().any(|s| s == k)).count();
    let naive = started.elapsed();
    assert_eq!(naive_new, 5, "the naive detector finds the same new keys");

    let status = |ok: bool| if ok { "ok" } else { "OVER GOAL" };
    println!(
        "run after appending {APPENDED} rows to {ROWS}: {} new, {} rows in the file",
        obs.new_rows().len(),
        obs.total
    );
    println!("  read   {read:>10.2?}");
    println!("  detect {detect:>10.2?}   (load seen keys from SQLite + fingerprint + compare)");
    println!("  commit {commit:>10.2?}");
    println!("  total  {total:>10.2?}   goal <= {GOAL_TIME:?}: {}", status(total <= GOAL_TIME));
    match peak {
        Some(mb) => println!(
            "  peak memory {mb:.1} MB{}   goal <= {GOAL_MB} MB: {}",
            if peak_is_run_only { " (this run)" } else { " (whole process)" },
            status(mb <= GOAL_MB)
        ),
        None => println!("  peak memory: not available on this OS (VmHWM is Linux-only)"),
    }
    println!(
        "naive linear search over {} keys: {naive:.2?}; at {ROWS} rows it would be ~{:.1?} (quadratic)",
        ROWS / 10,
        naive * 100
    );
}
