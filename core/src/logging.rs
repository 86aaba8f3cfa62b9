//! Diagnostics: what a process did, in a log file in the data folder's
//! `logs/` (one file a day, the last week kept), so a failure at 03:00 in a
//! tray app that runs for weeks leaves something to read.
//!
//! The level comes from `SENDROW_LOG` (`error`, `warn`, `info` — the default —,
//! `debug`, `trace` or `off`). Nothing goes to stdout or stderr: `sendrow
//! daemon` prints its JSON events there. Secrets never reach the log: callers
//! log names, counts, HTTP statuses and 8x8/Google error codes, never keys,
//! tokens, request headers or bodies.

use std::path::{Path, PathBuf};

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The environment variable that sets the level.
pub const LEVEL_ENV: &str = "SENDROW_LOG";

/// Daily files kept; older ones are deleted when a new one starts.
const KEEP_FILES: usize = 7;

/// Where a data folder's logs are.
pub fn log_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("logs")
}

/// The level `SENDROW_LOG` names, `info` when unset; `Err` names a bad value.
fn level(value: Option<&str>) -> Result<LevelFilter, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(LevelFilter::INFO),
        Some(name) => name
            .parse()
            .map_err(|_| format!("{LEVEL_ENV}={name:?} is not a level; use error, warn, info, debug, trace or off")),
    }
}

/// Sends this process's `tracing` events to `data_dir`'s log, from now on.
/// Once per process (a second call does nothing). A log that cannot be
/// written costs only the log: the reason goes to stderr and Sendrow carries on.
pub fn init(data_dir: &Path) {
    let (level, bad_level) = match level(std::env::var(LEVEL_ENV).ok().as_deref()) {
        Ok(level) => (level, None),
        Err(why) => (LevelFilter::INFO, Some(why)),
    };
    if level == LevelFilter::OFF {
        return;
    }
    // Made first: pruning old files reads the folder, and complains on stderr when it is missing.
    if let Err(e) = std::fs::create_dir_all(log_dir(data_dir)) {
        eprintln!("warning: no log in {}: {e}", log_dir(data_dir).display());
        return;
    }
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("sendrow")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(log_dir(data_dir));
    let appender = match appender {
        Ok(appender) => appender,
        Err(e) => {
            eprintln!("warning: no log in {}: {e}", log_dir(data_dir).display());
            return;
        }
    };
    // Sendrow's own events at the chosen level; the libraries' (hyper, h2,
    // rustls…) at warn at most, since their debug and trace output describes
    // requests in detail we never vetted for secrets.
    let targets = Targets::new()
        .with_target("sendrow_core", level)
        .with_target("sendrow_app", level)
        .with_target("sendrow", level)
        .with_default(level.min(LevelFilter::WARN));
    let installed = tracing_subscriber::fmt()
        .with_writer(appender)
        .with_ansi(false)
        .with_max_level(level)
        .finish()
        .with(targets)
        .try_init()
        .is_ok();
    if installed {
        if let Some(why) = bad_level {
            tracing::warn!("{why}; logging at info");
        }
        tracing::info!(version = env!("CARGO_PKG_VERSION"), pid = std::process::id(), "sendrow started");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level_is_info_unless_sendrow_log_names_another() {
        assert_eq!(level(None), Ok(LevelFilter::INFO), "unset means info");
        assert_eq!(level(Some("")), Ok(LevelFilter::INFO), "empty means info");
        assert_eq!(level(Some("debug")), Ok(LevelFilter::DEBUG));
        assert_eq!(level(Some("off")), Ok(LevelFilter::OFF));
        let bad = level(Some("loud")).expect_err("an unknown level is refused");
        assert!(bad.contains("SENDROW_LOG") && bad.contains("debug"), "the error says what to use: {bad}");
    }
}
