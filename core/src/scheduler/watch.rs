//! `{"on_change": true}`: watches source files with `notify` and reports a
//! connection once its file has been quiet for a moment after a change.
//!
//! The folder is watched, not the file: editors and Excel save by writing a
//! new file and renaming it over the old one, which a watch on the old file
//! would not survive. Events are matched back to connections by folder and
//! file name. Opening or reading a file is not a change: the run's own read
//! would otherwise set off the next run.
//!
//! A file changed while nobody watched it (the app was closed, or starting
//! over) counts as a change the moment it is first watched again: saved after
//! the connection's last run, or, before any run, after its schedule was chosen.
//!
//! Not here: whether the file is complete. A run that finds it half-written
//! reports that, and the save that completes it is another change.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::event::ModifyKind;
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{Event, Job};
use crate::schedule::Schedule;

/// A change counts once the file has had no further change for this long:
/// one save is often several writes.
pub const QUIET: Duration = Duration::from_secs(1);

/// A file written to without pause still runs this long after its first
/// change, so a busy file is not starved.
pub const MAX_WAIT: Duration = Duration::from_secs(10);

struct Target {
    folder: PathBuf,
    file: OsString,
    name: String,
}

struct Pending {
    first: Instant,
    last: Instant,
}

impl Pending {
    fn due(&self) -> Instant {
        (self.last + QUIET).min(self.first + MAX_WAIT)
    }
}

pub(super) struct Watch {
    /// Made on first use, so a data folder without on-change connections
    /// starts no watcher thread.
    watcher: Option<RecommendedWatcher>,
    folders: HashSet<PathBuf>,
    targets: Vec<Target>,
    changes_tx: mpsc::UnboundedSender<PathBuf>,
    changes: mpsc::UnboundedReceiver<PathBuf>,
    pending: HashMap<String, Pending>,
}

impl Watch {
    pub fn new() -> Watch {
        let (changes_tx, changes) = mpsc::unbounded_channel();
        Watch {
            watcher: None,
            folders: HashSet::new(),
            targets: Vec::new(),
            changes_tx,
            changes,
            pending: HashMap::new(),
        }
    }

    /// Watches the files of `jobs`' on-change connections and no others;
    /// reports the ones that cannot be watched.
    pub fn follow<'a>(&mut self, jobs: impl Iterator<Item = &'a Job>) -> Vec<Event> {
        let mut failed = Vec::new();
        let mut targets = Vec::new();
        let mut unseen_changes = Vec::new();
        for job in jobs.filter(|j| matches!(j.schedule, Some(Schedule::OnChange { .. }))) {
            match target(job) {
                Ok(target) => {
                    let newly_followed = !self.targets.iter().any(|t| t.name == job.name);
                    if newly_followed && changed_unwatched(job) {
                        unseen_changes.push(job.name.clone());
                    }
                    targets.push(target);
                }
                Err(reason) => failed.push(Event::WatchFailed { name: job.name.clone(), reason }),
            }
        }

        let wanted: HashSet<PathBuf> = targets.iter().map(|t| t.folder.clone()).collect();
        if let Some(watcher) = &mut self.watcher {
            for gone in self.folders.difference(&wanted) {
                let _ = watcher.unwatch(gone);
            }
        }
        self.folders.retain(|f| wanted.contains(f));
        for folder in wanted {
            if self.folders.contains(&folder) {
                continue;
            }
            match self.watch(&folder) {
                Ok(()) => {
                    self.folders.insert(folder);
                }
                Err(reason) => targets.retain(|t| {
                    if t.folder == folder {
                        failed.push(Event::WatchFailed { name: t.name.clone(), reason: reason.clone() });
                    }
                    t.folder != folder
                }),
            }
        }

        self.pending.retain(|name, _| targets.iter().any(|t| &t.name == name));
        let now = Instant::now();
        for name in unseen_changes.into_iter().filter(|name| targets.iter().any(|t| &t.name == name)) {
            self.pending.entry(name).or_insert(Pending { first: now, last: now });
        }
        self.targets = targets;
        failed
    }

    fn watch(&mut self, folder: &Path) -> Result<(), String> {
        if self.watcher.is_none() {
            let changes = self.changes_tx.clone();
            let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                // A watcher error (an overflowing queue) names no file; the
                // schedule's next change or a forced run still reads it.
                let Ok(event) = event else { return };
                let is_change = match event.kind {
                    EventKind::Create(_) | EventKind::Any => true,
                    EventKind::Modify(kind) => !matches!(kind, ModifyKind::Metadata(_)),
                    EventKind::Access(_) | EventKind::Remove(_) | EventKind::Other => false,
                };
                if is_change {
                    for path in event.paths {
                        let _ = changes.send(path);
                    }
                }
            })
            .map_err(|e| format!("the file watcher cannot start: {e}"))?;
            self.watcher = Some(watcher);
        }
        let watcher = self.watcher.as_mut().expect("made just above");
        watcher
            .watch(folder, RecursiveMode::NonRecursive)
            .map_err(|e| format!("the folder {} cannot be watched: {e}", folder.display()))
    }

    /// The next connection whose file changed and then stayed quiet.
    /// Cancel-safe: changes are recorded as they arrive.
    pub async fn changed(&mut self) -> String {
        loop {
            let next = self.pending.iter().min_by_key(|(_, p)| p.due()).map(|(name, p)| (name.clone(), p.due()));
            let settle = async {
                match next {
                    Some((_, due)) => tokio::time::sleep_until(due).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                Some(path) = self.changes.recv() => self.note(&path),
                () = settle => {
                    let (name, _) = next.expect("settle only completes with something pending");
                    self.pending.remove(&name);
                    return name;
                }
            }
        }
    }

    fn note(&mut self, path: &Path) {
        let (Some(file), Some(folder)) = (path.file_name(), path.parent()) else { return };
        let now = Instant::now();
        let mut canonical = None;
        for target in &self.targets {
            if target.file != file {
                continue;
            }
            // Watchers report paths under the folder as it was given, which
            // was canonical; resolve only when that does not match.
            let same_folder = target.folder == folder
                || canonical.get_or_insert_with(|| folder.canonicalize().ok()).as_deref() == Some(&target.folder);
            if same_folder {
                self.pending
                    .entry(target.name.clone())
                    .and_modify(|p| p.last = now)
                    .or_insert(Pending { first: now, last: now });
            }
        }
    }
}

/// Whether `job`'s file was saved after its last run (or, before any run,
/// after its schedule was chosen): a change no watcher saw.
fn changed_unwatched(job: &Job) -> bool {
    let Some(modified) = job.watch_path.as_deref().and_then(|p| std::fs::metadata(p).ok()?.modified().ok()) else {
        return false;
    };
    let modified: chrono::DateTime<chrono::Utc> = modified.into();
    modified > job.last_run.unwrap_or(job.chosen_at)
}

fn target(job: &Job) -> Result<Target, String> {
    let path = job
        .watch_path
        .as_deref()
        .ok_or("\"on_change\" needs a file source (CSV or Excel); this connection has no file to watch")?;
    let file = path.file_name().ok_or_else(|| format!("{} does not name a file", path.display()))?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let folder =
        folder.canonicalize().map_err(|e| format!("the folder of {} cannot be watched: {e}", path.display()))?;
    Ok(Target { folder, file: file.to_owned(), name: job.name.clone() })
}
