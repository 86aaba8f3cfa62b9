//! New-row detection: which rows of a read a connection has not seen before.
//!
//! Never "last row number" (sorting, inserting or deleting rows makes it lose
//! and repeat rows; `docs/connection-spec.md`). A row is known by its **key**:
//!
//! - [`RowKey::Column`]: the trimmed value of a chosen ID column. Survives
//!   inserts, deletes, sorts, and edits of any other cell. A row whose ID is
//!   still empty is not ready: it is skipped, and not marked seen, until it
//!   has one. A second row with an ID already used in the same read is
//!   skipped, not sent. Both are reported in [`Observation::warning`] (a note
//!   that holds nothing else back), which the store keeps for the user until
//!   a read finds no such row.
//! - [`RowKey::Fingerprint`] (no ID column): a hash of the row's trimmed cells
//!   paired with their header names, in header-name order (so reordering
//!   columns changes nothing), plus `#2`, `#3`, … for the second and third of
//!   identical rows, so two identical orders are two rows. With no ID to tell
//!   a changed row from a different one, **an edited row counts as new** and
//!   is sent again. To keep that from firing on every edit, the fingerprint
//!   covers only the columns present when the connection first read the
//!   source: a column added later (a "Status" the shop fills in) never makes a
//!   row new. Removing or renaming one of those columns would change every
//!   fingerprint at once, so it pauses the connection instead (see [`Pause`]).
//!   Deleting one of several identical rows and later adding an identical one
//!   back is not seen as new: an occurrence counter cannot tell them apart.
//!
//! Blank rows are ignored everywhere. Keys once seen stay seen (nothing is ever
//! marked gone), so rows that disappear and come back are never new.
//!
//! Safety valves: a read with far fewer rows than the last one ([`Outcome::Shrunk`]:
//! zero, or under a tenth of a previous count of ten or more) hands on nothing
//! and records nothing but a warning for the user; the rows coming back are not
//! new. A missing column that the connection uses is [`Outcome::Pause`].
//!
//! This module is pure: [`detect`] takes what the store remembers ([`Memory`])
//! and returns an [`Observation`]; `Store::commit_observation` writes it, in
//! the same transaction as whatever the caller writes about the new rows.

use std::collections::{HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Row, Table};
use crate::code::{Code, Coded};

/// How rows are told apart (the connection spec's `row_key`; absent means
/// [`RowKey::Fingerprint`]). Serialized as `{"column": "Order ID"}` or
/// `"fingerprint"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKey {
    /// The value in this column identifies the row.
    Column(String),
    /// The row's content identifies it (see the module docs for what that means).
    #[default]
    Fingerprint,
}

impl RowKey {
    /// How the store records the mode, to notice when a connection changes it.
    fn mode(&self) -> String {
        match self {
            RowKey::Column(column) => format!("column:{column}"),
            RowKey::Fingerprint => "fingerprint".into(),
        }
    }
}

/// What the first read of a connection does with the rows already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartFrom {
    /// Rows present at the first read are recorded as seen and never sent.
    NewRows,
    /// Rows present at the first read are all new.
    AllRows,
}

/// A connection's rules for one read.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// How rows are told apart.
    pub key: &'a RowKey,
    /// What the first read does.
    pub start_from: StartFrom,
    /// Every column the connection reads (phone, template fields, …): if one
    /// disappears the connection must pause rather than send blanks.
    pub used_columns: &'a [String],
    /// The phone column: without an ID column, an edited row is told from a
    /// new one by its phone (see [`Observation::follow_edits`]).
    pub phone_column: Option<&'a str>,
}

/// What the store remembers about a connection's rows after its last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowState {
    /// [`RowKey`] of the reads so far, as `column:NAME` or `fingerprint`.
    pub key_mode: String,
    /// The columns fingerprints are made of, sorted (empty with an ID column).
    pub identity: Vec<String>,
    /// Non-blank rows at the last read that was not [`Outcome::Shrunk`];
    /// `None` once the user dismissed a shrink warning.
    pub last_count: Option<usize>,
    /// A warning held for the user, if any.
    pub warning: Option<String>,
    /// The last trusted read's note about rows it skipped, if any.
    pub note: Option<String>,
    /// Bumped by every commit: an observation made from an older state is
    /// refused, so two processes cannot both hand on the same rows.
    pub generation: i64,
}

