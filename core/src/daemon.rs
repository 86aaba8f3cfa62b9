//! The scheduler wired to a data folder: what `sendrow daemon` runs and what
//! the desktop app runs in its tray. It takes the folder's scheduler lock,
//! turns connections into scheduler jobs, runs each due connection through
//! `Core::run`, reloads the jobs after every run (last run, pauses), and
//! checks delivery states now and then.
//!
//! Not here: the rules of when (the `scheduler`), what a run does (`run`),
//! how events reach a window or a notification (the app's business).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Local, Utc};
use tokio::sync::{broadcast, mpsc};

use crate::connection::ConnectionSpec;
use crate::delivery::PollSettings;
use crate::run::{RunOptions, RunSummary};
use crate::schedule::Schedule;
use crate::scheduler::{self, Clock, Command, Deps, Event, Job, RunFuture, RunOutcome, Runner};
use crate::store::StoredConnection;
use crate::{lock, Core, Error};

/// How often delivery states are looked up while the scheduler runs.
pub const DELIVERY_CHECK_EVERY: Duration = Duration::from_secs(60);

/// How often 8x8 is asked about `unknown` messages, while there are any. An
/// export job is a few requests; 8x8 documents no limit on them, and a
/// message's absence is proven only minutes after its send anyway.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(5 * 60);

/// Runs connections through `Core::run`.
struct CoreRunner {
    core: Arc<Core>,
}

/// One line a person can read about a finished run.
pub fn describe(summary: &RunSummary) -> String {
    let mut text = format!(
        "{} new; sent {}, rejected {}, failed {}, skipped {}, unknown {}, held {}",
        summary.new_rows,
        summary.sent,
        summary.rejected,
        summary.failed,
        summary.skipped,
        summary.unknown,
        summary.held
    );
    if let Some(w) = &summary.warning {
        text.push_str(&format!(" — {w}"));
    }
    text
}

impl Runner for CoreRunner {
    fn run(&self, connection: &str) -> RunFuture {
        let core = self.core.clone();
        let name = connection.to_owned();
        Box::pin(async move {
            match core.run(&name, &RunOptions::default()).await {
                Ok(summary) => RunOutcome::Finished { summary: describe(&summary) },
                Err(e) => RunOutcome::Failed { message: e.to_string() },
            }
        })
    }
}

impl Core {
    /// Every connection as a scheduler job.
    pub fn jobs(&self) -> Result<Vec<Job>, Error> {
        self.store().connections()?.iter().map(|stored| self.job_of(stored)).collect()
    }

    /// A connection as a scheduler job. A paused connection keeps its
    /// schedule but does not run by itself until it is resumed.
    pub(crate) fn job_of(&self, stored: &StoredConnection) -> Result<Job, Error> {
        let spec: ConnectionSpec = Self::spec_of(stored)?;
        let last_run = self
            .store()
            .last_run(stored.id)?
            .and_then(|r| DateTime::parse_from_rfc3339(&r.started_at).ok())
            .map(|t| t.with_timezone(&Utc));
        let chosen_at = DateTime::parse_from_rfc3339(&stored.updated_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now());
        let watch_path = match spec.schedule {
            Some(Schedule::OnChange { .. }) => spec.source.file().map(|p| p.to_path_buf()),
            _ => None,
        };
        // A paused connection's waiting messages wait for the person too.
        let waiting_until = match stored.paused_reason {
            Some(_) => None,
            None => self.store().earliest_waiting(stored.id)?,
        };
        Ok(Job {
            name: stored.name.clone(),
            schedule: spec.schedule.clone(),
            auto_update: stored.auto_update && stored.paused_reason.is_none(),
            chosen_at,
            last_run,
            watch_path,
            waiting_until,
        })
    }
}

/// A running scheduler: send it commands, listen to its events.
pub struct Daemon {
    /// Commands in (run now, pause all, …).
    pub commands: mpsc::Sender<Command>,
    /// Events out.
    pub events: broadcast::Sender<Event>,
}

