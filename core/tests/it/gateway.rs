//! The 8x8 client against the simulator: every documented answer and every
//! way a call can fail, each classified as the sender will need it.

use std::time::Duration;

use sendrow_core::gateway::{BatchRequest, Error, Probe, SmsRequest};
use sendrow_core::sim::{Fault, SimConfig, SANDBOX_KEY, SANDBOX_SUBACCOUNT};

use crate::{gateway, gateway_as, sim, sim_with};

fn sms(destination: &str, text: &str, id: &str) -> SmsRequest {
    SmsRequest {
        destination: destination.into(),
        text: text.into(),
        source: Some("MyShop".into()),
        client_message_id: Some(id.into()),
        encoding: None,
        scheduled: None,
    }
}

#[tokio::test]
async fn single_send_is_queued_and_echoed_as_8x8_does() {
    let sim = sim().await;
    let sent = gateway(&sim).send(&sms("+380671234567", "Ваше замовлення готове", "c-1")).await.unwrap();
    assert!(sent.status.is_queued(), "a valid message is queued: {sent:?}");
    assert_eq!(sent.destination, "380671234567", "8x8 echoes the destination without +");
    assert_eq!(sent.encoding, "UCS2", "Cyrillic text is sent as UCS2");
    assert_eq!(sent.client_message_id.as_deref(), Some("c-1"), "our reference comes back");
    let recorded = sim.messages();
    assert_eq!(recorded.len(), 1, "the simulator saw exactly one message");
    assert_eq!(recorded[0].umid, sent.umid, "the umid we got is the one 8x8 recorded");
    assert_eq!(recorded[0].source.as_deref(), Some("MyShop"), "the sender ID arrived");
}

#[tokio::test]
async fn batch_rejects_bad_items_alone_and_items_match_by_client_id() {
    let sim = sim().await;
    let batch = BatchRequest {
        messages: vec![
            sms("+380671234567", "one", "r-1"),
            sms("067 123", "two", "r-2"),
            sms("+447700900123", "three", "r-3"),
            sms("+380501112233", "", "r-4"),
        ],
        client_batch_id: Some("run-7".into()),
        include_messages_in_response: true,
    };
    let answer = gateway(&sim).send_batch(batch).await.unwrap();
    assert_eq!((answer.accepted_count, answer.rejected_count), (2, 2), "two good, two bad: {answer:?}");
    let items = answer.messages.expect("asked for per-message results");
    let by_id = |id: &str| items.iter().find(|m| m.client_message_id.as_deref() == Some(id)).unwrap().clone();
    assert!(by_id("r-1").status.is_queued() && by_id("r-3").status.is_queued(), "good items are queued");
    assert_eq!(
        by_id("r-2").status.description,
        "Invalid MSISDN format (not E.164 international number)",
        "a bad number gets 8x8's documented words"
    );
    assert_eq!(by_id("r-4").status.description, "Text value is missing", "an empty text is refused");
    assert_eq!(sim.messages().len(), 2, "only accepted items were recorded");
}

#[tokio::test]
async fn bad_key_and_foreign_subaccount_are_told_apart() {
    let sim = sim_with(SimConfig {
        accounts: vec![(SANDBOX_SUBACCOUNT.into(), SANDBOX_KEY.into()), ("other_hq".into(), "other-key".into())],
        ..SimConfig::default()
    })
    .await;
    let bad_key =
        gateway_as(&sim, SANDBOX_SUBACCOUNT, "wrong").send(&sms("+380671234567", "x", "a")).await.unwrap_err();
    assert!(matches!(bad_key, Error::BadKey { code: 1200, .. }), "a wrong key is 1200: {bad_key:?}");
    assert!(bad_key.rejects_account() && !bad_key.is_transient(), "a wrong key stops the account, no retry");
    assert!(bad_key.to_string().contains("Request was not authenticated properly"), "8x8's words are kept");

    let foreign = gateway_as(&sim, "other_hq", SANDBOX_KEY).send(&sms("+380671234567", "x", "a")).await.unwrap_err();
    assert!(matches!(foreign, Error::ForeignSubaccount { code: 1001, .. }), "someone else's subaccount: {foreign:?}");
    assert!(sim.messages().is_empty(), "nothing refused at the door was recorded");
}

