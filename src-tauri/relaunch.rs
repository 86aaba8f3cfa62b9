//! Closing the window to the tray by starting over without it.
//!
//! WebKitGTK keeps its web and network processes, and much of its memory,
//! after the last webview is destroyed: 130 MiB PSS with the window closed,
//! against 44 MiB for an app started in the tray. So when the window closes,
//! Sendrow stops its scheduler as Quit does (runs in flight end), waits until
//! nothing of its own is mid-send, and replaces itself with `sendrow --tray`
//! (`exec`: the same process ID, the same arguments otherwise). The schedule
//! carries on in the new image, which catches up on anything due meanwhile.
//!
//! Under WebDriver (`TAURI_WEBVIEW_AUTOMATION`) the automation session belongs
//! to this process image, so there the window is only destroyed.
//!
//! Linux only (`exec`, /proc, and WebKitGTK's habit): on Windows and macOS,
//! WebView2 and WKWebView let their processes go with the webview, so the
//! portable path is the one WebDriver takes: destroy the window and keep running.

use std::sync::Mutex;

use tauri::AppHandle;
#[cfg(target_os = "linux")]
use {
    crate::{scheduler, AppState, TRAY_FLAG},
    std::{ffi::OsString, process::Command, time::Duration},
    tauri::Manager,
};

/// Set on the new image when "Pause all" was on, so a relaunch the user
/// never asked for does not resume their schedule.
const PAUSED_ENV: &str = "SENDROW_RELAUNCH_PAUSED";

/// Time for replies still due on the D-Bus connection to leave before `exec`.
#[cfg(target_os = "linux")]
const REPLY_GRACE: Duration = Duration::from_millis(500);

/// Where the app is in its life; guards the window, Quit and a relaunch
/// against each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Running,
    /// Stopping to start over; `reopen` when the window was asked for meanwhile.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    Relaunching {
        reopen: bool,
    },
    Quitting,
}

/// The app's phase, kept in its state.
pub struct Lifecycle(Mutex<Phase>);

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle(Mutex::new(Phase::Running))
    }
}

impl Lifecycle {
    fn update<T>(&self, change: impl FnOnce(&mut Phase) -> T) -> T {
        let mut phase = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut phase)
    }

    /// Quit wins over everything; a relaunch under way sees it and exits.
    pub fn quit(&self) {
        self.update(|phase| *phase = Phase::Quitting);
    }

    /// Whether the window may open now; during a relaunch the request is
    /// remembered and the new image opens it instead.
    pub fn may_open_window(&self) -> bool {
        self.update(|phase| match phase {
            Phase::Running => true,
            Phase::Relaunching { reopen } => {
                *reopen = true;
                false
            }
            Phase::Quitting => false,
        })
    }
}

/// Whether a start should pause the schedule (it follows a relaunch that
/// happened while everything was paused).
pub fn started_paused() -> bool {
    std::env::var_os(PAUSED_ENV).is_some()
}

/// Elsewhere the closed window is gone with its webview; nothing to do.
#[cfg(not(target_os = "linux"))]
pub fn on_last_window_closed(_app: &AppHandle) {}

/// The last window closed: start over in the tray, unless the app is
/// quitting, already relaunching, or driven by WebDriver.
#[cfg(target_os = "linux")]
pub fn on_last_window_closed(app: &AppHandle) {
    if std::env::var("TAURI_WEBVIEW_AUTOMATION").as_deref() == Ok("true") {
        return;
    }
    let Some(state) = app.try_state::<AppState>() else { return };
    let begun = state.lifecycle.update(|phase| match phase {
        Phase::Running => {
            *phase = Phase::Relaunching { reopen: false };
            true
        }
        _ => false,
    });
    if begun {
        tauri::async_runtime::spawn(relaunch(app.clone()));
    }
}

