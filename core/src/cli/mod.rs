//! The headless command line (`docs/cli.md`). `sendrow` with no command starts
//! the desktop app; that branch lives in the app crate, everything else here.
//!
//! Errors go to stderr with a non-zero exit; `--json` output goes to stdout.
//! API keys are read from standard input, never from argv.
//!
//! One file per command group (`accounts`, `connections`, `runs`, `history`,
//! `optouts`, `google`, `daemon` with `sim`); `output` is how they print.

#[macro_use]
mod output;
mod accounts;
mod connections;
mod daemon;
mod google;
mod history;
mod optouts;
mod runs;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

pub use accounts::AccountCommand;
pub use connections::ConnectionCommand;
pub use daemon::{shutdown_signal, SimArgs};
pub use google::GoogleCommand;
pub use optouts::OptoutCommand;

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
            Command::Sim(args) => daemon::sim(args).await,
            Command::Daemon => daemon::daemon(open_core(data_dir)?).await,
            Command::Account(cmd) => accounts::account(&open_core(data_dir)?, cmd).await,
            Command::Optout(cmd) => optouts::optout(&open_core(data_dir)?, cmd),
            Command::Connection(cmd) => connections::connection(&open_core(data_dir)?, cmd).await,
            Command::Google(cmd) => google::google(&open_core(data_dir)?, cmd).await,
            Command::Preview { name, json, limit } => runs::preview(&open_core(data_dir)?, name, json, limit).await,
            Command::TestSend { name, row, to, json } => {
                runs::test_send(&open_core(data_dir)?, name, row, to, json).await
            }
            Command::Run { name, json, yes } => runs::run(&open_core(data_dir)?, name, json, yes).await,
            Command::Reconcile { name, json } => runs::reconcile(&open_core(data_dir)?, name, json).await,
            Command::History { name, json, csv } => history::history(&open_core(data_dir)?, name, json, csv),
            Command::Resend { name, row, failed: _, json } => {
                history::resend(&open_core(data_dir)?, name, row, json).await
            }
            Command::MarkSent { name, row } => history::mark_sent(&open_core(data_dir)?, name, row),
            Command::SkipHeld { name, json } => history::skip_held(&open_core(data_dir)?, name, json),
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
