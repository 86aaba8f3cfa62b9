//! The schedule inside the app: `sendrow_core::daemon` started on tauri's
//! tokio runtime, its events passed on to the window (`"scheduler"`), the
//! tray and desktop notifications. What runs when is the core's business;
//! this file only wires it up and tells people.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sendrow_core::daemon;
use sendrow_core::scheduler::{Command, Event, RunOutcome, SHUTDOWN_GRACE};
use sendrow_core::Core;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::ipc_error::IpcError;
use crate::words::Lang;
use crate::AppState;

/// How long Quit waits for the scheduler: its own grace for runs in flight,
/// plus a little for the store to settle.
const STOP_WAIT: Duration = SHUTDOWN_GRACE.saturating_add(Duration::from_secs(5));

/// The running scheduler, as the commands and the tray reach it.
pub struct Scheduler {
    commands: mpsc::Sender<Command>,
    stop: Mutex<Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>>,
}

impl Scheduler {
    /// Hands `command` to the scheduler without waiting (commands may run on
    /// the main thread). The queue only fills if the scheduler is stuck.
    pub fn send(&self, command: Command) {
        if let Err(e) = self.commands.try_send(command) {
            eprintln!("warning: the scheduler did not take a command: {e}");
        }
    }

    /// Stops the scheduler and waits (bounded) until runs in flight ended,
    /// so no message is left half-sent. Later calls return at once.
    pub async fn stop(&self) {
        let taken = self.stop.lock().map(|mut s| s.take()).unwrap_or(None);
        let Some((signal, task)) = taken else { return };
        let _ = signal.send(());
        if tokio::time::timeout(STOP_WAIT, task).await.is_err() {
            eprintln!("warning: the scheduler did not stop within {STOP_WAIT:?}; quitting anyway");
        }
    }
}

/// Starts the scheduler on `core`'s data folder and passes its events on;
/// or says why it cannot run here (usually: `sendrow daemon` runs there).
pub fn start(app: &AppHandle, core: &Arc<Core>) -> Result<Scheduler, IpcError> {
    let (signal, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    // `daemon::start` spawns its tasks with `tokio::spawn`: give it tauri's runtime.
    let started = tauri::async_runtime::block_on(async { daemon::start(core.clone(), shutdown) });
    let (daemon, task) = started.map_err(|e| why_not(core, &e))?;
    tauri::async_runtime::spawn(forward(app.clone(), core.clone(), daemon.events.subscribe()));
    Ok(Scheduler { commands: daemon.commands, stop: Mutex::new(Some((signal, task))) })
}

/// The scheduler lock is what usually stands in the way; probing it tells
/// that apart from a broken store without reading the error's words.
fn why_not(core: &Core, error: &sendrow_core::Error) -> IpcError {
    match sendrow_core::lock::scheduler(core.data_dir()) {
        Err(_) => IpcError { code: sendrow_core::code::Code::SchedulerElsewhere, message: error.to_string() },
        Ok(_probe) => IpcError::from(error),
    }
}

/// The app's scheduler, when it runs.
pub fn of(app: &AppHandle) -> Option<&Scheduler> {
    app.try_state::<AppState>()?.inner().scheduler.get()?.as_ref().ok()
}

/// The UI language for words shown outside the window.
pub fn lang(core: &Core) -> Lang {
    Lang::of(core.language().ok().flatten().as_deref())
}

/// What was last said about each connection, so a connection failing every
/// minute raises one notification, not one a minute.
#[derive(Default)]
struct Told {
    failing: HashMap<String, bool>,
    paused: HashMap<String, bool>,
    /// Connections whose source warning (a sheet that shrank) was shown.
    warned: std::collections::HashSet<String>,
}

async fn forward(app: AppHandle, core: Arc<Core>, mut events: broadcast::Receiver<Event>) {
    let mut told = Told::default();
    // Connections paused before this start were told about already.
    for view in core.connections().unwrap_or_default() {
        told.paused.insert(view.name.clone(), view.status == "paused");
    }
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => break,
        };
        let _ = app.emit("scheduler", &event);
        match &event {
            Event::RunFinished { name, outcome } => {
                notify_after_run(&app, &core, &mut told, name, outcome);
                crate::tray::refresh(&app);
            }
            Event::Paused => crate::tray::set_all_paused(&app, true),
            Event::Resumed => crate::tray::set_all_paused(&app, false),
            Event::ReloadRefused { .. } | Event::WatchFailed { .. } => crate::tray::refresh(&app),
            // The window shows "checking with 8x8" and refreshes its cards.
            Event::RunStarted { .. } | Event::NextRun { .. } | Event::Reconciling | Event::Reconciled { .. } => {}
        }
    }
}

/// Desktop notifications after a run: a failure, a connection that paused
/// itself (an account 8x8 refuses), a flood held, messages of unknown fate.
fn notify_after_run(app: &AppHandle, core: &Core, told: &mut Told, name: &str, outcome: &RunOutcome) {
    let lang = lang(core);
    let view = core.connection_view(name).ok();
    let paused_now = view.as_ref().is_some_and(|v| v.status == "paused");
    let was_paused = told.paused.insert(name.to_owned(), paused_now).unwrap_or(false);
    let failed = matches!(outcome, RunOutcome::Failed { .. });
    let was_failing = told.failing.insert(name.to_owned(), failed).unwrap_or(false);

    if paused_now && !was_paused {
        let reason = match view.as_ref().and_then(|v| v.status_coded.as_ref()) {
            Some(coded) => lang.coded(coded),
            None => view.as_ref().and_then(|v| v.status_reason.clone()).unwrap_or_default(),
        };
        return show(app, lang.paused(name, &reason));
    }
    let last = view.as_ref().and_then(|v| v.last_run.clone());
    if let RunOutcome::Failed { message } = outcome {
        // A file caught half-saved or Google busy sorts itself out by the next run.
        let transient = last.as_ref().is_some_and(|l| l.transient);
        if !was_failing && !transient {
            let code = last.as_ref().and_then(|l| l.error_code);
            show(app, lang.run_failed(name, &lang.run_error(code, message)));
        }
        return;
    }
    let warning = view.and_then(|v| v.warning);
    if warning.is_some() && told.warned.insert(name.to_owned()) {
        // Rows are held back until someone looks: say so once per warning.
        show(app, lang.warning(name));
    } else if warning.is_none() {
        told.warned.remove(name);
    }
    let Some(last) = last else { return };
    if last.held > 0 {
        show(app, lang.held(name, last.held));
    }
    if last.unknown > 0 {
        show(app, lang.unknown(name, last.unknown));
    }
}

fn show(app: &AppHandle, (title, body): (String, String)) {
    // No notification server (a bare session, a test) is not worth more than a line.
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        eprintln!("warning: a desktop notification could not be shown: {e}");
    }
}
