//! The `public_csv` mode: a link-shared tab read through
//! `{docs}/spreadsheets/d/ID/export?format=csv&gid=GID`, which redirects to a
//! download host. No API, no key, no quota project.
//!
//! A private sheet does not fail with a status: Google answers 200 with an
//! HTML sign-in page, so the content type decides. Not here: TSV/XLSX
//! exports and "Publish to web" links.

use reqwest::Url;

use super::{api, table_from_rows, Error, Reader, SheetRef};
use crate::source::Table;

pub(super) async fn read(reader: &Reader, sheet: &SheetRef) -> Result<Table, Error> {
    let url = export_url(reader, &sheet.spreadsheet_id, Some(sheet.gid))?;
    let reply = api::send(&reader.retry, &url, || reader.http.get(url.clone())).await?;
    let status = reply.status.as_u16();
    let message = || reply.status.canonical_reason().unwrap_or("no message").to_owned();
    match status {
        200..=299 if reply.content_type.starts_with("text/csv") => parse(&reply.body, sheet.gid),
        200..=299 if reply.content_type.starts_with("text/html") => Err(Error::NotShared),
        200..=299 => Err(Error::Unreadable(format!("the export link sent {:?}, not CSV", reply.content_type))),
        // Google asks for a sign-in on some private sheets instead of serving the page.
        401 | 403 => Err(Error::NotShared),
        404 if spreadsheet_exists(reader, &sheet.spreadsheet_id).await => Err(Error::TabNotFound { gid: sheet.gid }),
        404 => Err(Error::SpreadsheetNotFound {
            spreadsheet_id: sheet.spreadsheet_id.clone(),
            message: format!("the export link for tab gid {} was not found", sheet.gid),
        }),
        429 => Err(Error::RateLimited {
            retry_after: reply.retry_after.unwrap_or(std::time::Duration::from_secs(60)),
            message: message(),
        }),
        s if s >= 500 => Err(Error::Server { status: s, message: message() }),
        s => Err(Error::Refused { status: s, status_text: String::new(), message: message() }),
    }
}

/// `{docs}/spreadsheets/d/ID/export?format=csv[&gid=GID]`.
fn export_url(reader: &Reader, spreadsheet_id: &str, gid: Option<u32>) -> Result<Url, Error> {
    let mut url = Url::parse(&reader.endpoints.docs)
        .map_err(|e| Error::Unreadable(format!("the export address is not a URL: {e}")))?;
    url.path_segments_mut()
        .map_err(|()| Error::Unreadable("the export address cannot take a path".into()))?
        .pop_if_empty()
        .extend(["spreadsheets", "d", spreadsheet_id, "export"]);
    url.query_pairs_mut().append_pair("format", "csv");
    if let Some(gid) = gid {
        url.query_pairs_mut().append_pair("gid", &gid.to_string());
    }
    Ok(url)
}

/// Whether the spreadsheet itself can be found, after its tab's export was
/// not: the export without a gid (its first tab) answering at all says the
/// ID is right and the gid is what is wrong. Any doubt counts as "not found",
/// which keeps the older advice to check the ID.
async fn spreadsheet_exists(reader: &Reader, spreadsheet_id: &str) -> bool {
    let Ok(url) = export_url(reader, spreadsheet_id, None) else { return false };
    match api::send(&reader.retry, &url, || reader.http.get(url.clone())).await {
        Ok(reply) => reply.status.is_success(),
        Err(_) => false,
    }
}

fn parse(body: &[u8], gid: u32) -> Result<Table, Error> {
    // Google's export is UTF-8 with a header line; rows may be ragged when a
    // tab's width changed, so `flexible`.
    let mut csv = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(body);
    let mut rows = Vec::new();
    for record in csv.records() {
        let record = record.map_err(|e| Error::Unreadable(format!("the CSV export is malformed: {e}")))?;
        rows.push(record.iter().map(str::to_owned).collect());
    }
    table_from_rows(rows, &format!("with gid {gid}"))
}
