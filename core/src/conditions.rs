//! Which rows a connection sends: the `conditions` of a connection spec
//! (product.md §8), e.g. only orders whose Status is "paid".
//!
//! Cells are compared as a person reads them: text ignoring case and the
//! spaces around it (Cyrillic included), numbers as people write them
//! (`1 200,50`, `1,200.50`, `450 грн`). A cell that is not a number never
//! passes a number comparison. Rows that do not match yet are not marked
//! seen by a run, so each read looks at them again and the first read that
//! finds one matching sends it (see `run.rs`).

use std::collections::HashSet;

use serde::{Deserialize, Deserializer, Serialize};

use crate::source::rows::{Observation, Outcome};
use crate::source::{Row, Table};

/// `{"all": [...]}` (every condition) or `{"any": [...]}` (at least one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conditions {
    /// Every condition must hold.
    All(Vec<Condition>),
    /// At least one condition must hold.
    Any(Vec<Condition>),
}

/// One test on one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The column's header.
    pub column: String,
    /// What to test.
    pub op: Op,
    /// What to compare with (absent for `empty` / `not_empty`). A JSON number
    /// is taken as its text.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "text_or_number")]
    pub value: Option<String>,
}

/// The operators of product.md §8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Same text, ignoring case and surrounding spaces.
    Equals,
    /// Not the same text.
    NotEquals,
    /// The cell's text contains the value.
    Contains,
    /// The cell's text does not contain the value.
    NotContains,
    /// The cell is empty (or only spaces).
    Empty,
    /// The cell has something in it.
    NotEmpty,
    /// The cell is a number greater than the value.
    GreaterThan,
    /// The cell is a number less than the value.
    LessThan,
}

impl Op {
    fn needs_value(self) -> bool {
        !matches!(self, Op::Empty | Op::NotEmpty)
    }
    fn is_numeric(self) -> bool {
        matches!(self, Op::GreaterThan | Op::LessThan)
    }
}

fn text_or_number<'de, D: Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Value {
        Text(String),
        Number(serde_json::Number),
        Bool(bool),
    }
    Ok(Option::<Value>::deserialize(de)?.map(|v| match v {
        Value::Text(t) => t,
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
    }))
}

impl Conditions {
    /// The conditions, whichever way they combine.
    pub fn list(&self) -> &[Condition] {
        match self {
            Conditions::All(list) | Conditions::Any(list) => list,
        }
    }

