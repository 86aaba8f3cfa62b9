//! The simulator's reading of a send request, with 8x8's codes and words for
//! every refusal. The mapping of failures to codes is INFERRED where
//! `8x8-sms-api.md` §4.3 says it is not documented; the batch descriptions are
//! the documented strings.

use serde_json::Value;

use crate::gsm7::{self, Encoding};

/// A message 8x8 would queue.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub destination: String,
    pub text: String,
    pub source: Option<String>,
    pub client_message_id: Option<String>,
    pub encoding: Encoding,
    pub sms_count: u32,
}

/// Why a message or request was refused: 8x8's code and its words.
#[derive(Debug, Clone, Copy)]
pub struct Rejection {
    pub code: i64,
    pub description: &'static str,
}

/// What a rejected batch item still echoes back.
#[derive(Debug, Clone)]
pub struct Echo {
    pub destination: String,
    pub client_message_id: Option<String>,
    pub encoding: Encoding,
}

/// A batch whose envelope was valid; items are judged one by one.
pub struct Batch {
    pub client_batch_id: Option<String>,
    pub include_messages: bool,
    pub items: Vec<Result<Accepted, (Rejection, Echo)>>,
}

const MAX_BATCH: usize = 10_000;
const MAX_PARTS: usize = 10;

const BAD_MSISDN: Rejection =
    Rejection { code: 1002, description: "Invalid MSISDN format (not E.164 international number)" };
const NO_TEXT: Rejection = Rejection { code: 1004, description: "Text value is missing" };
const LONG_TEXT: Rejection = Rejection { code: 1004, description: "Invalid Text value. Reached max allowed limit" };
const LONG_SOURCE: Rejection = Rejection { code: 1005, description: "Invalid Source value. Reached max allowed limit" };
const BAD_ENCODING: Rejection = Rejection { code: 1003, description: "Invalid Encoding" };
const LONG_CLIENT_ID: Rejection =
    Rejection { code: 1000, description: "Invalid ClientMessageId value. Reached max allowed limit" };

fn str_field<'a>(v: &'a Value, template: Option<&'a Value>, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).or_else(|| template.and_then(|t| t.get(key)).and_then(Value::as_str))
}

