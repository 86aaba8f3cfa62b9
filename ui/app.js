// The window's shell: which screen shows, the first start, settings and the
// language. View state only: every rule is checked by the backend.
"use strict";

const VIEWS = ["welcome", "connections", "wizard", "history", "accounts", "optouts", "settings"];
const RENDER = {
  connections: () => Connections.render(),
  history: () => History.render(),
  accounts: () => Accounts.render(),
  optouts: () => OptOuts.render(),
  settings: () => Settings.render(),
};
let currentView = null;

async function showApp(view) {
  currentView = view;
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
  const tab = view === "wizard" || view === "history" ? "connections" : view;
  for (const button of document.querySelectorAll("#tabs button")) {
    if (button.dataset.view === tab) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  $("tabs").hidden = view === "welcome";
  if (RENDER[view]) await RENDER[view]();
}

function alertError(err) {
  $("fatal").textContent = errorText(err);
  $("fatal").hidden = false;
}

function showFatal(err) {
  alertError(err);
  for (const id of ["show-add", "new-connection", "start-sandbox"]) $(id).disabled = true;
}

const Settings = {
  async render() {
    $("s-language").value = I18N.lang;
    const info = await call("app_info");
    if (info.ok) $("s-data").textContent = t("settings.data", { dir: info.value.data_dir, version: info.value.version });
    const accounts = await call("list_accounts");
    const hasSandbox = accounts.ok && accounts.value.some((a) => a.name === "Sandbox");
    $("s-sandbox").hidden = hasSandbox;
    $("s-sandbox-note").textContent = hasSandbox ? t("settings.sandboxThere") : "";
  },
};

async function startSandbox(button, progress, errorBox) {
  const result = await withBusy(button, progress, () => call("start_sandbox"));
  if (!result.ok) return showError(errorBox, result);
  await showApp("connections");
}

async function switchLanguage(lang) {
  await setLanguage(lang);
  await call("set_language", { language: lang });
  // Re-render what is on screen: dynamic text is built with t().
  if (currentView === "wizard") {
    Wizard.go(Wizard.step);
    if (Wizard.sample) Wizard.renderSample(Wizard.sample);
  } else if (RENDER[currentView]) {
    await RENDER[currentView]();
  }
}

async function start() {
  const saved = await call("get_language");
  await setLanguage(saved.ok && saved.value ? saved.value : osLanguage());
  const options = await call("wizard_options");
  if (options.ok) Object.assign(OPTIONS, options.value);

  for (const button of document.querySelectorAll("[data-lang]")) {
    button.addEventListener("click", () => switchLanguage(button.dataset.lang));
  }
  $("s-language").addEventListener("change", () => switchLanguage($("s-language").value));
  for (const button of document.querySelectorAll("#tabs button")) {
    button.addEventListener("click", () => showApp(button.dataset.view));
  }
  $("start-sandbox").addEventListener("click", () => startSandbox($("start-sandbox"), $("sandbox-progress"), "welcome-error"));
  $("s-sandbox").addEventListener("click", () => startSandbox($("s-sandbox"), null, "fatal"));
  $("start-real").addEventListener("click", async () => {
    await showApp("accounts");
    Accounts.openAdd(true);
  });
  $("show-add").addEventListener("click", () => Accounts.openAdd(true));
  $("new-connection").addEventListener("click", () => Wizard.open(null));
  $("gear-form").addEventListener("submit", (e) => Connections.saveGear(e));
  $("gear-cancel").addEventListener("click", () => $("gear-dialog").close());
  Wizard.init();
  History.init();
  Exporter.init();
  OptOuts.init();

  // Escape closes what is open: dialogs close themselves; panels here.
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || document.querySelector("dialog[open]")) return;
    if (currentView === "accounts" && !$("add-panel").hidden) Accounts.openAdd(false);
    else if (currentView === "wizard" && !$("w-connect").hidden) Wizard.toggleConnect(false);
    // Not the wizard itself: Escape must not throw away a half-written message.
    else if (currentView === "history") showApp("connections");
  });

  const info = await call("app_info");
  if (info.ok) $("about").textContent = `Sendrow ${info.value.version} · ${info.value.data_dir}`;
  else return showFatal(info);

  // First start: nothing connected yet, so offer the sandbox or a real account.
  const [accounts, connections] = await Promise.all([call("list_accounts"), call("list_connections")]);
  const fresh = accounts.ok && connections.ok && accounts.value.length === 0 && connections.value.length === 0;
  await showApp(fresh ? "welcome" : "connections");

  // Keep last/next run fresh while the main screen is open.
  setInterval(() => {
    if (currentView === "connections" && !document.querySelector("dialog[open]")) Connections.render();
  }, 15000);
}

start();
