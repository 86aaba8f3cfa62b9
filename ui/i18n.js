// Strings live in i18n/en.json and i18n/uk.json. The language follows the OS
// locale until the user picks one; switching re-renders in place.

export const I18N = { lang: "en", strings: {}, fallback: {} };

export async function loadStrings(lang) {
  const response = await fetch(`i18n/${lang}.json`);
  return response.json();
}

export async function setLanguage(lang) {
  I18N.fallback = Object.keys(I18N.fallback).length ? I18N.fallback : await loadStrings("en");
  I18N.strings = lang === "en" ? I18N.fallback : await loadStrings(lang);
  I18N.lang = lang;
  document.documentElement.lang = lang;
  translateIn(document);
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
  }
}

// A counted string is an object of plural forms ({one, few, many, other} in
// Ukrainian, {one, other} in English), picked by `vars.n`.
export function t(key, vars) {
  let text = I18N.strings[key] ?? I18N.fallback[key] ?? key;
  if (typeof text === "object") {
    const form = new Intl.PluralRules(I18N.lang).select(Number((vars && vars.n) ?? 0));
    text = text[form] ?? text.other;
  }
  for (const [name, value] of Object.entries(vars || {})) {
    text = text.replaceAll(`{${name}}`, value);
  }
  return text;
}

// The words for an error from the backend, by its code; the backend's own
// English message is the detail.
export function errorText(err) {
  const known = I18N.strings[`error.${err.code}`] ?? I18N.fallback[`error.${err.code}`];
  return known ? `${known} ${t("error.detail", { detail: err.message })}` : err.message;
}

// Words for a coded message from the engine ({code, params, text}: a pause
// reason, a warning, a note): ours in the window's language, the engine's
// English only for text an older Sendrow kept without a code.
export function codedText(coded) {
  if (!coded) return "";
  if (coded.code === "text" || !(I18N.strings[`error.${coded.code}`] ?? I18N.fallback[`error.${coded.code}`])) {
    return coded.text;
  }
  const quote = (v) => (typeof v === "string" ? `«${v}»` : String(v));
  const vars = {};
  for (const [name, value] of Object.entries(coded.params || {})) {
    vars[name] = Array.isArray(value) ? value.map(quote).join(", ") : String(value);
  }
  // How rows are told apart, in words: `fingerprint` or `column:NAME`.
  const keyMode = (mode) => (mode.startsWith("column:") ? t("keyMode.column", { column: mode.slice(7) }) : t("keyMode.fingerprint"));
  if (coded.code === "paused_key_changed") {
    vars.was = keyMode(coded.params.was);
    vars.now = keyMode(coded.params.now);
  }
  if (coded.code === "rows_skipped_for_id") {
    vars.lines = [...(coded.params.no_id || []), ...(coded.params.repeated || [])].sort((a, b) => a - b).join(", ");
  }
  return t(`error.${coded.code}`, vars);
}

// Why a composed row will not go (the preview's status), in the window's
// language: a text too long says how many parts it needs.
export function composeText(item) {
  if (item.status === "too_long") return t("compose.tooLongParts", { parts: item.segments });
  return t(`compose.${item.status}`);
}

// Translates [data-i18n] text and [data-i18n-aria] screen-reader labels
// inside `root` (also markup built after start).
export function translateIn(root) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-aria]")) node.setAttribute("aria-label", t(node.dataset.i18nAria));
}

export function osLanguage() {
  const langs = navigator.languages || [navigator.language || "en"];
  return langs.some((l) => l.toLowerCase().startsWith("uk")) ? "uk" : "en";
}