/// Starts the scheduler for `core`'s data folder in the current tokio
/// runtime; it stops when `shutdown` resolves, after runs in flight finish
/// (up to [`scheduler::SHUTDOWN_GRACE`]). Fails at once when another
/// scheduler already runs on the folder.
pub fn start(
    core: Arc<Core>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(Daemon, tokio::task::JoinHandle<()>), Error> {
    let guard = lock::scheduler(core.data_dir())?;
    let jobs = core.jobs()?;
    let (commands, commands_rx) = mpsc::channel(64);
    let (events, _) = broadcast::channel(256);
    let deps = Deps { runner: Arc::new(CoreRunner { core: core.clone() }), tz: Local, clock: Clock::Wall, lock: guard };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let engine = tokio::spawn(scheduler::run(deps, commands_rx, events.clone(), async move {
        let mut stop_rx = stop_rx;
        let _ = stop_rx.wait_for(|stop| *stop).await;
    }));

    // Keeps the jobs fresh after every run and checks deliveries meanwhile.
    let reload = commands.clone();
    let mut listen = events.subscribe();
    let keeper_core = core.clone();
    let keeper_events = events.clone();
    let task = tokio::spawn(async move {
        // A watched file saved while no scheduler ran is a missed change:
        // run those connections once now, as a missed schedule would.
        let changed_meanwhile = changed_while_away(&jobs);
        let _ = reload.send(Command::Reload(jobs)).await;
        for name in changed_meanwhile {
            let _ = reload.send(Command::RunNow(name)).await;
        }
        let mut deliveries = tokio::time::interval(DELIVERY_CHECK_EVERY);
        deliveries.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        // A pass asks 8x8 once a second per subaccount and can take minutes:
        // it runs beside this loop, one at a time, so shutdown and reloads
        // never wait for it. Stopping it mid-pass loses nothing (it only
        // reads from 8x8, and each answer is recorded in one statement).
        let mut checking: Option<tokio::task::JoinHandle<()>> = None;
        // Unknown sends are settled with 8x8 the same way, beside the loop.
        let mut reconciliations = tokio::time::interval(RECONCILE_EVERY);
        reconciliations.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut reconciling: Option<tokio::task::JoinHandle<()>> = None;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                event = listen.recv() => match event {
                    Ok(Event::RunFinished { .. }) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        if let Ok(jobs) = keeper_core.jobs() {
                            let _ = reload.send(Command::Reload(jobs)).await;
                        }
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = reconciliations.tick() => {
                    let idle = reconciling.as_ref().is_none_or(|pass| pass.is_finished());
                    if idle && keeper_core.store().has_unknown().unwrap_or(false) {
                        let core = keeper_core.clone();
                        let events = keeper_events.clone();
                        reconciling = Some(tokio::spawn(async move {
                            let _ = events.send(Event::Reconciling);
                            let settings = crate::reconcile::Settings::default();
                            if let Ok(report) = core.reconcile(None, &settings, Utc::now()).await {
                                let _ = events.send(Event::Reconciled {
                                    found: report.found,
                                    not_found: report.not_found,
                                    still_unknown: report.still_unknown,
                                });
                            }
                        }));
                    }
                }
                _ = deliveries.tick() => {
                    if checking.as_ref().is_none_or(|pass| pass.is_finished()) {
                        let core = keeper_core.clone();
                        checking = Some(tokio::spawn(async move {
                            let _ = core.check_deliveries(Utc::now(), &PollSettings::default()).await;
                        }));
                    }
                }
            }
        }
        // Stopping a pass loses nothing: every decision is one statement.
        for pass in [checking, reconciling].into_iter().flatten() {
            pass.abort();
        }
        let _ = stop_tx.send(true);
        let _ = engine.await;
    });
    Ok((Daemon { commands, events }, task))
}

/// Connections whose watched file changed since their last run (or since they
/// were set up, when they never ran).
fn changed_while_away(jobs: &[Job]) -> Vec<String> {
    jobs.iter()
        .filter(|j| j.auto_update)
        .filter(|j| {
            let modified =
                j.watch_path.as_deref().and_then(|p| std::fs::metadata(p).ok()).and_then(|m| m.modified().ok());
            match modified {
                Some(m) => DateTime::<Utc>::from(m) > j.last_run.unwrap_or(j.chosen_at),
                None => false,
            }
        })
        .map(|j| j.name.clone())
        .collect()
}
