//! The simulator's reading of a send request, with 8x8's codes and words for
//! every refusal. 8x8 does not document which code each failure gets, so that
//! mapping is inferred from its code list ("API error codes", see
//! `docs/8x8.md`); the batch descriptions are the documented strings.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::compose::Country;
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
    /// When 8x8 is to send it; `None` for now (a time already past included).
    pub scheduled: Option<DateTime<Utc>>,
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
/// 8x8 sends at most 10 parts and truncates longer text (S3).
const MAX_PARTS: usize = 10;
/// INFERRED: 8x8 documents the truncation above and also a "Reached max
/// allowed limit" rejection without saying where that limit is. The simulator
/// draws it at 255 parts, the most a concatenated SMS can number (its part
/// counter is one byte): past that, truncating is no longer a plausible reading.
const MAX_INPUT_PARTS: usize = 255;
/// `scheduled` may be at most this far ahead (S3).
const MAX_SCHEDULE_AHEAD: chrono::Duration = chrono::Duration::days(7);

const BAD_MSISDN: Rejection =
    Rejection { code: 1002, description: "Invalid MSISDN format (not E.164 international number)" };
const NO_TEXT: Rejection = Rejection { code: 1004, description: "Text value is missing" };
const LONG_TEXT: Rejection = Rejection { code: 1004, description: "Invalid Text value. Reached max allowed limit" };
const LONG_SOURCE: Rejection = Rejection { code: 1005, description: "Invalid Source value. Reached max allowed limit" };
const BAD_ENCODING: Rejection = Rejection { code: 1003, description: "Invalid Encoding" };
// INFERRED: the doc's table offers 1000 or 3009 for a long clientMessageId.
const LONG_CLIENT_ID: Rejection =
    Rejection { code: 1000, description: "Invalid ClientMessageId value. Reached max allowed limit" };
// The words are the documented batch description; 1006 is S6's "Invalid Expiry".
const EXPIRED: Rejection = Rejection { code: 1006, description: "Expiry time already reached" };
// INFERRED codes for these three (S6 names them; §4.3 maps bad expiry → 1006,
// bad scheduled → 1011); the words are S6's names of the codes.
const BAD_EXPIRY: Rejection = Rejection { code: 1006, description: "Invalid Expiry" };
const BAD_SCHEDULE: Rejection = Rejection { code: 1011, description: "Invalid Schedule Time" };
// INFERRED: S6 has both 1009 "Invalid Country Code" and 3018 "Invalid Country
// code"; a value breaking the schema (maxLength 2) reads as request validation.
const BAD_COUNTRY: Rejection = Rejection { code: 3018, description: "Invalid Country code" };

fn str_field<'a>(v: &'a Value, template: Option<&'a Value>, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).or_else(|| template.and_then(|t| t.get(key)).and_then(Value::as_str))
}