/// Everything detection needs from the store.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    /// `None` before the connection's first committed read.
    pub state: Option<RowState>,
    /// Every key seen so far.
    pub seen: HashSet<String>,
    /// Seen keys missing from the last trusted read (deleted or edited rows).
    pub gone: HashSet<String>,
    /// Seen keys with no [`Trace`] yet (seen before Sendrow kept traces).
    pub untraced: HashSet<String>,
}

/// What is kept of a fingerprinted row to recognise it after an edit: its
/// phone's digits and a short hash of each identity cell, in identity order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// The phone cell's digits (empty when it has none).
    pub phone: String,
    /// One hash per identity column.
    pub cells: Vec<u32>,
    /// The row's line when first seen, for people.
    pub line: usize,
}

impl Trace {
    fn of(row: &Row, columns: &[(usize, &str)], phone: Option<usize>) -> Trace {
        // By value, as fingerprints are: a new display format is no edit.
        Trace {
            phone: phone.map(|i| row.identity(i).chars().filter(char::is_ascii_digit).collect()).unwrap_or_default(),
            cells: columns.iter().map(|&(i, _)| fnv1a(&row.identity(i))).collect(),
            line: row.line,
        }
    }

    /// The cells as stored: hex hashes joined by commas.
    pub fn encode_cells(&self) -> String {
        self.cells.iter().map(|h| format!("{h:08x}")).collect::<Vec<_>>().join(",")
    }

    /// A trace as stored; `None` when unreadable.
    pub fn decode(phone: &str, cells: &str, line: usize) -> Option<Trace> {
        let cells: Option<Vec<u32>> =
            cells.split(',').filter(|c| !c.is_empty()).map(|c| u32::from_str_radix(c, 16).ok()).collect();
        Some(Trace { phone: phone.to_owned(), cells: cells?, line })
    }

    /// How many identity cells two traces share.
    fn shared(&self, other: &Trace) -> usize {
        if self.cells.len() != other.cells.len() {
            return 0;
        }
        self.cells.iter().zip(&other.cells).filter(|(a, b)| a == b).count()
    }
}

/// 32-bit FNV-1a: enough to tell whether a cell changed, at no cost.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// A row recognised as an edit of one already seen: recorded, never sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    /// The row's key now.
    pub key: String,
    /// Its line now.
    pub line: usize,
    /// The line the row had when first seen.
    pub was_line: usize,
}

/// A row no read has handed on before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRow {
    /// Its key: the ID value, or a fingerprint such as `3fa9…` or `3fa9…#2`.
    pub key: String,
    /// The row itself.
    pub row: Row,
}

/// What a read means for the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A normal read: these rows are new (possibly none).
    Rows {
        /// The new rows, in source order.
        new: Vec<NewRow>,
    },
    /// The first read of a `new_rows` connection: every row was recorded as
    /// already seen and none is handed on.
    Baseline,
    /// Far fewer rows than the last read: nothing handed on, nothing forgotten,
    /// a warning held for the user (see [`Observation::warning`]).
    Shrunk {
        /// The row count the last read found.
        previous: usize,
    },
    /// The connection must pause until the user acts; nothing was handed on.
    Pause(Pause),
}

/// Why a connection must pause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pause {
    /// Columns the connection needs are gone (renamed or removed).
    ColumnsMissing {
        /// The missing names.
        missing: Vec<String>,
        /// The headers the source has now.
        headers: Vec<String>,
        /// Whether a missing column is only needed for fingerprints.
        fingerprint: bool,
    },
    /// The connection now tells rows apart differently from earlier reads.
    KeyChanged {
        /// The earlier mode.
        was: String,
        /// The mode asked for now.
        now: String,
    },
}

impl Pause {
    /// Why, with a code and parameters for the window; the English is
    /// [`Pause`]'s `Display`.
    pub fn coded(&self) -> Coded {
        let coded = |code| Coded::new(code, self.to_string());
        match self {
            Pause::ColumnsMissing { missing, headers, fingerprint } => coded(Code::PausedColumnsMissing)
                .param("missing", missing)
                .param("columns", headers)
                .param("fingerprint", fingerprint),
            Pause::KeyChanged { was, now } => coded(Code::PausedKeyChanged).param("was", was).param("now", now),
        }
    }
}

