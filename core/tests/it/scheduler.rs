//! The scheduler loop through its public API: commands in, events out, a
//! recording runner in place of `Core::run`. Time-based rules run under paused
//! tokio time (`Clock::Tokio`), so hours and days pass instantly and exactly;
//! the file watcher and the tokio-cron-scheduler wake-up run in real time with
//! bounded waits.
//!
//! Not here: the arithmetic of single instants (the 5-minute rule's edges,
//! DST), which `schedule`'s own tests cover; this file checks that the loop
//! acts on it.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use sendrow_core::schedule::Schedule;
use sendrow_core::scheduler::{self, Cause, Clock, Command, Deps, Event, Job, RunFuture, RunOutcome, Runner};
use tokio::sync::{broadcast, mpsc, oneshot, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Kyiv in winter; daily times in these tests are Kyiv times.
fn kyiv() -> FixedOffset {
    FixedOffset::east_opt(2 * 3600).unwrap()
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("a test timestamp in RFC 3339")
}

fn mins(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}

fn job(name: &str, schedule: Option<Schedule>, chosen_at: DateTime<Utc>) -> Job {
    Job {
        name: name.into(),
        schedule,
        auto_update: true,
        chosen_at,
        last_run: None,
        watch_path: None,
        waiting_until: None,
    }
}

fn every(minutes: u32) -> Option<Schedule> {
    Some(Schedule::Every { every_minutes: minutes })
}

fn after(name: &str) -> Option<Schedule> {
    Some(Schedule::After { after: name.into() })
}

/// What the fake runner knows and was asked.
#[derive(Default)]
struct Record {
    calls: Mutex<Vec<String>>,
    /// Runs of these wait for a permit: the test decides when they end.
    holds: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Runs of these take this long (tokio time).
    takes: Mutex<HashMap<String, Duration>>,
    failing: Mutex<HashSet<String>>,
    panicking: Mutex<HashSet<String>>,
    /// Runs read this file, as a real run reads its source.
    reads: Mutex<Option<PathBuf>>,
    active: Mutex<HashMap<String, usize>>,
    most_at_once: AtomicUsize,
}

/// Stands in for the app's runner (which calls `Core::run`).
#[derive(Clone, Default)]
struct Recorder(Arc<Record>);

impl Recorder {
    fn hold(&self, name: &str) -> Arc<Semaphore> {
        let gate = Arc::new(Semaphore::new(0));
        self.0.holds.lock().unwrap().insert(name.into(), gate.clone());
        gate
    }

    fn calls(&self) -> Vec<String> {
        self.0.calls.lock().unwrap().clone()
    }

    /// The most runs of any one connection that were ever in flight at once.
    fn most_at_once(&self) -> usize {
        self.0.most_at_once.load(Ordering::SeqCst)
    }
}

impl Runner for Recorder {
    fn run(&self, connection: &str) -> RunFuture {
        let record = self.0.clone();
        let name = connection.to_owned();
        Box::pin(async move {
            record.calls.lock().unwrap().push(name.clone());
            let now_active = {
                let mut active = record.active.lock().unwrap();
                let n = active.entry(name.clone()).or_default();
                *n += 1;
                *n
            };
            record.most_at_once.fetch_max(now_active, Ordering::SeqCst);
            let gate = record.holds.lock().unwrap().get(&name).cloned();
            if let Some(gate) = gate {
                gate.acquire().await.expect("the gate stays open").forget();
            }
            let takes = record.takes.lock().unwrap().get(&name).copied();
            if let Some(takes) = takes {
                tokio::time::sleep(takes).await;
            }
            let reads = record.reads.lock().unwrap().clone();
            if let Some(path) = reads {
                let _ = std::fs::read(path);
            }
            *record.active.lock().unwrap().get_mut(&name).unwrap() -= 1;
            if record.panicking.lock().unwrap().contains(&name) {
                panic!("a bug in the run of {name}");
            }
            if record.failing.lock().unwrap().contains(&name) {
                RunOutcome::Failed { message: "the sheet is gone".into() }
            } else {
                RunOutcome::Finished { summary: "1 sent".into() }
            }
        })
    }
}

/// A scheduler loop on its own task, and the test's ends of its channels.
struct Engine {
    commands: mpsc::Sender<Command>,
    events: broadcast::Receiver<Event>,
    runner: Recorder,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    _dir: tempfile::TempDir,
}

/// A run start as the events report it.
#[derive(Debug, Clone, PartialEq)]
struct Started {
    name: String,
    cause: Cause,
    at: DateTime<Utc>,
}

impl Engine {
    fn start(clock: Clock) -> Engine {
        let dir = tempfile::tempdir().unwrap();
        let lock = sendrow_core::lock::scheduler(dir.path()).expect("a fresh folder has no scheduler");
        let runner = Recorder::default();
        let (commands, commands_rx) = mpsc::channel(16);
        let (events_tx, events) = broadcast::channel(1024);
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let deps = Deps { runner: Arc::new(runner.clone()), tz: kyiv(), clock, lock };
        let task = tokio::spawn(scheduler::run(deps, commands_rx, events_tx, shutdown_rx));
        Engine { commands, events, runner, shutdown: Some(shutdown), task, _dir: dir }
    }

    /// A loop whose "now" is `starts_at` and moves with (paused) tokio time.
    fn at(starts_at: DateTime<Utc>) -> Engine {
        Engine::start(Clock::Tokio { starts_at })
    }

    async fn send(&self, command: Command) {
        self.commands.send(command).await.expect("the loop is running");
    }

    /// Every event for `span` of tokio time.
    async fn events_for(&mut self, span: Duration) -> Vec<Event> {
        let until = Instant::now() + span;
        let mut seen = Vec::new();
        loop {
            match tokio::time::timeout_at(until, self.events.recv()).await {
                Ok(Ok(event)) => seen.push(event),
                Ok(Err(e)) => panic!("the test must see every event: {e}"),
                Err(_) => return seen,
            }
        }
    }

    /// The runs that start within `span`.
    async fn starts_for(&mut self, span: Duration) -> Vec<Started> {
        starts(&self.events_for(span).await)
    }

    /// Waits (at most `limit`) for the first event `pick` accepts.
    async fn wait_for<T>(&mut self, limit: Duration, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        let until = Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(until, self.events.recv()).await {
                Ok(Ok(event)) => {
                    if let Some(found) = pick(&event) {
                        return found;
                    }
                }
                Ok(Err(e)) => panic!("the test must see every event: {e}"),
                Err(_) => panic!("nothing the test waited for came within {limit:?}"),
            }
        }
    }

    async fn next_start(&mut self, limit: Duration) -> Started {
        self.wait_for(limit, |e| starts(std::slice::from_ref(e)).pop()).await
    }

    async fn stop(mut self) {
        self.shutdown.take().unwrap().send(()).expect("the loop listens for shutdown");
        tokio::time::timeout(mins(1), self.task)
            .await
            .expect("the loop ends promptly once its runs end")
            .expect("the loop does not panic");
    }
}

