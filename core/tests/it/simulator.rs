//! The simulator against 8x8's documented API (`docs/8x8.md`), over raw HTTP: the request forms
//! and answers Sendrow's own client never produces (malformed JSON, the
//! `destinations` batch form, `country`, `scheduled`/`expiry`, wrong methods)
//! but which a faithful 8x8 must still get right, and the test hook listing
//! what was accepted.

use chrono::{DateTime, Duration as Span, Utc};
use sendrow_core::sim::{Simulator, SANDBOX_KEY, SANDBOX_SUBACCOUNT};
use serde_json::{json, Value};

use crate::sim;

fn messages_url(sim: &Simulator, tail: &str) -> String {
    format!("{}/api/v1/subaccounts/{SANDBOX_SUBACCOUNT}/messages{tail}", sim.base_url())
}

/// POSTs `body` as the sandbox account; returns the status and the JSON answer.
async fn post(sim: &Simulator, tail: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(messages_url(sim, tail))
        .bearer_auth(SANDBOX_KEY)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.expect("every answer, errors included, is JSON"))
}

async fn post_json(sim: &Simulator, tail: &str, body: &Value) -> (u16, Value) {
    post(sim, tail, body.to_string()).await
}

/// The error envelope of §4.3, with a fresh errorId and a timestamp.
fn assert_envelope(body: &Value, code: i64, message: &str) {
    assert_eq!(body["code"], code, "code: {body}");
    assert_eq!(body["message"], message, "message: {body}");
    let id = body["errorId"].as_str().unwrap_or_default();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "errorId is a GUID: {body}");
    let stamp = body["timestamp"].as_str().unwrap_or_default();
    assert!(DateTime::parse_from_rfc3339(stamp).is_ok(), "timestamp is ISO 8601: {body}");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_400_1000() {
    let sim = sim().await;
    for (tail, body) in [("", "{\"destination\": "), ("/batch", "not json"), ("", "[1, 2]")] {
        let (status, answer) = post(&sim, tail, body).await;
        assert_eq!(status, 400, "{body:?} to {tail:?}");
        assert_envelope(&answer, 1000, "Invalid parameter: the request body is not a JSON object");
    }
    assert!(sim.messages().is_empty(), "nothing was accepted");
}

#[tokio::test]
async fn a_trailing_slash_reaches_the_single_send() {
    let sim = sim().await;
    let (status, answer) = post_json(&sim, "/", &json!({"destination": "+6512345678", "text": "Hello"})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"]["code"], "QUEUED", "{answer}");
    assert_eq!(answer["destination"], "6512345678", "echoed without +");
    assert_eq!(answer["clientMessageId"], Value::Null, "an explicit null without a reference");
    assert_eq!(sim.messages().len(), 1, "it was recorded like any other send");
}

#[tokio::test]
async fn the_destinations_form_sends_the_template_to_each_number() {
    let sim = sim().await;
    let body = json!({
        "destinations": ["+380671234567", "447700900123", "12"],
        "template": {"text": "Sale today", "source": "MyShop"},
        "includeMessagesInResponse": true,
    });
    let (status, answer) = post_json(&sim, "/batch", &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["acceptedCount"].as_u64(), answer["rejectedCount"].as_u64()), (Some(2), Some(1)), "{answer}");
    let items = answer["messages"].as_array().unwrap();
    assert_eq!(items[2]["status"]["code"], "REJECTED", "the bad number alone is rejected");
    let mut got: Vec<_> = sim.messages().into_iter().map(|m| (m.destination, m.text, m.source)).collect();
    got.sort();
    let shop = Some("MyShop".to_owned());
    assert_eq!(
        got,
        [
            ("380671234567".to_owned(), "Sale today".to_owned(), shop.clone()),
            ("447700900123".to_owned(), "Sale today".to_owned(), shop)
        ],
        "each number got the template's text and source"
    );
}

#[tokio::test]
async fn messages_win_over_destinations() {
    let sim = sim().await;
    let body = json!({
        "messages": [{"destination": "+380671234567", "text": "from messages"}],
        "destinations": ["+447700900123", "+447700900124"],
        "template": {"text": "from template"},
    });
    let (status, answer) = post_json(&sim, "/batch", &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["acceptedCount"], 1, "only `messages` counted: {answer}");
    assert_eq!(answer["messages"], Value::Null, "no per-message array unless asked for");
    let sent = sim.messages();
    assert_eq!(sent.len(), 1, "destinations were discarded");
    assert_eq!((sent[0].destination.as_str(), sent[0].text.as_str()), ("380671234567", "from messages"));

    let (status, answer) = post_json(&sim, "/batch", &json!({"messages": [], "destinations": ["+447700900123"]})).await;
    assert_eq!(status, 400, "present but empty `messages` still wins: {answer}");
    assert_envelope(&answer, 3012, "Missed messages");
}

#[tokio::test]
async fn a_national_number_is_read_with_its_country() {
    let sim = sim().await;
    // The doc's own example: "2025550308" with "US".
    let (status, answer) =
        post_json(&sim, "", &json!({"destination": "2025550308", "country": "US", "text": "hi"})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["destination"], "12025550308", "echoed in E.164 without +");
    for country in ["USA", "ZZ"] {
        let (status, answer) =
            post_json(&sim, "", &json!({"destination": "2025550308", "country": country, "text": "hi"})).await;
        assert_eq!(status, 400, "{country}: {answer}");
        assert_envelope(&answer, 3018, "Invalid Country code");
    }
}

