//! The headless command line (`docs/cli.md`). `sendrow` with no command starts
//! the desktop app; that branch lives in the app crate, everything else here.
//!
//! Errors go to stderr with a non-zero exit; `--json` output goes to stdout.
//! API keys are read from standard input, never from argv.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand};

/// Prints a line to stdout. A closed pipe (`sendrow … | head`) is not an
/// error worth a panic: the reader has all it wanted.
/// Prints a line to stderr, ignoring a closed stderr for the same reason.
macro_rules! tell {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

use crate::account::{AccountInput, AccountStatus, AccountView, Region, Target};
use crate::compose::Country;
use crate::connection::{ConnectionSpec, ConnectionView};
use crate::run::RunOptions;
use crate::secrets::Secret;
use crate::sim::{Fault, SimConfig, Simulator};
use crate::store::{Entry, EntryStatus, Resolution};
use crate::{Core, Error};

/// Sendrow: new rows of a sheet become SMS through your own 8x8 account.
#[derive(Debug, Parser)]
#[command(name = "sendrow", version, about)]
pub struct Cli {
    /// Folder for Sendrow's data (default: the OS app-data folder).
    #[arg(long, global = true, env = "SENDROW_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// What to do; without one, the desktop app starts.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage 8x8 accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Run the local 8x8-compatible simulator.
    Sim(SimArgs),
    /// Numbers that are never texted.
    #[command(subcommand)]
    Optout(OptoutCommand),
    /// Manage connections (a source, an 8x8 account and a message).
    #[command(subcommand)]
    Connection(ConnectionCommand),
    /// Show what the next run would send; nothing is sent.
    Preview {
        /// The connection.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Show at most N messages.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// Send one row's SMS now, as the wizard's "Send test data to 8x8".
    TestSend {
        /// The connection.
        name: String,
        /// The data row to use (1 = the first row under the header).
        #[arg(long, value_name = "N")]
        row: Option<usize>,
        /// Send to this number instead of the row's (e.g. your own).
        #[arg(long, value_name = "NUMBER")]
        to: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a connection now.
    Run {
        /// The connection.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Send rows the flood guard holds.
        #[arg(long)]
        yes: bool,
    },
    /// Set Google up: endpoints, the OAuth client, sign-in and keys.
    #[command(subcommand)]
    Google(GoogleCommand),
    /// Run the schedule without a window (for servers and tests); stops on SIGTERM or Ctrl-C.
    Daemon,
    /// Every message of a connection.
    History {
        /// The connection.
        name: String,
        /// Print JSON.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print CSV.
        #[arg(long)]
        csv: bool,
    },
    /// Send a row's unknown or failed message again (a person's decision),
    /// or every failed message now (`--failed`).
    Resend {
        /// The connection.
        name: String,
        /// The row's key, as `history` shows it.
        #[arg(long, value_name = "KEY", required_unless_present = "failed", conflicts_with = "failed")]
        row: Option<String>,
        /// Send every failed message of the connection again now, and nothing else.
        #[arg(long)]
        failed: bool,
        /// Print what was sent as JSON (with `--failed`).
        #[arg(long, requires = "failed")]
        json: bool,
    },
    /// Record that a row's unknown or failed message did arrive.
    MarkSent {
        /// The connection.
        name: String,
        /// The row's key, as `history` shows it.
        #[arg(long, value_name = "KEY")]
        row: String,
    },
    /// Ask 8x8 now about messages whose answer was lost (`unknown`): those it
    /// has become queued, those it provably never got are sent by the next run.
    Reconcile {
        /// The connection (every connection when left out).
        name: Option<String>,
        /// Print JSON: {"checked", "found", "not_found", "still_unknown"}.
        #[arg(long)]
        json: bool,
    },
    /// Skip the rows the flood guard holds: they are never sent (`run --yes` sends them instead).
    SkipHeld {
        /// The connection.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `sendrow google …`
#[derive(Debug, Subcommand)]
pub enum GoogleCommand {
    /// Store your OAuth client (Google Cloud console → Credentials → "Desktop app"); the secret is read from stdin.
    Client {
        /// The client ID (….apps.googleusercontent.com).
        #[arg(long)]
        id: String,
    },
    /// Sign in to Google in the browser; the sign-in is kept in the keychain for {"mode": "oauth", "account": NAME}.
    SignIn {
        /// A name for the Google login, e.g. your e-mail.
        account: String,
    },
    /// Keep a service-account JSON key (entry google-sa:NAME) or an API key (google-api-key:NAME) in the keychain; read from stdin.
    Key {
        /// The keychain entry, as the connection's auth.key_entry names it.
        entry: String,
    },
    /// Forget a sign-in or a key (a keychain entry).
    Forget {
        /// The keychain entry.
        entry: String,
    },
    /// Send every Google request to one address laid out like the test fake (the fake itself, or a
    /// reverse proxy routing those paths to Google).
    BaseUrl {
        /// The base URL; omit with --reset to go back to Google's own.
        url: Option<String>,
        /// Use Google's own addresses again.
        #[arg(long, conflicts_with = "url")]
        reset: bool,
    },
    /// Set each Google address on its own; one not given stays Google's own.
    /// `google base-url --reset` goes back to Google for all of them.
    Endpoints {
        /// The Sheets API root (Google's: https://sheets.googleapis.com).
        #[arg(long, value_name = "URL")]
        sheets_api: Option<String>,
        /// The OAuth token endpoint (Google's: https://oauth2.googleapis.com/token).
        #[arg(long, value_name = "URL")]
        token: Option<String>,
        /// The sign-in page (Google's: https://accounts.google.com/o/oauth2/v2/auth).
        #[arg(long, value_name = "URL")]
        authorize: Option<String>,
        /// Where `/spreadsheets/d/ID/export` lives (Google's: https://docs.google.com).
        #[arg(long, value_name = "URL")]
        docs: Option<String>,
    },
}

/// `sendrow connection …`
#[derive(Debug, Subcommand)]
pub enum ConnectionCommand {
    /// Add a connection from a spec file (JSON); everything is checked first.
    Add {
        /// The spec file.
        #[arg(long, value_name = "SPEC.json")]
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the connections.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one connection.
    Show {
        /// The connection.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Switch scheduled runs on (and resume a paused connection).
    Enable {
        /// The connection.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Switch scheduled runs off.
    Disable {
        /// The connection.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a connection and its history.
    Remove {
        /// The connection.
        name: String,
        /// Remove it even with unknown or failed messages, which are then forgotten.
        #[arg(long)]
        force: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Confirm that the source shrank on purpose, so runs go on.
    DismissWarning {
        /// The connection.
        name: String,
    },
    /// Start over from new rows: every row in the source now counts as
    /// already seen (none is sent), and a pause is lifted.
    StartOver {
        /// The connection.
        name: String,
    },
}

/// `sendrow optout …`
#[derive(Debug, Subcommand)]
pub enum OptoutCommand {
    /// Add a number to the opt-out list.
    Add {
        /// The number, in any common format.
        number: String,
        /// Country for numbers without an international prefix (ISO code).
        #[arg(long, default_value = "UA")]
        country: String,
        /// Why (e.g. "replied STOP").
        #[arg(long)]
        note: Option<String>,
    },
    /// Remove a number from the list.
    Remove {
        /// The number.
        number: String,
        /// Country for numbers without an international prefix (ISO code).
        #[arg(long, default_value = "UA")]
        country: String,
    },
    /// Show the list.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add every number of a CSV file (a phone column, or one number per line).
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Country for numbers without an international prefix (ISO code).
        #[arg(long, default_value = "UA")]
        country: String,
    },
    /// Print the list as CSV.
    Export,
}

/// `sendrow account …`
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Add an account; the API key is read from standard input and verified with 8x8.
    #[command(group(ArgGroup::new("target").required(true).args(["region", "base_url"])))]
    Add {
        /// A name for the account.
        name: String,
        /// The 8x8 subaccount ID (Connect portal → API keys).
        #[arg(long = "subaccount", value_name = "ID")]
        subaccount: String,
        /// The account's region: apac, us, eu or id.
        #[arg(long, value_parser = parse_region)]
        region: Option<Region>,
        /// A custom API base URL (https, or http on this machine), e.g. the simulator.
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// Print the saved account as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the accounts.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Ask 8x8 again whether an account's key works.
    Verify {
        /// The account.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove an account and its key.
    Remove {
        /// The account.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `sendrow sim …`
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// A subaccount and its key, SUBACCOUNT:KEY; repeat for more (default: sandbox_hq:sandbox-key).
    #[arg(long = "account", value_name = "SUBACCOUNT:KEY", value_parser = parse_sim_account)]
    pub accounts: Vec<(String, String)>,
    /// Delay before every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Chance (0 to 1) that a send request meets one of --faults.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    pub fail_rate: f64,
    /// Faults drawn from when --fail-rate hits: 429, 500, 503, timeout, reset,
    /// accepted-500, accepted-502, accepted-504 (the last three accept the
    /// messages, then answer with the error).
    #[arg(long, value_delimiter = ',', value_parser = parse_fault, default_value = "500")]
    pub faults: Vec<Fault>,
    /// Send requests allowed per second per subaccount before 429 (default 1800, as 8x8).
    #[arg(long)]
    pub rate_limit: Option<u32>,
    /// The Retry-After of every 429, in whole seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 1)]
    pub retry_after: u64,
    /// A destination whose messages end undelivered; repeat for more.
    #[arg(long, value_name = "NUMBER")]
    pub undeliverable: Vec<String>,
    /// Milliseconds between delivery states (queued → sent → delivered).
    #[arg(long, default_value_t = 1000)]
    pub delivery_step_ms: u64,
}

fn parse_region(s: &str) -> Result<Region, String> {
    Region::parse(s).ok_or_else(|| format!("unknown region {s:?}: use apac, us, eu or id"))
}

fn parse_sim_account(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((sub, key)) if !sub.is_empty() && !key.is_empty() => Ok((sub.to_owned(), key.to_owned())),
        _ => Err(format!("{s:?} is not SUBACCOUNT:KEY")),
    }
}

fn parse_fault(s: &str) -> Result<Fault, String> {
    Fault::parse(s).ok_or_else(|| format!("unknown fault {s:?}: use one of {}", Fault::NAMES))
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("{s:?} is not a number from 0 to 1")),
    }
}

/// Runs a command and turns the outcome into an exit code; errors are printed
/// to stderr in words.
pub fn run(data_dir: Option<PathBuf>, command: Command) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            tell!("error: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async move {
        match command {
            Command::Sim(args) => sim(args).await,
            Command::Account(cmd) => account(&open_core(data_dir)?, cmd).await,
            Command::Optout(cmd) => optout(&open_core(data_dir)?, cmd),
            Command::Connection(cmd) => connection(&open_core(data_dir)?, cmd).await,
            Command::Daemon => daemon(open_core(data_dir)?).await,
            Command::Google(cmd) => google(&open_core(data_dir)?, cmd).await,
            other => work(&open_core(data_dir)?, other).await,
        }
    });
    match outcome {
        Ok(code) => code,
        Err(e) => {
            tell!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn open_core(data_dir: Option<PathBuf>) -> Result<Core, Error> {
    let dir = crate::data_dir::resolve(data_dir)?;
    let mut core = Core::open_with_keychain(&dir)?;
    crate::logging::init(&dir);
    if let Some(ms) = std::env::var("SENDROW_HTTP_TIMEOUT_MS").ok().and_then(|v| v.parse().ok()) {
        core.set_http_timeout(Duration::from_millis(ms));
    }
    Ok(core)
}

fn describe_connection(c: &ConnectionView) -> String {
    let status = match &c.status_reason {
        Some(reason) => format!("paused: {reason}"),
        None => c.status.to_owned(),
    };
    let next = c.next_run.clone().unwrap_or_else(|| "no scheduled run".into());
    let auto = if c.auto_update { "auto-update on" } else { "auto-update off" };
    format!("{}\t{}\t{}\t{}\tnext: {}", c.name, c.account, status, auto, next)
}

async fn connection(core: &Core, cmd: ConnectionCommand) -> Result<ExitCode, Error> {
    match cmd {
        ConnectionCommand::Add { file, json } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Error::Invalid(format!("cannot read {}: {e}; check the path", file.display())))?;
            let spec = ConnectionSpec::parse(&text)?;
            let base = file.parent().map(|p| p.to_path_buf()).unwrap_or_default();
            let base = std::fs::canonicalize(if base.as_os_str().is_empty() { PathBuf::from(".") } else { base })
                .map_err(|e| Error::Invalid(format!("cannot resolve the folder of {}: {e}", file.display())))?;
            let saved = core.add_connection(spec, &base).await?;
            if json {
                print_json(&saved);
            } else {
                say!(
                    "Connection {:?} saved. The source has {} rows; the first run will send {}.",
                    saved.connection.name,
                    saved.rows,
                    saved.will_send
                );
            }
        }
        ConnectionCommand::List { json } => {
            let all = core.connections()?;
            if json {
                print_json(&all);
            } else if all.is_empty() {
                say!("No connections yet. Add one with `sendrow connection add --file SPEC.json`.");
            } else {
                for c in &all {
                    say!("{}", describe_connection(c));
                }
            }
        }
        ConnectionCommand::Show { name, json } => {
            let c = core.connection_view(&name)?;
            if json {
                print_json(&c);
            } else {
                say!("{}", describe_connection(&c));
                if let Some(w) = &c.warning {
                    say!("warning: {w}");
                }
            }
        }
        ConnectionCommand::Enable { name, json } => {
            let c = core.set_auto_update(&name, true)?;
            if json {
                print_json(&c)
            } else {
                say!("Auto-update is on for {name:?}.")
            }
        }
        ConnectionCommand::Disable { name, json } => {
            let c = core.set_auto_update(&name, false)?;
            if json {
                print_json(&c)
            } else {
                say!("Auto-update is off for {name:?}; `sendrow run {name}` still works.")
            }
        }
        ConnectionCommand::Remove { name, force, json } => {
            core.remove_connection(&name, force)?;
            if json {
                print_json(&serde_json::json!({"removed": name}))
            } else {
                say!("Connection {name:?} removed.")
            }
        }
        ConnectionCommand::DismissWarning { name } => {
            core.dismiss_warning(&name)?;
            say!("The warning of {name:?} is dismissed; the next run goes on from the rows there are now.");
        }
        ConnectionCommand::StartOver { name } => {
            let rows = core.start_over(&name).await?;
            say!("{name:?} starts over: the {rows} row(s) in the source now will not be sent; rows added from now on will.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// ` because of "ї" "є"` for the preview: the characters that forced UCS-2
/// (the first eight), invisible ones by code point; empty for GSM-7.
fn ucs2_because(culprits: &[char]) -> String {
    if culprits.is_empty() {
        return String::new();
    }
    let shown = |&c: &char| {
        if (c.is_whitespace() && c != ' ') || format!("{c:?}").contains("\\u") {
            format!("U+{:04X}", u32::from(c))
        } else {
            format!("\"{c}\"")
        }
    };
    let mut text: String = culprits.iter().take(8).map(|c| format!(" {}", shown(c))).collect();
    if culprits.len() > 8 {
        text.push_str(" …");
    }
    format!(" because of{text}")
}

/// A cost without float noise: `0.14`, not `0.14000000000000001`.
fn amount(value: f64) -> String {
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

async fn work(core: &Core, command: Command) -> Result<ExitCode, Error> {
    match command {
        Command::Preview { name, json, limit } => {
            let (items, warning) = core.preview(&name, limit).await?;
            if let Some(w) = warning {
                tell!("warning: {w}");
            }
            if json {
                print_json(&items);
            } else if items.is_empty() {
                say!("Nothing new to send for {name:?}.");
            } else {
                for i in &items {
                    let to = i.composed.phone.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "-".into());
                    let m = &i.composed.measure;
                    let cost = i.cost.map(|c| format!(", cost {}", amount(c))).unwrap_or_default();
                    say!(
                        "[{}] {} → {} ({}{}, {} part(s){cost}): {}",
                        i.composed.status.as_str(),
                        i.row,
                        to,
                        m.encoding.as_str(),
                        ucs2_because(&m.ucs2_culprits),
                        m.segments,
                        i.composed.text
                    );
                    if let Some(reason) = &i.composed.reason {
                        say!("    {reason}");
                    }
                }
                let ready: Vec<_> =
                    items.iter().filter(|i| i.composed.status == crate::compose::Status::Ready).collect();
                // Ready items have a cost when the connection has a price.
                if ready.iter().any(|i| i.cost.is_some()) {
                    let price: f64 = ready.iter().filter_map(|i| i.cost).sum();
                    let parts: usize = ready.iter().map(|i| i.composed.measure.segments).sum();
                    say!("{} message(s) ready, {parts} part(s), cost {}", ready.len(), amount(price));
                }
            }
        }
        Command::TestSend { name, row, to, json } => {
            let sent = core.test_send(&name, row, to.as_deref()).await?;
            if json {
                print_json(&sent);
            } else if sent.status == EntryStatus::Queued {
                say!(
                    "Row {} (line {}) sent to {}: 8x8 queued it as {}.",
                    sent.row,
                    sent.line,
                    sent.phone,
                    sent.umid.clone().unwrap_or_default()
                );
                if sent.counts_as_row_message {
                    say!("It went to the row's own phone, so the first run will not text this customer again.");
                }
            }
            if sent.status != EntryStatus::Queued {
                tell!(
                    "error: the test SMS was not sent ({}): {}",
                    sent.status.as_str(),
                    sent.reason.unwrap_or_default()
                );
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Run { name, json, yes } => {
            let mut options = RunOptions { release_held: yes, ..RunOptions::default() };
            // Smaller batches make crash tests meaningful; users never need it.
            if let Some(size) = std::env::var("SENDROW_BATCH_SIZE").ok().and_then(|v| v.parse().ok()) {
                options.retry.batch_size = size;
            }
            let asked = chrono::Utc::now().to_rfc3339();
            // SIGTERM or Ctrl-C drops the run: messages whose request was
            // not written go back to pending (send::Unwritten).
            let outcome = tokio::select! {
                outcome = core.run(&name, &options) => outcome,
                _ = shutdown_signal() => {
                    tell!(
                        "stopped: messages not sent yet go with the next run; any whose request was already out \
                         are checked with 8x8 (`sendrow reconcile {name}`)"
                    );
                    return Ok(ExitCode::from(130));
                }
            };
            let summary = match outcome {
                Ok(summary) => summary,
                Err(e) => {
                    // A run that stopped part-way still says what it did.
                    let recorded = core.connection_view(&name).ok().and_then(|c| c.last_run);
                    if let Some(run) = recorded.filter(|r| json && r.started_at >= asked) {
                        print_json(&run);
                    }
                    return Err(e);
                }
            };
            if json {
                print_json(&summary);
            } else {
                say!(
                    "{name}: {} new row(s) ({} already had their SMS); sent {}, rejected {}, failed {}, skipped {}, unknown {}, held {}, waiting {}, left for the next run {}.",
                    summary.new_rows,
                    summary.already_sent,
                    summary.sent,
                    summary.rejected,
                    summary.failed,
                    summary.skipped,
                    summary.unknown,
                    summary.held,
                    summary.waiting,
                    summary.pending
                );
                if !summary.rows_to_fix.is_empty() {
                    say!("Not taken yet, looked at again by the next run:");
                    for row in &summary.rows_to_fix {
                        say!("    {}", row.describe());
                    }
                }
                if summary.not_matching > 0 {
                    say!(
                        "{} row(s) do not meet the conditions now; each run looks at them again.",
                        summary.not_matching
                    );
                }
                if summary.scheduled + summary.cancelled > 0 {
                    say!("reminders: {} scheduled, {} cancelled.", summary.scheduled, summary.cancelled);
                }
                if let Some(cost) = summary.cost {
                    say!("{} segment(s) queued, costing {}.", summary.segments, amount(cost));
                }
            }
            if let Some(w) = &summary.warning {
                tell!("warning: {w}");
            }
            if summary.held > 0 {
                tell!(
                    "held: {} new rows are more than this connection's flood limit; nothing of them was sent. \
                     Run `sendrow run {name} --yes` to send them, or `sendrow skip-held {name}` to skip them.",
                    summary.held
                );
                return Ok(ExitCode::from(3));
            }
            if summary.unknown > 0 {
                tell!(
                    "attention: {} message(s) may or may not have reached 8x8; Sendrow asks 8x8 about them by itself \
                     (now: `sendrow reconcile {name}`); see `sendrow history {name}`.",
                    summary.unknown
                );
            }
        }
        Command::History { name, json, csv } => {
            let entries = core.history(&name)?;
            if json {
                print_json(&entries.iter().map(HistoryLine::from).collect::<Vec<_>>());
            } else if csv {
                let _ = write!(std::io::stdout().lock(), "{}", core.history_csv(&name)?);
            } else {
                for e in &entries {
                    say!(
                        "{}{}\t{}\t{}\t{}\t{}",
                        e.row_key,
                        if e.is_test { " (test)" } else { "" },
                        e.phone.clone().unwrap_or_default(),
                        e.status.as_str(),
                        e.umid.clone().or(e.reason.clone()).unwrap_or_default(),
                        e.text
                    );
                }
            }
        }
        Command::Resend { name, row: Some(row), .. } => {
            core.resolve(&name, &row, Resolution::Resend)?;
            say!("Row {row:?} will be sent again by the next run of {name:?}.");
        }
        Command::Resend { name, row: None, json, .. } => {
            let summary = core.resend_failed(&name, &RunOptions::default()).await?;
            if json {
                print_json(&summary);
            } else {
                say!(
                    "{name}: failed messages sent again: {} sent, {} rejected, {} still failing, {} unknown.",
                    summary.sent,
                    summary.rejected,
                    summary.failed,
                    summary.unknown
                );
            }
        }
        Command::MarkSent { name, row } => {
            core.resolve(&name, &row, Resolution::MarkSent)?;
            say!("Row {row:?} is marked as sent; it will not be sent again.");
        }
        Command::Reconcile { name, json } => {
            let mut settings = crate::reconcile::Settings::default();
            // For tests only (README, "test knobs"): against the simulator an
            // export is exact at once, so they need not wait ten minutes.
            if let Some(secs) = std::env::var("SENDROW_RECONCILE_MARGIN_SECS").ok().and_then(|v| v.parse().ok()) {
                settings.margin = chrono::Duration::seconds(secs);
            }
            let report = core.reconcile(name.as_deref(), &settings, chrono::Utc::now()).await?;
            if json {
                print_json(&report);
            } else if report.checked == 0 {
                say!("No message is waiting for an answer from 8x8.");
            } else {
                say!(
                    "Checked {} message(s) with 8x8: {} had arrived (queued), {} never arrived (the next run sends them), {} still unknown (asked again later).",
                    report.checked,
                    report.found,
                    report.not_found,
                    report.still_unknown
                );
            }
        }
        Command::SkipHeld { name, json } => {
            let skipped = core.skip_held(&name)?;
            if json {
                print_json(&serde_json::json!({"skipped": skipped}));
            } else if skipped == 0 {
                say!("{name:?} has no rows held by the flood guard.");
            } else {
                say!("{skipped} held row(s) of {name:?} skipped; they will not be sent.");
            }
        }
        Command::Account(_)
        | Command::Sim(_)
        | Command::Optout(_)
        | Command::Connection(_)
        | Command::Daemon
        | Command::Google(_) => {
            unreachable!("dispatched before")
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One ledger entry as `history --json` prints it.
#[derive(serde::Serialize)]
struct HistoryLine<'a> {
    row: &'a str,
    line: Option<i64>,
    phone: Option<&'a str>,
    text: &'a str,
    status: &'static str,
    test: bool,
    umid: Option<&'a str>,
    code: Option<i64>,
    reason: Option<&'a str>,
    attempts: i64,
    delivery: Option<&'a str>,
    delivery_error: Option<&'a str>,
    client_message_id: &'a str,
    created_at: &'a str,
    updated_at: &'a str,
    checked_at: Option<&'a str>,
    check_note: Option<&'a str>,
    /// A reminder's send time (RFC 3339, the machine's offset).
    send_at: Option<String>,
}

impl<'a> From<&'a Entry> for HistoryLine<'a> {
    fn from(e: &'a Entry) -> Self {
        HistoryLine {
            row: &e.row_key,
            line: e.row_line,
            phone: e.phone.as_deref(),
            text: &e.text,
            status: e.status.as_str(),
            test: e.is_test,
            umid: e.umid.as_deref(),
            code: e.error_code,
            reason: e.reason.as_deref(),
            attempts: e.attempts,
            delivery: e.delivery_state.as_deref(),
            delivery_error: e.delivery_error.as_deref(),
            client_message_id: &e.client_message_id,
            created_at: &e.created_at,
            updated_at: &e.updated_at,
            checked_at: e.checked_at.as_deref(),
            check_note: e.check_note.as_deref(),
            send_at: e
                .send_at
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Local).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)),
        }
    }
}

fn country(code: &str) -> Result<Country, Error> {
    Country::parse(code).map_err(|e| Error::Invalid(e.to_string()))
}

fn optout(core: &Core, cmd: OptoutCommand) -> Result<ExitCode, Error> {
    match cmd {
        OptoutCommand::Add { number, country: c, note } => {
            let phone = core.add_optout(&number, country(&c)?, note.as_deref())?;
            say!("{phone} will not be texted.");
        }
        OptoutCommand::Remove { number, country: c } => {
            if core.remove_optout(&number, country(&c)?)? {
                say!("{number} removed from the opt-out list.");
            } else {
                return Err(Error::Invalid(format!("{number} is not on the opt-out list")));
            }
        }
        OptoutCommand::List { json } => {
            let list = core.optouts()?;
            if json {
                print_json(&list);
            } else if list.is_empty() {
                say!("The opt-out list is empty.");
            } else {
                for o in list {
                    say!("{}\t{}", o.phone, o.note.unwrap_or_default());
                }
            }
        }
        OptoutCommand::Import { file, country: c } => {
            let report = core.import_optouts(&file, country(&c)?)?;
            say!("{} added, {} already on the list.", report.added, report.already_listed);
            for (line, text, reason) in &report.refused {
                tell!("line {line} ({text:?}) skipped: {reason}");
            }
        }
        OptoutCommand::Export => {
            let _ = write!(std::io::stdout().lock(), "{}", core.export_optouts()?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_json(value: &impl serde::Serialize) {
    say!("{}", serde_json::to_string_pretty(value).expect("plain data serializes"));
}

fn describe_status(view: &AccountView) -> String {
    match (&view.status_reason, view.status_code) {
        (None, _) => "active".to_owned(),
        (Some(reason), Some(code)) => format!("inactive: {reason} (8x8 code {code})"),
        (Some(reason), None) => format!("inactive: {reason}"),
    }
}

/// The terminal's echo switched off until dropped, so the key stays off the
/// screen, a screen recording and the scrollback. `stty` works on the
/// terminal it is given as stdin (ours), which needs no unsafe termios calls.
struct NoEcho {
    saved: Option<String>,
}

impl NoEcho {
    fn on_stdin() -> NoEcho {
        let stty = |args: &[&str]| {
            std::process::Command::new("stty")
                .args(args)
                .stdin(std::process::Stdio::inherit())
                .stderr(std::process::Stdio::null())
                .output()
                .ok()
                .filter(|out| out.status.success())
        };
        let saved = stty(&["-g"]).map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned());
        let saved = saved.filter(|_| stty(&["-echo"]).is_some());
        NoEcho { saved }
    }
}

impl Drop for NoEcho {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = std::process::Command::new("stty").arg(saved).stdin(std::process::Stdio::inherit()).status();
        }
    }
}

/// Reads the API key from stdin: all of it when piped, one line at a prompt.
fn read_key() -> Result<Secret, Error> {
    let stdin = std::io::stdin();
    let mut text = String::new();
    if stdin.is_terminal() {
        // Echo off before the prompt, so nothing typed after it shows.
        let _quiet = NoEcho::on_stdin();
        eprint!("8x8 API key (it is not shown as you type or paste; press Enter): ");
        let _ = std::io::stderr().flush();
        stdin.read_line(&mut text).map_err(|e| Error::Invalid(format!("cannot read the API key: {e}")))?;
        eprintln!();
    } else {
        stdin.lock().read_to_string(&mut text).map_err(|e| Error::Invalid(format!("cannot read the API key: {e}")))?;
    }
    let key = text.trim();
    if key.is_empty() {
        return Err(Error::Invalid(
            "no API key on standard input: pipe it in, e.g. `sendrow account add NAME --subaccount ID --region eu < key.txt`".into(),
        ));
    }
    Ok(Secret::new(key))
}

async fn account(core: &Core, cmd: AccountCommand) -> Result<ExitCode, Error> {
    match cmd {
        AccountCommand::Add { name, subaccount, region, base_url, json } => {
            let target = match (region, base_url) {
                (Some(r), _) => Target::Region(r),
                (None, Some(url)) => Target::BaseUrl(url),
                (None, None) => unreachable!("clap requires --region or --base-url"),
            };
            let api_key = read_key()?;
            let account = core.add_account(AccountInput { name, subaccount_id: subaccount, target, api_key }).await?;
            let view = AccountView::from(&account);
            if json {
                print_json(&view);
            } else {
                say!("Account {:?} saved: {}", view.name, describe_status(&view));
            }
            Ok(match account.status {
                AccountStatus::Active => ExitCode::SUCCESS,
                AccountStatus::Inactive { .. } => {
                    tell!(
                        "error: 8x8 did not accept account {:?}: {}. Check your access: copy the subaccount ID and API key \
                         again from the 8x8 Connect portal, then run `sendrow account verify {}`",
                        view.name,
                        describe_status(&view),
                        view.name
                    );
                    ExitCode::FAILURE
                }
            })
        }
        AccountCommand::List { json } => {
            let views: Vec<AccountView> = core.accounts()?.iter().map(AccountView::from).collect();
            if json {
                print_json(&views);
            } else if views.is_empty() {
                say!("No accounts yet. Add one with `sendrow account add NAME --subaccount ID --region eu`.");
            } else {
                for v in &views {
                    say!("{}\t{}\t{}\t{}", v.name, v.subaccount_id, v.base_url, describe_status(v));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AccountCommand::Verify { name, json } => {
            let account = core.verify_account(&name).await?;
            let view = AccountView::from(&account);
            if json {
                print_json(&view);
            } else {
                say!("Account {:?}: {}", view.name, describe_status(&view));
            }
            Ok(if view.status == "active" { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        AccountCommand::Remove { name, json } => {
            core.remove_account(&name)?;
            if json {
                print_json(&serde_json::json!({"removed": name}));
            } else {
                say!("Account {name:?} removed, and its API key deleted from the keychain.");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_stdin_secret(what: &str) -> Result<Secret, Error> {
    let mut text = String::new();
    std::io::stdin()
        .lock()
        .read_to_string(&mut text)
        .map_err(|e| Error::Invalid(format!("cannot read {what}: {e}")))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Invalid(format!("no {what} on standard input: pipe it in (never pass it as an argument)")));
    }
    Ok(Secret::new(text))
}

async fn google(core: &Core, cmd: GoogleCommand) -> Result<ExitCode, Error> {
    match cmd {
        GoogleCommand::Client { id } => {
            core.set_google_oauth_client(&id, read_stdin_secret("client secret")?)?;
            say!("Google OAuth client saved; the secret is in the keychain.");
        }
        GoogleCommand::SignIn { account } => {
            let (url, pending) = core.start_google_sign_in().await?;
            tell!("Open this address in your browser and allow Sendrow to read your sheets:\n{url}");
            // Best effort: the user can always copy the address. (The app opens
            // browsers through the `open` crate, the portable path.)
            #[cfg(target_os = "linux")]
            let _ = std::process::Command::new("xdg-open")
                .arg(&url)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn();
            match tokio::time::timeout(Duration::from_secs(600), core.finish_google_sign_in(pending, &account)).await {
                Ok(result) => result?,
                Err(_) => {
                    return Err(Error::Invalid("the sign-in was not finished within 10 minutes; run it again".into()))
                }
            }
            say!("Signed in to Google as {account:?}. Use {{\"mode\": \"oauth\", \"account\": {account:?}}} in a connection.");
        }
        GoogleCommand::Key { entry } => {
            let email = core.store_google_key(&entry, read_stdin_secret("key")?)?;
            match email {
                Some(email) => say!("Key saved. Share your sheets with {email} (Viewer is enough)."),
                None => say!("API key saved. It can read sheets shared with \"Anyone with the link\"."),
            }
        }
        GoogleCommand::Forget { entry } => {
            core.forget_google(&entry)?;
            say!("{entry:?} removed from the keychain.");
        }
        GoogleCommand::BaseUrl { url, reset } => match (url, reset) {
            (Some(url), _) => {
                crate::account::check_base_url(&url)?;
                core.set_google_base_url(Some(&url))?;
                say!("Google requests now go to {url}.");
            }
            (None, true) => {
                core.set_google_base_url(None)?;
                say!("Google requests go to Google again.");
            }
            (None, false) => return Err(Error::Invalid("give a URL, or --reset".into())),
        },
        GoogleCommand::Endpoints { sheets_api, token, authorize, docs } => {
            let google = crate::source::google::GoogleEndpoints::default();
            let pick = |flag: &str, given: Option<String>, default: String| -> Result<String, Error> {
                match given {
                    Some(url) => {
                        crate::account::check_base_url(&url).map_err(|e| Error::Invalid(format!("--{flag}: {e}")))
                    }
                    None => Ok(default),
                }
            };
            let endpoints = crate::source::google::GoogleEndpoints {
                sheets_api: pick("sheets-api", sheets_api, google.sheets_api)?,
                token: pick("token", token, google.token)?,
                authorize: pick("authorize", authorize, google.authorize)?,
                docs: pick("docs", docs, google.docs)?,
            };
            core.set_google_endpoints(Some(&endpoints))?;
            say!(
                "Google requests now go to: API {}, tokens {}, sign-in {}, CSV export {}.",
                endpoints.sheets_api,
                endpoints.token,
                endpoints.authorize,
                endpoints.docs
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the scheduler until SIGTERM or Ctrl-C, printing one JSON line per
/// event (run started, finished, next run, …) for logs and tests.
async fn daemon(core: Core) -> Result<ExitCode, Error> {
    let dir = core.data_dir().display().to_string();
    let (daemon, task) = crate::daemon::start(std::sync::Arc::new(core), shutdown_signal())?;
    let mut events = daemon.events.subscribe();
    tell!("sendrow daemon: running the schedule for {dir}; stop with Ctrl-C or SIGTERM");
    let printer = tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => say!("{}", serde_json::to_string(&event).expect("events serialize")),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    let _ = task.await;
    printer.abort();
    tell!("sendrow daemon: stopped");
    Ok(ExitCode::SUCCESS)
}

async fn sim(args: SimArgs) -> Result<ExitCode, Error> {
    let defaults = SimConfig::default();
    let config = SimConfig {
        accounts: if args.accounts.is_empty() { defaults.accounts } else { args.accounts },
        latency: Duration::from_millis(args.latency_ms),
        fail_rate: args.fail_rate,
        faults: args.faults,
        rate_limit: args.rate_limit,
        retry_after_secs: args.retry_after,
        undeliverable: args.undeliverable,
        delivery_step: Duration::from_millis(args.delivery_step_ms),
        test_hooks: true,
        ..SimConfig::default()
    };
    let sim = Simulator::start(config, args.port)
        .await
        .map_err(|e| Error::Invalid(format!("cannot listen on 127.0.0.1:{}: {e}; pick another --port", args.port)))?;
    say!("listening on {}", sim.base_url());
    let _ = std::io::stdout().flush();
    sim.run_until(shutdown_signal()).await;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