impl fmt::Display for Pause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pause::ColumnsMissing { missing, headers, fingerprint } => {
                let quoted = |names: &[String]| names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ");
                write!(f, "the source no longer has the column(s) {}; ", quoted(missing))?;
                if headers.is_empty() {
                    write!(f, "it has no header row at all now (it is empty). ")?;
                } else {
                    write!(f, "its columns are now {}. ", quoted(headers))?;
                }
                if *fingerprint {
                    write!(
                        f,
                        "Without an ID column, rows are recognised by their columns, so nothing can be sent safely: \
                         rename the column back, or start the connection over from new rows"
                    )
                } else {
                    write!(f, "Rename the column back, or change the connection to use the new name")
                }
            }
            Pause::KeyChanged { was, now } => write!(
                f,
                "the connection now identifies rows by {now} instead of {was}, so every row would look new: \
                 change it back, or start the connection over from new rows"
            ),
        }
    }
}

/// A non-blank row that detection could not use, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The row's line.
    pub line: usize,
    /// Why.
    pub reason: SkipReason,
}

/// Why a row was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Its ID cell is empty: it is picked up once the ID is filled in.
    NoKey,
    /// An earlier row in the same read has the same ID.
    DuplicateKey {
        /// The ID.
        key: String,
        /// The line of the row that was used.
        first_line: usize,
    },
}

/// The result of detecting new rows in one read, ready to be committed with
/// `Store::commit_observation`. Until it is committed, nothing is recorded:
/// dropping it means the same rows are new again next time.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The connection it is for.
    pub connection_id: i64,
    /// The source's headers at this read (cells of every row follow them).
    pub headers: Vec<String>,
    /// Non-blank rows in the read: what `start_from` shows the user.
    pub total: usize,
    /// What the read means.
    pub outcome: Outcome,
    /// Rows that could not be used, with why.
    pub skipped: Vec<Skipped>,
    /// When the read was made.
    pub read_at: DateTime<Utc>,
    /// Rows recognised as edits of rows already seen (no ID column): they
    /// are recorded under their new key and never sent again.
    pub edited: Vec<Edited>,
    /// New rows that may be edits of a row already seen but are too changed
    /// to be sure, by key, with the line of that row: a person decides.
    pub doubtful: HashMap<String, usize>,
    /// Seen keys missing from this read, whose traces the caller fetches
    /// for [`Observation::follow_edits`] (empty when nothing is new).
    pub vanished: Vec<String>,
    pub(crate) write: Write,
}

/// What committing an observation writes to the store.
#[derive(Debug, Clone)]
pub(crate) struct Write {
    /// The state generation the observation was computed from.
    pub(crate) generation: Option<i64>,
    /// Keys to record as seen, with their lines.
    pub(crate) keys: Vec<(String, usize)>,
    /// Whether those keys are a baseline (never handed on) or handed on now.
    pub(crate) baseline: bool,
    /// Traces of the keys above, by key (fingerprint mode only).
    pub(crate) traces: HashMap<String, Trace>,
    /// Seen keys missing from this read: marked gone.
    pub(crate) gone: Vec<String>,
    /// Gone keys present again: no longer gone.
    pub(crate) back: Vec<String>,
    /// Seen keys present now without a trace: their trace is written.
    pub(crate) retrace: Vec<(String, Trace)>,
    /// What happens to the connection's state row.
    pub(crate) state: StateWrite,
}

#[derive(Debug, Clone)]
pub(crate) enum StateWrite {
    /// A full, trusted read: mode, identity and count replaced, warning
    /// cleared, the note about skipped rows replaced.
    Full { key_mode: String, identity: Vec<String>, last_count: usize, note: Option<Coded> },
    /// Only the warning is set; the count of the last trusted read stays.
    Warning(Coded),
    /// Nothing but the generation moves.
    Untouched,
}

impl Observation {
    /// The rows to hand on: empty unless the outcome is [`Outcome::Rows`].
    pub fn new_rows(&self) -> &[NewRow] {
        match &self.outcome {
            Outcome::Rows { new } => new,
            _ => &[],
        }
    }

    /// What to tell the user about this read: why nothing was handed on, for
    /// [`Outcome::Shrunk`]; or which rows were skipped for their ID (empty,
    /// or repeated) and what to do, when the others were read as usual.
    pub fn warning(&self) -> Option<&str> {
        self.warning_coded().map(|w| w.text.as_str())
    }

