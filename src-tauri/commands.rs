//! Tauri commands: each extracts the state, calls one core function and maps
//! the error. API keys come in through `add_account` and never go back out.
//!
//! File paths typed in the window may be relative: they are taken relative to
//! the user's home folder (`base_dir`), the folder a file dialog would open.

use std::path::{Path, PathBuf};

use chrono::{Duration, Local};
use sendrow_core::account::{AccountInput, AccountView, Region, Target};
use sendrow_core::code::Code;
use sendrow_core::compose::template::Variable;
use sendrow_core::compose::Country;
use sendrow_core::connection::{ConnectionSpec, ConnectionView, Saved};
use sendrow_core::draft::{Draft, SourceSample};
use sendrow_core::optout::ImportReport;
use sendrow_core::run::{RunOptions, RunSummary};
use sendrow_core::schedule;
use sendrow_core::secrets::Secret;
use sendrow_core::source::google::PendingLogin;
use sendrow_core::source::SourceSpec;
use sendrow_core::store::{Entry, OptOut, Resolution};
use sendrow_core::test_send::TestSend;
use sendrow_core::Core;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, State};

use crate::ipc_error::IpcError;
use crate::AppState;

fn core<'a>(state: &'a State<'_, AppState>) -> Result<&'a Core, IpcError> {
    state.core.as_deref().map_err(Clone::clone)
}

/// Where relative paths typed in the window start: the home folder.
fn base_dir(app: &AppHandle) -> PathBuf {
    app.path().home_dir().unwrap_or_default()
}

fn invalid(message: impl Into<String>) -> IpcError {
    IpcError { code: Code::InvalidInput, message: message.into() }
}

/// Version and data folder, for the About line; or why the data folder failed.
#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> Result<serde_json::Value, IpcError> {
    let core = core(&state)?;
    Ok(serde_json::json!({"version": env!("CARGO_PKG_VERSION"), "data_dir": core.data_dir()}))
}

/// Opens the data folder's log folder in the file manager and returns its
/// path, which Settings shows too (for a desktop where nothing opens it).
#[tauri::command]
pub fn open_log_folder(state: State<'_, AppState>) -> Result<String, IpcError> {
    let dir = sendrow_core::logging::log_dir(core(&state)?.data_dir());
    let failed = |e: std::io::Error| IpcError {
        code: sendrow_core::code::Code::LogFolder,
        message: format!("{}: {e}", dir.display()),
    };
    std::fs::create_dir_all(&dir).map_err(failed)?;
    open::that_detached(&dir).map_err(failed)?;
    Ok(dir.display().to_string())
}

/// The fixed choices the window offers: update intervals (minutes) and the
/// system variables of a message, both as the core defines them.
#[tauri::command]
pub fn wizard_options() -> serde_json::Value {
    let variables: Vec<&str> = Variable::ALL.iter().map(|v| v.name()).collect();
    serde_json::json!({"intervals": schedule::INTERVALS, "variables": variables})
}

#[tauri::command]
pub fn list_accounts(state: State<'_, AppState>) -> Result<Vec<AccountView>, IpcError> {
    Ok(core(&state)?.accounts()?.iter().map(AccountView::from).collect())
}

/// The add-account form, as the window sends it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAccountForm {
    name: String,
    subaccount_id: String,
    region: Option<String>,
    base_url: Option<String>,
    api_key: String,
}

#[tauri::command]
pub async fn add_account(state: State<'_, AppState>, form: NewAccountForm) -> Result<AccountView, IpcError> {
    let target = match (form.region.as_deref().and_then(Region::parse), form.base_url) {
        (Some(region), _) => Target::Region(region),
        (None, Some(url)) if !url.trim().is_empty() => Target::BaseUrl(url),
        _ => return Err(invalid("choose a region or give a base URL")),
    };
    let input =
        AccountInput { name: form.name, subaccount_id: form.subaccount_id, target, api_key: Secret::new(form.api_key) };
    Ok(AccountView::from(&core(&state)?.add_account(input).await?))
}

#[tauri::command]
pub async fn verify_account(state: State<'_, AppState>, name: String) -> Result<AccountView, IpcError> {
    Ok(AccountView::from(&core(&state)?.verify_account(&name).await?))
}

#[tauri::command]
pub fn remove_account(state: State<'_, AppState>, name: String) -> Result<(), IpcError> {
    Ok(core(&state)?.remove_account(&name)?)
}

