//! The scheduler: the background loop that decides when each connection runs
//! (`docs/connection-spec.md`, Schedules) and hands the run itself to a [`Runner`].
//!
//! Shape (style-anchors §6.6, Atuin's sync component trimmed): [`run`] is one
//! `tokio::select!` loop over commands in ([`Command`]), finished runs, the
//! alarm, file changes and an injected shutdown future; what happened goes out
//! as [`Event`]s on a broadcast channel, so a slow or absent listener never
//! holds up a run.
//!
//! The layers, from pure to I/O:
//! - `plan`: every rule — what is due when, the 5-minute rule (through
//!   `crate::schedule`), catch-up once after sleep or a closed app, chains,
//!   no overlap, coalescing, pause — as a state machine that takes `now`.
//!   [`next_run`] and [`check_chains`] come from there.
//! - `alarm`: wakes the loop at the next due instant. In the app it is
//!   tokio-cron-scheduler on the wall clock ([`Clock::Wall`]); tests use tokio's
//!   clock ([`Clock::Tokio`]) so paused time drives the whole engine. The crate
//!   cannot take paused time (it polls `Utc::now()` every 500 ms), which is
//!   also why it is the right driver in the app: the wall clock keeps counting
//!   through a laptop's sleep, tokio's monotonic clock does not.
//! - `watch`: the `notify` watcher and debounce behind `{"on_change": true}`.
//!
//! Deliberately not here: reading sources, sending, the store. A run is the
//! [`Runner`]'s business (the app's runner calls `Core::run`); a half-written
//! file is the reader's problem, not the watcher's. The loop also never
//! persists `last_run`: the runner records runs in the store and the next
//! [`Command::Reload`] brings them back.

mod alarm;
mod plan;
mod watch;

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinSet;

use crate::lock::SchedulerGuard;
use crate::schedule::Schedule;

pub use plan::{check_chains, next_run};

/// How long shutdown waits for runs in flight before abandoning them. A run
/// cut short mid-send leaves `sending` entries that become `unknown` at the
/// next start, so it is worth waiting for a normal end.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// A connection as the scheduler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The connection's name, unique in a data folder.
    pub name: String,
    /// When it runs by itself; `None` runs only when forced.
    pub schedule: Option<Schedule>,
    /// The toggle: off means no scheduled, chained or on-change runs.
    pub auto_update: bool,
    /// When the schedule was set or auto-update last switched on: the
    /// 5-minute rule and a first interval count from it, and runs from
    /// before it are not "missed".
    pub chosen_at: DateTime<Utc>,
    /// When the connection last started a run, from the store.
    pub last_run: Option<DateTime<Utc>>,
    /// The file to watch when the schedule is `{"on_change": true}`.
    pub watch_path: Option<PathBuf>,
    /// When the earliest messages held back by quiet hours may go out, from
    /// the store: a run then sends them, whatever the schedule.
    pub waiting_until: Option<DateTime<Utc>>,
}

/// What a run came to, as the [`Runner`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum RunOutcome {
    /// The run went through (a run that held a flood or had rejected rows
    /// still went through); connections "after" this one follow.
    Finished {
        /// One line for the tray and history, e.g. "3 sent, 1 rejected".
        summary: String,
    },
    /// The run stopped early; connections "after" this one do not follow.
    Failed {
        /// What went wrong and what to do, for the notification.
        message: String,
    },
}

/// Why a run started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum Cause {
    /// The user asked (the arrow, the tray's "run all now", [`Command::RunNow`]).
    Forced,
    /// An interval or daily time came due, including a missed one caught up.
    Schedule,
    /// The connection it follows finished a run.
    After {
        /// The connection that finished.
        connection: String,
    },
    /// Its source file changed and then stayed quiet.
    FileChanged,
    /// Quiet hours ended and messages found during them may go out.
    QuietHoursEnded,
}

/// The future a [`Runner`] returns.
pub type RunFuture = Pin<Box<dyn Future<Output = RunOutcome> + Send>>;

/// Carries out one run of a connection. The only seam of the scheduler: the
/// app's implementation calls `Core::run`; tests record calls.
pub trait Runner: Send + Sync + 'static {
    /// Runs `connection` once, to the end. The scheduler never calls it twice
    /// at once for one connection. A panic counts as a failed run.
    fn run(&self, connection: &str) -> RunFuture;
}

