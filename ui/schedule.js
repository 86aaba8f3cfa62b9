// The schedule editor, used by the wizard's last step and by the gear on the
// connections screen. It only collects choices; the backend checks the times
// and applies the 5-minute rule (`first_runs`), and refuses bad schedules on save.
import { call } from "./ipc.js";
import { t, translateIn } from "./i18n.js";
import { $, el, fmtWhen } from "./dom.js";

export const OPTIONS = { intervals: [1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440], variables: [] };

export function intervalLabel(minutes) {
  return minutes < 60 ? t("interval.minutes", { n: minutes }) : t("interval.hours", { n: minutes / 60 });
}

export class ScheduleEditor {
  // `prefix` keeps element ids unique between the wizard and the gear dialog.
  constructor(root, prefix) {
    this.root = root;
    this.p = prefix;
    this.times = ["09:00"];
    this.build();
  }

  id(name) {
    return `${this.p}-${name}`;
  }

  build() {
    const p = this.p;
    this.root.innerHTML = `
      <fieldset class="schedule">
        <legend data-i18n="sched.legend">When should it check for new rows?</legend>
        <label class="radio"><input type="radio" name="${p}-kind" value="none"> <span data-i18n="sched.none">Only when I press the arrow</span></label>
        <label class="radio"><input type="radio" name="${p}-kind" value="every"> <span data-i18n="sched.every">Every</span>
          <select id="${p}-interval" data-i18n-aria="aria.interval"></select></label>
        <label class="radio"><input type="radio" name="${p}-kind" value="at"> <span data-i18n="sched.at">On schedule, every day at</span></label>
        <div class="sub" id="${p}-at-box">
          <div id="${p}-times" class="times"></div>
          <button type="button" id="${p}-add-time" data-i18n="sched.addTime">Add a time</button>
          <p class="hint" id="${p}-rule" data-i18n="sched.rule">A time runs today only if it is more than 5 minutes away; otherwise its first run is tomorrow.</p>
        </div>
        <label class="radio"><input type="radio" name="${p}-kind" value="after"> <span data-i18n="sched.after">Only after connection</span>
          <select id="${p}-after" data-i18n-aria="aria.after"></select></label>
        <label class="radio" id="${p}-change-line"><input type="radio" name="${p}-kind" value="change"> <span data-i18n="sched.change">When the file is saved</span></label>
      </fieldset>`;
    translateIn(this.root);
    $(this.id("add-time")).addEventListener("click", () => {
      this.readTimes();
      this.times.push("");
      this.renderTimes();
      const inputs = this.root.querySelectorAll(".times input");
      inputs[inputs.length - 1].focus();
    });
    for (const radio of this.root.querySelectorAll(`input[name="${p}-kind"]`)) {
      radio.addEventListener("change", () => this.sync());
    }
  }

  kind() {
    const checked = this.root.querySelector(`input[name="${this.p}-kind"]:checked`);
    return checked ? checked.value : "none";
  }

  // Fills the editor from a saved schedule; `others` are connections it may
  // follow, `isFile` whether "when the file is saved" applies.
  set(schedule, { others, isFile }) {
    const interval = $(this.id("interval"));
    interval.replaceChildren(...OPTIONS.intervals.map((m) => el("option", { value: m }, intervalLabel(m))));
    interval.value = "15";
    const after = $(this.id("after"));
    after.replaceChildren(...others.map((name) => el("option", { value: name }, name)));
    this.root.querySelector(`input[value="after"]`).disabled = others.length === 0;
    $(this.id("change-line")).hidden = !isFile;
    let kind = "none";
    this.times = ["09:00"];
    if (schedule && schedule.every_minutes) {
      kind = "every";
      interval.value = String(schedule.every_minutes);
    } else if (schedule && schedule.at) {
      kind = "at";
      this.times = schedule.at.slice();
    } else if (schedule && schedule.after) {
      kind = "after";
      after.value = schedule.after;
    } else if (schedule && schedule.on_change) {
      kind = isFile ? "change" : "none";
    }
    this.root.querySelector(`input[name="${this.p}-kind"][value="${kind}"]`).checked = true;
    this.renderTimes();
    this.sync();
  }

  sync() {
    const kind = this.kind();
    $(this.id("interval")).disabled = kind !== "every";
    $(this.id("after")).disabled = kind !== "after";
    $(this.id("at-box")).hidden = kind !== "at";
    if (kind === "at") this.refreshNotes();
  }

  readTimes() {
    this.times = [...this.root.querySelectorAll(".times input")].map((i) => i.value.trim());
  }

  renderTimes() {
    const box = $(this.id("times"));
    box.replaceChildren();
    this.times.forEach((time, index) => {
      const input = el("input", {
        value: time, class: "time", autocomplete: "off", inputmode: "numeric", placeholder: "09:00",
        "aria-label": t("sched.timeLabel"), id: `${this.p}-time-${index}`,
      });
      input.addEventListener("input", () => this.refreshNotesSoon());
      const remove = el("button", {
        type: "button", class: "link", "aria-label": t("sched.removeTime"),
        onclick: () => {
          this.readTimes();
          this.times.splice(index, 1);
          if (this.times.length === 0) this.times.push("");
          this.renderTimes();
          this.refreshNotes();
        },
      }, "×");
      box.append(el("div", { class: "time-row" }, input, remove, el("span", { class: "note", id: `${this.p}-note-${index}` })));
    });
  }

  refreshNotesSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refreshNotes(), 250);
  }

  // Asks the backend when each time first runs, and says so next to it.
  async refreshNotes() {
    this.readTimes();
    const ticket = (this.ticket = (this.ticket || 0) + 1);
    const notes = await Promise.all(this.times.map((time) => (time ? call("first_runs", { times: [time] }) : null)));
    if (ticket !== this.ticket) return;
    notes.forEach((result, index) => {
      const note = $(`${this.p}-note-${index}`);
      if (!note) return;
      note.className = "note";
      if (!result) {
        note.textContent = "";
      } else if (!result.ok) {
        note.className = "note bad";
        note.textContent = t("sched.badTime");
      } else {
        const first = result.value[0];
        note.className = first.too_soon ? "note warn" : "note";
        note.textContent = first.too_soon
          ? t("sched.tooSoon", { when: fmtWhen(first.first_run) })
          : t("sched.firstRun", { when: fmtWhen(first.first_run) });
      }
    });
  }

  // The schedule as the connection spec writes it (null: no schedule).
  get() {
    switch (this.kind()) {
      case "every":
        return { every_minutes: Number($(this.id("interval")).value) };
      case "at":
        this.readTimes();
        return { at: this.times.filter((time) => time !== "") };
      case "after":
        return { after: $(this.id("after")).value };
      case "change":
        return { on_change: true };
      default:
        return null;
    }
  }
}
