// The main screen: one card per connection with the seed's gear (schedule),
// toggle (auto-update) and arrow (run now), its last and next run, and the
// banners that need a person: rows held by the flood guard and messages whose
// fate is unknown.
import { call } from "./ipc.js";
import { I18N, t, errorText, codedText, composeText } from "./i18n.js";
import { $, el, showError, showNote, withBusy, fmtWhen, baseName, iconButton } from "./dom.js";
import { intervalLabel, ScheduleEditor } from "./schedule.js";
import { Wizard } from "./wizard.js";
import { History } from "./history.js";
import { alertError, showFatal } from "./app.js";

export const Connections = {
  list: [],
  // Runs started here with the arrow, and runs the scheduler started.
  running: new Set(),
  scheduled: new Set(),
  gear: null,
  gearName: null,

  sourceLabel(source) {
    if (source.type === "google_sheets") return t("source.googleShort");
    if (source.type === "xlsx") return `${baseName(source.path)} · ${source.sheet}`;
    return baseName(source.path);
  },

  scheduleLabel(c) {
    const s = c.schedule;
    if (!s) return t("sched.noneShort");
    if (s.every_minutes) {
      const m = s.every_minutes;
      return t("sched.everyShort", { interval: intervalLabel(m), n: m < 60 ? m : m / 60 });
    }
    if (s.at) return t("sched.atShort", { times: s.at.join(", ") });
    if (s.after) return t("sched.afterShort", { name: s.after });
    return t("sched.changeShort");
  },

  nextRunLabel(c) {
    if (!c.auto_update) return t("next.off");
    if (c.status === "paused") return t("next.paused");
    if (c.next_run) return fmtWhen(c.next_run);
    if (c.schedule && c.schedule.after) return t("sched.afterShort", { name: c.schedule.after });
    if (c.schedule && c.schedule.on_change) return t("sched.changeShort");
    return t("next.none");
  },

  lastRunLabel(c) {
    const r = c.last_run;
    if (!r) return t("last.never");
    return `${fmtWhen(r.started_at)}: ${t("last.counts", { sent: r.sent, failed: r.failed + r.rejected, unknown: r.unknown })}`;
  },

  async render() {
    // Only the latest render draws: an earlier one may answer after it.
    const ticket = (Connections.ticket = (Connections.ticket || 0) + 1);
    const result = await call("list_connections");
    if (ticket !== Connections.ticket) return;
    if (!result.ok) return showFatal(result);
    Connections.list = result.value;
    const list = $("connections-list");
    const focused = document.activeElement && document.activeElement.id;
    list.replaceChildren(...result.value.map((c) => Connections.card(c)));
    $("connections-empty").hidden = result.value.length !== 0;
    if (focused && $(focused)) $(focused).focus();
  },

  card(c) {
    const key = encodeURIComponent(c.name);
    const running = Connections.running.has(c.name) || Connections.scheduled.has(c.name);
    const toggle = el("button", {
      type: "button", role: "switch", class: "switch", id: `toggle-${key}`,
      "aria-checked": String(c.auto_update), "aria-label": t("conn.toggle", { name: c.name }), title: t("conn.toggle", { name: c.name }),
      onclick: () => Connections.toggle(c),
    }, el("span"));
    const arrow = iconButton("run", t("conn.run", { name: c.name }), () => Connections.run(c.name, false), "run");
    arrow.id = `run-${key}`;
    arrow.disabled = running;
    const gear = iconButton("gear", t("conn.gear", { name: c.name }), () => Connections.openGear(c));
    gear.id = `gear-${key}`;

    // Its own words: in Ukrainian a connection (підключення) is neuter, an account is not.
    const status = el("div", { class: "status-line" }, el("span", { class: `badge ${c.status}` }, t(`connStatus.${c.status}`)));
    if (c.status_reason) status.append(el("span", { class: "reason" }, c.status_coded ? codedText(c.status_coded) : c.status_reason));
    if (running) status.append(el("span", { class: "progress", role: "status" }, t("conn.running")));

    const card = el("article", { class: "conn-card", dataset: { connection: c.name }, "aria-label": c.name },
      el("div", { class: "conn-main" },
        el("div", { class: "conn-title" },
          el("h2", {}, c.name),
          el("div", { class: "muted flow" }, `${Connections.sourceLabel(c.source)} → 8x8 · ${c.account}`)),
        status,
        el("div", { class: "controls" }, gear, toggle, arrow)),
      el("dl", { class: "conn-facts" },
        el("div", {}, el("dt", {}, t("conn.lastRun")), el("dd", { class: "last-run" }, Connections.lastRunLabel(c))),
        el("div", {}, el("dt", {}, t("conn.nextRun")), el("dd", { class: "next-run" }, Connections.nextRunLabel(c))),
        el("div", {}, el("dt", {}, t("conn.schedule")), el("dd", { class: "schedule-text" }, Connections.scheduleLabel(c))),
        // A reminder connection: how many are set and the next one.
        c.send_at ? el("div", {}, el("dt", {}, t("conn.reminders")), el("dd", { class: "reminders" },
          c.next_reminder ? t("conn.remindersNext", { n: c.reminders_ahead, next: fmtWhen(c.next_reminder) }) : t("conn.remindersNone"))) : null),
      el("div", { class: "conn-links" },
        el("button", { type: "button", class: "link", id: `history-${key}`, onclick: () => History.open(c.name) }, t("conn.history")),
        el("button", { type: "button", class: "link", id: `preview-${key}`, onclick: () => CardPreview.open(c.name) }, t("card.preview")),
        el("button", { type: "button", class: "link", id: `test-${key}`, onclick: () => CardTest.open(c.name) }, t("card.test")),
        el("button", { type: "button", class: "link", id: `edit-${key}`, onclick: () => Wizard.open(c) }, t("conn.edit")),
        el("button", { type: "button", class: "link danger", onclick: () => Connections.remove(c.name) }, t("conn.remove"))));

    // Said as the last run's, so it does not contradict a pause lifted since.
    if (c.last_run && c.last_run.error) {
      const r = c.last_run;
      // Our words by code; the engine's English sentence is kept for the CLI.
      const known = r.error_code && r.error_code !== "text" && I18N.strings[`error.${r.error_code}`];
      const error = known ? t(`error.${r.error_code}`) : r.error;
      card.append(el("p", { class: "banner error", title: r.error }, t("banner.lastRunStopped", { error })));
    }
    if (c.warning) {
      card.append(el("div", { class: "banner warn with-actions row-warning" },
        el("span", {}, c.warning_coded ? codedText(c.warning_coded) : c.warning),
        el("button", { type: "button", onclick: () => Connections.dismissWarning(c.name) }, t("banner.dismissWarning"))));
    }
    if (c.note) {
      card.append(el("div", { class: "banner with-actions row-note" },
        el("span", {}, c.note_coded ? codedText(c.note_coded) : c.note),
        el("button", { type: "button", onclick: () => Connections.dismissNote(c.name) }, t("banner.dismissNote"))));
    }
    if (c.status === "paused") {
      card.append(el("div", { class: "banner with-actions start-over" },
        el("span", {}, t("banner.startOverHint")),
        el("button", { type: "button", onclick: () => Connections.startOver(c.name) }, t("banner.startOver"))));
    }
    // Waiting for quiet hours to end: they go by themselves, so only the count.
    const waiting = c.counts.waiting || 0;
    if (waiting > 0) {
      card.append(el("div", { class: "banner with-actions waiting" },
        el("span", {}, t("banner.waiting", { n: waiting })),
        el("button", { type: "button", class: "link", onclick: () => History.open(c.name, "waiting") }, t("banner.review"))));
    }
    const held = c.counts.held || 0;
    if (held > 0) {
      card.append(el("div", { class: "banner warn with-actions held" },
        el("span", {}, t("banner.held", { n: held })),
        el("button", { type: "button", class: "primary", onclick: () => Connections.run(c.name, true) }, t("banner.sendAll")),
        el("button", { type: "button", onclick: () => Connections.skipHeld(c.name) }, t("banner.skipAll"))));
    }
    const unknown = c.counts.unknown || 0;
    if (unknown > 0) {
      card.append(el("div", { class: "banner warn with-actions unknown" },
        el("span", {}, t("banner.unknown", { n: unknown })),
        el("button", { type: "button", class: "primary", onclick: (e) => Connections.reconcile(c.name, e.currentTarget) }, t("banner.checkWith8x8")),
        el("button", { type: "button", class: "resend", onclick: () => Connections.resolveAll(c.name, "resend") }, t("banner.resend")),
        el("button", { type: "button", class: "mark-sent", onclick: () => Connections.resolveAll(c.name, "mark_sent") }, t("banner.markSent")),
        el("button", { type: "button", class: "link", onclick: () => History.open(c.name, "unknown") }, t("banner.review"))));
    }
    // Rows the last run left for the next read: still being typed, or a
    // number to correct. Named by line so the shop can fix them.
    const toFix = (c.last_run && c.last_run.rows_to_fix) || [];
    if (toFix.length > 0) {
      const lines = toFix.slice(0, 10).map((r) => t(`rowfix.${r.status}`, { line: r.line }));
      if (toFix.length > 10) lines.push(t("rowfix.more", { n: toFix.length - 10 }));
      card.append(el("div", { class: "banner rows-to-fix" },
        el("span", {}, t("banner.rowsToFix", { n: toFix.length })),
        el("ul", {}, ...lines.map((line) => el("li", {}, line)))));
    }
    const note = el("p", { class: "banner", role: "status", hidden: true, id: `note-${key}` });
    card.append(note);
    return card;
  },

  note(name, text, kind) {
    const box = $(`note-${encodeURIComponent(name)}`);
    if (box) showNote(box, text, kind);
  },

  async toggle(c) {
    const result = await call("set_auto_update", { name: c.name, on: !c.auto_update });
    await Connections.render();
    if (!result.ok) Connections.note(c.name, errorText(result), "error");
  },

  // The arrow: a run now, with a progress indicator while it lasts.
  async run(name, releaseHeld) {
    Connections.running.add(name);
    await Connections.render();
    const result = await call("run_connection", { name, releaseHeld });
    Connections.running.delete(name);
    await Connections.render();
    if (!result.ok) return Connections.note(name, errorText(result), "error");
    const r = result.value;
    const summary = t("run.done", { found: r.new_rows, sent: r.sent, failed: r.failed + r.rejected, skipped: r.skipped });
    Connections.note(name, summary, r.failed + r.rejected + r.unknown > 0 ? "warn" : "ok");
  },

  // The sheet shrank on purpose: runs go on from the rows there are now.
  async dismissWarning(name) {
    const result = await call("dismiss_warning", { name });
    await Connections.render();
    Connections.note(name, result.ok ? t("banner.warningDismissed") : errorText(result), result.ok ? "ok" : "error");
  },

  // The note about rows skipped for their ID was read; a shrink warning stays.
  async dismissNote(name) {
    const result = await call("dismiss_note", { name });
    await Connections.render();
    if (!result.ok) Connections.note(name, errorText(result), "error");
  },

  // Rows can no longer be recognised: what is in the source now counts as
  // already texted, and only rows added afterwards are sent.
  async startOver(name) {
    if (!window.confirm(t("conn.confirmStartOver", { name }))) return;
    const result = await call("start_over", { name });
    await Connections.render();
    Connections.note(name, result.ok ? t("banner.startedOver", { n: result.value }) : errorText(result), result.ok ? "ok" : "error");
  },

  async skipHeld(name) {
    const result = await call("skip_held", { name });
    await Connections.render();
    Connections.note(name, result.ok ? t("banner.skipped", { n: result.value }) : errorText(result), result.ok ? "ok" : "error");
  },

  // "Check with 8x8": Sendrow asks 8x8 what it received; found messages
  // become sent, those 8x8 never got go with the next run.
  async reconcile(name, button) {
    Connections.note(name, t("reconcile.checking"), "ok");
    const result = await withBusy(button, null, () => call("reconcile", { name }));
    await Connections.render();
    if (!result.ok) return Connections.note(name, errorText(result), "error");
    const r = result.value;
    Connections.note(name, t("reconcile.done", { found: r.found, notFound: r.not_found, still: r.still_unknown }),
      r.still_unknown > 0 ? "warn" : "ok");
  },

  // The unknown banner's bulk actions: one decision per row, then a run to
  // send what was marked for resending.
  async resolveAll(name, resolution) {
    const history = await call("history", { name });
    if (!history.ok) return Connections.note(name, errorText(history), "error");
    for (const entry of history.value.filter((e) => e.status === "unknown" && !e.is_test)) {
      const result = await call("resolve", { name, rowKey: entry.row_key, resolution });
      if (!result.ok) return Connections.note(name, errorText(result), "error");
    }
    if (resolution === "resend") await Connections.run(name, false);
    else await Connections.render();
  },

  // Unknown and failed messages would be forgotten: the question names them,
  // and only then is the removal forced (the core refuses it otherwise).
  async remove(name) {
    const counts = Connections.list.find((c) => c.name === name)?.counts ?? {};
    const unknown = counts.unknown ?? 0;
    const failed = counts.failed ?? 0;
    const force = unknown + failed > 0;
    const question = force ? t("conn.confirmRemoveUnsettled", { name, unknown, failed }) : t("conn.confirmRemove", { name });
    if (!window.confirm(question)) return;
    const result = await call("remove_connection", { name, force });
    await Connections.render();
    if (!result.ok) alertError(result);
  },

  openGear(c) {
    if (!Connections.gear) Connections.gear = new ScheduleEditor($("gear-schedule"), "g");
    Connections.gearName = c.name;
    $("gear-title").textContent = t("gear.title", { name: c.name });
    const others = Connections.list.map((o) => o.name).filter((n) => n !== c.name);
    Connections.gear.set(c.schedule, { others, isFile: c.source.type !== "google_sheets" });
    showError("gear-error", null);
    $("gear-dialog").showModal();
  },

  async saveGear(event) {
    event.preventDefault();
    const c = Connections.list.find((o) => o.name === Connections.gearName);
    if (!c) return $("gear-dialog").close();
    const spec = { ...c.spec, auto_update: c.auto_update, schedule: Connections.gear.get() };
    const result = await withBusy($("gear-save"), null, () => call("update_connection", { spec }));
    if (!result.ok) return showError("gear-error", result);
    $("gear-dialog").close();
    await Connections.render();
  },
};

