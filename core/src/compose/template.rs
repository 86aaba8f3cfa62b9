//! The message template: free text with `{{Column header}}` fields and the
//! system variables `{{$time}}`, `{{$date}}`, `{{$year}}`, `{{$month}}` and
//! `{{$day}}`, parsed once when the connection is saved and rendered per row.
//!
//! Syntax (`docs/connection-spec.md` has the user's view):
//! - `{{` opens a field and the next `}}` closes it. Whitespace just inside
//!   the braces is ignored, so `{{ Name }}` is `{{Name}}`; the header inside
//!   is matched exactly otherwise (any language, spaces, case-sensitive).
//! - A lone `{` or `}` is literal text: both are GSM-7 extension characters a
//!   message may well contain. In `{{{Name}}}` the outer braces are literal.
//! - A `}}` that closes nothing is refused: it is nearly always a mistyped
//!   field (`{Name}}`) that would otherwise reach customers as raw braces.
//! - System variable names ignore ASCII case (`{{$Date}}` works).
//!
//! Deliberately not here: escaping (there is no way to send a literal `{{`,
//! nobody has asked for one), formatting options inside fields, reading the
//! clock (the local time is a parameter) and reading rows (a lookup is).

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDateTime, Timelike};

/// How `{{$date}}` is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DateFormat {
    /// `2025-03-07`, the default.
    #[default]
    #[serde(rename = "YYYY-MM-DD")]
    Iso,
    /// `07.03.2025`, as Ukrainian (and most European) readers write dates.
    #[serde(rename = "DD.MM.YYYY")]
    DayMonthYear,
}

impl DateFormat {
    /// The pattern as the user sees it and the connection spec stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            DateFormat::Iso => "YYYY-MM-DD",
            DateFormat::DayMonthYear => "DD.MM.YYYY",
        }
    }

    /// Parses `YYYY-MM-DD` or `DD.MM.YYYY` (any case).
    pub fn parse(text: &str) -> Option<DateFormat> {
        [DateFormat::Iso, DateFormat::DayMonthYear].into_iter().find(|f| f.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// A system variable: a part of the local time at send time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variable {
    /// `{{$time}}`: `HH:MM`, 24-hour.
    Time,
    /// `{{$date}}`: in the connection's [`DateFormat`].
    Date,
    /// `{{$year}}`: four digits.
    Year,
    /// `{{$month}}`: two digits.
    Month,
    /// `{{$day}}`: two digits, the day of the month.
    Day,
}

impl Variable {
    /// Every variable, in the order the UI offers them.
    pub const ALL: [Variable; 5] = [Variable::Time, Variable::Date, Variable::Year, Variable::Month, Variable::Day];

    /// The name after the `$`.
    pub fn name(self) -> &'static str {
        match self {
            Variable::Time => "time",
            Variable::Date => "date",
            Variable::Year => "year",
            Variable::Month => "month",
            Variable::Day => "day",
        }
    }

    fn parse(name: &str) -> Option<Variable> {
        Variable::ALL.into_iter().find(|v| v.name().eq_ignore_ascii_case(name))
    }

    fn render(self, now: NaiveDateTime, date_format: DateFormat) -> String {
        match (self, date_format) {
            (Variable::Time, _) => format!("{:02}:{:02}", now.hour(), now.minute()),
            (Variable::Date, DateFormat::Iso) => format!("{:04}-{:02}-{:02}", now.year(), now.month(), now.day()),
            (Variable::Date, DateFormat::DayMonthYear) => {
                format!("{:02}.{:02}.{:04}", now.day(), now.month(), now.year())
            }
            (Variable::Year, _) => format!("{:04}", now.year()),
            (Variable::Month, _) => format!("{:02}", now.month()),
            (Variable::Day, _) => format!("{:02}", now.day()),
        }
    }
}

/// `{{$time}}, {{$date}}, …` for error messages.
fn variable_list() -> String {
    Variable::ALL.iter().map(|v| format!("{{{{${}}}}}", v.name())).collect::<Vec<_>>().join(", ")
}

/// `"A", "B"` for error messages.
fn quoted_list(items: &[String]) -> String {
    items.iter().map(|i| format!("\"{i}\"")).collect::<Vec<_>>().join(", ")
}