#[cfg(target_os = "linux")]
async fn relaunch(app: AppHandle) {
    let exe = match std::env::current_exe() {
        Ok(exe) if exe.is_file() => exe,
        // Replaced by an upgrade, say: keep running as we are.
        other => {
            eprintln!("warning: staying as is after the window closed: the program file is gone ({other:?})");
            app.state::<AppState>().lifecycle.update(|phase| *phase = Phase::Running);
            return;
        }
    };
    let paused = crate::tray::all_paused(&app);
    if let Some(scheduler) = scheduler::of(&app) {
        scheduler.stop().await;
    }
    let state = app.state::<AppState>();
    if let Ok(core) = &state.core {
        // A run or test send the window started may still be mid-send.
        while core.is_sending() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // A second launch that asked us to close (D-Bus, single instance) is
    // still owed its reply; `exec` would cut the connection before it went.
    tokio::time::sleep(REPLY_GRACE).await;
    let reopen = match state.lifecycle.update(|phase| *phase) {
        Phase::Quitting => return app.exit(0),
        Phase::Relaunching { reopen } => reopen,
        Phase::Running => false,
    };
    let mut command = Command::new(exe);
    command.args(relaunch_args(std::env::args_os().skip(1), reopen)).env_remove(PAUSED_ENV);
    if paused {
        command.env(PAUSED_ENV, "1");
    }
    // Becomes `command`; only returns if that could not start.
    let error = std::os::unix::process::CommandExt::exec(&mut command);
    eprintln!("error: Sendrow could not start over in the tray: {error}");
    app.exit(1);
}

/// Reaps the children a replaced image left behind (its WebKit processes,
/// which exit once their sockets close on `exec`), so they do not linger as
/// zombies. At a fresh start there are none. Call before anything is spawned.
pub fn reap_leftovers() {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::wait::waitpid;
        use nix::unistd::Pid;
        let leftovers = children_of(std::process::id());
        if leftovers.is_empty() {
            return;
        }
        std::thread::spawn(move || {
            for pid in leftovers {
                let _ = waitpid(Pid::from_raw(pid), None);
            }
        });
    }
}

/// The IDs of `parent`'s child processes, from /proc.
#[cfg(target_os = "linux")]
fn children_of(parent: u32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // "PID (NAME) STATE PPID …"; NAME may hold spaces and parentheses.
            let ppid: u32 = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == parent).then_some(pid)
        })
        .collect()
}

/// This start's arguments with `--tray` added, or removed when the window
/// should open.
#[cfg(target_os = "linux")]
fn relaunch_args(args: impl Iterator<Item = OsString>, with_window: bool) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.filter(|a| a != TRAY_FLAG).collect();
    if !with_window {
        args.push(TRAY_FLAG.into());
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn relaunch_keeps_the_data_folder_and_toggles_only_the_tray_flag() {
        let started = args(&["--data-dir", "/shop"]);
        assert_eq!(relaunch_args(started.clone().into_iter(), false), args(&["--data-dir", "/shop", "--tray"]));
        assert_eq!(relaunch_args(started.into_iter(), true), args(&["--data-dir", "/shop"]));
        let from_tray = args(&["--tray", "--data-dir", "/shop"]);
        assert_eq!(relaunch_args(from_tray.clone().into_iter(), false), args(&["--data-dir", "/shop", "--tray"]));
        assert_eq!(relaunch_args(from_tray.into_iter(), true), args(&["--data-dir", "/shop"]));
    }

    #[test]
    fn a_window_asked_for_during_a_relaunch_opens_after_it_and_quit_wins() {
        let life = Lifecycle::default();
        assert!(life.may_open_window(), "a running app opens its window");
        life.update(|phase| *phase = Phase::Relaunching { reopen: false });
        assert!(!life.may_open_window(), "no window while the process is about to be replaced");
        assert_eq!(life.update(|phase| *phase), Phase::Relaunching { reopen: true }, "the new image will open it");
        life.quit();
        assert!(!life.may_open_window(), "nothing opens while quitting");
        assert_eq!(life.update(|phase| *phase), Phase::Quitting);
    }
}
