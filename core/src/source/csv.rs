//! CSV and TSV files: encoding and delimiter detected, then parsed into a
//! [`Table`].
//!
//! Encodings: UTF-8 with or without BOM, UTF-16 LE/BE (BOM, or detected from
//! the NUL bytes ASCII leaves in every other byte), and the single-byte
//! encodings Excel writes for "CSV" on Windows here (Windows-1251 for
//! Ukrainian, Windows-1252, KOI8-U), guessed by `chardetng`. Anything else is
//! refused by name rather than decoded into gibberish that would be texted.
//!
//! Delimiters: comma, semicolon (Excel's choice where the decimal separator is
//! a comma, as in Ukraine), tab and pipe, chosen by which one splits the first
//! records into the most consistent number of columns.
//!
//! A file that is being saved while we read it is reported as
//! [`Error::Incomplete`] (retry next run), never as a shorter table: the size
//! and modification time are compared before and after the read, and a final
//! record cut off mid-way (open quote, truncated character, short last line
//! with no line break) is taken as a sign of the same.
//!
//! Not here: watching the file for changes, or deciding which rows are new.

use std::path::Path;
use std::time::SystemTime;

use encoding_rs::Encoding;

use super::{build_table, Error, Table};

/// Single-byte encodings accepted from the guesser: what spreadsheet programs
/// write for CSV on Windows in the places our users are.
const GUESSABLE: [&Encoding; 4] =
    [encoding_rs::WINDOWS_1251, encoding_rs::WINDOWS_1252, encoding_rs::KOI8_U, encoding_rs::KOI8_R];

const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// How much of the start of the file the delimiter sniffer looks at.
const SNIFF_BYTES: usize = 64 * 1024;

/// Reads `path` as a CSV/TSV table.
pub(crate) fn read(path: &Path) -> Result<Table, Error> {
    let before = stamp(path)?;
    super::limits::check_file_size(path)?;
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    let after = stamp(path)?;
    if let Some(reason) = changed_while_read(before, after, bytes.len()) {
        return Err(Error::Incomplete { path: path.to_owned(), reason });
    }
    parse(path, &bytes)
}

/// Size and modification time, the two things a save changes.
pub(crate) type Stamp = (u64, Option<SystemTime>);

fn stamp(path: &Path) -> Result<Stamp, Error> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    Ok((meta.len(), meta.modified().ok()))
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::NotFound { path: path.to_owned() }
    } else {
        Error::Io { path: path.to_owned(), source: e }
    }
}

/// Why the bytes read cannot be trusted as one saved state of the file.
pub(crate) fn changed_while_read(before: Stamp, after: Stamp, read: usize) -> Option<String> {
    if before != after {
        Some("it changed while it was being read".into())
    } else if read as u64 != after.0 {
        Some(format!("{read} bytes were read from a file of {} bytes", after.0))
    } else {
        None
    }
}

/// Decodes and parses the bytes of a CSV file.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Table, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Empty { path: path.to_owned() });
    }
    let text = decode(path, bytes)?;
    let delimiter = sniff_delimiter(&text);
    if let Some(reason) = cut_short(&text, delimiter) {
        return Err(Error::Incomplete { path: path.to_owned(), reason });
    }
    let mut reader =
        ::csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut records = Vec::new();
    // Fields in the last record as written, before padding: a short last line
    // with no line break is a save in progress.
    let mut last_width = 0;
    let mut lines = LineCounter { text: text.as_bytes(), at: 0, line: 1 };
    for record in reader.records() {
        let record = record.map_err(|e| Error::Malformed {
            path: path.to_owned(),
            line: e.position().map_or(0, |p| p.line() as usize),
            reason: e.to_string(),
        })?;
        let start = record.position().map_or(0, |p| p.byte() as usize);
        let line = lines.line_at(start);
        last_width = record.len();
        records.push((line, record.iter().map(str::to_owned).collect::<Vec<_>>()));
    }
    let table = build_table(path, records)?;
    if let Some(last) = table.rows.last() {
        let ends_cleanly = text.ends_with('\n') || text.ends_with('\r');
        let short = last_width < table.headers.len();
        if !ends_cleanly && short {
            return Err(Error::Incomplete {
                path: path.to_owned(),
                reason: format!(
                    "its last line ({}) stops before the last column, with no line break after it; \
                     if this persists, complete that line and end it with a line break",
                    last.line
                ),
            });
        }
    }
    Ok(table)
}

