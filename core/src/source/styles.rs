//! The number format of each cell of one sheet, read from the workbook's own
//! XML, which calamine does not expose: XLSX `xl/styles.xml` (`numFmts`,
//! `cellXfs`) and the sheet's `s` attributes; ODS data styles (`number:*-style`
//! in `styles.xml` and `content.xml`) reached through each cell's (or its
//! column's) cell style. ODS data styles are turned into Excel format codes,
//! so `numfmt` renders both.
//!
//! Reading formats never fails a read: a workbook whose styles cannot be made
//! out (xls, xlsb, damaged XML) simply has none, and its cells show their
//! plain values.

use std::collections::HashMap;
use std::io::{BufReader, Cursor};

use quick_xml::events::{BytesStart, Event};

use super::numfmt::{builtin, Format, Locale};

/// Formats by cell position (0-based row and column of the sheet), only for
/// cells with a format other than General.
#[derive(Debug, Default)]
pub(crate) struct CellFormats {
    cells: HashMap<(u32, u32), usize>,
    formats: Vec<Format>,
}

/// More cells than this with a format are not tracked (the rest show plain
/// values): the bound keeps a sheet of repeated styled rows from using up memory.
const MAX_CELLS: usize = 2_000_000;

impl CellFormats {
    /// The format of the cell at `(row, column)`, if it has one that is shown.
    pub(crate) fn at(&self, row: u32, column: u32) -> Option<&Format> {
        self.cells.get(&(row, column)).map(|&i| &self.formats[i])
    }

    /// Formats of sheet `sheet` in the workbook `bytes`, by its extension.
    pub(crate) fn read(bytes: &[u8], extension: &str, sheet: &str, locale: &Locale) -> CellFormats {
        let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
            return CellFormats::default();
        };
        let read = match extension {
            "xlsx" | "xlsm" => xlsx(&mut zip, sheet, locale),
            "ods" => ods(&mut zip, sheet),
            _ => None,
        };
        read.unwrap_or_default()
    }

    fn add(&mut self, codes: &mut HashMap<String, Option<usize>>, code: &str, cells: impl Iterator<Item = (u32, u32)>) {
        if code.eq_ignore_ascii_case("general") {
            return;
        }
        let index = *codes.entry(code.to_owned()).or_insert_with(|| {
            Format::parse(code).map(|f| {
                self.formats.push(f);
                self.formats.len() - 1
            })
        });
        let Some(index) = index else { return };
        for cell in cells {
            if self.cells.len() >= MAX_CELLS {
                return;
            }
            self.cells.insert(cell, index);
        }
    }
}

type Zip<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

/// Events of one file in the archive, each handed to `on` with the reader's
/// text: `on` returns `false` to stop early. `None` when the file is missing
/// or is not well-formed XML.
fn each_event(zip: &mut Zip<'_>, name: &str, mut on: impl FnMut(Event<'_>) -> bool) -> Option<()> {
    let file = zip.by_name(name).ok()?;
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(file));
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Eof => return Some(()),
            event => {
                if !on(event) {
                    return Some(());
                }
            }
        }
        buf.clear();
    }
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes().flatten().find(|a| a.key.as_ref() == name.as_bytes()).and_then(|a| value(&a.value))
}

/// An attribute's text (workbook XML is UTF-8), entities resolved.
fn value(raw: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(raw).ok()?;
    quick_xml::escape::unescape(text).ok().map(|v| v.into_owned())
}

/// An attribute by its name without namespace prefix (`r:id` → `id`).
fn local_attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes().flatten().find(|a| a.key.local_name().as_ref() == name.as_bytes()).and_then(|a| value(&a.value))
}

fn local(e: &BytesStart<'_>) -> Vec<u8> {
    e.local_name().as_ref().to_vec()
}

// ---- XLSX ----

