//! Where a data folder is: `--data-dir`, else `SENDROW_DATA_DIR` (both handled
//! by the CLI parser), else the OS app-data folder.

use std::path::PathBuf;

/// The OS app-data folder for Sendrow, e.g. `~/.local/share/sendrow` on Linux.
pub fn default_dir() -> Result<PathBuf, crate::Error> {
    dirs::data_dir().map(|d| d.join("sendrow")).ok_or_else(|| {
        crate::Error::Invalid("this system has no app-data folder; pass --data-dir DIR or set SENDROW_DATA_DIR".into())
    })
}

/// `explicit` when given, else the OS default.
pub fn resolve(explicit: Option<PathBuf>) -> Result<PathBuf, crate::Error> {
    match explicit {
        Some(dir) => Ok(dir),
        None => default_dir(),
    }
}

/// Creates the data folder when it is missing: on Unix only its owner may
/// enter it (0700), since it holds customers' names and numbers. A folder that
/// exists is left as it is (it may be one the user shares on purpose); the
/// database file itself is made private by `store`.
pub fn create(dir: &std::path::Path) -> Result<(), crate::Error> {
    let fail = |source| crate::Error::DataDir { path: dir.to_owned(), source };
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        // Another process made it in between: fine.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        other => other.map_err(fail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_folder_wins_over_the_os_default() {
        // The CLI passes `--data-dir`, or else `SENDROW_DATA_DIR`, as `explicit`
        // (clap prefers the flag; tests/app/cli.rs runs the binary with both).
        let chosen = PathBuf::from("/tmp/chosen-by-flag");
        assert_eq!(resolve(Some(chosen.clone())).unwrap(), chosen, "the given folder is used as is");
        if let Ok(default) = resolve(None) {
            assert!(default.ends_with("sendrow"), "the default is Sendrow's own folder: {}", default.display());
            assert_ne!(default, chosen, "and only used without one");
        }
    }
}
