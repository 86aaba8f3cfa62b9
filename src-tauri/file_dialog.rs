//! The system's file dialog for the wizard's source: GTK's own chooser,
//! made on the main thread that runs tauri's GTK loop. (A dialog library that
//! runs GTK on a thread of its own races that loop and can hang the window.)

use std::path::PathBuf;

use tauri::AppHandle;
use tokio::sync::oneshot;

/// What the dialog shows.
pub struct Request {
    pub title: String,
    /// The name of the one file filter, e.g. "CSV file".
    pub filter_name: String,
    pub extensions: &'static [&'static str],
    /// Where it opens.
    pub folder: PathBuf,
}

/// Shows the dialog over the main window; `chosen` gets the picked file,
/// or `None` when the user cancelled.
#[cfg(target_os = "linux")]
pub fn open(app: &AppHandle, request: Request, chosen: oneshot::Sender<Option<PathBuf>>) -> tauri::Result<()> {
    use std::cell::RefCell;

    use gtk::prelude::*;
    use tauri::Manager;

    thread_local! {
        // GTK drops a native dialog nobody holds; this holds the open one.
        static SHOWN: RefCell<Option<gtk::FileChooserNative>> = const { RefCell::new(None) };
    }

    let window = app.get_webview_window("main");
    app.run_on_main_thread(move || {
        let parent = window.and_then(|w| w.gtk_window().ok());
        let dialog = gtk::FileChooserNative::new(
            Some(&request.title),
            parent.as_ref(),
            gtk::FileChooserAction::Open,
            None,
            None,
        );
        let filter = gtk::FileFilter::new();
        filter.set_name(Some(&request.filter_name));
        for extension in request.extensions {
            filter.add_pattern(&format!("*.{extension}"));
            filter.add_pattern(&format!("*.{}", extension.to_uppercase()));
        }
        dialog.add_filter(filter);
        dialog.set_current_folder(&request.folder);
        dialog.set_modal(true);
        let chosen = RefCell::new(Some(chosen));
        dialog.connect_response(move |dialog, response| {
            let path = if response == gtk::ResponseType::Accept { dialog.filename() } else { None };
            if let Some(chosen) = chosen.borrow_mut().take() {
                let _ = chosen.send(path);
            }
            SHOWN.with(|shown| shown.borrow_mut().take());
        });
        dialog.show();
        SHOWN.with(|shown| shown.borrow_mut().replace(dialog));
    })
}

/// Elsewhere the window's path field is the way to give a file. The
/// portable path is tauri-plugin-dialog (rfd), whose Windows and macOS
/// dialogs have no GTK loop to race; only Linux was built and tested.
#[cfg(not(target_os = "linux"))]
pub fn open(_app: &AppHandle, _request: Request, _chosen: oneshot::Sender<Option<PathBuf>>) -> tauri::Result<()> {
    Err(tauri::Error::Io(std::io::Error::new(std::io::ErrorKind::Unsupported, "no file dialog here; type the path")))
}