/// Line numbers for record starts. The csv crate's own line count drifts on
/// CRLF files, and its byte offset points where parsing of a record began:
/// possibly at the line break before it, or at blank lines it skipped.
struct LineCounter<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
}

impl LineCounter<'_> {
    /// The 1-based line of the first content at or after byte `start`; starts
    /// must come in increasing order.
    fn line_at(&mut self, start: usize) -> usize {
        let mut start = start.max(self.at);
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        for i in self.at..start {
            // A line break is LF, CR LF, or a lone CR (old Mac files).
            let lone_cr = self.text[i] == b'\r' && self.text.get(i + 1) != Some(&b'\n');
            if self.text[i] == b'\n' || lone_cr {
                self.line += 1;
            }
        }
        self.at = start;
        self.line
    }
}

/// The encodings we read, in the order they are tried.
fn decode(path: &Path, bytes: &[u8]) -> Result<String, Error> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(binary(path, ", but a zip archive such as an .xlsx or .ods workbook (use the type \"xlsx\")"));
    }
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        return decode_with(path, encoding, &bytes[bom..]);
    }
    if bytes.contains(&0) {
        // Text never holds NUL; UTF-16 holds one in every ASCII character, all
        // on the same side of each pair.
        let even = bytes.iter().step_by(2).filter(|&&b| b == 0).count();
        let odd = bytes.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
        let encoding = if odd > 4 * even {
            encoding_rs::UTF_16LE
        } else if even > 4 * odd {
            encoding_rs::UTF_16BE
        } else {
            return Err(binary(path, ""));
        };
        return decode_with(path, encoding, bytes);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => return checked_text(path, text.to_owned()),
        Err(e) if e.error_len().is_none() && e.valid_up_to() + 4 > bytes.len() => {
            return Err(Error::Incomplete {
                path: path.to_owned(),
                reason: "it ends in the middle of a character".into(),
            })
        }
        Err(_) => {}
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let guess = detector.guess(None, chardetng::Utf8Detection::Deny);
    if !GUESSABLE.contains(&guess) {
        return Err(Error::UnknownEncoding { path: path.to_owned(), guess: format!("it looks like {}", guess.name()) });
    }
    decode_with(path, guess, bytes)
}

fn decode_with(path: &Path, encoding: &'static Encoding, bytes: &[u8]) -> Result<String, Error> {
    let is_utf16 = encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE;
    if is_utf16 && bytes.len() % 2 == 1 {
        return Err(Error::Incomplete {
            path: path.to_owned(),
            reason: "it is UTF-16 with an odd number of bytes, so its end is cut off".into(),
        });
    }
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(Error::UnknownEncoding {
            path: path.to_owned(),
            guess: format!("it is not valid {}", encoding.name()),
        });
    }
    checked_text(path, text.into_owned())
}

