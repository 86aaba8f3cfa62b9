//! `sendrow account …`: add, list, verify and remove 8x8 accounts. The API
//! key is read from standard input (never argv), with the terminal's echo off.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use clap::{ArgGroup, Subcommand};

use super::output::print_json;
use crate::account::{AccountInput, AccountStatus, AccountView, Region, Target};
use crate::secrets::Secret;
use crate::{Core, Error};

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

fn parse_region(s: &str) -> Result<Region, String> {
    Region::parse(s).ok_or_else(|| format!("unknown region {s:?}: use apac, us, eu or id"))
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

pub(super) async fn account(core: &Core, cmd: AccountCommand) -> Result<ExitCode, Error> {
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
