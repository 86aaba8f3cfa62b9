//! Number formats: a workbook cell's value shown through its format code, as
//! Excel and LibreOffice show it (`#,##0.00 "₴"` → `1 200,50 ₴`, `DD.MM.YYYY`
//! → `05.12.2026`, `0%` → `10%`).
//!
//! A file carries no locale, so separators, the system short date (Excel's
//! built-in format 14) and month names come from the connection's country
//! ([`Locale`]). Codes are Excel's syntax; `styles` turns ODS data styles into
//! the same syntax, so one renderer serves both.
//!
//! Supported: `General`, digit placeholders `0 # ?` with grouping, decimals,
//! thousands scaling and `%`; literal text (`"…"`, `\x`, `[$₴-422]`, plain
//! symbols); up to four `;` sections; dates and times (`y m d h s`, month and
//! weekday names, `AM/PM`, fractions of a second, elapsed `[h]`); `@`.
//! Anything else (conditions such as `[<100]`, fractions, exponents, the
//! system long date `[$-F800]`) renders as `None`: the caller shows the plain
//! value instead, never an error. Padding (`_x`) and fill (`*x`) give no
//! characters: an SMS has no column width to pad to.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

/// How a country writes numbers and dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Locale {
    /// Decimal separator.
    decimal: char,
    /// Between groups of thousands.
    group: char,
    /// The system short date (what Excel's built-in format 14 shows).
    short_date: &'static str,
    /// Month and weekday names in Ukrainian rather than English.
    ukrainian: bool,
}

impl Locale {
    /// The locale of an ISO 3166 country code (`UA`), as Windows and
    /// LibreOffice set it up for that country. Thousands are separated by a
    /// plain space where the country uses a space: Excel and LibreOffice show
    /// a no-break space there, which looks the same on a phone, but a plain
    /// one is what people type and what conditions match.
    pub(crate) fn of_country(country: &str) -> Locale {
        let country = country.trim().to_ascii_uppercase();
        let (decimal, group) = match country.as_str() {
            "UA" | "RU" | "BY" | "KZ" | "PL" | "CZ" | "SK" | "FR" | "BG" | "LT" | "LV" | "EE" | "FI" | "SE" | "NO"
            | "HU" | "PT" | "UZ" | "GE" | "AM" | "AZ" | "KG" | "TJ" => (',', ' '),
            "DE" | "AT" | "IT" | "ES" | "NL" | "BE" | "DK" | "RO" | "MD" | "TR" | "GR" | "HR" | "RS" | "SI" | "BR"
            | "ID" | "AR" => (',', '.'),
            "CH" | "LI" => ('.', '\''),
            _ => ('.', ','),
        };
        let short_date = match country.as_str() {
            "US" => "m/d/yyyy",
            "GB" | "IE" | "FR" | "IT" | "ES" | "PT" | "BR" | "GR" | "BE" | "AU" | "NZ" | "IN" | "IL" => "dd/mm/yyyy",
            "UA" | "RU" | "BY" | "KZ" | "DE" | "AT" | "CH" | "PL" | "CZ" | "SK" | "FI" | "NO" | "TR" | "RO" | "MD"
            | "AZ" | "GE" | "AM" | "UZ" | "KG" | "TJ" | "BG" | "HR" | "RS" | "SI" | "EE" | "LV" | "DK" => "dd.mm.yyyy",
            _ => "yyyy-mm-dd",
        };
        Locale { decimal, group, short_date, ukrainian: country == "UA" }
    }
}

impl Default for Locale {
    /// Ukraine's, the connection spec's default country.
    fn default() -> Self {
        Locale::of_country("UA")
    }
}

/// The code of Excel's built-in number format `id` (the ones a workbook
/// refers to by number without writing them out). Formats 14 and 22 follow
/// the system's short date, as Excel shows them. `None`: a built-in that
/// depends on the system's currency or a script this renderer lacks.
pub(crate) fn builtin(id: u32, locale: &Locale) -> Option<String> {
    let code = match id {
        0 => "General",
        1 => "0",
        2 => "0.00",
        3 => "#,##0",
        4 => "#,##0.00",
        9 => "0%",
        10 => "0.00%",
        14 => locale.short_date,
        15 => "d-mmm-yy",
        16 => "d-mmm",
        17 => "mmm-yy",
        18 => "h:mm AM/PM",
        19 => "h:mm:ss AM/PM",
        20 => "h:mm",
        21 => "h:mm:ss",
        22 => return Some(format!("{} h:mm", locale.short_date)),
        37 => "#,##0 ;(#,##0)",
        38 => "#,##0 ;[Red](#,##0)",
        39 => "#,##0.00;(#,##0.00)",
        40 => "#,##0.00;[Red](#,##0.00)",
        45 => "mm:ss",
        46 => "[h]:mm:ss",
        47 => "mm:ss.0",
        49 => "@",
        _ => return None,
    };
    Some(code.to_owned())
}

