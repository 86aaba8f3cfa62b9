//! How a text travels as SMS: its encoding, its length in billed units, and
//! how many parts it is cut into, counted by actually filling the parts.
//!
//! The arithmetic `ceil(n / 153)` is wrong at part boundaries: a GSM-7 escape
//! sequence (an extension character such as `€`) and a UTF-16 surrogate pair
//! (an emoji) are never split across two parts, so a part may end one unit
//! short and the message may need one part more. Handsets and 8x8 do the same.
//!
//! Deliberately not here: national language shift tables (8x8 documents only
//! GSM7 and UCS2, see [`crate::gsm7`]), forced encodings (we always let 8x8's
//! `AUTO` choose, so we predict what it picks), and grapheme clusters (a family
//! emoji joined with ZWJ may be split between its code points, as phones do).

use serde::Serialize;

use crate::gsm7::{self, Encoding};

/// 8x8 sends at most this many parts; longer texts are truncated by 8x8, so we
/// refuse them instead.
pub const MAX_PARTS: usize = 10;

/// Units one part holds: (a message that fits in one part, each part of a
/// multipart message). A multipart message loses room to the concatenation
/// header: 7 septets in GSM-7, 3 UTF-16 units in UCS-2.
fn capacity(encoding: Encoding) -> (usize, usize) {
    match encoding {
        Encoding::Gsm7 => (160, 153),
        Encoding::Ucs2 => (70, 67),
    }
}

/// Units one character costs: septets in GSM-7 (2 for an extension character),
/// UTF-16 code units in UCS-2 (2 for a character outside the BMP).
fn char_units(c: char, encoding: Encoding) -> usize {
    match encoding {
        // Unreachable for a text `detect` called GSM-7; 1 keeps it total.
        Encoding::Gsm7 => gsm7::septets(c).unwrap_or(1),
        Encoding::Ucs2 => c.len_utf16(),
    }
}

/// What a text costs as SMS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measure {
    /// The encoding 8x8's `AUTO` picks.
    pub encoding: Encoding,
    /// Length in the encoding's units: septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
    /// Parts the text is sent as; 0 for an empty text, which is no message.
    pub segments: usize,
    /// The characters that forced UCS-2, each once in order of appearance;
    /// empty for GSM-7. The preview highlights them.
    pub ucs2_culprits: Vec<char>,
}

impl Measure {
    /// More parts than 8x8 sends.
    pub fn is_too_long(&self) -> bool {
        self.segments > MAX_PARTS
    }

    /// The price of the message at `price_per_segment`: 8x8 bills per part.
    pub fn cost(&self, price_per_segment: f64) -> f64 {
        self.segments as f64 * price_per_segment
    }
}

/// Encoding, length and part count of `text`.
pub fn measure(text: &str) -> Measure {
    let encoding = gsm7::detect(text);
    Measure {
        encoding,
        units: gsm7::units(text, encoding),
        segments: parts(text).len(),
        ucs2_culprits: gsm7::non_gsm_chars(text),
    }
}

/// How many parts `text` is sent as: `measure(text).segments` alone, which a
/// run counts for every message 8x8 queued.
pub fn count(text: &str) -> usize {
    let encoding = gsm7::detect(text);
    match text.is_empty() {
        true => 0,
        false if gsm7::units(text, encoding) <= capacity(encoding).0 => 1,
        false => parts(text).len(),
    }
}