    /// [`Observation::warning`] with its code and parameters, for the window.
    pub fn warning_coded(&self) -> Option<&Coded> {
        match &self.write.state {
            StateWrite::Warning(warning) => Some(warning),
            StateWrite::Full { note, .. } => note.as_ref(),
            StateWrite::Untouched => None,
        }
    }

    /// Why the connection must pause, for [`Outcome::Pause`].
    pub fn pause(&self) -> Option<&Pause> {
        match &self.outcome {
            Outcome::Pause(p) => Some(p),
            _ => None,
        }
    }

    /// `row`'s value in the column named `name` (columns are found by name, so
    /// a reordered source needs nothing else).
    pub fn value<'a>(&self, row: &'a Row, name: &str) -> Option<&'a str> {
        let i = self.headers.iter().position(|h| h == name)?;
        Some(row.cells.get(i).map(String::as_str).unwrap_or(""))
    }
}

impl Observation {
    /// Follows rows through edits when there is no ID column: a new row is
    /// paired with a row of the last read that vanished in this one, with the
    /// same phone (or, for a corrected phone, every other cell the same).
    /// A pair sharing at least half its cells is an edit: recorded, never
    /// sent. A pair sharing less is [`Observation::doubtful`]: held for a
    /// person rather than texted twice. A new row with no such partner —
    /// a repeat customer's new order next to the old one — is new.
    /// `vanished` holds the traces of [`Observation::vanished`].
    pub fn follow_edits(&mut self, vanished: &HashMap<String, Trace>) {
        let Outcome::Rows { new } = &mut self.outcome else { return };
        if new.is_empty() || vanished.is_empty() {
            return;
        }
        // Every (new row, vanished row) that could be one row, best first.
        let mut pairs: Vec<(usize, usize, &str)> = Vec::new();
        for (n, row) in new.iter().enumerate() {
            let Some(now) = self.write.traces.get(&row.key) else { continue };
            for (key, was) in vanished {
                let shared = now.shared(was);
                let same_phone = !now.phone.is_empty() && now.phone == was.phone;
                let only_phone_changed = now.cells.len() > 1 && shared + 1 == now.cells.len();
                if same_phone || only_phone_changed {
                    pairs.push((shared, n, key.as_str()));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)));
        let mut taken_new = HashSet::new();
        let mut taken_old = HashSet::new();
        let mut edited = HashSet::new();
        for (shared, n, key) in pairs {
            if taken_new.contains(&n) || taken_old.contains(key) {
                continue;
            }
            taken_new.insert(n);
            taken_old.insert(key);
            let was = &vanished[key];
            let row = &new[n];
            if shared * 2 >= was.cells.len() {
                self.edited.push(Edited { key: row.key.clone(), line: row.row.line, was_line: was.line });
                edited.insert(n);
            } else {
                self.doubtful.insert(row.key.clone(), was.line);
            }
        }
        let mut n = 0;
        new.retain(|_| {
            n += 1;
            !edited.contains(&(n - 1))
        });
        self.edited.sort_by_key(|e| e.line);
    }

    /// Leaves these new rows out: they are neither handed on nor recorded as
    /// seen, so the next read finds them again (a row still being typed).
    pub fn hold_back(&mut self, keys: &HashSet<String>) {
        if keys.is_empty() || self.write.baseline {
            return;
        }
        if let Outcome::Rows { new } = &mut self.outcome {
            new.retain(|row| !keys.contains(&row.key));
        }
        self.write.keys.retain(|(key, _)| !keys.contains(key));
    }
}

