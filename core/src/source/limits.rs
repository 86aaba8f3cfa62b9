//! How much of a source Sendrow reads at once: a file or a sheet too big to
//! hold in memory safely is refused, naming what it is and the limit, before
//! anything is allocated for it. An order list is thousands of rows, not
//! millions; the limits leave ample room for that.

use std::path::Path;

use calamine::{DataRef, Sheets};

use super::Error;

/// The largest CSV or workbook file read (100 MiB: over a million typical rows).
pub(crate) const MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;

/// The most cells a sheet's used range may span (rows × columns from the
/// first to the last cell with a value). calamine allocates the whole range,
/// so one stray value in cell XFD1048576 would ask for 17 billion cells.
pub(crate) const MAX_CELLS: u64 = 5_000_000;

/// Refuses a file over [`MAX_FILE_BYTES`]. A missing file is left to the reader.
pub(crate) fn check_file_size(path: &Path) -> Result<(), Error> {
    let Ok(meta) = std::fs::metadata(path) else { return Ok(()) };
    if meta.len() <= MAX_FILE_BYTES {
        return Ok(());
    }
    Err(Error::TooBig {
        path: path.to_owned(),
        size: format!("{:.1} MB", meta.len() as f64 / 1_048_576.0),
        limit: format!("{} MB", MAX_FILE_BYTES / 1_048_576),
        advice: "move rows that were sent long ago to another file, so the one Sendrow reads stays small",
    })
}

/// The checks before a workbook is opened: its size, and for ODS the sheet's
/// used range (calamine builds every sheet's range while opening an ODS).
pub(crate) fn check_workbook_file(path: &Path, sheet: &str) -> Result<(), Error> {
    check_file_size(path)?;
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("ods")) {
        if let Some(bounds) = ods_bounds(path, sheet) {
            bounds.check(path, sheet)?;
        }
    }
    Ok(())
}

/// Refuses a sheet whose used range spans more than [`MAX_CELLS`], found by
/// streaming its cells (nothing is kept) before calamine builds the range.
/// xlsx/xlsm/xlsb are streamed here; ODS was measured before opening
/// ([`check_workbook_file`]); xls is small by format (65,536 × 256).
pub(crate) fn check_used_range<RS: std::io::Read + std::io::Seek>(
    path: &Path,
    workbook: &mut Sheets<RS>,
    sheet: &str,
) -> Result<(), Error> {
    let mut bounds = Bounds::default();
    let failed = |reason: String| Error::Workbook { path: path.to_owned(), reason };
    match workbook {
        Sheets::Xlsx(book) => {
            let Ok(mut cells) = book.worksheet_cells_reader(sheet) else { return Ok(()) };
            while let Some(cell) = cells.next_cell().map_err(|e| failed(e.to_string()))? {
                bounds.add_cell(cell.get_position(), cell.get_value());
            }
        }
        Sheets::Xlsb(book) => {
            let Ok(mut cells) = book.worksheet_cells_reader(sheet) else { return Ok(()) };
            while let Some(cell) = cells.next_cell().map_err(|e| failed(e.to_string()))? {
                bounds.add_cell(cell.get_position(), cell.get_value());
            }
        }
        Sheets::Xls(_) | Sheets::Ods(_) => return Ok(()),
    }
    bounds.check(path, sheet)
}

/// The smallest rectangle holding every cell with a value, 0-based.
#[derive(Default)]
struct Bounds {
    range: Option<((u64, u64), (u64, u64))>,
}

impl Bounds {
    fn add_cell(&mut self, (row, column): (u32, u32), value: &DataRef<'_>) {
        if !matches!(value, DataRef::Empty) {
            self.add((row.into(), column.into()), (row.into(), column.into()));
        }
    }

    fn add(&mut self, (top, left): (u64, u64), (bottom, right): (u64, u64)) {
        self.range = Some(match self.range {
            None => ((top, left), (bottom, right)),
            Some(((t, l), (b, r))) => ((t.min(top), l.min(left)), (b.max(bottom), r.max(right))),
        });
    }

    fn check(&self, path: &Path, sheet: &str) -> Result<(), Error> {
        let Some(((top, left), (bottom, right))) = self.range else { return Ok(()) };
        let rows = bottom - top + 1;
        let columns = right - left + 1;
        let cells = rows.saturating_mul(columns);
        if cells <= MAX_CELLS {
            return Ok(());
        }
        Err(Error::TooBig {
            path: path.to_owned(),
            size: format!(
                "the sheet {sheet:?} has values from {} to {}, {rows} rows × {columns} columns = {cells} cells",
                cell_name(top, left),
                cell_name(bottom, right),
            ),
            limit: format!("{MAX_CELLS} cells"),
            advice: "delete stray values far outside the table (Ctrl+End shows where the sheet ends), \
                     or move old rows to another sheet",
        })
    }
}

