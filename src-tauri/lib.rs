//! The desktop shell: a window with the UI in `ui/`, a tray icon, and thin
//! commands over `sendrow_core`. No business rules live here: no SQL, no HTTP,
//! no retry logic. Everything a command does is one call into the core.

mod commands;
mod ipc_error;
mod tray;

use std::path::PathBuf;
use std::process::ExitCode;

use sendrow_core::Core;
use tauri::Manager;

/// What the commands share: the opened data folder, or why it could not be
/// opened (shown in the window instead of crashing).
pub struct AppState {
    core: Result<Core, ipc_error::IpcError>,
}

/// Starts the desktop app on the given data folder (or the OS default).
pub fn run(data_dir: Option<PathBuf>) -> ExitCode {
    let core = sendrow_core::data_dir::resolve(data_dir)
        .and_then(|dir| Core::open_with_keychain(&dir))
        .map_err(|e| ipc_error::IpcError::from(&e));
    let app = tauri::Builder::default()
        .manage(AppState { core })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::list_accounts,
            commands::add_account,
            commands::verify_account,
            commands::remove_account,
            commands::get_language,
            commands::set_language,
        ])
        .setup(|app| {
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
