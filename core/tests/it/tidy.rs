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
