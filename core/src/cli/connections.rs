//! `sendrow connection …`: add, list, show, enable, disable, remove a
//! connection, dismiss its warning and start it over.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::output::print_json;
use crate::connection::{ConnectionSpec, ConnectionView};
use crate::{Core, Error};

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

fn describe_connection(c: &ConnectionView) -> String {
    let status = match &c.status_reason {
        Some(reason) => format!("paused: {reason}"),
        None => c.status.to_owned(),
    };
    let next = c.next_run.clone().unwrap_or_else(|| "no scheduled run".into());
    let auto = if c.auto_update { "auto-update on" } else { "auto-update off" };
    format!("{}\t{}\t{}\t{}\tnext: {}", c.name, c.account, status, auto, next)
}

pub(super) async fn connection(core: &Core, cmd: ConnectionCommand) -> Result<ExitCode, Error> {
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