/// Where the scheduler's sense of time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The wall clock, with wake-ups from tokio-cron-scheduler: the app and
    /// the daemon. Sees sleep, wake and clock changes.
    Wall,
    /// `starts_at` plus the time tokio has counted since the loop began, so
    /// tests drive the engine with `tokio::time::pause` and `advance`.
    Tokio {
        /// The wall time the loop's start stands for.
        starts_at: DateTime<Utc>,
    },
}

/// What the loop needs to run.
pub struct Deps<Tz> {
    /// Carries out runs.
    pub runner: Arc<dyn Runner>,
    /// The time zone daily times are read in (`chrono::Local` in the app).
    pub tz: Tz,
    /// Where "now" comes from.
    pub clock: Clock,
    /// The data folder's scheduler lock ([`crate::lock::scheduler`]), held
    /// for as long as the loop runs so no second scheduler starts there.
    pub lock: SchedulerGuard,
}

/// What the app (window, tray, daemon) asks of the scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// These are now all the connections (at start and after any edit). A set
    /// whose "after" chains loop is refused ([`Event::ReloadRefused`]).
    Reload(Vec<Job>),
    /// Run this connection now, whatever its schedule, toggle or a pause.
    RunNow(String),
    /// Run every known connection now (the tray's "run all now").
    RunAllNow,
    /// Stop scheduled, chained and on-change runs until [`Command::ResumeAll`].
    PauseAll,
    /// Undo [`Command::PauseAll`]; a schedule missed meanwhile runs once.
    ResumeAll,
}

/// What the scheduler tells the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A run of `name` began.
    RunStarted {
        /// The connection.
        name: String,
        /// Why it runs.
        #[serde(flatten)]
        cause: Cause,
        /// When it began.
        at: DateTime<Utc>,
    },
    /// A run of `name` ended.
    RunFinished {
        /// The connection.
        name: String,
        /// How it went.
        outcome: RunOutcome,
    },
    /// When `name` next runs by the clock, or `None` when nothing is timed
    /// (an "after" or on-change schedule, auto-update off, all paused).
    NextRun {
        /// The connection.
        name: String,
        /// The instant.
        at: Option<DateTime<Utc>>,
    },
    /// Scheduled runs are paused.
    Paused,
    /// Scheduled runs are back on.
    Resumed,
    /// A [`Command::Reload`] was refused; the connections before it keep
    /// their schedules.
    ReloadRefused {
        /// Why, naming the connections.
        reason: String,
    },
    /// A connection's file cannot be watched, so saving it triggers nothing.
    WatchFailed {
        /// The connection.
        name: String,
        /// Why.
        reason: String,
    },
    /// Sendrow is asking 8x8 about messages whose answer was lost.
    Reconciling,
    /// What asking 8x8 settled (see `reconcile::Report`).
    Reconciled {
        /// Found at 8x8: now queued.
        found: usize,
        /// Never reached 8x8: sent by the next run.
        not_found: usize,
        /// 8x8 could not say yet.
        still_unknown: usize,
    },
}