/// Decides which rows of `table` are new, given what was seen before. Pure:
/// the same inputs give the same observation.
pub fn detect(connection_id: i64, table: Table, memory: &Memory, rules: &Rules<'_>, now: DateTime<Utc>) -> Observation {
    let Table { headers, rows } = table;
    let rows: Vec<Row> = rows.into_iter().filter(|r| !r.is_blank()).collect();
    let total = rows.len();
    let state = memory.state.as_ref();
    let observation = |outcome, skipped, write| Observation {
        connection_id,
        headers: headers.clone(),
        total,
        outcome,
        skipped,
        read_at: now,
        edited: Vec::new(),
        doubtful: HashMap::new(),
        vanished: Vec::new(),
        write,
    };
    let untouched = |state: Option<&RowState>| Write {
        generation: state.map(|s| s.generation),
        keys: Vec::new(),
        baseline: false,
        traces: HashMap::new(),
        gone: Vec::new(),
        back: Vec::new(),
        retrace: Vec::new(),
        state: StateWrite::Untouched,
    };

    if let Some(previous) = state.and_then(|s| s.last_count) {
        if previous > 0 && (total == 0 || (previous >= 10 && total * 10 < previous)) {
            let text = format!(
                "the source now has {total} row(s) where the last read found {previous}: nothing was sent and no row was \
                 forgotten. If the sheet was cleared or the wrong file or tab chosen by mistake, put the rows back: \
                 those already seen will not be sent again. If the rows were removed on purpose, dismiss this warning"
            );
            let mut write = untouched(state);
            write.state =
                StateWrite::Warning(Coded::new(Code::SourceShrunk, text).param("now", total).param("before", previous));
            return observation(Outcome::Shrunk { previous }, Vec::new(), write);
        }
    }

    let key_mode = rules.key.mode();
    if let Some(state) = state.filter(|s| s.key_mode != key_mode) {
        let pause = Pause::KeyChanged { was: state.key_mode.clone(), now: key_mode };
        return observation(Outcome::Pause(pause), Vec::new(), untouched(Some(state)));
    }

    let identity: Vec<String> = match (rules.key, state) {
        (RowKey::Column(_), _) => Vec::new(),
        (RowKey::Fingerprint, Some(state)) => state.identity.clone(),
        (RowKey::Fingerprint, None) => {
            let mut names = headers.clone();
            names.sort();
            names
        }
    };
    let mut needed: Vec<&String> = rules.used_columns.iter().collect();
    if let RowKey::Column(column) = rules.key {
        needed.push(column);
    }
    needed.extend(&identity);
    let mut missing: Vec<String> = Vec::new();
    for name in needed {
        if !headers.contains(name) && !missing.contains(name) {
            missing.push(name.clone());
        }
    }
    if !missing.is_empty() {
        let fingerprint = missing.iter().any(|m| identity.contains(m) && !rules.used_columns.contains(m));
        let pause = Pause::ColumnsMissing { missing, headers: headers.clone(), fingerprint };
        return observation(Outcome::Pause(pause), Vec::new(), untouched(state));
    }

    let fingerprinted = matches!(rules.key, RowKey::Fingerprint);
    let columns: Vec<(usize, &str)> =
        identity.iter().filter_map(|name| headers.iter().position(|h| h == name).map(|i| (i, name.as_str()))).collect();
    let (keyed, skipped) = match rules.key {
        RowKey::Column(column) => {
            let index = headers.iter().position(|h| h == column).unwrap_or_default();
            keys_by_column(rows, index)
        }
        RowKey::Fingerprint => (keys_by_fingerprint(rows, &columns), Vec::new()),
    };
    let phone = rules.phone_column.and_then(|name| headers.iter().position(|h| h == name));
    let trace = |row: &NewRow| Trace::of(&row.row, &columns, phone);

    let baseline = state.is_none() && rules.start_from == StartFrom::NewRows;
    // Which seen rows this read lacks, and which lacking ones are back: what
    // lets an edited row be told from a new one without an ID column.
    let (mut gone, mut back, mut retrace) = (Vec::new(), Vec::new(), Vec::new());
    if fingerprinted && state.is_some() {
        let present: HashSet<&str> = keyed.iter().map(|r| r.key.as_str()).collect();
        gone = memory
            .seen
            .iter()
            .filter(|k| !memory.gone.contains(*k) && !present.contains(k.as_str()))
            .cloned()
            .collect();
        gone.sort();
        back = memory.gone.iter().filter(|k| present.contains(k.as_str())).cloned().collect();
        retrace =
            keyed.iter().filter(|r| memory.untraced.contains(&r.key)).map(|r| (r.key.clone(), trace(r))).collect();
    }
    let new: Vec<NewRow> =
        if baseline { keyed } else { keyed.into_iter().filter(|r| !memory.seen.contains(&r.key)).collect() };
    let traces: HashMap<String, Trace> =
        if fingerprinted { new.iter().map(|r| (r.key.clone(), trace(r))).collect() } else { HashMap::new() };
    let vanished = if new.is_empty() || baseline { Vec::new() } else { gone.clone() };
    let write = Write {
        generation: state.map(|s| s.generation),
        keys: new.iter().map(|r| (r.key.clone(), r.row.line)).collect(),
        baseline,
        traces,
        gone,
        back,
        retrace,
        state: StateWrite::Full { key_mode, identity, last_count: total, note: skipped_note(&skipped, rules.key) },
    };
    let outcome = if baseline { Outcome::Baseline } else { Outcome::Rows { new } };
    let mut observed = observation(outcome, skipped, write);
    observed.vanished = vanished;
    observed
}

