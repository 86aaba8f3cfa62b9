//! Data sources: where rows come from, read as a [`Table`] of strings as a
//! person sees them. Readers for each kind of source live in submodules;
//! which rows are new is decided elsewhere, from the table's rows and keys.
//! `google`: a tab of a Google spreadsheet, through the Sheets API or its CSV export.

pub mod google;

/// A source read at one moment: a header row naming the fields, then the data
/// rows, every value a string as displayed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// The header row, in source order.
    pub headers: Vec<String>,
    /// The data rows, in source order.
    pub rows: Vec<Row>,
}

/// One data row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    /// Where the row is in the source, 1-based, counting the header as line 1:
    /// what the user sees as the row number in a spreadsheet.
    pub line: usize,
    /// One value per header (ragged rows are padded with empty strings).
    pub cells: Vec<String>,
}

impl Table {
    /// The index of the column whose header is exactly `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// `row`'s value in the column named `name`; empty when the row is short.
    pub fn value<'a>(&self, row: &'a Row, name: &str) -> Option<&'a str> {
        self.column(name).map(|i| row.cells.get(i).map(String::as_str).unwrap_or(""))
    }
}
