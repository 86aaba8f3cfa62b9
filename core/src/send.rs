//! Sending claimed ledger entries through 8x8, and classifying every outcome
//! for the ledger.
//!
//! Entries arrive here already claimed (`sending`, committed). More than one
//! goes out as batches of up to 10,000 with per-message results matched by
//! `clientMessageId`; a single one through the single-send endpoint. 429 waits
//! `Retry-After` (a long one is left to a later run); 503 and "unreachable
//! before sending" back off exponentially with jitter for a bounded number of
//! attempts, then the entries are `failed` (the next run tries again). Anything
//! that may have reached 8x8 without a usable answer — no answer after the
//! request was written, or any 5xx but 503 — is `unknown`: never retried
//! here, settled by asking 8x8 (`reconcile`). A refused key stops the
//! whole delivery: nothing was accepted, so the entries go back to `pending`.
//!
//! Not here: choosing rows, composing texts, flood/opt-out/quiet-hours rules.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;

use crate::gateway::{self, BatchRequest, Gateway, SmsRequest};
use crate::store::{Entry, Outcome, Store};

/// 8x8's documented maximum per batch request.
pub const MAX_BATCH: usize = 10_000;

/// How hard to try before calling a transient failure `failed`.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Requests per chunk, the first included.
    pub max_attempts: u32,
    /// The first back-off; doubled each time.
    pub base_delay: Duration,
    /// The longest back-off.
    pub max_delay: Duration,
    /// The longest `Retry-After` waited for within a run. 8x8 asking for
    /// longer makes the chunk `failed`, sent again by a later run: never
    /// sooner than 8x8 said, and a run never sits on its messages for long.
    pub max_retry_after: Duration,
    /// Messages per batch request.
    pub batch_size: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            batch_size: MAX_BATCH,
        }
    }
}

impl RetryPolicy {
    /// Back-off before attempt `attempt` (1-based count of failures so far):
    /// base × 2^(n-1), capped, with ±25 % jitter so many clients do not retry
    /// in step.
    fn backoff(&self, failures: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32 << (failures.saturating_sub(1)).min(16));
        let capped = exp.min(self.max_delay);
        let jitter = 0.75 + fastrand::f64() * 0.5;
        capped.mul_f64(jitter).min(self.max_delay)
    }
}

/// What happened to the entries handed to [`deliver`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// 8x8 queued these.
    pub queued: usize,
    /// 8x8 refused these.
    pub rejected: usize,
    /// Transient failures, retried next run.
    pub failed: usize,
    /// May or may not have gone out.
    pub unknown: usize,
    /// Returned to `pending` untouched (the account was refused).
    pub unsent: usize,
    /// SMS segments of the queued messages (what 8x8 bills).
    pub queued_segments: usize,
    /// Set when 8x8 refused the account's key or subaccount: the caller marks
    /// the account inactive and pauses the connection.
    pub account_refused: Option<AccountRefusal>,
}

/// 8x8's refusal of the account, in its own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRefusal {
    /// 8x8's code (1200 or 1001).
    pub code: Option<i64>,
    /// 8x8's message.
    pub reason: String,
}

impl Delivery {
    fn count(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Queued { .. } => self.queued += 1,
            Outcome::Rejected { .. } => self.rejected += 1,
            Outcome::Failed { .. } => self.failed += 1,
            Outcome::Unknown { .. } => self.unknown += 1,
            Outcome::Unsent => self.unsent += 1,
        }
    }
}

fn request(entry: &Entry, sender: Option<&str>) -> SmsRequest {
    SmsRequest {
        destination: entry.phone.clone().unwrap_or_default(),
        text: entry.text.clone(),
        source: sender.map(str::to_owned),
        client_message_id: Some(entry.client_message_id.clone()),
        encoding: None,
        // A reminder still ahead goes to 8x8 with its time (product.md §9).
        scheduled: crate::reminder::scheduled_field(entry.send_at.as_deref(), Utc::now()),
    }
}

/// Claimed entries (`sending`) whose request has not been written: when
/// dropped — a delivery cut short by Quit, SIGTERM, the scheduler's abort —
/// they go back to `pending` for the next run. Only entries of a request
/// that may have been written stay `sending`, to become `unknown` and be
/// reconciled. Create it right after the claim, before anything can stop.
pub struct Unwritten<'a> {
    store: &'a Store,
    ids: std::collections::HashSet<i64>,
}

