//! Reminders in a run (product.md §9): the plan of [`crate::reminder`]
//! applied to new rows, and every read following the reminders not sent
//! yet — a moved date cancels the old one at 8x8 (`DELETE …/messages/{umid}`)
//! and schedules anew; a deleted row, or one no longer meeting the
//! conditions, is cancelled; a cancel 8x8 refuses because the SMS already
//! left is recorded as such.
//!
//! Wall-clock times in cells are read in the machine's time zone (`Local`);
//! the functions take the zone so tests can pass another.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset, Local, NaiveDateTime, TimeZone, Utc};

use crate::code::{Code, Coded};
use crate::compose::{self, Status, Template};
use crate::connection::ConnectionSpec;
use crate::gateway::Cancel;
use crate::model::RunSummary;
use crate::reminder::{self, Plan};
use crate::source::rows::Observation;
use crate::source::{Row, Table};
use crate::store::{Entry, EntryStatus, NewEntry, StoredConnection};
use crate::{conditions, Core, Error};

/// What a row's date cell says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reading {
    /// Empty: the row is probably still being typed.
    Empty,
    /// Something that is not a date, with the words for the history.
    Unreadable(String),
    /// The event and when to send, as instants.
    When {
        /// The event.
        event: DateTime<Utc>,
        /// When the SMS is to go (quiet hours applied).
        send_at: DateTime<Utc>,
    },
}

/// Reads `row`'s date cell for a reminder connection.
pub(crate) fn read_row<Tz: TimeZone>(spec: &ConnectionSpec, headers: &[String], row: &Row, tz: &Tz) -> Reading {
    let Some(send_at) = &spec.send_at else { return Reading::Empty };
    let cell = compose::find_column(headers, send_at.column.trim())
        .and_then(|i| row.cells.get(i))
        .map(String::as_str)
        .unwrap_or("");
    if cell.trim().is_empty() {
        return Reading::Empty;
    }
    let Some(event) = reminder::parse_when(cell, reminder::day_first(&spec.default_country)) else {
        return Reading::Unreadable(format!(
            "the {:?} cell, {:?}, is not a date Sendrow can read: write it like 05.12.2026 14:30 or 2026-12-05 14:30",
            send_at.column, cell
        ));
    };
    let mut local = send_at.send_time(event);
    if let Some(q) = &spec.quiet_hours {
        local = reminder::out_of_quiet_hours(local, &q.from, &q.to);
    }
    Reading::When { event: reminder::resolve(tz, event), send_at: reminder::resolve(tz, local) }
}

/// What the wizard shows of a reminder before saving.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FirstReminder {
    /// The row's line in the source.
    pub line: usize,
    /// When it would be sent (RFC 3339, local offset), or null.
    pub send_at: Option<String>,
    /// `scheduled` (at 8x8), `waiting` (kept until within 7 days), `now`,
    /// `skipped` or `no_date`.
    pub plan: &'static str,
    /// Why, for `skipped` and `no_date`.
    pub reason: Option<String>,
}

/// The first `limit` reminders a run of `spec` would set over `table` (rows
/// meeting the conditions, in source order), as the wizard shows them.
pub(crate) fn first_reminders(spec: &ConnectionSpec, table: &Table, limit: usize) -> Vec<FirstReminder> {
    if spec.send_at.is_none() {
        return Vec::new();
    }
    let now = Utc::now();
    let local = |t: DateTime<Utc>| t.with_timezone(&Local).to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    table
        .rows
        .iter()
        .filter(|r| !r.is_blank() && conditions::row_matches(spec.conditions.as_ref(), &table.headers, r))
        .take(limit)
        .map(|row| {
            let (plan, send_at, reason) = match read_row(spec, &table.headers, row, &Local) {
                Reading::Empty => ("no_date", None, None),
                Reading::Unreadable(why) => ("no_date", None, Some(why)),
                Reading::When { event, send_at } => match reminder::plan(event, send_at, now, shown) {
                    Plan::Schedule { send_at } => ("scheduled", Some(local(send_at)), None),
                    Plan::Wait { send_at, .. } => ("waiting", Some(local(send_at)), None),
                    Plan::Now => ("now", None, None),
                    Plan::Skip { reason } => ("skipped", None, Some(reason)),
                },
            };
            FirstReminder { line: row.line, send_at, plan, reason }
        })
        .collect()
}

