// The window's shell: which screen shows, the first start, settings and the
// language. View state only: every rule is checked by the backend.
import { call } from "./ipc.js";
import { I18N, setLanguage, t, errorText, osLanguage } from "./i18n.js";
import { $, el, showError, showNote, withBusy } from "./dom.js";
import { OPTIONS } from "./schedule.js";
import { Accounts } from "./accounts.js";
import { Connections, CardTest } from "./connections.js";
import { Wizard } from "./wizard.js";
import { History, Exporter } from "./history.js";
import { OptOuts } from "./optouts.js";

export const VIEWS = ["welcome", "connections", "wizard", "history", "accounts", "optouts", "settings"];
export const RENDER = {
  connections: () => Connections.render(),
  history: () => History.render(),
  accounts: () => Accounts.render(),
  optouts: () => OptOuts.render(),
  settings: () => Settings.render(),
};
export let currentView = null;

export async function showApp(view) {
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

export function alertError(err) {
  $("fatal").textContent = errorText(err);
  $("fatal").hidden = false;
}

export function showFatal(err) {
  alertError(err);
  for (const id of ["show-add", "new-connection", "start-sandbox"]) $(id).disabled = true;
}

export const Settings = {
  async render() {
    $("s-language").value = I18N.lang;
    const info = await call("app_info");
    if (info.ok) $("s-data").textContent = t("settings.data", { dir: info.value.data_dir, version: info.value.version });
    const accounts = await call("list_accounts");
    const hasSandbox = accounts.ok && accounts.value.some((a) => a.sandbox);
    $("s-sandbox").hidden = hasSandbox;
    $("s-sandbox-note").textContent = hasSandbox ? t("settings.sandboxThere") : "";
    await Settings.renderGoogle();
    const autostart = await call("get_autostart");
    $("s-autostart").setAttribute("aria-checked", String(autostart.ok && autostart.value));
    showError("s-autostart-error", autostart.ok ? null : autostart);
  },

  // The Google sign-ins and keys the connections use, each with a Forget.
  async renderGoogle() {
    const connections = await call("list_connections");
    const entries = new Map();
    for (const c of connections.ok ? connections.value : []) {
      const auth = c.source.type === "google_sheets" ? c.source.auth : null;
      if (!auth || auth.mode === "public_csv") continue;
      const entry = auth.mode === "oauth" ? `google-oauth:${auth.account}` : auth.key_entry;
      if (!entries.has(entry)) entries.set(entry, { auth, users: [] });
      entries.get(entry).users.push(c.name);
    }
    $("s-google").replaceChildren(...[...entries].map(([entry, { auth, users }]) => {
      const what = auth.mode === "oauth" ? t("settings.googleOauth", { account: auth.account })
        : t(auth.mode === "service_account" ? "settings.googleSa" : "settings.googleApiKey", { entry: entry.replace(/^[^:]*:/, "") });
      return el("li", { dataset: { entry } },
        el("span", {}, what, el("span", { class: "muted" }, ` · ${t("settings.googleUsedBy", { names: users.join(", ") })}`)),
        el("button", { type: "button", class: "danger", onclick: () => Settings.forgetGoogle(entry, what) }, t("settings.googleForget")));
    }));
    $("s-google-none").hidden = entries.size !== 0;
  },

  async forgetGoogle(entry, what) {
    if (!window.confirm(t("settings.confirmForget", { what }))) return;
    const result = await call("forget_google", { entry });
    showNote("s-google-note", result.ok ? t("settings.googleForgotten", { what }) : errorText(result), result.ok ? "ok" : "error");
  },

  // Start at login: off by default; the switch shows what the system now has.
  async toggleAutostart() {
    const on = $("s-autostart").getAttribute("aria-checked") !== "true";
    const result = await call("set_autostart", { on });
    if (result.ok) $("s-autostart").setAttribute("aria-checked", String(result.value));
    showError("s-autostart-error", result.ok ? null : result);
  },
};

// The schedule runs in the app's backend; its events ("scheduler": run
// started/finished, paused, …) keep the main screen current without polling.
export const SchedulerEvents = {
  async init() {
    const status = await call("scheduler_status");
    // Not running here (a `sendrow daemon` has the folder): say so, keep working.
    if (!status.ok && status.code === "scheduler_elsewhere") {
      $("scheduler-banner").dataset.code = status.code;
      $("scheduler-banner").dataset.message = status.message;
      SchedulerEvents.renderBanner();
    }
    await window.__TAURI__.event.listen("scheduler", (e) => SchedulerEvents.onEvent(e.payload));
    // Quit waits for messages being sent from this window; say so meanwhile.
    await window.__TAURI__.event.listen("quitting", () => {
      const banner = $("scheduler-banner");
      banner.textContent = t("quit.waiting");
      banner.hidden = false;
    });
  },

  // The scheduler asks 8x8 about unknown messages by itself: "checking
  // with 8x8", then what it found, on the main screen.
  onReconcile(event) {
    const status = $("reconcile-status");
    if (!status) return;
    status.hidden = false;
    status.textContent = event.event === "reconciling"
      ? t("reconcile.checking")
      : t("reconcile.done", { found: event.found, notFound: event.not_found, still: event.still_unknown });
    if (event.event === "reconciled" && currentView === "connections" && !document.querySelector("dialog[open]")) {
      Connections.render();
    }
  },

  renderBanner() {
    const banner = $("scheduler-banner");
    if (!banner.dataset.code) return;
    banner.textContent = errorText({ code: banner.dataset.code, message: banner.dataset.message });
    banner.hidden = false;
  },

  onEvent(event) {
    if (event.event === "reconciling" || event.event === "reconciled") return SchedulerEvents.onReconcile(event);
    if (event.event === "run_started") Connections.scheduled.add(event.name);
    else if (event.event === "run_finished") Connections.scheduled.delete(event.name);
    else if (event.event !== "paused" && event.event !== "resumed") return;
    if (currentView === "connections" && !document.querySelector("dialog[open]")) Connections.render();
  },
};

export async function startSandbox(button, progress, errorBox) {
  const result = await withBusy(button, progress, () => call("start_sandbox"));
  if (!result.ok) return showError(errorBox, result);
  await showApp("connections");
}

export async function switchLanguage(lang) {
  await setLanguage(lang);
  await call("set_language", { language: lang });
  // Re-render what is on screen: dynamic text is built with t().
  if (currentView === "wizard") {
    Wizard.go(Wizard.step);
    if (Wizard.sample) Wizard.renderSample(Wizard.sample);
  } else if (RENDER[currentView]) {
    await RENDER[currentView]();
  }
  SchedulerEvents.renderBanner();
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
  $("s-autostart").addEventListener("click", () => Settings.toggleAutostart());
  $("s-logs").addEventListener("click", async () => {
    const opened = await call("open_log_folder");
    $("s-logs-note").textContent = opened.ok ? t("settings.logsOpened", { dir: opened.value }) : "";
    showError("s-logs-error", opened.ok ? null : opened);
  });
  Wizard.init();
  CardTest.init();
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
  await SchedulerEvents.init();

  // First start: nothing connected yet, so offer the sandbox or a real account.
  const [accounts, connections] = await Promise.all([call("list_accounts"), call("list_connections")]);
  const fresh = accounts.ok && connections.ok && accounts.value.length === 0 && connections.value.length === 0;
  await showApp(fresh ? "welcome" : "connections");

  call("page_ready");

  // Scheduler events refresh the cards; this slow poll only catches what no
  // event announces (a run from the command line, the clock passing a next run).
  setInterval(() => {
    if (currentView === "connections" && !document.querySelector("dialog[open]")) Connections.render();
  }, 60000);
}

start();
