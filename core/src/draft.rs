//! The wizard's look at a draft connection before it is saved: the source's
//! columns and first rows, and a draft spec checked as saving would check it,
//! with its first row composed and its first reminders planned.

use std::path::Path;

use chrono::Local;
use serde::Serialize;

use crate::connection::ConnectionSpec;
use crate::source::SourceSpec;
use crate::{Core, Error};

/// What the wizard shows about a source: its columns, a few rows and how many
/// there are.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceSample {
    /// The header row.
    pub headers: Vec<String>,
    /// The first few data rows.
    pub rows: Vec<Vec<String>>,
    /// How many data rows there are.
    pub total: usize,
}

/// A draft spec checked against its source, with the first data row composed
/// as the preview the wizard shows before anything is saved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Draft {
    /// The source's columns, rows and count.
    pub sample: SourceSample,
    /// The test row's message, when the source has a data row.
    pub preview: Option<crate::compose::Composed>,
    /// Why there is no preview when the source has its header row but no
    /// data row yet (a new order sheet): fine for saving, and this says so
    /// naming the file or sheet.
    pub no_rows: Option<String>,
    /// Its cost when a price per segment is set.
    pub cost: Option<f64>,
    /// With conditions: how many of the source's rows meet them now.
    pub matching: Option<usize>,
    /// With `send_at`: the first reminders a run would set, in row order.
    pub reminders: Vec<crate::follow::FirstReminder>,
}

impl Core {
    /// Reads a source for the wizard's first step, numbers and dates shown as
    /// in `country` (the wizard's default country).
    pub async fn inspect_source(&self, source: &SourceSpec, country: &str, rows: usize) -> Result<SourceSample, Error> {
        let table = self.read_source(source, country).await?;
        let data: Vec<_> = table.rows.iter().filter(|r| !r.is_blank()).collect();
        Ok(SourceSample {
            headers: table.headers.clone(),
            rows: data.iter().take(rows).map(|r| r.cells.clone()).collect(),
            total: data.len(),
        })
    }

    /// Checks a draft as saving would (except its name being free, so an
    /// edited connection checks too) and composes the first data row.
    pub async fn check_draft(&self, spec: &ConnectionSpec, base_dir: &Path) -> Result<Draft, Error> {
        let mut spec = spec.clone();
        spec.source = spec.source.relative_to(base_dir);
        spec.check_alone()?;
        self.account(&spec.account).map_err(|_| self.unknown_account(&spec.account))?;
        let table = self
            .read_source(&spec.source, &spec.default_country)
            .await
            .map_err(|e| Error::Invalid(format!("source: {e}")))?;
        spec.check_columns(&table.headers)?;
        let template = spec.template()?;
        let no_rows = table.is_header_only().then(|| spec.source.no_rows_yet("see a preview").to_string());
        let first = table.rows.iter().find(|r| !r.is_blank());
        let preview = first.map(|row| {
            let cells = |column: &str| {
                crate::compose::find_column(&table.headers, column)
                    .map(|i| row.cells.get(i).map(String::as_str).unwrap_or(""))
            };
            crate::compose::compose_row(
                &template,
                cells,
                cells(&spec.phone_field),
                spec.country().expect("checked above"),
                Local::now().naive_local(),
                spec.date_format,
            )
        });
        let cost = preview.as_ref().and_then(|p| spec.price_per_segment.map(|price| p.measure.cost(price)));
        let data: Vec<_> = table.rows.iter().filter(|r| !r.is_blank()).collect();
        let sample = SourceSample {
            headers: table.headers.clone(),
            rows: data.iter().take(5).map(|r| r.cells.clone()).collect(),
            total: data.len(),
        };
        let matching = spec.conditions.as_ref().map(|c| crate::conditions::matching_lines(c, &table).len());
        let reminders = crate::follow::first_reminders(&spec, &table, 3);
        Ok(Draft { sample, preview, no_rows, cost, matching, reminders })
    }
}