/// An instant as people read it in the machine's zone.
pub(crate) fn shown(t: DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%d.%m.%Y %H:%M").to_string()
}

/// Readings of the observation's new rows, by key (reminder connections only).
pub(crate) fn read_new(spec: &ConnectionSpec, observation: &Observation) -> HashMap<String, Reading> {
    if spec.send_at.is_none() {
        return HashMap::new();
    }
    observation
        .new_rows()
        .iter()
        .map(|n| (n.key.clone(), read_row(spec, &observation.headers, &n.row, &Local)))
        .collect()
}

/// Keys of rows whose date is empty or unreadable: held back like a row
/// without a phone yet, so a later read sends them once the date is typed
/// or fixed (a typo must not cost the reminder).
pub(crate) fn without_date(readings: &HashMap<String, Reading>) -> HashSet<String> {
    readings.iter().filter(|(_, r)| !matches!(r, Reading::When { .. })).map(|(k, _)| k.clone()).collect()
}

/// What to tell the user about rows whose date cannot be read, if any.
pub(crate) fn unreadable_note(readings: &HashMap<String, Reading>, observation: &Observation) -> Option<String> {
    let mut bad: Vec<(usize, &str)> = observation
        .new_rows()
        .iter()
        .filter_map(|n| match readings.get(&n.key) {
            Some(Reading::Unreadable(why)) => Some((n.row.line, why.as_str())),
            _ => None,
        })
        .collect();
    bad.sort();
    let (line, why) = bad.first()?;
    Some(format!("{} row(s) wait for a date Sendrow can read; line {line}: {why}. They go once it is fixed", bad.len()))
}

/// Turns ready entries of reminder rows into what their plan says; returns
/// the send times to store and how many wait locally for 8x8's reach.
pub(crate) fn apply_plans(
    entries: &mut [NewEntry],
    readings: &HashMap<String, Reading>,
    now: DateTime<Utc>,
) -> (Vec<(String, DateTime<Utc>)>, usize) {
    let mut times = Vec::new();
    let mut far = 0;
    for entry in entries.iter_mut() {
        let Some(reading) = readings.get(&entry.row_key) else { continue };
        if !matches!(entry.status, EntryStatus::Pending | EntryStatus::Waiting | EntryStatus::Held) {
            continue;
        }
        match reading {
            Reading::Empty => {}
            Reading::Unreadable(why) => {
                entry.status = EntryStatus::Skipped;
                entry.reason = Some(Coded::new(Code::ReminderNoDate, why.as_str()).to_stored());
                entry.not_before = None;
            }
            Reading::When { event, send_at } => {
                let held = entry.status == EntryStatus::Held;
                match reminder::plan(*event, *send_at, now, shown) {
                    Plan::Skip { reason } => {
                        entry.status = EntryStatus::Skipped;
                        entry.reason = Some(Coded::new(Code::ReminderPassed, reason).to_stored());
                        entry.not_before = None;
                    }
                    Plan::Now => {}
                    Plan::Schedule { send_at } => {
                        times.push((entry.row_key.clone(), send_at));
                        if !held {
                            entry.status = EntryStatus::Pending;
                            entry.reason = None;
                            entry.not_before = None;
                        }
                    }
                    Plan::Wait { send_at, hand_over } => {
                        times.push((entry.row_key.clone(), send_at));
                        if !held {
                            far += 1;
                            entry.status = EntryStatus::Waiting;
                            entry.reason = Some(wait_reason(send_at, hand_over));
                            entry.not_before = Some(hand_over);
                        }
                    }
                }
            }
        }
    }
    (times, far)
}

