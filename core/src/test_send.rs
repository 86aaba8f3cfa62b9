//! The seed's "Send test data to 8x8": one row composed as a run would
//! compose it and sent at once, to the row's own phone or to the user's.
//! Sent to the row's own phone it is that row's SMS: its real ledger entry is
//! claimed before the request, so no run anywhere texts the customer again.

use std::collections::HashSet;

use chrono::{Local, Utc};
use serde::Serialize;

use crate::compose::{self, Status};
use crate::send::{self, RetryPolicy};
use crate::source::rows::{self, Memory, StartFrom};
use crate::store::{EntryStatus, NewEntry};
use crate::{Core, Error};

/// What a test send did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestSend {
    /// The row's key.
    pub row: String,
    /// The row's line in the source, as the preview shows it.
    pub line: usize,
    /// Where it went.
    pub phone: String,
    /// What was sent.
    pub text: String,
    /// `queued`, `rejected`, `failed` or `unknown`.
    pub status: EntryStatus,
    /// 8x8's message ID when queued.
    pub umid: Option<String>,
    /// 8x8's reason otherwise.
    pub reason: Option<String>,
    /// Whether it reached the row's own phone, so the first run skips that row.
    pub counts_as_row_message: bool,
}

impl Core {
    /// The seed's "Send test data to 8x8": composes the first data row (or
    /// data row `row`, 1-based) and sends it to the row's phone, or to `to`.
    /// Reaching the row's own phone counts as that row's message.
    pub async fn test_send(&self, name: &str, row: Option<usize>, to: Option<&str>) -> Result<TestSend, Error> {
        let stored = self.stored_connection(name)?;
        let spec = Self::spec_of(&stored)?;
        let template = spec.template()?;
        let now = Local::now().fixed_offset();
        // Every row counts as new, keyed as the connection's runs key them
        // (a fingerprint is made of the columns of its first read, not of
        // today's), so a test to a customer already texted is caught below.
        let mut everything = spec.clone();
        everything.start_from = StartFrom::AllRows;
        let remembered = self.store().row_memory(stored.id)?.state;
        let memory =
            Memory { state: remembered.map(|state| rows::RowState { last_count: None, ..state }), ..Memory::default() };
        let observation = self.observe(&stored, &everything, Some(memory), Utc::now()).await?;
        if let Some(pause) = observation.pause() {
            return Err(Error::Invalid(format!("the connection cannot send as it is: {pause}")));
        }
        if observation.total == 0 && !observation.headers.is_empty() {
            return Err(spec.source.no_rows_yet("send a test").into());
        }
        let index = row.unwrap_or(1);
        let count = observation.new_rows().len();
        if index == 0 || index > count {
            return Err(Error::Invalid(format!("--row {index}: the source has data rows 1 to {count}")));
        }
        // Composed without the opt-out list so the row's own phone is known;
        // the list is checked below against wherever the test goes.
        let composed = Self::compose_new(&spec, &template, &observation, &HashSet::new(), &now)?;
        let (row_key, line, composed) = composed.into_iter().nth(index - 1).expect("index checked above");
        let own_phone = composed.phone.as_ref().map(|p| p.as_str().to_owned());
        let phone = match to {
            Some(number) => compose::normalize(number, spec.country()?)
                .map_err(|e| match e {
                    compose::PhoneIssue::Missing => {
                        Error::Invalid("the phone to send the test to is empty: type your own number".into())
                    }
                    compose::PhoneIssue::Invalid { reason } => {
                        Error::Invalid(format!("the phone to send the test to, {number:?}: {reason}"))
                    }
                })?
                .as_str()
                .to_owned(),
            None => own_phone.clone().ok_or_else(|| {
                Error::Invalid(format!(
                    "row {index} (line {line}) has no usable phone number: {}; send the test to your own phone instead \
                     (--to on the command line)",
                    composed.reason.clone().unwrap_or_default()
                ))
            })?,
        };
        if self.store().optout_set()?.contains(&phone) {
            return Err(Error::Invalid(format!(
                "{phone} is on the opt-out list, so Sendrow never texts it, not even a test; \
                 send the test to your own phone instead (--to on the command line), or remove the number from the list first"
            )));
        }
        if composed.status != Status::Ready
            && composed.status != Status::InvalidPhone
            && composed.status != Status::MissingPhone
        {
            return Err(Error::Invalid(format!(
                "row {index} cannot be sent: {}",
                composed.reason.clone().unwrap_or_else(|| composed.status.as_str().into())
            )));
        }
        let own = own_phone.as_deref() == Some(phone.as_str());
        let entry = NewEntry {
            row_key: row_key.clone(),
            row_line: Some(line as i64),
            phone: Some(phone.clone()),
            text: composed.text.clone(),
            status: EntryStatus::Pending,
            reason: Some("test send".into()),
            is_test: !own,
            not_before: None,
            time_slots: None,
        };
        // Everything that can refuse comes before the entry exists, and the
        // sending lock before its claim: no entry is left in `sending`
        // by an early error, nor claimed while a recovery could run.
        let account = self.account(&spec.account)?;
        let gateway = self.gateway(&account)?;
        let sender = spec.sender_id()?;
        let (id, delivery) = {
            // A run of this connection through this `Core` waits meanwhile.
            let turn = self.run_turn(name);
            let _turn = turn.lock().await;
            let _sending = self.start_sending()?;
            // To the row's own phone the test is the row's SMS: its real
            // ledger entry is claimed before the request, so neither a run
            // (here or in another process) nor a crash can text the customer
            // a second time.
            let claimed = self.store().insert_claimed(stored.id, &entry, Utc::now())?.ok_or_else(|| {
                Error::Invalid(format!(
                    "row {index} (line {line}) already has its SMS, so a test to {phone} would text this customer \
                     twice; send the test to your own phone instead (--to on the command line)"
                ))
            })?;
            let delivery = send::deliver(
                self.store(),
                &gateway,
                std::slice::from_ref(&claimed),
                sender.as_ref().map(|s| s.as_str()),
                &RetryPolicy::default(),
            )
            .await?;
            (claimed.id, delivery)
        };
        if let Some(refusal) = &delivery.account_refused {
            let err =
                crate::gateway::Error::BadKey { code: refusal.code.unwrap_or(1200), message: refusal.reason.clone() };
            self.mark_account_refused(&account.name, &err)?;
            // Nothing left the machine. A test to another phone is over (a
            // pending test is never claimed); the row's own entry stays
            // pending for the first run once the key works.
            let reason = format!("8x8 refused the account {:?}: {}", account.name, refusal.reason);
            self.store().settle_test(id, EntryStatus::Failed, &reason)?;
            return Err(Error::Invalid(format!(
                "{reason} — check the API key and subaccount in 8x8's portal, then verify the account in Sendrow"
            )));
        }
        let sent = self.store().entries(&[id])?.pop().ok_or_else(|| {
            Error::Invalid(format!("{name:?} was removed while its test SMS was being sent; it is not in any history"))
        })?;
        let counts = own && matches!(sent.status, EntryStatus::Queued | EntryStatus::Unknown);
        if own {
            // The history shows the test as a test too.
            self.store().record_test_copy(&sent, Utc::now())?;
        }
        Ok(TestSend {
            row: row_key,
            line,
            phone,
            text: composed.text,
            status: sent.status,
            umid: sent.umid,
            reason: delivery
                .account_refused
                .map(|r| r.reason)
                .or(sent.reason.filter(|_| sent.status != EntryStatus::Queued)),
            counts_as_row_message: counts,
        })
    }
}