fn xlsx(zip: &mut Zip<'_>, sheet: &str, locale: &Locale) -> Option<CellFormats> {
    let mut rel_id = None;
    each_event(zip, "xl/workbook.xml", |event| {
        if let Event::Start(e) | Event::Empty(e) = event {
            if local(&e) == b"sheet" && attr(&e, "name").as_deref() == Some(sheet) {
                rel_id = local_attr(&e, "id");
                return false;
            }
        }
        true
    })?;
    let rel_id = rel_id?;
    let mut target = None;
    each_event(zip, "xl/_rels/workbook.xml.rels", |event| {
        if let Event::Start(e) | Event::Empty(e) = event {
            if local(&e) == b"Relationship" && attr(&e, "Id").as_deref() == Some(&rel_id) {
                target = attr(&e, "Target");
                return false;
            }
        }
        true
    })?;
    let target = target?;
    let sheet_path = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_owned(),
        None => format!("xl/{target}"),
    };

    // numFmtId of each cellXfs entry, and the custom codes by id.
    let mut custom: HashMap<u32, String> = HashMap::new();
    let mut xf_formats: Vec<u32> = Vec::new();
    let mut in_cell_xfs = false;
    each_event(zip, "xl/styles.xml", |event| {
        match event {
            Event::Start(e) | Event::Empty(e) if local(&e) == b"numFmt" => {
                if let (Some(id), Some(code)) = (attr(&e, "numFmtId"), attr(&e, "formatCode")) {
                    if let Ok(id) = id.parse() {
                        custom.insert(id, code);
                    }
                }
            }
            Event::Start(e) if local(&e) == b"cellXfs" => in_cell_xfs = true,
            Event::End(e) if e.local_name().as_ref() == b"cellXfs" => in_cell_xfs = false,
            Event::Start(e) | Event::Empty(e) if in_cell_xfs && local(&e) == b"xf" => {
                xf_formats.push(attr(&e, "numFmtId").and_then(|id| id.parse().ok()).unwrap_or(0));
            }
            _ => {}
        }
        true
    });
    // The code of each style index; custom codes may reuse built-in ids.
    let xf_codes: Vec<Option<String>> =
        xf_formats.iter().map(|id| custom.get(id).cloned().or_else(|| builtin(*id, locale))).collect();

    let mut formats = CellFormats::default();
    let mut codes = HashMap::new();
    let (mut row, mut next_column) = (0u32, 0u32);
    each_event(zip, &sheet_path, |event| {
        match event {
            Event::Start(e) | Event::Empty(e) if local(&e) == b"row" => {
                row = attr(&e, "r").and_then(|r| r.parse::<u32>().ok()).map_or(row + 1, |r| r);
                next_column = 0;
            }
            Event::Start(e) | Event::Empty(e) if local(&e) == b"c" => {
                let (r, c) = attr(&e, "r").and_then(|r| cell_ref(&r)).unwrap_or((row.saturating_sub(1), next_column));
                next_column = c + 1;
                let style: usize = attr(&e, "s").and_then(|s| s.parse().ok()).unwrap_or(0);
                // Strings and booleans are shown as they are, whatever the format.
                let t = attr(&e, "t");
                if matches!(t.as_deref(), None | Some("n" | "d")) {
                    if let Some(Some(code)) = xf_codes.get(style) {
                        formats.add(&mut codes, code, std::iter::once((r, c)));
                    }
                }
            }
            _ => {}
        }
        true
    })?;
    Some(formats)
}

/// `B12` → row 11, column 1 (0-based).
fn cell_ref(r: &str) -> Option<(u32, u32)> {
    let letters = r.bytes().take_while(u8::is_ascii_alphabetic).count();
    if letters == 0 || letters > 3 {
        return None;
    }
    let column =
        r[..letters].bytes().try_fold(0u32, |acc, b| Some(acc * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1)))?;
    let row: u32 = r[letters..].parse().ok()?;
    Some((row.checked_sub(1)?, column - 1))
}

// ---- ODS ----

/// One ODS data style, as an Excel code (`None`: it uses something not done)
/// and its `style:map`s (condition, style applied).
#[derive(Debug, Default)]
struct DataStyle {
    code: Option<String>,
    maps: Vec<(String, String)>,
}

/// What a data style is being read into.
struct Building {
    name: String,
    code: String,
    supported: bool,
    percent: bool,
    time: bool,
    maps: Vec<(String, String)>,
    /// The text of a `number:text` or `number:currency-symbol` being read.
    text: Option<String>,
}

#[derive(Debug, Default)]
struct OdsStyles {
    data: HashMap<String, DataStyle>,
    /// Cell style → (its data style, its parent cell style).
    cells: HashMap<String, (Option<String>, Option<String>)>,
}

