//! Delivery status: asks 8x8 what became of queued messages, so the history
//! can say "delivered" or "undelivered" and why.
//!
//! A desktop app cannot receive 8x8's webhooks, so it polls
//! `GET …/messages/{umid}`, which 8x8 limits to one request per second per
//! subaccount. A pass checks the entries that are due, paces itself per
//! subaccount, waits once when 8x8 still answers 429 (then leaves that
//! subaccount for the next pass), and stops asking about a message once its
//! state is final or 48 hours have passed since 8x8 queued it (8x8 forwards no
//! receipts after that). Scheduling passes is the daemon's job, not this
//! module's.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::gateway::{self, Gateway};
use crate::{Core, Error};

/// How the poller paces itself.
#[derive(Debug, Clone)]
pub struct PollSettings {
    /// Stop asking this long after 8x8 queued a message (it forwards no
    /// receipts after 48 h).
    pub window: chrono::Duration,
    /// Ask about one message at most this often.
    pub recheck_after: chrono::Duration,
    /// The gap between two requests on one subaccount (8x8: 1 request/s).
    pub per_subaccount_gap: Duration,
    /// Messages looked at per pass.
    pub batch: usize,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings {
            window: chrono::Duration::hours(48),
            recheck_after: chrono::Duration::seconds(60),
            per_subaccount_gap: Duration::from_secs(1),
            batch: 200,
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Entries whose state was recorded.
    pub checked: usize,
    /// Subaccounts that answered 429 (skipped for the rest of the pass).
    pub rate_limited: usize,
    /// Requests 8x8 answered with 429 at first: someone else used the
    /// subaccount's second (the pass's own pacing should never cause one).
    pub told_to_wait: usize,
    /// Accounts found refused (now inactive).
    pub refused_accounts: Vec<String>,
}

impl Core {
    /// One pass over the queued messages whose delivery is due for a check.
    pub async fn check_deliveries(&self, now: DateTime<Utc>, settings: &PollSettings) -> Result<PollReport, Error> {
        // Reminders 8x8 held until now have left: their delivery is asked for from now on.
        self.store().scheduled_now_due(now)?;
        let due = self.store().due_for_delivery_check(now, settings.window, settings.recheck_after, settings.batch)?;
        let account_of: HashMap<i64, String> = self
            .store()
            .connections()?
            .into_iter()
            .filter_map(|c| c.spec.get("account").and_then(|a| a.as_str()).map(|a| (c.id, a.to_owned())))
            .collect();

        let mut report = PollReport::default();
        let mut gateways: HashMap<String, Option<(Gateway, String)>> = HashMap::new();
        // 8x8 limits per subaccount, and two accounts may name the same one.
        let mut last_request: HashMap<String, tokio::time::Instant> = HashMap::new();
        for entry in due {
            // Every entry looked at counts as checked, answered or not, so a
            // pass's worth of entries 8x8 cannot answer about (an unknown umid,
            // a removed account) never keeps the rest from their turn.
            self.store().mark_delivery_checked(entry.id, now)?;
            let (Some(account), Some(umid)) = (account_of.get(&entry.connection_id), entry.umid.as_deref()) else {
                continue;
            };
            let found = gateways.entry(account.clone()).or_insert_with(|| {
                let account = self.account(account).ok()?;
                let subaccount = format!("{} {}", account.base_url, account.subaccount_id);
                Some((self.gateway(&account).ok()?, subaccount))
            });
            let Some((gateway, subaccount)) = found else { continue };
            if let Some(previous) = last_request.get(subaccount.as_str()) {
                tokio::time::sleep_until(*previous + settings.per_subaccount_gap).await;
            }
            let mut answer = gateway.message_status(umid).await;
            if let Err(gateway::Error::RateLimited { retry_after, .. }) = &answer {
                // Someone else used this second (a verification, another
                // poller): wait as told, once.
                report.told_to_wait += 1;
                tokio::time::sleep((*retry_after).min(Duration::from_secs(5))).await;
                answer = gateway.message_status(umid).await;
            }
            last_request.insert(subaccount.clone(), tokio::time::Instant::now());
            match answer {
                Ok(details) => {
                    let error = details.status.error_message.as_deref().map(|m| match details.status.error_code {
                        Some(code) => format!("{m} (code {code})"),
                        None => m.to_owned(),
                    });
                    self.store().record_delivery(entry.id, &details.status.state, error.as_deref(), Utc::now())?;
                    report.checked += 1;
                }
                Err(gateway::Error::RateLimited { .. }) => {
                    report.rate_limited += 1;
                    gateways.insert(account.clone(), None);
                }
                Err(e) if e.rejects_account() => {
                    self.mark_account_refused(account, &e)?;
                    report.refused_accounts.push(account.clone());
                    gateways.insert(account.clone(), None);
                }
                // Unreachable, 5xx, not found: ask again on a later pass.
                Err(_) => {}
            }
        }
        Ok(report)
    }
}
