// Strings live in i18n/en.json and i18n/uk.json. The language follows the OS
// locale until the user picks one; switching re-renders in place.
"use strict";

const I18N = { lang: "en", strings: {}, fallback: {} };

async function loadStrings(lang) {
  const response = await fetch(`i18n/${lang}.json`);
  return response.json();
}

async function setLanguage(lang) {
  I18N.fallback = Object.keys(I18N.fallback).length ? I18N.fallback : await loadStrings("en");
  I18N.strings = lang === "en" ? I18N.fallback : await loadStrings(lang);
  I18N.lang = lang;
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
  }
}

function t(key, vars) {
  let text = I18N.strings[key] ?? I18N.fallback[key] ?? key;
  for (const [name, value] of Object.entries(vars || {})) {
    text = text.replaceAll(`{${name}}`, value);
  }
  return text;
}

// The words for an error from the backend, by its code; the backend's own
// English message is the detail.
function errorText(err) {
  const known = I18N.strings[`error.${err.code}`] ?? I18N.fallback[`error.${err.code}`];
  return known ? `${known} ${t("error.detail", { detail: err.message })}` : err.message;
}

function osLanguage() {
  const langs = navigator.languages || [navigator.language || "en"];
  return langs.some((l) => l.toLowerCase().startsWith("uk")) ? "uk" : "en";
}