fn unknown_columns_message(columns: &[String], available: &[String]) -> String {
    let mut msg = match columns {
        [one] => format!("the message uses the column \"{one}\", which the source does not have"),
        many => format!("the message uses the columns {}, which the source does not have", quoted_list(many)),
    };
    if available.is_empty() {
        msg.push_str("; the source has no named columns: check that its first row holds the headers");
    } else {
        let _ = write!(
            msg,
            "; its columns are {}: make the name inside {{{{…}}}} match one exactly",
            quoted_list(available)
        );
    }
    msg
}

/// Why a template cannot be used. Positions count characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The template is empty or only whitespace.
    #[error("the message is empty: type the text of the SMS")]
    EmptyMessage,
    /// A `{{` with no `}}` after it.
    #[error("the field at character {position} (\"{snippet}\") is never closed: end it with }}}}")]
    Unclosed {
        /// Where the `{{` is.
        position: usize,
        /// The text from the `{{` on, cut short.
        snippet: String,
    },
    /// A `}}` with no `{{` before it.
    #[error("the }}}} at character {position} (\"{snippet}\") closes nothing: a field is written {{{{Column}}}}")]
    StrayClose {
        /// Where the `}}` is.
        position: usize,
        /// The text around it.
        snippet: String,
    },
    /// `{{}}` or `{{  }}`.
    #[error("the field at character {position} is empty: put a column header or a variable between the braces, or remove them")]
    EmptyField {
        /// Where the `{{` is.
        position: usize,
    },
    /// `{{$something}}` that is not a system variable.
    #[error("{{{{${name}}}}} at character {position} is not a system variable: use one of {}", variable_list())]
    UnknownVariable {
        /// Where the `{{` is.
        position: usize,
        /// What followed the `$`.
        name: String,
    },
    /// Fields naming columns the source does not have.
    #[error("{}", unknown_columns_message(.columns, .available))]
    UnknownColumns {
        /// The unknown names, in template order.
        columns: Vec<String>,
        /// The source's headers.
        available: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Column(String),
    Variable(Variable),
}

/// A parsed message template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    pieces: Vec<Piece>,
}

/// Up to 24 characters of `chars` from `from`, for pointing at a spot.
fn snippet(chars: &[char], from: usize) -> String {
    let mut s: String = chars[from..].iter().take(24).map(|&c| if c.is_control() { ' ' } else { c }).collect();
    if chars.len() - from > 24 {
        s.push('…');
    }
    s
}

/// The index of `headers` whose text, trimmed, is `column`. Templates ignore
/// whitespace inside the braces, so a header with a stray trailing space
/// ("Name ") must still be reachable; the run's row lookup uses this too.
pub fn find_column(headers: &[String], column: &str) -> Option<usize> {
    headers.iter().position(|h| h.trim() == column)
}

impl Template {
    /// Parses the stored form of a message.
    pub fn parse(source: &str) -> Result<Template, Error> {
        if source.trim().is_empty() {
            return Err(Error::EmptyMessage);
        }
        let chars: Vec<char> = source.chars().collect();
        let is_pair = |i: usize, c: char| chars.get(i) == Some(&c) && chars.get(i + 1) == Some(&c);
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut i = 0;
        while i < chars.len() {
            if is_pair(i, '}') {
                return Err(Error::StrayClose { position: i + 1, snippet: snippet(&chars, i.saturating_sub(12)) });
            }
            if !is_pair(i, '{') {
                text.push(chars[i]);
                i += 1;
                continue;
            }
            // In a run of three or more braces only the last two open the field.
            while is_pair(i + 1, '{') {
                text.push('{');
                i += 1;
            }
            let open = i;
            let mut close = open + 2;
            loop {
                if close + 1 >= chars.len() || is_pair(close, '{') {
                    return Err(Error::Unclosed { position: open + 1, snippet: snippet(&chars, open) });
                }
                if is_pair(close, '}') {
                    break;
                }
                close += 1;
            }
            let inner: String = chars[open + 2..close].iter().collect();
            let name = inner.trim();
            if name.is_empty() {
                return Err(Error::EmptyField { position: open + 1 });
            }
            let piece = if let Some(var) = name.strip_prefix('$') {
                let Some(v) = Variable::parse(var) else {
                    return Err(Error::UnknownVariable { position: open + 1, name: var.to_owned() });
                };
                Piece::Variable(v)
            } else {
                Piece::Column(name.to_owned())
            };
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            pieces.push(piece);
            i = close + 2;
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template { source: source.to_owned(), pieces })
    }