#[tauri::command]
pub fn get_language(state: State<'_, AppState>) -> Result<Option<String>, IpcError> {
    Ok(core(&state)?.language()?)
}

/// Also puts the tray's words in the new language.
#[tauri::command]
pub fn set_language(app: AppHandle, state: State<'_, AppState>, language: String) -> Result<(), IpcError> {
    core(&state)?.set_language(&language)?;
    crate::tray::refresh(&app);
    Ok(())
}

/// First start: runs the built-in 8x8 simulator (once per app start) and
/// creates the sandbox account and sample connection over it.
#[tauri::command]
pub async fn start_sandbox(state: State<'_, AppState>) -> Result<(), IpcError> {
    let core = core(&state)?;
    let url = crate::sandbox_url(&state.sandbox).await?;
    Ok(core.create_sandbox(&url).await?)
}

#[tauri::command]
pub fn list_connections(state: State<'_, AppState>) -> Result<Vec<ConnectionView>, IpcError> {
    Ok(core(&state)?.connections()?)
}

/// The wizard's first step: the columns, a few rows and how many there are,
/// workbook numbers and dates shown as in `country` (Ukraine when absent).
#[tauri::command]
pub async fn inspect_source(
    app: AppHandle,
    state: State<'_, AppState>,
    source: SourceSpec,
    country: Option<String>,
) -> Result<SourceSample, IpcError> {
    let country = country.unwrap_or_else(|| "UA".into());
    Ok(core(&state)?.inspect_source(&source.relative_to(&base_dir(&app)), &country, 5).await?)
}

/// Checks a draft as saving would and composes the test row's preview.
#[tauri::command]
pub async fn check_draft(app: AppHandle, state: State<'_, AppState>, spec: ConnectionSpec) -> Result<Draft, IpcError> {
    Ok(core(&state)?.check_draft(&spec, &base_dir(&app)).await?)
}

#[tauri::command]
pub async fn add_connection(
    app: AppHandle,
    state: State<'_, AppState>,
    spec: ConnectionSpec,
) -> Result<Saved, IpcError> {
    let saved = core(&state)?.add_connection(spec, &base_dir(&app)).await?;
    state.reload();
    Ok(saved)
}

#[tauri::command]
pub async fn update_connection(
    app: AppHandle,
    state: State<'_, AppState>,
    spec: ConnectionSpec,
) -> Result<ConnectionView, IpcError> {
    let view = core(&state)?.update_connection(spec, &base_dir(&app)).await?;
    state.reload();
    Ok(view)
}

/// Editing renames: the history stays, followers ("only after") follow.
#[tauri::command]
pub fn rename_connection(state: State<'_, AppState>, old: String, new: String) -> Result<(), IpcError> {
    core(&state)?.rename_connection(&old, &new)?;
    state.reload();
    Ok(())
}

/// The connection row's toggle.
#[tauri::command]
pub fn set_auto_update(state: State<'_, AppState>, name: String, on: bool) -> Result<ConnectionView, IpcError> {
    let view = core(&state)?.set_auto_update(&name, on)?;
    state.reload();
    Ok(view)
}

/// `force` once the window asked about unknown or failed messages
/// (the removal forgets them).
#[tauri::command]
pub fn remove_connection(state: State<'_, AppState>, name: String, force: bool) -> Result<(), IpcError> {
    core(&state)?.remove_connection(&name, force)?;
    state.reload();
    Ok(())
}

/// The arrow: a run now. `release_held` sends what the flood guard holds.
#[tauri::command]
pub async fn run_connection(
    state: State<'_, AppState>,
    name: String,
    release_held: bool,
) -> Result<RunSummary, IpcError> {
    let options = RunOptions { release_held, ..RunOptions::default() };
    let summary = core(&state)?.run(&name, &options).await;
    // Its last run (and a pause it caused) changes when it next runs by itself.
    state.reload();
    Ok(summary?)
}

/// The sheet shrank on purpose: drop the warning and go on.
#[tauri::command]
pub fn dismiss_warning(state: State<'_, AppState>, name: String) -> Result<(), IpcError> {
    Ok(core(&state)?.dismiss_warning(&name)?)
}

/// The note about rows skipped for their ID has been read.
#[tauri::command]
pub fn dismiss_note(state: State<'_, AppState>, name: String) -> Result<(), IpcError> {
    Ok(core(&state)?.dismiss_note(&name)?)
}

