//! The desktop shell: a window with the UI in `ui/`, a tray icon, and thin
//! commands over `sendrow_core`. No business rules live here: no SQL, no HTTP,
//! no retry logic. Everything a command does is one call into the core.

mod commands;
mod ipc_error;
mod tray;

use std::path::PathBuf;
use std::process::ExitCode;

use sendrow_core::sandbox::SANDBOX_ACCOUNT;
use sendrow_core::sim::{SimConfig, Simulator};
use sendrow_core::Core;
use tauri::Manager;

/// What the commands share: the opened data folder, or why it could not be
/// opened (shown in the window instead of crashing); and the built-in 8x8
/// simulator once the sandbox is in use.
pub struct AppState {
    core: Result<Core, ipc_error::IpcError>,
    sandbox: tokio::sync::Mutex<Option<Simulator>>,
}

/// The running simulator's address, starting it on a free loopback port the
/// first time it is needed in this process.
pub(crate) async fn sandbox_url(
    sandbox: &tokio::sync::Mutex<Option<Simulator>>,
) -> Result<String, ipc_error::IpcError> {
    let mut sim = sandbox.lock().await;
    if sim.is_none() {
        let started = Simulator::start(SimConfig::default(), 0).await.map_err(|e| ipc_error::IpcError {
            code: "sandbox",
            message: format!("the built-in 8x8 simulator could not start: {e}"),
        })?;
        *sim = Some(started);
    }
    Ok(sim.as_ref().map(Simulator::base_url).unwrap_or_default())
}

/// On every start with a sandbox account: start the simulator again (it gets
/// a new port each time) and point the account at it.
fn restart_sandbox(app: &tauri::AppHandle) {
    let state = app.state::<AppState>();
    let Ok(core) = &state.core else { return };
    if core.account(SANDBOX_ACCOUNT).is_err() {
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

/// Starts the desktop app on the given data folder (or the OS default).
pub fn run(data_dir: Option<PathBuf>) -> ExitCode {
    let core = sendrow_core::data_dir::resolve(data_dir)
        .and_then(|dir| Core::open_with_keychain(&dir))
        .map_err(|e| ipc_error::IpcError::from(&e));
    let app = tauri::Builder::default()
        .manage(AppState { core, sandbox: tokio::sync::Mutex::new(None) })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
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
            commands::test_send,
            commands::history,
            commands::resolve,
            commands::skip_held,
            commands::check_deliveries,
            commands::list_optouts,
            commands::add_optout,
            commands::remove_optout,
            commands::import_optouts,
            commands::export_optouts,
            commands::save_csv,
            commands::first_runs,
        ])
        .setup(|app| {
            restart_sandbox(app.handle());
            tray::install(app.handle())?;
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window keeps Sendrow running in the tray.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                if window.label() == "main" {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .build(tauri::generate_context!());
    match app {
        Ok(app) => {
            app.run(|_, _| {});
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: the window could not start: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Shows and focuses the main window.
pub(crate) fn show_main_window(app: &tauri::AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}