fn starts(events: &[Event]) -> Vec<Started> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::RunStarted { name, cause, at } => {
                Some(Started { name: name.clone(), cause: cause.clone(), at: *at })
            }
            _ => None,
        })
        .collect()
}

fn times(starts: &[Started]) -> Vec<DateTime<Utc>> {
    starts.iter().map(|s| s.at).collect()
}

fn next_runs(events: &[Event], name: &str) -> Vec<Option<DateTime<Utc>>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::NextRun { name: n, at } if n == name => Some(*at),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn an_interval_runs_every_interval_from_when_it_was_chosen() {
    let now = utc("2026-03-10T10:00:00Z");
    let mut engine = Engine::at(now);
    engine.send(Command::Reload(vec![job("Orders", every(15), now)])).await;
    let events = engine.events_for(mins(50)).await;
    assert_eq!(
        next_runs(&events, "Orders").first(),
        Some(&Some(utc("2026-03-10T10:15:00Z"))),
        "the reload announces the first run, for the window and `connection show`"
    );
    let started = starts(&events);
    assert_eq!(
        times(&started),
        [utc("2026-03-10T10:15:00Z"), utc("2026-03-10T10:30:00Z"), utc("2026-03-10T10:45:00Z")],
        "every 15 minutes, the first one interval after choosing"
    );
    assert!(started.iter().all(|s| s.cause == Cause::Schedule), "these are scheduled runs: {started:?}");
    assert_eq!(engine.runner.calls().len(), 3, "each start reached the runner once");
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn daily_times_follow_the_five_minute_rule() {
    // 12:08 in Kyiv: 12:10 is only 2 minutes away, so it first runs
    // tomorrow; 12:20 is 12 minutes away, so it runs today.
    let now = utc("2026-03-10T10:08:00Z");
    let mut engine = Engine::at(now);
    let at = |t: &str| Some(Schedule::At { at: vec![t.into()] });
    engine.send(Command::Reload(vec![job("Soon", at("12:10"), now), job("Later", at("12:20"), now)])).await;
    let started = engine.starts_for(Duration::from_secs(26 * 3600)).await;
    let seen: Vec<(&str, DateTime<Utc>)> = started.iter().map(|s| (s.name.as_str(), s.at)).collect();
    assert_eq!(
        seen,
        [
            ("Later", utc("2026-03-10T10:20:00Z")),
            ("Soon", utc("2026-03-11T10:10:00Z")),
            ("Later", utc("2026-03-11T10:20:00Z")),
        ],
        "12:20 today and daily; 12:10 not today (under 5 minutes ahead) but tomorrow"
    );
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_connection_after_another_runs_when_that_one_finishes_well() {
    let now = utc("2026-03-10T10:00:00Z");
    let mut engine = Engine::at(now);
    engine.send(Command::Reload(vec![job("Stock", every(15), now), job("Orders", after("Stock"), now)])).await;
    let events = engine.events_for(mins(20)).await;
    let order: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::RunStarted { name, .. } => Some(format!("start {name}")),
            Event::RunFinished { name, .. } => Some(format!("end {name}")),
            _ => None,
        })
        .collect();
    assert_eq!(order, ["start Stock", "end Stock", "start Orders", "end Orders"], "Orders follows Stock's end");
    let orders = starts(&events).into_iter().find(|s| s.name == "Orders").unwrap();
    assert_eq!(orders.cause, Cause::After { connection: "Stock".into() }, "the start says why");
    assert_eq!(next_runs(&events, "Orders"), [None, None], "a chained connection has no time of its own");

    // A failed run of Stock does not set Orders off.
    engine.runner.0.failing.lock().unwrap().insert("Stock".into());
    let started = engine.starts_for(mins(15)).await;
    assert_eq!(
        started.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["Stock"],
        "Stock ran at 10:30 and failed; Orders waits for a run that went through"
    );
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn chains_that_loop_are_refused_and_the_old_schedule_stays() {
    let now = utc("2026-03-10T10:00:00Z");
    let mut engine = Engine::at(now);
    engine.send(Command::Reload(vec![job("A", every(15), now)])).await;
    engine.send(Command::Reload(vec![job("A", after("B"), now), job("B", after("A"), now)])).await;
    let reason = engine
        .wait_for(mins(1), |e| match e {
            Event::ReloadRefused { reason } => Some(reason.clone()),
            _ => None,
        })
        .await;
    assert!(reason.contains(r#""A" runs after "B", which runs after "A""#), "the refusal names the loop: {reason}");
    engine.send(Command::Reload(vec![job("A", after("A"), now)])).await;
    let reason = engine
        .wait_for(mins(1), |e| match e {
            Event::ReloadRefused { reason } => Some(reason.clone()),
            _ => None,
        })
        .await;
    assert!(reason.contains(r#""A" cannot update only after itself"#), "a self-loop is refused too: {reason}");
    let started = engine.next_start(mins(30)).await;
    assert_eq!(
        (started.name.as_str(), started.at),
        ("A", utc("2026-03-10T10:15:00Z")),
        "refused reloads leave the last good schedule running"
    );
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn triggers_during_a_run_become_one_follow_up_run() {
    let now = utc("2026-03-10T10:00:00Z");
    let mut engine = Engine::at(now);
    let gate = engine.runner.hold("Orders");
    engine.send(Command::Reload(vec![job("Orders", every(1), now)])).await;
    let first = engine.next_start(mins(2)).await;
    assert_eq!(first.at, utc("2026-03-10T10:01:00Z"), "the first minute's run starts and is held");
    for _ in 0..3 {
        engine.send(Command::RunNow("Orders".into())).await;
    }
    // Ten more minutes of schedule pass during the held run as well.
    let during = engine.starts_for(mins(10)).await;
    assert_eq!(during, [], "nothing starts while the run is in flight");
    gate.add_permits(1);
    let after_it = engine.starts_for(Duration::from_secs(30)).await;
    assert_eq!(after_it.len(), 1, "three forced triggers and ten missed minutes make one follow-up: {after_it:?}");
    assert_eq!(after_it[0].cause, Cause::Forced, "a forced trigger wins over the schedule's");
    assert_eq!(after_it[0].at, utc("2026-03-10T10:11:00Z"), "right when the held run ended");
    gate.add_permits(10);
    assert_eq!(engine.runner.most_at_once(), 1, "one connection never ran twice at once");
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_run_longer_than_its_interval_never_overlaps_the_next() {
    let now = utc("2026-03-10T10:00:00Z");
    let mut engine = Engine::at(now);
    engine.runner.0.takes.lock().unwrap().insert("Orders".into(), Duration::from_secs(150));
    // A quick neighbour wakes the loop every minute while Orders runs.
    engine.send(Command::Reload(vec![job("Orders", every(1), now), job("Quick", every(1), now)])).await;
    let started: Vec<Started> = engine.starts_for(mins(20)).await.into_iter().filter(|s| s.name == "Orders").collect();
    assert!(started.len() >= 5, "runs kept happening: {started:?}");
    for pair in started.windows(2) {
        assert_eq!(
            pair[1].at - pair[0].at,
            chrono::Duration::seconds(150),
            "each run starts when the one before ends, not every minute on top of it"
        );
    }
    assert_eq!(engine.runner.most_at_once(), 1, "never two runs of one connection at once");
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_schedule_missed_while_closed_runs_once_at_start() {
    let now = utc("2026-03-10T10:00:00Z");
    let mut engine = Engine::at(now);
    let hourly =
        Job { last_run: Some(utc("2026-03-07T09:30:00Z")), ..job("Hourly", every(60), utc("2026-03-01T00:00:00Z")) };
    let daily = Job {
        last_run: Some(utc("2026-03-07T07:00:00Z")),
        ..job("Daily", Some(Schedule::At { at: vec!["09:00".into()] }), utc("2026-03-01T00:00:00Z"))
    };
    engine.send(Command::Reload(vec![hourly, daily])).await;
    let started = engine.starts_for(mins(90)).await;
    let seen: Vec<(&str, DateTime<Utc>)> = started.iter().map(|s| (s.name.as_str(), s.at)).collect();
    assert_eq!(
        seen,
        [("Daily", now), ("Hourly", now), ("Hourly", utc("2026-03-10T11:00:00Z"))],
        "three days closed: each runs once on start (not 72 or 3 times), then on its schedule"
    );
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn messages_held_by_quiet_hours_go_out_when_they_end_whatever_the_schedule() {
    // 22:30 in Kyiv; quiet hours end at 08:00 (06:00 UTC). The daily run is at
    // 22:00 and "after" waits for another connection: neither would come.
    let now = utc("2026-03-10T20:30:00Z");
    let ends = utc("2026-03-11T06:00:00Z");
    let mut engine = Engine::at(now);
    let daily = Job {
        waiting_until: Some(ends),
        last_run: Some(now),
        ..job("Daily", Some(Schedule::At { at: vec!["22:00".into()] }), utc("2026-03-01T00:00:00Z"))
    };
    let chained = Job { waiting_until: Some(ends), ..job("Chained", after("Nobody"), now) };
    let off = Job { waiting_until: Some(ends), auto_update: false, ..job("Off", None, now) };
    engine.send(Command::Reload(vec![daily, chained, off])).await;
    let events = engine.events_for(Duration::from_secs(12 * 3600)).await;
    assert_eq!(next_runs(&events, "Chained").first(), Some(&Some(ends)), "the window shows when they go out");
    let seen: Vec<(String, Cause, DateTime<Utc>)> =
        starts(&events).into_iter().map(|s| (s.name, s.cause, s.at)).collect();
    assert_eq!(
        seen,
        [("Chained".to_owned(), Cause::QuietHoursEnded, ends), ("Daily".to_owned(), Cause::QuietHoursEnded, ends)],
        "each runs once at 08:00 (not again before the store is asked); toggled off stays off"
    );
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn with_auto_update_off_only_a_forced_run_happens() {
    let now = utc("2026-03-10T10:00:00Z");
    let mut engine = Engine::at(now);
    let off = Job { auto_update: false, ..job("Orders", every(1), now) };
    let follower = Job { auto_update: false, ..job("Follower", after("Orders"), now) };
    engine.send(Command::Reload(vec![off, follower])).await;
    let events = engine.events_for(mins(60)).await;
    assert_eq!(starts(&events), [], "an hour with the toggle off: no scheduled run");
    assert_eq!(next_runs(&events, "Orders"), [None], "and nothing is announced as next");
    engine.send(Command::RunNow("Orders".into())).await;
    let started = engine.starts_for(mins(5)).await;
    assert_eq!(
        started.iter().map(|s| (s.name.as_str(), &s.cause)).collect::<Vec<_>>(),
        [("Orders", &Cause::Forced)],
        "the arrow still runs it; its follower, toggled off too, does not follow"
    );
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn pause_all_stops_scheduled_runs_and_resume_catches_up_once() {
    let now = utc("2026-03-10T10:00:00Z");
    let mut engine = Engine::at(now);
    engine.send(Command::Reload(vec![job("Orders", every(15), now)])).await;
    engine.send(Command::PauseAll).await;
    let events = engine.events_for(mins(60)).await;
    assert!(events.contains(&Event::Paused), "the tray learns it is paused");
    assert_eq!(starts(&events), [], "an hour paused: no run");
    engine.send(Command::RunNow("Orders".into())).await;
    let forced = engine.next_start(mins(1)).await;
    assert_eq!(forced.cause, Cause::Forced, "a forced run works while paused");
    engine.send(Command::ResumeAll).await;
    let started = engine.starts_for(mins(16)).await;
    assert_eq!(
        times(&started),
        [utc("2026-03-10T11:15:00Z")],
        "after resuming, the interval counts on from the forced run at 11:00"
    );

    engine.send(Command::PauseAll).await;
    let _ = engine.events_for(mins(45)).await;
    engine.send(Command::ResumeAll).await;
    let started = engine.starts_for(mins(5)).await;
    assert_eq!(
        times(&started),
        [utc("2026-03-10T12:01:00Z")],
        "three intervals missed while paused: one run when resumed"
    );
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_run_that_panics_is_a_failed_run_and_the_next_one_still_comes() {
    let now = utc("2026-03-10T10:00:00Z");
    let mut engine = Engine::at(now);
    engine.runner.0.panicking.lock().unwrap().insert("Orders".into());
    engine.send(Command::Reload(vec![job("Orders", every(5), now)])).await;
    let outcome = engine
        .wait_for(mins(6), |e| match e {
            Event::RunFinished { name, outcome } if name == "Orders" => Some(outcome.clone()),
            _ => None,
        })
        .await;
    assert!(
        matches!(&outcome, RunOutcome::Failed { message } if message.contains("internal error")),
        "a panic is reported as a failure, not lost: {outcome:?}"
    );
    let next = engine.next_start(mins(6)).await;
    assert_eq!(next.at, utc("2026-03-10T10:10:00Z"), "the schedule goes on after a panicking run");
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_the_run_in_flight() {
    let now = utc("2026-03-10T10:00:00Z");
    let mut engine = Engine::at(now);
    let gate = engine.runner.hold("Orders");
    engine.send(Command::Reload(vec![job("Orders", None, now)])).await;
    engine.send(Command::RunNow("Orders".into())).await;
    let _ = engine.next_start(mins(1)).await;
    let shutdown = engine.shutdown.take().unwrap();
    shutdown.send(()).unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(!engine.task.is_finished(), "the loop waits for the run rather than cut it off mid-send");
    gate.add_permits(1);
    let outcome = engine
        .wait_for(mins(1), |e| match e {
            Event::RunFinished { outcome, .. } => Some(outcome.clone()),
            _ => None,
        })
        .await;
    assert_eq!(outcome, RunOutcome::Finished { summary: "1 sent".into() }, "its end is still reported");
    tokio::time::timeout(mins(1), &mut engine.task).await.expect("then the loop ends").unwrap();
}

/// Real time: tokio-cron-scheduler watches the wall clock, which paused
/// tokio time does not move.
#[tokio::test]
async fn on_the_wall_clock_tokio_cron_scheduler_wakes_the_loop() {
    let mut engine = Engine::start(Clock::Wall);
    let due = Utc::now() + chrono::Duration::seconds(2);
    let chosen = due - chrono::Duration::minutes(1);
    engine.send(Command::Reload(vec![job("Orders", every(1), chosen)])).await;
    let started = engine.next_start(Duration::from_secs(15)).await;
    assert_eq!(started.cause, Cause::Schedule, "the run came from the schedule");
    assert!(started.at >= due, "not before it was due: {} < {due}", started.at);
    engine.stop().await;
}

/// Real time and a real file: the watcher runs on its own thread.
#[tokio::test]
async fn saving_a_watched_file_runs_its_connection_once() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("orders.csv");
    std::fs::write(&file, "Name,Phone\nAnna,+380671234567\n").unwrap();
    let mut engine = Engine::start(Clock::Wall);
    // The run reads the file, as a real one does: reading must not count as a change.
    *engine.runner.0.reads.lock().unwrap() = Some(file.clone());
    let watched = Job {
        watch_path: Some(file.clone()),
        ..job("Orders", Some(Schedule::OnChange { on_change: true }), Utc::now())
    };
    engine.send(Command::Reload(vec![watched])).await;
    // The reload's events go out together, once the watch is in place.
    let next = engine
        .wait_for(Duration::from_secs(10), |e| match e {
            Event::NextRun { at, .. } => Some(*at),
            _ => None,
        })
        .await;
    assert_eq!(next, None, "on change has no time of its own");
    while let Ok(event) = engine.events.try_recv() {
        assert!(!matches!(event, Event::WatchFailed { .. }), "the folder can be watched: {event:?}");
    }

    append(&file, "Boris,+380671234568\n");
    let started = engine.next_start(Duration::from_secs(15)).await;
    assert_eq!(started.cause, Cause::FileChanged, "the save set off the run");
    let more = engine.starts_for(Duration::from_secs(4)).await;
    assert_eq!(more, [], "one save, one run (and the run's own read set off nothing)");

    for i in 0..5 {
        append(&file, &format!("Row {i},+38067000000{i}\n"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = engine.next_start(Duration::from_secs(15)).await;
    assert_eq!(started.cause, Cause::FileChanged, "quick writes set off a run");
    let more = engine.starts_for(Duration::from_secs(4)).await;
    assert_eq!(more, [], "five quick writes make one run, not five");

    // Editors save by writing a new file and renaming it over the old one.
    let temp = folder.path().join(".orders.csv.tmp");
    std::fs::write(&temp, "Name,Phone\nAnna,+380671234567\nNew,+380671234569\n").unwrap();
    std::fs::rename(&temp, &file).unwrap();
    let started = engine.next_start(Duration::from_secs(15)).await;
    assert_eq!(started.cause, Cause::FileChanged, "a save by rename is seen too");
    let more = engine.starts_for(Duration::from_secs(4)).await;
    assert_eq!(more, [], "and runs once");

    std::fs::write(folder.path().join("other.csv"), "x\n").unwrap();
    let more = engine.starts_for(Duration::from_secs(4)).await;
    assert_eq!(more, [], "another file in the folder is not this connection's");
    assert_eq!(engine.runner.calls().len(), 3, "three saves, three runs");
    engine.stop().await;
}

/// Real time and real files: a file saved while nobody watched (the app was
/// closed) runs its connection as soon as it is watched again; one that did
/// not change since its last run does not.
#[tokio::test]
async fn a_file_saved_while_nobody_watched_runs_once_when_watched_again() {
    let folder = tempfile::tempdir().unwrap();
    let changed = folder.path().join("changed.csv");
    let quiet = folder.path().join("quiet.csv");
    std::fs::write(&changed, "Name,Phone\n").unwrap();
    std::fs::write(&quiet, "Name,Phone\n").unwrap();
    let an_hour_ago = Utc::now() - chrono::Duration::hours(1);
    let on_change = |name: &str, path: &std::path::Path, last_run: Option<DateTime<Utc>>| Job {
        watch_path: Some(path.to_owned()),
        last_run,
        ..job(name, Some(Schedule::OnChange { on_change: true }), an_hour_ago - chrono::Duration::hours(1))
    };
    let ran_after_save = Utc::now() + chrono::Duration::minutes(1);
    let jobs = || {
        vec![
            // Saved (just now) after its last run an hour ago.
            on_change("Changed", &changed, Some(an_hour_ago)),
            // Never ran, but chosen two hours ago: saved since.
            on_change("Fresh", &changed, None),
            // Ran after its last save.
            on_change("Quiet", &quiet, Some(ran_after_save)),
        ]
    };
    let mut engine = Engine::start(Clock::Wall);
    engine.send(Command::Reload(jobs())).await;
    let mut started = engine.starts_for(Duration::from_secs(4)).await;
    started.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<_> = started.iter().map(|s| (s.name.as_str(), s.cause.clone())).collect();
    assert_eq!(
        names,
        [("Changed", Cause::FileChanged), ("Fresh", Cause::FileChanged)],
        "the files saved while unwatched run once; the quiet one does not"
    );
    // Watched already: a reload is no reason to run again.
    engine.send(Command::Reload(jobs())).await;
    assert_eq!(engine.starts_for(Duration::from_secs(3)).await, [], "a reload of watched files runs nothing");
    engine.stop().await;
}

fn append(path: &std::path::Path, line: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(line.as_bytes()).unwrap();
}