// The card's Preview: every row the next run would send, and why each row
// that will not go stays (bad phone, opted out, incomplete). Nothing is sent.
export const CardPreview = {
  async open(name) {
    $("preview-dialog-title").textContent = t("cardPreview.title", { name });
    $("pv-body").replaceChildren();
    $("pv-table").hidden = true;
    $("pv-summary").textContent = "";
    showError("pv-error", null);
    $("preview-dialog").showModal();
    const result = await withBusy(null, $("pv-progress"), () => call("preview_connection", { name }));
    if (!result.ok) return showError("pv-error", result);
    const items = result.value.items;
    const ready = items.filter((i) => i.status === "ready");
    const parts = [items.length === 0 ? t("cardPreview.empty") : t("cardPreview.ready", { n: ready.length })];
    if (items.length > ready.length) parts.push(t("cardPreview.notReady", { n: items.length - ready.length }));
    // The engine's English note only where English is read.
    if (result.value.note && I18N.lang === "en") parts.push(result.value.note);
    $("pv-summary").textContent = parts.join(" ");
    $("pv-body").replaceChildren(...items.map((i) => CardPreview.row(i)));
    $("pv-table").hidden = items.length === 0;
  },

  row(i) {
    const ready = i.status === "ready";
    // The reason is the engine's English sentence: shown in English, a tooltip otherwise.
    const why = el("td", { class: ready ? "" : "why", title: i.reason || null }, composeText(i));
    if (!ready && i.reason && I18N.lang === "en") why.append(el("div", { class: "muted" }, i.reason));
    return el("tr", { dataset: { row: i.row, status: i.status } },
      el("td", { class: "nowrap" }, t("history.line", { line: i.line })),
      el("td", { class: "nowrap" }, i.phone || "—"),
      el("td", { class: "text" }, i.text),
      el("td", { class: "nowrap" }, i.encoding === "GSM7" ? "GSM-7" : "UCS-2"),
      el("td", {}, String(i.segments)),
      el("td", { class: "nowrap" }, i.cost == null ? "—" : i.cost.toFixed(2)),
      why);
  },
};

