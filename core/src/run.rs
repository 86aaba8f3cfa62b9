//! A run of a connection, the heart of the product: read the source → find
//! the new rows → compose → filter (phone, opt-out, quiet hours, flood guard)
//! → write ledger entries → send → record → report. Also the preview (the
//! same up to composing, nothing written). The test send is `test_send`; the
//! history and a person's decisions on it are `history`.
//!
//! The ledger invariant (`docs/message-states.md`) holds throughout: the rows a read
//! marks as seen and their ledger entries commit in one transaction; entries
//! are claimed before their request; outcomes are recorded as they come;
//! anything ambiguous is `unknown` and waits for a person. Scheduling runs is
//! the scheduler's job.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset, Local, Utc};
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;

use crate::code::{Code, Coded};
use crate::compose::{self, compose_row, Composed, Status, Template};
use crate::connection::{in_quiet_hours, ConnectionSpec};
use crate::send::{self, RetryPolicy};
use crate::source::rows::{self, Memory, Observation, Rules};
use crate::store::{Claim, Entry, EntryStatus, NewEntry, StoredConnection};
use crate::{lock, Core, Error};

/// Requests a run keeps in flight at once by default.
pub const IN_FLIGHT: usize = 2;

pub use crate::connection::PAUSE_AFTER_FAILED_RUNS;

/// How a run was asked for.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Release rows the flood guard holds (`run --yes`).
    pub release_held: bool,
    /// The local time of the run (tests inject it; quiet hours and
    /// `{{$date}}` use it).
    pub now: DateTime<FixedOffset>,
    /// Retry and batching behaviour.
    pub retry: RetryPolicy,
    /// Requests kept in flight at once (at least 1).
    pub in_flight: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            release_held: false,
            now: Local::now().fixed_offset(),
            retry: RetryPolicy::default(),
            in_flight: IN_FLIGHT,
        }
    }
}

pub use crate::model::{RowToFix, RunSummary};

impl RowToFix {
    fn of(row: &str, line: usize, composed: &Composed) -> RowToFix {
        RowToFix {
            row: row.to_owned(),
            line,
            status: composed.status.as_str().to_owned(),
            reason: composed.reason.clone().unwrap_or_else(|| composed.status.as_str().to_owned()),
        }
    }
}

/// One row of a preview: what the next run would send for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewItem {
    /// The row's key.
    pub row: String,
    /// The row's line in the source.
    pub line: usize,
    /// Phone, text, encoding, segments, UCS-2 culprits, status and reason.
    #[serde(flatten)]
    pub composed: Composed,
    /// Cost of this message when a price per segment is set.
    pub cost: Option<f64>,
}

fn lookup<'a>(headers: &'a [String], row: &'a crate::source::Row) -> impl Fn(&str) -> Option<&'a str> + 'a {
    move |column| compose::find_column(headers, column).map(|i| row.cells.get(i).map(String::as_str).unwrap_or(""))
}

/// How a composed row becomes its ledger entry in a run.
struct EntryRules<'a> {
    /// Rows that may be an edit of a row gone (without an ID column), with
    /// the line of that row.
    doubtful: &'a HashMap<String, usize>,
    /// Ready rows counted when the flood guard holds them all.
    flood: Option<usize>,
    /// The flood guard's limit.
    limit: u32,
    /// The end of the quiet hours the run is in.
    quiet_until: Option<DateTime<Utc>>,
}

impl EntryRules<'_> {
    fn entry(&self, row_key: String, line: usize, c: Composed) -> NewEntry {
        let (status, reason, not_before) = match c.status {
            // Without an ID column Sendrow cannot be sure this is not an
            // edited row: better a person decides than a customer gets the
            // SMS twice.
            Status::Ready if self.doubtful.contains_key(&row_key) => {
                let gone = self.doubtful[&row_key];
                let text = format!(
                    "held: this row has the phone of the row first seen on line {gone}, which is gone, but most of \
                     its cells differ, so it may be that row edited or a new one; send it if it is new, skip it if \
                     it is the same order (an ID column avoids the doubt)"
                );
                (EntryStatus::Held, Some(Coded::new(Code::HeldDoubtful, text).param("line", gone).to_stored()), None)
            }
            Status::Ready if self.flood.is_some() => {
                let ready = self.flood.unwrap_or_default();
                let text = format!(
                    "held by the flood guard: {ready} new rows at once is more than the limit of {}",
                    self.limit
                );
                let coded = Coded::new(Code::HeldFlood, text).param("rows", ready).param("limit", self.limit);
                (EntryStatus::Held, Some(coded.to_stored()), None)
            }
            Status::Ready => match self.quiet_until {
                Some(until) => (EntryStatus::Waiting, Some(crate::store::reason_quiet_hours()), Some(until)),
                None => (EntryStatus::Pending, None, None),
            },
            _ => (EntryStatus::Skipped, Some(crate::store::reason_skipped(&c)), None),
        };
        NewEntry {
            row_key,
            row_line: Some(line as i64),
            phone: c.phone.map(|p| p.as_str().to_owned()),
            text: c.text,
            status,
            reason,
            is_test: false,
            not_before,
            time_slots: c.time_slots.encode(),
        }
    }
}