#[tokio::test]
async fn scheduled_and_expiry_are_checked_as_documented() {
    let sim = sim().await;
    let at = |offset: Span| (Utc::now() + offset).to_rfc3339();
    let message = |extra: Value| {
        let mut m = json!({"destination": "+380671234567", "text": "hi"});
        m.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        m
    };

    let (status, answer) = post_json(&sim, "", &message(json!({"expiry": at(-Span::minutes(5))}))).await;
    assert_eq!(status, 400, "{answer}");
    assert_envelope(&answer, 1006, "Expiry time already reached");
    let (status, answer) = post_json(&sim, "", &message(json!({"scheduled": at(Span::days(8))}))).await;
    assert_eq!(status, 400, "more than 7 days ahead: {answer}");
    assert_envelope(&answer, 1011, "Invalid Schedule Time");
    let (status, answer) = post_json(&sim, "", &message(json!({"expiry": "next week"}))).await;
    assert_eq!(status, 400, "{answer}");
    assert_envelope(&answer, 1006, "Invalid Expiry");
    let ok = message(json!({"scheduled": at(Span::days(6)), "expiry": at(Span::days(7))}));
    assert_eq!(post_json(&sim, "", &ok).await.0, 200, "within the documented window");

    // "A batch whose expiry is already past comes back REJECTED".
    let batch = json!({
        "messages": [{"destination": "+380671234567"}, {"destination": "+447700900123"}],
        "template": {"text": "hi", "expiry": at(-Span::minutes(5))},
        "includeMessagesInResponse": true,
    });
    let (status, answer) = post_json(&sim, "/batch", &batch).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["acceptedCount"].as_u64(), answer["rejectedCount"].as_u64()), (Some(0), Some(2)), "{answer}");
    for item in answer["messages"].as_array().unwrap() {
        assert_eq!(item["status"], json!({"code": "REJECTED", "description": "Expiry time already reached"}));
    }
    assert_eq!(sim.messages().len(), 1, "only the in-window message was accepted");
}

#[tokio::test]
async fn a_wrong_method_on_a_known_path_gets_the_error_envelope() {
    let sim = sim().await;
    let client = reqwest::Client::new();
    for (method, tail) in [(reqwest::Method::GET, "/batch"), (reqwest::Method::PUT, ""), (reqwest::Method::GET, "/")] {
        let response = client.request(method.clone(), messages_url(&sim, tail)).bearer_auth(SANDBOX_KEY).send().await;
        let response = response.unwrap();
        assert_eq!(response.status().as_u16(), 405, "{method} {tail:?}");
        let allow = response.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert!(allow.contains("POST"), "Allow names the method that works: {allow:?}");
        let body: Value = response.json().await.expect("a JSON body, not axum's empty one");
        assert_envelope(&body, 2001, "Function not implemented for this HTTP method");
    }
}

#[tokio::test]
async fn the_test_hook_lists_what_8x8_accepted_value_for_value() {
    let sim = sim().await;
    let before = Utc::now();
    let body = json!({
        "destination": "+380671234567",
        "text": "Ваше замовлення {42} готове",
        "source": "MyShop",
        "clientMessageId": "hook-1",
    });
    let (status, sent) = post_json(&sim, "", &body).await;
    assert_eq!(status, 200, "{sent}");
    let after = Utc::now();

    let listed: Vec<Value> =
        reqwest::get(format!("{}/_sim/messages", sim.base_url())).await.unwrap().json().await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let m = &listed[0];
    assert_eq!(m["umid"], sent["umid"], "the umid 8x8 answered");
    assert_eq!(m["destination"], "380671234567", "digits as 8x8 echoes them, no +");
    assert_eq!(m["text"], "Ваше замовлення {42} готове", "the text as sent");
    assert_eq!(m["source"], "MyShop", "the sender ID");
    assert_eq!(m["clientMessageId"], "hook-1", "our reference");
    assert_eq!(m["encoding"], "UCS2", "Cyrillic needs UCS-2");
    let received = m["received_at"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    let received = received.unwrap_or_else(|| panic!("received_at is RFC 3339: {m}")).with_timezone(&Utc);
    assert!(before <= received && received <= after, "received while the request was in flight: {received}");

    let cleared = reqwest::Client::new().delete(format!("{}/_sim/messages", sim.base_url())).send().await.unwrap();
    assert_eq!(cleared.status().as_u16(), 204);
    assert!(sim.messages().is_empty(), "DELETE clears the list");
}

#[tokio::test]
async fn the_apps_sandbox_serves_no_test_hooks() {
    let sim = crate::sim_with(sendrow_core::sim::SimConfig::sandbox()).await;
    let (status, sent) = post_json(&sim, "", &json!({"destination": "+380671234567", "text": "hi"})).await;
    assert_eq!(status, 200, "8x8's API still works: {sent}");
    let client = reqwest::Client::new();
    let listed = client.get(format!("{}/_sim/messages", sim.base_url())).send().await.unwrap();
    assert_eq!(listed.status().as_u16(), 404, "no other program can read the sandbox's messages");
    let cleared = client.delete(format!("{}/_sim/messages", sim.base_url())).send().await.unwrap();
    assert_eq!(cleared.status().as_u16(), 404, "nor clear them");
    let faults = client.post(format!("{}/_sim/faults", sim.base_url())).json(&json!({"next": ["500"]})).send().await;
    assert_eq!(faults.unwrap().status().as_u16(), 404, "nor break the next send");
    assert_eq!(sim.messages().len(), 1, "the message is still there");
}
