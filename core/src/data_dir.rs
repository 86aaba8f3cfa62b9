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
