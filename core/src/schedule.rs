//! When a connection runs: the schedule kinds (`docs/connection-spec.md`) and the pure
//! arithmetic of "when next", including the seed's 5-minute rule.
//!
//! Everything here takes the time as a parameter and works in any time zone,
//! so the rules are tested at their edges (4:59 / 5:00 / 5:01 ahead, around
//! midnight, across a DST change) without a clock. Driving runs from these
//! answers is the scheduler's job.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};

/// Intervals the product offers, in minutes (1, 5, 10, 15, 30 min; 1, 2, 3, 6, 12, 24 h).
pub const INTERVALS: [u32; 11] = [1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];

/// A time of day must be more than this far ahead to run on the day it is chosen.
pub const LEAD: Duration = Duration::minutes(5);

/// A connection's schedule, as written in its spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Schedule {
    /// Every N minutes.
    Every {
        /// One of [`INTERVALS`].
        every_minutes: u32,
    },
    /// Daily at these local times (`HH:MM`).
    At {
        /// One or more times.
        at: Vec<String>,
    },
    /// Right after another connection finishes a run.
    After {
        /// The other connection's name.
        after: String,
    },
    /// When the source file changes.
    OnChange {
        /// Must be `true`.
        on_change: bool,
    },
}

/// Parses `HH:MM` (24-hour).
pub fn parse_time(text: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .map_err(|_| format!("{text:?} is not a time of day: write it as HH:MM, e.g. 09:00 or 18:30"))
}

impl Schedule {
    /// Checks the values a user could get wrong, naming the bad one.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Schedule::Every { every_minutes } if !INTERVALS.contains(every_minutes) => {
                Err(format!("{every_minutes} minutes is not offered: use one of {INTERVALS:?} (minutes)"))
            }
            Schedule::At { at } if at.is_empty() => Err("[] has no times: give at least one, e.g. [\"09:00\"]".into()),
            Schedule::At { at } => at.iter().try_for_each(|t| parse_time(t).map(|_| ())),
            Schedule::After { after } if after.trim().is_empty() => {
                Err(format!("{after:?} names no connection: give the name of the connection to run after"))
            }
            Schedule::OnChange { on_change: false } => {
                Err("false is not a schedule: use true to run when the file changes, or null for no schedule".into())
            }
            _ => Ok(()),
        }
    }
}