#[tokio::test]
async fn single_send_validation_errors_keep_8x8s_code() {
    let sim = sim().await;
    let gw = gateway(&sim);
    let cases = [
        (sms("12", "hi", "v"), 1002),
        (sms("+380671234567", "", "v"), 1004),
        (SmsRequest { source: Some("A-very-long-sender-id".into()), ..sms("+380671234567", "hi", "v") }, 1005),
        (SmsRequest { encoding: Some("EBCDIC".into()), ..sms("+380671234567", "hi", "v") }, 1003),
        // 8x8 truncates past 10 parts; only beyond any sensible length does it refuse.
        (sms("+380671234567", &"x".repeat(153 * 256), "v"), 1004),
        (sms("+380671234567", "hi", &"c".repeat(351)), 1000),
    ];
    for (request, code) in cases {
        let err = gw.send(&request).await.unwrap_err();
        assert!(
            matches!(err, Error::Rejected { status: 400, code: c, .. } if c == code),
            "expected 400/{code} for {request:?}, got {err:?}"
        );
        assert!(!err.is_transient(), "a malformed request will not get better by retrying");
    }
}

#[tokio::test]
async fn text_past_ten_parts_is_truncated_and_still_sent() {
    let sim = sim().await;
    let sent = gateway(&sim).send(&sms("+380671234567", &"x".repeat(1531), "t-10")).await.unwrap();
    assert!(sent.status.is_queued(), "8x8 documents truncation, not refusal: {sent:?}");
    let recorded = &sim.messages()[0];
    assert_eq!(recorded.text, "x".repeat(1530), "what goes out is cut to 10 parts of 153 septets");
    assert_eq!(recorded.sms_count, 10, "and billed as 10 parts");
}

#[tokio::test]
async fn references_at_their_length_limits_pass_and_one_more_is_refused() {
    let sim = sim().await;
    let gw = gateway(&sim);
    let at_limit = gw.send(&sms("+380671234567", "hi", &"c".repeat(350))).await.unwrap();
    assert_eq!(at_limit.client_message_id.map(|c| c.len()), Some(350), "350 characters are allowed (since Dec 2025)");

    let batch = |id: &str| BatchRequest {
        messages: vec![sms("+380671234567", "hi", "b-1")],
        client_batch_id: Some(id.into()),
        include_messages_in_response: true,
    };
    let ok = gw.send_batch(batch(&"b".repeat(20))).await.unwrap();
    assert_eq!(ok.client_batch_id.map(|c| c.len()), Some(20), "a 20-character clientBatchId is echoed");
    let err = gw.send_batch(batch(&"b".repeat(21))).await.unwrap_err();
    assert!(
        matches!(err, Error::Rejected { status: 400, code: 3014, ref message } if message == "Too long ClientBatchId"),
        "a 21-character clientBatchId refuses the whole batch: {err:?}"
    );
    assert_eq!(sim.messages().len(), 2, "the refused batch queued nothing");
}

#[tokio::test]
async fn batches_need_one_to_ten_thousand_messages() {
    let sim = sim().await;
    let gw = gateway(&sim);
    let batch = |n: usize| BatchRequest {
        messages: (0..n).map(|i| sms("+380671234567", "hi", &format!("n-{i}"))).collect(),
        client_batch_id: None,
        include_messages_in_response: false,
    };
    let empty = gw.send_batch(batch(0)).await.unwrap_err();
    assert!(
        matches!(empty, Error::Rejected { status: 400, code: 3012, ref message } if message == "Missed messages"),
        "an empty batch: {empty:?}"
    );
    let over = gw.send_batch(batch(10_001)).await.unwrap_err();
    assert!(
        matches!(over, Error::Rejected { status: 400, code: 1100, ref message } if message == "Bulk limit reached"),
        "10,001 messages: {over:?}"
    );
    assert!(sim.messages().is_empty(), "neither queued anything");
    let full = gw.send_batch(batch(10_000)).await.unwrap();
    assert_eq!((full.accepted_count, full.rejected_count), (10_000, 0), "10,000 is the documented maximum");
    assert!(full.messages.is_none(), "without includeMessagesInResponse, messages is null");
}

#[tokio::test]
async fn rejected_batch_items_carry_8x8s_documented_words() {
    let sim = sim().await;
    let batch = BatchRequest {
        messages: vec![
            sms("+380671234567", &"x".repeat(153 * 256), "w-text"),
            SmsRequest { source: Some("Seventeen-chars-1".into()), ..sms("+380671234567", "hi", "w-source") },
            sms("+380671234567", "hi", "w-ok"),
        ],
        client_batch_id: None,
        include_messages_in_response: true,
    };
    let answer = gateway(&sim).send_batch(batch).await.unwrap();
    assert_eq!((answer.accepted_count, answer.rejected_count), (1, 2), "{answer:?}");
    let items = answer.messages.unwrap();
    let status = |id: &str| items.iter().find(|m| m.client_message_id.as_deref() == Some(id)).unwrap().status.clone();
    assert_eq!(status("w-text").code, "REJECTED");
    assert_eq!(status("w-text").description, "Invalid Text value. Reached max allowed limit", "text beyond any limit");
    assert_eq!(status("w-source").code, "REJECTED");
    assert_eq!(status("w-source").description, "Invalid Source value. Reached max allowed limit", "a 17-char source");
    assert!(status("w-ok").is_queued(), "the good item still goes");
}

