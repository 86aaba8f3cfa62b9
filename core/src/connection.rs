//! Connections: a source, an 8x8 account and a message, as the connection spec
//! (`docs/connection-spec.md`) describes them, validated against the real source before
//! they are saved.
//!
//! Saving checks everything a run will need — the account exists, the source
//! reads, the phone, ID and template columns exist, the sender and country
//! are valid, the schedule makes sense — and refuses with an error that names
//! the field, the bad value and what would be accepted. With
//! `start_from: "new_rows"` the rows present at save time are recorded as seen
//! in the same transaction as the connection, so none of them is ever sent.
//! Running a connection is `run`'s job.

use std::path::Path;

use chrono::{DateTime, FixedOffset, Local, Offset, Utc};
use serde::{Deserialize, Serialize};

use crate::compose::{Country, DateFormat, SenderId, Template};
use crate::schedule::{self, Schedule};
use crate::source::rows::{self, Memory, RowKey, Rules, StartFrom};
use crate::source::{self, SourceSpec};
use crate::store::{Removal, StoredConnection};
use crate::{Core, Error};

/// Runs failing in a row before a connection is paused.
pub const PAUSE_AFTER_FAILED_RUNS: u32 = 5;

/// The default flood limit: a run finding more new rows than this holds them.
pub const DEFAULT_FLOOD_LIMIT: u32 = 100;

/// A connection as the user writes it (`connection add --file SPEC.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSpec {
    /// Unique name.
    pub name: String,
    /// Where rows come from.
    pub source: SourceSpec,
    /// `{"column": "Order ID"}`; absent: rows are told apart by their content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_key: Option<RowKeySpec>,
    /// `"new_rows"` (rows present when saved are never sent) or `"all_rows"`.
    #[serde(default = "default_start_from")]
    pub start_from: StartFrom,
    /// The 8x8 account's name in Sendrow.
    pub account: String,
    /// The column holding the recipient's phone number.
    pub phone_field: String,
    /// Country for numbers written without an international prefix.
    #[serde(default = "default_country")]
    pub default_country: String,
    /// Sender ID; absent: the account's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// The template: text with `{{Column}}` and `{{$date}}`-style variables.
    pub message: String,
    /// When it runs by itself; null: only when asked.
    #[serde(default)]
    pub schedule: Option<Schedule>,
    /// Whether scheduled runs happen.
    #[serde(default = "yes")]
    pub auto_update: bool,
    /// Rows found inside this local window wait for its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
    /// A run finding more new rows than this holds them for a person.
    #[serde(default = "default_flood_limit")]
    pub flood_limit: u32,
    /// `"YYYY-MM-DD"` (default) or `"DD.MM.YYYY"` for `{{$date}}`.
    #[serde(default)]
    pub date_format: DateFormat,
    /// Price of one SMS part, for cost estimates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_per_segment: Option<f64>,
    /// Runs failing in a row before the connection pauses itself.
    #[serde(default = "default_pause_after")]
    pub pause_after_failures: u32,
    /// Only rows meeting these are sent, each the first time it is seen
    /// meeting them (product.md §8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<crate::conditions::Conditions>,
    /// Send each row's SMS at a time taken from a date in the row (product.md §9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_at: Option<crate::reminder::SendAt>,
}

/// Which column identifies a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowKeySpec {
    /// The ID column's header.
    pub column: String,
}

/// A daily window with no texting, in local time, e.g. 21:00–08:00.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// Start, `HH:MM`.
    pub from: String,
    /// End, `HH:MM`.
    pub to: String,
}

/// When `now` falls inside `quiet`, the instant the quiet hours end.
pub(crate) fn in_quiet_hours(quiet: &QuietHours, now: &DateTime<FixedOffset>) -> Option<DateTime<Utc>> {
    let from = schedule::parse_time(&quiet.from).ok()?;
    let to = schedule::parse_time(&quiet.to).ok()?;
    let t = now.time();
    let inside = if from <= to { t >= from && t < to } else { t >= from || t < to };
    if !inside {
        return None;
    }
    // The end of the window: the next `to` after now, in the same offset.
    let mut end = now.date_naive().and_time(to);
    if end <= now.naive_local() {
        end += chrono::Duration::days(1);
    }
    Some((end - now.offset().fix()).and_utc())
}

