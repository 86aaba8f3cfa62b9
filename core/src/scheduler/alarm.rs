//! Wakes the scheduler loop at the next instant the plan named, and says what
//! time it is: tokio-cron-scheduler on the wall clock in the app, tokio's
//! clock in tests.
//!
//! One one-shot job at a time stands for the earliest due instant; the plan,
//! not the crate, decides what runs when it fires. That is why cron
//! expressions do not appear: the 5-minute rule, catch-up after sleep and
//! "from the last run" intervals are not cron shapes, and a cron job whose
//! UTC offset is fixed at creation (as this crate's are) would drift an hour
//! at each DST change. A wake-up that comes early or late is harmless: the
//! loop looks at the clock, runs what is due, and arms the next one.
//!
//! Not here: any rule about runs.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_cron_scheduler::{Job as CronJob, JobScheduler};
use uuid::Uuid;

use super::Clock;

/// If tokio-cron-scheduler cannot start (it has never been seen to), the
/// wall clock is polled this often instead, which still sees a wake from sleep.
const FALLBACK_POLL: Duration = Duration::from_secs(30);

pub(super) struct Alarm {
    kind: Kind,
    /// The instant the pending wake-up stands for, so an unchanged plan does
    /// not churn jobs in the crate on every pass of the loop.
    armed: Option<DateTime<Utc>>,
}

enum Kind {
    Tokio {
        starts_at: DateTime<Utc>,
        origin: Instant,
    },
    Wall {
        scheduler: Option<JobScheduler>,
        job: Option<Uuid>,
        fire_tx: mpsc::UnboundedSender<()>,
        fire_rx: mpsc::UnboundedReceiver<()>,
    },
}

impl Alarm {
    pub async fn start(clock: Clock) -> Alarm {
        let kind = match clock {
            Clock::Tokio { starts_at } => Kind::Tokio { starts_at, origin: Instant::now() },
            Clock::Wall => {
                let scheduler = match JobScheduler::new().await {
                    Ok(scheduler) if scheduler.start().await.is_ok() => Some(scheduler),
                    _ => None,
                };
                let (fire_tx, fire_rx) = mpsc::unbounded_channel();
                Kind::Wall { scheduler, job: None, fire_tx, fire_rx }
            }
        };
        Alarm { kind, armed: None }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.kind {
            Kind::Tokio { starts_at, origin } => {
                *starts_at + chrono::Duration::from_std(origin.elapsed()).unwrap_or(chrono::TimeDelta::MAX)
            }
            Kind::Wall { .. } => Utc::now(),
        }
    }

    /// Makes `at` (or nothing) the next wake-up.
    pub async fn arm(&mut self, at: Option<DateTime<Utc>>) {
        if at == self.armed {
            return;
        }
        self.armed = at;
        let now = self.now();
        if let Kind::Wall { scheduler: Some(scheduler), job, fire_tx, .. } = &mut self.kind {
            if let Some(old) = job.take() {
                // Bounded because removal waits on the crate's actors; a job
                // that fires after all is only an early wake-up.
                let _ = tokio::time::timeout(Duration::from_secs(5), scheduler.remove(&old)).await;
            }
            if let Some(at) = at {
                // The crate fires once the wall clock reaches the whole
                // second `floor(now) + wait`; rounding the wait up and adding
                // a second keeps that after `at` (an early wake-up would only
                // cost a re-arm).
                let ahead = (at - now).to_std().unwrap_or_default();
                let wait = ahead.as_secs() + u64::from(ahead.subsec_nanos() > 0) + 1;
                let fire_tx = fire_tx.clone();
                let added = CronJob::new_one_shot_async(Duration::from_secs(wait), move |_, _| {
                    let fire_tx = fire_tx.clone();
                    Box::pin(async move {
                        let _ = fire_tx.send(());
                    })
                });
                *job = match added {
                    Ok(cron_job) => scheduler.add(cron_job).await.ok(),
                    Err(_) => None,
                };
            }
        }
    }

    /// Completes at the armed instant; never when nothing is armed.
    /// Cancel-safe, so it can sit in a `select!`.
    pub async fn fired(&mut self) {
        let now = self.now();
        let Some(at) = self.armed else { return std::future::pending().await };
        match &mut self.kind {
            Kind::Tokio { starts_at, origin } => {
                let offset = (at - *starts_at).to_std().unwrap_or_default();
                tokio::time::sleep_until(*origin + offset).await;
            }
            Kind::Wall { scheduler: Some(_), fire_rx, .. } => {
                if fire_rx.recv().await.is_none() {
                    std::future::pending::<()>().await;
                }
            }
            Kind::Wall { scheduler: None, .. } => {
                tokio::time::sleep((at - now).to_std().unwrap_or_default().min(FALLBACK_POLL)).await;
            }
        }
        // Whatever fired is spent: the next pass of the loop arms afresh even
        // when the plan names the same instant (an early wake-up).
        self.armed = None;
    }

    pub async fn stop(&mut self) {
        if let Kind::Wall { scheduler: Some(scheduler), .. } = &mut self.kind {
            let _ = scheduler.shutdown().await;
        }
    }
}
