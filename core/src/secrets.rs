//! Secrets (8x8 API keys, later Google tokens) and where they are kept.
//!
//! The real store is the OS keychain through `keyring` (Secret Service on
//! Linux). `MemorySecrets` stands in for it in unit tests; end-to-end tests use
//! the real Secret Service in a throwaway D-Bus session. Secrets never reach
//! SQLite, logs, argv, IPC responses or error text: `Secret` has no `Display`,
//! its `Debug` is redacted and it cannot be serialized.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

/// A secret value. Read it with [`Secret::expose`] at the one place it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the HTTP header that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// What can go wrong with the keychain. No variant carries the secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// There is no keychain to talk to, or it refused us.
    #[error(
        "the system keychain is not available ({0}); on Linux, start and unlock a Secret Service keyring \
         such as GNOME Keyring or KWallet, then try again"
    )]
    Unavailable(String),
    /// The entry is gone (removed outside Sendrow, or another keychain).
    #[error("the keychain has no saved key for {0:?}; add the account again to store its API key")]
    Missing(String),
}

/// Where secrets are kept, by entry name.
pub trait SecretStore: Send + Sync {
    /// Saves (or replaces) the secret under `entry`.
    fn set(&self, entry: &str, secret: &Secret) -> Result<(), Error>;
    /// Reads the secret under `entry`.
    fn get(&self, entry: &str) -> Result<Secret, Error>;
    /// Deletes the entry; deleting a missing entry is not an error.
    fn delete(&self, entry: &str) -> Result<(), Error>;
}

/// The OS keychain. Entries are `service = "sendrow"`, `user = entry`.
pub struct Keychain {
    service: String,
}

impl Keychain {
    /// The keychain service every Sendrow entry is filed under.
    pub const SERVICE: &'static str = "sendrow";

    /// The keychain with Sendrow's service name.
    pub fn new() -> Keychain {
        Keychain { service: Self::SERVICE.to_owned() }
    }

    fn entry(&self, entry: &str) -> Result<keyring::Entry, Error> {
        keyring::Entry::new(&self.service, entry).map_err(|e| classify(e, entry))
    }
}

impl Default for Keychain {
    fn default() -> Self {
        Keychain::new()
    }
}

/// Turns keyring's errors into ours. keyring's messages never contain the
/// secret itself, but they are re-worded so the user knows what to do.
fn classify(err: keyring::Error, entry: &str) -> Error {
    match err {
        keyring::Error::NoEntry => Error::Missing(entry.to_owned()),
        keyring::Error::NoStorageAccess(e) => Error::Unavailable(e.to_string()),
        keyring::Error::PlatformFailure(e) => Error::Unavailable(e.to_string()),
        other => Error::Unavailable(other.to_string()),
    }
}

impl SecretStore for Keychain {
    fn set(&self, entry: &str, secret: &Secret) -> Result<(), Error> {
        self.entry(entry)?.set_password(secret.expose()).map_err(|e| classify(e, entry))
    }

    fn get(&self, entry: &str) -> Result<Secret, Error> {
        self.entry(entry)?.get_password().map(Secret).map_err(|e| classify(e, entry))
    }

    fn delete(&self, entry: &str) -> Result<(), Error> {
        match self.entry(entry)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(classify(e, entry)),
        }
    }
}

/// Secrets in a `HashMap`, for unit tests. `unavailable()` makes every call
/// fail the way a missing keychain does.
#[derive(Default)]
pub struct MemorySecrets {
    entries: Mutex<HashMap<String, Secret>>,
    unavailable: bool,
}

impl MemorySecrets {
    /// An empty, working store.
    pub fn new() -> MemorySecrets {
        MemorySecrets::default()
    }

    /// A store that fails like a locked or absent keychain.
    pub fn unavailable() -> MemorySecrets {
        MemorySecrets { unavailable: true, ..MemorySecrets::default() }
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// The secret under `entry`, for tests that check what was stored.
    pub fn get_for_test(&self, entry: &str) -> Option<String> {
        self.lock().get(entry).map(|s| s.0.clone())
    }

    /// Whether no entry is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Secret>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn check(&self) -> Result<(), Error> {
        if self.unavailable {
            Err(Error::Unavailable("test keychain switched off".into()))
        } else {
            Ok(())
        }
    }
}

impl SecretStore for MemorySecrets {
    fn set(&self, entry: &str, secret: &Secret) -> Result<(), Error> {
        self.check()?;
        self.lock().insert(entry.to_owned(), secret.clone());
        Ok(())
    }

    fn get(&self, entry: &str) -> Result<Secret, Error> {
        self.check()?;
        self.lock().get(entry).cloned().ok_or_else(|| Error::Missing(entry.to_owned()))
    }

    fn delete(&self, entry: &str) -> Result<(), Error> {
        self.check()?;
        self.lock().remove(entry);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_secret() {
        let s = Secret::new("hunter2-very-secret");
        assert!(!format!("{s:?}").contains("hunter2"), "Debug must redact");
    }

    #[test]
    fn memory_store_round_trips_and_deletes() {
        let store = MemorySecrets::new();
        store.set("a", &Secret::new("k")).unwrap();
        assert_eq!(store.get("a").unwrap().expose(), "k", "what was set is read back");
        store.delete("a").unwrap();
        assert!(matches!(store.get("a"), Err(Error::Missing(_))), "deleted entries are missing");
        store.delete("a").expect("deleting twice is fine");
    }
}