fn default_start_from() -> StartFrom {
    StartFrom::NewRows
}
fn default_country() -> String {
    "UA".into()
}
fn yes() -> bool {
    true
}
fn default_pause_after() -> u32 {
    PAUSE_AFTER_FAILED_RUNS
}
fn default_flood_limit() -> u32 {
    DEFAULT_FLOOD_LIMIT
}

impl ConnectionSpec {
    /// Parses a spec file's JSON; a syntax error or unknown field is named
    /// with its line and column, and a bad value with its field
    /// (`start_from: unknown variant …`), which serde_json alone leaves out.
    pub fn parse(json: &str) -> Result<ConnectionSpec, Error> {
        let invalid = |e: &dyn std::fmt::Display| {
            Error::Invalid(format!(
                "the connection spec is not valid: {e}. See the README for the fields a connection has"
            ))
        };
        let mut de = serde_json::Deserializer::from_str(json);
        let spec = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            // serde names Rust types; the user wrote JSON.
            let why = e.inner().to_string().replace("expected u32", "expected a whole number of 0 or more");
            match e.path().to_string().as_str() {
                "." => invalid(&why),
                // Untagged, so serde cannot say which kind was meant.
                "schedule" => invalid(&format!(
                    "schedule: {}; a schedule is one of {{\"every_minutes\": 15}}, {{\"at\": [\"09:00\"]}}, \
                     {{\"after\": \"Other connection\"}}, {{\"on_change\": true}} or null",
                    why.replace("data did not match any variant of untagged enum Schedule", "this is not a schedule")
                )),
                path => invalid(&format!("{path}: {why}")),
            }
        })?;
        de.end().map_err(|e| invalid(&e))?;
        Ok(spec)
    }

    /// How rows are identified.
    pub fn row_key(&self) -> RowKey {
        match &self.row_key {
            Some(k) => RowKey::Column(k.column.clone()),
            None => RowKey::Fingerprint,
        }
    }

    /// The columns a run uses: phone, ID and every template field.
    pub fn used_columns(&self) -> Vec<String> {
        let mut used = vec![self.phone_field.clone()];
        if let Some(k) = &self.row_key {
            used.push(k.column.clone());
        }
        if let Ok(t) = Template::parse(&self.message) {
            used.extend(t.columns().into_iter().map(str::to_owned));
        }
        if let Some(conditions) = &self.conditions {
            used.extend(conditions.columns().map(|c| c.trim().to_owned()));
        }
        if let Some(send_at) = &self.send_at {
            used.push(send_at.column.trim().to_owned());
        }
        used.sort();
        used.dedup();
        used
    }

    /// The parsed template (valid once the spec is saved).
    pub fn template(&self) -> Result<Template, Error> {
        Template::parse(&self.message).map_err(|e| Error::Invalid(format!("message: {e}")))
    }

    /// The default country (valid once the spec is saved).
    pub fn country(&self) -> Result<Country, Error> {
        Country::parse(&self.default_country).map_err(|e| Error::Invalid(format!("default_country: {e}")))
    }

    /// The sender ID (valid once the spec is saved).
    pub fn sender_id(&self) -> Result<Option<SenderId>, Error> {
        SenderId::parse(self.sender.as_deref()).map_err(|e| Error::Invalid(format!("sender: {e}")))
    }

    /// Checks what can be checked without the source or the store.
    pub(crate) fn check_alone(&self) -> Result<(), Error> {
        let invalid = |field: &str, why: String| Error::Invalid(format!("{field}: {why}"));
        if self.name.trim().is_empty() || self.name.trim() != self.name || self.name.chars().count() > 80 {
            return Err(invalid(
                "name",
                format!("{:?} must be 1 to 80 characters without leading or trailing spaces", self.name),
            ));
        }
        if let SourceSpec::GoogleSheets { auth, .. } = &self.source {
            auth.check_key_entry().map_err(source::Error::from)?;
        }
        self.template()?;
        self.country()?;
        self.sender_id()?;
        if self.phone_field.trim().is_empty() {
            return Err(invalid(
                "phone_field",
                format!("{:?} is empty: name the column that holds the phone numbers", self.phone_field),
            ));
        }
        if let Some(schedule) = &self.schedule {
            let field = match schedule {
                Schedule::Every { .. } => "schedule.every_minutes",
                Schedule::At { .. } => "schedule.at",
                Schedule::After { .. } => "schedule.after",
                Schedule::OnChange { .. } => "schedule.on_change",
            };
            schedule.validate().map_err(|e| invalid(field, e))?;
            if let (Schedule::OnChange { .. }, SourceSpec::GoogleSheets { .. }) = (schedule, &self.source) {
                return Err(invalid(
                    field,
                    format!(
                        "true watches a file, and a Google sheet is not one: use {{\"every_minutes\": N}} \
                         with N one of {:?}",
                        schedule::INTERVALS
                    ),
                ));
            }
            if matches!(schedule, Schedule::After { after } if after == &self.name) {
                return Err(invalid(
                    field,
                    format!("{:?} cannot run after itself: name another connection, or use null", self.name),
                ));
            }
        }
        if let Some(q) = &self.quiet_hours {
            schedule::parse_time(&q.from).map_err(|e| invalid("quiet_hours.from", e))?;
            schedule::parse_time(&q.to).map_err(|e| invalid("quiet_hours.to", e))?;
        }
        if self.flood_limit == 0 {
            return Err(invalid(
                "flood_limit",
                format!("0 would hold every run: use 1 or more (the default is {DEFAULT_FLOOD_LIMIT})"),
            ));
        }
        if self.pause_after_failures == 0 {
            return Err(invalid(
                "pause_after_failures",
                format!("0 would pause before any run: use 1 or more (the default is {})", default_pause_after()),
            ));
        }
        if let Some(conditions) = &self.conditions {
            conditions.check().map_err(Error::Invalid)?;
        }
        if let Some(send_at) = &self.send_at {
            send_at.check().map_err(Error::Invalid)?;
            if self.row_key.is_none() {
                return Err(invalid(
                    "send_at",
                    "a reminder needs an ID column: without \"row_key\" a row whose date is changed cannot be \
                     told from a new row, so a moved appointment could not be followed (its old reminder cancelled). \
                     Add \"row_key\": {\"column\": \"...\"} naming a column with a unique value per row"
                        .into(),
                ));
            }
        }
        if let Some(price) = self.price_per_segment.filter(|p| !p.is_finite() || *p < 0.0) {
            return Err(invalid(
                "price_per_segment",
                format!("{price} is not a price: use a number of 0 or more, e.g. 0.05, or leave it out"),
            ));
        }
        Ok(())
    }

    /// Checks the spec's columns against the source's header row.
    pub fn check_columns(&self, headers: &[String]) -> Result<(), Error> {
        if headers.is_empty() {
            // An empty sheet or tab: no list of columns to offer, so say what is missing.
            return Err(Error::Invalid(format!(
                "source: {} is empty: it has no header row naming the columns. Type the column names in its first \
                 row (at least {:?} for the phone numbers, and the columns the message uses), then try again",
                self.source.describe(),
                self.phone_field
            )));
        }
        let listed = || headers.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ");
        if crate::compose::find_column(headers, &self.phone_field).is_none() {
            return Err(Error::Invalid(format!(
                "phone_field: the source has no column {:?}; its columns are {}",
                self.phone_field,
                listed()
            )));
        }
        if let Some(k) = &self.row_key {
            if crate::compose::find_column(headers, &k.column).is_none() {
                return Err(Error::Invalid(format!(
                    "row_key.column: the source has no column {:?}; its columns are {}",
                    k.column,
                    listed()
                )));
            }
        }
        if let Some(conditions) = &self.conditions {
            conditions.check_columns(headers).map_err(Error::Invalid)?;
        }
        if let Some(send_at) = &self.send_at {
            if crate::compose::find_column(headers, send_at.column.trim()).is_none() {
                return Err(Error::Invalid(format!(
                    "send_at.column: the source has no column {:?}; its columns are {}",
                    send_at.column,
                    listed()
                )));
            }
        }
        self.template()?.check_columns(headers).map_err(|e| Error::Invalid(format!("message: {e}")))
    }
}