// The card's Test: data row N's SMS to that row's phone, or to my own number.
export const CardTest = {
  name: null,

  open(name) {
    CardTest.name = name;
    $("card-test-title").textContent = t("cardTest.title", { name });
    $("ct-result").hidden = true;
    $("card-test-dialog").showModal();
  },

  async send(event) {
    event.preventDefault();
    const own = document.querySelector('input[name="ct-to"]:checked').value === "own";
    const row = Number.parseInt($("ct-row").value, 10);
    if (own && !$("ct-own").value.trim()) return showNote("ct-result", t("test.needNumber"), "error");
    const args = { name: CardTest.name, row: own || !(row >= 1) ? null : row, to: own ? $("ct-own").value : null };
    const result = await withBusy($("ct-send"), $("ct-progress"), () => call("test_send", args));
    if (!result.ok) return showNote("ct-result", errorText(result), "error");
    const r = result.value;
    if (r.status === "queued") {
      let text = t("test.queued", { phone: r.phone, umid: r.umid || "" });
      if (r.counts_as_row_message) text += " " + t("test.counts");
      showNote("ct-result", text, "ok");
    } else if (r.status === "unknown") {
      showNote("ct-result", t("test.unknown"), "warn");
    } else {
      showNote("ct-result", `${t(r.status === "rejected" ? "test.rejected" : "test.failed")} ${r.reason || ""}`, "error");
    }
    await Connections.render();
  },

  init() {
    $("card-test-form").addEventListener("submit", CardTest.send);
    $("ct-close").addEventListener("click", () => $("card-test-dialog").close());
    for (const id of ["ct-row", "ct-own"]) {
      $(id).addEventListener("focus", () => {
        document.querySelector(`input[name="ct-to"][value="${id === "ct-own" ? "own" : "row"}"]`).checked = true;
      });
    }
  },
};
