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

/// Refuses a sheet whose used range spans more than [`MAX_CELLS`], found by
/// streaming its cells (nothing is kept) before calamine builds the range.
/// Only xlsx/xlsm/xlsb can be streamed; xls is small by format, and calamine
/// caps ODS itself (see ARCHITECTURE.md).
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
                bounds.add(cell.get_position(), cell.get_value());
            }
        }
        Sheets::Xlsb(book) => {
            let Ok(mut cells) = book.worksheet_cells_reader(sheet) else { return Ok(()) };
            while let Some(cell) = cells.next_cell().map_err(|e| failed(e.to_string()))? {
                bounds.add(cell.get_position(), cell.get_value());
            }
        }
        Sheets::Xls(_) | Sheets::Ods(_) => return Ok(()),
    }
    let Some(((top, left), (bottom, right))) = bounds.range else { return Ok(()) };
    let rows = u64::from(bottom - top) + 1;
    let columns = u64::from(right - left) + 1;
    if rows * columns <= MAX_CELLS {
        return Ok(());
    }
    Err(Error::TooBig {
        path: path.to_owned(),
        size: format!(
            "the sheet {sheet:?} has values from {} to {}, {rows} rows × {columns} columns = {} cells",
            cell_name(top, left),
            cell_name(bottom, right),
            rows * columns
        ),
        limit: format!("{MAX_CELLS} cells"),
        advice: "delete stray values far outside the table (Ctrl+End shows where the sheet ends), \
                 or move old rows to another sheet",
    })
}

/// The smallest rectangle holding every cell with a value.
#[derive(Default)]
struct Bounds {
    range: Option<((u32, u32), (u32, u32))>,
}

impl Bounds {
    fn add(&mut self, (row, column): (u32, u32), value: &DataRef<'_>) {
        if matches!(value, DataRef::Empty) {
            return;
        }
        self.range = Some(match self.range {
            None => ((row, column), (row, column)),
            Some(((top, left), (bottom, right))) => {
                ((top.min(row), left.min(column)), (bottom.max(row), right.max(column)))
            }
        });
    }
}

/// `A1`-style name of a 0-based (row, column).
fn cell_name(row: u32, column: u32) -> String {
    let mut letters = Vec::new();
    let mut n = column + 1;
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
