//! Reminders: a row's SMS sent at a time taken from a date in the row
//! (`send_at` of a connection spec, product.md §9), e.g. the day before a
//! visit at 18:00.
//!
//! This module is the pure part: reading a date-time cell as people write
//! it, the send time (arithmetic on the wall clock, so a reminder across a
//! daylight-saving change keeps its local time), quiet hours moving it, and
//! what to do with it now ([`Plan`]): hand it to 8x8 with `scheduled` (8x8
//! holds messages up to 7 days ahead), keep it locally until it is within
//! that reach, send it at once, or skip it because the event has passed.
//! The run (`run.rs`) applies the plan and follows rows through later reads
//! (a moved date cancels and schedules anew).

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::schedule;

/// How far ahead 8x8 accepts `scheduled` (8x8-sms-api.md §3.1).
pub const EIGHT_BY_EIGHT_LIMIT: Duration = Duration::days(7);

/// How far ahead Sendrow hands a reminder to 8x8: a little under 8x8's limit,
/// so a clock a few minutes off or a slow request never crosses it.
pub fn hand_over_within() -> Duration {
    EIGHT_BY_EIGHT_LIMIT - Duration::hours(1)
}

/// The spec key: `{"column": "Дата візиту", "minutes_before": 1440, "at_time": "18:00"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendAt {
    /// The column holding the event's date (and time).
    pub column: String,
    /// How long before the event to send, in minutes (default 0).
    #[serde(default)]
    pub minutes_before: u32,
    /// `HH:MM`: send at this time of the day the subtraction lands on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_time: Option<String>,
}

impl SendAt {
    /// Checks what can be checked without the source.
    pub fn check(&self) -> Result<(), String> {
        if self.column.trim().is_empty() {
            return Err("send_at.column: it is empty: name the column with the date to send at".into());
        }
        if let Some(at) = &self.at_time {
            schedule::parse_time(at).map_err(|e| format!("send_at.at_time: {e}"))?;
        }
        Ok(())
    }

    /// The wall-clock send time for an event at `event`.
    pub fn send_time(&self, event: NaiveDateTime) -> NaiveDateTime {
        let moved = event - Duration::minutes(i64::from(self.minutes_before));
        match self.at_time.as_deref().and_then(|t| schedule::parse_time(t).ok()) {
            Some(at) => moved.date().and_time(at),
            None => moved,
        }
    }
}

/// Countries that write `5/12/2026` month first (the 5th of December is
/// `12/5/2026` there). Everywhere else, as in Ukraine, the day comes first.
const MONTH_FIRST: &[&str] = &["US", "PH", "FM", "MH", "PW", "GU", "AS", "PR", "VI", "MP", "UM", "BZ"];

/// Whether `5/12/2026` means the 5th of December for people in `country`.
pub fn day_first(country: &str) -> bool {
    !MONTH_FIRST.contains(&country.trim().to_ascii_uppercase().as_str())
}

/// A date-time cell as people write it: `05.12.2026 14:30`,
/// `2026-12-05 14:30` (also how Excel/ODS date cells are read),
/// `2026-12-05T14:30`, `5/12/2026` (day first unless `day_first` is false,
/// though a first number over 12 can only be a day and a second over 12 only
/// a day too), two-digit years as 20YY, seconds and `2:30 PM` allowed. A
/// date alone is midnight. `None` when it is none of these.
pub fn parse_when(text: &str, day_first: bool) -> Option<NaiveDateTime> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let (date_part, time_part) = match text.split_once(['T', ' ']) {
        Some((d, t)) => (d.trim(), Some(t.trim())),
        None => (text, None),
    };
    let date = parse_date(date_part, day_first)?;
    let time = match time_part {
        None | Some("") => NaiveTime::MIN,
        Some(t) => parse_clock(t)?,
    };
    Some(date.and_time(time))
}

fn parse_date(text: &str, day_first: bool) -> Option<NaiveDate> {
    let sep = ['.', '/', '-'].into_iter().find(|s| text.contains(*s))?;
    let parts: Vec<&str> = text.split(sep).collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let n: Vec<u32> = parts.iter().map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let year = |y: u32, digits: usize| match digits {
        2 => Some(2000 + y as i32),
        4 => Some(y as i32),
        _ => None,
    };
    if parts[0].len() == 4 {
        // Year first: always year-month-day.
        return NaiveDate::from_ymd_opt(n[0] as i32, n[1], n[2]);
    }
    let y = year(n[2], parts[2].len())?;
    // Dots are day first everywhere they are used; slashes and dashes follow
    // the country unless the numbers say otherwise.
    let day_month = if sep == '.' || n[0] > 12 {
        true
    } else if n[1] > 12 {
        false
    } else {
        day_first
    };
    let (d, m) = if day_month { (n[0], n[1]) } else { (n[1], n[0]) };
    NaiveDate::from_ymd_opt(y, m, d)
}

