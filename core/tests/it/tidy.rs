//! Rules about the source tree itself.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The workspace as Cargo reads it: every manifest form (inline tables,
/// `[dependencies.x]`, target-specific tables, renames) comes out the same.
fn workspace_metadata() -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_owned());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--manifest-path"])
        .arg(&manifest)
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

/// `package`'s dependencies of any kind (normal, dev, build) whose crate or
/// local name mentions tauri, as "name (kind)".
fn tauri_dependencies(metadata: &serde_json::Value, package: &str) -> Vec<String> {
    let packages = metadata["packages"].as_array().expect("a package list");
    let found = packages.iter().find(|p| p["name"] == package);
    let found = found.unwrap_or_else(|| panic!("{package} is a workspace member"));
    let mut named = Vec::new();
    for dep in found["dependencies"].as_array().expect("a dependency list") {
        let names = [&dep["name"], &dep["rename"]];
        if names.iter().filter_map(|n| n.as_str()).any(|n| n.to_ascii_lowercase().contains("tauri")) {
            named.push(format!(
                "{} ({})",
                dep["name"].as_str().unwrap_or("?"),
                dep["kind"].as_str().unwrap_or("normal")
            ));
        }
    }
    named
}

#[test]
fn core_never_depends_on_tauri() {
    let metadata = workspace_metadata();
    // The check must see what it looks for: the app itself depends on tauri
    // as a normal dependency, through plugins and as a build dependency.
    let app = tauri_dependencies(&metadata, "sendrow");
    for expected in ["tauri (normal)", "tauri-build (build)", "tauri-plugin-notification (normal)"] {
        assert!(app.contains(&expected.to_owned()), "the check finds {expected} in the app: {app:?}");
    }
    let core = tauri_dependencies(&metadata, "sendrow-core");
    assert!(core.is_empty(), "core must stay GUI-free so it can be tested headless; found {core:?}");
}

#[test]
fn every_core_module_says_what_it_is_for() {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    assert!(files.len() > 5, "the walk found the sources");
    let undocumented: Vec<_> =
        files.iter().filter(|f| !std::fs::read_to_string(f).unwrap().trim_start().starts_with("//!")).collect();
    assert!(undocumented.is_empty(), "each module opens with a //! comment saying why it exists: {undocumented:?}");
}

/// Core's top-level modules, lowest first: a module may use (`use crate::x`,
/// or a `crate::x::` path) only the modules listed before it. Records and
/// pure rules sit low, services above them, the faces (daemon, CLI) on top;
/// so no two modules reach each other, and a low layer never reaches up for
/// a type. A new module goes after every module it uses; `lib.rs` (the
/// crate root: `Core`, `Error`) stands above them all.
const LAYERS: &[&str] = &[
    // Foundations: know nothing of Sendrow's services.
    "code",
    "gsm7",
    "secrets",
    "lock",
    "data_dir",
    "logging",
    "settings",
    "schedule",
    // Records the store keeps, and pure rules.
    "model",
    "compose",
    "reminder",
    "gateway",
    "sim",
    "source",
    "store",
    "scheduler",
    "conditions",
    // Services over the store, 8x8 and the sources.
    "send",
    "delivery",
    "reconcile",
    "optout",
    "account",
    "google_setup",
    "connection",
    "follow",
    "draft",
    "run",
    "test_send",
    "history",
    "rename",
    "sandbox",
    // Faces.
    "daemon",
    "cli",
];

/// The modules `text` names through `crate::`, with their 1-based lines:
/// `crate::x::…` paths and the names in `use crate::{x, y::…}` groups
/// (across lines). Comments are left out, so a doc link is not a use.
fn crate_references(text: &str) -> Vec<(usize, String)> {
    let code: String = text
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let bytes = code.as_bytes();
    let line_at = |i: usize| code[..i].matches('\n').count() + 1;
    let ident = |from: usize| {
        let end =
            code[from..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(code.len(), |n| from + n);
        (&code[from..end], end)
    };
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(n) = code[at..].find("crate::") {
        let start = at + n;
        at = start + "crate::".len();
        // `sendrow_crate::` or `my_crate::` is not this crate.
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        if bytes.get(at) == Some(&b'{') {
            // A group: the names at its first depth.
            let (mut depth, mut i, mut expect_name) = (1, at + 1, true);
            while i < bytes.len() && depth > 0 {
                match bytes[i] {
                    b'{' => depth += 1,
                    b'}' => depth -= 1,
                    b',' if depth == 1 => expect_name = true,
                    c if depth == 1 && expect_name && (c.is_ascii_alphabetic() || c == b'_') => {
                        let (name, end) = ident(i);
                        found.push((line_at(i), name.to_owned()));
                        expect_name = false;
                        i = end;
                        continue;
                    }
                    _ => {}
                }
                i += 1;
            }
            at = i;
        } else {
            let (name, _) = ident(at);
            found.push((line_at(start), name.to_owned()));
        }
    }
    found
}

#[test]
fn crate_references_finds_paths_and_groups() {
    let text = "//! see [`crate::cli`]\nuse crate::{lock, store::{Store, Entry}, Core};\nlet x = crate::run::go(sendrow_crate::y);\n";
    let found = crate_references(text);
    let expected: Vec<(usize, String)> =
        vec![(2, "lock".into()), (2, "store".into()), (2, "Core".into()), (3, "run".into())];
    assert_eq!(found, expected, "paths and group names with their lines, comments left out");
}

#[test]
fn core_modules_only_use_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod ").or_else(|| l.strip_prefix("mod ")))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    let mut sorted_layers = LAYERS.to_vec();
    sorted_layers.sort_unstable();
    let mut sorted_declared = declared.clone();
    sorted_declared.sort_unstable();
    assert_eq!(sorted_layers, sorted_declared, "LAYERS lists exactly the modules lib.rs declares");

    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut checked = 0;
    let mut upward = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let module = relative.components().next().unwrap().as_os_str().to_str().unwrap().trim_end_matches(".rs");
        if module == "lib" {
            continue;
        }
        let rank = LAYERS.iter().position(|m| *m == module).unwrap_or_else(|| panic!("{module} is in LAYERS"));
        for (line, used) in crate_references(&std::fs::read_to_string(file).unwrap()) {
            let Some(used_rank) = LAYERS.iter().position(|m| *m == used) else { continue };
            if used == module {
                continue;
            }
            checked += 1;
            if used_rank > rank {
                upward.push(format!(
                    "core/src/{}:{line}: `{module}` uses `{used}`, which LAYERS puts above it \
                     (a module uses only the modules listed before it; move the type down, or the call up)",
                    relative.display()
                ));
            }
        }
    }
    assert!(checked > 50, "the scan found the crate's imports (only {checked})");
    assert!(
        upward.is_empty(),
        "imports against the layer order in core/tests/it/tidy.rs LAYERS:\n{}",
        upward.join("\n")
    );
}