impl OdsStyles {
    /// The Excel code a cell style shows numbers with.
    fn code_of_cell_style(&self, name: &str) -> Option<String> {
        let mut name = name.to_owned();
        for _ in 0..16 {
            let (data, parent) = self.cells.get(&name)?;
            if let Some(data) = data {
                return self.code_of_data_style(data, 0);
            }
            name = parent.clone()?;
        }
        None
    }

    fn code_of_data_style(&self, name: &str, depth: usize) -> Option<String> {
        let style = self.data.get(name)?;
        let own = style.code.clone()?;
        if depth > 4 {
            return None;
        }
        let sub = |name: &str| self.code_of_data_style(name, depth + 1);
        let condition = |c: &str| c.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        let maps: Vec<(String, &str)> = style.maps.iter().map(|(c, n)| (condition(c), n.as_str())).collect();
        match maps.as_slice() {
            [] => Some(own),
            [(c, positive)] if c == "value()>=0" => Some(format!("{};{own}", sub(positive)?)),
            [(c1, positive), (c2, negative)] if c1 == "value()>0" && c2 == "value()<0" => {
                Some(format!("{};{};{own}", sub(positive)?, sub(negative)?))
            }
            _ => None,
        }
    }
}

/// Excel-code text for literal `s` (quoted; a `%` in a percentage style is the percent sign).
fn literal(s: &str, percent: bool) -> String {
    let mut out = String::new();
    let mut open = false;
    for c in s.chars() {
        let bare = (percent && c == '%') || c == '"';
        if bare && open {
            out.push('"');
            open = false;
        }
        match c {
            '%' if percent => out.push('%'),
            '"' => out.push_str("\\\""),
            _ => {
                if !open {
                    out.push('"');
                    open = true;
                }
                out.push(c);
            }
        }
    }
    if open {
        out.push('"');
    }
    out
}

fn number_part(e: &BytesStart<'_>) -> Option<String> {
    let Some(decimals) = attr(e, "number:decimal-places").and_then(|d| d.parse::<usize>().ok()) else {
        // No decimal places given: LibreOffice's "General".
        return Some("General".into());
    };
    if attr(e, "number:display-factor").is_some_and(|f| f != "1") {
        return None;
    }
    let min_decimals =
        attr(e, "number:min-decimal-places").and_then(|d| d.parse::<usize>().ok()).unwrap_or(decimals).min(decimals);
    let min_int = attr(e, "number:min-integer-digits").and_then(|d| d.parse::<usize>().ok()).unwrap_or(1).min(30);
    let grouping = attr(e, "number:grouping").as_deref() == Some("true");
    let mut int = String::new();
    let width = if grouping { min_int.max(4) } else { min_int.max(1) };
    for i in (0..width).rev() {
        int.push(if i < min_int { '0' } else { '#' });
        if grouping && i == 3 {
            int.push(',');
        }
    }
    if decimals == 0 {
        return Some(int);
    }
    Some(format!("{int}.{}{}", "0".repeat(min_decimals), "#".repeat(decimals - min_decimals)))
}

const DATA_STYLES: [&[u8]; 7] = [
    b"number-style",
    b"currency-style",
    b"percentage-style",
    b"date-style",
    b"time-style",
    b"boolean-style",
    b"text-style",
];

