//! How the CLI prints: `say!` a line to stdout, `tell!` one to stderr, and
//! JSON for `--json`. A closed pipe (`sendrow … | head`) or a closed stderr is
//! not worth a panic: the reader has all it wanted.

/// Prints a line to stderr, ignoring a closed stderr.
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// Prints a line to stdout, ignoring a closed pipe.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

pub(super) fn print_json(value: &impl serde::Serialize) {
    say!("{}", serde_json::to_string_pretty(value).expect("plain data serializes"));
}

/// A cost without float noise: `0.14`, not `0.14000000000000001`.
pub(super) fn amount(value: f64) -> String {
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}