#[tokio::test]
async fn a_subaccount_id_outside_8x8s_pattern_is_refused_after_the_key() {
    let sim = sim().await;
    let err = gateway_as(&sim, "a b", SANDBOX_KEY).send(&sms("+380671234567", "x", "p")).await.unwrap_err();
    assert!(matches!(err, Error::Rejected { status: 400, code: 1000, .. }), "a space is not allowed: {err:?}");
    let bad_key = gateway_as(&sim, "ab", "wrong").send(&sms("+380671234567", "x", "p")).await.unwrap_err();
    assert!(matches!(bad_key, Error::BadKey { code: 1200, .. }), "the key is checked first: {bad_key:?}");
}

#[tokio::test]
async fn status_of_an_unknown_or_malformed_umid_is_a_typed_rejection() {
    let sim = sim_with(SimConfig {
        accounts: vec![(SANDBOX_SUBACCOUNT.into(), SANDBOX_KEY.into()), ("second_hq".into(), SANDBOX_KEY.into())],
        ..SimConfig::default()
    })
    .await;
    // One details request per second per subaccount: each look uses its own.
    let unknown = gateway(&sim).message_status("0f6b7c1e-0000-4000-8000-000000000000").await.unwrap_err();
    match &unknown {
        Error::Rejected { status: 404, code: 1300, message } => assert_eq!(message, "Message not found."),
        other => panic!("an unknown umid is 404/1300, got {other:?}"),
    }
    assert!(!unknown.is_transient() && !unknown.rejects_account(), "not found is neither a retry nor a bad key");
    let malformed = gateway_as(&sim, "second_hq", SANDBOX_KEY).message_status("not-a-umid").await.unwrap_err();
    match &malformed {
        Error::Rejected { status: 400, code: 1000, message } => assert_eq!(message, "Invalid umid."),
        other => panic!("a malformed umid is 400/1000, got {other:?}"),
    }
}

#[tokio::test]
async fn server_errors_and_429_are_transient_with_retry_after() {
    // Not 8x8's usual 1 s, which the gateway also assumes when the header is
    // missing: only reading the header can give 3.
    let sim = sim_with(SimConfig { retry_after_secs: 3, ..SimConfig::default() }).await;
    sim.queue_faults([Fault::Unavailable, Fault::TooManyRequests]);
    let gw = gateway(&sim);
    let server = gw.send(&sms("+380671234567", "x", "a")).await.unwrap_err();
    assert!(matches!(server, Error::Server { status: 503, .. }), "503: {server:?}");
    assert!(server.is_transient(), "a 503 proves nothing was queued: it can be retried");
    let limited = gw.send(&sms("+380671234567", "x", "a")).await.unwrap_err();
    match limited {
        Error::RateLimited { retry_after, ref message } => {
            assert_eq!(retry_after, Duration::from_secs(3), "Retry-After is read from the header");
            assert_eq!(message, "Quota exceeded. Please try again in 3 second(s).", "8x8's words");
        }
        other => panic!("expected a rate limit, got {other:?}"),
    }
    assert!(sim.messages().is_empty(), "neither fault accepted the message");
    gw.send(&sms("+380671234567", "x", "a")).await.expect("after the faults, sending works again");
}