fn keys_by_column(rows: Vec<Row>, index: usize) -> (Vec<NewRow>, Vec<Skipped>) {
    let mut first_lines: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    let mut keyed = Vec::with_capacity(rows.len());
    let mut skipped = Vec::new();
    for row in rows {
        let key = row.identity(index).into_owned();
        let key = key.as_str();
        if key.is_empty() {
            skipped.push(Skipped { line: row.line, reason: SkipReason::NoKey });
            continue;
        }
        if let Some(&first_line) = first_lines.get(key) {
            let reason = SkipReason::DuplicateKey { key: key.to_owned(), first_line };
            skipped.push(Skipped { line: row.line, reason });
            continue;
        }
        first_lines.insert(key.to_owned(), row.line);
        keyed.push(NewRow { key: key.to_owned(), row });
    }
    (keyed, skipped)
}

/// How many lines a note lists before it says "and N more".
const LINES_SHOWN: usize = 10;

/// The note telling the user which rows were skipped for their ID and what to
/// do, e.g. `the rows on lines 7 and 12 have no "Order ID", and line 9 repeats
/// "Order ID" 1001 of line 3: …`. `None` when no row was skipped.
fn skipped_note(skipped: &[Skipped], key: &RowKey) -> Option<Coded> {
    let RowKey::Column(column) = key else { return None };
    if skipped.is_empty() {
        return None;
    }
    let missing: Vec<String> =
        skipped.iter().filter(|s| s.reason == SkipReason::NoKey).map(|s| s.line.to_string()).collect();
    let repeated: Vec<String> = skipped
        .iter()
        .filter_map(|s| match &s.reason {
            SkipReason::DuplicateKey { key, first_line } => {
                Some(format!("line {} repeats {column:?} {key} of line {first_line}", s.line))
            }
            SkipReason::NoKey => None,
        })
        .collect();
    let mut parts = Vec::new();
    match missing.len() {
        0 => {}
        1 => parts.push(format!("the row on line {} has no {column:?}", missing[0])),
        _ => parts.push(format!("the rows on lines {} have no {column:?}", listed(missing))),
    }
    if !repeated.is_empty() {
        parts.push(listed(repeated));
    }
    let (not_sent, goes) = if skipped.len() == 1 { ("it is", "it goes") } else { ("they are", "they go") };
    let text = format!(
        "{}: {not_sent} not sent. Give each row its own {column:?} (or delete a row entered twice) and {goes} with \
         the next run",
        parts.join(", and ")
    );
    let lines = |reason_is_no_key: bool| -> Vec<usize> {
        skipped.iter().filter(|s| (s.reason == SkipReason::NoKey) == reason_is_no_key).map(|s| s.line).collect()
    };
    Some(
        Coded::new(Code::RowsSkippedForId, text)
            .param("column", column)
            .param("n", skipped.len())
            .param("no_id", lines(true))
            .param("repeated", lines(false)),
    )
}

