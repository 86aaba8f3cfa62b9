// 8x8 accounts: the accounts screen and the connect form, which the wizard's
// account step reuses inline. The key goes to the backend once and the field
// is emptied; nothing secret ever comes back.
import { call } from "./ipc.js";
import { t, translateIn } from "./i18n.js";
import { $, el, showError, withBusy, fmtWhen } from "./dom.js";
import { alertError, showFatal } from "./app.js";

export function regionLabel(account) {
  return account.region ? t(`region.${account.region}`) : account.base_url;
}

export function statusBadge(status) {
  return el("span", { class: `badge ${status}` }, t(`status.${status}`));
}

// "Check your access to this login. 8x8 said: “<8x8's reason>” (code 1200)."
// 8x8's own words follow ours, quoted, in whatever language 8x8 speaks.
export function inactiveReason(account) {
  if (!account.status_reason) return t("status.checkAccess");
  const said = account.status_code
    ? t("status.said8x8Code", { reason: account.status_reason, code: account.status_code })
    : t("status.said8x8", { reason: account.status_reason });
  return `${t("status.checkAccess")} ${said}`;
}

// Builds the connect-an-account form into `root`; ids start with `p`.
// `onSaved(account)` runs after 8x8 answered (active or inactive).
export function accountForm(root, p, { onSaved, onCancel }) {
  root.innerHTML = `
    <h2 data-i18n="add.title">Connect an 8x8 account</h2>
    <p class="muted" data-i18n="add.hint"></p>
    <form id="${p}-form" class="form-grid" novalidate>
      <label><span data-i18n="add.name">Name in Sendrow</span>
        <input id="${p}-name" required autocomplete="off" maxlength="64"></label>
      <label><span data-i18n="add.region">Region</span>
        <select id="${p}-region">
          <option value="eu" data-i18n="region.eu"></option>
          <option value="apac" data-i18n="region.apac"></option>
          <option value="us" data-i18n="region.us"></option>
          <option value="id" data-i18n="region.id"></option>
          <option value="custom" data-i18n="region.custom"></option>
        </select></label>
      <label id="${p}-base-url-field" hidden><span data-i18n="add.baseUrl">API address</span>
        <input id="${p}-base-url" placeholder="https://" autocomplete="off" spellcheck="false"></label>
      <label><span data-i18n="add.subaccount">Subaccount ID</span>
        <input id="${p}-subaccount" required autocomplete="off" spellcheck="false" placeholder="mycompany_hq"></label>
      <label><span data-i18n="add.key">API key</span>
        <input id="${p}-key" type="password" required autocomplete="off"></label>
      <div class="actions">
        <button type="submit" class="primary" id="${p}-submit" data-i18n="add.submit">Save and check</button>
        <button type="button" id="${p}-cancel" data-i18n="add.cancel">Cancel</button>
        <span id="${p}-progress" class="progress" role="status" hidden data-i18n="add.checking">Checking with 8x8…</span>
      </div>
      <p id="${p}-error" class="banner error" role="alert" hidden></p>
    </form>`;
  translateIn(root);
  const sync = () => ($(`${p}-base-url-field`).hidden = $(`${p}-region`).value !== "custom");
  $(`${p}-region`).addEventListener("change", sync);
  $(`${p}-cancel`).addEventListener("click", () => onCancel());
  $(`${p}-form`).addEventListener("submit", async (event) => {
    event.preventDefault();
    const region = $(`${p}-region`).value;
    const form = {
      name: $(`${p}-name`).value.trim(),
      subaccountId: $(`${p}-subaccount`).value.trim(),
      region: region === "custom" ? null : region,
      baseUrl: region === "custom" ? $(`${p}-base-url`).value.trim() : null,
      apiKey: $(`${p}-key`).value.trim(),
    };
    showError(`${p}-error`, null);
    const result = await withBusy($(`${p}-submit`), $(`${p}-progress`), () => call("add_account", { form }));
    $(`${p}-key`).value = "";
    if (!result.ok) return showError(`${p}-error`, result);
    // Keep the region: WebKitGTK fires no `change` when the user re-picks the
    // option they picked before a reset, so the address field would stay hidden.
    $(`${p}-form`).reset();
    $(`${p}-region`).value = region;
    sync();
    await onSaved(result.value);
  });
  sync();
  return { focus: () => $(`${p}-name`).focus() };
}

export const Accounts = {
  form: null,

  async render() {
    const result = await call("list_accounts");
    if (!result.ok) return showFatal(result);
    const body = $("accounts-body");
    body.replaceChildren();
    for (const account of result.value) {
      const status = el("td", {}, statusBadge(account.status));
      if (account.status === "inactive") status.append(el("div", { class: "reason" }, inactiveReason(account)));
      status.append(el("div", { class: "muted verified" },
        account.verified_at ? t("accounts.verifiedAt", { when: fmtWhen(account.verified_at) }) : t("accounts.neverVerified")));
      const row = el("tr", { dataset: { account: account.name } },
        el("td", {}, account.name), el("td", {}, account.subaccount_id), el("td", {}, regionLabel(account)), status,
        el("td", { class: "row-actions" },
          el("button", { type: "button", onclick: () => Accounts.verify(account.name, row) }, t("accounts.verify")),
          el("button", { type: "button", onclick: () => Accounts.remove(account.name) }, t("accounts.remove"))));
      body.append(row);
    }
    $("accounts").hidden = result.value.length === 0;
    $("accounts-empty").hidden = result.value.length !== 0;
  },

  async verify(name, row) {
    row.classList.add("busy");
    const result = await call("verify_account", { name });
    row.classList.remove("busy");
    if (!result.ok) alertError(result);
    await Accounts.render();
  },

  async remove(name) {
    if (!window.confirm(t("accounts.confirmRemove", { name }))) return;
    const result = await call("remove_account", { name });
    if (!result.ok) alertError(result);
    await Accounts.render();
  },

  openAdd(open) {
    const panel = $("add-panel");
    if (!Accounts.form) {
      Accounts.form = accountForm(panel, "f", {
        onSaved: async () => {
          Accounts.openAdd(false);
          await Accounts.render();
        },
        onCancel: () => Accounts.openAdd(false),
      });
    }
    panel.hidden = !open;
    showError("f-error", null);
    if (open) Accounts.form.focus();
    else $("show-add").focus();
  },
};