#[tokio::test]
async fn every_5xx_but_503_to_a_send_is_ambiguous_whether_or_not_8x8_took_it() {
    let sim = sim().await;
    let cases = [
        (Fault::ServerError, 0, "8x8's 500 before accepting"),
        (Fault::AcceptedThen500, 1, "8x8's 500 after accepting"),
        (Fault::AcceptedThen502, 1, "a proxy's 502 after 8x8 accepted"),
        (Fault::AcceptedThen504, 1, "a proxy's 504 after 8x8 accepted"),
    ];
    for (i, (fault, accepted, what)) in cases.into_iter().enumerate() {
        sim.queue_faults([fault]);
        let before = sim.messages().len();
        let err = gateway(&sim).send(&sms("+380671234567", "x", &format!("amb-{i}"))).await.unwrap_err();
        assert!(matches!(err, Error::Ambiguous { .. }), "{what}: ambiguous, got {err:?}");
        assert!(!err.is_transient(), "{what}: never retried blindly");
        assert_eq!(sim.messages().len() - before, accepted, "{what}: the simulator did what it says");
    }
    // A batch meets the same rule.
    sim.queue_faults([Fault::AcceptedThen502]);
    let batch = BatchRequest {
        messages: vec![sms("+380671234567", "x", "b-1"), sms("+380671234568", "y", "b-2")],
        client_batch_id: None,
        include_messages_in_response: true,
    };
    let err = gateway(&sim).send_batch(batch).await.unwrap_err();
    assert!(matches!(err, Error::Ambiguous { .. }), "a batch answered 502: ambiguous, got {err:?}");
    // A request that sends nothing is safe to repeat: a 5xx there is a server error.
    sim.queue_faults([Fault::AcceptedThen502]);
    let umid = sim.messages()[0].umid.clone();
    assert!(gateway(&sim).message_status(&umid).await.is_ok(), "faults only strike send requests");
}

#[tokio::test]
async fn rate_limit_answers_429_past_the_configured_rate() {
    let sim = sim_with(SimConfig { rate_limit: Some(2), ..SimConfig::default() }).await;
    let gw = gateway(&sim);
    // Sent together, the three land in one one-second window.
    let requests: Vec<_> = (0..3).map(|i| sms("+380671234567", "x", &format!("l-{i}"))).collect();
    let (a, b, c) = tokio::join!(gw.send(&requests[0]), gw.send(&requests[1]), gw.send(&requests[2]));
    let outcomes = [a, b, c];
    let limited = outcomes.iter().filter(|o| matches!(o, Err(Error::RateLimited { .. }))).count();
    assert_eq!(limited, 1, "the third request in the window is refused: {outcomes:?}");
    let waits: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            Err(Error::RateLimited { retry_after, .. }) => Some(*retry_after),
            _ => None,
        })
        .collect();
    assert_eq!(waits, [Duration::from_secs(1)], "8x8's example wait by default");
    assert_eq!(sim.messages().len(), 2, "limited requests queued nothing");
}

#[tokio::test]
async fn timeout_after_the_request_reached_8x8_is_ambiguous() {
    let sim = sim().await;
    sim.queue_faults([Fault::Timeout]);
    let endpoint = sendrow_core::gateway::Endpoint {
        base_url: sim.base_url(),
        subaccount_id: SANDBOX_SUBACCOUNT.into(),
        api_key: sendrow_core::secrets::Secret::new(SANDBOX_KEY),
    };
    let gw = sendrow_core::gateway::Gateway::with_timeout(endpoint, Duration::from_millis(300));
    let err = gw.send(&sms("+380671234567", "x", "t-1")).await.unwrap_err();
    assert!(matches!(err, Error::Ambiguous { .. }), "a timeout after sending is ambiguous: {err:?}");
    assert!(!err.is_transient(), "an ambiguous send must never be retried automatically");
    assert_eq!(sim.messages().len(), 1, "and rightly so: 8x8 did accept the message");
}

#[tokio::test]
async fn connection_cut_mid_answer_is_ambiguous() {
    let sim = sim().await;
    sim.queue_faults([Fault::Reset]);
    let err = gateway(&sim).send(&sms("+380671234567", "x", "r-1")).await.unwrap_err();
    assert!(matches!(err, Error::Ambiguous { .. }), "a reset after sending is ambiguous: {err:?}");
    assert_eq!(sim.messages().len(), 1, "8x8 accepted it before the connection broke");
}

#[tokio::test]
async fn nobody_listening_is_unreachable_and_safe_to_retry() {
    let sim = sim().await;
    let url = sim.base_url();
    sim.stop().await;
    let endpoint = sendrow_core::gateway::Endpoint {
        base_url: url,
        subaccount_id: SANDBOX_SUBACCOUNT.into(),
        api_key: sendrow_core::secrets::Secret::new(SANDBOX_KEY),
    };
    let err = sendrow_core::gateway::Gateway::new(endpoint).send(&sms("+380671234567", "x", "u")).await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "connection refused is unreachable: {err:?}");
    assert!(err.is_transient(), "nothing left the machine, so a retry is safe");
}