    /// The template as the user wrote it (and the store keeps it).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The column headers the template uses, each once, in order.
    pub fn columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for p in &self.pieces {
            if let Piece::Column(c) = p {
                if !out.contains(&c.as_str()) {
                    out.push(c);
                }
            }
        }
        out
    }

    /// Refuses a template that names a column `headers` lacks, naming every
    /// such column and listing the ones there are. Called when a connection
    /// is saved, and worth calling again when a run finds the headers changed.
    pub fn check_columns(&self, headers: &[String]) -> Result<(), Error> {
        let columns: Vec<String> =
            self.columns().into_iter().filter(|c| find_column(headers, c).is_none()).map(str::to_owned).collect();
        if columns.is_empty() {
            return Ok(());
        }
        let available = headers.iter().map(|h| h.trim()).filter(|h| !h.is_empty()).map(str::to_owned).collect();
        Err(Error::UnknownColumns { columns, available })
    }

    /// The text for one row at local time `now`. `lookup` gives a cell by
    /// header; a missing or empty cell renders as nothing. Cells are trimmed:
    /// invisible edge whitespace (often a non-breaking space, which is not
    /// GSM-7) would otherwise cost characters or even force UCS-2.
    pub fn render<'r>(
        &self,
        lookup: impl Fn(&str) -> Option<&'r str>,
        now: NaiveDateTime,
        date_format: DateFormat,
    ) -> String {
        self.render_with_slots(lookup, now, date_format).0
    }

    /// [`Template::render`], also giving where each time variable landed, so
    /// a message sent later than it was composed can show the send time
    /// ([`TimeSlots::refresh`]).
    pub fn render_with_slots<'r>(
        &self,
        lookup: impl Fn(&str) -> Option<&'r str>,
        now: NaiveDateTime,
        date_format: DateFormat,
    ) -> (String, TimeSlots) {
        let mut out = String::new();
        let mut slots = Vec::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Column(c) => out.push_str(lookup(c).unwrap_or_default().trim()),
                Piece::Variable(v) => {
                    slots.push((out.len(), *v));
                    out.push_str(&v.render(now, date_format));
                }
            }
        }
        (out, TimeSlots(slots))
    }
}

/// Where the time variables are in a rendered text: byte offsets. Every
/// variable renders at a fixed length for a date format, so a later time
/// fits exactly where the earlier one was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeSlots(Vec<(usize, Variable)>);

impl TimeSlots {
    /// `offset:name` pairs, for the ledger; `None` when there are none.
    pub fn encode(&self) -> Option<String> {
        (!self.0.is_empty())
            .then(|| self.0.iter().map(|(at, v)| format!("{at}:{}", v.name())).collect::<Vec<_>>().join(","))
    }

    /// Reads [`TimeSlots::encode`]'s form; anything unreadable is no slot.
    pub fn decode(text: &str) -> TimeSlots {
        let slot = |pair: &str| {
            let (at, name) = pair.split_once(':')?;
            Some((at.parse().ok()?, Variable::parse(name)?))
        };
        TimeSlots(text.split(',').filter_map(slot).collect())
    }

    /// `text` with each time variable showing `now` instead; `text` as it is
    /// when a slot does not fit (the text was not rendered with these slots).
    pub fn refresh(&self, text: &str, now: NaiveDateTime, date_format: DateFormat) -> String {
        let mut out = text.to_owned();
        for (at, variable) in &self.0 {
            let value = variable.render(now, date_format);
            let end = at + value.len();
            if end > out.len() || !out.is_char_boundary(*at) || !out.is_char_boundary(end) {
                return text.to_owned();
            }
            out.replace_range(*at..end, &value);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::NaiveDate;

    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d).and_then(|d| d.and_hms_opt(h, mi, 59)).expect("a real date")
    }

    #[test]
    fn time_slots_put_the_send_time_where_the_found_time_was() {
        let template =
            Template::parse("{{Name}}: прийнято {{$date}} о {{$time}}, {{ $day }}.{{$month}}.{{$year}}").unwrap();
        let row: HashMap<&str, &str> = [("Name", "Олена")].into_iter().collect();
        for format in [DateFormat::Iso, DateFormat::DayMonthYear] {
            let (found, slots) = template.render_with_slots(|c| row.get(c).copied(), at(2025, 3, 7, 22, 30), format);
            let slots = TimeSlots::decode(&slots.encode().expect("the template has time variables"));
            let later = slots.refresh(&found, at(2025, 3, 8, 8, 0), format);
            let direct = template.render(|c| row.get(c).copied(), at(2025, 3, 8, 8, 0), format);
            assert_eq!(later, direct, "refreshed text equals a render at send time ({format:?})");
            assert_ne!(later, found, "and differs from the found time");
        }
        assert_eq!(TimeSlots::decode("999:time").refresh("short", at(2025, 3, 8, 8, 0), DateFormat::Iso), "short");
        let plain = Template::parse("Hello {{Name}}").unwrap();
        assert_eq!(plain.render_with_slots(|_| None, at(2025, 3, 8, 8, 0), DateFormat::Iso).1.encode(), None);
    }

