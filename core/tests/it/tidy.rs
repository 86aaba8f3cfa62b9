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

#[test]
fn core_never_depends_on_tauri() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let offending: Vec<&str> = manifest.lines().filter(|l| l.trim_start().starts_with("tauri")).collect();
    assert!(offending.is_empty(), "core must stay GUI-free so it can be tested headless; found {offending:?}");
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