/// `text` cut into the parts it is sent as. No character is split, so an
/// extension character or an emoji that would straddle a boundary starts the
/// next part. An empty text has no parts.
pub fn parts(text: &str) -> Vec<&str> {
    let encoding = gsm7::detect(text);
    let (single, multi) = capacity(encoding);
    if text.is_empty() {
        return Vec::new();
    }
    if gsm7::units(text, encoding) <= single {
        return vec![text];
    }
    let mut parts = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (at, c) in text.char_indices() {
        let units = char_units(c, encoding);
        if used + units > multi {
            parts.push(&text[start..at]);
            (start, used) = (at, 0);
        }
        used += units;
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repeat(s: &str, n: usize) -> String {
        s.repeat(n)
    }

    /// `text` is in `encoding`, `units` long and sent as `segments` parts.
    #[track_caller]
    fn check(text: &str, encoding: Encoding, units: usize, segments: usize, why: &str) {
        let m = measure(text);
        assert_eq!(m.encoding, encoding, "encoding: {why}");
        assert_eq!(m.units, units, "units: {why}");
        assert_eq!(m.segments, segments, "segments: {why}");
        assert_eq!(count(text), segments, "counted alone: {why}");
        assert_eq!(parts(text).concat(), text, "the parts put back together are the text: {why}");
    }

    #[test]
    fn gsm7_boundaries_of_one_part_and_of_multipart() {
        use Encoding::Gsm7;
        check("", Gsm7, 0, 0, "an empty text is no message");
        check("a", Gsm7, 1, 1, "one character, one part");
        check(&repeat("a", 152), Gsm7, 152, 1, "152 septets fit one part");
        check(&repeat("a", 153), Gsm7, 153, 1, "153 septets fit one part");
        check(&repeat("a", 154), Gsm7, 154, 1, "154 septets fit one part");
        check(&repeat("a", 159), Gsm7, 159, 1, "159 septets fit one part");
        check(&repeat("a", 160), Gsm7, 160, 1, "160 septets is the most one part holds");
        check(&repeat("a", 161), Gsm7, 161, 2, "161 septets need two parts of 153");
        check(&repeat("a", 306), Gsm7, 306, 2, "two full parts of 153");
        check(&repeat("a", 307), Gsm7, 307, 3, "one septet over two full parts");
    }

    #[test]
    fn ucs2_boundaries_of_one_part_and_of_multipart() {
        use Encoding::Ucs2;
        check(&repeat("ж", 69), Ucs2, 69, 1, "69 units fit one part");
        check(&repeat("ж", 70), Ucs2, 70, 1, "70 units is the most one part holds");
        check(&repeat("ж", 71), Ucs2, 71, 2, "71 units need two parts of 67");
        check(&repeat("ж", 134), Ucs2, 134, 2, "two full parts of 67");
        check(&repeat("ж", 135), Ucs2, 135, 3, "one unit over two full parts");
        check(&format!("{}👍", repeat("ж", 68)), Ucs2, 70, 1, "an emoji as the last two of 70 units fits");
    }

    #[test]
    fn extension_characters_count_twice() {
        use Encoding::Gsm7;
        check(&format!("{}€", repeat("a", 158)), Gsm7, 160, 1, "158 + € is exactly 160 septets");
        check(&format!("{}€", repeat("a", 159)), Gsm7, 161, 2, "159 + € is 161 septets, two parts");
        check("[x]", Gsm7, 5, 1, "brackets are extension characters");
    }

    #[test]
    fn an_escape_sequence_is_never_split_across_parts() {
        // 152 'a' + '€' + 8 'b' = 162 septets: multipart. The € would take
        // septets 153 and 154, so it starts part 2 and part 1 holds only 152.
        let text = format!("{}€{}", repeat("a", 152), repeat("b", 8));
        let p = parts(&text);
        assert_eq!(p.len(), 2, "162 septets are two parts");
        assert_eq!(p[0], repeat("a", 152), "part 1 stops before the € rather than split it");
        assert!(p[1].starts_with('€'), "the € moves whole to part 2");

        // 306 septets are 2 parts by arithmetic (2 × 153), but the € at
        // septets 153-154 moves to part 2 and pushes one septet into part 3.
        let text = format!("{}€{}", repeat("a", 152), repeat("b", 152));
        check(&text, Encoding::Gsm7, 306, 3, "a moved € spills the last septet into part 3");
        let text = format!("{}€{}", repeat("a", 152), repeat("b", 151));
        check(&text, Encoding::Gsm7, 305, 2, "305 septets with the € pushed still fit two parts (152 + 153)");
        let text = format!("{}€{}", repeat("a", 151), repeat("b", 152));
        check(&text, Encoding::Gsm7, 305, 2, "a € ending exactly at septet 153 stays in part 1");
        assert_eq!(parts(&text)[0].chars().last(), Some('€'), "151 + € fill part 1 exactly");
    }

    #[test]
    fn a_surrogate_pair_is_never_split_across_parts() {
        // 66 'ж' + 👍 + 4 'ж' = 72 units: multipart. The emoji would take
        // units 67 and 68, so it starts part 2.
        let text = format!("{}👍{}", repeat("ж", 66), repeat("ж", 4));
        let p = parts(&text);
        assert_eq!(p.len(), 2, "72 units are two parts");
        assert_eq!(p[0], repeat("ж", 66), "part 1 stops before the emoji rather than split it");
        assert!(p[1].starts_with('👍'), "the emoji moves whole to part 2");

        let text = format!("{}👍{}", repeat("ж", 66), repeat("ж", 67));
        check(&text, Encoding::Ucs2, 135, 3, "ceil(135/67) is 3 anyway, but part 2 must hold the emoji");
        let text = format!("{}👍{}", repeat("ж", 66), repeat("ж", 66));
        check(&text, Encoding::Ucs2, 134, 3, "134 units are 2 parts by arithmetic; the moved emoji makes 3");
        check(&repeat("👍", 35), Encoding::Ucs2, 70, 1, "35 emoji are 70 units, one part");
        check(&repeat("👍", 36), Encoding::Ucs2, 72, 2, "36 emoji: 33 fit a part of 67 (66 units), 3 spill");
    }

    #[test]
    fn ten_parts_is_the_limit_in_both_encodings() {
        let cases = [
            (repeat("a", 1530), 10, false, "1530 septets are 10 full GSM-7 parts"),
            (repeat("a", 1531), 11, true, "1531 septets need an 11th part"),
            (repeat("ж", 670), 10, false, "670 units are 10 full UCS-2 parts"),
            (repeat("ж", 671), 11, true, "671 units need an 11th part"),
            // Ten parts of 152 + € each: the moved € make 1530 septets take 11 parts.
            (repeat(&format!("{}€", repeat("a", 151)), 10), 10, false, "151 + € fill a part exactly, ten times"),
            (
                format!("{}€{}", repeat("a", 152), repeat("a", 1376)),
                11,
                true,
                "1530 septets, but the € moved to part 2 leaves part 1 one short and needs an 11th",
            ),
        ];
        for (text, segments, too_long, why) in cases {
            let m = measure(&text);
            assert_eq!(m.segments, segments, "{why}");
            assert_eq!(count(&text), segments, "counted alone: {why}");
            assert_eq!(m.is_too_long(), too_long, "{why}");
        }
    }

    #[test]
    fn culprits_name_what_forced_ucs2() {
        let m = measure("It’s ready, Олена");
        assert_eq!(m.encoding, Encoding::Ucs2, "a curly apostrophe and Cyrillic force UCS-2");
        assert_eq!(m.ucs2_culprits, vec!['’', 'О', 'л', 'е', 'н', 'а'], "each culprit once, in order");
        assert!(measure("It's ready").ucs2_culprits.is_empty(), "a GSM-7 text has no culprits");
    }

    #[test]
    fn cost_is_per_part() {
        assert_eq!(measure(&repeat("a", 161)).cost(0.05), 0.1, "two parts at 0.05");
        assert_eq!(measure("").cost(0.05), 0.0, "nothing sent, nothing billed");
    }
}