impl<'a> Unwritten<'a> {
    /// Guards `entries`, just claimed.
    pub fn new(store: &'a Store, entries: &[Entry]) -> Unwritten<'a> {
        Unwritten { store, ids: entries.iter().map(|e| e.id).collect() }
    }

    /// These entries' request may be written from now on.
    fn writing(&mut self, chunk: &[Entry]) {
        for e in chunk {
            self.ids.remove(&e.id);
        }
    }

    /// These entries' request provably carried nothing to 8x8 (a refusal
    /// that queues nothing): back under guard while waiting to try again.
    fn not_written(&mut self, chunk: &[Entry]) {
        self.ids.extend(chunk.iter().map(|e| e.id));
    }
}

impl Drop for Unwritten<'_> {
    fn drop(&mut self) {
        if !self.ids.is_empty() {
            let ids: Vec<i64> = self.ids.drain().collect();
            // Nothing better to do with a failure here: left `sending`,
            // they become `unknown` at the next start, the safe side.
            let _ = self.store.unclaim(&ids, Utc::now());
        }
    }
}

/// Sends `entries` (claimed, in `sending`) and records every outcome in the
/// store as soon as it is known. Store failures stop the delivery: entries
/// whose outcome could not be recorded stay `sending` and become `unknown`
/// at the next start, which is the safe side. Dropped part-way, the entries
/// whose request was not written go back to `pending` (see [`Unwritten`]).
pub async fn deliver(
    store: &Store,
    gateway: &Gateway,
    entries: &[Entry],
    sender: Option<&str>,
    policy: &RetryPolicy,
) -> Result<Delivery, crate::Error> {
    deliver_guarded(Unwritten::new(store, entries), gateway, entries, sender, policy).await
}

/// [`deliver`] with a guard made when the entries were claimed, so entries
/// claimed but never reached (the delivery dropped before it started) go
/// back to `pending` too.
pub async fn deliver_guarded(
    mut unwritten: Unwritten<'_>,
    gateway: &Gateway,
    entries: &[Entry],
    sender: Option<&str>,
    policy: &RetryPolicy,
) -> Result<Delivery, crate::Error> {
    let store = unwritten.store;
    let mut delivery = Delivery::default();
    let size = policy.batch_size.clamp(1, MAX_BATCH);
    let mut chunks = entries.chunks(size);
    while let Some(chunk) = chunks.next() {
        let (outcomes, requests) = send_chunk(gateway, chunk, sender, policy, &mut unwritten).await;
        let refused = match &outcomes {
            ChunkResult::AccountRefused(refusal) => Some(refusal.clone()),
            ChunkResult::Outcomes(_) => None,
        };
        let recorded: Vec<(i64, Outcome)> = match outcomes {
            ChunkResult::Outcomes(o) => o,
            // Nothing of this chunk, nor of the chunks not yet tried, was accepted.
            ChunkResult::AccountRefused(_) => {
                chunk.iter().chain(chunks.by_ref().flatten()).map(|e| (e.id, Outcome::Unsent)).collect()
            }
        };
        store.record_after_retries(&recorded, requests.saturating_sub(1), Utc::now())?;
        // Recorded: none of these is the guard's any more (the account
        // refusal recorded the chunks not tried as well).
        unwritten.writing(chunk);
        if refused.is_some() {
            unwritten.ids.clear();
        }
        for (i, (_, outcome)) in recorded.iter().enumerate() {
            delivery.count(outcome);
            if let (Outcome::Queued { .. }, Some(entry)) = (outcome, chunk.get(i)) {
                delivery.queued_segments += crate::compose::segments::count(&entry.text);
            }
        }
        if refused.is_some() {
            delivery.account_refused = refused;
            break;
        }
    }
    Ok(delivery)
}

enum ChunkResult {
    Outcomes(Vec<(i64, Outcome)>),
    AccountRefused(AccountRefusal),
}

