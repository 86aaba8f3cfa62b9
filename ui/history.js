// History of one connection: a row per message with its status, delivery
// and 8x8's ID or reason; a filter by status; "resend failed" (a run, which
// retries only failed rows); decisions on unknown messages; CSV export.
import { call } from "./ipc.js";
import { I18N, t, errorText, codedText } from "./i18n.js";
import { $, el, showNote, withBusy } from "./dom.js";
import { showApp } from "./app.js";

export const STATUSES = ["queued", "scheduled", "cancelled", "sent", "rejected", "failed", "unknown", "skipped", "held", "waiting", "pending", "sending"];

export const History = {
  name: null,
  entries: [],

  async open(name, filter) {
    History.name = name;
    $("history-title").textContent = t("history.title", { name });
    History.fillFilter();
    $("history-filter").value = filter || "";
    $("history-note").hidden = true;
    await showApp("history");
  },

  fillFilter() {
    const current = $("history-filter").value;
    $("history-filter").replaceChildren(
      el("option", { value: "" }, t("history.all")),
      ...STATUSES.map((s) => el("option", { value: s }, t(`entry.${s}`))),
    );
    $("history-filter").value = current;
  },

  async render() {
    if (!History.name) return;
    $("history-title").textContent = t("history.title", { name: History.name });
    History.fillFilter();
    // Only the latest render draws: an earlier one may answer after it.
    const ticket = (History.ticket = (History.ticket || 0) + 1);
    const result = await call("history", { name: History.name });
    if (ticket !== History.ticket) return;
    if (!result.ok) return showNote("history-note", errorText(result), "error");
    History.entries = result.value;
    const filter = $("history-filter").value;
    const shown = result.value.filter((e) => !filter || e.status === filter).reverse();
    $("history-body").replaceChildren(...shown.map((e) => History.row(e)));
    $("history-table").hidden = shown.length === 0;
    $("history-empty").hidden = shown.length !== 0;
  },

  row(e) {
    const rowLabel = e.row_line ? t("history.line", { line: e.row_line }) : e.row_key;
    const status = el("td", {}, el("span", { class: `badge entry-${e.status}` }, t(`entry.${e.status}`)));
    if (e.is_test) status.append(" ", el("span", { class: "badge test" }, t("history.test")));
    // A reminder's send time (kept here, at 8x8, or called off).
    if (e.send_at) {
      const d = new Date(e.send_at);
      const pad = (n) => String(n).padStart(2, "0");
      const time = `${pad(d.getDate())}.${pad(d.getMonth() + 1)}.${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
      status.append(el("div", { class: "reason send-at" }, t("history.sendAt", { time })));
    }
    const delivery = e.delivery_state ? t(`delivery.${e.delivery_state}`) === `delivery.${e.delivery_state}` ? e.delivery_state : t(`delivery.${e.delivery_state}`) : "—";
    const detail = e.umid || History.reason(e);
    const actions = el("td", { class: "row-actions" });
    if ((e.status === "unknown" || e.status === "failed") && !e.is_test) {
      actions.append(
        el("button", { type: "button", onclick: () => History.resolve(e.row_key, "resend") }, t("banner.resendOne")),
        el("button", { type: "button", onclick: () => History.resolve(e.row_key, "mark_sent") }, t("banner.markSentOne")));
    }
    return el("tr", { dataset: { status: e.status, row: e.row_key } },
      el("td", { title: e.row_key, class: "nowrap" }, rowLabel), el("td", { class: "nowrap" }, e.phone || "—"), el("td", { class: "text" }, e.text),
      status, el("td", {}, delivery, e.delivery_error ? el("div", { class: "reason" }, e.delivery_error) : null),
      el("td", { class: e.umid ? "detail umid" : "detail", title: e.umid ? null : e.reason }, detail), actions);
  },

  // Why it stands where it stands: our words by code; 8x8's own words (a
  // rejection) quoted after ours; the English of an older Sendrow only
  // where English is read (a tooltip otherwise).
  reason(e) {
    if (e.reason_coded) return codedText(e.reason_coded);
    if (!e.reason) return "";
    if (e.status === "rejected") {
      return e.error_code ? t("history.rejectedCode", { reason: e.reason, code: e.error_code }) : t("history.rejected", { reason: e.reason });
    }
    return I18N.lang === "en" ? e.reason : "";
  },

  async resolve(rowKey, resolution) {
    const result = await call("resolve", { name: History.name, rowKey, resolution });
    if (!result.ok) return showNote("history-note", errorText(result), "error");
    // A row a person chose to resend goes out with a run, now.
    if (resolution === "resend") return History.sendNow("run_connection", { name: History.name, releaseHeld: false });
    await History.render();
  },

  // Only the failed messages go again: no new rows are read or sent.
  resendFailed() {
    return History.sendNow("resend_failed", { name: History.name });
  },

  async sendNow(command, args) {
    const result = await withBusy($("history-resend"), $("history-progress"), () => call(command, args));
    await History.render();
    if (!result.ok) return showNote("history-note", errorText(result), "error");
    const r = result.value;
    showNote("history-note", t("run.done", { found: r.new_rows, sent: r.sent, failed: r.failed + r.rejected, skipped: r.skipped }), "ok");
  },

  async refresh() {
    const result = await withBusy($("history-refresh"), $("history-progress"), () => call("check_deliveries"));
    await History.render();
    showNote("history-note", result.ok ? t("history.refreshed", { n: result.value }) : errorText(result), result.ok ? "ok" : "error");
  },

  // The core's CSV (the CLI's `history --csv`), not a copy made here.
  async exportCsv() {
    const result = await call("history_csv", { name: History.name });
    if (!result.ok) return showNote("history-note", errorText(result), "error");
    Exporter.open(result.value, `${History.name.replace(/[\\/:*?"<>|]/g, "_")}-history.csv`);
  },

  init() {
    $("history-back").addEventListener("click", () => showApp("connections"));
    $("history-filter").addEventListener("change", () => History.render());
    $("history-resend").addEventListener("click", () => History.resendFailed());
    $("history-refresh").addEventListener("click", () => History.refresh());
    $("history-export").addEventListener("click", () => History.exportCsv());
  },
};

// The export dialog: the CSV shown, copied, or saved to a typed path.
export const Exporter = {
  open(text, fileName) {
    $("export-text").value = text;
    $("export-path").value = fileName;
    $("export-note").hidden = true;
    $("export-dialog").showModal();
    $("export-path").focus();
  },

  async save() {
    const result = await call("save_csv", { path: $("export-path").value, contents: $("export-text").value });
    showNote("export-note", result.ok ? t("export.saved", { path: result.value }) : errorText(result), result.ok ? "ok" : "error");
  },

  async copy() {
    $("export-text").select();
    let ok = false;
    try {
      await navigator.clipboard.writeText($("export-text").value);
      ok = true;
    } catch (_) {
      ok = document.execCommand("copy");
    }
    showNote("export-note", ok ? t("export.copied") : t("export.copyFailed"), ok ? "ok" : "warn");
  },

  init() {
    $("export-save").addEventListener("click", () => Exporter.save());
    $("export-copy").addEventListener("click", () => Exporter.copy());
    $("export-close").addEventListener("click", () => $("export-dialog").close());
  },
};