/// A connection as `connection show --json` and the window see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionView {
    /// Unique name.
    pub name: String,
    /// The 8x8 account's name.
    pub account: String,
    /// Whether scheduled runs happen.
    pub auto_update: bool,
    /// The schedule, as written.
    pub schedule: Option<Schedule>,
    /// The next scheduled run (RFC 3339), or null when nothing is scheduled.
    pub next_run: Option<String>,
    /// `"active"` or `"paused"`.
    pub status: &'static str,
    /// Why it is paused.
    pub status_reason: Option<String>,
    /// A warning about the source held for the user (rows vanished): new
    /// rows wait until it is dismissed or the rows are back.
    pub warning: Option<String>,
    /// A note on rows the last read skipped for their ID (empty or repeated):
    /// they go once fixed; the other rows go on as usual.
    pub note: Option<String>,
    /// `status_reason`, `warning` and `note` with their codes and
    /// parameters: what the window words in its own language.
    pub status_coded: Option<crate::code::Coded>,
    /// See `status_coded`.
    pub warning_coded: Option<crate::code::Coded>,
    /// See `status_coded`.
    pub note_coded: Option<crate::code::Coded>,
    /// The source, as written in the spec.
    pub source: SourceSpec,
    /// The last run's summary.
    pub last_run: Option<crate::model::RunSummary>,
    /// Ledger entries by status.
    pub counts: std::collections::BTreeMap<&'static str, i64>,
    /// Which rows it sends (as in the spec), when not all.
    pub conditions: Option<crate::conditions::Conditions>,
    /// Where the send time comes from (as in the spec), for reminders.
    pub send_at: Option<crate::reminder::SendAt>,
    /// Reminders still to go (scheduled at 8x8 or kept here until within 7 days).
    pub reminders_ahead: i64,
    /// The earliest of them (RFC 3339), or null.
    pub next_reminder: Option<String>,
    /// The whole spec.
    pub spec: ConnectionSpec,
}

