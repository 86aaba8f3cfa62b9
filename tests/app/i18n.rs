//! Every error code the window can receive (`sendrow_core::code::Code`, a
//! closed set) has words in both languages, the window makes up no code
//! outside it, both languages have the same keys and plural forms, and no
//! Ukrainian string shows an English word.

use std::collections::BTreeSet;
use std::path::Path;

use sendrow_core::code::Code;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn strings(lang: &str) -> serde_json::Map<String, serde_json::Value> {
    let text = read(&format!("ui/i18n/{lang}.json"));
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(map)) => map,
        other => panic!("ui/i18n/{lang}.json must be one JSON object of strings, got {other:?}"),
    }
}

/// The plural forms `Intl.PluralRules` picks for whole numbers in `lang`.
fn plural_forms(lang: &str) -> &'static [&'static str] {
    match lang {
        "uk" => &["one", "few", "many", "other"],
        _ => &["one", "other"],
    }
}

/// Every visible text of `lang` with its key: a plain string, or each plural
/// form of a counted one (which must have all of the language's forms).
fn texts(lang: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, value) in strings(lang) {
        match value {
            serde_json::Value::String(text) => out.push((key, text)),
            serde_json::Value::Object(forms) => {
                for form in plural_forms(lang) {
                    let text = forms.get(*form).and_then(|v| v.as_str());
                    let text =
                        text.unwrap_or_else(|| panic!("ui/i18n/{lang}.json: {key:?} lacks the {form:?} plural form"));
                    out.push((format!("{key}.{form}"), text.to_owned()));
                }
            }
            other => panic!("ui/i18n/{lang}.json: {key:?} must be a string or plural forms, got {other}"),
        }
    }
    out
}

/// Latin words a Ukrainian text may contain: names, formats, and the labels
/// of 8x8's and Google's own pages, which those show in English.
const LATIN_ALLOWED: &[&str] = &[
    "8x8",
    "sendrow",
    "google",
    "csv",
    "sms",
    "api",
    "url",
    "id",
    "json",
    "excel",
    "ods",
    "oauth",
    "gsm-7",
    "ucs-2",
    "e-mail",
    "ctrl+c",
    "gid",
    "cloud",
    "connect",
    "keys",
    "sheets",
    "apis",
    "services",
    "credentials",
];

/// The first Latin word in `text` that is not on the allow-list (so also the
/// start of any English sentence), ignoring `{placeholders}`, `code` in
/// backticks and host names like sms.8x8.com.
pub(crate) fn english_word(text: &str) -> Option<String> {
    let mut plain = String::new();
    let (mut in_code, mut in_var) = (false, false);
    for c in text.chars() {
        match c {
            '`' => in_code = !in_code,
            '{' => in_var = true,
            '}' => in_var = false,
            _ if in_code || in_var => {}
            _ => plain.push(c),
        }
    }
    let is_latin = |c: char| c.is_ascii_alphanumeric() || "-+.".contains(c);
    for token in plain.split(|c: char| !is_latin(c)) {
        let word = token.trim_matches(|c: char| c == '.' || c == '-');
        if !word.chars().any(|c| c.is_ascii_alphabetic()) || word.contains('.') {
            continue;
        }
        if !LATIN_ALLOWED.contains(&word.to_lowercase().as_str()) {
            return Some(word.to_owned());
        }
    }
    None
}

#[test]
fn the_english_check_catches_english_words_and_lets_names_pass() {
    assert_eq!(english_word("Сторінка API keys порталу 8x8 Connect (sms.8x8.com), JSON-ключ"), None);
    assert_eq!(english_word("Надіслано {sent} · `sendrow daemon`"), None);
    assert_eq!(english_word("Перевірте: the account is inactive"), Some("the".to_owned()));
    assert_eq!(english_word("Subaccount ID"), Some("Subaccount".to_owned()));
}