#[tokio::test]
async fn delivery_state_starts_queued_and_ends_delivered_or_undelivered() {
    // States advance with time since acceptance; a step of an hour pins a
    // message at `queued`, a step of zero takes it straight to its end state,
    // so nothing here depends on how fast the machine is.
    let slow = sim_with(SimConfig { delivery_step: Duration::from_secs(3600), ..SimConfig::default() }).await;
    let pending = gateway(&slow).send(&sms("+380671234567", "x", "d-0")).await.unwrap();
    let fresh = gateway(&slow).message_status(&pending.umid).await.unwrap();
    assert_eq!(fresh.status.state, "queued", "a message starts queued");
    // The simulator's clock, not the wall clock, moves it on; a new hour is
    // also a new window for the one-look-per-second limit.
    slow.advance_clock(Duration::from_secs(3600));
    let handed_over = gateway(&slow).message_status(&pending.umid).await.unwrap();
    assert_eq!(handed_over.status.state, "sent", "after one step it is with the operator");
    assert_eq!(handed_over.status.detail.as_deref(), Some("delivered_to_operator"), "with 8x8's detail");
    slow.advance_clock(Duration::from_secs(3600));
    let done = gateway(&slow).message_status(&pending.umid).await.unwrap();
    assert_eq!(done.status.state, "delivered", "after two steps it has arrived");

    let fast = sim_with(SimConfig {
        accounts: vec![(SANDBOX_SUBACCOUNT.into(), SANDBOX_KEY.into()), ("second_hq".into(), SANDBOX_KEY.into())],
        undeliverable: vec!["+380500000000".into()],
        delivery_step: Duration::ZERO,
        ..SimConfig::default()
    })
    .await;
    let good = gateway(&fast).send(&sms("+380671234567", "x", "d-1")).await.unwrap();
    let delivered = gateway(&fast).message_status(&good.umid).await.unwrap();
    assert_eq!(delivered.status.state, "delivered", "a good number ends delivered");
    assert_eq!(delivered.status.detail.as_deref(), Some("delivered_to_recipient"), "with 8x8's detail");

    // The details endpoint allows one request per second per subaccount, so
    // this look uses another subaccount of the same key.
    let second = gateway_as(&fast, "second_hq", SANDBOX_KEY);
    let bad = second.send(&sms("+380500000000", "x", "d-2")).await.unwrap();
    let undelivered = second.message_status(&bad.umid).await.unwrap();
    assert_eq!(undelivered.status.state, "undelivered", "configured numbers end undelivered");
    assert_eq!(undelivered.status.error_code, Some(1), "with a carrier error code");
}

#[tokio::test]
async fn details_are_limited_to_one_request_per_second() {
    let sim = sim().await;
    let sent = gateway(&sim).send(&sms("+380671234567", "x", "q-1")).await.unwrap();
    let gw = gateway(&sim);
    // Two looks sent together land in the same one-second window.
    let (a, b) = tokio::join!(gw.message_status(&sent.umid), gw.message_status(&sent.umid));
    let limited = [&a, &b].iter().filter(|r| matches!(r, Err(Error::RateLimited { .. }))).count();
    assert_eq!(limited, 1, "exactly one of two simultaneous looks is refused with 429: {a:?} / {b:?}");
}

#[tokio::test]
async fn probe_checks_credentials_without_sending() {
    let sim = sim_with(SimConfig {
        accounts: vec![
            (SANDBOX_SUBACCOUNT.into(), SANDBOX_KEY.into()),
            ("a_hq".into(), "a-key".into()),
            ("b_hq".into(), "b-key".into()),
        ],
        ..SimConfig::default()
    })
    .await;
    assert_eq!(gateway(&sim).probe().await.unwrap(), Probe::Accepted, "good credentials pass");
    let refused = gateway_as(&sim, "a_hq", "nope").probe().await.unwrap();
    assert!(matches!(refused, Probe::Refused { code: 1200, .. }), "a bad key is refused with 1200: {refused:?}");
    let foreign = gateway_as(&sim, "b_hq", "a-key").probe().await.unwrap();
    assert!(matches!(foreign, Probe::Refused { code: 1001, .. }), "someone else's subaccount is 1001: {foreign:?}");
    // The details endpoint is limited to 1/s; a second probe right away is
    // answered 429 and must wait and ask again rather than fail.
    assert_eq!(gateway(&sim).probe().await.unwrap(), Probe::Accepted, "a rate-limited probe waits and retries");
    assert!(sim.messages().is_empty(), "verifying never sends an SMS");
}

#[tokio::test]
async fn a_download_links_permission_never_shows_in_an_error() {
    let sim = sim().await;
    // Nothing listens on port 1: the request fails before it leaves.
    let err = gateway(&sim).download_export("http://127.0.0.1:1/exports/x.csv?sig=top-secret-token").await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("/exports/x.csv"), "the error names the file: {text}");
    assert!(!text.contains("top-secret-token"), "but not the link's signature: {text}");
}
