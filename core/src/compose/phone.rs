//! A cell's phone number as E.164 (`+380671234567`), read the way small
//! businesses and their spreadsheets actually write numbers: national format
//! with the connection's default country, `00` instead of `+`, a `+` the sheet
//! dropped, Excel's `'` text marker, non-breaking spaces, and scientific
//! notation (`3.80671234567E+11`), which is recovered only when no digit was
//! lost.
//!
//! Validation is libphonenumber's (the `phonenumber` crate): a number must be
//! valid for its country, not merely the right length. Deliberately not here:
//! telling mobiles from landlines (many countries cannot, and 8x8 reports
//! undeliverable numbers itself), vanity letters (`1-800-FLOWERS`), extensions,
//! and the opt-out list (it needs the store).

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use phonenumber::metadata::DATABASE;
use phonenumber::{country::Id, ParseError};

/// The country a number without a country code belongs to: a connection's
/// default country, an ISO 3166-1 alpha-2 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country(Id);

/// A default country that libphonenumber does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{0}\" is not a country code: use the two-letter ISO code of the country most numbers are from, \
     such as UA, US, GB, PL or DE"
)]
pub struct UnknownCountry(pub String);

impl Country {
    /// Parses a two-letter code, in any case.
    pub fn parse(code: &str) -> Result<Country, UnknownCountry> {
        let unknown = || UnknownCountry(code.to_owned());
        let id: Id = code.trim().to_ascii_uppercase().parse().map_err(|_| unknown())?;
        // phonenumber unwraps this lookup while parsing; checking here keeps a
        // country without metadata from ever reaching it.
        DATABASE.by_id(id.as_ref()).ok_or_else(unknown)?;
        Ok(Country(id))
    }

    /// The two-letter code.
    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    fn calling_code(self) -> Option<u16> {
        DATABASE.by_id(self.0.as_ref()).map(|m| m.country_code())
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A phone number in E.164: `+`, country code, national number; what 8x8's
/// `destination` and the opt-out list expect.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct E164(String);

impl E164 {
    /// `+380671234567`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a row has no usable number; each maps to a preview status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneIssue {
    /// The cell is empty (or holds only spaces): `missing_phone`.
    #[error("the phone number is empty")]
    Missing,
    /// The cell holds something that is not a usable number: `invalid_phone`.
    #[error("{reason}")]
    Invalid {
        /// What is wrong and what to do, naming the value.
        reason: String,
    },
}

fn invalid(reason: String) -> PhoneIssue {
    PhoneIssue::Invalid { reason }
}

/// Characters copied from web pages and chat apps that are invisible in a
/// cell: zero-width spaces and joiners, direction marks, the BOM.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}' | '\u{FEFF}')
}

/// Separators people put in numbers; everything else but digits and a
/// leading `+` is refused.
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '.' | '(' | ')' | '/' | '\u{2010}'..='\u{2014}')
}