/// Start over from new rows; returns how many rows now count as seen.
#[tauri::command]
pub async fn start_over(state: State<'_, AppState>, name: String) -> Result<usize, IpcError> {
    let rows = core(&state)?.start_over(&name).await?;
    // A lifted pause changes when it next runs by itself.
    state.reload();
    Ok(rows)
}

/// The history's "Resend failed": the failed messages again, nothing else.
#[tauri::command]
pub async fn resend_failed(state: State<'_, AppState>, name: String) -> Result<RunSummary, IpcError> {
    Ok(core(&state)?.resend_failed(&name, &RunOptions::default()).await?)
}

/// "Send test data to 8x8": data row `row` (1-based; the first when absent),
/// to its phone or to `to`.
#[tauri::command]
pub async fn test_send(
    state: State<'_, AppState>,
    name: String,
    row: Option<usize>,
    to: Option<String>,
) -> Result<TestSend, IpcError> {
    let to = to.filter(|t| !t.trim().is_empty());
    Ok(core(&state)?.test_send(&name, row, to.as_deref()).await?)
}

/// The card's Preview, as the CLI's `preview`: every row the next run would
/// send, and each row that will not go with its status and reason; nothing
/// is sent or recorded.
#[derive(Debug, Serialize)]
pub struct PreviewView {
    items: Vec<sendrow_core::run::PreviewItem>,
    note: Option<String>,
}

#[tauri::command]
pub async fn preview_connection(state: State<'_, AppState>, name: String) -> Result<PreviewView, IpcError> {
    let (items, note) = core(&state)?.preview(&name, None).await?;
    Ok(PreviewView { items, note })
}

#[tauri::command]
pub fn history(state: State<'_, AppState>, name: String) -> Result<Vec<Entry>, IpcError> {
    Ok(core(&state)?.history(&name)?)
}

/// The history as CSV, the same text as `sendrow history NAME --csv`.
#[tauri::command]
pub fn history_csv(state: State<'_, AppState>, name: String) -> Result<String, IpcError> {
    Ok(core(&state)?.history_csv(&name)?)
}

/// A person's decision on an `unknown` (or `failed`) message: `resend` or `mark_sent`.
#[tauri::command]
pub fn resolve(state: State<'_, AppState>, name: String, row_key: String, resolution: String) -> Result<(), IpcError> {
    let resolution = match resolution.as_str() {
        "resend" => Resolution::Resend,
        "mark_sent" => Resolution::MarkSent,
        other => return Err(invalid(format!("resolution {other:?}: use \"resend\" or \"mark_sent\""))),
    };
    Ok(core(&state)?.resolve(&name, &row_key, resolution)?)
}

/// The flood banner's "skip all".
#[tauri::command]
pub fn skip_held(state: State<'_, AppState>, name: String) -> Result<usize, IpcError> {
    Ok(core(&state)?.skip_held(&name)?)
}

/// The card's "Check with 8x8": settles the connection's `unknown` messages
/// with 8x8 now (the scheduler also does it by itself every few minutes).
#[tauri::command]
pub async fn reconcile(
    state: State<'_, AppState>,
    name: Option<String>,
) -> Result<sendrow_core::reconcile::Report, IpcError> {
    let settings = sendrow_core::reconcile::Settings::default();
    Ok(core(&state)?.reconcile(name.as_deref(), &settings, chrono::Utc::now()).await?)
}

/// Asks 8x8 about queued messages now; returns how many got a new state.
#[tauri::command]
pub async fn check_deliveries(state: State<'_, AppState>) -> Result<usize, IpcError> {
    let settings = sendrow_core::delivery::PollSettings::default();
    Ok(core(&state)?.check_deliveries(chrono::Utc::now(), &settings).await?.checked)
}

fn country(code: Option<String>) -> Result<Country, IpcError> {
    let code = code.unwrap_or_else(|| "UA".into());
    Country::parse(&code).map_err(|e| invalid(format!("country {code:?}: {e}")))
}

#[tauri::command]
pub fn list_optouts(state: State<'_, AppState>) -> Result<Vec<OptOut>, IpcError> {
    Ok(core(&state)?.optouts()?)
}

/// Adds a number in any common format; returns it in E.164.
#[tauri::command]
pub fn add_optout(
    state: State<'_, AppState>,
    number: String,
    note: Option<String>,
    country_code: Option<String>,
) -> Result<String, IpcError> {
    let note = note.filter(|n| !n.trim().is_empty());
    Ok(core(&state)?.add_optout(&number, country(country_code)?, note.as_deref())?.as_str().to_owned())
}

