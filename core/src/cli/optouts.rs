//! `sendrow optout …`: numbers never texted — add, remove, list, import a
//! CSV and export the list.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::output::print_json;
use crate::compose::Country;
use crate::{Core, Error};

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

fn country(code: &str) -> Result<Country, Error> {
    Country::parse(code).map_err(|e| Error::Invalid(e.to_string()))
}

pub(super) fn optout(core: &Core, cmd: OptoutCommand) -> Result<ExitCode, Error> {
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
