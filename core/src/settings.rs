//! Application settings the user chooses. For now the UI language; default
//! country, quiet hours and flood limits join it with their features.

use crate::{Core, Error};

/// Languages the UI is translated into.
pub const LANGUAGES: [&str; 2] = ["en", "uk"];

impl Core {
    /// The chosen UI language, or `None` to follow the OS locale.
    pub fn language(&self) -> Result<Option<String>, Error> {
        Ok(self.store().setting("language")?.and_then(|v| v.as_str().map(str::to_owned)))
    }

    /// Chooses the UI language: `en` or `uk`.
    pub fn set_language(&self, language: &str) -> Result<(), Error> {
        if !LANGUAGES.contains(&language) {
            return Err(Error::Invalid(format!("language {language:?} is not available: use one of {LANGUAGES:?}")));
        }
        Ok(self.store().set_setting("language", &serde_json::json!(language))?)
    }
}
