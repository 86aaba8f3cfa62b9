//! The tray icon and its menu: a status line (the last run and any problem),
//! Open, Pause all / Resume all, Run all now, Quit. The menu items hand their
//! work to the scheduler; the words follow the UI language.
//!
//! The status is also the tooltip; Linux tray hosts (AppIndicator) show no
//! tooltips, hence the status line at the top of the menu.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Local};
use sendrow_core::connection::ConnectionView;
use sendrow_core::scheduler::Command;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager};

use crate::words::Lang;
use crate::AppState;

/// The menu items whose words or state change while the app runs.
pub struct Tray {
    status: MenuItem<tauri::Wry>,
    open: MenuItem<tauri::Wry>,
    pause: MenuItem<tauri::Wry>,
    run_all: MenuItem<tauri::Wry>,
    quit: MenuItem<tauri::Wry>,
    /// Whether the scheduler said `Paused` last (it does not persist a pause).
    all_paused: AtomicBool,
}

/// Puts Sendrow's icon in the tray.
pub fn install(app: &AppHandle) -> tauri::Result<()> {
    let status = MenuItem::with_id(app, "status", "Sendrow", false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open Sendrow", true, None::<&str>)?;
    let pause = MenuItem::with_id(app, "pause", "Pause all", true, None::<&str>)?;
    let run_all = MenuItem::with_id(app, "run_all", "Run all now", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &status,
            &PredefinedMenuItem::separator(app)?,
            &open,
            &pause,
            &run_all,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    let icon =
        app.default_window_icon().cloned().ok_or_else(|| tauri::Error::AssetNotFound("icons/icon.png".into()))?;
    TrayIconBuilder::with_id("main")
        .icon(icon)
        .tooltip("Sendrow")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => crate::show_main_window(app),
            "pause" => {
                let paused = app.state::<Tray>().all_paused.load(Ordering::SeqCst);
                send(app, if paused { Command::ResumeAll } else { Command::PauseAll });
            }
            "run_all" => send(app, Command::RunAllNow),
            "quit" => crate::quit(app),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click { button: MouseButton::Left, button_state: MouseButtonState::Up, .. } = event {
                crate::show_main_window(tray.app_handle());
            }
        })
        .build(app)?;
    app.manage(Tray { status, open, pause, run_all, quit, all_paused: AtomicBool::new(false) });
    refresh(app);
    Ok(())
}

fn send(app: &AppHandle, command: Command) {
    if let Some(scheduler) = crate::scheduler::of(app) {
        scheduler.send(command);
    }
}

/// Follows the scheduler's `Paused` / `Resumed`.
pub fn set_all_paused(app: &AppHandle, paused: bool) {
    if let Some(tray) = app.try_state::<Tray>() {
        tray.all_paused.store(paused, Ordering::SeqCst);
    }
    refresh(app);
}

/// Whether "Pause all" is on.
pub fn all_paused(app: &AppHandle) -> bool {
    app.try_state::<Tray>().is_some_and(|tray| tray.all_paused.load(Ordering::SeqCst))
}

/// Sets the menu's words and the status from the store: after a run, a
/// pause, or a change of language.
pub fn refresh(app: &AppHandle) {
    let (Some(tray), Some(state)) = (app.try_state::<Tray>(), app.try_state::<AppState>()) else { return };
    let core = state.core.as_ref().ok();
    let lang = core.map(|c| crate::scheduler::lang(c)).unwrap_or(Lang::En);
    let running = crate::scheduler::of(app).is_some();
    let all_paused = tray.all_paused.load(Ordering::SeqCst);
    let views = core.and_then(|c| c.connections().ok()).unwrap_or_default();

    let mut lines = status_lines(lang, &views);
    if !running && core.is_some() {
        lines.push(lang.elsewhere().to_owned());
    } else if all_paused {
        lines.push(lang.all_paused().to_owned());
    }
    let _ = tray.status.set_text(lines.join(" · "));
    let _ = tray.open.set_text(lang.open());
    let _ = tray.pause.set_text(if all_paused { lang.resume_all() } else { lang.pause_all() });
    let _ = tray.pause.set_enabled(running);
    let _ = tray.run_all.set_text(lang.run_all());
    let _ = tray.run_all.set_enabled(running);
    let _ = tray.quit.set_text(lang.quit());
    if let Some(icon) = app.tray_by_id("main") {
        let tooltip = if lines.is_empty() { "Sendrow".to_owned() } else { format!("Sendrow\n{}", lines.join("\n")) };
        let _ = icon.set_tooltip(Some(tooltip));
    }
}

/// The last run of any connection ("Orders: sent 3 at 14:05"), then the
/// problems: connections paused, connections whose last run failed.
fn status_lines(lang: Lang, views: &[ConnectionView]) -> Vec<String> {
    let mut lines = Vec::new();
    let latest = views
        .iter()
        .filter_map(|v| v.last_run.as_ref().map(|r| (v, r)))
        .filter_map(|(v, r)| DateTime::parse_from_rfc3339(&r.finished_at).ok().map(|at| (v, r, at)))
        .max_by_key(|(_, _, at)| *at);
    match latest {
        Some((v, r, at)) => lines.push(lang.last_run(&v.name, r.sent, &clock(at.with_timezone(&Local)))),
        None => lines.push(lang.idle().to_owned()),
    }
    for v in views {
        if v.status == "paused" {
            lines.push(lang.paused_short(&v.name));
        } else if v.last_run.as_ref().is_some_and(|r| r.error.is_some()) {
            lines.push(lang.run_failed_short(&v.name));
        }
    }
    lines
}

/// "14:05" today, "09.03 14:05" on another day.
fn clock(at: DateTime<Local>) -> String {
    if at.date_naive() == Local::now().date_naive() {
        at.format("%H:%M").to_string()
    } else {
        at.format("%d.%m %H:%M").to_string()
    }
}