#[tauri::command]
pub fn remove_optout(state: State<'_, AppState>, number: String) -> Result<bool, IpcError> {
    Ok(core(&state)?.remove_optout(&number, country(None)?)?)
}

#[tauri::command]
pub fn import_optouts(
    app: AppHandle,
    state: State<'_, AppState>,
    path: String,
    country_code: Option<String>,
) -> Result<ImportReport, IpcError> {
    let path = base_dir(&app).join(path.trim());
    Ok(core(&state)?.import_optouts(&path, country(country_code)?)?)
}

/// The opt-out list as CSV text, shown in the window to copy or save.
#[tauri::command]
pub fn export_optouts(state: State<'_, AppState>) -> Result<String, IpcError> {
    Ok(core(&state)?.export_optouts()?)
}

/// Writes an export the window shows (history, opt-outs) to a `.csv` path
/// the user typed; an existing file is not overwritten.
#[tauri::command]
pub fn save_csv(app: AppHandle, path: String, contents: String) -> Result<String, IpcError> {
    let path = base_dir(&app).join(path.trim());
    if path.extension().and_then(|e| e.to_str()).map(str::to_lowercase).as_deref() != Some("csv") {
        return Err(invalid(format!("{}: the file name must end in .csv", path.display())));
    }
    write_new(&path, &contents).map_err(|e| invalid(format!("cannot write {}: {e}", path.display())))?;
    Ok(path.display().to_string())
}

fn write_new(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::OpenOptions::new().write(true).create_new(true).open(path)?.write_all(contents.as_bytes())
}

/// When each daily time chosen now first runs, by the 5-minute rule.
#[derive(Debug, Serialize)]
pub struct FirstRun {
    time: String,
    /// RFC 3339, local time.
    first_run: String,
    /// The time is 5 minutes away or less, so the first run is a day later.
    too_soon: bool,
}

#[tauri::command]
pub fn first_runs(times: Vec<String>) -> Result<Vec<FirstRun>, IpcError> {
    let now = Local::now();
    times
        .into_iter()
        .map(|time| {
            let parsed = schedule::parse_time(&time).map_err(invalid)?;
            let first = schedule::first_run(parsed, &now);
            // Pushed by the rule iff the first run is more than a day away.
            let too_soon = first - now > Duration::hours(24);
            Ok(FirstRun { time, first_run: first.to_rfc3339(), too_soon })
        })
        .collect()
}

/// Whether the schedule runs in this window; the error says why not (e.g.
/// `sendrow daemon` runs it on the same data folder).
#[tauri::command]
pub fn scheduler_status(state: State<'_, AppState>) -> Result<(), IpcError> {
    core(&state)?;
    match state.scheduler.get() {
        Some(Err(e)) => Err(e.clone()),
        _ => Ok(()),
    }
}

fn autostart_error(e: tauri_plugin_autostart::Error) -> IpcError {
    IpcError { code: Code::Autostart, message: e.to_string() }
}

/// Whether Sendrow starts (in the tray) when the user logs in.
#[tauri::command]
pub fn get_autostart(app: AppHandle) -> Result<bool, IpcError> {
    use tauri_plugin_autostart::ManagerExt;
    app.autolaunch().is_enabled().map_err(autostart_error)
}

#[tauri::command]
pub fn set_autostart(app: AppHandle, on: bool) -> Result<bool, IpcError> {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    if on { launcher.enable() } else { launcher.disable() }.map_err(autostart_error)?;
    launcher.is_enabled().map_err(autostart_error)
}

/// The page finished its first render. With `SENDROW_REPORT_READY` set (the
/// benchmark) it says so on stderr, which times a cold start to a usable window.
#[tauri::command]
pub fn page_ready() {
    if std::env::var_os("SENDROW_REPORT_READY").is_some() {
        eprintln!("sendrow: window ready");
    }
}

/// What the wizard needs to know to offer Google sign-in.
#[derive(Debug, Serialize)]
pub struct GoogleSetup {
    /// An OAuth client ID and secret are set up (sign-in needs them).
    oauth_client: bool,
}

#[tauri::command]
pub fn google_setup(state: State<'_, AppState>) -> Result<GoogleSetup, IpcError> {
    Ok(GoogleSetup { oauth_client: core(&state)?.google_access().oauth_client.is_some() })
}