/// A format code, parsed once and used for every cell that has it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Format {
    sections: Vec<Section>,
    /// `[$-409]`-style language tags: English names even for Ukraine.
    english: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Section {
    /// Digits: placeholders and literals.
    Number(Vec<Token>),
    /// Date and time parts and literals.
    Date(Vec<Token>),
    /// `General`, possibly with literals around it.
    General(Vec<Token>),
    /// Only literals (an accounting format's `"-"` for zero), or `@`.
    Literal(Vec<Token>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(String),
    /// `0`, `#` or `?`.
    Digit(char),
    Point,
    /// `,` between digit placeholders (grouping) or after them (÷1000).
    Comma,
    Percent,
    General,
    Text,
    Year(usize),
    /// Month or minute, decided once the neighbours are known.
    M(usize),
    Month(usize),
    Minute(usize),
    Day(usize),
    Hour(usize),
    Second(usize),
    /// `.0`, `.00`, `.000` after seconds.
    SubSecond(usize),
    /// `AM/PM` (true) or `A/P` (false).
    AmPm(bool),
    /// `[h]`, `[m]`, `[s]`: time elapsed, not a clock.
    Elapsed(char, usize),
}

impl Format {
    /// Parses `code`; `None` when it uses something this renderer does not do.
    pub(crate) fn parse(code: &str) -> Option<Format> {
        let mut english = false;
        let mut sections = Vec::new();
        for text in split_sections(code) {
            let (tokens, lang) = tokenize(&text)?;
            english |= lang;
            sections.push(classify(tokens)?);
        }
        if sections.is_empty() || sections.len() > 4 {
            return None;
        }
        Some(Format { sections, english })
    }

    /// Whether the first section shows a date or time.
    pub(crate) fn is_date(&self) -> bool {
        matches!(self.sections.first(), Some(Section::Date(_)))
    }

    /// `value` (for dates, an Excel serial in the 1900 system) as the format
    /// shows it; `None` where Excel would show `####` or the code is not done.
    pub(crate) fn render(&self, value: f64, locale: &Locale) -> Option<String> {
        if !value.is_finite() {
            return None;
        }
        let n = self.sections.len();
        // Excel: one section for all; two: >= 0 and < 0; three or four: > 0, < 0, = 0.
        let (section, value, auto_minus) = if n == 1 || value > 0.0 || (value == 0.0 && n == 2) {
            (&self.sections[0], value, n == 1)
        } else if value < 0.0 {
            // A section only for text leaves negatives to the first one.
            match &self.sections[1] {
                Section::Literal(t) if t.contains(&Token::Text) => (&self.sections[0], value, true),
                s => (s, -value, false),
            }
        } else {
            (&self.sections[2], value, false)
        };
        let ukrainian = locale.ukrainian && !self.english;
        let shown = match section {
            Section::Number(tokens) => number(tokens, value, auto_minus, locale),
            Section::General(tokens) => Some(literals_around(tokens, &general(value, locale))),
            Section::Date(_) if value < 0.0 => None,
            Section::Date(tokens) => date(tokens, value, ukrainian),
            Section::Literal(tokens) => Some(literals_around(tokens, &general(value, locale))),
        }?;
        Some(shown.trim().to_owned())
    }
}

/// A number as Excel's General format shows it: whole numbers exactly (a
/// phone stored as a number stays all digits), others to 15 significant
/// digits without float noise, never in exponent form, with the locale's
/// decimal separator and no grouping.
pub(crate) fn general(value: f64, locale: &Locale) -> String {
    let plain = super::sheet::number(value);
    if locale.decimal == '.' {
        plain
    } else {
        plain.replace('.', &locale.decimal.to_string())
    }
}

/// Splits at `;` outside quotes, brackets and escapes.
fn split_sections(code: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = code.chars();
    let (mut quoted, mut bracket) = (false, false);
    while let Some(c) = chars.next() {
        let current = out.last_mut().expect("never empty");
        match c {
            '"' if !bracket => quoted = !quoted,
            '[' if !quoted => bracket = true,
            ']' if !quoted => bracket = false,
            '\\' | '_' | '*' if !quoted && !bracket => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
                continue;
            }
            ';' if !quoted && !bracket => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out
}

/// Tokens of one section, and whether it asks for English names.
fn tokenize(section: &str) -> Option<(Vec<Token>, bool)> {
    let chars: Vec<char> = section.chars().collect();
    let mut tokens = Vec::new();
    let mut english = false;
    let mut i = 0;
    let run = |i: usize, c: char| chars[i..].iter().take_while(|x| x.eq_ignore_ascii_case(&c)).count();
    while i < chars.len() {
        let c = chars[i];
        let lower = c.to_ascii_lowercase();
        match lower {
            '"' => {
                let end = chars[i + 1..].iter().position(|&x| x == '"')? + i + 1;
                tokens.push(Token::Literal(chars[i + 1..end].iter().collect()));
                i = end + 1;
            }
            '\\' => {
                tokens.push(Token::Literal(chars.get(i + 1)?.to_string()));
                i += 2;
            }
            '_' | '*' => i += 2,
            '[' => {
                let end = chars[i..].iter().position(|&x| x == ']')? + i;
                let inside: String = chars[i + 1..end].iter().collect();
                i = end + 1;
                let lower = inside.to_ascii_lowercase();
                if let Some(rest) = inside.strip_prefix('$') {
                    // [$₴-422]: a symbol and a language; [$-F800]-style system formats are not done.
                    let (symbol, lang) = rest.split_once('-').unwrap_or((rest, ""));
                    let lang = lang.to_ascii_lowercase();
                    if lang.starts_with('f') && symbol.is_empty() {
                        return None;
                    }
                    // 409/809/…: an English-speaking locale.
                    english |= lang.ends_with("09") || lang.starts_with("en");
                    if !symbol.is_empty() {
                        tokens.push(Token::Literal(symbol.to_owned()));
                    }
                } else if !lower.is_empty() && lower.chars().all(|x| x == lower.chars().next().unwrap_or(' ')) {
                    let unit = lower.chars().next()?;
                    if !matches!(unit, 'h' | 'm' | 's') {
                        return None;
                    }
                    tokens.push(Token::Elapsed(unit, lower.len()));
                } else if is_colour(&lower) {
                    // Colours do not reach an SMS.
                } else {
                    return None;
                }
            }
            '0' | '#' | '?' => {
                tokens.push(Token::Digit(c));
                i += 1;
            }
            '.' => {
                // `.0` right after seconds is a fraction of a second.
                let zeros = chars[i + 1..].iter().take_while(|&&x| x == '0').count();
                let after_seconds = matches!(last_part(&tokens), Some(Token::Second(_)));
                if after_seconds && zeros > 0 {
                    tokens.push(Token::SubSecond(zeros));
                    i += 1 + zeros;
                } else {
                    tokens.push(Token::Point);
                    i += 1;
                }
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            '%' => {
                tokens.push(Token::Percent);
                i += 1;
            }
            '@' => {
                tokens.push(Token::Text);
                i += 1;
            }
            'e' if matches!(chars.get(i + 1), Some('+' | '-')) => return None,
            '/' if tokens.iter().any(|t| matches!(t, Token::Digit(_))) => return None,
            'g' if section[section.char_indices().nth(i)?.0..].to_ascii_lowercase().starts_with("general") => {
                tokens.push(Token::General);
                i += "general".len();
            }
            'a' if starts_with_ci(&chars[i..], "am/pm") => {
                tokens.push(Token::AmPm(true));
                i += 5;
            }
            'a' if starts_with_ci(&chars[i..], "a/p") => {
                tokens.push(Token::AmPm(false));
                i += 3;
            }
            'y' | 'm' | 'd' | 'h' | 's' => {
                let len = run(i, c);
                tokens.push(match lower {
                    'y' => Token::Year(len),
                    'm' => Token::M(len),
                    'd' => Token::Day(len),
                    'h' => Token::Hour(len),
                    _ => Token::Second(len),
                });
                i += len;
            }
            // Eras, Buddhist years, fractions, exponents: not done.
            'b' | 'g' | 'e' => return None,
            _ => {
                tokens.push(Token::Literal(c.to_string()));
                i += 1;
            }
        }
    }
    Some((tokens, english))
}

fn starts_with_ci(chars: &[char], word: &str) -> bool {
    chars.len() >= word.len() && chars.iter().zip(word.chars()).all(|(a, b)| a.eq_ignore_ascii_case(&b))
}

fn is_colour(lower: &str) -> bool {
    matches!(lower, "black" | "blue" | "cyan" | "green" | "magenta" | "red" | "white" | "yellow")
        || lower.strip_prefix("color").is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// The last token that is not a literal.
fn last_part(tokens: &[Token]) -> Option<&Token> {
    tokens.iter().rev().find(|t| !matches!(t, Token::Literal(_)))
}

/// Decides what a section is, and whether each `m` is a month or minutes:
/// minutes right after hours or right before seconds, as in Excel.
fn classify(mut tokens: Vec<Token>) -> Option<Section> {
    let is_date_part = |t: &Token| {
        matches!(
            t,
            Token::Year(_)
                | Token::M(_)
                | Token::Day(_)
                | Token::Hour(_)
                | Token::Second(_)
                | Token::AmPm(_)
                | Token::Elapsed(..)
                | Token::SubSecond(_)
        )
    };
    if tokens.iter().any(is_date_part) {
        let parts: Vec<usize> = (0..tokens.len()).filter(|&i| !matches!(tokens[i], Token::Literal(_))).collect();
        for (k, &i) in parts.iter().enumerate() {
            if let Token::M(len) = tokens[i] {
                let before = k.checked_sub(1).map(|p| &tokens[parts[p]]);
                let after = parts.get(k + 1).map(|&p| &tokens[p]);
                let minute = matches!(before, Some(Token::Hour(_) | Token::Elapsed('h', _)))
                    || matches!(after, Some(Token::Second(_) | Token::Elapsed('s', _)));
                tokens[i] = if minute { Token::Minute(len) } else { Token::Month(len) };
            }
        }
        // Digit placeholders, %, General or @ mixed into a date: not a real format.
        let stray = tokens.iter().any(|t| matches!(t, Token::Digit(_) | Token::Percent | Token::General | Token::Text));
        if stray {
            return None;
        }
        // In a date, `.` and `,` are plain characters (`dd.mm.yyyy`).
        let tokens = tokens
            .into_iter()
            .map(|t| match t {
                Token::Point => Token::Literal(".".into()),
                Token::Comma => Token::Literal(",".into()),
                t => t,
            })
            .collect();
        return Some(Section::Date(tokens));
    }
    if tokens.iter().any(|t| matches!(t, Token::Digit(_))) {
        if tokens.iter().any(|t| matches!(t, Token::General | Token::Text)) {
            return None;
        }
        return Some(Section::Number(tokens));
    }
    if tokens.contains(&Token::General) {
        return Some(Section::General(tokens));
    }
    // `.`, `,` and `%` with no digit are plain characters here.
    let tokens = tokens
        .into_iter()
        .map(|t| match t {
            Token::Point => Token::Literal(".".into()),
            Token::Comma => Token::Literal(",".into()),
            Token::Percent => Token::Literal("%".into()),
            t => t,
        })
        .collect();
    Some(Section::Literal(tokens))
}

/// The literals of a section, with `shown` where `General` (or `@`) stands.
fn literals_around(tokens: &[Token], shown: &str) -> String {
    let mut out = String::new();
    for t in tokens {
        match t {
            Token::Literal(s) => out.push_str(s),
            Token::General | Token::Text => out.push_str(shown),
            _ => {}
        }
    }
    out
}

/// A non-negative number's decimal digits rounded to `decimals` places, as
/// (integer digits, fraction digits). It is first cut to the 15 significant
/// digits Excel keeps, so 2.675 rounds to 2.68 as in Excel, not to 2.67.
fn decimal_digits(value: f64, decimals: usize) -> (String, String) {
    let sci = format!("{value:.14e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
    // Place the point: `point` digits before it.
    let mut point = exp + 1;
    if point < 0 {
        let pad = (-point) as usize;
        digits.splice(0..0, std::iter::repeat_n(0, pad));
        point = 0;
    }
    let point = point as usize;
    if digits.len() < point + decimals {
        digits.resize(point + decimals, 0);
    }
    let keep = point + decimals;
    let round_up = digits.get(keep).is_some_and(|&d| d >= 5);
    digits.truncate(keep);
    let mut point = point;
    if round_up {
        let mut i = keep;
        loop {
            if i == 0 {
                digits.insert(0, 1);
                point += 1;
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let text = |ds: &[u8]| ds.iter().map(|d| char::from(b'0' + d)).collect::<String>();
    let int = text(&digits[..point]).trim_start_matches('0').to_owned();
    (int, text(&digits[point..]))
}

fn number(tokens: &[Token], value: f64, auto_minus: bool, locale: &Locale) -> Option<String> {
    let first_digit = tokens.iter().position(|t| matches!(t, Token::Digit(_)))?;
    let last_digit = tokens.iter().rposition(|t| matches!(t, Token::Digit(_)))?;
    let point = tokens[first_digit..=last_digit].iter().position(|t| *t == Token::Point).map(|p| p + first_digit);
    let int_end = point.unwrap_or(last_digit + 1);
    // Commas right after the last integer placeholder divide by 1000 each.
    let mut scale = 0;
    let mut j = int_end;
    while j > first_digit && tokens[j - 1] == Token::Comma {
        scale += 1;
        j -= 1;
    }
    if point.is_none() {
        let mut k = last_digit + 1;
        while tokens.get(k) == Some(&Token::Comma) {
            scale += 1;
            k += 1;
        }
    }
    let int_tokens = &tokens[first_digit..int_end - if point.is_some() { scale } else { 0 }];
    let grouping = int_tokens.contains(&Token::Comma);
    let frac_tokens: &[Token] = match point {
        Some(p) => &tokens[p + 1..=last_digit],
        None => &[],
    };
    let decimals = frac_tokens.iter().filter(|t| matches!(t, Token::Digit(_))).count();
    let percents = tokens.iter().filter(|t| **t == Token::Percent).count();
    let mut scaled = value.abs() * 100f64.powi(percents as i32) / 1000f64.powi(scale as i32);
    if !scaled.is_finite() || scaled >= 1e21 {
        return None;
    }
    if scaled < 0.0 {
        scaled = 0.0;
    }
    let (int_digits, frac_digits) = decimal_digits(scaled, decimals);

    let mut out = String::new();
    // Like Excel and Calc, a negative number that rounds to zero keeps its sign (`-0`).
    if value < 0.0 && auto_minus {
        out.push('-');
    }
    for t in &tokens[..first_digit] {
        push_plain(&mut out, t);
    }
    out.push_str(&integer_part(int_tokens, &int_digits, grouping, locale));
    if point.is_some() {
        out.push(locale.decimal);
        out.push_str(&fraction_part(frac_tokens, &frac_digits));
    }
    for t in &tokens[last_digit + 1..] {
        push_plain(&mut out, t);
    }
    Some(out)
}

/// Literals and `%` outside the digits (commas there only scale).
fn push_plain(out: &mut String, t: &Token) {
    match t {
        Token::Literal(s) => out.push_str(s),
        Token::Percent => out.push('%'),
        _ => {}
    }
}

/// Integer digits laid into placeholders right to left; extra digits go to
/// the leftmost one, `0` pads with zeros, `?` with spaces, `#` with nothing.
fn integer_part(tokens: &[Token], digits: &str, grouping: bool, locale: &Locale) -> String {
    let mut digits: Vec<char> = digits.chars().collect();
    let placeholders = tokens.iter().filter(|t| matches!(t, Token::Digit(_))).count();
    let mut out: Vec<String> = Vec::new();
    let mut seen = 0;
    let mut emitted = 0;
    let push_digit = |out: &mut Vec<String>, d: char, emitted: &mut usize| {
        if grouping && *emitted > 0 && (*emitted).is_multiple_of(3) {
            out.push(locale.group.to_string());
        }
        out.push(d.to_string());
        *emitted += 1;
    };
    for t in tokens.iter().rev() {
        match t {
            Token::Digit(kind) => {
                seen += 1;
                if let Some(d) = digits.pop() {
                    push_digit(&mut out, d, &mut emitted);
                } else if *kind == '0' {
                    push_digit(&mut out, '0', &mut emitted);
                } else if *kind == '?' {
                    out.push(" ".into());
                }
                if seen == placeholders {
                    while let Some(d) = digits.pop() {
                        push_digit(&mut out, d, &mut emitted);
                    }
                }
            }
            Token::Literal(s) => out.push(s.clone()),
            Token::Percent => out.push("%".into()),
            _ => {}
        }
    }
    out.iter().rev().map(String::as_str).collect()
}

/// Fraction digits laid into placeholders left to right; trailing zeros at
/// `#` are dropped and at `?` become spaces.
fn fraction_part(tokens: &[Token], digits: &str) -> String {
    let digits: Vec<char> = digits.chars().collect();
    let kinds: Vec<char> =
        tokens.iter().filter_map(|t| if let Token::Digit(k) = t { Some(*k) } else { None }).collect();
    // How many digits are shown: up to the last non-zero, or the last `0`/`?` placeholder.
    let significant = digits.iter().rposition(|&d| d != '0').map_or(0, |p| p + 1);
    let forced = kinds.iter().rposition(|&k| k != '#').map_or(0, |p| p + 1);
    let shown = significant.max(forced);
    let mut out = String::new();
    let mut i = 0;
    for t in tokens {
        match t {
            Token::Digit(kind) => {
                if i < shown {
                    out.push(if i >= significant && *kind == '?' { ' ' } else { digits[i] });
                }
                i += 1;
            }
            Token::Literal(s) => out.push_str(s),
            Token::Percent => out.push('%'),
            _ => {}
        }
    }
    out
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_UK: [&str; 12] = [
    "січень",
    "лютий",
    "березень",
    "квітень",
    "травень",
    "червень",
    "липень",
    "серпень",
    "вересень",
    "жовтень",
    "листопад",
    "грудень",
];
/// Ukrainian months after a day number ("5 грудня").
const MONTHS_UK_OF: [&str; 12] = [
    "січня",
    "лютого",
    "березня",
    "квітня",
    "травня",
    "червня",
    "липня",
    "серпня",
    "вересня",
    "жовтня",
    "листопада",
    "грудня",
];
const MONTHS_UK_SHORT: [&str; 12] =
    ["січ", "лют", "бер", "кві", "тра", "чер", "лип", "сер", "вер", "жов", "лис", "гру"];
const DAYS_EN: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const DAYS_UK: [&str; 7] = ["неділя", "понеділок", "вівторок", "середа", "четвер", "пʼятниця", "субота"];
const DAYS_UK_SHORT: [&str; 7] = ["нд", "пн", "вт", "ср", "чт", "пт", "сб"];

/// The date and time of an Excel serial (1900 system, Excel's phantom
/// 1900-02-29 included), rounded to `1/10^digits` of a second.
pub(crate) fn serial_to_date_time(serial: f64, digits: usize) -> Option<NaiveDateTime> {
    if !(0.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let unit = 10f64.powi(digits as i32);
    let ticks = (serial * 86_400.0 * unit).round();
    let per_day = 86_400.0 * unit;
    let days = (ticks / per_day).floor();
    let rest = ticks - days * per_day;
    let days = days as i64;
    // Serials 1–59 count from 1899-12-31; 60 is the 29th of February 1900 that never was.
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let date = match days {
        60 => return None,
        0..=59 => epoch.checked_add_signed(chrono::Duration::days(days + 1))?,
        _ => epoch.checked_add_signed(chrono::Duration::days(days))?,
    };
    let nanos = (rest / unit * 1e9).round() as i64;
    date.and_hms_opt(0, 0, 0)?.checked_add_signed(chrono::Duration::nanoseconds(nanos))
}

/// The Excel serial (1900 system) of a date and time.
pub(crate) fn date_time_to_serial(at: NaiveDateTime) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).expect("a valid date").and_hms_opt(0, 0, 0).expect("midnight");
    let mut seconds = (at - epoch).num_milliseconds() as f64 / 1000.0;
    // Before 1900-03-01, Excel's serials are one higher than real days.
    if at.date() < NaiveDate::from_ymd_opt(1900, 3, 1).expect("a valid date") {
        seconds -= 86_400.0;
    }
    seconds / 86_400.0
}

fn date(tokens: &[Token], serial: f64, ukrainian: bool) -> Option<String> {
    let digits = tokens.iter().find_map(|t| if let Token::SubSecond(n) = t { Some(*n) } else { None }).unwrap_or(0);
    let digits = digits.min(3);
    let at = serial_to_date_time(serial, digits)?;
    let twelve = tokens.iter().any(|t| matches!(t, Token::AmPm(_)));
    let with_day = tokens.iter().any(|t| matches!(t, Token::Day(1 | 2)));
    let unit = 10f64.powi(digits as i32);
    let total_ticks = (serial * 86_400.0 * unit).round();
    let mut out = String::new();
    for t in tokens {
        match t {
            Token::Literal(s) => out.push_str(s),
            Token::Year(n) if *n <= 2 => out.push_str(&format!("{:02}", at.year() % 100)),
            Token::Year(_) => out.push_str(&format!("{:04}", at.year())),
            Token::Month(n) => {
                let m = at.month0() as usize;
                match n {
                    1 => out.push_str(&(m + 1).to_string()),
                    2 => out.push_str(&format!("{:02}", m + 1)),
                    3 if ukrainian => out.push_str(MONTHS_UK_SHORT[m]),
                    3 => out.push_str(&MONTHS_EN[m][..3]),
                    4 if ukrainian && with_day => out.push_str(MONTHS_UK_OF[m]),
                    4 if ukrainian => out.push_str(MONTHS_UK[m]),
                    4 => out.push_str(MONTHS_EN[m]),
                    _ if ukrainian => out.extend(MONTHS_UK[m].chars().next()),
                    _ => out.push_str(&MONTHS_EN[m][..1]),
                }
            }
            Token::Day(n) => {
                let w = at.weekday().num_days_from_sunday() as usize;
                match n {
                    1 => out.push_str(&at.day().to_string()),
                    2 => out.push_str(&format!("{:02}", at.day())),
                    3 if ukrainian => out.push_str(DAYS_UK_SHORT[w]),
                    3 => out.push_str(&DAYS_EN[w][..3]),
                    _ if ukrainian => out.push_str(DAYS_UK[w]),
                    _ => out.push_str(DAYS_EN[w]),
                }
            }
            Token::Hour(n) => {
                let h = if twelve { (at.hour() + 11) % 12 + 1 } else { at.hour() };
                out.push_str(&if *n >= 2 { format!("{h:02}") } else { h.to_string() });
            }
            Token::Minute(n) => {
                out.push_str(&if *n >= 2 { format!("{:02}", at.minute()) } else { at.minute().to_string() })
            }
            Token::Second(n) => {
                out.push_str(&if *n >= 2 { format!("{:02}", at.second()) } else { at.second().to_string() })
            }
            Token::SubSecond(n) => {
                let fraction = format!("{:03}", at.nanosecond() / 1_000_000);
                // Excel writes `ss.0` with a point whatever the locale.
                out.push('.');
                out.push_str(&fraction[..(*n).min(3)]);
            }
            Token::AmPm(full) => {
                let pm = at.hour() >= 12;
                out.push_str(match (full, pm) {
                    (true, false) => "AM",
                    (true, true) => "PM",
                    (false, false) => "A",
                    (false, true) => "P",
                });
            }
            Token::Elapsed(unit_char, n) => {
                let seconds = (total_ticks / unit).floor() as i64;
                let count = match unit_char {
                    'h' => seconds / 3600,
                    'm' => seconds / 60,
                    _ => seconds,
                };
                out.push_str(&format!("{count:0width$}", width = *n));
            }
            // Minutes and seconds under an elapsed unit are the remainder, as Excel shows.
            _ => {}
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ua() -> Locale {
        Locale::of_country("UA")
    }
    fn us() -> Locale {
        Locale::of_country("US")
    }
    fn show(code: &str, value: f64, locale: &Locale) -> Option<String> {
        Format::parse(code).and_then(|f| f.render(value, locale))
    }
    fn serial(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> f64 {
        date_time_to_serial(NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, min, s).unwrap())
    }

    /// Each supported code with what Excel shows in an en-US and a uk-UA system.
    #[test]
    fn numbers_show_as_excel_shows_them() {
        for (code, value, en, uk) in [
            ("General", 1200.5, "1200.5", "1200,5"),
            ("General", 0.1 + 0.2, "0.3", "0,3"),
            ("General", 380671234567.0, "380671234567", "380671234567"),
            ("General", -7.0, "-7", "-7"),
            ("0", 1200.5, "1201", "1201"),
            ("0", -0.4, "-0", "-0"),
            ("0.00", 2.675, "2.68", "2,68"),
            ("0.00", 1200.5, "1200.50", "1200,50"),
            ("#,##0", 1234567.0, "1,234,567", "1 234 567"),
            ("#,##0.00", 1200.5, "1,200.50", "1 200,50"),
            ("#,##0.00", -1200.5, "-1,200.50", "-1 200,50"),
            ("#,##0.00", 0.5, "0.50", "0,50"),
            ("#,##0.00 \"₴\"", 1200.5, "1,200.50 ₴", "1 200,50 ₴"),
            ("#,##0.00\\ \"₴\"", 1200.5, "1,200.50 ₴", "1 200,50 ₴"),
            ("#,##0.00 [$₴-422]", 1200.5, "1,200.50 ₴", "1 200,50 ₴"),
            ("[$$-409]#,##0.00", 1200.5, "$1,200.50", "$1 200,50"),
            ("#,##0 \"грн\"", 450.0, "450 грн", "450 грн"),
            ("0%", 0.1, "10%", "10%"),
            ("0.00%", 0.125, "12.50%", "12,50%"),
            ("0.0%", 1.0, "100.0%", "100,0%"),
            ("#,##0,\"K\"", 1234567.0, "1,235K", "1 235K"),
            ("#.##", 1.0, "1.", "1,"),
            ("#.##", 1.5, "1.5", "1,5"),
            ("0.0#", 1.5, "1.5", "1,5"),
            ("0.0#", 1.25, "1.25", "1,25"),
            ("00000", 42.0, "00042", "00042"),
            ("+380 00 000 00 00", 671234567.0, "+380 67 123 45 67", "+380 67 123 45 67"),
            ("#,##0.00;(#,##0.00)", -5.0, "(5.00)", "(5,00)"),
            ("#,##0.00;[Red]\\-#,##0.00", -5.0, "-5.00", "-5,00"),
            ("0;-0;\"нуль\"", 0.0, "нуль", "нуль"),
            ("0;-0;;@", 0.0, "", ""),
            ("0.00;@", -3.0, "-3.00", "-3,00"),
            ("\"Сума: \"0.00", 12.0, "Сума: 12.00", "Сума: 12,00"),
            (
                "_-* #,##0.00\\ \"₴\"_-;\\-* #,##0.00\\ \"₴\"_-;_-* \"-\"??\\ \"₴\"_-;_-@_-",
                1200.5,
                "1,200.50 ₴",
                "1 200,50 ₴",
            ),
            ("_-* #,##0.00\\ \"₴\"_-;\\-* #,##0.00\\ \"₴\"_-;_-* \"-\"??\\ \"₴\"_-;_-@_-", -3.0, "-3.00 ₴", "-3,00 ₴"),
            ("_-* #,##0.00\\ \"₴\"_-;\\-* #,##0.00\\ \"₴\"_-;_-* \"-\"??\\ \"₴\"_-;_-@_-", 0.0, "-   ₴", "-   ₴"),
            ("@", 12.5, "12.5", "12,5"),
            ("General\" шт\"", 3.0, "3 шт", "3 шт"),
        ] {
            assert_eq!(show(code, value, &us()).as_deref(), Some(en), "{code} with {value} in en-US");
            assert_eq!(show(code, value, &ua()).as_deref(), Some(uk), "{code} with {value} in uk-UA");
        }
    }

    #[test]
    fn dates_show_as_excel_shows_them() {
        let at = serial(2026, 12, 5, 14, 30, 0);
        for (code, en, uk) in [
            ("dd.mm.yyyy", "05.12.2026", "05.12.2026"),
            ("DD.MM.YYYY", "05.12.2026", "05.12.2026"),
            ("dd.mm.yyyy hh:mm", "05.12.2026 14:30", "05.12.2026 14:30"),
            ("DD.MM.YYYY HH:MM", "05.12.2026 14:30", "05.12.2026 14:30"),
            ("yyyy-mm-dd", "2026-12-05", "2026-12-05"),
            ("d/m/yy", "5/12/26", "5/12/26"),
            ("m/d/yyyy h:mm AM/PM", "12/5/2026 2:30 PM", "12/5/2026 2:30 PM"),
            ("d mmmm yyyy", "5 December 2026", "5 грудня 2026"),
            ("mmmm yyyy", "December 2026", "грудень 2026"),
            ("[$-409]d mmmm yyyy", "5 December 2026", "5 December 2026"),
            ("d mmm", "5 Dec", "5 гру"),
            ("dddd, d.mm", "Saturday, 5.12", "субота, 5.12"),
            ("ddd", "Sat", "сб"),
            ("hh:mm", "14:30", "14:30"),
            ("h:mm:ss", "14:30:00", "14:30:00"),
            ("[h]:mm", "1112678:30", "1112678:30"),
        ] {
            assert_eq!(show(code, at, &us()).as_deref(), Some(en), "{code} in en-US");
            assert_eq!(show(code, at, &ua()).as_deref(), Some(uk), "{code} in uk-UA");
        }
        assert_eq!(show("hh:mm", 0.4375 - 1e-9, &ua()).as_deref(), Some("10:30"), "rounded to the second first");
        assert_eq!(show("hh:mm", 0.4375 - 20.0 / 86_400.0, &ua()).as_deref(), Some("10:29"), "minutes are cut");
        assert_eq!(show("[h]:mm:ss", 1.5, &ua()).as_deref(), Some("36:00:00"), "elapsed hours pass a day");
        assert_eq!(show("mm:ss.0", 75.25 / 86_400.0, &ua()).as_deref(), Some("01:15.3"), "tenths of a second");
        assert_eq!(show("dd.mm.yyyy", -1.0, &ua()), None, "a negative date is Excel's ####");
        assert_eq!(show("dd.mm.yyyy", 1.0, &ua()).as_deref(), Some("01.01.1900"), "serial 1");
        assert_eq!(show("dd.mm.yyyy", 61.0, &ua()).as_deref(), Some("01.03.1900"), "after the phantom leap day");
    }

    #[test]
    fn builtin_ids_follow_the_system_short_date() {
        let at = serial(2026, 12, 5, 14, 30, 0);
        let by_id = |id, l: &Locale| builtin(id, l).and_then(|c| show(&c, at, l));
        assert_eq!(by_id(14, &ua()).as_deref(), Some("05.12.2026"), "14 in uk-UA");
        assert_eq!(by_id(14, &us()).as_deref(), Some("12/5/2026"), "14 in en-US");
        assert_eq!(by_id(22, &ua()).as_deref(), Some("05.12.2026 14:30"), "22 in uk-UA");
        assert_eq!(by_id(15, &us()).as_deref(), Some("5-Dec-26"), "15");
        assert_eq!(by_id(16, &us()).as_deref(), Some("5-Dec"), "16");
        assert_eq!(by_id(17, &us()).as_deref(), Some("Dec-26"), "17");
        assert_eq!(by_id(18, &us()).as_deref(), Some("2:30 PM"), "18");
        assert_eq!(by_id(19, &us()).as_deref(), Some("2:30:00 PM"), "19");
        assert_eq!(by_id(20, &us()).as_deref(), Some("14:30"), "20");
        assert_eq!(by_id(21, &us()).as_deref(), Some("14:30:00"), "21");
        let n = |id, v, l: &Locale| builtin(id, l).and_then(|c| show(&c, v, l));
        assert_eq!(n(3, 1234567.0, &ua()).as_deref(), Some("1 234 567"), "3");
        assert_eq!(n(4, 1200.5, &ua()).as_deref(), Some("1 200,50"), "4");
        assert_eq!(n(9, 0.1, &ua()).as_deref(), Some("10%"), "9");
        assert_eq!(n(10, 0.1, &ua()).as_deref(), Some("10,00%"), "10");
        assert_eq!(n(39, -5.0, &ua()).as_deref(), Some("(5,00)"), "39");
        assert_eq!(n(2, 1.0, &ua()).as_deref(), Some("1,00"), "2");
        assert_eq!(builtin(5, &ua()), None, "the system's currency is not known");
        assert_eq!(builtin(11, &ua()), None, "exponent form is not done");
    }

    #[test]
    fn unsupported_codes_give_way_to_the_plain_value() {
        for code in ["[<100]0;0", "0.00E+00", "# ?/?", "[$-F800]dddd, mmmm dd, yyyy", "[DBNum1]0", "0\"", "ggg e"] {
            assert_eq!(show(code, 5.0, &ua()), None, "{code} is not rendered");
        }
    }

    #[test]
    fn countries_have_their_separators() {
        assert_eq!(show("#,##0.00", 1234.5, &Locale::of_country("DE")).as_deref(), Some("1.234,50"), "Germany");
        assert_eq!(show("#,##0.00", 1234.5, &Locale::of_country("CH")).as_deref(), Some("1'234.50"), "Switzerland");
        assert_eq!(show("#,##0.00", 1234.5, &Locale::of_country("pl")).as_deref(), Some("1 234,50"), "any case");
        assert_eq!(Locale::default(), ua(), "the spec's default country");
    }
}
