//! The GSM 03.38 alphabet: which characters an SMS can carry in 7 bits, and how
//! many septets each costs.
//!
//! Segment counting and cost belong to the composing step; this module only
//! answers "is this text GSM-7, and how long is it" for both the simulator and
//! the composer. National language shift tables are deliberately not supported:
//! 8x8 documents only GSM7 and UCS2.

/// The basic table, in code-point order of the standard (0x00..0x7F), minus the
/// escape (0x1B) which is not a character of its own.
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table: each of these is sent as escape + character, two septets.
const EXTENSION: &str = "\u{000C}^{}\\[~]|€";

/// The SMS encoding 8x8 picks for a text under `AUTO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Encoding {
    /// The GSM 03.38 7-bit alphabet.
    #[serde(rename = "GSM7")]
    Gsm7,
    /// UCS-2, counted in UTF-16 code units.
    #[serde(rename = "UCS2")]
    Ucs2,
}

impl Encoding {
    /// 8x8's name for the encoding, as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM7",
            Encoding::Ucs2 => "UCS2",
        }
    }
}

/// Septets of every ASCII character (0: not in GSM-7), built once from the
/// tables above: a message is checked character by character, and scanning
/// the table strings for each one showed up in the send benchmark.
const ASCII_SEPTETS: [u8; 128] = {
    let mut table = [0u8; 128];
    let basic = BASIC.as_bytes();
    let mut i = 0;
    while i < basic.len() {
        if basic[i] < 128 {
            table[basic[i] as usize] = 1;
        }
        i += 1;
    }
    let extension = EXTENSION.as_bytes();
    let mut i = 0;
    while i < extension.len() {
        if extension[i] < 128 {
            table[extension[i] as usize] = 2;
        }
        i += 1;
    }
    table
};

/// Septets a character takes in GSM-7, or `None` when GSM-7 cannot carry it.
pub fn septets(c: char) -> Option<usize> {
    if c.is_ascii() {
        return match ASCII_SEPTETS[c as usize] {
            0 => None,
            n => Some(n as usize),
        };
    }
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The encoding 8x8's `AUTO` would choose for `text`.
pub fn detect(text: &str) -> Encoding {
    if text.chars().all(|c| septets(c).is_some()) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

/// The characters of `text` that GSM-7 cannot carry, each once, in order of
/// first appearance: what forces a message into UCS-2.
pub fn non_gsm_chars(text: &str) -> Vec<char> {
    let mut found = Vec::new();
    for c in text.chars() {
        if septets(c).is_none() && !found.contains(&c) {
            found.push(c);
        }
    }
    found
}

/// Length of `text` in the units its encoding is billed in: septets for GSM-7,
/// UTF-16 code units for UCS-2.
pub fn units(text: &str, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Gsm7 => text.chars().map(|c| septets(c).unwrap_or(1)).sum(),
        Encoding::Ucs2 => text.encode_utf16().count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_fast_path_agrees_with_the_tables() {
        for byte in 0u8..128 {
            let c = byte as char;
            let slow = if BASIC.contains(c) {
                Some(1)
            } else if EXTENSION.contains(c) {
                Some(2)
            } else {
                None
            };
            assert_eq!(septets(c), slow, "{c:?} must cost the same through the fast path");
        }
    }

    #[test]
    fn basic_table_has_all_128_positions_but_escape() {
        assert_eq!(BASIC.chars().count(), 127, "the basic table lists 128 positions less the escape");
    }

    #[test]
    fn latin_text_is_gsm7_and_cyrillic_is_ucs2() {
        assert_eq!(detect("Hello, your order 17 is ready"), Encoding::Gsm7, "plain Latin text fits GSM-7");
        assert_eq!(detect("Ваше замовлення готове"), Encoding::Ucs2, "Cyrillic forces UCS-2");
        assert_eq!(detect("Ω and Δ are GSM"), Encoding::Gsm7, "some Greek capitals are in the basic table");
    }

    #[test]
    fn extension_characters_cost_two_septets() {
        assert_eq!(units("a€b", Encoding::Gsm7), 4, "€ is escape + e");
        assert_eq!(units("[x]", Encoding::Gsm7), 5, "brackets come from the extension table");
    }

    #[test]
    fn emoji_counts_two_ucs2_units() {
        assert_eq!(units("ok👍", Encoding::Ucs2), 4, "an emoji is a surrogate pair");
    }

    #[test]
    fn culprits_are_listed_once_in_order() {
        assert_eq!(non_gsm_chars("it’s “fine” ’"), vec!['’', '“', '”'], "curly quotes force UCS-2");
    }
}