impl Core {
    pub(crate) fn compose_new(
        spec: &ConnectionSpec,
        template: &Template,
        observation: &Observation,
        optouts: &HashSet<String>,
        now: &DateTime<FixedOffset>,
    ) -> Result<Vec<(String, usize, Composed)>, Error> {
        let mut all = Vec::with_capacity(observation.new_rows().len());
        let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Self::compose_each(spec, template, observation, optouts, now, workers, |chunk| {
            all.extend(chunk);
            Ok(())
        })?;
        Ok(all)
    }

    /// Composes the new rows and hands them to `sink` in order, a chunk at a
    /// time. Parsing phone numbers dominates a big run and rows are
    /// independent, so `workers` threads compose while `sink` runs on this
    /// one (a run writes each chunk meanwhile). Small runs stay on this thread.
    fn compose_each(
        spec: &ConnectionSpec,
        template: &Template,
        observation: &Observation,
        optouts: &HashSet<String>,
        now: &DateTime<FixedOffset>,
        workers: usize,
        mut sink: impl FnMut(Vec<(String, usize, Composed)>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        const CHUNK: usize = 2_000;
        let country = spec.country()?;
        let phone_column = spec.phone_field.as_str();
        let compose_one = |new: &rows::NewRow| {
            let cells = lookup(&observation.headers, &new.row);
            let phone = cells(phone_column);
            let mut composed = compose_row(template, &cells, phone, country, now.naive_local(), spec.date_format);
            if composed.status == Status::Ready && composed.phone.as_ref().is_some_and(|p| optouts.contains(p.as_str()))
            {
                composed.status = Status::OptedOut;
                composed.reason = Some("the number is on the opt-out list".into());
            }
            (new.key.clone(), new.row.line, composed)
        };
        let rows = observation.new_rows();
        if rows.len() < 2 * CHUNK || workers < 1 {
            return sink(rows.iter().map(compose_one).collect());
        }
        let chunks: Vec<&[rows::NewRow]> = rows.chunks(CHUNK).collect();
        std::thread::scope(|scope| {
            // Worker w composes chunks w, w + workers, …, each into its own
            // channel, so taking them round-robin keeps the rows' order. A
            // sink's error drops the receivers, which stops the workers.
            let receivers: Vec<_> = (0..workers)
                .map(|w| {
                    let (to_sink, from_worker) = std::sync::mpsc::sync_channel(2);
                    let mine: Vec<&[rows::NewRow]> = chunks.iter().skip(w).step_by(workers).copied().collect();
                    let compose_one = &compose_one;
                    scope.spawn(move || {
                        for chunk in mine {
                            if to_sink.send(chunk.iter().map(compose_one).collect::<Vec<_>>()).is_err() {
                                break;
                            }
                        }
                    });
                    from_worker
                })
                .collect();
            for i in 0..chunks.len() {
                // A worker gone early has panicked; the scope passes that on.
                let Ok(composed) = receivers[i % workers].recv() else { break };
                sink(composed)?;
            }
            Ok(())
        })
    }

    /// Whether a row composed with `status` is left for the next read rather
    /// than taken: it is still being typed, or its number must be corrected.
    fn read_again(status: Status) -> bool {
        matches!(status, Status::MissingPhone | Status::Incomplete | Status::InvalidPhone)
    }

    /// Reads the source and detects new rows without recording anything.
    pub(crate) async fn observe(
        &self,
        stored: &StoredConnection,
        spec: &ConnectionSpec,
        memory: Option<Memory>,
        now: DateTime<Utc>,
    ) -> Result<Observation, Error> {
        Ok(self.observe_keeping(stored, spec, memory, now, false).await?.0)
    }

    /// [`Core::observe`], also keeping the whole read when `keep` (reminders
    /// follow rows already seen).
    async fn observe_keeping(
        &self,
        stored: &StoredConnection,
        spec: &ConnectionSpec,
        memory: Option<Memory>,
        now: DateTime<Utc>,
        keep: bool,
    ) -> Result<(Observation, Option<crate::source::Table>), Error> {
        let table = self.read_source(&spec.source, &spec.default_country).await?;
        let kept = keep.then(|| table.clone());
        let key = spec.row_key();
        let used = spec.used_columns();
        let rules = Rules {
            key: &key,
            start_from: spec.start_from,
            used_columns: &used,
            phone_column: Some(&spec.phone_field),
        };
        let memory = match memory {
            Some(m) => m,
            None => self.store().row_memory(stored.id)?,
        };
        let mut observation = rows::detect(stored.id, table, &memory, &rules, now);
        if !observation.vanished.is_empty() {
            let traces = self.store().traces(stored.id, &observation.vanished)?;
            observation.follow_edits(&traces);
        }
        Ok((observation, kept))
    }

    /// What the next run would send, nothing sent or recorded.
    pub async fn preview(&self, name: &str, limit: Option<usize>) -> Result<(Vec<PreviewItem>, Option<String>), Error> {
        let stored = self.stored_connection(name)?;
        let spec = Self::spec_of(&stored)?;
        let template = spec.template()?;
        let now = Local::now().fixed_offset();
        let observation = self.observe(&stored, &spec, None, Utc::now()).await?;
        if let Some(pause) = observation.pause() {
            return Err(Error::Invalid(format!("the connection cannot run as it is: {pause}")));
        }
        // Only rows that would go (product.md §8).
        let mut observation = observation;
        observation.hold_back(&crate::conditions::not_matching(spec.conditions.as_ref(), &observation));
        observation.hold_back(&crate::follow::without_date(&crate::follow::read_new(&spec, &observation)));
        let optouts = self.store().optout_set()?;
        let composed = Self::compose_new(&spec, &template, &observation, &optouts, &now)?;
        // A row a test send already reached is not texted by the run.
        let keys: Vec<&str> = composed.iter().map(|(key, _, _)| key.as_str()).collect();
        let already_sent = self.store().rows_with_entries(stored.id, &keys)?;
        let items = composed
            .into_iter()
            .filter(|(key, _, _)| !already_sent.contains(key))
            .take(limit.unwrap_or(usize::MAX))
            .map(|(row, line, composed)| {
                // A row that will not be sent costs nothing.
                let cost = spec
                    .price_per_segment
                    .filter(|_| composed.status == Status::Ready)
                    .map(|p| composed.measure.cost(p));
                PreviewItem { row, line, composed, cost }
            })
            .collect();
        Ok((items, observation.warning().map(str::to_owned)))
    }

    /// Runs the connection now, after any run of it already under way
    /// through this `Core`.
    pub async fn run(&self, name: &str, options: &RunOptions) -> Result<RunSummary, Error> {
        // A run asked for while another of this connection is under way
        // (the arrow during a scheduled run) waits for it, then reads afresh.
        let turn = self.run_turn(name);
        let asked = std::time::Instant::now();
        let _turn = turn.lock().await;
        // Its clock moves on by the wait, so quiet hours and `{{$time}}` are
        // those of when it really runs (an injected test instant included).
        let waited = chrono::Duration::from_std(asked.elapsed()).unwrap_or_default();
        let options = &RunOptions { now: options.now + waited, ..options.clone() };
        let stored = self.stored_connection(name)?;
        let spec = Self::spec_of(&stored)?;
        let started = Utc::now();
        let mut summary = RunSummary { started_at: started.to_rfc3339(), ..RunSummary::default() };
        let span = tracing::info_span!("run", connection = %name);
        let outcome =
            tracing::Instrument::instrument(self.run_inner(&stored, &spec, options, &mut summary), span.clone()).await;
        // What is left for the next run (a chunk failed, the key was refused).
        summary.pending = self.store().count_status(stored.id, EntryStatus::Pending)?;
        summary.finished_at = Utc::now().to_rfc3339();
        span.in_scope(|| match &outcome {
            Ok(()) => tracing::info!(
                new_rows = summary.new_rows,
                sent = summary.sent,
                failed = summary.failed,
                unknown = summary.unknown,
                held = summary.held,
                pending = summary.pending,
                "run finished"
            ),
            Err(e) => tracing::warn!(code = e.code().as_str(), transient = e.is_transient(), "run failed: {e}"),
        });
        if let Err(e) = &outcome {
            summary.error = Some(e.to_string());
            summary.error_code = Some(e.code());
            summary.transient = e.is_transient();
        }
        self.store().record_run(stored.id, &summary)?;
        self.pause_after_repeated_failures(&stored, spec.pause_after_failures as usize)?;
        outcome.map(|()| summary)
    }

    async fn run_inner(
        &self,
        stored: &StoredConnection,
        spec: &ConnectionSpec,
        options: &RunOptions,
        summary: &mut RunSummary,
    ) -> Result<(), Error> {
        let now = options.now;
        let now_utc = now.with_timezone(&Utc);
        // Entries a crashed process left in `sending` may have gone out.
        lock::when_nobody_sends(self.data_dir(), || Ok(self.store().recover_interrupted(now_utc)?))?;
        // Reminders whose time has come were sent by 8x8: delivery checks begin.
        self.store().scheduled_now_due(now_utc)?;
        let template = spec.template()?;
        let (mut observation, table) =
            self.observe_keeping(stored, spec, None, now_utc, spec.send_at.is_some()).await?;
        // Phase ends at debug level: where a slow run spent its time.
        tracing::debug!(new = observation.new_rows().len(), "source read, new rows found");
        summary.warning = observation.warning().map(str::to_owned);

        if let Some(pause) = observation.pause() {
            let reason = pause.to_string();
            let coded = pause.coded();
            self.store().commit_observation(&observation, |tx| tx.set_paused(stored.id, Some(&coded), now_utc))?;
            return Err(Error::Invalid(format!("{:?} is paused: {reason}", spec.name)));
        }

        // Rows not meeting the conditions are not taken now: each read looks
        // at them again, and the first that finds one matching sends it.
        let not_matching = crate::conditions::not_matching(spec.conditions.as_ref(), &observation);
        summary.not_matching = not_matching.len();
        observation.hold_back(&not_matching);
        // Reminders: each row's date; a row whose date is still empty waits.
        let readings = crate::follow::read_new(spec, &observation);
        let no_date = crate::follow::without_date(&readings);
        if summary.warning.is_none() {
            summary.warning = crate::follow::unreadable_note(&readings, &observation);
        }
        observation.hold_back(&no_date);
        let optouts = self.store().optout_set()?;
        // A row not complete yet (no phone, or a cell the message uses still
        // empty) is most likely still being typed, and a row whose number is
        // unusable waits for it to be corrected: neither is taken now, so the
        // next read finds it again instead of skipping it for good.
        let mut not_yet = Vec::new();
        let doubtful = observation.doubtful.clone();
        let mut rules = EntryRules {
            doubtful: &doubtful,
            flood: None,
            limit: spec.flood_limit,
            quiet_until: spec.quiet_hours.as_ref().and_then(|q| in_quiet_hours(q, &now)),
        };
        // The flood guard holds rows only when more rows are new than its
        // limit and the run does not release them. Otherwise nothing waits
        // for the count of ready rows: each chunk is written while the next
        // is composed, and the big run's two slowest steps overlap.
        let may_hold = !options.release_held && observation.new_rows().len() > spec.flood_limit as usize;
        let (entries, written, far) = if may_hold {
            let composed = Self::compose_new(spec, &template, &observation, &optouts, &now)?;
            let (later, composed): (Vec<_>, Vec<_>) =
                composed.into_iter().partition(|(_, _, c)| Self::read_again(c.status));
            not_yet = later;
            observation.hold_back(&not_yet.iter().map(|(key, _, _)| key.clone()).collect());
            let ready =
                composed.iter().filter(|(key, _, c)| c.status == Status::Ready && !doubtful.contains_key(key)).count();
            rules.flood = (ready > spec.flood_limit as usize).then_some(ready);
            let mut entries: Vec<NewEntry> =
                composed.into_iter().map(|(key, line, c)| rules.entry(key, line, c)).collect();
            let (send_times, far) = crate::follow::apply_plans(&mut entries, &readings, now_utc);
            let written = self.store().commit_observation(&observation, |tx| {
                let written = tx.insert_entries(stored.id, &entries, now_utc)?;
                tx.set_send_at(&written, &send_times)?;
                Ok::<_, crate::store::Error>(written)
            })?;
            (entries.len(), written, far)
        } else {
            let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).saturating_sub(1).max(1);
            self.store().commit_observation_after(&mut observation, |tx, observation| {
                let (mut entries, mut written, mut send_times, mut far) = (0, Vec::new(), Vec::new(), 0);
                Self::compose_each(spec, &template, observation, &optouts, &now, workers, |chunk| {
                    let (later, composed): (Vec<_>, Vec<_>) =
                        chunk.into_iter().partition(|(_, _, c)| Self::read_again(c.status));
                    not_yet.extend(later);
                    let mut chunk: Vec<NewEntry> =
                        composed.into_iter().map(|(key, line, c)| rules.entry(key, line, c)).collect();
                    let (times, far_ahead) = crate::follow::apply_plans(&mut chunk, &readings, now_utc);
                    written.extend(tx.insert_entries(stored.id, &chunk, now_utc)?);
                    send_times.extend(times);
                    far += far_ahead;
                    entries += chunk.len();
                    Ok(())
                })?;
                observation.hold_back(&not_yet.iter().map(|(key, _, _)| key.clone()).collect());
                tx.set_send_at(&written, &send_times)?;
                Ok::<_, Error>((entries, written, far))
            })?
        };
        summary.incomplete = not_yet.iter().filter(|(_, _, c)| c.status != Status::InvalidPhone).count();
        summary.skipped = not_yet.len();
        summary.rows_to_fix = not_yet.iter().map(|(key, line, c)| RowToFix::of(key, *line, c)).collect();
        summary.new_rows = entries;
        summary.edited = observation.edited.len();
        summary.incomplete += no_date.len();
        summary.skipped += no_date.len();
        summary.already_sent = entries - written.len();
        tracing::debug!(entries = written.len(), "messages composed, rows marked seen and entries written");
        let quiet_until = rules.quiet_until;
        for (_, status) in &written {
            match status {
                EntryStatus::Skipped => summary.skipped += 1,
                EntryStatus::Held => summary.held += 1,
                EntryStatus::Waiting => summary.waiting += 1,
                _ => {}
            }
        }
        // Far-ahead reminders wait locally, but they are reminders set.
        summary.waiting = summary.waiting.saturating_sub(far);
        summary.scheduled += far;
        if options.release_held {
            self.store().release_held(stored.id, EntryStatus::Pending, now_utc)?;
        }
        if let (Some(table), rows::Outcome::Rows { .. }) = (&table, &observation.outcome) {
            // Only a complete read: an emptied sheet (a shrink warning) cancels nothing.
            self.follow_reminders(stored, spec, table, &now, summary).await?;
        }
        if let Some(until) = quiet_until {
            // Everything due now waits for this window's end, so the
            // scheduler's wake-up always lies ahead (after a sleep through
            // the last end, a clock change, or released held rows).
            summary.waiting = self.store().defer_until(stored.id, until, now_utc)?;
            if spec.send_at.is_none() {
                return Ok(());
            }
            // Reminders are handed to 8x8 even now: they go at their time,
            // which quiet hours already moved. Failed messages wait.
            let outcome = self.send_pending(stored, spec, options, summary, Claim::DueButFailed).await;
            self.settle_scheduled(stored, summary, Utc::now())?;
            return outcome;
        }
        let outcome = self.send_pending(stored, spec, options, summary, Claim::Due).await;
        if spec.send_at.is_some() {
            self.settle_scheduled(stored, summary, Utc::now())?;
        }
        outcome
    }