/// The used range of sheet `sheet` in an ODS file's `content.xml`, streamed
/// (rows and cells may say "repeated a million times" in a few bytes).
/// `None` when the file cannot be measured: calamine then says what is wrong.
fn ods_bounds(path: &Path, sheet: &str) -> Option<Bounds> {
    use quick_xml::events::{BytesStart, Event};
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).ok()?).ok()?;
    let content = archive.by_name("content.xml").ok()?;
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(content));
    let repeat = |e: &BytesStart<'_>, name: &[u8]| -> u64 {
        let value = e.try_get_attribute(name).ok().flatten();
        value.and_then(|a| std::str::from_utf8(&a.value).ok()?.trim().parse().ok()).unwrap_or(1).max(1)
    };
    let is_cell = |name: &[u8]| name == b"table:table-cell" || name == b"table:covered-table-cell";
    let mut bounds = Bounds::default();
    let mut buf = Vec::new();
    // Inside the sheet, and how deep in tables nested in its cells.
    let (mut in_sheet, mut nested) = (false, 0usize);
    let (mut row, mut row_repeat, mut column) = (0u64, 1u64, 0u64);
    // The current row's leftmost and rightmost columns with a value.
    let mut row_span: Option<(u64, u64)> = None;
    // The open cell: its first column, how many columns it repeats, whether it has a value.
    let mut cell: Option<(u64, u64, bool)> = None;
    let close_cell = |cell: (u64, u64, bool), column: &mut u64, row_span: &mut Option<(u64, u64)>| {
        let (first, times, value) = cell;
        let last = first.saturating_add(times - 1);
        if value {
            *row_span = Some(row_span.map_or((first, last), |(l, r)| (l.min(first), r.max(last))));
        }
        *column = first.saturating_add(times);
    };
    loop {
        let event = xml.read_event_into(&mut buf).ok()?;
        match &event {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name();
                let name = name.as_ref();
                let empty = matches!(event, Event::Empty(_));
                if name == b"table:table" {
                    if in_sheet {
                        nested += usize::from(!empty);
                    } else if !empty {
                        let title = e.try_get_attribute(b"table:name").ok().flatten();
                        in_sheet = title
                            .and_then(|a| a.decode_and_unescape_value(xml.decoder()).ok())
                            .is_some_and(|t| t == sheet);
                    }
                } else if in_sheet && nested == 0 && name == b"table:table-row" {
                    (row_repeat, column, row_span) = (repeat(e, b"table:number-rows-repeated"), 0, None);
                    if empty {
                        row = row.saturating_add(row_repeat);
                    }
                } else if in_sheet && nested == 0 && is_cell(name) {
                    let value = e.try_get_attribute(b"office:value-type").ok().flatten().is_some();
                    let opened = (column, repeat(e, b"table:number-columns-repeated"), value);
                    if empty {
                        close_cell(opened, &mut column, &mut row_span);
                    } else {
                        cell = Some(opened);
                    }
                }
            }
            Event::Text(t) if nested == 0 && cell.is_some() && !t.iter().all(u8::is_ascii_whitespace) => {
                cell = cell.map(|(first, times, _)| (first, times, true));
            }
            Event::End(e) => {
                let name = e.name();
                let name = name.as_ref();
                if name == b"table:table" && in_sheet {
                    if nested == 0 {
                        break;
                    }
                    nested -= 1;
                } else if in_sheet && nested == 0 && is_cell(name) {
                    if let Some(open) = cell.take() {
                        close_cell(open, &mut column, &mut row_span);
                    }
                } else if in_sheet && nested == 0 && name == b"table:table-row" {
                    if let Some((left, right)) = row_span.take() {
                        bounds.add((row, left), (row.saturating_add(row_repeat - 1), right));
                    }
                    row = row.saturating_add(row_repeat);
                }
            }
            _ => {}
        }
        buf.clear();
    }
    Some(bounds)
}

/// `A1`-style name of a 0-based (row, column).
fn cell_name(row: u64, column: u64) -> String {
    let mut letters = Vec::new();
    let mut n = column.saturating_add(1);
    while n > 0 {
        letters.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8_lossy(&letters), row + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_named_as_a_spreadsheet_names_them() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(9, 25), "Z10");
        assert_eq!(cell_name(0, 26), "AA1");
        assert_eq!(cell_name(1_048_575, 16_383), "XFD1048576");
    }
}
