//! The scheduler's rules as a pure state machine: given the connections, what
//! is running and `now`, which runs start and what the app is told.
//!
//! The rules (`docs/connection-spec.md`, Schedules), and the choices behind them:
//! - A time-based schedule is due when its next instant, counted from the
//!   later of `last_run` and `chosen_at`, is not in the future. Whatever was
//!   missed (sleep, a closed app, a pause) therefore makes it due once, not
//!   once per missed tick, and the run moves `last_run` to now.
//! - A run of any cause moves `last_run`: a forced run restarts an interval;
//!   a daily time still runs at its time.
//! - "After X" follows a run of X that *finished*, not one that failed: a
//!   chain usually means "when X has done its part", and a failing X would
//!   otherwise set its followers off on every failure. Dangling names are not
//!   an error here: the follower simply never runs by itself.
//! - One connection never runs twice at once. Triggers during a run become
//!   one follow-up run when it ends; forced wins over the others so a pause
//!   in between drops only the unforced ones.
//! - Auto-update off or a pause stops every run but a forced one.
//!
//! Not here: clocks, tasks, channels, files (see the parent module).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveTime, TimeZone, Utc};

use super::{Cause, Event, Job, RunOutcome};
use crate::schedule::{self, Schedule};

/// Minutes between tries when messages that waited for quiet hours are
/// still waiting after a run (that run could not read its source).
pub const WAITING_RETRY_MINUTES: i64 = 5;

/// When `job` next runs by the clock: `now` when a run is due or was missed,
/// or when quiet hours that held messages back are over. `None` when nothing
/// is timed: "after" and on-change schedules, no schedule, auto-update off,
/// or a schedule that does not validate. `connection show --json` reports it.
pub fn next_run<Tz: TimeZone>(job: &Job, tz: &Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if !job.auto_update {
        return None;
    }
    // A run since the wait ended did not send them (its read failed, say):
    // try again a little later rather than at once, over and over.
    let waiting = job.waiting_until.map(|t| match job.last_run {
        Some(last) if t <= last => last + chrono::Duration::minutes(WAITING_RETRY_MINUTES),
        _ => t,
    });
    let waiting = waiting.map(|t| t.max(now));
    let scheduled = scheduled_run(job, tz, now);
    match (scheduled, waiting) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The next instant of the connection's own schedule.
fn scheduled_run<Tz: TimeZone>(job: &Job, tz: &Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let schedule = job.schedule.as_ref().filter(|s| s.validate().is_ok())?;
    match schedule {
        Schedule::Every { every_minutes } => {
            Some(schedule::next_interval(*every_minutes, job.last_run.as_ref(), &job.chosen_at, &now))
        }
        Schedule::At { at } => {
            let times: Vec<NaiveTime> = at.iter().filter_map(|t| schedule::parse_time(t).ok()).collect();
            let chosen = job.chosen_at.with_timezone(tz);
            let after = match job.last_run {
                Some(last) if last > job.chosen_at => last.with_timezone(tz),
                _ => chosen.clone(),
            };
            schedule::next_daily(&times, &chosen, &after).map(|t| t.with_timezone(&Utc).max(now))
        }
        Schedule::After { .. } | Schedule::OnChange { .. } => None,
    }
}

/// Refuses "after" chains that come back to where they started (they would
/// run forever), naming the loop. Takes each connection's name and schedule,
/// so saving one connection can check it among the others before anything
/// is stored.
pub fn check_chains<'a>(connections: impl IntoIterator<Item = (&'a str, Option<&'a Schedule>)>) -> Result<(), String> {
    let follows: BTreeMap<&str, &str> = connections
        .into_iter()
        .filter_map(|(name, schedule)| match schedule {
            Some(Schedule::After { after }) => Some((name, after.as_str())),
            _ => None,
        })
        .collect();
    for &start in follows.keys() {
        let mut path = vec![start];
        let mut at = start;
        while let Some(&next) = follows.get(at) {
            if let Some(from) = path.iter().position(|&n| n == next) {
                return Err(describe_cycle(&path[from..]));
            }
            path.push(next);
            at = next;
        }
    }
    Ok(())
}

/// `cycle[i]` runs after `cycle[i + 1]`, and the last after the first.
fn describe_cycle(cycle: &[&str]) -> String {
    if let [only] = cycle {
        return format!(
            "connection {only:?} cannot update only after itself: choose another connection or a schedule of its own"
        );
    }
    let mut text = format!("connection {:?} runs after {:?}", cycle[0], cycle[1]);
    for next in cycle[2..].iter().chain(&cycle[..1]) {
        text += &format!(", which runs after {next:?}");
    }
    text + ": a chain that comes back to where it started would never stop; give one of them a schedule of its own"
}

/// What one step of the state machine decided.
#[derive(Debug, Default)]
pub(super) struct Output {
    /// Connections to start a run of, in order.
    pub starts: Vec<String>,
    /// What to tell the app, in order.
    pub events: Vec<Event>,
}