/// `a`, `a and b`, `a, b and c`; past [`LINES_SHOWN`], `a, b, … and N more`.
fn listed(mut items: Vec<String>) -> String {
    let more = items.len().saturating_sub(LINES_SHOWN);
    items.truncate(LINES_SHOWN);
    if more > 0 {
        items.push(format!("{more} more"));
    }
    match items.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn keys_by_fingerprint(rows: Vec<Row>, columns: &[(usize, &str)]) -> Vec<NewRow> {
    let mut occurrences: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    rows.into_iter()
        .map(|row| {
            let print = fingerprint(&row, columns);
            let n = occurrences.entry(print.clone()).or_insert(0);
            *n += 1;
            let key = if *n == 1 { print } else { format!("{print}#{n}") };
            NewRow { key, row }
        })
        .collect()
}

/// 128 bits of SHA-256 over (name, trimmed value) pairs, each part
/// length-prefixed so no text in a cell can imitate a column boundary.
/// 128 bits keeps keys short; a collision among even a billion rows is
/// vanishingly unlikely (about 1 in 10^20).
fn fingerprint(row: &Row, columns: &[(usize, &str)]) -> String {
    let mut hash = Sha256::new();
    for &(i, name) in columns {
        let value = row.identity(i);
        for part in [name, value.as_ref()] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part.as_bytes());
        }
    }
    hash.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(headers: &[&str], rows: &[&[&str]]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, cells)| Row {
                    line: i + 2,
                    cells: cells.iter().map(|c| c.to_string()).collect(),
                    ..Default::default()
                })
                .collect(),
        }
    }

    fn state(last_count: usize) -> RowState {
        RowState {
            key_mode: "fingerprint".into(),
            identity: vec!["Name".into(), "Phone".into()],
            last_count: Some(last_count),
            warning: None,
            note: None,
            generation: 1,
        }
    }

    fn rules(key: &RowKey) -> Rules<'_> {
        Rules { key, start_from: StartFrom::AllRows, used_columns: &[], phone_column: Some("Phone") }
    }

    #[test]
    fn reordered_columns_keep_their_fingerprints() {
        let a = table(&["Name", "Phone"], &[&["Anna", "067"]]);
        let b = table(&["Phone", "Name"], &[&["067", " Anna "]]);
        let key = RowKey::Fingerprint;
        let first = detect(1, a, &Memory::default(), &rules(&key), Utc::now());
        let second = detect(1, b, &Memory::default(), &rules(&key), Utc::now());
        assert_eq!(first.new_rows()[0].key, second.new_rows()[0].key, "column order and spaces do not matter");
    }

    #[test]
    fn values_cannot_imitate_a_column_boundary() {
        let key = RowKey::Fingerprint;
        let a = detect(1, table(&["A", "B"], &[&["x", "yz"]]), &Memory::default(), &rules(&key), Utc::now());
        let b = detect(1, table(&["A", "B"], &[&["xy", "z"]]), &Memory::default(), &rules(&key), Utc::now());
        assert_ne!(a.new_rows()[0].key, b.new_rows()[0].key, "moving text between cells makes another row");
    }

    #[test]
    fn identical_rows_are_counted() {
        let key = RowKey::Fingerprint;
        let t = table(&["Name"], &[&["Anna"], &["Bo"], &["Anna"], &["Anna"]]);
        let obs = detect(1, t, &Memory::default(), &rules(&key), Utc::now());
        let keys: Vec<&str> = obs.new_rows().iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys[2], format!("{}#2", keys[0]), "the second identical row gets #2");
        assert_eq!(keys[3], format!("{}#3", keys[0]), "the third gets #3");
        assert_eq!(obs.new_rows().len(), 4, "all four are rows");
    }

    #[test]
    fn an_added_column_does_not_change_fingerprints() {
        let key = RowKey::Fingerprint;
        let memory_after = |t: Table| {
            let obs = detect(1, t, &Memory::default(), &rules(&key), Utc::now());
            let seen = obs.new_rows().iter().map(|r| r.key.clone()).collect();
            let StateWrite::Full { identity, .. } = obs.write.state else { panic!("a full read") };
            Memory { state: Some(RowState { identity, ..state(1) }), seen, ..Memory::default() }
        };
        let memory = memory_after(table(&["Name", "Phone"], &[&["Anna", "067"]]));
        let later = table(&["Name", "Phone", "Status"], &[&["Anna", "067", "called"]]);
        let obs = detect(1, later, &memory, &rules(&key), Utc::now());
        assert!(obs.new_rows().is_empty(), "filling in a column added later is not an edit of the row");
    }

    #[test]
    fn shrinking_holds_a_warning_only_when_it_is_sharp() {
        let key = RowKey::Fingerprint;
        let memory = |n| Memory { state: Some(state(n)), ..Memory::default() };
        let rows: Vec<Vec<String>> = (0..5).map(|i| vec![format!("n{i}"), "067".into()]).collect();
        let five = |n: usize| Table {
            headers: vec!["Name".into(), "Phone".into()],
            rows: rows[..n]
                .iter()
                .enumerate()
                .map(|(i, c)| Row { line: i + 2, cells: c.clone(), ..Default::default() })
                .collect(),
        };
        let zero = detect(1, five(0), &memory(3), &rules(&key), Utc::now());
        assert_eq!(zero.outcome, Outcome::Shrunk { previous: 3 }, "zero rows after some is held");
        assert!(zero.warning().is_some_and(|w| w.contains("nothing was sent")), "and explained");
        let tenth = detect(1, five(4), &memory(50), &rules(&key), Utc::now());
        assert_eq!(tenth.outcome, Outcome::Shrunk { previous: 50 }, "4 of 50 is under a tenth");
        let fine = detect(1, five(5), &memory(50), &rules(&key), Utc::now());
        assert!(matches!(fine.outcome, Outcome::Rows { .. }), "5 of 50 is a tenth: a normal read");
        let small = detect(1, five(1), &memory(9), &rules(&key), Utc::now());
        assert!(matches!(small.outcome, Outcome::Rows { .. }), "small sources may shrink freely");
    }

    #[test]
    fn id_rows_without_an_id_wait_and_duplicates_are_reported() {
        let key = RowKey::Column("ID".into());
        let t = table(&["ID", "Name"], &[&["1", "Anna"], &["", "Bo"], &["1", "Cy"], &[" 2 ", "Di"]]);
        let obs = detect(1, t, &Memory::default(), &rules(&key), Utc::now());
        let keys: Vec<&str> = obs.new_rows().iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["1", "2"], "one row per ID, trimmed");
        assert_eq!(
            obs.skipped,
            [
                Skipped { line: 3, reason: SkipReason::NoKey },
                Skipped { line: 4, reason: SkipReason::DuplicateKey { key: "1".into(), first_line: 2 } }
            ],
            "the rows not used are reported with why"
        );
    }

    #[test]
    fn a_source_emptied_completely_pauses_saying_so() {
        let key = RowKey::Fingerprint;
        let memory = Memory { state: Some(RowState { last_count: Some(0), ..state(0) }), ..Memory::default() };
        let obs = detect(1, Table::default(), &memory, &rules(&key), Utc::now());
        let pause = obs.pause().expect("its columns are gone").to_string();
        assert!(pause.contains("no header row at all"), "an empty source is said to be empty: {pause}");
        assert!(!pause.contains("its columns are now"), "not an empty list of columns: {pause}");
    }

    #[test]
    fn many_rows_without_an_id_are_counted_not_all_listed() {
        let key = RowKey::Column("ID".into());
        let cells: Vec<[&str; 2]> = (0..25).map(|_| ["", "Anna"]).collect();
        let rows: Vec<&[&str]> = cells.iter().map(|c| c.as_slice()).collect();
        let obs = detect(1, table(&["ID", "Name"], &rows), &Memory::default(), &rules(&key), Utc::now());
        let note = obs.warning().expect("reported");
        assert!(
            note.starts_with("the rows on lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 15 more have no \"ID\": they are"),
            "ten lines, then a count: {note}"
        );
        let fingerprint =
            detect(1, table(&["ID", "Name"], &rows), &Memory::default(), &rules(&RowKey::Fingerprint), Utc::now());
        assert_eq!(fingerprint.warning(), None, "without an ID column no row is skipped");
    }

    #[test]
    fn a_changed_key_mode_pauses() {
        let key = RowKey::Column("ID".into());
        let memory = Memory { state: Some(state(1)), ..Memory::default() };
        let obs = detect(1, table(&["ID", "Name", "Phone"], &[&["1", "a", "b"]]), &memory, &rules(&key), Utc::now());
        let pause = obs.pause().expect("switching to an ID column would make every row new");
        assert!(pause.to_string().contains("column:ID"), "the message says what changed: {pause}");
    }

    #[test]
    fn row_key_reads_the_spec_json() {
        let key: RowKey = serde_json::from_str(r#"{"column": "Order ID"}"#).unwrap();
        assert_eq!(key, RowKey::Column("Order ID".into()), "the connection spec's row_key form");
        let start: StartFrom = serde_json::from_str(r#""new_rows""#).unwrap();
        assert_eq!(start, StartFrom::NewRows, "start_from's names");
    }
}
