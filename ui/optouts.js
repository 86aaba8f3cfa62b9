// The opt-out list: numbers no connection ever texts. Numbers are read and
// normalised by the backend; this screen only shows the answers.
import { call } from "./ipc.js";
import { t, errorText } from "./i18n.js";
import { $, el, showNote, withBusy, fmtWhen } from "./dom.js";
import { Exporter } from "./history.js";

export const OptOuts = {
  async render() {
    const result = await call("list_optouts");
    if (!result.ok) return showNote("optouts-note", errorText(result), "error");
    $("optouts-body").replaceChildren(...result.value.map((o) =>
      el("tr", { dataset: { phone: o.phone } },
        el("td", { class: "nowrap" }, o.phone), el("td", {}, o.note || ""), el("td", { class: "nowrap" }, fmtWhen(o.added_at)),
        el("td", { class: "row-actions" },
          el("button", { type: "button", onclick: () => OptOuts.remove(o.phone) }, t("accounts.remove"))))));
    $("optouts-table").hidden = result.value.length === 0;
    $("optouts-empty").hidden = result.value.length !== 0;
  },

  async add(event) {
    event.preventDefault();
    const result = await withBusy($("o-add"), null, () =>
      call("add_optout", { number: $("o-number").value, note: $("o-note").value, countryCode: $("o-country").value }));
    if (!result.ok) return showNote("optouts-note", errorText(result), "error");
    const country = $("o-country").value;
    $("optout-form").reset();
    $("o-country").value = country;
    showNote("optouts-note", t("optouts.added", { phone: result.value }), "ok");
    $("o-number").focus();
    await OptOuts.render();
  },

  async remove(phone) {
    const result = await call("remove_optout", { number: phone });
    if (!result.ok) showNote("optouts-note", errorText(result), "error");
    await OptOuts.render();
  },

  async importFile(event) {
    event.preventDefault();
    const result = await withBusy($("o-import"), null, () =>
      call("import_optouts", { path: $("o-import-path").value, countryCode: $("o-import-country").value }));
    if (!result.ok) return showNote("optouts-note", errorText(result), "error");
    const r = result.value;
    let text = t("optouts.imported", { added: r.added, already: r.already_listed, refused: r.refused.length });
    if (r.refused.length) text += " " + r.refused.slice(0, 5).map(([line, raw]) => t("optouts.refusedLine", { line, raw })).join("; ");
    showNote("optouts-note", text, r.refused.length ? "warn" : "ok");
    await OptOuts.render();
  },

  async exportList() {
    const result = await call("export_optouts");
    if (!result.ok) return showNote("optouts-note", errorText(result), "error");
    Exporter.open(result.value, "opt-out.csv");
  },

  init() {
    // The wizard's countries (translated with it), so a local number means the same everywhere.
    for (const id of ["o-country", "o-import-country"]) {
      $(id).replaceChildren(...[...$("w-country").options].map((o) => o.cloneNode(true)));
    }
    $("optout-form").addEventListener("submit", OptOuts.add);
    $("optout-import").addEventListener("submit", OptOuts.importFile);
    $("optouts-export").addEventListener("click", OptOuts.exportList);
  },
};
