//! The desktop shell: a window with the UI in `ui/`, a tray icon, and thin
//! commands over `sendrow_core`. No business rules live here: no SQL, no HTTP,
//! no retry logic. Everything a command does is one call into the core.

mod commands;
mod file_dialog;
mod ipc_error;
mod relaunch;
mod scheduler;
mod tray;
mod words;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use sendrow_core::sim::{SimConfig, Simulator};
use sendrow_core::Core;
use tauri::{Emitter, Manager, RunEvent, WebviewWindowBuilder};

/// The hidden flag of `sendrow --tray`: start without a window (start at
/// login), or, sent to the running Sendrow, close its window to the tray.
pub const TRAY_FLAG: &str = "--tray";

/// What the commands share: the opened data folder, or why it could not be
/// opened (shown in the window instead of crashing); the scheduler once the
/// setup hook started it, or why it could not; and the built-in 8x8
/// simulator once the sandbox is in use.
pub struct AppState {
    core: Result<Arc<Core>, ipc_error::IpcError>,
    scheduler: OnceLock<Result<scheduler::Scheduler, ipc_error::IpcError>>,
    sandbox: tokio::sync::Mutex<Option<Simulator>>,
    lifecycle: relaunch::Lifecycle,
    /// The Google sign-in the window started last.
    google_sign_in: tokio::sync::Mutex<commands::SignIn>,
}

impl AppState {
    /// Gives the scheduler the connections as they are now, so an edit,
    /// a toggle or a run takes effect at once.
    pub(crate) fn reload(&self) {
        let (Ok(core), Some(Ok(scheduler))) = (&self.core, self.scheduler.get()) else { return };
        match core.jobs() {
            Ok(jobs) => scheduler.send(sendrow_core::scheduler::Command::Reload(jobs)),
            Err(e) => eprintln!("warning: the schedule could not be reloaded: {e}"),
        }
    }
}

/// The running simulator's address, starting it on a free loopback port the
/// first time it is needed in this process.
pub(crate) async fn sandbox_url(
    sandbox: &tokio::sync::Mutex<Option<Simulator>>,
) -> Result<String, ipc_error::IpcError> {
    let mut sim = sandbox.lock().await;
    if sim.is_none() {
        let started = Simulator::start(SimConfig::sandbox(), 0).await.map_err(|e| ipc_error::IpcError {
            code: sendrow_core::code::Code::Sandbox,
            message: format!("the built-in 8x8 simulator could not start: {e}"),
        })?;
        *sim = Some(started);
    }
    Ok(sim.as_ref().map(Simulator::base_url).unwrap_or_default())
}

/// On every start with a sandbox account (the one marked in the store, not
/// one that has its name): start the simulator again (it gets a new port each
/// time) and point that account at it.
fn restart_sandbox(app: &tauri::AppHandle) {
    let state = app.state::<AppState>();
    let Ok(core) = &state.core else { return };
    if !matches!(core.sandbox_account(), Ok(Some(_))) {
        return;
    }
    let moved = tauri::async_runtime::block_on(async {
        let url = sandbox_url(&state.sandbox).await?;
        core.move_sandbox(&url).map_err(ipc_error::IpcError::from)
    });
    if let Err(e) = moved {
        eprintln!("warning: the sandbox is not available: {}", e.message);
    }
}

/// Starts the scheduler on the opened data folder; when it cannot run (a
/// `sendrow daemon` has the folder), the window still works and says so.
fn start_scheduler(app: &tauri::AppHandle) {
    let state = app.state::<AppState>();
    let Ok(core) = &state.core else { return };
    let started = scheduler::start(app, core);
    if let Err(e) = &started {
        eprintln!("warning: the schedule does not run in this window: {}", e.message);
    }
    let _ = state.scheduler.set(started);
    if relaunch::started_paused() {
        // The scheduler answers with `Paused`, which sets the tray's words.
        if let Some(scheduler) = scheduler::of(app) {
            scheduler.send(sendrow_core::scheduler::Command::PauseAll);
        }
    }
}

