// Small DOM helpers shared by the screens. View code only: no rules here.
import { I18N, t, errorText } from "./i18n.js";

export const $ = (id) => document.getElementById(id);

// el("button", {type: "button", class: "x", onclick: fn}, "text", child…)
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// Shows a backend error (or hides the box when `err` is null).
export function showError(box, err) {
  const node = typeof box === "string" ? $(box) : box;
  if (!err) {
    node.hidden = true;
    return;
  }
  node.textContent = errorText(err);
  node.hidden = false;
}

// Shows a plain message in a banner; kind is "ok", "warn" or "error".
export function showNote(box, text, kind) {
  const node = typeof box === "string" ? $(box) : box;
  node.className = `banner ${kind || "ok"}`;
  node.textContent = text;
  node.hidden = !text;
}

// Disables `button` and shows `progress` while `work` runs; returns its result.
export async function withBusy(button, progress, work) {
  if (button) button.disabled = true;
  if (progress) progress.hidden = false;
  try {
    return await work();
  } finally {
    if (button) button.disabled = false;
    if (progress) progress.hidden = true;
  }
}

export function locale() {
  return I18N.lang === "uk" ? "uk-UA" : "en-GB";
}

export function fmtTime(date) {
  return new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit" }).format(date);
}

// "today 09:00", "tomorrow 09:00" or "12 March, 09:00" in the UI language.
export function fmtWhen(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const diff = Math.round((day(date) - day(new Date())) / 86400000);
  if (diff === 0) return t("when.today", { time: fmtTime(date) });
  if (diff === 1) return t("when.tomorrow", { time: fmtTime(date) });
  if (diff === -1) return t("when.yesterday", { time: fmtTime(date) });
  const d = new Intl.DateTimeFormat(locale(), { day: "numeric", month: "long" }).format(date);
  return t("when.date", { date: d, time: fmtTime(date) });
}

// A file's name without its folder, for compact labels.
export function baseName(path) {
  return String(path).split(/[\\/]/).pop();
}

// Inline icons (static markup, no script).
export const ICONS = {
  gear: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 8.5a3.5 3.5 0 1 0 0 7 3.5 3.5 0 0 0 0-7Zm8.4 4.6-.1-2.2 2-1.6-2-3.4-2.4.9a7.9 7.9 0 0 0-1.9-1.1L15.6 3h-4l-.4 2.7c-.7.3-1.3.6-1.9 1.1l-2.4-.9-2 3.4 2 1.6a7.6 7.6 0 0 0 0 2.2l-2 1.6 2 3.4 2.4-.9c.6.5 1.2.8 1.9 1.1l.4 2.7h4l.4-2.7c.7-.3 1.3-.6 1.9-1.1l2.4.9 2-3.4-2-1.6Z" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"/></svg>',
  run: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M5 12h12M12 6l6 6-6 6" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></svg>',
};

export function iconButton(icon, label, onclick, extra) {
  const button = el("button", { type: "button", class: `icon ${extra || ""}`, "aria-label": label, title: label, onclick });
  button.innerHTML = ICONS[icon];
  return button;
}