/// Keeps the user's OAuth client: the ID in the settings, the secret in the keychain.
#[tauri::command]
pub fn set_google_client(state: State<'_, AppState>, client_id: String, client_secret: String) -> Result<(), IpcError> {
    Ok(core(&state)?.set_google_oauth_client(&client_id, Secret::new(client_secret))?)
}

/// The window's Google sign-in: started and waiting for `google_sign_in_wait`,
/// or being waited for (and cancelled when the user starts another).
#[derive(Default)]
pub struct SignIn {
    started: Option<(String, PendingLogin)>,
    cancel: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Starts signing in as `account` (a name for this sign-in): opens Google's
/// page in the browser and returns its address, for the window to show in
/// case no browser opened. `google_sign_in_wait` finishes it. Starting again
/// (the user closed the browser tab, say) cancels the sign-in before.
#[tauri::command]
pub async fn google_sign_in(state: State<'_, AppState>, account: String) -> Result<String, IpcError> {
    let (url, pending) = core(&state)?.start_google_sign_in().await?;
    let mut slot = state.google_sign_in.lock().await;
    if let Some(cancel) = slot.cancel.take() {
        let _ = cancel.send(());
    }
    slot.started = Some((account, pending));
    drop(slot);
    // The error may quote the address, whose `state` is not for logs.
    if open::that_detached(&url).is_err() {
        eprintln!("warning: no browser opened for the Google sign-in; the window shows its address instead");
    }
    Ok(url)
}

/// How long the window waits for the browser to come back from Google.
const SIGN_IN_PATIENCE: std::time::Duration = std::time::Duration::from_secs(600);

/// Waits for the browser to come back from Google; the refresh token goes to the keychain.
#[tauri::command]
pub async fn google_sign_in_wait(state: State<'_, AppState>) -> Result<(), IpcError> {
    let (cancel, cancelled) = tokio::sync::oneshot::channel();
    let (account, pending) = {
        let mut slot = state.google_sign_in.lock().await;
        let started = slot.started.take().ok_or_else(|| invalid("start the Google sign-in first"))?;
        slot.cancel = Some(cancel);
        started
    };
    tokio::select! {
        finished = tokio::time::timeout(SIGN_IN_PATIENCE, core(&state)?.finish_google_sign_in(pending, &account)) => {
            match finished {
                Ok(finished) => Ok(finished?),
                Err(_) => Err(IpcError {
                    code: Code::GoogleSignInTimeout,
                    message: "Google did not answer within 10 minutes; press “Sign in with Google” again".into(),
                }),
            }
        }
        _ = cancelled => Err(IpcError {
            code: Code::GoogleSignInCancelled,
            message: "a newer sign-in replaced this one".into(),
        }),
    }
}

/// Keeps a pasted service-account JSON key or API key in the keychain under
/// `entry`; returns the service account's e-mail, to share the sheet with.
#[tauri::command]
pub fn store_google_key(state: State<'_, AppState>, entry: String, key: String) -> Result<Option<String>, IpcError> {
    Ok(core(&state)?.store_google_key(&entry, Secret::new(key))?)
}

/// Settings' "forget": removes a Google sign-in or a stored Google key from
/// the keychain. Only Google entries: an 8x8 key goes with its account.
#[tauri::command]
pub fn forget_google(state: State<'_, AppState>, entry: String) -> Result<(), IpcError> {
    Ok(core(&state)?.forget_google(&entry)?)
}

/// The native file dialog for the wizard's source, opening in the home
/// folder and showing `filter_name` files of `kind` (`csv` or `xlsx`).
/// Returns the chosen path, or nothing when the user cancelled.
#[tauri::command]
pub async fn pick_file(
    app: AppHandle,
    kind: String,
    title: String,
    filter_name: String,
) -> Result<Option<String>, IpcError> {
    let extensions: &'static [&'static str] = match kind.as_str() {
        "xlsx" => &["xlsx", "xlsm", "xls", "ods"],
        _ => &["csv", "tsv", "txt"],
    };
    let (chosen, picked) = tokio::sync::oneshot::channel();
    let request = crate::file_dialog::Request { title, filter_name, extensions, folder: base_dir(&app) };
    crate::file_dialog::open(&app, request, chosen)
        .map_err(|e| IpcError { code: Code::FileDialog, message: format!("the file dialog could not open: {e}") })?;
    Ok(picked.await.ok().flatten().map(|path| path.display().to_string()))
}