fn wait_reason(send_at: DateTime<Utc>, hand_over: DateTime<Utc>) -> String {
    let text = format!(
        "a reminder for {}: 8x8 takes messages at most 7 days ahead, so Sendrow hands it over on {}",
        shown(send_at),
        shown(hand_over)
    );
    Coded::new(Code::ReminderHandOver, text)
        .param("at", shown(send_at))
        .param("hand_over", shown(hand_over))
        .to_stored()
}

/// The moment `{{$time}}` and friends show for a claimed entry: its send
/// time when that is ahead, otherwise now.
pub(crate) fn moment_of(entry: &Entry, now: &DateTime<FixedOffset>) -> NaiveDateTime {
    entry
        .send_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .filter(|t| t > now)
        .map(|t| t.with_timezone(&Local).naive_local())
        .unwrap_or_else(|| now.naive_local())
}

/// The trimmed ID of each row of `table`, the first row for a repeated one.
fn rows_by_key<'a>(spec: &ConnectionSpec, table: &'a Table) -> HashMap<String, &'a Row> {
    let mut by_key = HashMap::new();
    let Some(column) = spec.row_key.as_ref().and_then(|k| compose::find_column(&table.headers, &k.column)) else {
        return by_key;
    };
    for row in &table.rows {
        let key = row.cells.get(column).map(|c| c.trim()).unwrap_or("");
        if !key.is_empty() {
            by_key.entry(key.to_owned()).or_insert(row);
        }
    }
    by_key
}

impl Core {
    /// Follows the connection's reminders not sent yet through this read
    /// (`table`, a complete read): cancels those whose row went, stopped
    /// matching or moved, and gives rows whose reminders are all cancelled
    /// but that match again (a moved date included) a new one.
    pub(crate) async fn follow_reminders(
        &self,
        stored: &StoredConnection,
        spec: &ConnectionSpec,
        table: &Table,
        now: &DateTime<FixedOffset>,
        summary: &mut RunSummary,
    ) -> Result<(), Error> {
        let now_utc = now.with_timezone(&Utc);
        let rows = rows_by_key(spec, table);
        let mut gateway = None;
        for entry in self.store().reminders_to_follow(stored.id)? {
            let why = match rows.get(&entry.row_key) {
                None => Coded::new(Code::ReminderRowGone, "the row is no longer in the source"),
                Some(row) if !conditions::row_matches(spec.conditions.as_ref(), &table.headers, row) => {
                    Coded::new(Code::ReminderRowNoMatch, "the row no longer meets the connection's conditions")
                }
                Some(row) => match read_row(spec, &table.headers, row, &Local) {
                    Reading::When { send_at, .. }
                        if entry.send_at.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                            == Some(send_at.fixed_offset()) =>
                    {
                        continue
                    }
                    Reading::When { send_at, .. } => Coded::new(
                        Code::ReminderMoved,
                        format!("the date in the row changed; the reminder now goes on {}", shown(send_at)),
                    )
                    .param("at", shown(send_at)),
                    Reading::Empty | Reading::Unreadable(_) => {
                        Coded::new(Code::ReminderDateGone, "the date in the row was removed or can no longer be read")
                    }
                },
            };
            if entry.status != EntryStatus::Scheduled {
                if self.store().cancel_local(entry.id, &why.to_stored(), now_utc)? {
                    summary.cancelled += 1;
                }
                continue;
            }
            let Some(umid) = entry.umid.as_deref() else { continue };
            if gateway.is_none() {
                let account = self.account(&spec.account)?;
                gateway = Some(self.gateway(&account)?);
            }
            let gateway = gateway.as_ref().expect("set above");
            match gateway.cancel(umid).await {
                Ok(Cancel::Cancelled) => {
                    let reason = Coded { text: format!("cancelled at 8x8: {}", why.text), ..why.clone() };
                    self.store().settle_cancel(entry.id, true, &reason.to_stored(), now_utc)?;
                    summary.cancelled += 1;
                }
                Ok(Cancel::AlreadyGone) => {
                    let text =
                        format!("{}, but 8x8 had already sent this reminder when Sendrow asked to cancel it", why.text);
                    let reason = Coded::new(Code::ReminderAlreadySent, text);
                    self.store().settle_cancel(entry.id, false, &reason.to_stored(), now_utc)?;
                }
                // Still scheduled at 8x8: the next run asks again.
                Err(e) => {
                    let note =
                        format!("could not cancel a reminder at 8x8 ({}): {e}; the next run tries again", why.text);
                    summary.warning.get_or_insert(note);
                }
            }
        }
        self.reschedule_cancelled(stored, spec, table, &rows, now, summary)
    }

