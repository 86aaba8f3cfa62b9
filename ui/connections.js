// The main screen: one card per connection with the seed's gear (schedule),
// toggle (auto-update) and arrow (run now), its last and next run, and the
// banners that need a person: rows held by the flood guard and messages whose
// fate is unknown.
"use strict";

const Connections = {
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
    if (s.every_minutes) return t("sched.everyShort", { interval: intervalLabel(s.every_minutes) });
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
    if (c.status_reason) status.append(el("span", { class: "reason" }, c.status_reason));
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
        el("button", { type: "button", class: "link", id: `edit-${key}`, onclick: () => Wizard.open(c) }, t("conn.edit")),
        el("button", { type: "button", class: "link danger", onclick: () => Connections.remove(c.name) }, t("conn.remove"))));

    // Said as the last run's, so it does not contradict a pause lifted since.
    if (c.last_run && c.last_run.error) card.append(el("p", { class: "banner error" }, t("banner.lastRunStopped", { error: c.last_run.error })));
    if (c.warning) {
      card.append(el("div", { class: "banner warn with-actions row-warning" },
        el("span", {}, c.warning),
        el("button", { type: "button", onclick: () => Connections.dismissWarning(c.name) }, t("banner.dismissWarning"))));
    }
    if (c.note) {
      card.append(el("div", { class: "banner with-actions row-note" },
        el("span", {}, c.note),
        el("button", { type: "button", onclick: () => Connections.dismissNote(c.name) }, t("banner.dismissNote"))));
    }
    if (c.status === "paused") {
      card.append(el("div", { class: "banner with-actions start-over" },
        el("span", {}, t("banner.startOverHint")),
        el("button", { type: "button", onclick: () => Connections.startOver(c.name) }, t("banner.startOver"))));
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
        el("button", { type: "button", onclick: () => Connections.resolveAll(c.name, "resend") }, t("banner.resend")),
        el("button", { type: "button", onclick: () => Connections.resolveAll(c.name, "mark_sent") }, t("banner.markSent")),
        el("button", { type: "button", class: "link", onclick: () => History.open(c.name, "unknown") }, t("banner.review"))));
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

  async remove(name) {
    if (!window.confirm(t("conn.confirmRemove", { name }))) return;
    const result = await call("remove_connection", { name });
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