/// The scheduler's state.
pub(super) struct Plan<Tz> {
    tz: Tz,
    paused: bool,
    jobs: BTreeMap<String, Job>,
    /// Connections with a run in flight, and the follow-up run asked for
    /// meanwhile. Kept apart from `jobs`: a forced run of a connection the
    /// last reload did not list, or one removed mid-run, still ends cleanly.
    running: HashMap<String, Option<Cause>>,
}

impl<Tz: TimeZone> Plan<Tz> {
    pub fn new(tz: Tz) -> Self {
        Plan { tz, paused: false, jobs: BTreeMap::new(), running: HashMap::new() }
    }

    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.jobs.values()
    }

    /// Replaces the connections, keeping the later `last_run` of the two
    /// (the store may not have recorded a run this loop just started).
    pub fn reload(&mut self, jobs: Vec<Job>, now: DateTime<Utc>, out: &mut Output) {
        if let Err(reason) = check_chains(jobs.iter().map(|j| (j.name.as_str(), j.schedule.as_ref()))) {
            out.events.push(Event::ReloadRefused { reason });
            return;
        }
        let old = std::mem::take(&mut self.jobs);
        for mut job in jobs {
            if let Some(before) = old.get(&job.name) {
                job.last_run = job.last_run.max(before.last_run);
            }
            self.jobs.insert(job.name.clone(), job);
        }
        let names: Vec<String> = self.jobs.keys().cloned().collect();
        for name in names {
            self.announce_next(&name, now, out);
        }
    }

    /// Asks for a run of `name`: starts it, folds it into the follow-up of a
    /// run in flight, or drops it when its cause is not allowed now.
    pub fn trigger(&mut self, name: &str, cause: Cause, now: DateTime<Utc>, out: &mut Output) {
        if !self.allows(name, &cause) {
            return;
        }
        match self.running.get_mut(name) {
            Some(follow_up) => {
                if follow_up.is_none() || cause == Cause::Forced {
                    *follow_up = Some(cause);
                }
            }
            None => self.start(name, cause, now, out),
        }
    }

    pub fn run_all(&mut self, now: DateTime<Utc>, out: &mut Output) {
        let names: Vec<String> = self.jobs.keys().cloned().collect();
        for name in names {
            self.trigger(&name, Cause::Forced, now, out);
        }
    }

    /// A run ended: report it, start its follow-up, set off its followers,
    /// and start whatever came due meanwhile.
    pub fn finished(&mut self, name: &str, outcome: RunOutcome, now: DateTime<Utc>, out: &mut Output) {
        let follow_up = self.running.remove(name).flatten();
        let went_through = matches!(outcome, RunOutcome::Finished { .. });
        out.events.push(Event::RunFinished { name: name.to_owned(), outcome });
        if let Some(cause) = follow_up {
            self.trigger(name, cause, now, out);
        }
        if went_through {
            let followers: Vec<String> = self
                .jobs
                .values()
                .filter(|j| matches!(&j.schedule, Some(Schedule::After { after }) if after == name))
                .map(|j| j.name.clone())
                .collect();
            for follower in followers {
                self.trigger(&follower, Cause::After { connection: name.to_owned() }, now, out);
            }
        }
        self.tick(now, out);
    }

    /// Starts every time-based run that is due and not already running (a
    /// running one is looked at again when it ends).
    pub fn tick(&mut self, now: DateTime<Utc>, out: &mut Output) {
        if self.paused {
            return;
        }
        let due: Vec<(String, Cause)> = self
            .jobs
            .values()
            .filter(|j| !self.running.contains_key(&j.name))
            .filter(|j| next_run(j, &self.tz, now).is_some_and(|at| at <= now))
            .map(|j| {
                let by_schedule = scheduled_run(j, &self.tz, now).is_some_and(|at| at <= now);
                (j.name.clone(), if by_schedule { Cause::Schedule } else { Cause::QuietHoursEnded })
            })
            .collect();
        for (name, cause) in due {
            self.start(&name, cause, now, out);
        }
    }

    /// The next instant `tick` would start something, for the alarm.
    pub fn wake_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.paused {
            return None;
        }
        self.jobs
            .values()
            .filter(|j| !self.running.contains_key(&j.name))
            .filter_map(|j| next_run(j, &self.tz, now))
            .min()
    }

    pub fn pause(&mut self, out: &mut Output) {
        self.paused = true;
        for follow_up in self.running.values_mut() {
            if follow_up.as_ref() != Some(&Cause::Forced) {
                *follow_up = None;
            }
        }
        out.events.push(Event::Paused);
        for name in self.jobs.keys() {
            out.events.push(Event::NextRun { name: name.clone(), at: None });
        }
    }

    pub fn resume(&mut self, now: DateTime<Utc>, out: &mut Output) {
        self.paused = false;
        out.events.push(Event::Resumed);
        let names: Vec<String> = self.jobs.keys().cloned().collect();
        for name in names {
            self.announce_next(&name, now, out);
        }
    }

    fn allows(&self, name: &str, cause: &Cause) -> bool {
        *cause == Cause::Forced || (!self.paused && self.jobs.get(name).is_some_and(|j| j.auto_update))
    }

    fn start(&mut self, name: &str, cause: Cause, now: DateTime<Utc>, out: &mut Output) {
        self.running.insert(name.to_owned(), None);
        if let Some(job) = self.jobs.get_mut(name) {
            job.last_run = Some(now);
            // This run sends what waited; the reload after it brings any
            // later wait from the store.
            job.waiting_until = None;
        }
        out.starts.push(name.to_owned());
        out.events.push(Event::RunStarted { name: name.to_owned(), cause, at: now });
        self.announce_next(name, now, out);
    }

    fn announce_next(&self, name: &str, now: DateTime<Utc>, out: &mut Output) {
        let at = match self.jobs.get(name) {
            Some(job) if !self.paused => next_run(job, &self.tz, now),
            _ => None,
        };
        out.events.push(Event::NextRun { name: name.to_owned(), at });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn after(name: &str) -> Option<Schedule> {
        Some(Schedule::After { after: name.into() })
    }

    fn check(pairs: &[(&str, Option<Schedule>)]) -> Result<(), String> {
        check_chains(pairs.iter().map(|(n, s)| (*n, s.as_ref())))
    }

    #[test]
    fn chains_that_loop_are_refused_by_name() {
        let two = check(&[("A", after("B")), ("B", after("A"))]).unwrap_err();
        assert!(
            two.contains(r#""A" runs after "B", which runs after "A""#),
            "the message walks the loop so the user sees which connections to change: {two}"
        );
        let own = check(&[("A", after("A"))]).unwrap_err();
        assert!(own.contains(r#""A" cannot update only after itself"#), "a self-loop is named as such: {own}");
        let three = check(&[("Orders", after("Stock")), ("Stock", after("Zed")), ("Zed", after("Stock"))]).unwrap_err();
        assert!(
            three.contains(r#""Stock" runs after "Zed", which runs after "Stock""#) && !three.contains("Orders"),
            "only the loop is named, not a connection that merely leads into it: {three}"
        );
    }

    #[test]
    fn chains_that_end_are_fine() {
        let every = Some(Schedule::Every { every_minutes: 5 });
        assert_eq!(
            check(&[("A", every), ("B", after("A")), ("C", after("B")), ("D", after("A")), ("E", after("gone"))]),
            Ok(()),
            "a tree of followers and a dangling name are not loops"
        );
    }

    fn job(schedule: Schedule) -> Job {
        Job {
            name: "Orders".into(),
            schedule: Some(schedule),
            auto_update: true,
            chosen_at: utc("2026-03-10T10:00:00Z"),
            last_run: None,
            watch_path: None,
            waiting_until: None,
        }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn next_run_for_every_kind() {
        let kyiv = FixedOffset::east_opt(2 * 3600).unwrap();
        let now = utc("2026-03-10T10:00:00Z");
        let every = job(Schedule::Every { every_minutes: 15 });
        assert_eq!(next_run(&every, &kyiv, now), Some(utc("2026-03-10T10:15:00Z")), "one interval after choosing");
        let daily = job(Schedule::At { at: vec!["12:20".into()] });
        assert_eq!(
            next_run(&daily, &kyiv, now),
            Some(utc("2026-03-10T10:20:00Z")),
            "12:20 Kyiv is 10:20 UTC, 20 minutes ahead"
        );
        let missed =
            Job { last_run: Some(utc("2026-03-07T10:20:00Z")), chosen_at: utc("2026-03-01T00:00:00Z"), ..daily };
        assert_eq!(next_run(&missed, &kyiv, now), Some(now), "days of missed runs: due now, once");
        assert_eq!(next_run(&job(Schedule::After { after: "X".into() }), &kyiv, now), None, "after X: untimed");
        assert_eq!(next_run(&job(Schedule::OnChange { on_change: true }), &kyiv, now), None, "on change: untimed");
        let off = Job { auto_update: false, ..every.clone() };
        assert_eq!(next_run(&off, &kyiv, now), None, "toggle off: nothing scheduled");
        let broken = job(Schedule::Every { every_minutes: 0 });
        assert_eq!(next_run(&broken, &kyiv, now), None, "an invalid interval must not make the loop spin");

        let quiet_ends = utc("2026-03-11T06:00:00Z");
        let waiting = Job { waiting_until: Some(quiet_ends), ..job(Schedule::After { after: "X".into() }) };
        assert_eq!(next_run(&waiting, &kyiv, now), Some(quiet_ends), "messages that wait go when quiet hours end");
        let still = Job { last_run: Some(quiet_ends), ..waiting };
        assert_eq!(
            next_run(&still, &kyiv, utc("2026-03-11T06:01:00Z")),
            Some(utc("2026-03-11T06:05:00Z")),
            "still waiting after the run at the end (its read failed): again in 5 minutes, not at once"
        );
    }
}