#[test]
fn no_ukrainian_text_is_an_english_sentence() {
    let english: Vec<_> = texts("uk")
        .into_iter()
        .filter_map(|(key, text)| english_word(&text).map(|w| format!("{key}: {w:?}")))
        .collect();
    assert!(english.is_empty(), "ui/i18n/uk.json shows English to a Ukrainian user: {english:?}");
}

#[test]
fn counted_strings_have_every_plural_form() {
    for lang in ["en", "uk"] {
        assert!(texts(lang).len() > 300, "{lang}: the strings are read");
    }
}

/// Every `code: "…"` where the code is snake_case: the codes the window makes up.
fn quoted_codes(text: &str, out: &mut BTreeSet<String>) {
    for piece in text.split("code: \"").skip(1) {
        let code: String = piece.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
        if !code.is_empty() && piece[code.len()..].starts_with('"') {
            out.insert(code);
        }
    }
}

#[test]
fn every_error_code_has_words_in_both_languages() {
    for lang in ["en", "uk"] {
        let table = strings(lang);
        let missing: Vec<_> =
            Code::ALL.iter().filter(|c| !table.contains_key(&format!("error.{}", c.as_str()))).collect();
        assert!(missing.is_empty(), "ui/i18n/{lang}.json has no words for error codes {missing:?}");
    }
}

#[test]
fn the_window_makes_up_only_codes_of_the_closed_set() {
    let mut made_up = BTreeSet::new();
    for entry in std::fs::read_dir(root().join("ui")).expect("the ui folder") {
        let path = entry.expect("a ui entry").path();
        if path.extension().is_some_and(|e| e == "js") {
            quoted_codes(&std::fs::read_to_string(&path).expect("a ui script"), &mut made_up);
        }
    }
    assert!(made_up.contains("unknown"), "the scan finds ipc.js's own code: {made_up:?}");
    let known: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let strays: Vec<_> = made_up.iter().filter(|c| !known.contains(c.as_str())).collect();
    assert!(strays.is_empty(), "ui/*.js uses codes outside sendrow_core::code::Code: {strays:?}");
}

#[test]
fn both_languages_have_the_same_keys() {
    let en: BTreeSet<String> = strings("en").keys().cloned().collect();
    let uk: BTreeSet<String> = strings("uk").keys().cloned().collect();
    let only_en: Vec<_> = en.difference(&uk).collect();
    let only_uk: Vec<_> = uk.difference(&en).collect();
    assert!(only_en.is_empty(), "uk.json lacks {only_en:?}: a Ukrainian user would see English or a key");
    assert!(only_uk.is_empty(), "en.json lacks {only_uk:?}: an English user would see a key");
}

#[test]
fn every_screen_reader_label_is_translated() {
    // In the page: a fixed aria-label only as the fallback of a data-i18n-aria key.
    let html = read("ui/index.html");
    let untranslated: Vec<_> = html
        .split('<')
        .filter(|tag| tag.contains("aria-label=\"") && !tag.contains("data-i18n-aria=\""))
        .map(|tag| tag.chars().take(80).collect::<String>())
        .collect();
    assert!(untranslated.is_empty(), "ui/index.html has aria-labels no language changes: {untranslated:?}");
    let keys = strings("en");
    for key in html.split("data-i18n-aria=\"").skip(1).filter_map(|rest| rest.split('"').next()) {
        assert!(keys.contains_key(key), "ui/index.html: data-i18n-aria {key:?} has no words");
    }
    // In the scripts: labels come from t(…), never a literal.
    for entry in std::fs::read_dir(root().join("ui")).expect("the ui folder") {
        let path = entry.expect("a ui entry").path();
        if path.extension().is_some_and(|e| e == "js") {
            let text = std::fs::read_to_string(&path).expect("a ui script");
            assert!(!text.contains("aria-label=\""), "{}: a literal aria-label in markup", path.display());
            assert!(!text.contains("\"aria-label\": \""), "{}: a literal aria-label", path.display());
        }
    }
}