/// The number in `raw`, normalised to E.164 with `country` for numbers that
/// carry no country code.
pub fn normalize(raw: &str, country: Country) -> Result<E164, PhoneIssue> {
    let cleaned: String =
        raw.chars().filter(|&c| !is_invisible(c)).map(|c| if c.is_whitespace() { ' ' } else { c }).collect();
    // Excel shows a leading ' as "this cell is text"; some exports keep it.
    let shown = cleaned.trim().trim_start_matches('\'').trim();
    if shown.is_empty() {
        return Err(PhoneIssue::Missing);
    }
    let number = match from_spreadsheet_number(shown) {
        Some(recovered) => recovered?,
        None => shown.to_owned(),
    };

    if number.contains([',', ';']) || number.contains(" or ") {
        return Err(invalid(format!("\"{shown}\" looks like more than one number: keep one number per cell")));
    }
    let body = number.strip_prefix('+').unwrap_or(&number);
    if let Some(bad) = body.chars().find(|&c| !c.is_ascii_digit() && !is_separator(c)) {
        return Err(invalid(format!(
            "\"{shown}\" contains \"{bad}\": a phone number has only digits, spaces, - ( ) and a leading +"
        )));
    }
    let mut digits: String = body.chars().filter(char::is_ascii_digit).collect();
    let mut plus = number.starts_with('+');
    if digits.is_empty() {
        return Err(invalid(format!("\"{shown}\" has no digits: put the recipient's phone number in the cell")));
    }
    // 00 is the international prefix across Europe (and UA); accept it
    // whatever the default country, since no national number starts with 00.
    if !plus && digits.starts_with("00") {
        digits.drain(..2);
        plus = true;
    }

    if plus {
        return valid(parse(None, &format!("+{digits}")), shown, None);
    }
    let national = parse(Some(country), &digits);
    if let Ok(e164) = valid(national.clone(), shown, Some(country)) {
        return Ok(e164);
    }
    // A sheet often drops the + of a foreign number (a Polish number in a
    // Ukrainian shop's sheet): if the digits are no number of the default
    // country but are a valid international number, that is what was meant.
    if let Ok(e164) = valid(parse(None, &format!("+{digits}")), shown, None) {
        return Ok(e164);
    }
    valid(national, shown, Some(country))
}

fn parse(country: Option<Country>, text: &str) -> Result<phonenumber::PhoneNumber, ParseError> {
    phonenumber::parse(country.map(|c| c.0), text)
}

/// The E.164 form of a parse result, or why it is not a number to text.
fn valid(
    parsed: Result<phonenumber::PhoneNumber, ParseError>,
    shown: &str,
    country: Option<Country>,
) -> Result<E164, PhoneIssue> {
    let n = parsed.map_err(|e| {
        invalid(match e {
            ParseError::TooLong => format!("\"{shown}\" has too many digits for a phone number: check it"),
            ParseError::InvalidCountryCode => {
                format!("\"{shown}\" does not start with a country code: check the digits after the + (or 00)")
            }
            _ => format!("\"{shown}\" is too short for a phone number: check that no digits are missing"),
        })
    })?;
    if !is_valid(&n) {
        let code = n.code().value();
        if let Some(hint) = length_hint(&n) {
            return Err(invalid(format!("\"{shown}\" {hint}")));
        }
        let hint = match country {
            Some(c) if c.calling_code() == Some(code) => format!(
                "is not a valid {c} number: check the digits (a number from another country needs its + and \
                 country code)"
            ),
            _ => format!("is not a valid number for country code +{code}: check the digits"),
        };
        return Err(invalid(format!("\"{shown}\" {hint}")));
    }
    // What the crate's E.164 formatter prints, without its search for the
    // country's display format (a regex per format, unused in E.164): that
    // search was a quarter of composing a big run.
    Ok(E164(format!("+{}{}", n.code().value(), n.national())))
}

/// `n.is_valid()`, sooner. The crate finds the number's region by parsing
/// the region's name (a match over every country) and then asks for the
/// number's type, trying premium, toll-free and six other kinds, each a
/// regex through a shared locked cache, before mobile: most of composing a
/// big run. A number is valid when its country's general pattern matches
/// and any kind does, so for a country code of one region this tries
/// mobile and landline first. Codes shared by several regions (+1, +7, +44
/// …) are left to the crate. A test holds both answers equal.
fn is_valid(n: &phonenumber::PhoneNumber) -> bool {
    let Some(meta) = single_region(n.code().value()) else {
        return n.is_valid();
    };
    let national = n.national().to_string();
    let d = meta.descriptors();
    d.general().is_match(&national) && kinds(d).into_iter().flatten().any(|kind| kind.is_match(&national))
}