    fn field(&self) -> &'static str {
        match self {
            Conditions::All(_) => "conditions.all",
            Conditions::Any(_) => "conditions.any",
        }
    }

    /// The columns the conditions read.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.list().iter().map(|c| c.column.as_str())
    }

    /// Checks what can be checked without the source: at least one
    /// condition, values where an operator needs one, numbers for number
    /// comparisons. The error names the field (`conditions.all[1].value`).
    pub fn check(&self) -> Result<(), String> {
        let field = self.field();
        if self.list().is_empty() {
            return Err(format!(
                "{field}: the list is empty: give at least one condition, or leave \"conditions\" out"
            ));
        }
        for (i, c) in self.list().iter().enumerate() {
            if c.column.trim().is_empty() {
                return Err(format!("{field}[{i}].column: it is empty: name the column to test"));
            }
            match (&c.value, c.op.needs_value()) {
                (None, true) => {
                    return Err(format!(
                        "{field}[{i}].value: \"{}\" compares the cell with a value, and none is given",
                        serde_json::to_value(c.op).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
                    ))
                }
                (Some(v), true) if c.op.is_numeric() && parse_number(v).is_none() => {
                    return Err(format!(
                    "{field}[{i}].value: {v:?} is not a number; write one as people do, e.g. \"500\" or \"1 200,50\""
                ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Checks the columns against the source's headers, naming the field
    /// and listing the columns that exist.
    pub fn check_columns(&self, headers: &[String]) -> Result<(), String> {
        for (i, c) in self.list().iter().enumerate() {
            if crate::compose::find_column(headers, c.column.trim()).is_none() {
                let listed = headers.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ");
                return Err(format!(
                    "{}[{i}].column: the source has no column {:?}; its columns are {listed}",
                    self.field(),
                    c.column
                ));
            }
        }
        Ok(())
    }

    /// Whether a row meets the conditions; `cell` gives a column's text
    /// (`None` for a column the source lacks, which never matches).
    pub fn matches<'a>(&self, cell: impl Fn(&str) -> Option<&'a str>) -> bool {
        let holds = |c: &Condition| cell(c.column.trim()).is_some_and(|text| c.holds(text));
        match self {
            Conditions::All(list) => list.iter().all(holds),
            Conditions::Any(list) => list.iter().any(holds),
        }
    }
}

/// Whether `row` (of a source with `headers`) meets `conditions`; no
/// conditions means every row.
pub fn row_matches(conditions: Option<&Conditions>, headers: &[String], row: &Row) -> bool {
    conditions.is_none_or(|c| {
        c.matches(|column| {
            crate::compose::find_column(headers, column).map(|i| row.cells.get(i).map(String::as_str).unwrap_or(""))
        })
    })
}

/// The keys of the observation's new rows that do not meet the conditions
/// now: a run holds them back (not marked seen), so a later read that finds
/// one matching sends it.
pub fn not_matching(conditions: Option<&Conditions>, observation: &Observation) -> HashSet<String> {
    observation
        .new_rows()
        .iter()
        .filter(|new| !row_matches(conditions, &observation.headers, &new.row))
        .map(|new| new.key.clone())
        .collect()
}

/// The lines of the table's rows that meet the conditions.
pub fn matching_lines(conditions: &Conditions, table: &Table) -> HashSet<usize> {
    table.rows.iter().filter(|r| row_matches(Some(conditions), &table.headers, r)).map(|r| r.line).collect()
}

/// Keeps only the rows on `lines` in a connection's first observation, the
/// baseline included: with `start_from: "new_rows"` the baseline is the rows
/// meeting the conditions at save, so a row that comes to meet them later
/// is sent (product.md §8).
pub(crate) fn keep_only_lines(observation: &mut Observation, lines: &HashSet<usize>) {
    if let Outcome::Rows { new } = &mut observation.outcome {
        new.retain(|n| lines.contains(&n.row.line));
    }
    observation.write.keys.retain(|(_, line)| lines.contains(line));
}

impl Condition {
    /// Whether the cell's text passes this condition.
    pub fn holds(&self, cell: &str) -> bool {
        let value = self.value.as_deref().unwrap_or("");
        let (cell_text, value_text) = (normalize(cell), normalize(value));
        match self.op {
            Op::Equals => cell_text == value_text,
            Op::NotEquals => cell_text != value_text,
            Op::Contains => cell_text.contains(&value_text),
            Op::NotContains => !cell_text.contains(&value_text),
            Op::Empty => cell_text.is_empty(),
            Op::NotEmpty => !cell_text.is_empty(),
            Op::GreaterThan | Op::LessThan => match (parse_number(cell), parse_number(value)) {
                (Some(a), Some(b)) if self.op == Op::GreaterThan => a > b,
                (Some(a), Some(b)) => a < b,
                _ => false,
            },
        }
    }
}

/// Text as compared: trimmed, lower case (Unicode, so `ОПЛАЧЕНО` equals
/// `оплачено`), inner runs of spaces as one.
fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// A number as people write it: spaces (also no-break ones) or apostrophes
/// between thousands, a decimal comma or point, a currency sign before it
/// or a unit after it (`450 грн`, `$1,200.50`, `1 200,50 UAH`). With both a
/// comma and a point, the last one is the decimal mark. With one of them
/// only, it is a decimal mark unless it is followed by exactly three digits
/// and the number has no other decimal mark (`1,200` and `1.200` are 1200,
/// `1,5` and `2.75` are decimals). Anything else is not a number.
pub fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    // A currency sign or code in front, a unit behind: letters and signs
    // with no digit among them.
    let is_decoration = |c: char| c.is_alphabetic() || "$€£₴¥₽%.".contains(c) || c.is_whitespace();
    let start = text.find(|c: char| c.is_ascii_digit() || c == '-' || c == '+')?;
    if !text[..start].chars().all(is_decoration) || text[..start].contains('.') {
        return None;
    }
    let body_end = text.rfind(|c: char| c.is_ascii_digit())? + 1;
    let tail = &text[body_end..];
    if !tail.chars().all(is_decoration) {
        return None;
    }
    let body = &text[start..body_end];
    let (negative, digits) = match body.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, body.strip_prefix('+').unwrap_or(body)),
    };
    let cleaned: String = digits.chars().filter(|c| !c.is_whitespace() && *c != '\'').collect();
    if cleaned.is_empty() || !cleaned.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.') {
        return None;
    }
    let decimal = match (cleaned.rfind(','), cleaned.rfind('.')) {
        (Some(c), Some(p)) => Some(c.max(p)),
        (Some(i), None) | (None, Some(i)) => {
            let mark = cleaned.as_bytes()[i] as char;
            let after = cleaned.len() - i - 1;
            let several = cleaned.matches(mark).count() > 1;
            if several || after == 3 {
                None
            } else {
                Some(i)
            }
        }
        (None, None) => None,
    };
    let mut number = String::new();
    for (i, c) in cleaned.char_indices() {
        match c {
            '0'..='9' => number.push(c),
            _ if Some(i) == decimal => number.push('.'),
            _ => {}
        }
    }
    // A grouping mark must separate groups of three: `1,2,3` is not a number.
    let grouped = match decimal {
        Some(d) => &cleaned[..d],
        None => &cleaned[..],
    };
    let groups: Vec<&str> = grouped.split([',', '.']).collect();
    if groups.len() > 1 && (groups[0].is_empty() || groups[1..].iter().any(|g| g.len() != 3)) {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Conditions {
        serde_json::from_str(json).expect("valid conditions")
    }

    #[test]
    fn numbers_are_read_as_people_write_them() {
        for (text, want) in [
            ("1 200,50", 1200.5),
            ("1,200.50", 1200.5),
            ("1.200,50", 1200.5),
            ("450 грн", 450.0),
            ("450грн.", 450.0),
            ("$1,200", 1200.0),
            ("₴ 99,9", 99.9),
            ("1\u{a0}000", 1000.0),
            ("2.75", 2.75),
            ("1,5", 1.5),
            ("-3", -3.0),
            ("1'000'000", 1_000_000.0),
            ("  42  ", 42.0),
        ] {
            assert_eq!(parse_number(text), Some(want), "{text:?}");
        }
        for text in ["", "abc", "оплачено", "12 abc 3", "1,2,3", "order 12-b", "N/A"] {
            assert_eq!(parse_number(text), None, "{text:?} is not a number");
        }
    }

    #[test]
    fn text_ignores_case_and_surrounding_spaces_in_any_script() {
        let c = parse(r#"{"all": [{"column": "Статус", "op": "equals", "value": "оплачено"}]}"#);
        let row = |status: &'static str| move |col: &str| (col == "Статус").then_some(status);
        assert!(c.matches(row("  ОПЛАЧЕНО ")));
        assert!(c.matches(row("Оплачено")));
        assert!(!c.matches(row("нове")));
        let contains = parse(r#"{"any": [{"column": "Note", "op": "contains", "value": "VIP"}]}"#);
        assert!(contains.matches(|_| Some("a vip client")));
        assert!(!contains.matches(|_| Some("regular")));
    }

    #[test]
    fn a_non_number_never_passes_a_number_comparison() {
        let more = parse(r#"{"all": [{"column": "Сума", "op": "greater_than", "value": 500}]}"#);
        let less = parse(r#"{"all": [{"column": "Сума", "op": "less_than", "value": "500"}]}"#);
        assert!(more.matches(|_| Some("1 200,50 грн")));
        assert!(!more.matches(|_| Some("450 грн")));
        assert!(less.matches(|_| Some("450 грн")));
        for cell in ["", "free", "—"] {
            assert!(!more.matches(|_| Some(cell)) && !less.matches(|_| Some(cell)), "{cell:?}");
        }
    }

    #[test]
    fn all_needs_every_condition_and_any_one() {
        let all = parse(
            r#"{"all": [{"column": "A", "op": "not_empty"}, {"column": "B", "op": "empty"},
                        {"column": "C", "op": "not_contains", "value": "x"}]}"#,
        );
        let cells = |a: &'static str, b: &'static str| {
            move |col: &str| match col {
                "A" => Some(a),
                "B" => Some(b),
                _ => Some("y"),
            }
        };
        assert!(all.matches(cells("1", " ")));
        assert!(!all.matches(cells("1", "2")));
        let any = parse(
            r#"{"any": [{"column": "A", "op": "equals", "value": "1"}, {"column": "B", "op": "not_equals", "value": "2"}]}"#,
        );
        assert!(any.matches(cells("0", "3")));
        assert!(!any.matches(cells("0", "2")));
        assert!(!any.matches(|_| None), "a missing column never matches");
    }

    #[test]
    fn bad_conditions_are_refused_naming_the_field() {
        let err = parse(r#"{"all": [{"column": "Sum", "op": "greater_than", "value": "lots"}]}"#).check().unwrap_err();
        assert!(err.starts_with("conditions.all[0].value:") && err.contains("not a number"), "{err}");
        let err = parse(r#"{"any": [{"column": "A", "op": "equals"}]}"#).check().unwrap_err();
        assert!(err.starts_with("conditions.any[0].value:"), "{err}");
        assert!(parse(r#"{"all": []}"#).check().unwrap_err().contains("empty"));
        let err = parse(r#"{"all": [{"column": "Stat", "op": "empty"}]}"#)
            .check_columns(&["Status".into(), "Phone".into()])
            .unwrap_err();
        assert!(
            err.contains("conditions.all[0].column") && err.contains("\"Stat\"") && err.contains("\"Status\""),
            "{err}"
        );
        let unknown = serde_json::from_str::<Conditions>(r#"{"all": [{"column": "A", "op": "bigger", "value": "1"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("bigger") && unknown.contains("greater_than"), "{unknown}");
    }
}