    /// `template` renders as `expected` for `row` at 2025-03-07 09:05:59.
    #[track_caller]
    fn check(template: &str, row: &[(&str, &str)], date_format: DateFormat, expected: &str, why: &str) {
        let row: HashMap<&str, &str> = row.iter().copied().collect();
        let t = Template::parse(template).unwrap_or_else(|e| panic!("{template:?} should parse ({why}): {e}"));
        let got = t.render(|c| row.get(c).copied(), at(2025, 3, 7, 9, 5), date_format);
        assert_eq!(got, expected, "{why}");
    }

    /// `template` is refused with an error whose text contains each of `parts`.
    #[track_caller]
    fn check_err(template: &str, expected: Error, parts: &[&str]) {
        let err = Template::parse(template).expect_err("should be refused");
        let text = err.to_string();
        assert_eq!(err, expected, "{template:?}: {text}");
        for part in parts {
            assert!(text.contains(part), "the message for {template:?} should contain {part:?}: {text}");
        }
    }

    #[test]
    fn fields_and_text_in_any_order() {
        use DateFormat::*;
        let row = [("Name", "Олена"), ("Order ID", "17"), ("Ім'я клієнта", "Іван"), ("Text", "ready")];
        check("Hello", &row, Iso, "Hello", "plain text stays as it is");
        check("{{Name}}, {{Text}}", &row, Iso, "Олена, ready", "a name, a comma, another cell");
        check("{{ Name }}", &row, Iso, "Олена", "spaces just inside the braces are ignored");
        check("{{\u{a0}Name\t}}", &row, Iso, "Олена", "any whitespace inside the braces is ignored");
        check("Order {{Order ID}}.", &row, Iso, "Order 17.", "headers may contain spaces");
        check("{{Ім'я клієнта}}!", &row, Iso, "Іван!", "Ukrainian headers work");
        check("{{Name}}{{Name}}", &row, Iso, "ОленаОлена", "a field may repeat");
    }

    #[test]
    fn empty_and_absent_cells_render_empty_and_cells_are_trimmed() {
        let row = [("Name", ""), ("Note", " hi\u{a0}")];
        check("[{{Name}}]", &row, DateFormat::Iso, "[]", "an empty cell renders as nothing");
        check("[{{Gone}}]", &row, DateFormat::Iso, "[]", "a cell the row lacks renders as nothing");
        check("[{{Note}}]", &row, DateFormat::Iso, "[hi]", "edge whitespace, including NBSP, is trimmed");
    }

    #[test]
    fn system_variables_use_the_time_passed_in() {
        use DateFormat::*;
        check("{{$time}}", &[], Iso, "09:05", "HH:MM with leading zeros, seconds dropped");
        check("{{$date}}", &[], Iso, "2025-03-07", "ISO by default");
        check("{{$date}}", &[], DayMonthYear, "07.03.2025", "the European order when chosen");
        check("{{$year}}-{{$month}}-{{$day}}", &[], Iso, "2025-03-07", "two-digit month and day");
        check("{{ $DATE }}", &[], DayMonthYear, "07.03.2025", "variable names ignore case and inner spaces");
        let t = Template::parse("{{$time}}").expect("valid");
        assert_eq!(t.render(|_| None, at(2025, 12, 31, 23, 59), DateFormat::Iso), "23:59", "24-hour clock");
        assert_eq!(DateFormat::default(), Iso, "ISO is the default date format");
    }

    #[test]
    fn single_braces_are_literal_text() {
        use DateFormat::*;
        let row = [("Name", "Ann")];
        check("{Name}", &row, Iso, "{Name}", "single braces are not a field");
        check("a } b { c", &row, Iso, "a } b { c", "lone braces are text");
        check("{{{Name}}}", &row, Iso, "{Ann}", "the outer braces of a triple are text");
        check("{ {Name} }", &row, Iso, "{ {Name} }", "spaced braces are text");
    }