/// Runs the scheduler until `shutdown` completes, then waits up to
/// [`SHUTDOWN_GRACE`] for runs in flight. Send [`Command::Reload`] first: the
/// loop starts with no connections.
pub async fn run<Tz>(
    deps: Deps<Tz>,
    mut commands: mpsc::Receiver<Command>,
    events: broadcast::Sender<Event>,
    shutdown: impl Future,
) where
    Tz: TimeZone + Send + Sync + 'static,
    Tz::Offset: Send + Sync,
{
    let Deps { runner, tz, clock, lock: _lock } = deps;
    let mut plan = plan::Plan::new(tz);
    let mut alarm = alarm::Alarm::start(clock).await;
    let mut watch = watch::Watch::new();
    let mut runs = Runs { tasks: JoinSet::new(), names: HashMap::new() };
    let mut commands_open = true;
    tokio::pin!(shutdown);

    loop {
        let now = alarm.now();
        let mut out = plan::Output::default();
        plan.tick(now, &mut out);
        runs.start(&runner, out, &events);
        alarm.arm(plan.wake_at(now)).await;

        let mut out = plan::Output::default();
        tokio::select! {
            _ = &mut shutdown => break,
            command = commands.recv(), if commands_open => {
                let now = alarm.now();
                match command {
                    // The app dropped its sender: keep the schedule going
                    // until shutdown, there is just nobody to listen to.
                    None => commands_open = false,
                    Some(Command::Reload(jobs)) => {
                        plan.reload(jobs, now, &mut out);
                        out.events.extend(watch.follow(plan.jobs()));
                    }
                    Some(Command::RunNow(name)) => plan.trigger(&name, Cause::Forced, now, &mut out),
                    Some(Command::RunAllNow) => plan.run_all(now, &mut out),
                    Some(Command::PauseAll) => plan.pause(&mut out),
                    Some(Command::ResumeAll) => plan.resume(now, &mut out),
                }
            }
            Some(done) = runs.tasks.join_next_with_id() => {
                let (name, outcome) = runs.finished(done);
                plan.finished(&name, outcome, alarm.now(), &mut out);
            }
            () = alarm.fired() => {}
            name = watch.changed() => plan.trigger(&name, Cause::FileChanged, alarm.now(), &mut out),
        }
        runs.start(&runner, out, &events);
    }

    alarm.stop().await;
    drop(watch);
    // Let runs in flight end normally (see SHUTDOWN_GRACE); their ends are
    // still reported. Dropping the JoinSet aborts whatever is left.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while let Some(done) = runs.tasks.join_next_with_id().await {
            let (name, outcome) = runs.finished(done);
            let _ = events.send(Event::RunFinished { name, outcome });
        }
    })
    .await;
}

/// Runs in flight, by tokio task id so a panicking run still has a name.
struct Runs {
    tasks: JoinSet<RunOutcome>,
    names: HashMap<tokio::task::Id, String>,
}

impl Runs {
    /// Sends `out`'s events (in order, before starting its runs, so a
    /// listener sees `RunStarted` before anything the run causes) and spawns
    /// its runs.
    fn start(&mut self, runner: &Arc<dyn Runner>, out: plan::Output, events: &broadcast::Sender<Event>) {
        if out.events.is_empty() && out.starts.is_empty() {
            return;
        }
        let decision = tracing::info_span!("decision");
        let _in_decision = decision.enter();
        for event in out.events {
            tracing::info!(event = %serde_json::to_string(&event).unwrap_or_default(), "scheduler");
            // No receiver is fine: the loop's work does not depend on anyone listening.
            let _ = events.send(event);
        }
        for name in out.starts {
            let span = tracing::info_span!(parent: &decision, "scheduled_run", connection = %name);
            let handle = self.tasks.spawn(tracing::Instrument::instrument(runner.run(&name), span));
            self.names.insert(handle.id(), name);
        }
    }

    fn finished(
        &mut self,
        done: Result<(tokio::task::Id, RunOutcome), tokio::task::JoinError>,
    ) -> (String, RunOutcome) {
        match done {
            Ok((id, outcome)) => (self.names.remove(&id).unwrap_or_default(), outcome),
            Err(error) => {
                let message = if error.is_panic() {
                    "the run stopped on an internal error (a bug in Sendrow); the next run tries again".to_owned()
                } else {
                    "the run was cancelled".to_owned()
                };
                (self.names.remove(&error.id()).unwrap_or_default(), RunOutcome::Failed { message })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_flat_for_the_window() {
        let at = "2026-03-10T10:15:00Z".parse().unwrap();
        let started =
            Event::RunStarted { name: "Orders".into(), cause: Cause::After { connection: "Stock".into() }, at };
        assert_eq!(
            serde_json::to_value(&started).unwrap(),
            serde_json::json!({"event": "run_started", "name": "Orders", "cause": "after", "connection": "Stock",
                               "at": "2026-03-10T10:15:00Z"}),
            "the front end reads one flat object per event"
        );
        let forced = Event::RunStarted { name: "Orders".into(), cause: Cause::Forced, at };
        assert_eq!(serde_json::to_value(&forced).unwrap()["cause"], "forced", "a unit cause flattens too");
        let finished =
            Event::RunFinished { name: "Orders".into(), outcome: RunOutcome::Failed { message: "gone".into() } };
        assert_eq!(
            serde_json::to_value(&finished).unwrap(),
            serde_json::json!({"event": "run_finished", "name": "Orders",
                               "outcome": {"result": "failed", "message": "gone"}}),
            "an outcome keeps its own tag"
        );
    }
}