/// `^\+{0,1}[1-9]{1}[0-9]{6,14}$`, the pattern of 8x8's OpenAPI file.
fn is_msisdn(d: &str) -> bool {
    let digits = d.strip_prefix('+').unwrap_or(d);
    (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

/// `destination` as 8x8 reads it: E.164 (`+` optional), or a national number
/// when `country` says whose (§3.1). Returns the digits 8x8 echoes, no `+`.
fn destination_digits(destination: &str, country: Option<Country>) -> Option<String> {
    // With a country, a number without `+` is read as that country's first:
    // 8x8's own example sends "2025550308" with "US", which alone would pass
    // the E.164 pattern as an Egyptian number.
    let national = country.filter(|_| !destination.starts_with('+')).and_then(|country| {
        // `Country::parse` checked the metadata exists, which phonenumber needs.
        let parsed = phonenumber::parse(Some(country.as_str().parse().ok()?), destination).ok()?;
        Some(parsed.format().mode(phonenumber::Mode::E164).to_string())
    });
    let number = national.as_deref().unwrap_or(destination);
    is_msisdn(number).then(|| number.trim_start_matches('+').to_owned())
}

/// An ISO 8601 date-time with its offset, as 8x8 wants `scheduled` and `expiry`.
fn date_time(v: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v.trim()).ok().map(|t| t.with_timezone(&Utc))
}

/// The longest start of `text` that fits `parts` parts, cut between characters.
fn truncate_to_parts(text: &str, encoding: Encoding, max_parts: usize) -> &str {
    let capacity = match encoding {
        Encoding::Gsm7 => 153 * max_parts,
        Encoding::Ucs2 => 67 * max_parts,
    };
    let mut used = 0;
    for (i, c) in text.char_indices() {
        used += gsm7::units(c.encode_utf8(&mut [0; 4]), encoding);
        if used > capacity {
            return &text[..i];
        }
    }
    text
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
#[cfg(test)]
pub fn message(v: &Value, template: Option<&Value>) -> Result<Accepted, Rejection> {
    message_at(v, template, Utc::now())
}

/// [`message`] on the simulator's clock (`scheduled` is judged against it).
pub fn message_at(v: &Value, template: Option<&Value>, now: DateTime<Utc>) -> Result<Accepted, Rejection> {
    judge(v, template, now).map_err(|(r, _)| r)
}

fn judge(v: &Value, template: Option<&Value>, now: DateTime<Utc>) -> Result<Accepted, (Rejection, Echo)> {
    let destination = v.get("destination").and_then(Value::as_str).unwrap_or("").trim().to_owned();
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
        destination: destination.trim_start_matches('+').to_owned(),
        client_message_id: client_message_id.clone(),
        encoding: *encoding.as_ref().unwrap_or(&Encoding::Gsm7),
    };
    let reject = |r: Rejection| Err((r, echo.clone()));
    // `country` is per message only: the template has no such field (§3.2).
    let country = match v.get("country") {
        None | Some(Value::Null) => None,
        Some(c) => match c.as_str().filter(|c| c.chars().count() == 2).map(Country::parse) {
            Some(Ok(country)) => Some(country),
            _ => return reject(BAD_COUNTRY),
        },
    };
    let Some(destination) = destination_digits(&destination, country) else {
        return reject(BAD_MSISDN);
    };
    let encoding = match encoding {
        Ok(e) => e,
        Err(r) => return reject(r),
    };
    if text.is_empty() {
        return reject(NO_TEXT);
    }
    let needed = parts(text, encoding);
    if needed > MAX_INPUT_PARTS {
        return reject(LONG_TEXT);
    }
    let text = truncate_to_parts(text, encoding, MAX_PARTS);
    let sms_count = needed.min(MAX_PARTS);
    // INFERRED: a `scheduled` time already past means "send now"; a later one
    // is held until then (and can be cancelled meanwhile).
    let scheduled = match str_field(v, template, "scheduled") {
        None => None,
        Some(s) => match date_time(s) {
            Some(t) if t <= now + MAX_SCHEDULE_AHEAD => Some(t),
            _ => return reject(BAD_SCHEDULE),
        },
    };
    if let Some(e) = str_field(v, template, "expiry") {
        match date_time(e) {
            None => return reject(BAD_EXPIRY),
            Some(t) if t <= now => return reject(EXPIRED),
            // INFERRED: an expiry before the scheduled time could never be met.
            Some(t) if scheduled.is_some_and(|s| t <= s) => return reject(BAD_EXPIRY),
            Some(_) => {}
        }
    }
    let source = str_field(v, template, "source").map(str::to_owned);
    if source.as_deref().is_some_and(|s| s.chars().count() > 16) {
        return reject(LONG_SOURCE);
    }
    if client_message_id.as_deref().is_some_and(|c| c.chars().count() > 350) {
        return reject(LONG_CLIENT_ID);
    }
    Ok(Accepted {
        destination,
        text: text.to_owned(),
        source,
        client_message_id,
        encoding,
        sms_count: sms_count as u32,
        scheduled: scheduled.filter(|t| *t > now),
    })
}

/// Judges a batch: envelope errors refuse the whole request (400); item
/// errors come back as REJECTED items of a 200.
#[cfg(test)]
pub fn batch(v: &Value) -> Result<Batch, Rejection> {
    batch_at(v, Utc::now())
}

/// [`batch`] on the simulator's clock.
pub fn batch_at(v: &Value, now: DateTime<Utc>) -> Result<Batch, Rejection> {
    let client_batch_id = v.get("clientBatchId").and_then(Value::as_str).map(str::to_owned);
    if client_batch_id.as_deref().is_some_and(|c| c.chars().count() > 20) {
        // S6's code for exactly this; which code 8x8 really sends is not documented.
        return Err(Rejection { code: 3014, description: "Too long ClientBatchId" });
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
        // INFERRED: S6 offers 1100 "Bulk limit reached" or 3013 "Too much messages".
        return Err(Rejection { code: 1100, description: "Bulk limit reached" });
    }
    let include_messages = v.get("includeMessagesInResponse").and_then(Value::as_bool).unwrap_or(false);
    let items = items
        .iter()
        .map(|item| {
            let mut judged = judge(item, template, now);
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

    #[test]
    fn long_text_is_truncated_to_ten_parts_and_still_sent() {
        let gsm = message(&json!({"destination": "+380671234567", "text": "a".repeat(1600)}), None).unwrap();
        assert_eq!((gsm.text.len(), gsm.sms_count), (1530, 10), "10 parts of 153 septets are kept");
        // "€" takes two septets: the cut must not split it.
        let text = format!("{}€€", "a".repeat(1529));
        let gsm = message(&json!({"destination": "+380671234567", "text": text}), None).unwrap();
        assert_eq!(gsm.text, "a".repeat(1529), "a two-septet character that does not fit is dropped whole");
        let emoji = format!("{}😀", "я".repeat(669));
        let ucs = message(&json!({"destination": "+380671234567", "text": emoji}), None).unwrap();
        assert_eq!(ucs.text, "я".repeat(669), "a surrogate pair that does not fit is dropped whole");
        let huge = message(&json!({"destination": "+380671234567", "text": "a".repeat(153 * 256)}), None);
        assert_eq!(huge.unwrap_err().description, "Invalid Text value. Reached max allowed limit");
    }

    #[test]
    fn national_numbers_need_a_known_two_letter_country() {
        let us = message(&json!({"destination": "2025550308", "country": "US", "text": "hi"}), None).unwrap();
        assert_eq!(us.destination, "12025550308", "a national number with its country becomes E.164");
        let ua = message(&json!({"destination": "067 123 45 67", "country": "ua", "text": "hi"}), None).unwrap();
        assert_eq!(ua.destination, "380671234567", "national formatting and lower case are understood");
        let without = message(&json!({"destination": "0671234567", "text": "hi"}), None).unwrap_err();
        assert_eq!(without.code, 1002, "without a country a national number is not E.164");
        for bad in [json!("USA"), json!("XX"), json!(1)] {
            let err = message(&json!({"destination": "2025550308", "country": bad, "text": "hi"}), None).unwrap_err();
            assert_eq!(err.code, 3018, "{bad} is not a country");
        }
    }

    #[test]
    fn scheduled_and_expiry_follow_the_documented_rules() {
        let now = Utc::now();
        let at = |d: chrono::Duration| (now + d).to_rfc3339();
        let send = |extra: serde_json::Value| {
            let mut m = json!({"destination": "+380671234567", "text": "hi"});
            m.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            judge(&m, None, now).map_err(|(r, _)| (r.code, r.description))
        };
        assert!(send(json!({"scheduled": at(chrono::Duration::days(6))})).is_ok(), "6 days ahead is allowed");
        assert_eq!(send(json!({"scheduled": at(chrono::Duration::days(8))})).unwrap_err().0, 1011, "8 days is not");
        assert_eq!(send(json!({"scheduled": "tomorrow"})).unwrap_err().0, 1011, "not a date-time");
        assert_eq!(
            send(json!({"expiry": at(-chrono::Duration::minutes(1))})).unwrap_err(),
            (1006, "Expiry time already reached"),
            "a past expiry"
        );
        assert_eq!(send(json!({"expiry": "2026-13-01T00:00:00Z"})).unwrap_err().0, 1006, "not a date-time");
        let late = json!({"scheduled": at(chrono::Duration::days(2)), "expiry": at(chrono::Duration::days(1))});
        assert_eq!(send(late).unwrap_err().0, 1006, "an expiry before the scheduled time can never be met");
        let template = json!({"expiry": at(-chrono::Duration::minutes(1))});
        let item = judge(&json!({"destination": "+380671234567", "text": "hi"}), Some(&template), now);
        assert!(item.is_err(), "the template's expiry applies to its messages");
    }
}