    #[test]
    fn mistakes_are_refused_with_their_position() {
        check_err("", Error::EmptyMessage, &["empty"]);
        check_err("  \n", Error::EmptyMessage, &["empty"]);
        check_err(
            "Hi {{Name, your order",
            Error::Unclosed { position: 4, snippet: "{{Name, your order".into() },
            &["character 4", "{{Name, your order", "}}"],
        );
        check_err(
            "Hi {{Name {{Order}}",
            Error::Unclosed { position: 4, snippet: "{{Name {{Order}}".into() },
            &["character 4", "never closed"],
        );
        check_err("ok {{", Error::Unclosed { position: 4, snippet: "{{".into() }, &["character 4"]);
        check_err("ok {{}", Error::Unclosed { position: 4, snippet: "{{}".into() }, &["character 4"]);
        check_err("Hi {{}} there", Error::EmptyField { position: 4 }, &["character 4", "empty"]);
        check_err("{{   }}", Error::EmptyField { position: 1 }, &["character 1"]);
        check_err(
            "At {{$hour}}",
            Error::UnknownVariable { position: 4, name: "hour".into() },
            &["{{$hour}}", "character 4", "{{$time}}, {{$date}}, {{$year}}, {{$month}}, {{$day}}"],
        );
        check_err(
            "Hi {Name}}",
            Error::StrayClose { position: 9, snippet: "Hi {Name}}".into() },
            &["character 9", "closes nothing", "{{Column}}"],
        );
        check_err("{{a}}}}", Error::StrayClose { position: 6, snippet: "{{a}}}}".into() }, &["character 6"]);
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        check_err("Привіт {{Ім'я", Error::Unclosed { position: 8, snippet: "{{Ім'я".into() }, &["character 8"]);
        let long = format!("{{{{{}", "x".repeat(40));
        let Err(Error::Unclosed { snippet, .. }) = Template::parse(&long) else {
            panic!("an unclosed field is refused");
        };
        assert_eq!(snippet.chars().count(), 25, "the snippet is cut to 24 characters plus an ellipsis");
        assert!(snippet.ends_with('…'), "a cut snippet says so");
    }

    #[test]
    fn columns_are_listed_once_in_order_without_variables() {
        let t = Template::parse("{{B}} {{$date}} {{A}} {{ B }}").expect("valid");
        assert_eq!(t.columns(), vec!["B", "A"], "each column once, first appearance first, no variables");
        assert_eq!(t.as_str(), "{{B}} {{$date}} {{A}} {{ B }}", "the stored form is kept verbatim");
    }

    #[test]
    fn unknown_columns_are_named_with_the_ones_that_exist() {
        let headers: Vec<String> = ["Phone", "Name ", "Order ID", ""].map(String::from).to_vec();
        let ok = Template::parse("{{Name}}: {{Order ID}} {{$date}}").expect("valid");
        assert_eq!(ok.check_columns(&headers), Ok(()), "a header with a stray trailing space still matches");

        let t = Template::parse("{{name}} {{Order}} {{Phone}} {{Order}}").expect("valid");
        let err = t.check_columns(&headers).expect_err("two columns do not exist");
        assert_eq!(
            err,
            Error::UnknownColumns {
                columns: vec!["name".into(), "Order".into()],
                available: vec!["Phone".into(), "Name".into(), "Order ID".into()],
            },
            "every unknown column once (matching is case-sensitive); blank headers are not offered"
        );
        let text = err.to_string();
        assert!(text.contains("columns \"name\", \"Order\""), "the message names both: {text}");
        assert!(text.contains("\"Phone\", \"Name\", \"Order ID\""), "and lists what exists: {text}");

        let one = Template::parse("{{Name}}").expect("valid").check_columns(&[]).expect_err("no headers");
        let text = one.to_string();
        assert!(text.contains("column \"Name\"") && text.contains("no named columns"), "says why: {text}");
    }

    #[test]
    fn date_format_parses_its_own_names() {
        for f in [DateFormat::Iso, DateFormat::DayMonthYear] {
            assert_eq!(DateFormat::parse(f.as_str()), Some(f), "{} round-trips", f.as_str());
            let json = serde_json::to_string(&f).expect("serializes");
            assert_eq!(json, format!("\"{}\"", f.as_str()), "the spec stores the pattern itself");
        }
        assert_eq!(DateFormat::parse("MM/DD/YYYY"), None, "other formats are not offered");
    }
}