/// What saving a connection found in its source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Saved {
    /// The saved connection.
    pub connection: ConnectionView,
    /// Data rows in the source now.
    pub rows: usize,
    /// How many of them the first run will send (0 with `new_rows`).
    pub will_send: usize,
}

impl Core {
    pub(crate) fn stored_connection(&self, name: &str) -> Result<StoredConnection, Error> {
        self.store().connection(name)?.ok_or_else(|| {
            Error::Invalid(format!("there is no connection named {name:?}; `sendrow connection list` shows them"))
        })
    }

    pub(crate) fn spec_of(stored: &StoredConnection) -> Result<ConnectionSpec, Error> {
        serde_json::from_value(stored.spec.clone()).map_err(|e| {
            Error::Invalid(format!(
                "the saved connection {:?} cannot be read ({e}); remove it and add it again",
                stored.name
            ))
        })
    }

    /// Validates `spec` against the store and the real source and saves it.
    /// Relative file paths are taken relative to `base_dir` (the spec file's
    /// folder). Nothing is saved when any check fails.
    pub async fn add_connection(&self, spec: ConnectionSpec, base_dir: &Path) -> Result<Saved, Error> {
        let mut spec = spec;
        spec.source = spec.source.relative_to(base_dir);
        spec.check_alone()?;
        if self.store().connection(&spec.name)?.is_some() {
            return Err(Error::Invalid(format!("name: {}", crate::store::Error::DuplicateConnection(spec.name))));
        }
        self.account(&spec.account).map_err(|_| self.unknown_account(&spec.account))?;
        if let Some(Schedule::After { after }) = &spec.schedule {
            self.check_chain(&spec.name, after)?;
        }
        spec.source = self.with_tab_gid(spec.source).await?;
        let table = self
            .read_source(&spec.source, &spec.default_country)
            .await
            .map_err(|e| Error::Invalid(format!("source: {e}")))?;
        spec.check_columns(&table.headers)?;

        let now = Utc::now();
        let json = serde_json::to_value(&spec).expect("a spec serializes");
        let key = spec.row_key();
        let used = spec.used_columns();
        let rules = Rules {
            key: &key,
            start_from: spec.start_from,
            used_columns: &used,
            phone_column: Some(&spec.phone_field),
        };
        let total = table.rows.iter().filter(|r| !r.is_blank()).count();
        // A new connection has seen nothing, so its first read is detected
        // before anything is saved; the connection and (with `new_rows`) its
        // baseline are then saved together or not at all.
        let matching = spec.conditions.as_ref().map(|c| crate::conditions::matching_lines(c, &table));
        let mut observation = rows::detect(0, table, &Memory::default(), &rules, now);
        if let Some(lines) = &matching {
            // Rows not meeting the conditions yet are not part of the baseline.
            crate::conditions::keep_only_lines(&mut observation, lines);
        }
        let (baseline, will_send) = match spec.start_from {
            // The baseline is taken now: every row present is seen, none sent.
            StartFrom::NewRows => (Some(&observation), 0),
            StartFrom::AllRows => (None, observation.new_rows().len()),
        };
        self.store().insert_connection_with_baseline(&spec.name, &json, spec.auto_update, now, baseline)?;
        Ok(Saved { connection: self.connection_view(&spec.name)?, rows: total, will_send })
    }