fn read_ods_styles(zip: &mut Zip<'_>, name: &str, styles: &mut OdsStyles) -> Option<()> {
    let mut building: Option<Building> = None;
    each_event(zip, name, |event| {
        let start = matches!(event, Event::Start(_));
        match event {
            Event::Start(e) | Event::Empty(e)
                if local(&e) == b"style" && attr(&e, "style:family").as_deref() == Some("table-cell") =>
            {
                if let Some(name) = attr(&e, "style:name") {
                    styles.cells.insert(name, (attr(&e, "style:data-style-name"), attr(&e, "style:parent-style-name")));
                }
            }
            Event::Start(e) if DATA_STYLES.contains(&local(&e).as_slice()) => {
                let kind = local(&e);
                building = Some(Building {
                    name: attr(&e, "style:name").unwrap_or_default(),
                    code: String::new(),
                    supported: !matches!(kind.as_slice(), b"boolean-style" | b"text-style"),
                    percent: kind == b"percentage-style",
                    time: kind == b"time-style" && attr(&e, "number:truncate-on-overflow").as_deref() == Some("false"),
                    maps: Vec::new(),
                    text: None,
                });
            }
            Event::End(e) if DATA_STYLES.contains(&e.local_name().as_ref()) => {
                if let Some(b) = building.take() {
                    let code = b.supported.then_some(b.code);
                    styles.data.insert(b.name, DataStyle { code, maps: b.maps });
                }
            }
            Event::Start(e) | Event::Empty(e) if building.is_some() => {
                let b = building.as_mut().expect("checked");
                let long = attr(&e, "number:style").as_deref() == Some("long");
                let part = match local(&e).as_slice() {
                    b"number" => number_part(&e),
                    b"text" | b"currency-symbol" => {
                        if start {
                            b.text = Some(String::new());
                        }
                        Some(String::new())
                    }
                    b"text-content" => Some("@".into()),
                    b"day" => Some(if long { "dd" } else { "d" }.into()),
                    b"month" => Some(
                        match (attr(&e, "number:textual").as_deref() == Some("true"), long) {
                            (true, true) => "mmmm",
                            (true, false) => "mmm",
                            (false, true) => "mm",
                            (false, false) => "m",
                        }
                        .into(),
                    ),
                    b"year" => Some(if long { "yyyy" } else { "yy" }.into()),
                    b"day-of-week" => Some(if long { "dddd" } else { "ddd" }.into()),
                    b"hours" if b.time => {
                        b.time = false;
                        Some(if long { "[hh]" } else { "[h]" }.into())
                    }
                    b"hours" => Some(if long { "hh" } else { "h" }.into()),
                    b"minutes" => Some(if long { "mm" } else { "m" }.into()),
                    b"seconds" => {
                        let places =
                            attr(&e, "number:decimal-places").and_then(|d| d.parse::<usize>().ok()).unwrap_or(0);
                        let s = if long { "ss" } else { "s" };
                        Some(if places > 0 { format!("{s}.{}", "0".repeat(places.min(3))) } else { s.into() })
                    }
                    b"am-pm" => Some("AM/PM".into()),
                    b"map" => {
                        if let (Some(c), Some(n)) = (attr(&e, "style:condition"), attr(&e, "style:apply-style-name")) {
                            b.maps.push((c, n));
                        }
                        Some(String::new())
                    }
                    // Colours and the like do not change the text.
                    b"text-properties" => Some(String::new()),
                    _ => None,
                };
                match part {
                    Some(p) => b.code.push_str(&p),
                    None => b.supported = false,
                }
            }
            Event::Text(t) => {
                if let Some(text) = building.as_mut().and_then(|b| b.text.as_mut()) {
                    text.push_str(&t.decode().unwrap_or_default());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(text) = building.as_mut().and_then(|b| b.text.as_mut()) {
                    let name = r.decode().unwrap_or_default();
                    let c = match name.as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => r.resolve_char_ref().ok().flatten(),
                    };
                    text.extend(c);
                }
            }
            Event::End(e) if matches!(e.local_name().as_ref(), b"text" | b"currency-symbol") => {
                if let Some(b) = building.as_mut() {
                    if let Some(text) = b.text.take() {
                        let lit = literal(&text, b.percent);
                        b.code.push_str(&lit);
                    }
                }
            }
            _ => {}
        }
        true
    })
}

/// A range of columns sharing a default cell style.
struct ColumnStyle {
    from: u32,
    to: u32,
    style: String,
}

/// Repeats counted per cell or row beyond this are not expanded: a styled
/// empty tail of a million rows is not data.
const MAX_REPEAT: u32 = 10_000;

