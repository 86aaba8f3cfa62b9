//! The `sendrow` binary: with a command it is the headless CLI of
//! product.md §7; without one it starts the desktop app.

// No console window on Windows release builds; harmless elsewhere.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

use clap::Parser;
use sendrow_core::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(command) => sendrow_core::cli::run(cli.data_dir, command),
        None => sendrow_app::run(cli.data_dir),
    }
}