    fn reschedule_cancelled(
        &self,
        stored: &StoredConnection,
        spec: &ConnectionSpec,
        table: &Table,
        rows: &HashMap<String, &Row>,
        now: &DateTime<FixedOffset>,
        summary: &mut RunSummary,
    ) -> Result<(), Error> {
        let keys = self.store().rows_only_cancelled(stored.id)?;
        if keys.is_empty() {
            return Ok(());
        }
        let template: Template = spec.template()?;
        let country = spec.country()?;
        let optouts = self.store().optout_set()?;
        let now_utc = now.with_timezone(&Utc);
        let mut entries = Vec::new();
        let mut readings = HashMap::new();
        for key in keys {
            let Some(row) = rows.get(&key) else { continue };
            if !conditions::row_matches(spec.conditions.as_ref(), &table.headers, row) {
                continue;
            }
            let reading = read_row(spec, &table.headers, row, &Local);
            if !matches!(reading, Reading::When { .. }) {
                continue;
            }
            let cells = |column: &str| {
                compose::find_column(&table.headers, column).map(|i| row.cells.get(i).map(String::as_str).unwrap_or(""))
            };
            let phone = cells(&spec.phone_field);
            let mut composed =
                compose::compose_row(&template, cells, phone, country, now.naive_local(), spec.date_format);
            if composed.status == Status::MissingPhone {
                continue;
            }
            if composed.status == Status::Ready && composed.phone.as_ref().is_some_and(|p| optouts.contains(p.as_str()))
            {
                composed.status = Status::OptedOut;
                composed.reason = Some("the number is on the opt-out list".into());
            }
            let quiet = spec.quiet_hours.as_ref().and_then(|q| crate::connection::in_quiet_hours(q, now));
            let (status, reason, not_before) = match composed.status {
                Status::Ready => match quiet {
                    Some(until) => (EntryStatus::Waiting, Some(crate::store::reason_quiet_hours()), Some(until)),
                    None => (EntryStatus::Pending, None, None),
                },
                _ => (EntryStatus::Skipped, Some(crate::store::reason_skipped(&composed)), None),
            };
            entries.push(NewEntry {
                row_key: key.clone(),
                row_line: Some(row.line as i64),
                phone: composed.phone.map(|p| p.as_str().to_owned()),
                text: composed.text,
                status,
                reason,
                is_test: false,
                not_before,
                time_slots: composed.time_slots.encode(),
            });
            readings.insert(key, reading);
        }
        let (times, far) = apply_plans(&mut entries, &readings, now_utc);
        summary.scheduled += far;
        self.store().insert_with_send_at(stored.id, &entries, &times, now_utc)?;
        Ok(())
    }

    /// After sending: entries 8x8 took for a later time are `scheduled`,
    /// counted as such rather than as sent.
    pub(crate) fn settle_scheduled(
        &self,
        stored: &StoredConnection,
        summary: &mut RunSummary,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let scheduled = self.store().mark_scheduled(stored.id, now)?;
        summary.sent = summary.sent.saturating_sub(scheduled);
        summary.scheduled += scheduled;
        Ok(())
    }
}
