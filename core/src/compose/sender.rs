//! The sender ID (8x8's `source`): the name or number a customer sees the
//! SMS come from, checked against 8x8's documented rules when the connection
//! is saved, so a run never fails on it.
//!
//! Deliberately not here: per-country sender rules (registration, carriers
//! overwriting the sender); 8x8 applies those and reports them per message.

use std::fmt;

/// Most characters of a sender with letters (8x8 SMS API §3.1).
pub const MAX_ALPHANUMERIC: usize = 11;

/// Most characters of a numeric sender, counting a leading `+`. 8x8's prose
/// says 17, but its OpenAPI schema caps `source` at 16 for every sender, and a
/// request breaking the schema is refused; 16 passes both.
pub const MAX_NUMERIC: usize = 16;

/// A sender ID 8x8 accepts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct SenderId(String);

/// Why a sender ID cannot be used; each says what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Empty or only spaces.
    #[error(
        "the sender is empty: type a name of up to {MAX_ALPHANUMERIC} Latin letters, digits and spaces, \
         or leave the field out to use the account's default sender"
    )]
    Empty,
    /// A character 8x8 does not allow.
    #[error(
        "the sender \"{sender}\" contains \"{bad}\": 8x8 allows only Latin letters A-Z, digits and spaces \
         (or a number with an optional leading +); write it in Latin letters, e.g. a transliteration"
    )]
    BadCharacter {
        /// The sender as given.
        sender: String,
        /// The first character refused.
        bad: char,
    },
    /// A name with letters longer than 11 characters.
    #[error(
        "the sender \"{sender}\" has {len} characters: a sender with letters may have at most {MAX_ALPHANUMERIC}; \
         shorten it"
    )]
    TooLongName {
        /// The sender as given.
        sender: String,
        /// Its length in characters.
        len: usize,
    },
    /// A number longer than 16 characters.
    #[error(
        "the sender number \"{sender}\" has {len} characters: a numeric sender may have at most {MAX_NUMERIC}, \
         counting the +; check it"
    )]
    TooLongNumber {
        /// The sender as given.
        sender: String,
        /// Its length in characters.
        len: usize,
    },
}

impl SenderId {
    /// Checks a sender. `None` means the account's default sender and is
    /// always fine; `Some("")` is refused, because an empty field the user
    /// filled in is more likely a mistake than a choice. Leading and trailing
    /// spaces are dropped: they are invisible and would cost characters.
    pub fn parse(sender: Option<&str>) -> Result<Option<SenderId>, Error> {
        let Some(raw) = sender else { return Ok(None) };
        let sender = raw.trim();
        if sender.is_empty() {
            return Err(Error::Empty);
        }
        let digits = sender.strip_prefix('+').unwrap_or(sender);
        let numeric = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
        let len = sender.chars().count();
        if numeric {
            if len > MAX_NUMERIC {
                return Err(Error::TooLongNumber { sender: sender.to_owned(), len });
            }
        } else {
            if let Some(bad) = sender.chars().find(|&c| !(c.is_ascii_alphanumeric() || c == ' ')) {
                return Err(Error::BadCharacter { sender: sender.to_owned(), bad });
            }
            if len > MAX_ALPHANUMERIC {
                return Err(Error::TooLongName { sender: sender.to_owned(), len });
            }
        }
        Ok(Some(SenderId(sender.to_owned())))
    }

    /// The sender as 8x8's `source` takes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SenderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sender` is accepted as `want` (`None` for the account default), or
    /// refused as `want`.
    #[track_caller]
    fn check(sender: Option<&str>, want: Result<Option<&str>, Error>, why: &str) {
        let got = SenderId::parse(sender);
        let got = got.as_ref().map(|s| s.as_ref().map(SenderId::as_str)).map_err(Clone::clone);
        assert_eq!(got, want, "{sender:?}: {why}");
    }

    fn bad(sender: &str, bad: char) -> Result<Option<&'static str>, Error> {
        Err(Error::BadCharacter { sender: sender.into(), bad })
    }

    #[test]
    fn names_and_numbers_within_8x8s_limits() {
        check(None, Ok(None), "no sender means the account's default");
        check(Some("MyShop"), Ok(Some("MyShop")), "a plain name");
        check(Some("My Shop 24"), Ok(Some("My Shop 24")), "letters, digits and spaces");
        check(Some("ABCDEFGHIJK"), Ok(Some("ABCDEFGHIJK")), "11 characters is the most for a name");
        check(Some("  MyShop "), Ok(Some("MyShop")), "edge spaces are dropped");
        check(Some("1234567890123456"), Ok(Some("1234567890123456")), "16 digits is the most for a number");
        check(Some("+380671234567"), Ok(Some("+380671234567")), "a number with a leading +");
        check(Some("+123456789012345"), Ok(Some("+123456789012345")), "+ and 15 digits are 16 characters");
    }

    #[test]
    fn refusals_say_what_to_do() {
        check(Some(""), Err(Error::Empty), "an empty field is refused, not taken as the default");
        check(Some("   "), Err(Error::Empty), "spaces only");
        check(Some("ABCDEFGHIJKL"), Err(Error::TooLongName { sender: "ABCDEFGHIJKL".into(), len: 12 }), "12 letters");
        check(
            Some("12345678901234567"),
            Err(Error::TooLongNumber { sender: "12345678901234567".into(), len: 17 }),
            "17 digits: the schema's 16 wins over the prose's 17",
        );
        check(
            Some("+1234567890123456"),
            Err(Error::TooLongNumber { sender: "+1234567890123456".into(), len: 17 }),
            "the + counts toward 16",
        );
        check(
            Some("12345 678901"),
            Err(Error::TooLongName { sender: "12345 678901".into(), len: 12 }),
            "a space makes it a name",
        );
        check(Some("Крамниця"), bad("Крамниця", 'К'), "Cyrillic is not allowed");
        check(Some("Shop-24"), bad("Shop-24", '-'), "punctuation is not allowed");
        check(Some("Café"), bad("Café", 'é'), "accented letters are not ASCII");
        check(Some("+MyShop"), bad("+MyShop", '+'), "a + only starts a number");
        check(Some("+"), bad("+", '+'), "a + alone is no number");

        let text = SenderId::parse(Some("Крамниця")).expect_err("refused").to_string();
        assert!(
            text.contains("\"Крамниця\" contains \"К\"") && text.contains("Latin"),
            "names it and says what: {text}"
        );
        let text = Error::TooLongName { sender: "ABCDEFGHIJKL".into(), len: 12 }.to_string();
        assert!(text.contains("at most 11") && text.contains("shorten"), "says the limit and what to do: {text}");
        let text = Error::Empty.to_string();
        assert!(text.contains("leave the field out"), "says how to get the default: {text}");
    }
}