/// WebKitGTK's DMA-BUF renderer costs its web process about 70 MiB more for
/// this page (216 against 286 MiB PSS for the whole window, measured with
/// `scripts/bench-app` under Xvfb) and is the usual cause of blank Tauri
/// windows on Linux; the older path draws this UI just as well. A choice the
/// user made in the environment stands. Under WebDriver it stays on: there,
/// with the older path, WebKitWebDriver's screenshots can wait forever for a
/// frame (seen under Xvfb), while the page itself renders fine.
/// Called before any thread exists.
fn choose_webkit_renderer() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_DMABUF_RENDERER").is_none()
        && std::env::var("TAURI_WEBVIEW_AUTOMATION").as_deref() != Ok("true")
    {
        std::env::set_var("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
    }
}

/// One argument for the autostart entry: on Linux it becomes part of the
/// entry's `Exec=` line, joined with spaces, so an argument with a space
/// (a data folder under "My Documents") is quoted by the Desktop Entry rules
/// (reserved characters escaped inside quotes, backslashes doubled again for
/// the file's own escaping). `%` starts a field code (`%f`, `%u`…) anywhere
/// on that line, quoted or not, so it is written `%%`.
fn exec_arg(arg: &str) -> String {
    if !cfg!(target_os = "linux") {
        return arg.to_owned();
    }
    let plain = !arg.is_empty() && !arg.contains(|c: char| c.is_whitespace() || "\"'\\$`><~|&;*?#()".contains(c));
    if plain {
        return arg.replace('%', "%%");
    }
    let mut quoted = String::from("\"");
    for c in arg.chars() {
        match c {
            '%' => quoted.push_str("%%"),
            '\\' => quoted.push_str("\\\\\\\\"),
            '"' | '`' | '$' => {
                quoted.push_str("\\\\");
                quoted.push(c);
            }
            _ => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// Starts the desktop app on the given data folder (or the OS default);
/// with `in_tray`, only the tray icon shows until the window is opened.
pub fn run(data_dir: Option<PathBuf>, in_tray: bool) -> ExitCode {
    choose_webkit_renderer();
    relaunch::reap_leftovers();
    // Start at login opens the same data folder, in the tray.
    let mut login_args = vec![TRAY_FLAG.to_owned()];
    if let Some(dir) = &data_dir {
        login_args.extend(["--data-dir".to_owned(), exec_arg(&dir.display().to_string())]);
    }
    let core = sendrow_core::data_dir::resolve(data_dir)
        .and_then(|dir| Core::open_with_keychain(&dir))
        .map(Arc::new)
        .map_err(|e| ipc_error::IpcError::from(&e));
    if let Ok(core) = &core {
        sendrow_core::logging::init(core.data_dir());
    }
    let app = tauri::Builder::default()
        // First: a second launch hands its arguments over here and exits.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            if argv.iter().any(|a| a == TRAY_FLAG) {
                close_main_window(app);
            } else {
                show_main_window(app);
            }
        }))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_autostart::Builder::new().args(login_args).build())
        .manage(AppState {
            core,
            scheduler: OnceLock::new(),
            sandbox: tokio::sync::Mutex::new(None),
            lifecycle: relaunch::Lifecycle::default(),
            google_sign_in: tokio::sync::Mutex::default(),
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::open_log_folder,
            commands::wizard_options,
            commands::list_accounts,
            commands::add_account,
            commands::verify_account,
            commands::remove_account,
            commands::get_language,
            commands::set_language,
            commands::start_sandbox,
            commands::list_connections,
            commands::inspect_source,
            commands::check_draft,
            commands::add_connection,
            commands::update_connection,
            commands::set_auto_update,
            commands::remove_connection,
            commands::run_connection,
            commands::resend_failed,
            commands::dismiss_warning,
            commands::dismiss_note,
            commands::start_over,
            commands::test_send,
            commands::preview_connection,
            commands::history_csv,
            commands::rename_connection,
            commands::forget_google,
            commands::history,
            commands::resolve,
            commands::skip_held,
            commands::reconcile,
            commands::check_deliveries,
            commands::list_optouts,
            commands::add_optout,
            commands::remove_optout,
            commands::import_optouts,
            commands::export_optouts,
            commands::save_csv,
            commands::first_runs,
            commands::scheduler_status,
            commands::get_autostart,
            commands::set_autostart,
            commands::page_ready,
            commands::google_setup,
            commands::set_google_client,
            commands::google_sign_in,
            commands::google_sign_in_wait,
            commands::store_google_key,
            commands::pick_file,
        ])
        // The only setup hook: a second `.setup()` would replace this one.
        .setup(move |app| {
            restart_sandbox(app.handle());
            start_scheduler(app.handle());
            tray::install(app.handle())?;
            if !in_tray {
                open_main_window(app.handle())?;
            }
            Ok(())
        })
        .build(tauri::generate_context!());
    match app {
        Ok(app) => {
            app.run(|app, event| {
                // Closing the window keeps Sendrow in the tray, started over
                // without WebKit (relaunch.rs); only Quit (`app.exit`, which
                // carries a code) ends the app.
                if let RunEvent::ExitRequested { code: None, api, .. } = event {
                    api.prevent_exit();
                    relaunch::on_last_window_closed(app);
                }
            });
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: the window could not start: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Creates the main window as tauri.conf.json describes it (title, size).
fn open_main_window(app: &tauri::AppHandle) -> tauri::Result<tauri::WebviewWindow> {
    let config = app.config().app.windows.iter().find(|w| w.label == "main").cloned().unwrap_or_default();
    WebviewWindowBuilder::from_config(app, &config)?.build()
}

/// Shows and focuses the main window, creating it again if it was closed.
pub(crate) fn show_main_window(app: &tauri::AppHandle) {
    if !app.state::<AppState>().lifecycle.may_open_window() {
        return;
    }
    let window = match app.get_webview_window("main") {
        Some(window) => window,
        None => match open_main_window(app) {
            Ok(window) => window,
            Err(e) => return eprintln!("error: the window could not open: {e}"),
        },
    };
    let _ = window.show();
    let _ = window.unminimize();
    let _ = window.set_focus();
}

/// Closes the main window to the tray (see relaunch.rs for what follows).
fn close_main_window(app: &tauri::AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.destroy();
    }
}

/// How long Quit waits for a run or test send the window started to finish
/// its requests. Past it, what was not sent yet goes back to the next run
/// and only messages whose request was out are left to reconcile.
const QUIT_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// The tray's Quit: a run or test send the window started may finish its
/// requests first (bounded; the window says so meanwhile), then the window
/// goes, the scheduler stops letting runs in flight end (bounded), and the
/// app exits.
pub(crate) fn quit(app: &tauri::AppHandle) {
    app.state::<AppState>().lifecycle.quit();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let core = app.state::<AppState>().core.as_ref().ok().cloned();
        if let Some(core) = core.filter(|c| c.is_sending()) {
            let _ = app.emit("quitting", serde_json::json!({ "waiting_for_sends": true }));
            let deadline = tokio::time::Instant::now() + QUIT_GRACE;
            while core.is_sending() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
        close_main_window(&app);
        if let Some(scheduler) = scheduler::of(&app) {
            scheduler.stop().await;
        }
        app.exit(0);
    });
}

#[cfg(test)]
mod tests {
    use super::exec_arg;

    #[test]
    #[cfg(target_os = "linux")]
    fn autostart_arguments_with_spaces_are_quoted_for_the_exec_line() {
        assert_eq!(exec_arg("/home/olena/.local/share/sendrow"), "/home/olena/.local/share/sendrow");
        assert_eq!(exec_arg("/home/olena/My Shop"), "\"/home/olena/My Shop\"");
        assert_eq!(exec_arg("/srv/$HOME \"x\""), "\"/srv/\\\\$HOME \\\\\"x\\\\\"\"");
        assert_eq!(exec_arg("C:\\a b"), "\"C:\\\\\\\\a b\"");
        // A folder named with a percent sign is not taken for a field code.
        assert_eq!(exec_arg("/data/sale-50%"), "/data/sale-50%%");
        assert_eq!(exec_arg("/home/olena/100% Shop"), "\"/home/olena/100%% Shop\"");
    }
}
