//! The opt-out list: numbers never texted, whatever connection finds them.
//! Numbers are kept in E.164, so `067 123 45 67` and `+380671234567` are one
//! entry. Import takes a CSV with a phone column (or one number per line);
//! every line that is not a usable number is reported, not silently dropped.

use std::path::Path;

use chrono::Utc;
use serde::Serialize;

use crate::compose::phone::{self, Country, E164};
use crate::compose::PhoneIssue;
use crate::store::OptOut;
use crate::{Core, Error};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    /// Numbers that were not on the list yet.
    pub added: usize,
    /// Numbers that were already there.
    pub already_listed: usize,
    /// Lines that held no usable number: (line number, text, reason).
    pub refused: Vec<(usize, String, String)>,
}

fn normalize(raw: &str, country: Country) -> Result<E164, Error> {
    phone::normalize(raw, country).map_err(|issue| match issue {
        PhoneIssue::Missing => Error::Invalid("no phone number given".into()),
        PhoneIssue::Invalid { reason } => Error::Invalid(format!("{raw:?} is not a usable phone number: {reason}")),
    })
}

/// Header names that mark the phone column of an imported CSV.
const PHONE_HEADERS: [&str; 6] = ["phone", "number", "mobile", "телефон", "номер", "tel"];

impl Core {
    /// Adds a number (any common format, read with `country` as default).
    pub fn add_optout(&self, raw: &str, country: Country, note: Option<&str>) -> Result<E164, Error> {
        let phone = normalize(raw, country)?;
        self.store().add_optouts(&[(phone.as_str().to_owned(), note.map(str::to_owned))], Utc::now())?;
        Ok(phone)
    }

    /// Removes a number; returns whether it was on the list.
    pub fn remove_optout(&self, raw: &str, country: Country) -> Result<bool, Error> {
        let phone = normalize(raw, country)?;
        Ok(self.store().remove_optout(phone.as_str())?)
    }

    /// The list, sorted.
    pub fn optouts(&self) -> Result<Vec<OptOut>, Error> {
        Ok(self.store().optouts()?)
    }

    /// Imports a CSV file: the column headed phone/number/телефон/номер, or the
    /// first column; a header row is recognised and skipped.
    pub fn import_optouts(&self, path: &Path, country: Country) -> Result<ImportReport, Error> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::Invalid(format!("cannot read {}: {e}; check the path", path.display())))?;
        let text = String::from_utf8_lossy(&bytes);
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).peekable();
        let split = |line: &str| -> Vec<String> {
            let sep = if line.contains(';') { ';' } else { ',' };
            line.split(sep).map(|c| c.trim().trim_matches('"').trim().to_owned()).collect()
        };
        let mut column = 0;
        if let Some((_, first)) = lines.peek() {
            let cells = split(first);
            let header = cells.iter().position(|c| PHONE_HEADERS.contains(&c.to_lowercase().as_str()));
            if let Some(i) = header {
                column = i;
                lines.next();
            } else if cells
                .first()
                .is_some_and(|c| c.chars().any(char::is_alphabetic) && normalize(c, country).is_err())
            {
                lines.next();
            }
        }
        let mut report = ImportReport::default();
        let mut phones = Vec::new();
        for (index, line) in lines {
            let cell = split(line).get(column).cloned().unwrap_or_default();
            match normalize(&cell, country) {
                Ok(p) => phones.push((p.as_str().to_owned(), Some(format!("imported from {}", path.display())))),
                Err(e) => report.refused.push((index + 1, line.to_owned(), e.to_string())),
            }
        }
        phones.sort();
        phones.dedup_by(|a, b| a.0 == b.0);
        report.added = self.store().add_optouts(&phones, Utc::now())?;
        report.already_listed = phones.len() - report.added;
        Ok(report)
    }

    /// The list as CSV (`phone,note,added_at`), for a spreadsheet or another Sendrow.
    pub fn export_optouts(&self) -> Result<String, Error> {
        let quote = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        };
        let mut out = String::from("phone,note,added_at\n");
        for o in self.optouts()? {
            out.push_str(&format!("{},{},{}\n", o.phone, quote(o.note.as_deref().unwrap_or("")), o.added_at));
        }
        Ok(out)
    }
}
