// The accounts screen. View state only: every rule is checked by the backend.
"use strict";

const $ = (id) => document.getElementById(id);

function regionLabel(account) {
  return account.region ? t(`region.${account.region}`) : account.base_url;
}

function statusCell(account) {
  const cell = document.createElement("td");
  const badge = document.createElement("span");
  badge.className = `badge ${account.status}`;
  badge.textContent = t(`status.${account.status}`);
  cell.append(badge);
  if (account.status === "inactive") {
    const why = document.createElement("div");
    why.className = "reason";
    const code = account.status_code ? ` (${account.status_code})` : "";
    why.textContent = `${t("status.checkAccess")} ${account.status_reason || ""}${code}`;
    cell.append(why);
  }
  return cell;
}

function actionButton(label, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.addEventListener("click", onClick);
  return button;
}

async function renderAccounts() {
  const result = await call("list_accounts");
  if (!result.ok) return showFatal(result);
  const body = $("accounts-body");
  body.replaceChildren();
  for (const account of result.value) {
    const row = document.createElement("tr");
    row.dataset.account = account.name;
    for (const text of [account.name, account.subaccount_id, regionLabel(account)]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    row.append(statusCell(account));
    const actions = document.createElement("td");
    actions.className = "row-actions";
    actions.append(
      actionButton(t("accounts.verify"), () => verify(account.name, row)),
      actionButton(t("accounts.remove"), () => remove(account.name)),
    );
    row.append(actions);
    body.append(row);
  }
  $("accounts").hidden = result.value.length === 0;
  $("accounts-empty").hidden = result.value.length !== 0;
}

async function verify(name, row) {
  row.classList.add("busy");
  const result = await call("verify_account", { name });
  row.classList.remove("busy");
  if (!result.ok) alertError(result);
  await renderAccounts();
}

async function remove(name) {
  if (!window.confirm(t("accounts.confirmRemove", { name }))) return;
  const result = await call("remove_account", { name });
  if (!result.ok) alertError(result);
  await renderAccounts();
}

function alertError(err) {
  $("fatal").textContent = errorText(err);
  $("fatal").hidden = false;
}

function showFatal(err) {
  alertError(err);
  $("show-add").disabled = true;
}

function syncBaseUrlField() {
  $("base-url-field").hidden = $("f-region").value !== "custom";
}

function openAddPanel(open) {
  $("add-panel").hidden = !open;
  $("add-error").hidden = true;
  if (open) {
    $("f-name").focus();
  } else {
    // Keep the region: WebKitGTK fires no `change` when the user re-picks the
    // option they picked before a reset, so the address field would stay hidden.
    const region = $("f-region").value;
    $("add-form").reset();
    $("f-region").value = region;
  }
  syncBaseUrlField();
}

async function submitAdd(event) {
  event.preventDefault();
  const region = $("f-region").value;
  const form = {
    name: $("f-name").value.trim(),
    subaccountId: $("f-subaccount").value.trim(),
    region: region === "custom" ? null : region,
    baseUrl: region === "custom" ? $("f-base-url").value.trim() : null,
    apiKey: $("f-key").value.trim(),
  };
  $("add-error").hidden = true;
  $("add-progress").hidden = false;
  $("add-submit").disabled = true;
  const result = await call("add_account", { form });
  $("add-progress").hidden = true;
  $("add-submit").disabled = false;
  $("f-key").value = "";
  if (!result.ok) {
    $("add-error").textContent = errorText(result);
    $("add-error").hidden = false;
    return;
  }
  openAddPanel(false);
  await renderAccounts();
}

async function start() {
  const saved = await call("get_language");
  await setLanguage(saved.ok && saved.value ? saved.value : osLanguage());
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.addEventListener("click", async () => {
      await setLanguage(button.dataset.lang);
      await call("set_language", { language: button.dataset.lang });
      await renderAccounts();
    });
  }
  $("show-add").addEventListener("click", () => openAddPanel(true));
  $("add-cancel").addEventListener("click", () => openAddPanel(false));
  $("add-form").addEventListener("submit", submitAdd);
  $("f-region").addEventListener("change", syncBaseUrlField);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !$("add-panel").hidden) openAddPanel(false);
  });
  const info = await call("app_info");
  if (info.ok) $("about").textContent = `Sendrow ${info.value.version} · ${info.value.data_dir}`;
  await renderAccounts();
}

start();