fn ods(zip: &mut Zip<'_>, sheet: &str) -> Option<CellFormats> {
    let mut styles = OdsStyles::default();
    // Common styles are optional; automatic ones live in content.xml.
    let _ = read_ods_styles(zip, "styles.xml", &mut styles);
    read_ods_styles(zip, "content.xml", &mut styles)?;

    let mut formats = CellFormats::default();
    let mut codes = HashMap::new();
    let mut code_of_style: HashMap<String, Option<String>> = HashMap::new();
    let mut in_sheet = false;
    let mut columns: Vec<ColumnStyle> = Vec::new();
    let mut next_column_def = 0u32;
    let (mut row, mut row_repeat, mut column) = (0u32, 1u32, 0u32);
    let repeat = |e: &BytesStart<'_>, name: &str| attr(e, name).and_then(|n| n.parse::<u32>().ok()).unwrap_or(1).max(1);
    each_event(zip, "content.xml", |event| {
        match event {
            Event::Start(e) if local(&e) == b"table" => {
                in_sheet = attr(&e, "table:name").as_deref() == Some(sheet);
            }
            Event::End(e) if e.local_name().as_ref() == b"table" => {
                // The sheet is done: nothing after it matters.
                return !in_sheet;
            }
            Event::Start(e) | Event::Empty(e) if in_sheet && local(&e) == b"table-column" => {
                let n = repeat(&e, "table:number-columns-repeated");
                if let Some(style) = attr(&e, "table:default-cell-style-name") {
                    columns.push(ColumnStyle { from: next_column_def, to: next_column_def.saturating_add(n), style });
                }
                next_column_def = next_column_def.saturating_add(n);
            }
            Event::Start(e) if in_sheet && local(&e) == b"table-row" => {
                row_repeat = repeat(&e, "table:number-rows-repeated");
                column = 0;
            }
            Event::End(e) if in_sheet && e.local_name().as_ref() == b"table-row" => {
                row = row.saturating_add(row_repeat);
            }
            Event::Empty(e) if in_sheet && local(&e) == b"table-row" => {
                row = row.saturating_add(repeat(&e, "table:number-rows-repeated"));
            }
            Event::Start(e) | Event::Empty(e)
                if in_sheet && matches!(local(&e).as_slice(), b"table-cell" | b"covered-table-cell") =>
            {
                let n = repeat(&e, "table:number-columns-repeated");
                let numeric = matches!(
                    attr(&e, "office:value-type").as_deref(),
                    Some("float" | "percentage" | "currency" | "date" | "time")
                );
                if numeric {
                    let style = attr(&e, "table:style-name")
                        .or_else(|| columns.iter().find(|c| (c.from..c.to).contains(&column)).map(|c| c.style.clone()));
                    let code = style.and_then(|s| {
                        code_of_style.entry(s.clone()).or_insert_with(|| styles.code_of_cell_style(&s)).clone()
                    });
                    if let Some(code) = code {
                        let (first_row, first_column) = (row, column);
                        let cells = (0..row_repeat.min(MAX_REPEAT))
                            .flat_map(move |r| (0..n.min(MAX_REPEAT)).map(move |c| (first_row + r, first_column + c)));
                        formats.add(&mut codes, &code, cells);
                    }
                }
                column = column.saturating_add(n);
            }
            _ => {}
        }
        true
    })?;
    Some(formats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references_are_zero_based() {
        assert_eq!(cell_ref("A1"), Some((0, 0)), "A1");
        assert_eq!(cell_ref("B12"), Some((11, 1)), "B12");
        assert_eq!(cell_ref("AA3"), Some((2, 26)), "AA3");
        assert_eq!(cell_ref("3"), None, "no column");
    }

    #[test]
    fn ods_numbers_become_excel_digits() {
        let code = |attrs: &str| {
            let content = format!("number:number {attrs}");
            number_part(&BytesStart::from_content(content, "number:number".len()))
        };
        let grouped = r#"number:decimal-places="2" number:min-decimal-places="2" number:min-integer-digits="1" number:grouping="true""#;
        assert_eq!(code(grouped).as_deref(), Some("#,##0.00"), "Calc's currency digits");
        assert_eq!(code(r#"number:min-integer-digits="1""#).as_deref(), Some("General"), "Calc's General");
        assert_eq!(code(r#"number:decimal-places="0" number:min-integer-digits="1""#).as_deref(), Some("0"), "whole");
        let optional = r#"number:decimal-places="3" number:min-decimal-places="1" number:min-integer-digits="0""#;
        assert_eq!(code(optional).as_deref(), Some("#.0##"), "optional decimals");
        let scaled = r#"number:decimal-places="0" number:display-factor="1000""#;
        assert_eq!(code(scaled), None, "a display factor is not done");
    }

    #[test]
    fn ods_literals_become_excel_literals() {
        assert_eq!(literal(" ₴", false), "\" ₴\"", "quoted");
        assert_eq!(literal("%", true), "%", "the percent sign of a percentage style");
        assert_eq!(literal("a\"b", false), "\"a\"\\\"\"b\"", "a quote escaped");
    }
}