fn parse_clock(text: &str) -> Option<NaiveTime> {
    let upper = text.to_ascii_uppercase();
    let (clock, pm) = match upper.strip_suffix("PM").or_else(|| upper.strip_suffix("AM")) {
        Some(rest) => (rest.trim().to_owned(), Some(upper.ends_with("PM"))),
        None => (upper.clone(), None),
    };
    // Fractions of a second (ODS) are dropped.
    let clock = clock.split('.').next().unwrap_or("").to_owned();
    let parts: Vec<u32> = clock.split(':').map(|p| p.trim().parse().ok()).collect::<Option<_>>()?;
    let (mut h, m, s) = match parts.as_slice() {
        [h, m] => (*h, *m, 0),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    if let Some(pm) = pm {
        if h == 0 || h > 12 {
            return None;
        }
        h = match (h, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    NaiveTime::from_hms_opt(h, m, s)
}

/// A wall-clock time in `tz` as an instant. In the hour a spring change
/// skips, the time just after it; in the hour an autumn change repeats, the
/// first of the two.
pub fn resolve<Tz: TimeZone>(tz: &Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => resolve(tz, local + Duration::hours(1)),
    }
}

/// A send time inside quiet hours (`from`–`to`, `HH:MM`, possibly across
/// midnight) moves to the window's end; outside it stays.
pub fn out_of_quiet_hours(at: NaiveDateTime, from: &str, to: &str) -> NaiveDateTime {
    let (Ok(from), Ok(to)) = (schedule::parse_time(from), schedule::parse_time(to)) else { return at };
    let t = at.time();
    let inside = if from <= to { t >= from && t < to } else { t >= from || t < to };
    if !inside {
        return at;
    }
    let mut end = at.date().and_time(to);
    if end <= at {
        end += Duration::days(1);
    }
    end
}

/// What to do with a reminder now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Hand it to 8x8 now with `scheduled` = the send time.
    Schedule {
        /// When 8x8 is to send it.
        send_at: DateTime<Utc>,
    },
    /// Too far ahead for 8x8: keep it, hand it over at `hand_over`.
    Wait {
        /// When 8x8 is to send it.
        send_at: DateTime<Utc>,
        /// When it comes within 8x8's reach.
        hand_over: DateTime<Utc>,
    },
    /// The send time has passed but the event has not: send it now.
    Now,
    /// The event has passed: no reminder.
    Skip {
        /// Why, for the history.
        reason: String,
    },
}

/// Decides what to do with a reminder for an event at `event` due at
/// `send_at` (both instants), at `now`. `shown` formats an instant for the
/// reason a person reads.
pub fn plan(
    event: DateTime<Utc>,
    send_at: DateTime<Utc>,
    now: DateTime<Utc>,
    shown: impl Fn(DateTime<Utc>) -> String,
) -> Plan {
    if event <= now {
        return Plan::Skip { reason: format!("the time in the row, {}, has already passed", shown(event)) };
    }
    if send_at <= now {
        return Plan::Now;
    }
    if send_at - now <= hand_over_within() {
        return Plan::Schedule { send_at };
    }
    Plan::Wait { send_at, hand_over: send_at - hand_over_within() }
}

/// The value of 8x8's `scheduled` for a message due at `send_at` (stored as
/// RFC 3339), when that is still ahead of `now`: a time already passed is
/// sent at once, without it (8x8 refuses a schedule in the past).
pub fn scheduled_field(send_at: Option<&str>, now: DateTime<Utc>) -> Option<String> {
    let at = DateTime::parse_from_rfc3339(send_at?).ok()?;
    (at.with_timezone(&Utc) > now + Duration::seconds(30)).then(|| at.to_rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, NaiveDate};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, 0).unwrap()
    }

    #[test]
    fn date_times_are_read_as_people_write_them() {
        let visit = at(2026, 12, 5, 14, 30);
        for text in ["05.12.2026 14:30", "2026-12-05 14:30", "2026-12-05T14:30:00", "5/12/2026 14:30", "5.12.26 14:30"]
        {
            assert_eq!(parse_when(text, true), Some(visit), "{text:?}");
        }
        assert_eq!(parse_when("12/5/2026 2:30 PM", false), Some(visit), "US order with AM/PM");
        assert_eq!(parse_when("5/12/2026", true), Some(at(2026, 12, 5, 0, 0)), "a date alone is midnight");
        assert_eq!(parse_when("5/12/2026", false), Some(at(2026, 5, 12, 0, 0)), "month first in the US");
        assert_eq!(parse_when("25/12/2026", false), Some(at(2026, 12, 25, 0, 0)), "25 can only be a day");
        assert_eq!(parse_when("2026-12-05 09:05:30", true), Some(at(2026, 12, 5, 9, 5) + Duration::seconds(30)));
        for bad in ["", "tomorrow", "32.12.2026", "05.13.2026 10:00", "2026-12-05 25:00", "5/12"] {
            assert_eq!(parse_when(bad, true), None, "{bad:?}");
        }
        assert!(day_first("UA") && day_first("gb") && !day_first("US"));
    }

    #[test]
    fn the_send_time_is_before_the_event_and_at_the_time_of_day_asked() {
        let visit = at(2026, 12, 5, 14, 30);
        let day_before = SendAt { column: "Visit".into(), minutes_before: 1440, at_time: Some("18:00".into()) };
        assert_eq!(day_before.send_time(visit), at(2026, 12, 4, 18, 0));
        let two_hours = SendAt { column: "Visit".into(), minutes_before: 120, at_time: None };
        assert_eq!(two_hours.send_time(visit), at(2026, 12, 5, 12, 30));
        assert!(SendAt { at_time: Some("25:00".into()), ..two_hours }
            .check()
            .unwrap_err()
            .starts_with("send_at.at_time"));
    }

    #[test]
    fn quiet_hours_move_a_send_time_to_their_end() {
        assert_eq!(out_of_quiet_hours(at(2026, 12, 4, 22, 0), "21:00", "08:00"), at(2026, 12, 5, 8, 0));
        assert_eq!(out_of_quiet_hours(at(2026, 12, 5, 6, 0), "21:00", "08:00"), at(2026, 12, 5, 8, 0));
        assert_eq!(out_of_quiet_hours(at(2026, 12, 5, 12, 0), "21:00", "08:00"), at(2026, 12, 5, 12, 0));
    }

    #[test]
    fn the_plan_follows_the_seven_day_reach_of_8x8() {
        let now = at(2026, 12, 1, 10, 0).and_utc();
        let h = Duration::hours;
        let shown = |t: DateTime<Utc>| t.to_rfc3339();
        assert_eq!(plan(now + h(48), now + h(24), now, shown), Plan::Schedule { send_at: now + h(24) });
        let far = now + Duration::days(10);
        assert_eq!(
            plan(far + h(24), far, now, shown),
            Plan::Wait { send_at: far, hand_over: far - hand_over_within() }
        );
        assert_eq!(plan(now + h(1), now - h(23), now, shown), Plan::Now, "send time passed, visit ahead");
        assert!(
            matches!(plan(now - h(1), now - h(25), now, shown), Plan::Skip { reason } if reason.contains("passed"))
        );
    }

    #[test]
    fn a_reminder_across_the_october_change_in_kyiv_keeps_its_local_time() {
        let kyiv = chrono_tz::Europe::Kyiv;
        // Summer time ends on Sunday 25 October 2026 at 04:00 local (+03 → +02).
        let visit = at(2026, 10, 25, 10, 0);
        let day_before = SendAt { column: "Visit".into(), minutes_before: 1440, at_time: None };
        let send = resolve(&kyiv, day_before.send_time(visit));
        assert_eq!(send.with_timezone(&kyiv).naive_local(), at(2026, 10, 24, 10, 0), "10:00 stays 10:00");
        assert_eq!(resolve(&kyiv, visit) - send, Duration::hours(25), "the day before the visit is 25 hours long");
        // Across the spring change, and in the hours the changes skip and repeat.
        let spring = resolve(&kyiv, day_before.send_time(at(2026, 3, 30, 9, 0)));
        assert_eq!(spring.with_timezone(&kyiv).naive_local(), at(2026, 3, 29, 9, 0));
        let skipped = resolve(&kyiv, at(2026, 3, 29, 3, 30));
        assert_eq!(skipped.with_timezone(&kyiv).naive_local(), at(2026, 3, 29, 4, 30), "03:30 does not exist");
        let repeated = resolve(&kyiv, at(2026, 10, 25, 3, 30));
        assert_eq!(
            repeated.with_timezone(&FixedOffset::east_opt(3 * 3600).unwrap()).naive_local(),
            at(2026, 10, 25, 3, 30)
        );
    }

    #[test]
    fn scheduled_is_sent_only_for_a_time_ahead() {
        let now = at(2026, 12, 1, 10, 0).and_utc();
        assert_eq!(
            scheduled_field(Some("2026-12-02T10:00:00+00:00"), now).as_deref(),
            Some("2026-12-02T10:00:00+00:00")
        );
        assert_eq!(scheduled_field(Some("2026-12-01T09:00:00+00:00"), now), None);
        assert_eq!(scheduled_field(None, now), None);
    }
}
