//! A connection's history and what a person decides about it: the ledger as
//! a list or CSV, resolving `unknown` and `failed` messages, dismissing a note
//! or a warning, dropping held rows, and starting over from new rows.

use chrono::Utc;

use crate::source::rows::{Memory, StartFrom};
use crate::store::{Entry, EntryStatus, Resolution};
use crate::{Core, Error};

impl Core {
    /// The history as CSV (a header row, then one line per message), for a
    /// spreadsheet; the CLI's `history --csv` and the window's export.
    pub fn history_csv(&self, name: &str) -> Result<String, Error> {
        let field = |text: &str| {
            // A spreadsheet runs a cell starting with one of these as a
            // formula: a customer's name like `=HYPERLINK(…)` must stay text.
            let text =
                &if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
            if text.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", text.replace('"', "\"\""))
            } else {
                text.to_owned()
            }
        };
        let mut out = String::from(
            "row,line,phone,text,status,test,umid,code,reason,attempts,delivery,delivery_error,created_at,updated_at,\
             checked_at,check_note\n",
        );
        for e in self.history(name)? {
            let fields = [
                e.row_key.clone(),
                e.row_line.map(|l| l.to_string()).unwrap_or_default(),
                e.phone.clone().unwrap_or_default(),
                e.text.clone(),
                e.status.as_str().to_owned(),
                e.is_test.to_string(),
                e.umid.clone().unwrap_or_default(),
                e.error_code.map(|c| c.to_string()).unwrap_or_default(),
                e.reason.clone().unwrap_or_default(),
                e.attempts.to_string(),
                e.delivery_state.clone().unwrap_or_default(),
                e.delivery_error.clone().unwrap_or_default(),
                e.created_at.clone(),
                e.updated_at.clone(),
                e.checked_at.clone().unwrap_or_default(),
                e.check_note.clone().unwrap_or_default(),
            ];
            out.push_str(&fields.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        Ok(out)
    }

    /// Every ledger entry of the connection, oldest first.
    pub fn history(&self, name: &str) -> Result<Vec<Entry>, Error> {
        let stored = self.stored_connection(name)?;
        Ok(self.store().history(stored.id)?)
    }

    /// A person's decision on a row whose message is `unknown` or `failed`.
    pub fn resolve(&self, name: &str, row_key: &str, resolution: Resolution) -> Result<(), Error> {
        let stored = self.stored_connection(name)?;
        if self.store().resolve(stored.id, row_key, resolution, Utc::now())? {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "row {row_key:?} of {name:?} has no unknown or failed message to resolve; `sendrow history {name}` lists them"
            )))
        }
    }

    /// The user has read the note about rows skipped for their ID; a shrink
    /// warning, if any, stays.
    pub fn dismiss_note(&self, name: &str) -> Result<(), Error> {
        let stored = self.stored_connection(name)?;
        Ok(self.store().dismiss_row_note(stored.id)?)
    }

    /// The user confirms that the source shrank on purpose (rows deleted,
    /// sheet cleared): the warning goes and runs go on from what is there.
    pub fn dismiss_warning(&self, name: &str) -> Result<(), Error> {
        let stored = self.stored_connection(name)?;
        Ok(self.store().dismiss_row_warning(stored.id)?)
    }

    /// Starts the connection over from new rows: every row in the source now
    /// counts as seen (never sent), whatever `start_from` says, and a pause
    /// is lifted. For a source whose rows can no longer be recognised (the
    /// ID column changed, a column of a fingerprint was renamed). Returns how
    /// many rows the source has.
    pub async fn start_over(&self, name: &str) -> Result<usize, Error> {
        let turn = self.run_turn(name);
        let _turn = turn.lock().await;
        let stored = self.stored_connection(name)?;
        let mut spec = Self::spec_of(&stored)?;
        spec.start_from = StartFrom::NewRows;
        let observation = self.observe(&stored, &spec, Some(Memory::default()), Utc::now()).await?;
        if let Some(pause) = observation.pause() {
            return Err(Error::Invalid(format!("{name:?} cannot start over as it is: {pause}")));
        }
        self.store().start_over(&observation)?;
        self.store().set_paused(stored.id, None, Utc::now())?;
        Ok(observation.total)
    }

    /// Drops the rows the flood guard holds (the UI's "skip").
    pub fn skip_held(&self, name: &str) -> Result<usize, Error> {
        let stored = self.stored_connection(name)?;
        Ok(self.store().release_held(stored.id, EntryStatus::Skipped, Utc::now())?)
    }
}