    /// `source` with a Google tab named by title turned into its gid: what is
    /// stored, since a tab keeps its gid when it is renamed.
    async fn with_tab_gid(&self, source: SourceSpec) -> Result<SourceSpec, Error> {
        source::with_tab_gid(source, &self.google_access()).await.map_err(|e| {
            use source::google::Error as G;
            let field = match &e {
                source::Error::Google(G::NoTabTitled { .. } | G::TabTitleNeedsApi { .. }) => "source.sheet",
                _ => "source",
            };
            Error::Invalid(format!("{field}: {e}"))
        })
    }

    /// The error for a spec naming an account that does not exist, listing
    /// the ones that do.
    pub(crate) fn unknown_account(&self, name: &str) -> Error {
        let names: Vec<String> = self.accounts().unwrap_or_default().into_iter().map(|a| a.name).collect();
        let known = if names.is_empty() {
            "there are no accounts yet".to_owned()
        } else {
            format!("the accounts are {names:?}")
        };
        Error::Invalid(format!(
            "account: there is no 8x8 account named {name:?}; {known} (add one with `sendrow account add`)"
        ))
    }

    /// Refuses a chain of "after" schedules that comes back to `name`.
    fn check_chain(&self, name: &str, first: &str) -> Result<(), Error> {
        let mut path = vec![name.to_owned()];
        let mut next = Some(first.to_owned());
        while let Some(current) = next {
            if path.contains(&current) {
                path.push(current);
                return Err(Error::Invalid(format!(
                    "schedule.after: {first:?} would make a loop of connections running after each other: {}; \
                     name a connection that does not run after {name:?}",
                    path.join(" → ")
                )));
            }
            let Some(stored) = self.store().connection(&current)? else {
                let names: Vec<String> = self.store().connections()?.into_iter().map(|c| c.name).collect();
                let known = if names.is_empty() {
                    "there are no connections yet: add that one first".to_owned()
                } else {
                    format!("the connections are {names:?}")
                };
                return Err(Error::Invalid(format!(
                    "schedule.after: there is no connection named {current:?} to run after; {known}"
                )));
            };
            path.push(current);
            next = match Self::spec_of(&stored)?.schedule {
                Some(Schedule::After { after }) => Some(after),
                _ => None,
            };
        }
        Ok(())
    }

    /// Reads a source with the access Google needs, showing workbook numbers
    /// and dates as `country` (the connection's `default_country`) writes them.
    pub async fn read_source(&self, spec: &SourceSpec, country: &str) -> Result<source::Table, source::Error> {
        source::read_in(spec, &self.google_access(), country).await
    }

    /// Every connection's view, by name.
    pub fn connections(&self) -> Result<Vec<ConnectionView>, Error> {
        self.store().connections()?.iter().map(|c| self.view(c)).collect()
    }

    /// One connection's view.
    pub fn connection_view(&self, name: &str) -> Result<ConnectionView, Error> {
        let stored = self.stored_connection(name)?;
        self.view(&stored)
    }

