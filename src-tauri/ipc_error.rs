//! The one error shape that crosses IPC: `{code, message}`. The UI translates
//! `code` with its own table; `message` is the core's English text, shown when
//! the table has no entry. Core errors never contain secrets, so neither does this.

use sendrow_core::code::Code;
use serde::Serialize;

/// An error as the window sees it.
#[derive(Debug, Clone, Serialize)]
pub struct IpcError {
    /// A stable code: `sendrow_core::Error::code`, or the app's own.
    pub code: Code,
    /// The core's explanation.
    pub message: String,
}

impl From<&sendrow_core::Error> for IpcError {
    fn from(e: &sendrow_core::Error) -> Self {
        IpcError { code: e.code(), message: e.to_string() }
    }
}

impl From<sendrow_core::Error> for IpcError {
    fn from(e: sendrow_core::Error) -> Self {
        IpcError::from(&e)
    }
}