/// The local date-time of `time` on `date` in `tz`. A time skipped by a DST
/// jump runs at the first valid minute after it; a repeated one at its first
/// occurrence.
fn at_local<Tz: TimeZone>(tz: &Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Tz> {
    let mut naive = date.and_time(time);
    loop {
        match tz.from_local_datetime(&naive) {
            LocalResult::Single(t) => return t,
            LocalResult::Ambiguous(first, _) => return first,
            LocalResult::None => naive += Duration::minutes(1),
        }
    }
}

/// The first occurrence of `time` strictly after `after`.
fn next_occurrence<Tz: TimeZone>(time: NaiveTime, after: &DateTime<Tz>) -> DateTime<Tz> {
    let tz = after.timezone();
    let mut date = after.date_naive();
    loop {
        let candidate = at_local(&tz, date, time);
        if candidate > *after {
            return candidate;
        }
        date = date.succ_opt().expect("dates this far out do not occur");
    }
}

/// The seed's rule: the first run of a daily `time` chosen at `chosen_at` is
/// its next occurrence if that is more than 5 minutes away, else the one a day
/// later. (12:10 chosen at 12:08 → tomorrow; 12:20 at 12:13 → today; 00:02 at
/// 23:58 → the night after next, since the next 00:02 is only 4 minutes away.)
pub fn first_run<Tz: TimeZone>(time: NaiveTime, chosen_at: &DateTime<Tz>) -> DateTime<Tz> {
    let next = next_occurrence(time, chosen_at);
    if next.clone() - chosen_at.clone() > LEAD {
        next
    } else {
        next_occurrence(time, &next)
    }
}

/// The next run of a daily schedule strictly after `after`, honouring the
/// 5-minute rule from when the times were chosen.
pub fn next_daily<Tz: TimeZone>(
    times: &[NaiveTime],
    chosen_at: &DateTime<Tz>,
    after: &DateTime<Tz>,
) -> Option<DateTime<Tz>> {
    times
        .iter()
        .map(|&t| {
            let first = first_run(t, chosen_at);
            if first > *after {
                first
            } else {
                next_occurrence(t, after)
            }
        })
        .min()
}

/// The next run of an interval schedule: `every` after the last run, or
/// `every` after it was switched on when it never ran since. A missed run is
/// due now, once.
pub fn next_interval<Tz: TimeZone>(
    every_minutes: u32,
    last_run: Option<&DateTime<Tz>>,
    enabled_at: &DateTime<Tz>,
    now: &DateTime<Tz>,
) -> DateTime<Tz> {
    // A run from before the schedule was switched on says nothing about when
    // it is due: counting from it would fire at once on switching on.
    let base = match last_run {
        Some(last) if last > enabled_at => last.clone(),
        _ => enabled_at.clone(),
    };
    let due = base + Duration::minutes(i64::from(every_minutes));
    if due < *now {
        now.clone()
    } else {
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, Timelike};

    fn kyiv() -> FixedOffset {
        FixedOffset::east_opt(2 * 3600).unwrap()
    }

    fn at(h: u32, m: u32, s: u32) -> DateTime<FixedOffset> {
        kyiv().with_ymd_and_hms(2026, 3, 10, h, m, s).unwrap()
    }

    fn t(text: &str) -> NaiveTime {
        parse_time(text).unwrap()
    }

    #[track_caller]
    fn check_first(time: &str, chosen_at: DateTime<FixedOffset>, expect_day_offset: i64) {
        let first = first_run(t(time), &chosen_at);
        let expected_date = chosen_at.date_naive() + Duration::days(expect_day_offset);
        assert_eq!(
            (first.date_naive(), first.hour(), first.minute()),
            (expected_date, t(time).hour(), t(time).minute()),
            "{time} chosen at {chosen_at} should first run on day +{expect_day_offset}"
        );
    }

    #[test]
    fn the_seeds_examples() {
        check_first("12:10", at(12, 8, 0), 1);
        check_first("12:20", at(12, 13, 0), 0);
    }

    #[test]
    fn five_minute_edges() {
        check_first("12:10", at(12, 5, 1), 1); // 4:59 ahead
        check_first("12:10", at(12, 5, 0), 1); // exactly 5:00 is not "more than 5 minutes"
        check_first("12:10", at(12, 4, 59), 0); // 5:01 ahead
        check_first("12:10", at(12, 10, 0), 1); // the time itself has just passed
        check_first("09:00", at(12, 0, 0), 1); // passed earlier today
    }

    #[test]
    fn around_midnight_the_rule_counts_from_the_next_occurrence() {
        let chosen = kyiv().with_ymd_and_hms(2026, 3, 10, 23, 58, 0).unwrap();
        let first = first_run(t("00:02"), &chosen);
        assert_eq!(first.date_naive(), NaiveDate::from_ymd_opt(2026, 3, 12).unwrap(), "4 minutes away: next night");
        let first = first_run(t("00:04"), &chosen);
        assert_eq!(first.date_naive(), NaiveDate::from_ymd_opt(2026, 3, 11).unwrap(), "6 minutes away: tonight");
    }

    #[test]
    fn daily_runs_follow_the_earliest_time_then_each_day() {
        let chosen = at(12, 13, 0);
        let times = [t("18:30"), t("12:20")];
        let first = next_daily(&times, &chosen, &chosen).unwrap();
        assert_eq!((first.hour(), first.minute()), (12, 20), "12:20 is more than 5 minutes ahead");
        let second = next_daily(&times, &chosen, &first).unwrap();
        assert_eq!((second.hour(), second.minute()), (18, 30), "then 18:30 the same day");
        let third = next_daily(&times, &chosen, &second).unwrap();
        assert_eq!(third.date_naive() - first.date_naive(), Duration::days(1), "then tomorrow");
    }

    #[test]
    fn a_dst_gap_moves_the_run_without_losing_a_day() {
        // A zone that springs forward at 03:00 → 04:00 on 2026-03-29, the
        // Kyiv rule, modelled with a fixed switch so the test needs no tz data.
        #[derive(Clone, Copy, Debug)]
        struct Kyiv;
        impl Kyiv {
            fn offset_for(naive_utc: chrono::NaiveDateTime) -> FixedOffset {
                let switch = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap().and_hms_opt(1, 0, 0).unwrap();
                FixedOffset::east_opt(if naive_utc < switch { 2 * 3600 } else { 3 * 3600 }).unwrap()
            }
        }
        impl TimeZone for Kyiv {
            type Offset = FixedOffset;
            fn from_offset(_: &FixedOffset) -> Self {
                Kyiv
            }
            fn offset_from_local_date(&self, _: &NaiveDate) -> LocalResult<FixedOffset> {
                unimplemented!("not used by the schedule")
            }
            fn offset_from_local_datetime(&self, local: &chrono::NaiveDateTime) -> LocalResult<FixedOffset> {
                let winter = FixedOffset::east_opt(2 * 3600).unwrap();
                let summer = FixedOffset::east_opt(3 * 3600).unwrap();
                let as_winter = Self::offset_for(*local - Duration::hours(2)) == winter;
                let as_summer = Self::offset_for(*local - Duration::hours(3)) == summer;
                match (as_winter, as_summer) {
                    (true, true) => LocalResult::Ambiguous(winter, summer),
                    (true, false) => LocalResult::Single(winter),
                    (false, true) => LocalResult::Single(summer),
                    (false, false) => LocalResult::None,
                }
            }
            fn offset_from_utc_date(&self, _: &NaiveDate) -> FixedOffset {
                unimplemented!("not used by the schedule")
            }
            fn offset_from_utc_datetime(&self, utc: &chrono::NaiveDateTime) -> FixedOffset {
                Self::offset_for(*utc)
            }
        }
        let chosen = Kyiv
            .from_local_datetime(&NaiveDate::from_ymd_opt(2026, 3, 28).unwrap().and_hms_opt(12, 0, 0).unwrap())
            .unwrap();
        let on_day = |d: DateTime<Kyiv>| d.naive_local();
        let mut after = chosen;
        let mut runs = Vec::new();
        for _ in 0..3 {
            after = next_daily(&[t("03:30")], &chosen, &after).unwrap();
            runs.push(on_day(after));
        }
        assert_eq!(runs[0].to_string(), "2026-03-29 04:00:00", "03:30 does not exist that night: first valid minute");
        assert_eq!(runs[1].to_string(), "2026-03-30 03:30:00", "then the usual time, no day lost");
        assert_eq!(runs[2].to_string(), "2026-03-31 03:30:00", "and every day after");
    }

    #[test]
    fn intervals_catch_up_once() {
        let enabled = at(9, 0, 0);
        assert_eq!(next_interval(15, None, &enabled, &enabled), at(9, 15, 0), "first run one interval after enabling");
        let last = at(9, 15, 0);
        let much_later = at(13, 2, 0);
        assert_eq!(next_interval(15, Some(&last), &enabled, &much_later), much_later, "missed runs: once, now");
        let forced_yesterday = at(9, 0, 0) - Duration::days(1);
        assert_eq!(
            next_interval(15, Some(&forced_yesterday), &enabled, &enabled),
            at(9, 15, 0),
            "a run from before switching on does not make the schedule due at once"
        );
    }

    #[test]
    fn schedules_parse_from_the_spec_shapes_and_refuse_bad_values() {
        let parse = |j: &str| serde_json::from_str::<Schedule>(j).unwrap();
        assert_eq!(parse(r#"{"every_minutes": 15}"#), Schedule::Every { every_minutes: 15 }, "interval");
        assert_eq!(parse(r#"{"at": ["09:00"]}"#), Schedule::At { at: vec!["09:00".into()] }, "daily");
        assert_eq!(parse(r#"{"after": "Orders"}"#), Schedule::After { after: "Orders".into() }, "chain");
        assert_eq!(parse(r#"{"on_change": true}"#), Schedule::OnChange { on_change: true }, "watch");
        assert!(parse(r#"{"every_minutes": 7}"#).validate().unwrap_err().contains("not offered"), "7 is not offered");
        assert!(parse(r#"{"at": ["25:00"]}"#).validate().unwrap_err().contains("HH:MM"), "bad time explained");
    }
}