    fn view(&self, stored: &StoredConnection) -> Result<ConnectionView, Error> {
        let spec = Self::spec_of(stored)?;
        let last_run = self.store().last_run(stored.id)?;
        let job = self.job_of(stored)?;
        let next_run = crate::scheduler::next_run(&job, &Local, Utc::now()).map(|t| t.with_timezone(&Local));
        let counts = self.store().status_counts(stored.id)?.into_iter().map(|(s, n)| (s.as_str(), n)).collect();
        let warning_coded = self.store().row_warning_coded(stored.id)?;
        let note_coded = self.store().row_note_coded(stored.id)?;
        let (reminders_ahead, next_reminder) = self.store().reminders_ahead(stored.id)?;
        let next_reminder = next_reminder
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Local).to_rfc3339());
        Ok(ConnectionView {
            name: stored.name.clone(),
            account: spec.account.clone(),
            auto_update: stored.auto_update,
            schedule: spec.schedule.clone(),
            next_run: next_run.map(|t| t.to_rfc3339()),
            status: if stored.paused_reason.is_some() { "paused" } else { "active" },
            status_reason: stored.paused_reason.as_ref().map(|r| r.text.clone()),
            warning: warning_coded.as_ref().map(|w| w.text.clone()),
            note: note_coded.as_ref().map(|n| n.text.clone()),
            status_coded: stored.paused_reason.clone(),
            warning_coded,
            note_coded,
            source: spec.source.clone(),
            last_run,
            counts,
            conditions: spec.conditions.clone(),
            send_at: spec.send_at.clone(),
            reminders_ahead,
            next_reminder,
            spec,
        })
    }

    /// Switches scheduled runs on or off; turning them on also resumes a
    /// paused connection (the user has dealt with the reason).
    pub fn set_auto_update(&self, name: &str, on: bool) -> Result<ConnectionView, Error> {
        let stored = self.stored_connection(name)?;
        self.store().set_auto_update(name, on, Utc::now())?;
        if on {
            self.store().set_paused(stored.id, None, Utc::now())?;
        }
        self.connection_view(name)
    }

    /// Deletes the connection, its seen rows and its history. While it has
    /// messages that may have reached 8x8 (`unknown`) or wait to be sent
    /// again (`failed`), only with `force`: removing forgets them for good.
    pub fn remove_connection(&self, name: &str, force: bool) -> Result<(), Error> {
        self.stored_connection(name)?;
        let dependents: Vec<String> = self
            .store()
            .connections()?
            .iter()
            .filter(|c| c.spec.get("schedule").and_then(|s| s.get("after")).and_then(|a| a.as_str()) == Some(name))
            .map(|c| c.name.clone())
            .collect();
        if !dependents.is_empty() {
            return Err(Error::Invalid(format!(
                "{name:?} cannot be removed: {dependents:?} run after it; change their schedule first"
            )));
        }
        match self.store().delete_connection_settled(name, force)? {
            Removal::Removed => Ok(()),
            Removal::Missing => self.stored_connection(name).map(drop),
            Removal::Unsettled { unknown, failed } => {
                Err(Error::Unsettled { connection: name.to_owned(), unknown, failed })
            }
        }
    }
}

impl Core {
    /// Replaces a saved connection's spec (same name), checked as on saving.
    /// What the connection has seen and sent is kept; changing how rows are
    /// identified would make every row look new, so that is refused.
    pub async fn update_connection(&self, spec: ConnectionSpec, base_dir: &Path) -> Result<ConnectionView, Error> {
        let stored = self.stored_connection(&spec.name)?;
        let old = Self::spec_of(&stored)?;
        let mut spec = spec;
        spec.source = spec.source.relative_to(base_dir);
        if spec.row_key != old.row_key {
            let shown = |k: &Option<RowKeySpec>| match k {
                Some(k) => format!("the column {:?}", k.column),
                None => "the rows' content".to_owned(),
            };
            return Err(Error::Invalid(format!(
                "row_key: changing how rows are identified (from {} to {}) would make every row look new; \
                 keep {} or add a new connection instead (with start_from \"new_rows\")",
                shown(&old.row_key),
                shown(&spec.row_key),
                shown(&old.row_key)
            )));
        }
        spec.source = self.with_tab_gid(spec.source).await?;
        self.check_draft(&spec, base_dir).await?;
        if let Some(Schedule::After { after }) = &spec.schedule {
            self.check_chain(&spec.name, after)?;
        }
        let json = serde_json::to_value(&spec).expect("a spec serializes");
        self.store().update_connection(stored.id, &json, spec.auto_update, Utc::now())?;
        self.connection_view(&spec.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(7200).unwrap().with_ymd_and_hms(2026, 5, 1, h, m, 0).unwrap()
    }
    use chrono::TimeZone;

    #[test]
    fn quiet_hours_wrap_midnight_and_end_at_their_end() {
        let night = QuietHours { from: "21:00".into(), to: "08:00".into() };
        assert_eq!(in_quiet_hours(&night, &at(12, 0)), None, "midday is outside 21–08");
        let until = in_quiet_hours(&night, &at(22, 30)).expect("22:30 is inside");
        assert_eq!(until, at(8, 0).with_timezone(&Utc) + chrono::Duration::days(1), "waits until 08:00 next day");
        let until = in_quiet_hours(&night, &at(7, 59)).expect("07:59 is inside");
        assert_eq!(until, at(8, 0).with_timezone(&Utc), "waits until 08:00 the same day");
        assert_eq!(in_quiet_hours(&night, &at(8, 0)), None, "08:00 itself is outside");
        let lunch = QuietHours { from: "13:00".into(), to: "14:00".into() };
        assert!(
            in_quiet_hours(&lunch, &at(13, 30)).is_some() && in_quiet_hours(&lunch, &at(14, 30)).is_none(),
            "same-day window"
        );
    }
}
