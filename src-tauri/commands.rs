//! Tauri commands: each extracts the state, calls one core function and maps
//! the error. API keys come in through `add_account` and never go back out.

use sendrow_core::account::{AccountInput, AccountView, Region, Target};
use sendrow_core::secrets::Secret;
use sendrow_core::Core;
use serde::Deserialize;
use tauri::State;

use crate::ipc_error::IpcError;
use crate::AppState;

fn core<'a>(state: &'a State<'_, AppState>) -> Result<&'a Core, IpcError> {
    state.core.as_ref().map_err(Clone::clone)
}

/// Version and data folder, for the About line; or why the data folder failed.
#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> Result<serde_json::Value, IpcError> {
    let core = core(&state)?;
    Ok(serde_json::json!({"version": env!("CARGO_PKG_VERSION"), "data_dir": core.data_dir()}))
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
        _ => return Err(IpcError { code: "invalid_input", message: "choose a region or give a base URL".into() }),
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

#[tauri::command]
pub fn set_language(state: State<'_, AppState>, language: String) -> Result<(), IpcError> {
    Ok(core(&state)?.set_language(&language)?)
}