/// A country's kinds of number, mobile and landline first.
fn kinds(d: &phonenumber::metadata::Descriptors) -> [Option<&phonenumber::metadata::Descriptor>; 10] {
    [
        d.mobile(),
        d.fixed_line(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
}

/// The metadata of a country code that belongs to one region, as the crate
/// finds it (that region by its name; none for a name it cannot read, nor
/// for non-geographic codes, "001").
fn single_region(code: u16) -> Option<&'static phonenumber::Metadata> {
    static SINGLE: OnceLock<HashMap<u16, &'static phonenumber::Metadata>> = OnceLock::new();
    let single = SINGLE.get_or_init(|| {
        DATABASE
            .iter()
            .filter_map(|meta| {
                let code = meta.country_code();
                match DATABASE.region(&code)?.as_slice() {
                    [only] if *only != "001" && only.parse::<Id>().is_ok() => Some((code, DATABASE.by_id(*only)?)),
                    _ => None,
                }
            })
            .collect()
    });
    single.get(&code).copied()
}

/// "is too short: …" when the number has fewer or more digits than any
/// number with its country code, which says more than "not valid".
fn length_hint(n: &phonenumber::PhoneNumber) -> Option<String> {
    let code = n.code().value();
    let meta = DATABASE.by_code(&code)?.into_iter().next()?;
    // The crate leaves the general descriptor's lengths empty; landlines and
    // mobiles are the numbers a row may hold (short codes would mislead).
    let d = meta.descriptors();
    let lengths = [d.fixed_line(), d.mobile()].into_iter().flatten().flat_map(|d| d.possible_length().iter().copied());
    let (min, max) = (lengths.clone().min()?, lengths.max()?);
    let len = n.national().to_string().len();
    let expected = if min == max { format!("{min}") } else { format!("{min} to {max}") };
    let what = if len < usize::from(min) {
        "is too short"
    } else if len > usize::from(max) {
        "is too long"
    } else {
        return None;
    };
    Some(format!("{what}: numbers with country code +{code} have {expected} digits after it, this one has {len}"))
}

/// Undoes what a spreadsheet does to a number column it stores as numbers:
/// scientific notation (`3.80671234567E+11`, or `3,80671234567E+11` in a
/// comma-decimal locale) and a trailing `.0`. `None` when `text` is neither;
/// an error when the sheet rounded digits away, since guessing them would text
/// a stranger.
fn from_spreadsheet_number(text: &str) -> Option<Result<String, PhoneIssue>> {
    let (plus, body) = match text.strip_prefix('+') {
        Some(rest) => ("+", rest),
        None => ("", text),
    };
    let all_digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());

    let Some((mantissa, exponent)) = body.split_once(['e', 'E']) else {
        // A trailing .0 from a float export: "380671234567.0".
        let (int, frac) = body.split_once(['.', ','])?;
        return (all_digits(int) && all_digits(frac) && frac.chars().all(|c| c == '0'))
            .then(|| Ok(format!("{plus}{int}")));
    };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let (int, frac) = mantissa.split_once(['.', ',']).unwrap_or((mantissa, ""));
    if !all_digits(int) || !(frac.is_empty() || all_digits(frac)) || !all_digits(exponent) || exponent.len() > 2 {
        return None;
    }
    let exponent: usize = exponent.parse().ok()?;
    // The mantissa's fraction digits fill the exponent's places; fewer means
    // the trailing digits were rounded away, more must be zeros.
    if frac.len() < exponent {
        return Some(Err(invalid(format!(
            "the spreadsheet turned the number into {text} and lost digits; format the column as text"
        ))));
    }
    let (kept, beyond) = frac.split_at(exponent);
    if beyond.chars().any(|c| c != '0') {
        return Some(Err(invalid(format!("\"{text}\" is not a whole number, so not a phone number"))));
    }
    Some(Ok(format!("{plus}{int}{kept}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Want {
        Ok(&'static str),
        Missing,
        /// Invalid, with a reason containing this.
        Invalid(&'static str),
    }

    /// `raw` with default country `country` normalises as `want`.
    #[track_caller]
    fn check(raw: &str, country: &str, want: Want, why: &str) {
        let country = Country::parse(country).expect("a known country");
        let got = normalize(raw, country);
        match (want, &got) {
            (Want::Ok(e164), Ok(n)) => assert_eq!(n.as_str(), e164, "{raw:?} ({country}): {why}"),
            (Want::Missing, Err(PhoneIssue::Missing)) => {}
            (Want::Invalid(part), Err(PhoneIssue::Invalid { reason })) => {
                assert!(reason.contains(part), "{raw:?} ({country}): {why}; the reason should say {part:?}: {reason}")
            }
            (_, got) => panic!("{raw:?} ({country}): {why}; got {got:?}"),
        }
    }

    #[test]
    fn ukrainian_numbers_as_shops_type_them() {
        let e = "+380671234567";
        check("067 123 45 67", "UA", Want::Ok(e), "national format with the trunk 0");
        check("0671234567", "UA", Want::Ok(e), "national, no spaces");
        check("671234567", "UA", Want::Ok(e), "the sheet dropped the leading 0");
        check("380671234567", "UA", Want::Ok(e), "international without the +");
        check("+380 (67) 123-45-67", "UA", Want::Ok(e), "international with punctuation");
        check("00380671234567", "UA", Want::Ok(e), "00 instead of +");
        check("'+380671234567", "UA", Want::Ok(e), "Excel's leading ' text marker");
        check("067\u{a0}123\u{a0}45\u{a0}67", "UA", Want::Ok(e), "non-breaking spaces");
        check("\u{200e}+380 67 123 45 67\u{feff}", "UA", Want::Ok(e), "invisible marks copied from the web");
        check("  067-123-45-67  ", "UA", Want::Ok(e), "surrounding spaces");
        check("+380671234567", "US", Want::Ok(e), "a + number ignores the default country");
    }

    #[test]
    fn other_countries_national_and_international() {
        check("(650) 253-0000", "US", Want::Ok("+16502530000"), "US national with punctuation");
        check("1 650 253 0000", "US", Want::Ok("+16502530000"), "US with the 1 prefix, no +");
        check("+1-650-253-0000", "UA", Want::Ok("+16502530000"), "US international from a UA sheet");
        check("0044 7400 123456", "US", Want::Ok("+447400123456"), "00 works even where the IDD is 011");
        check("011 44 20 7946 0958", "US", Want::Ok("+442079460958"), "the US IDD 011");
        check("07400 123456", "GB", Want::Ok("+447400123456"), "GB mobile, national");
        check("+44 (0)7400 123456", "GB", Want::Ok("+447400123456"), "GB's habit of (0) after the code");
        check("447400123456", "GB", Want::Ok("+447400123456"), "GB international without +");
        check("512 345 678", "PL", Want::Ok("+48512345678"), "PL has no trunk prefix");
        check("+48 512-345-678", "PL", Want::Ok("+48512345678"), "PL international");
        check("0048512345678", "DE", Want::Ok("+48512345678"), "a Polish number in a German sheet, 00 form");
        check("01512 3456789", "DE", Want::Ok("+4915123456789"), "DE mobile, national");
        check("+49 1512 3456789", "DE", Want::Ok("+4915123456789"), "DE international");
        check("030/1234567", "DE", Want::Ok("+49301234567"), "DE landline written with a slash");
    }

    #[test]
    fn a_dropped_plus_is_recovered_only_when_the_default_country_fails() {
        check("48512345678", "UA", Want::Ok("+48512345678"), "no UA number, but a valid PL one once + is added");
        check("447400123456", "US", Want::Ok("+447400123456"), "not a US number, a valid GB one");
        check("6502530000", "US", Want::Ok("+16502530000"), "a valid national number stays national");
    }

    #[test]
    fn spreadsheet_scientific_notation() {
        check("3.80671234567E+11", "UA", Want::Ok("+380671234567"), "every digit is in the mantissa");
        check("3,80671234567E+11", "UA", Want::Ok("+380671234567"), "comma decimal (Ukrainian locale)");
        check("3.80671234567e11", "UA", Want::Ok("+380671234567"), "lower-case e, no exponent sign");
        check("1.6502530000E+10", "US", Want::Ok("+16502530000"), "trailing zeros written out are digits");
        check("4.47400123456E+11", "GB", Want::Ok("+447400123456"), "GB number as a float");
        check("4.8512345678E+10", "PL", Want::Ok("+48512345678"), "PL number as a float");
        check("4.915123456789E+12", "DE", Want::Ok("+4915123456789"), "DE number as a float");
        check("380671234567.0", "UA", Want::Ok("+380671234567"), "a float export's trailing .0");
        check(
            "3.8067E+11",
            "UA",
            Want::Invalid(
                "the spreadsheet turned the number into 3.8067E+11 and lost digits; format the column as text",
            ),
            "digits were rounded away: never guess them",
        );
        check("3.8067123456E+11", "UA", Want::Invalid("lost digits"), "even one lost digit is refused");
        check("1.65025E+10", "US", Want::Invalid("lost digits"), "refused whatever the country");
        check("4.474001235E+11", "GB", Want::Invalid("lost digits"), "GB: the last two digits were rounded");
        check("4.47400123E+11", "GB", Want::Invalid("lost digits"), "GB: rounded down, still refused");
        check("4.85123457E+10", "PL", Want::Invalid("lost digits"), "PL: rounded to 9 significant digits");
        check("4,8512346E+10", "PL", Want::Invalid("lost digits"), "PL in a comma-decimal locale");
        check("4.91512346E+12", "DE", Want::Invalid("lost digits"), "DE: rounded away four digits");
        check("4.9151234568E+12", "DE", Want::Invalid("lost digits"), "DE: one digit short");
        check("3.806712345678E+11", "UA", Want::Invalid("not a whole number"), "a fraction is no number");
    }

    #[test]
    fn empty_and_unusable_cells_say_why() {
        check("", "UA", Want::Missing, "an empty cell is a missing number");
        check("   ", "UA", Want::Missing, "spaces only");
        check("\u{a0}'", "UA", Want::Missing, "only an NBSP and the text marker");
        check(
            "067 123",
            "UA",
            Want::Invalid(
                "\"067 123\" is too short: numbers with country code +380 have 9 digits after it, this one has 5",
            ),
            "too few digits for Ukraine",
        );
        check("12", "UA", Want::Invalid("\"12\" is too short"), "too few digits for any number");
        check("+380 67 123 45 678", "UA", Want::Invalid("is too long"), "one digit too many for Ukraine");
        check("067 123 45 67 89 01 23 45", "UA", Want::Invalid("this one has 17"), "too many digits, counted");
        check("+380 12345678901234567890", "UA", Want::Invalid("too many digits"), "more digits than any number has");
        check("011 123 45 67", "UA", Want::Invalid("is not a valid UA number"), "right length, no such UA range");
        check("+999 123 456 789", "UA", Want::Invalid("does not start with a country code"), "no country +999");
        check("+380 11 123 45 67", "US", Want::Invalid("not a valid number for country code +380"), "bad UA range");
        check("call 067 123 45 67", "UA", Want::Invalid("contains \"c\""), "words are refused, naming the letter");
        check("067 123 45 67 ext 5", "UA", Want::Invalid("contains \"e\""), "extensions cannot get an SMS");
        check("067 123 45 67, 050 123 45 67", "UA", Want::Invalid("more than one number"), "two numbers in a cell");
        check("+38+0671234567", "UA", Want::Invalid("contains \"+\""), "a + anywhere but first");
        check("---", "UA", Want::Invalid("has no digits"), "punctuation only");
        check("3.8E-5", "UA", Want::Invalid("contains \"E\""), "a negative exponent is not a number we recover");
    }

    #[test]
    fn short_digit_strings_never_panic_and_never_pass_as_numbers() {
        // The parser has had slicing panics on short inputs; a cell is user input.
        let mut inputs = vec![String::new()];
        for _ in 0..3 {
            inputs =
                inputs.iter().flat_map(|s| (0..10).map(move |d| format!("{s}{d}"))).chain(inputs.clone()).collect();
        }
        for country in ["UA", "US", "GB"] {
            let country = Country::parse(country).expect("known");
            for digits in &inputs {
                for raw in [digits.clone(), format!("+{digits}"), format!("00{digits}")] {
                    let got = normalize(&raw, country);
                    assert!(got.is_err(), "{raw:?} ({country}) has too few digits to be a number: {got:?}");
                }
            }
        }
    }

    #[test]
    fn e164_is_what_the_crate_formatter_prints() {
        // `valid` builds E.164 itself (the crate's formatter first searches
        // the country's display formats); the two must never differ, leading
        // zeros of an Italian landline and the shared +1 and +7 included.
        let numbers = [
            ("+380671234567", "UA"),
            ("0445551234", "UA"),
            ("+39 06 6982 1234", "IT"),
            ("06 6982 1234", "IT"),
            ("+1 202 555 0143", "US"),
            ("+7 912 345 67 89", "RU"),
            ("+44 20 7946 0958", "GB"),
            ("+48 512 345 678", "PL"),
            ("+49 30 901820", "DE"),
            ("+225 07 07 12 34 56", "CI"),
        ];
        for (raw, country) in numbers {
            let country = Country::parse(country).expect("a known country");
            let ours = normalize(raw, country).unwrap_or_else(|e| panic!("{raw:?} is a valid number: {e:?}"));
            let parsed = phonenumber::parse(Some(country.0), raw).expect("parses");
            let crate_says = parsed.format().mode(phonenumber::Mode::E164).to_string();
            assert_eq!(ours.as_str(), crate_says, "{raw:?} ({country}): our E.164 and the crate's differ");
        }
    }

    #[test]
    fn validity_is_the_crate_s_for_every_kind_of_number() {
        // Every example number of every kind of every country (the crate's
        // own, all valid), then the same with a digit changed, one added and
        // one dropped (many invalid): our quicker answer equals the crate's.
        let mut checked = (0, 0);
        for meta in DATABASE.iter() {
            let d = meta.descriptors();
            let every = std::iter::once(Some(d.general())).chain(kinds(d));
            for example in every.flatten().filter_map(|k| k.example()) {
                let last = example.len() - 1;
                let changed = format!("{}{}", &example[..last], (example.as_bytes()[last] - b'0' + 1) % 10);
                for national in [example.to_owned(), changed, format!("{example}7"), example[..last].to_owned()] {
                    let raw = format!("+{}{national}", meta.country_code());
                    let Ok(n) = phonenumber::parse(None, &raw) else { continue };
                    let want = n.is_valid();
                    assert_eq!(is_valid(&n), want, "{raw} ({}): the crate says valid = {want}", meta.id());
                    if want {
                        checked.0 += 1
                    } else {
                        checked.1 += 1
                    }
                }
            }
        }
        assert!(checked.0 > 1000 && checked.1 > 1000, "both answers were compared many times: {checked:?}");
    }

    #[test]
    fn default_country_must_be_known() {
        assert_eq!(Country::parse("ua").map(|c| c.to_string()), Ok("UA".into()), "case does not matter");
        let err = Country::parse("Ukraine").expect_err("a name is not a code");
        assert!(err.to_string().contains("\"Ukraine\" is not a country code"), "names the value: {err}");
        assert!(Country::parse("ZZ").is_err(), "an unassigned code is refused");
    }
}