/// Refuses decoded text that is mostly control characters: a binary file that
/// happened to decode.
fn checked_text(path: &Path, text: String) -> Result<String, Error> {
    let control = text.chars().filter(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c')).count();
    if control > 0 && control * 100 >= text.chars().count().max(1) {
        return Err(binary(path, ""));
    }
    Ok(text)
}

fn binary(path: &Path, hint: &str) -> Error {
    Error::Binary { path: path.to_owned(), hint: hint.to_owned() }
}

/// The delimiter that splits the first records most consistently into more
/// than one column; comma when none does (a one-column file).
fn sniff_delimiter(text: &str) -> u8 {
    let mut end = text.len().min(SNIFF_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let sample = &text[..end];
    let mut best = (b',', 0usize, 0usize);
    for delimiter in DELIMITERS {
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(sample.as_bytes());
        let counts: Vec<usize> = reader.records().take(50).filter_map(Result::ok).map(|r| r.len()).collect();
        let Some(&header) = counts.first() else { continue };
        if header < 2 {
            continue;
        }
        // Per mille of records with the header's width: the last sampled
        // record may be cut by the sample's end, hence a ratio, not "all".
        let consistent = counts.iter().filter(|&&n| n == header).count() * 1000 / counts.len();
        if (consistent, header) > (best.1, best.2) {
            best = (delimiter, consistent, header);
        }
    }
    best.0
}

/// Whether the text ends inside a quoted value: the file was cut while a
/// record was being written. Follows the csv crate's rules: a quote opens a
/// quoted value only at the start of a field, and `""` inside one is a quote.
fn cut_short(text: &str, delimiter: u8) -> Option<String> {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    for &b in text.as_bytes() {
        state = match state {
            State::FieldStart if b == b'"' => State::Quoted,
            State::FieldStart | State::Unquoted if b == delimiter || b == b'\n' || b == b'\r' => State::FieldStart,
            State::FieldStart | State::Unquoted => State::Unquoted,
            State::Quoted if b == b'"' => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
            State::QuoteInQuoted if b == b'"' => State::Quoted,
            State::QuoteInQuoted if b == delimiter || b == b'\n' || b == b'\r' => State::FieldStart,
            State::QuoteInQuoted => State::Unquoted,
        };
    }
    (state == State::Quoted).then(|| "it ends inside a quoted value".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(bytes: &[u8]) -> Table {
        parse(Path::new("t.csv"), bytes).unwrap_or_else(|e| panic!("should parse: {e}"))
    }

    #[test]
    fn delimiters_are_sniffed() {
        for (text, why) in [
            ("Name,Phone,City\nAnna,0671234567,\"Kyiv; centre\"\n", "comma, a semicolon in a value"),
            ("Ім'я;Телефон;Місто\nАнна;0671234567;Київ, центр\n", "semicolon, a comma in a value"),
            ("Name\tPhone\tCity\nAnna\t0671234567\tKyiv, centre\n", "tab"),
            ("Name|Phone|City\nAnna|0671234567|Kyiv, centre\n", "pipe"),
        ] {
            let t = table(text.as_bytes());
            assert_eq!(t.headers.len(), 3, "{why}: three columns, got {:?}", t.headers);
            assert_eq!(t.rows[0].cells[1], "0671234567", "{why}: values in place");
        }
        let single = table(b"Phone\n0671234567\n");
        assert_eq!(single.headers, ["Phone"], "a one-column file is fine");
    }

    #[test]
    fn encodings_are_detected() {
        let text = "Ім'я;Телефон\nОлександра Їжакевич;+380671234567\nҐанна Євтушенко;0501112233\n";
        let utf8_bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(text);
        let utf16le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let utf16be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let with_bom = |bom: &[u8], body: &[u8]| [bom, body].concat();
        for (bytes, why) in [
            (text.as_bytes().to_vec(), "UTF-8"),
            (utf8_bom, "UTF-8 with BOM"),
            (cp1251.into_owned(), "Windows-1251"),
            (with_bom(b"\xFF\xFE", &utf16le), "UTF-16 LE with BOM"),
            (with_bom(b"\xFE\xFF", &utf16be), "UTF-16 BE with BOM"),
            (utf16le, "UTF-16 LE without BOM"),
            (utf16be, "UTF-16 BE without BOM"),
        ] {
            let t = table(&bytes);
            assert_eq!(t.headers, ["Ім'я", "Телефон"], "{why}: the header decodes, BOM gone");
            assert_eq!(t.rows[0].cells[0], "Олександра Їжакевич", "{why}: Ukrainian letters survive");
            assert_eq!(t.rows[1].line, 3, "{why}: lines counted");
        }
    }

    #[test]
    fn unreadable_encodings_and_binaries_are_refused_by_name() {
        let (sjis, _, _) = encoding_rs::SHIFT_JIS
            .encode("名前,電話番号\n山田太郎,09012345678\n佐藤花子,08098765432\n東京都渋谷区,03\n");
        let err = parse(Path::new("jp.csv"), &sjis).unwrap_err();
        assert!(matches!(err, Error::UnknownEncoding { .. }), "Shift_JIS is not one we read: {err:?}");
        assert!(err.to_string().contains("jp.csv") && err.to_string().contains("UTF-8"), "says what to do: {err}");

        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
        assert!(matches!(parse(Path::new("p.csv"), png), Err(Error::Binary { .. })), "an image is not a table");
        let zip = b"PK\x03\x04\x14\0\0\0\x08\0rest of a workbook";
        let err = parse(Path::new("book.csv"), zip).unwrap_err();
        assert!(err.to_string().contains("xlsx"), "a workbook saved as .csv gets a hint: {err}");
    }

    #[test]
    fn half_written_files_are_incomplete_not_short() {
        for (bytes, why) in [
            (b"Name,Phone,Note\nAnna,067,\"first line\nsecond".as_slice(), "open quote at the end"),
            (b"Name,Phone,Note\nAnna,067,ok\nBo,05".as_slice(), "short last line with no line break"),
            ("Name,Phone\n067,Анна".as_bytes().split_last().unwrap().1, "cut mid-character"),
            (b"\xFF\xFEN\0,\0P\0\n\0a\0,\0b".as_slice(), "odd UTF-16"),
        ] {
            let err = parse(Path::new("w.csv"), bytes).unwrap_err();
            assert!(err.is_transient(), "{why}: retry on the next run, got {err:?}");
            assert!(err.to_string().contains("nothing was read"), "{why}: says nothing was taken: {err}");
            assert!(err.to_string().contains("then try again"), "{why}: and what to do: {err}");
        }
        let complete = table(b"Name,Phone\nAnna,067\nBo,05");
        assert_eq!(complete.rows.len(), 2, "a full last line without a line break is complete");
        let ragged = table(b"Name,Phone,Note\nAnna,067\nBo,05,x\n");
        assert_eq!(ragged.rows[0].cells, ["Anna", "067", ""], "a short line in the middle is only padded");
    }

    #[test]
    fn a_save_between_the_stamps_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.csv");
        std::fs::write(&path, "Name\nAnna\n").unwrap();
        let before = stamp(&path).unwrap();
        assert_eq!(changed_while_read(before, stamp(&path).unwrap(), 10), None, "an untouched file is trusted");
        std::fs::write(&path, "Name\nAnna\nBo\n").unwrap();
        let reason = changed_while_read(before, stamp(&path).unwrap(), 10);
        assert!(reason.is_some(), "a file that grew between the two looks is not trusted");
        assert!(changed_while_read(before, before, 3).is_some(), "fewer bytes than the size is not trusted");
    }

    #[test]
    fn empty_and_header_only() {
        assert!(matches!(parse(Path::new("e.csv"), b""), Err(Error::Empty { .. })), "no bytes");
        assert!(matches!(parse(Path::new("e.csv"), b"\r\n \n"), Err(Error::Empty { .. })), "only blank lines");
        let t = table(b"Name,Phone\r\n");
        assert!(t.rows.is_empty() && t.headers == ["Name", "Phone"], "a header alone is zero rows, not an error");
    }

    #[test]
    fn blank_lines_are_skipped_but_counted() {
        for text in [
            "Name,Phone\r\nAnna,1\r\n\r\n,\r\nBo,2\r\n",
            "Name,Phone\nAnna,1\n\n,\nBo,2",
            "Name,Phone\rAnna,1\r\r,\rBo,2\r",
        ] {
            let t = table(text.as_bytes());
            let lines: Vec<usize> = t.rows.iter().map(|r| r.line).collect();
            assert_eq!(lines, [2, 5], "rows keep the line numbers a spreadsheet shows in {text:?}");
        }
        let multi = table(b"Name,Note\r\nAnna,\"two\r\nlines\"\r\nBo,x\r\n");
        assert_eq!(multi.rows[1].line, 4, "a value spanning lines pushes later rows down by its lines");
    }
}
