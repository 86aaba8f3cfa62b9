// How Sendrow may read a Google sheet, in the wizard's first step: shared by
// link, signed in as the user, a service account, or an API key. Pasted keys
// go straight to the system keychain through the backend and their fields are
// cleared; the page never receives a key back.
import { call } from "./ipc.js";
import { t } from "./i18n.js";
import { $, showError } from "./dom.js";

// The name of the window's one Google sign-in (the CLI can keep more).
export const SIGN_IN_NAME = "google";

export const Google = {
  existing: null, // the auth of the connection being edited, if any
  signedIn: false,
  attempts: 0, // sign-ins started; only the latest one's result counts

  mode() {
    return document.querySelector('input[name="google-mode"]:checked').value;
  },

  // The spreadsheet's ID from the pasted link (or the ID itself), to name keys by.
  sheetId() {
    const text = $("w-url").value.trim();
    const match = text.match(/\/d\/([A-Za-z0-9_-]+)/);
    return (match ? match[1] : text.replace(/[^A-Za-z0-9_-]/g, "")).slice(0, 80);
  },

  // A key entry for this sheet, or the edited connection's own.
  keyEntry(prefix) {
    const old = Google.existing && Google.existing.key_entry;
    if (old && old.startsWith(prefix)) return old;
    return prefix + (Google.sheetId() || "sheet");
  },

  // The `auth` of the connection spec.
  auth() {
    switch (Google.mode()) {
      case "oauth":
        return { mode: "oauth", account: Google.existing && Google.existing.mode === "oauth" ? Google.existing.account : SIGN_IN_NAME };
      case "service_account":
        return { mode: "service_account", key_entry: Google.keyEntry("google-sa:") };
      case "api_key":
        return { mode: "api_key", key_entry: Google.keyEntry("google-api-key:") };
      default:
        return { mode: "public_csv" };
    }
  },

  // Opening the wizard: the edited connection's way in, or the link.
  load(auth) {
    Google.existing = auth || null;
    Google.signedIn = Boolean(auth && auth.mode === "oauth");
    const mode = auth ? auth.mode : "public_csv";
    document.querySelector(`input[name="google-mode"][value="${mode}"]`).checked = true;
    $("g-sa-key").value = "";
    $("g-api-key").value = "";
    $("g-client-secret").value = "";
    $("g-sign-in-link").hidden = true;
    $("g-sign-in-progress").hidden = true;
    $("g-sign-in-status").textContent = Google.signedIn ? t("google.signedIn") : "";
    Google.noteKept("g-sa-note", "google.saHint", auth && auth.mode === "service_account");
    Google.noteKept("g-api-note", "google.apiHint", auth && auth.mode === "api_key");
    Google.sync();
  },

  noteKept(id, hintKey, kept) {
    $(id).className = kept ? "note ok" : "note";
    $(id).textContent = kept ? t("google.keyKept") : t(hintKey);
  },

  sync() {
    const mode = Google.mode();
    for (const panel of document.querySelectorAll("#google-access .g-panel")) panel.hidden = panel.dataset.mode !== mode;
    if (mode === "oauth") Google.checkClient();
  },

  // Sign-in needs the user's OAuth client; ask for it only when missing.
  async checkClient() {
    const result = await call("google_setup");
    const missing = !result.ok || !result.value.oauth_client;
    for (const node of document.querySelectorAll("#google-access .g-client")) node.hidden = !missing;
    $("g-client-hint").hidden = !missing;
  },

  async signIn() {
    showError("w-error", null);
    const status = $("g-sign-in-status");
    const button = $("g-sign-in");
    const attempt = ++Google.attempts;
    button.disabled = true;
    try {
      if (!$("g-client-id").closest(".g-client").hidden) {
        const saved = await call("set_google_client", { clientId: $("g-client-id").value, clientSecret: $("g-client-secret").value });
        if (!saved.ok) return showError("w-error", saved);
        $("g-client-secret").value = "";
        await Google.checkClient();
      }
      const started = await call("google_sign_in", { account: SIGN_IN_NAME });
      if (!started.ok) return showError("w-error", started);
      $("g-sign-in-url").value = started.value;
      $("g-sign-in-link").hidden = false;
      status.textContent = "";
      $("g-sign-in-progress").hidden = false;
      // Pressing again while waiting (the browser tab was closed) starts over.
      button.disabled = false;
      const done = await call("google_sign_in_wait");
      if (attempt !== Google.attempts) return;
      $("g-sign-in-progress").hidden = true;
      $("g-sign-in-link").hidden = true;
      if (!done.ok) {
        status.textContent = "";
        return showError("w-error", done);
      }
      Google.signedIn = true;
      Google.existing = { mode: "oauth", account: SIGN_IN_NAME };
      status.textContent = t("google.signedIn");
    } finally {
      button.disabled = false;
    }
  },

  // Before the sheet is read: a pasted key goes to the keychain first.
  // Resolves to {ok} like `call`.
  async keepPastedKey() {
    const mode = Google.mode();
    const field = mode === "service_account" ? $("g-sa-key") : mode === "api_key" ? $("g-api-key") : null;
    if (!field || !field.value.trim()) {
      if (mode === "oauth" && !Google.signedIn) return { ok: false, code: "google_sign_in_first", message: "press “Sign in with Google” first" };
      return { ok: true };
    }
    const entry = Google.auth().key_entry;
    const result = await call("store_google_key", { entry, key: field.value.trim() });
    if (!result.ok) return result;
    field.value = "";
    Google.existing = Google.auth();
    if (mode === "service_account") {
      $("g-sa-note").className = "note ok";
      $("g-sa-note").textContent = t("google.shareWith", { email: result.value || "" });
    } else {
      Google.noteKept("g-api-note", "google.apiHint", true);
    }
    return { ok: true };
  },

  init() {
    for (const radio of document.querySelectorAll('input[name="google-mode"]')) {
      radio.addEventListener("change", () => {
        Google.sync();
        $("w-sample").hidden = true;
      });
    }
    $("g-sign-in").addEventListener("click", () => Google.signIn());
  },
};