    /// "Resend failed": sends the connection's failed messages again now,
    /// and nothing else — no new rows are read, held or waiting rows stay.
    pub async fn resend_failed(&self, name: &str, options: &RunOptions) -> Result<RunSummary, Error> {
        let turn = self.run_turn(name);
        let _turn = turn.lock().await;
        let stored = self.stored_connection(name)?;
        let spec = Self::spec_of(&stored)?;
        let mut summary = RunSummary { started_at: Utc::now().to_rfc3339(), ..RunSummary::default() };
        if let Some(until) = spec.quiet_hours.as_ref().and_then(|q| in_quiet_hours(q, &options.now)) {
            // Not at night either: they go out when quiet hours end.
            summary.waiting = self.store().defer_failed_until(stored.id, until, Utc::now())?;
            summary.finished_at = Utc::now().to_rfc3339();
            return Ok(summary);
        }
        let outcome = self.send_pending(&stored, &spec, options, &mut summary, Claim::OnlyFailed).await;
        summary.finished_at = Utc::now().to_rfc3339();
        outcome.map(|()| summary)
    }

    async fn send_pending(
        &self,
        stored: &StoredConnection,
        spec: &ConnectionSpec,
        options: &RunOptions,
        summary: &mut RunSummary,
        scope: Claim,
    ) -> Result<(), Error> {
        let account = self.account(&spec.account)?;
        let gateway = self.gateway(&account)?;
        let sender = spec.sender_id()?;
        let _sending = self.start_sending()?;
        let batch = options.retry.batch_size.clamp(1, send::MAX_BATCH);
        let sender = sender.as_ref().map(|s| s.as_str());
        // Two chunks in flight: one is on the wire while the other's claim and
        // outcomes are written. Each chunk is claimed before its request, so
        // the ledger rule holds per chunk whatever the interleaving.
        let mut in_flight = FuturesUnordered::new();
        let mut claiming = true;
        let mut refused = None;
        loop {
            while claiming && in_flight.len() < options.in_flight.max(1) {
                // `{{$time}}` and friends show the send time, not the time the
                // row was found (earlier for rows that waited).
                let at_send_time = |entry: &Entry| {
                    let slots = compose::TimeSlots::decode(entry.time_slots.as_deref()?);
                    Some(slots.refresh(&entry.text, crate::follow::moment_of(entry, &options.now), spec.date_format))
                };
                let now = options.now.with_timezone(&Utc);
                let claimed = self.store().claim_retexted(stored.id, scope, batch, now, &at_send_time)?;
                if claimed.is_empty() {
                    claiming = false;
                    break;
                }
                let gateway = &gateway;
                // Made now, not inside the future: a future dropped before it
                // is first polled still gives its claims back.
                let unwritten = send::Unwritten::new(self.store(), &claimed);
                in_flight.push(async move {
                    send::deliver_guarded(unwritten, gateway, &claimed, sender, &options.retry).await
                });
            }
            let Some(delivery) = in_flight.next().await else { break };
            let delivery = delivery?;
            tracing::debug!(queued = delivery.queued, failed = delivery.failed, "chunk recorded");
            summary.sent += delivery.queued;
            summary.rejected += delivery.rejected;
            summary.failed += delivery.failed;
            summary.unknown += delivery.unknown;
            summary.segments += delivery.queued_segments;
            // Rounded to a millionth, so JSON shows 0.3 and not 0.30000000000000004.
            summary.cost = spec.price_per_segment.map(|price| (summary.segments as f64 * price * 1e6).round() / 1e6);
            if delivery.account_refused.is_some() {
                refused = delivery.account_refused;
                claiming = false;
            }
            if delivery.failed > 0 {
                // Failed entries wait for the next run rather than being
                // claimed again in this one.
                claiming = false;
            }
        }
        if let Some(refusal) = refused {
            let err =
                crate::gateway::Error::BadKey { code: refusal.code.unwrap_or(1200), message: refusal.reason.clone() };
            self.mark_account_refused(&account.name, &err)?;
            let reason = format!(
                "8x8 refused the account {:?}: {} — check your access to this login, then verify the account",
                account.name, refusal.reason
            );
            let coded = Coded::new(Code::PausedAccountRefused, reason.clone())
                .param("account", &account.name)
                .param("reason", &refusal.reason);
            self.store().set_paused(stored.id, Some(&coded), Utc::now())?;
            return Err(Error::Invalid(reason));
        }
        Ok(())
    }

    fn pause_after_repeated_failures(&self, stored: &StoredConnection, limit: usize) -> Result<(), Error> {
        let recent = self.store().recent_runs(stored.id, limit)?;
        let failing = |r: &RunSummary| (r.error.is_some() && !r.transient) || (r.failed > 0 && r.sent == 0);
        // Only runs since the connection was last resumed or edited count:
        // a person dealt with the earlier failures.
        let changed = DateTime::parse_from_rfc3339(&stored.updated_at).ok();
        let since_change =
            |r: &RunSummary| DateTime::parse_from_rfc3339(&r.started_at).ok().zip(changed).is_none_or(|(s, c)| s >= c);
        if recent.len() == limit && recent.iter().all(|r| failing(r) && since_change(r)) {
            let last = recent[0].error.clone().unwrap_or_else(|| "messages kept failing".into());
            let reason = format!("paused after {limit} failed runs in a row; the last said: {last}");
            let coded = Coded::new(Code::PausedAfterFailures, reason).param("n", limit).param("last", last);
            self.store().set_paused(stored.id, Some(&coded), Utc::now())?;
        }
        Ok(())
    }
}
