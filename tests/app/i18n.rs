//! Every error code the window can receive has words in both languages, and
//! both languages have the same keys. Codes are collected from where they are
//! defined: the core's `code()` functions, the app's own `IpcError`s, and the
//! codes the UI makes up itself (`code: "…"` in ui/*.js).

use std::collections::BTreeSet;
use std::path::Path;

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

/// The `"snake_case"` literals after `marker` up to the end of the function
/// body (the first line that is exactly `    }`).
fn literals_in_fn(source: &str, marker: &str, out: &mut BTreeSet<String>) {
    let start = source.find(marker).unwrap_or_else(|| panic!("{marker:?} not found"));
    let body = &source[start..];
    let end = body.find("\n    }\n").unwrap_or(body.len());
    quoted_codes(&body[..end], "=> \"", out);
}

/// Every `prefix"code"` where code is snake_case.
fn quoted_codes(text: &str, prefix: &str, out: &mut BTreeSet<String>) {
    for piece in text.split(prefix).skip(1) {
        let code: String = piece.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
        if !code.is_empty() && piece[code.len()..].starts_with('"') {
            out.insert(code);
        }
    }
}

#[test]
fn every_error_code_has_words_in_both_languages() {
    let mut codes = BTreeSet::new();
    literals_in_fn(&read("core/src/lib.rs"), "pub fn code(&self)", &mut codes);
    literals_in_fn(&read("core/src/source/google/mod.rs"), "pub fn code(&self)", &mut codes);
    for file in ["src-tauri/commands.rs", "src-tauri/lib.rs", "src-tauri/ipc_error.rs", "src-tauri/scheduler.rs"] {
        quoted_codes(&read(file), "code: \"", &mut codes);
    }
    for entry in std::fs::read_dir(root().join("ui")).expect("the ui folder") {
        let path = entry.expect("a ui entry").path();
        if path.extension().is_some_and(|e| e == "js") {
            let text = std::fs::read_to_string(&path).expect("a ui script");
            quoted_codes(&text, "code: \"", &mut codes);
        }
    }
    assert!(codes.len() > 20, "the scan must find the core's codes, found only {codes:?}");
    for lang in ["en", "uk"] {
        let table = strings(lang);
        let missing: Vec<_> = codes.iter().filter(|c| !table.contains_key(&format!("error.{c}"))).collect();
        assert!(missing.is_empty(), "ui/i18n/{lang}.json has no words for error codes {missing:?}");
    }
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
