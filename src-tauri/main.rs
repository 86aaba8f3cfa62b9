//! The `sendrow` binary: with a command it is the headless CLI of
//! `docs/cli.md`; without one it starts the desktop app.

// No console window on Windows release builds; harmless elsewhere.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

use clap::Parser;
use sendrow_core::cli::Cli;

fn main() -> ExitCode {
    // `--tray` is the app's own hidden flag (start at login; or, to a running
    // Sendrow, "close your window to the tray"); the core's CLI never sees it.
    let args: Vec<_> = std::env::args_os().collect();
    let in_tray = args.iter().skip(1).any(|a| a == sendrow_app::TRAY_FLAG);
    let cli = Cli::parse_from(args.into_iter().filter(|a| a != sendrow_app::TRAY_FLAG));
    match cli.command {
        Some(command) => sendrow_core::cli::run(cli.data_dir, command),
        None => sendrow_app::run(cli.data_dir, in_tray),
    }
}