/// `^\+{0,1}[1-9]{1}[0-9]{6,14}$`, the pattern of 8x8's OpenAPI file.
fn is_msisdn(d: &str) -> bool {
    let digits = d.strip_prefix('+').unwrap_or(d);
    (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

/// Parts 8x8 bills: 160/153 septets for GSM7, 70/67 UTF-16 units for UCS2.
pub fn parts(text: &str, encoding: Encoding) -> usize {
    let units = gsm7::units(text, encoding);
    let (single, multi) = match encoding {
        Encoding::Gsm7 => (160, 153),
        Encoding::Ucs2 => (70, 67),
    };
    if units <= single {
        1
    } else {
        units.div_ceil(multi)
    }
}

/// Judges one message, with the batch template's fields filling its gaps.
pub fn message(v: &Value, template: Option<&Value>) -> Result<Accepted, Rejection> {
    judge(v, template).map_err(|(r, _)| r)
}

fn judge(v: &Value, template: Option<&Value>) -> Result<Accepted, (Rejection, Echo)> {
    let destination = v.get("destination").and_then(Value::as_str).unwrap_or("").trim().to_owned();
    let echo_destination = destination.trim_start_matches('+').to_owned();
    let client_message_id = v.get("clientMessageId").and_then(Value::as_str).map(str::to_owned);
    let text = str_field(v, template, "text").unwrap_or("");
    let requested = str_field(v, template, "encoding").unwrap_or("AUTO");
    // 8x8 looks like a .NET backend and takes enums in any case (INFERRED).
    let encoding = match requested.to_ascii_uppercase().as_str() {
        "AUTO" => Ok(gsm7::detect(text)),
        "GSM7" => Ok(Encoding::Gsm7),
        "UCS2" => Ok(Encoding::Ucs2),
        _ => Err(BAD_ENCODING),
    };
    let echo = Echo {
        destination: echo_destination.clone(),
        client_message_id: client_message_id.clone(),
        encoding: *encoding.as_ref().unwrap_or(&Encoding::Gsm7),
    };
    let reject = |r: Rejection| Err((r, echo.clone()));
    if !is_msisdn(&destination) {
        return reject(BAD_MSISDN);
    }
    let encoding = match encoding {
        Ok(e) => e,
        Err(r) => return reject(r),
    };
    if text.is_empty() {
        return reject(NO_TEXT);
    }
    // INFERRED: 8x8 says longer text is truncated, yet documents a "max allowed
    // limit" rejection; the simulator rejects past 10 parts so a client that
    // lets such text through is caught in tests.
    let sms_count = parts(text, encoding);
    if sms_count > MAX_PARTS {
        return reject(LONG_TEXT);
    }
    let source = str_field(v, template, "source").map(str::to_owned);
    if source.as_deref().is_some_and(|s| s.chars().count() > 16) {
        return reject(LONG_SOURCE);
    }
    if client_message_id.as_deref().is_some_and(|c| c.chars().count() > 350) {
        return reject(LONG_CLIENT_ID);
    }
    Ok(Accepted {
        destination: echo_destination,
        text: text.to_owned(),
        source,
        client_message_id,
        encoding,
        sms_count: sms_count as u32,
    })
}

/// Judges a batch: envelope errors refuse the whole request (400); item
/// errors come back as REJECTED items of a 200.
pub fn batch(v: &Value) -> Result<Batch, Rejection> {
    let client_batch_id = v.get("clientBatchId").and_then(Value::as_str).map(str::to_owned);
    if client_batch_id.as_deref().is_some_and(|c| c.chars().count() > 20) {
        return Err(Rejection { code: 1000, description: "Invalid ClientBatchId value. Reached max allowed limit" });
    }
    let template = v.get("template").filter(|t| t.is_object());
    // `messages` wins over `destinations` when both are present (8x8's rule).
    let items: Vec<Value> = match (v.get("messages"), v.get("destinations")) {
        (Some(Value::Array(m)), _) => m.clone(),
        (_, Some(Value::Array(d))) => d.iter().map(|dest| serde_json::json!({"destination": dest})).collect(),
        _ => Vec::new(),
    };
    if items.is_empty() {
        return Err(Rejection { code: 3012, description: "Missed messages" });
    }
    if items.len() > MAX_BATCH {
        return Err(Rejection { code: 1100, description: "Bulk limit reached" });
    }
    let include_messages = v.get("includeMessagesInResponse").and_then(Value::as_bool).unwrap_or(false);
    let items = items
        .iter()
        .map(|item| {
            let mut judged = judge(item, template);
            // INFERRED from 8x8's example: without its own reference, an item of
            // a batch with a clientBatchId gets "{clientBatchId}/{destination}".
            if let (Some(batch_ref), Ok(a)) = (&client_batch_id, &mut judged) {
                if a.client_message_id.is_none() {
                    a.client_message_id = Some(format!("{batch_ref}/{}", a.destination));
                }
            }
            judged
        })
        .collect();
    Ok(Batch { client_batch_id, include_messages, items })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn msisdn_follows_the_openapi_pattern() {
        assert!(is_msisdn("+380671234567") && is_msisdn("6512345678"), "E.164 with or without +");
        assert!(!is_msisdn("0671234567"), "a national number starting with 0 is not E.164");
        assert!(!is_msisdn("+12345"), "too short");
        assert!(!is_msisdn("+3806712345678901"), "too long");
    }

    #[test]
    fn parts_use_the_multipart_sizes() {
        assert_eq!(parts(&"a".repeat(160), Encoding::Gsm7), 1, "160 septets fit one part");
        assert_eq!(parts(&"a".repeat(161), Encoding::Gsm7), 2, "161 need two parts of 153");
        assert_eq!(parts(&"я".repeat(70), Encoding::Ucs2), 1, "70 units fit one part");
        assert_eq!(parts(&"я".repeat(135), Encoding::Ucs2), 3, "135 units need three parts of 67");
    }

    #[test]
    fn template_fills_gaps_and_items_are_judged_alone() {
        let b = batch(&json!({
            "clientBatchId": "B1",
            "template": {"text": "hi", "source": "Shop"},
            "messages": [{"destination": "+380671234567"}, {"destination": "12"}],
        }))
        .unwrap();
        let first = b.items[0].as_ref().expect("template supplies the text");
        assert_eq!(first.source.as_deref(), Some("Shop"), "template source used");
        assert_eq!(first.client_message_id.as_deref(), Some("B1/380671234567"), "default reference");
        assert!(b.items[1].is_err(), "a bad number rejects only its own item");
    }
}
