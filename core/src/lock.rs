//! Advisory file locks that let several Sendrow processes share one data
//! folder safely (the window, a CLI `run`, a daemon).
//!
//! Every process holds a shared lock on `sending.lock` while it has entries in
//! `sending`; turning leftover `sending` entries into `unknown` after a crash
//! needs the exclusive lock, so it only happens when nobody is mid-send. The
//! scheduler takes `scheduler.lock` exclusively: a second scheduler on the same
//! folder is refused. The OS drops the locks when a process dies, however it dies.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use crate::Error;

fn open(dir: &Path, name: &str) -> Result<File, Error> {
    let path = dir.join(name);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| Error::DataDir { path, source })
}

/// Held while this process may have entries in `sending`.
pub struct SendingGuard {
    _file: File,
}

/// Takes the shared sending lock, waiting for a recovery in progress.
pub fn sending(dir: &Path) -> Result<SendingGuard, Error> {
    let file = open(dir, "sending.lock")?;
    file.lock_shared().map_err(|source| Error::DataDir { path: dir.join("sending.lock"), source })?;
    Ok(SendingGuard { _file: file })
}

/// Runs `recover` only when no process is sending from this folder; returns
/// `None` when another process holds the sending lock.
pub fn when_nobody_sends<T>(dir: &Path, recover: impl FnOnce() -> Result<T, Error>) -> Result<Option<T>, Error> {
    let file = open(dir, "sending.lock")?;
    match file.try_lock() {
        Ok(()) => recover().map(Some),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(source)) => Err(Error::DataDir { path: dir.join("sending.lock"), source }),
    }
}

/// Held by the one scheduler of a data folder.
pub struct SchedulerGuard {
    _file: File,
}

/// Takes the scheduler lock, or says that another scheduler runs here.
pub fn scheduler(dir: &Path) -> Result<SchedulerGuard, Error> {
    let file = open(dir, "scheduler.lock")?;
    match file.try_lock() {
        Ok(()) => Ok(SchedulerGuard { _file: file }),
        Err(TryLockError::WouldBlock) => Err(Error::Invalid(format!(
            "another Sendrow (the app or `sendrow daemon`) is already running the schedule for {}; \
             stop it first, or use another --data-dir",
            dir.display()
        ))),
        Err(TryLockError::Error(source)) => Err(Error::DataDir { path: dir.join("scheduler.lock"), source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_waits_for_senders_and_schedulers_are_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let guard = sending(dir.path()).unwrap();
        let ran = when_nobody_sends(dir.path(), || Ok(())).unwrap();
        assert_eq!(ran, None, "no recovery while someone is sending");
        drop(guard);
        assert_eq!(when_nobody_sends(dir.path(), || Ok(7)).unwrap(), Some(7), "recovery once nobody sends");

        let first = scheduler(dir.path()).unwrap();
        let second = scheduler(dir.path()).err().expect("a second scheduler is refused");
        assert!(second.to_string().contains("already running the schedule"), "and told why: {second}");
        drop(first);
        scheduler(dir.path()).expect("after the first stops, another may start");
    }
}