/// Sends one chunk, retrying as the policy allows; also says how many
/// requests it took.
async fn send_chunk(
    gateway: &Gateway,
    chunk: &[Entry],
    sender: Option<&str>,
    policy: &RetryPolicy,
    unwritten: &mut Unwritten<'_>,
) -> (ChunkResult, u32) {
    let mut failures = 0;
    loop {
        unwritten.writing(chunk);
        let result = if let [only] = chunk {
            gateway.send(&request(only, sender)).await.map(|r| vec![r])
        } else {
            let batch = BatchRequest {
                messages: chunk.iter().map(|e| request(e, sender)).collect(),
                client_batch_id: None,
                include_messages_in_response: true,
            };
            gateway.send_batch(batch).await.map(|r| r.messages.unwrap_or_default())
        };
        let requests = failures + 1;
        let err = match result {
            Ok(responses) => return (ChunkResult::Outcomes(match_responses(chunk, responses)), requests),
            Err(e) => e,
        };
        if err.rejects_account() {
            let refusal = AccountRefusal { code: err.code(), reason: err.reason() };
            return (ChunkResult::AccountRefused(refusal), requests);
        }
        let wait = match &err {
            gateway::Error::RateLimited { retry_after, .. } => {
                Some(*retry_after).filter(|w| *w <= policy.max_retry_after)
            }
            e if e.is_transient() => Some(policy.backoff(failures + 1)),
            _ => None,
        };
        failures += 1;
        match wait {
            Some(wait) if failures < policy.max_attempts => {
                // 8x8 took nothing (that is why it may be retried): stopped
                // during the wait, these go back to `pending`.
                unwritten.not_written(chunk);
                tokio::time::sleep(wait).await
            }
            _ => {
                let single = chunk.len() == 1;
                return (
                    ChunkResult::Outcomes(chunk.iter().map(|e| (e.id, final_outcome(&err, single))).collect()),
                    requests,
                );
            }
        }
    }
}

/// The outcome for every entry of a chunk whose request failed for good.
/// Only a single message 8x8 found invalid (400) is `rejected` for good: a
/// refusal of a whole batch, or any other 4xx, says nothing against each
/// message, so they stay `failed` for the next run (and pause the connection
/// with 8x8's words if it keeps happening).
fn final_outcome(err: &gateway::Error, single: bool) -> Outcome {
    match err {
        gateway::Error::Ambiguous { .. } => Outcome::Unknown { reason: err.to_string() },
        gateway::Error::Rejected { status: 400, code, message } if single => {
            Outcome::Rejected { code: Some(*code), description: message.clone() }
        }
        _ => Outcome::Failed { reason: err.to_string() },
    }
}

/// Matches 8x8's per-message results to entries by `clientMessageId`. An
/// entry 8x8 did not mention was in an accepted request, so it may have gone
/// out: `unknown`.
fn match_responses(chunk: &[Entry], responses: Vec<gateway::SmsResponse>) -> Vec<(i64, Outcome)> {
    let mut by_ref: HashMap<String, gateway::SmsResponse> = HashMap::with_capacity(responses.len());
    for response in responses {
        if let Some(reference) = response.client_message_id.clone() {
            by_ref.insert(reference, response);
        }
    }
    chunk
        .iter()
        .map(|entry| {
            let outcome = match by_ref.remove(&entry.client_message_id) {
                Some(r) if r.status.is_queued() => Outcome::Queued { umid: r.umid },
                // 8x8 says it did not take this one, for a reason of its own:
                // the next run tries again.
                Some(r) if r.status.is_transient_refusal() => {
                    Outcome::Failed { reason: format!("8x8 could not take this message now: {}", r.status.description) }
                }
                Some(r) => Outcome::Rejected { code: None, description: r.status.description },
                None => Outcome::Unknown {
                    reason: "8x8 accepted the request but did not report on this message".to_owned(),
                },
            };
            (entry.id, outcome)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_single_message_8x8_found_invalid_is_rejected_for_good() {
        let refused = |status| gateway::Error::Rejected { status, code: 1002, message: "Invalid destination".into() };
        assert!(
            matches!(final_outcome(&refused(400), true), Outcome::Rejected { code: Some(1002), .. }),
            "one message, 400: that message is invalid"
        );
        assert!(
            matches!(final_outcome(&refused(400), false), Outcome::Failed { .. }),
            "a whole batch refused says nothing against each message: failed, tried again, paused if it persists"
        );
        assert!(matches!(final_outcome(&refused(403), true), Outcome::Failed { .. }), "403 is not about the message");
        let cut = gateway::Error::Ambiguous { url: "http://127.0.0.1/".into(), reason: "reset".into() };
        assert!(matches!(final_outcome(&cut, false), Outcome::Unknown { .. }), "ambiguous stays unknown");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy =
            RetryPolicy { base_delay: Duration::from_secs(1), max_delay: Duration::from_secs(5), ..Default::default() };
        let first = policy.backoff(1);
        assert!(first >= Duration::from_millis(750) && first <= Duration::from_millis(1250), "first ≈ base: {first:?}");
        let third = policy.backoff(3);
        assert!(third >= Duration::from_secs(3) && third <= Duration::from_secs(5), "third ≈ 4 s: {third:?}");
        assert!(policy.backoff(30) <= Duration::from_secs(5), "never beyond the cap");
    }
}
