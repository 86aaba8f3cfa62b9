// The wizard, the seed's steps in order: source → receiver (8x8) → action
// (Send SMS) → account → message → test → auto-update. Each Next asks the
// backend first (read the source, verify the account, check the draft); the
// connection is saved before the test send (auto-update off) and updated on
// the last step.
import { call } from "./ipc.js";
import { I18N, t, errorText, composeText } from "./i18n.js";
import { $, el, showError, showNote, withBusy, baseName } from "./dom.js";
import { OPTIONS, ScheduleEditor } from "./schedule.js";
import { regionLabel, statusBadge, inactiveReason, accountForm } from "./accounts.js";
import { Connections } from "./connections.js";
import { Google } from "./google.js";
import { showApp } from "./app.js";

export const LAST_STEP = 7;

export const Wizard = {
  step: 1,
  isNew: true, // opened with "New connection" (it is saved on the way, before the test)
  editing: null, // the ConnectionView being edited (or saved on the way), else null
  saved: false, // whether the connection exists in the store by now
  sample: null,
  draft: null,
  accounts: [],
  chosenAccount: null,
  schedule: null,
  connect: null,

  open(connection) {
    Wizard.isNew = !connection;
    Wizard.editing = connection || null;
    Wizard.saved = Boolean(connection);
    Wizard.sample = null;
    Wizard.draft = null;
    const spec = connection ? connection.spec : null;
    $("wizard-title").textContent = connection ? t("wizard.editTitle", { name: connection.name }) : t("wizard.newTitle");
    const type = spec ? spec.source.type : "csv";
    document.querySelector(`input[name="source-type"][value="${type}"]`).checked = true;
    $("w-path").value = spec && spec.source.path ? spec.source.path : "";
    $("w-sheet").value = spec && spec.source.sheet ? spec.source.sheet : "";
    $("w-url").value = spec && spec.source.spreadsheet ? spec.source.spreadsheet : "";
    Google.load(spec && spec.source.type === "google_sheets" ? spec.source.auth : null);
    $("w-name").value = spec ? spec.name : "";
    // Editing may rename: saving renames first, then saves the rest.
    $("w-name").disabled = false;
    $("w-sample").hidden = true;
    Wizard.chosenAccount = spec ? spec.account : null;
    $("w-country").value = spec ? spec.default_country : "UA";
    $("w-sender").value = spec && spec.sender ? spec.sender : "";
    $("w-date-format").value = spec ? spec.date_format : "DD.MM.YYYY";
    $("w-message").value = spec ? spec.message : "";
    $("w-price").value = spec && spec.price_per_segment != null ? String(spec.price_per_segment) : "";
    $("w-quiet-from").value = spec && spec.quiet_hours ? spec.quiet_hours.from : "";
    $("w-quiet-to").value = spec && spec.quiet_hours ? spec.quiet_hours.to : "";
    $("w-flood").value = spec ? String(spec.flood_limit) : "100";
    Wizard.loadRules(spec);
    $("w-test-result").hidden = true;
    $("w-test-own").value = "";
    document.querySelector('input[name="test-to"][value="row"]').checked = true;
    Wizard.syncSourceType();
    showApp("wizard");
    Wizard.go(1);
    if (spec) Wizard.read();
  },

  close() {
    showApp("connections");
  },

  syncSourceType() {
    const type = document.querySelector('input[name="source-type"]:checked').value;
    $("path-field").hidden = type === "google_sheets";
    $("sheet-field").hidden = type !== "xlsx";
    $("url-field").hidden = type !== "google_sheets";
    $("google-access").hidden = type !== "google_sheets";
  },

  source() {
    const type = document.querySelector('input[name="source-type"]:checked').value;
    if (type === "google_sheets") return { type, spreadsheet: $("w-url").value.trim(), auth: Google.auth() };
    if (type === "xlsx") return { type, path: $("w-path").value.trim(), sheet: $("w-sheet").value.trim() };
    return { type, path: $("w-path").value.trim() };
  },

  // The connection spec from every step's fields. Before step 7 a new
  // connection is saved without a schedule and with auto-update off.
  spec(final) {
    const base = Wizard.editing ? Wizard.editing.spec : null;
    const rowKey = $("w-rowkey").value;
    const price = $("w-price").value.trim().replace(",", ".");
    const quietFrom = $("w-quiet-from").value.trim();
    const quietTo = $("w-quiet-to").value.trim();
    const spec = {
      name: $("w-name").value.trim(),
      source: Wizard.source(),
      start_from: document.querySelector('input[name="start-from"]:checked').value,
      account: Wizard.chosenAccount || "",
      phone_field: $("w-phone").value,
      default_country: $("w-country").value,
      message: $("w-message").value,
      date_format: $("w-date-format").value,
      auto_update: base ? Wizard.editing.auto_update : false,
      schedule: base ? base.schedule : null,
      flood_limit: base ? base.flood_limit : 100,
    };
    if (rowKey) spec.row_key = { column: rowKey };
    Object.assign(spec, Wizard.rules());
    if ($("w-sender").value.trim()) spec.sender = $("w-sender").value.trim();
    if (price) spec.price_per_segment = Number(price);
    if (base && base.quiet_hours) spec.quiet_hours = base.quiet_hours;
    if (final) {
      spec.schedule = Wizard.schedule.get();
      spec.auto_update = $("w-auto").getAttribute("aria-checked") === "true";
      spec.flood_limit = Number($("w-flood").value.trim() || "100");
      if (quietFrom || quietTo) spec.quiet_hours = { from: quietFrom, to: quietTo };
      else delete spec.quiet_hours;
    }
    return spec;
  },

  go(step) {
    Wizard.step = step;
    for (const panel of document.querySelectorAll("#view-wizard .step")) panel.hidden = Number(panel.dataset.step) !== step;
    for (const item of document.querySelectorAll("#wizard-steps li")) {
      const n = Number(item.dataset.step);
      item.className = n < step ? "done" : n === step ? "current" : "";
      if (n === step) item.setAttribute("aria-current", "step");
      else item.removeAttribute("aria-current");
    }
    showError("w-error", null);
    $("w-back").textContent = step === 6 ? t("wizard.edit") : t("wizard.back");
    $("w-back").disabled = step === 1;
    $("w-next").textContent = step === LAST_STEP ? t("wizard.save") : t("wizard.next");
    // Editing saves from any step; a new connection goes through them all.
    $("w-save-edit").hidden = Wizard.isNew || step === LAST_STEP;
    if (step === 4) Wizard.renderAccounts();
    if (step === 5) Wizard.enterFields();
    if (step === 6) Wizard.enterTest();
    if (step === 7) Wizard.enterAuto();
    const first = document.querySelector(`#view-wizard .step[data-step="${step}"] input:not([type=hidden]):not(:disabled), #view-wizard .step[data-step="${step}"] select`);
    if (first && step !== 1) first.focus();
  },

  // Step 1: the system's file dialog; a chosen file is read at once.
  async pickFile() {
    const kind = Wizard.source().type;
    const args = { kind, title: t("source.pickTitle"), filterName: t(kind === "xlsx" ? "source.xlsx" : "source.csv") };
    const picked = await withBusy($("w-pick"), null, () => call("pick_file", args));
    if (!picked.ok) return showError("w-error", picked);
    if (!picked.value) return; // cancelled
    $("w-path").value = picked.value;
    await Wizard.read();
  },

  // Step 1: read the source and show what it holds.
  async read() {
    showError("w-error", null);
    if (Wizard.source().type === "google_sheets") {
      const kept = await Google.keepPastedKey();
      if (!kept.ok) {
        showError("w-error", kept);
        return false;
      }
    }
    const result = await withBusy($("w-read"), $("w-read-progress"), () => call("inspect_source", { source: Wizard.source(), country: $("w-country").value }));
    if (!result.ok) {
      $("w-sample").hidden = true;
      Wizard.sample = null;
      showError("w-error", result);
      return false;
    }
    Wizard.renderSample(result.value);
    return true;
  },

  renderSample(sample) {
    const previousKey = Wizard.sample ? $("w-rowkey").value : null;
    Wizard.sample = sample;
    $("w-sample").hidden = false;
    $("w-columns").textContent = t("source.found", { n: sample.total, columns: sample.headers.join(", ") });
    const table = $("w-sample-table");
    table.tHead.replaceChildren(el("tr", {}, sample.headers.map((h) => el("th", {}, h))));
    table.tBodies[0].replaceChildren(...sample.rows.map((r) => el("tr", {}, r.map((v) => el("td", {}, v)))));
    $("w-all-rows").textContent = t("source.allRows", { n: sample.total });
    const spec = Wizard.editing ? Wizard.editing.spec : null;
    const keys = [el("option", { value: "" }, t("source.byContent")), ...sample.headers.map((h) => el("option", { value: h }, t("source.byColumn", { column: h })))];
    $("w-rowkey").replaceChildren(...keys);
    const guess = sample.headers.find((h) => /(^|\s)(id|№)($|\s)|номер замовлення|order id/i.test(h)) || "";
    $("w-rowkey").value = spec ? (spec.row_key ? spec.row_key.column : "") : previousKey ?? guess;
    $("w-rowkey").disabled = Boolean(Wizard.editing);
    // Reading again (Next re-reads) keeps what the user chose.
    if (spec) document.querySelector(`input[name="start-from"][value="${spec.start_from}"]`).checked = true;
    else if (previousKey === null) document.querySelector('input[name="start-from"][value="new_rows"]').checked = true;
    for (const radio of document.querySelectorAll('input[name="start-from"]')) radio.disabled = Boolean(Wizard.editing);
    if (!$("w-name").value) {
      const src = Wizard.source();
      $("w-name").value = src.path ? baseName(src.path).replace(/\.[^.]+$/, "") : t("source.googleShort");
    }
  },

  // Step 4: active and inactive accounts, or connect one here.
  async renderAccounts() {
    const result = await call("list_accounts");
    if (!result.ok) return showError("w-error", result);
    Wizard.accounts = result.value;
    if (!Wizard.chosenAccount || !result.value.some((a) => a.name === Wizard.chosenAccount)) {
      const active = result.value.find((a) => a.status === "active");
      Wizard.chosenAccount = active ? active.name : null;
    }
    const box = $("w-accounts");
    box.replaceChildren(...result.value.map((a) => {
      const radio = el("input", { type: "radio", name: "w-account", value: a.name, checked: a.name === Wizard.chosenAccount });
      radio.addEventListener("change", () => {
        Wizard.chosenAccount = a.name;
        showError("w-error", null);
      });
      const card = el("label", { class: `choice-card selectable account-choice ${a.status}`, dataset: { account: a.name } },
        radio,
        el("span", { class: "account-line" }, el("strong", {}, a.name), statusBadge(a.status)),
        el("span", { class: "muted" }, `${a.subaccount_id} · ${regionLabel(a)}`));
      if (a.status === "inactive") card.append(el("span", { class: "reason" }, inactiveReason(a)));
      return card;
    }));
    $("w-accounts-empty").hidden = result.value.length > 0;
    if (result.value.length === 0) Wizard.toggleConnect(true);
  },

  toggleConnect(open) {
    const box = $("w-connect");
    if (!Wizard.connect) {
      Wizard.connect = accountForm(box, "wa", {
        onSaved: async (account) => {
          Wizard.chosenAccount = account.name;
          showError("w-error", null);
          Wizard.toggleConnect(false);
          await Wizard.renderAccounts();
        },
        onCancel: () => Wizard.toggleConnect(false),
      });
    }
    box.hidden = !open;
    $("w-connect-toggle").hidden = open;
    if (open) Wizard.connect.focus();
    else $("w-connect-toggle").focus();
  },

  // Step 5: columns, chips and the live preview.
  enterFields() {
    const headers = Wizard.sample ? Wizard.sample.headers : [];
    const spec = Wizard.editing ? Wizard.editing.spec : null;
    const current = $("w-phone").value;
    $("w-phone").replaceChildren(...headers.map((h) => el("option", { value: h }, h)));
    const guess = headers.find((h) => /phone|тел|mobile|моб/i.test(h)) || headers[0] || "";
    $("w-phone").value = headers.includes(current) ? current : spec ? spec.phone_field : guess;
    const chips = $("w-chips");
    chips.replaceChildren(
      ...OPTIONS.variables.map((v) => Wizard.chip(`{{$${v}}}`, t(`var.${v}`), "system", `chip-var-${v}`)),
      ...headers.map((h, i) => Wizard.chip(`{{${h}}}`, h, "column", `chip-col-${i}`)),
    );
    Wizard.enterRules(headers);
    Wizard.previewSoon(0);
  },

  // "Which rows?" and "When?": the spec's conditions and send_at, shown
  // when the wizard opens and built from the source's columns at step 5.
  loadRules(spec) {
    Wizard.ruleSpec = spec ? { conditions: spec.conditions || null, send_at: spec.send_at || null } : { conditions: null, send_at: null };
    Wizard.rulesBuilt = false;
  },

  enterRules(headers) {
    const columns = (select, value) => {
      select.replaceChildren(...headers.map((h) => el("option", { value: h }, h)));
      if (value && headers.includes(value)) select.value = value;
    };
    if (!Wizard.rulesBuilt) {
      Wizard.rulesBuilt = true;
      const c = Wizard.ruleSpec.conditions;
      const join = c ? (c.any ? "any" : "all") : "all";
      document.querySelector(`input[name="which"][value="${c ? "some" : "all"}"]`).checked = true;
      $("w-cond-join").value = join;
      $("w-cond-list").replaceChildren();
      for (const one of c ? c[join] : []) Wizard.addCondition(headers, one);
      const when = Wizard.ruleSpec.send_at;
      document.querySelector(`input[name="when"][value="${when ? "column" : "now"}"]`).checked = true;
      columns($("w-when-col"), when ? when.column : headers.find((h) => /date|дата|visit|візит|time|час/i.test(h)));
      $("w-when-before").value = when ? String(when.minutes_before || 0) : "1440";
      $("w-when-at").value = when && when.at_time ? when.at_time : "";
    } else {
      columns($("w-when-col"), $("w-when-col").value);
      for (const select of document.querySelectorAll("#w-cond-list .cond-column")) columns(select, select.value);
    }
    if (document.querySelector('input[name="which"][value="some"]').checked && !$("w-cond-list").children.length) {
      Wizard.addCondition(headers, null);
    }
    Wizard.syncRules();
  },

  addCondition(headers, one) {
    const column = el("select", { class: "cond-column", "aria-label": t("which.column") },
      ...headers.map((h) => el("option", { value: h }, h)));
    const guess = headers.find((h) => /status|статус/i.test(h));
    column.value = one && headers.includes(one.column) ? one.column : guess || headers[0] || "";
    const ops = ["equals", "not_equals", "contains", "not_contains", "empty", "not_empty", "greater_than", "less_than"];
    const op = el("select", { class: "cond-op", "aria-label": t("which.op") }, ...ops.map((o) => el("option", { value: o }, t(`op.${o}`))));
    op.value = one ? one.op : "equals";
    const value = el("input", { class: "cond-value", autocomplete: "off", "aria-label": t("which.value") });
    value.value = one && one.value != null ? String(one.value) : "";
    const remove = el("button", { type: "button", class: "cond-remove" }, t("which.remove"));
    const row = el("div", { class: "cond-row input-row" }, column, op, value, remove);
    const sync = () => {
      value.hidden = op.value === "empty" || op.value === "not_empty";
      Wizard.previewSoon();
    };
    for (const input of [column, op, value]) {
      input.addEventListener("change", sync);
      input.addEventListener("input", sync);
    }
    remove.addEventListener("click", () => {
      row.remove();
      Wizard.previewSoon();
    });
    $("w-cond-list").append(row);
    value.hidden = op.value === "empty" || op.value === "not_empty";
    return row;
  },

  syncRules() {
    $("w-conditions").hidden = !document.querySelector('input[name="which"][value="some"]').checked;
    $("w-when-fields").hidden = !document.querySelector('input[name="when"][value="column"]').checked;
  },

  // The spec keys the two questions give (absent: every row, at once).
  rules() {
    const out = {};
    if (!Wizard.rulesBuilt) {
      if (Wizard.ruleSpec && Wizard.ruleSpec.conditions) out.conditions = Wizard.ruleSpec.conditions;
      if (Wizard.ruleSpec && Wizard.ruleSpec.send_at) out.send_at = Wizard.ruleSpec.send_at;
      return out;
    }
    if (document.querySelector('input[name="which"][value="some"]').checked) {
      const list = [...document.querySelectorAll("#w-cond-list .cond-row")].map((row) => {
        const op = row.querySelector(".cond-op").value;
        const one = { column: row.querySelector(".cond-column").value, op };
        if (op !== "empty" && op !== "not_empty") one.value = row.querySelector(".cond-value").value;
        return one;
      });
      out.conditions = { [$("w-cond-join").value]: list };
    }
    if (document.querySelector('input[name="when"][value="column"]').checked) {
      out.send_at = { column: $("w-when-col").value, minutes_before: Number($("w-when-before").value) };
      const at = $("w-when-at").value.trim();
      if (at) out.send_at.at_time = at;
    }
    return out;
  },

  // The live count of matching rows and the first reminders, from the draft.
  renderRules(draft) {
    const count = $("w-cond-count");
    count.textContent = draft && draft.matching != null ? t("which.count", { n: draft.matching, total: draft.sample.total }) : "";
    const list = $("w-when-list");
    if (!draft || !Wizard.rules().send_at) return list.replaceChildren();
    const when = (iso) => {
      const d = new Date(iso);
      const pad = (n) => String(n).padStart(2, "0");
      return `${pad(d.getDate())}.${pad(d.getMonth() + 1)}.${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
    };
    const items = draft.reminders.map((r) => {
      const key = r.plan === "now" ? "when.now_" : `when.${r.plan}`;
      return el("li", { dataset: { plan: r.plan } }, t(key, { line: r.line, time: r.send_at ? when(r.send_at) : "", reason: r.reason || "" }));
    });
    list.replaceChildren(
      el("p", { class: "muted" }, items.length ? t("when.first") : t("when.none")),
      ...(items.length ? [el("ul", { id: "w-when-items" }, ...items)] : []),
    );
  },

  chip(token, label, kind, id) {
    const chip = el("button", { type: "button", class: `chip ${kind}`, id, dataset: { token }, title: token }, label);
    // Keep the textarea's cursor: a mouse press would otherwise move focus first.
    chip.addEventListener("mousedown", (e) => e.preventDefault());
    chip.addEventListener("click", () => Wizard.insert(token));
    return chip;
  },

  insert(token) {
    const area = $("w-message");
    const start = area.selectionStart ?? area.value.length;
    const end = area.selectionEnd ?? start;
    area.value = area.value.slice(0, start) + token + area.value.slice(end);
    area.focus();
    area.setSelectionRange(start + token.length, start + token.length);
    Wizard.previewSoon(0);
  },

  previewSoon(delay) {
    clearTimeout(Wizard.timer);
    Wizard.timer = setTimeout(Wizard.preview, delay ?? 300);
  },

  async preview() {
    const ticket = (Wizard.ticket = (Wizard.ticket || 0) + 1);
    const result = await call("check_draft", { spec: Wizard.spec(false) });
    if (ticket !== Wizard.ticket) return result;
    Wizard.renderPreview(result);
    return result;
  },

  renderPreview(result) {
    const status = $("w-preview-status");
    $("w-ucs2").hidden = true;
    Wizard.renderRules(result.ok ? result.value : null);
    if (!result.ok) {
      Wizard.draft = null;
      $("w-preview-text").replaceChildren(el("span", { class: "muted" }, t("preview.none")));
      $("w-preview-to").textContent = "";
      $("w-counter").textContent = "";
      showNote(status, errorText(result), "error");
      return;
    }
    Wizard.draft = result.value;
    const p = result.value.preview;
    if (!p) {
      $("w-preview-text").replaceChildren(el("span", { class: "muted" }, t("preview.noRows")));
      status.hidden = true;
      return;
    }
    $("w-preview-text").replaceChildren(...Wizard.marked(p.text, p.ucs2_culprits));
    $("w-preview-to").textContent = p.phone ? t("preview.to", { phone: p.phone }) : "";
    const per = p.encoding === "GSM7" ? (p.segments > 1 ? 153 : 160) : p.segments > 1 ? 67 : 70;
    let counter = t("preview.counter", { encoding: p.encoding === "GSM7" ? "GSM-7" : "UCS-2", units: p.units, segments: p.segments, per: t("preview.per", { n: per }) });
    if (result.value.cost != null) counter += ` · ${t("preview.cost", { cost: result.value.cost.toFixed(2) })}`;
    $("w-counter").textContent = counter;
    if (p.ucs2_culprits.length > 0) {
      const box = $("w-ucs2");
      box.className = "banner warn";
      box.replaceChildren(t("preview.ucs2"), " ", ...p.ucs2_culprits.slice(0, 24).map((c) => el("mark", {}, c)));
      box.hidden = false;
    }
    // The engine's English reason adds the particulars where English is read.
    if (p.status !== "ready") showNote(status, I18N.lang === "en" && p.reason ? `${composeText(p)} ${p.reason}` : composeText(p), "warn");
    else status.hidden = true;
  },

  // The text with each character that forces UCS-2 in a <mark>.
  marked(text, culprits) {
    const set = new Set(culprits);
    const out = [];
    let plain = "";
    for (const ch of Array.from(text)) {
      if (set.has(ch)) {
        if (plain) out.push(plain);
        plain = "";
        out.push(el("mark", {}, ch));
      } else {
        plain += ch;
      }
    }
    if (plain) out.push(plain);
    return out;
  },

  // Step 6: the connection is saved by now; show what the test will send.
  enterTest() {
    const p = Wizard.draft && Wizard.draft.preview;
    $("w-test-text").textContent = p ? p.text : "";
    $("w-test-row-phone").textContent = p && p.phone ? t("test.rowPhone", { phone: p.phone }) : t("test.rowNoPhone");
    const rowRadio = document.querySelector('input[name="test-to"][value="row"]');
    rowRadio.disabled = !(p && p.phone);
    if (rowRadio.disabled) document.querySelector('input[name="test-to"][value="own"]').checked = true;
  },

  async sendTest() {
    const own = document.querySelector('input[name="test-to"]:checked').value === "own";
    const to = own ? $("w-test-own").value.trim() : null;
    if (own && !to) {
      $("w-test-own").focus();
      return showNote("w-test-result", t("test.needNumber"), "error");
    }
    const name = $("w-name").value.trim();
    const result = await withBusy($("w-test-send"), $("w-test-progress"), () => call("test_send", { name, to }));
    if (!result.ok) return showNote("w-test-result", errorText(result), "error");
    const r = result.value;
    if (r.status === "queued") {
      let text = t("test.queued", { phone: r.phone, umid: r.umid || "" });
      if (r.counts_as_row_message) text += ` ${t("test.counts")}`;
      showNote("w-test-result", text, "ok");
    } else {
      showNote("w-test-result", `${t(`test.${r.status}`)} ${r.reason || ""}`, "error");
    }
  },

  // Step 7: the schedule and the toggle.
  enterAuto() {
    if (!Wizard.schedule) Wizard.schedule = new ScheduleEditor($("w-schedule"), "ws");
    const spec = Wizard.editing ? Wizard.editing.spec : null;
    const name = $("w-name").value.trim();
    const others = Connections.list.map((c) => c.name).filter((n) => n !== name);
    const schedule = spec && spec.schedule ? spec.schedule : { every_minutes: 15 };
    Wizard.schedule.set(schedule, { others, isFile: Wizard.source().type !== "google_sheets" });
    // A new connection is saved with auto-update off for its test; this step turns it on.
    setSwitch($("w-auto"), Wizard.isNew ? true : Wizard.editing.auto_update);
  },

  async next() {
    showError("w-error", null);
    const ok = await withBusy($("w-next"), $("w-progress"), () => Wizard.check(Wizard.step));
    if (!ok) return;
    if (Wizard.step === LAST_STEP) {
      await showApp("connections");
      return;
    }
    Wizard.go(Wizard.step + 1);
  },

  // Editing: "Save" checks this step and the ones up to the message (which
  // saves), keeping the schedule and the toggle as they are.
  async saveEdit() {
    showError("w-error", null);
    const ok = await withBusy($("w-save-edit"), $("w-progress"), async () => {
      for (let s = Wizard.step; s <= 5; s++) {
        if (s === 5 && Wizard.step !== 5) Wizard.enterFields();
        if (await Wizard.check(s)) continue;
        // Show the step that needs a fix, with its error.
        const box = $("w-error");
        const [text, hidden] = [box.textContent, box.hidden];
        if (s !== Wizard.step) Wizard.go(s);
        [box.textContent, box.hidden] = [text, hidden];
        return false;
      }
      return true;
    });
    if (ok) await showApp("connections");
  },

  // Asks the backend whether the step is complete (and saves at 5→6 and 7).
  // A saved connection whose name field now says something else is renamed.
  async renameIfEdited() {
    const name = $("w-name").value.trim();
    const old = Wizard.saved && Wizard.editing ? Wizard.editing.name : null;
    if (!old || old === name) return { ok: true };
    const result = await call("rename_connection", { old, new: name });
    if (result.ok) Wizard.editing = { ...Wizard.editing, name, spec: { ...Wizard.editing.spec, name } };
    return result;
  },

  async check(step) {
    const fail = (err) => {
      showError("w-error", err);
      return false;
    };
    switch (step) {
      case 1: {
        if (!(await Wizard.read())) return false;
        if (!$("w-name").value.trim()) {
          $("w-name").focus();
          return fail({ code: "invalid_input", message: t("source.needName") });
        }
        return true;
      }
      case 4: {
        if (!Wizard.chosenAccount) return fail({ code: "invalid_input", message: t("account.choose") });
        const result = await call("verify_account", { name: Wizard.chosenAccount });
        if (!result.ok) return fail(result);
        if (result.value.status !== "active") {
          await Wizard.renderAccounts();
          const code = result.value.status_code ? ` (${result.value.status_code})` : "";
          return fail({ code: "account_inactive", message: `${result.value.status_reason || ""}${code}` });
        }
        return true;
      }
      case 5: {
        clearTimeout(Wizard.timer);
        const draft = await Wizard.preview();
        if (!draft.ok) return fail(draft);
        const renamed = await Wizard.renameIfEdited();
        if (!renamed.ok) return fail(renamed);
        const spec = Wizard.spec(false);
        const saved = Wizard.saved ? await call("update_connection", { spec }) : await call("add_connection", { spec });
        if (!saved.ok) return fail(saved);
        Wizard.saved = true;
        Wizard.editing = saved.value.connection || saved.value;
        return true;
      }
      case 7: {
        const renamed = await Wizard.renameIfEdited();
        if (!renamed.ok) return fail(renamed);
        const result = await call("update_connection", { spec: Wizard.spec(true) });
        if (!result.ok) return fail(result);
        return true;
      }
      default:
        return true;
    }
  },

  back() {
    if (Wizard.step > 1) Wizard.go(Wizard.step - 1);
  },

  init() {
    for (const radio of document.querySelectorAll('input[name="source-type"]')) {
      radio.addEventListener("change", () => {
        Wizard.syncSourceType();
        $("w-sample").hidden = true;
      });
    }
    $("w-read").addEventListener("click", () => Wizard.read());
    $("w-pick").addEventListener("click", () => Wizard.pickFile());
    Google.init();
    for (const id of ["w-path", "w-url", "w-sheet"]) {
      $(id).addEventListener("keydown", (e) => {
        if (e.key === "Enter") Wizard.read();
      });
    }
    $("w-next").addEventListener("click", () => Wizard.next());
    $("w-save-edit").addEventListener("click", () => Wizard.saveEdit());
    $("w-back").addEventListener("click", () => Wizard.back());
    $("wizard-close").addEventListener("click", () => Wizard.close());
    $("w-connect-toggle").addEventListener("click", () => Wizard.toggleConnect(true));
    for (const id of ["w-phone", "w-country", "w-sender", "w-date-format", "w-message", "w-price"]) {
      $(id).addEventListener("input", () => Wizard.previewSoon());
      $(id).addEventListener("change", () => Wizard.previewSoon());
    }
    for (const radio of document.querySelectorAll('input[name="which"], input[name="when"]')) {
      radio.addEventListener("change", () => {
        if (radio.value === "some" && !$("w-cond-list").children.length) Wizard.addCondition(Wizard.sample ? Wizard.sample.headers : [], null);
        Wizard.syncRules();
        Wizard.previewSoon();
      });
    }
    $("w-cond-add").addEventListener("click", () => {
      const row = Wizard.addCondition(Wizard.sample ? Wizard.sample.headers : [], null);
      row.querySelector("select").focus();
      Wizard.previewSoon();
    });
    for (const id of ["w-cond-join", "w-when-col", "w-when-before", "w-when-at"]) {
      $(id).addEventListener("input", () => Wizard.previewSoon());
      $(id).addEventListener("change", () => Wizard.previewSoon());
    }
    $("w-test-send").addEventListener("click", () => Wizard.sendTest());
    $("w-test-own").addEventListener("focus", () => (document.querySelector('input[name="test-to"][value="own"]').checked = true));
    $("w-auto").addEventListener("click", () => setSwitch($("w-auto"), $("w-auto").getAttribute("aria-checked") !== "true"));
  },
};

export function setSwitch(button, on) {
  button.setAttribute("aria-checked", String(on));
}
