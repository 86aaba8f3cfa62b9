//! Composing the SMS for a row: the message template, the recipient's phone
//! number, the sender ID, and what the text costs as SMS.
//!
//! Everything here is pure: no I/O, no SQL, no clock (the time is a
//! parameter), so the preview, the test send and the run all compose a row the
//! same way through [`compose_row`]. Deliberately not here: the opt-out list
//! and quiet hours (they need the store and the clock; the caller turns a
//! `ready` row into `opted_out`), and sending.

pub mod phone;
pub mod segments;
pub mod sender;
pub mod template;

use chrono::NaiveDateTime;
use serde::Serialize;

pub use phone::{normalize, Country, PhoneIssue, E164};
pub use segments::{measure, Measure, MAX_PARTS};
pub use sender::{Error as SenderError, SenderId};
pub use template::{find_column, DateFormat, Error as TemplateError, Template, TimeSlots};

/// Whether a row's SMS can go, as the preview and the history show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It can be sent.
    Ready,
    /// The phone cell holds something that is not a usable number.
    InvalidPhone,
    /// The phone cell is empty.
    MissingPhone,
    /// The number is on the opt-out list (decided by the caller, which has the store).
    OptedOut,
    /// The text needs more than [`MAX_PARTS`] parts.
    TooLong,
    /// The text rendered empty for this row (its fields were empty cells):
    /// 8x8 requires a text, and a blank SMS would puzzle the customer.
    EmptyText,
    /// A cell the message uses is still empty: the row is probably still
    /// being typed, so it is read again next time instead of sent half-done.
    Incomplete,
}

impl Status {
    /// The name used in `--json` output and by the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ready => "ready",
            Status::InvalidPhone => "invalid_phone",
            Status::MissingPhone => "missing_phone",
            Status::OptedOut => "opted_out",
            Status::TooLong => "too_long",
            Status::EmptyText => "empty_text",
            Status::Incomplete => "incomplete",
        }
    }
}

impl PhoneIssue {
    /// The status of a row with this problem.
    pub fn status(&self) -> Status {
        match self {
            PhoneIssue::Missing => Status::MissingPhone,
            PhoneIssue::Invalid { .. } => Status::InvalidPhone,
        }
    }
}

/// One row's SMS, whether or not it can be sent. The text and its measure are
/// there even when the phone is unusable, so the preview can show both
/// problems' context.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Composed {
    /// The recipient in E.164, or `None` when the cell gave no usable number.
    pub phone: Option<E164>,
    /// The rendered text.
    pub text: String,
    /// Encoding, length, parts and the characters that forced UCS-2,
    /// flattened into the object as the preview's `--json` shows them.
    #[serde(flatten)]
    pub measure: Measure,
    /// `ready`, or the first problem: the phone, then an empty text, then length.
    pub status: Status,
    /// Why the row is not ready, naming the value and what to do.
    pub reason: Option<String>,
    /// Where `{{$time}}` and friends are in `text`, to show the send time
    /// when it goes out later (quiet hours, a held flood, a retry).
    #[serde(skip)]
    pub time_slots: TimeSlots,
}

/// Composes a row's SMS: renders `template` with the row's cells (`row` looks
/// a cell up by header) at local time `now`, normalises the `phone` cell with
/// the connection's default `country`, and measures the text.
pub fn compose_row<'r>(
    template: &Template,
    row: impl Fn(&str) -> Option<&'r str>,
    phone: Option<&str>,
    country: Country,
    now: NaiveDateTime,
    date_format: DateFormat,
) -> Composed {
    let (text, time_slots) = template.render_with_slots(&row, now, date_format);
    let measure = measure(&text);
    let (phone, phone_issue) = match normalize(phone.unwrap_or_default(), country) {
        Ok(p) => (Some(p), None),
        Err(issue) => (None, Some(issue)),
    };
    let empty: Vec<&str> =
        template.columns().into_iter().filter(|c| row(c).is_none_or(|v| v.trim().is_empty())).collect();
    let (status, reason) = if let Some(issue) = phone_issue {
        (issue.status(), Some(issue.to_string()))
    } else if !empty.is_empty() {
        let names = empty.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ");
        (
            Status::Incomplete,
            Some(format!("{names} still empty: the row is sent once every cell the message uses is filled in")),
        )
    } else if text.trim().is_empty() {
        (
            Status::EmptyText,
            Some("the message is empty for this row: fill the cells it uses, or add text to the template".to_owned()),
        )
    } else if measure.is_too_long() {
        (Status::TooLong, Some(too_long_reason(&measure)))
    } else {
        (Status::Ready, None)
    };
    Composed { phone, text, measure, status, reason, time_slots }
}

fn too_long_reason(m: &Measure) -> String {
    let mut reason = format!("the message needs {} parts and 8x8 sends at most {MAX_PARTS}: shorten it", m.segments);
    if !m.ucs2_culprits.is_empty() {
        let shown: String = m.ucs2_culprits.iter().take(8).map(|c| format!(" \"{c}\"")).collect();
        reason.push_str(&format!(
            "; it is sent as UCS-2 (67 characters a part instead of 153) because of{shown}{}",
            if m.ucs2_culprits.len() > 8 { " …" } else { "" }
        ));
    }
    reason
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::NaiveDate;

    use super::*;
    use crate::gsm7::Encoding;

    fn now() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2025, 3, 7).and_then(|d| d.and_hms_opt(9, 5, 0)).expect("a real date")
    }

    /// The row composes with `status`, a reason containing `reason` (or none),
    /// and `phone`.
    #[track_caller]
    fn check(
        template: &str,
        cells: &[(&str, &str)],
        phone: Option<&str>,
        want: (Status, Option<&str>, Option<&str>),
        why: &str,
    ) -> Composed {
        let (status, phone_want, reason) = want;
        let cells: HashMap<&str, &str> = cells.iter().copied().collect();
        let t = Template::parse(template).expect("a valid template");
        let ua = Country::parse("UA").expect("known");
        let c = compose_row(&t, |h| cells.get(h).copied(), phone, ua, now(), DateFormat::DayMonthYear);
        assert_eq!(c.status, status, "status: {why} ({:?})", c.reason);
        assert_eq!(c.phone.as_ref().map(E164::as_str), phone_want, "phone: {why}");
        match (reason, &c.reason) {
            (None, None) => {}
            (Some(part), Some(r)) => assert!(r.contains(part), "reason should say {part:?}: {why}: {r}"),
            (want, got) => panic!("reason: {why}: wanted {want:?}, got {got:?}"),
        }
        c
    }

    #[test]
    fn a_row_becomes_a_ready_sms() {
        let c = check(
            "{{Name}}, замовлення {{Order ID}} готове ({{$date}} {{$time}}).",
            &[("Name", "Олена"), ("Order ID", "17")],
            Some("067 123 45 67"),
            (Status::Ready, Some("+380671234567"), None),
            "a good row",
        );
        assert_eq!(c.text, "Олена, замовлення 17 готове (07.03.2025 09:05).", "rendered with the date format");
        assert_eq!((c.measure.encoding, c.measure.segments), (Encoding::Ucs2, 1), "Cyrillic, one part");
    }

    #[test]
    fn each_problem_has_its_status_and_reason() {
        let order = [("Name", "Ann")];
        check("Hi {{Name}}", &order, None, (Status::MissingPhone, None, Some("empty")), "no phone cell");
        check("Hi {{Name}}", &order, Some(" "), (Status::MissingPhone, None, Some("empty")), "a blank phone cell");
        check(
            "Hi {{Name}}",
            &order,
            Some("3.8067E+11"),
            (Status::InvalidPhone, None, Some("lost digits; format the column as text")),
            "a rounded number",
        );
        check(
            "{{Name}}",
            &[("Name", " ")],
            Some("+380671234567"),
            (Status::Incomplete, Some("+380671234567"), Some("\"Name\" still empty")),
            "a text of only an empty cell: the row is not typed yet",
        );
        check(
            "{{Name}}, order {{Order}}: {{Amount}}",
            &[("Name", "Olena"), ("Order", "5"), ("Amount", "")],
            Some("+380671234567"),
            (Status::Incomplete, Some("+380671234567"), Some("\"Amount\" still empty")),
            "a row typed left to right, the amount not yet there, is not sent as \"Olena, order 5: \"",
        );
        let long = "a".repeat(1531);
        check(
            "{{Text}}",
            &[("Text", &long)],
            Some("+380671234567"),
            (Status::TooLong, Some("+380671234567"), Some("needs 11 parts and 8x8 sends at most 10")),
            "a GSM-7 text of 11 parts",
        );
        let long = format!("’{}", "a".repeat(670));
        let c = check(
            "{{Text}}",
            &[("Text", &long)],
            Some("+380671234567"),
            (
                Status::TooLong,
                Some("+380671234567"),
                Some("UCS-2 (67 characters a part instead of 153) because of \"’\""),
            ),
            "a curly apostrophe pushes a 10-part text to 11 UCS-2 parts",
        );
        assert_eq!(c.measure.ucs2_culprits, vec!['’'], "the culprit is reported");
    }

    #[test]
    fn the_phone_problem_comes_first() {
        let long = "a".repeat(2000);
        check(
            "{{Text}}",
            &[("Text", &long)],
            Some("12"),
            (Status::InvalidPhone, None, Some("\"12\" is too short")),
            "an unusable number matters more than the length",
        );
    }

    #[test]
    fn statuses_serialize_as_the_preview_names_them() {
        let all = [
            (Status::Ready, "ready"),
            (Status::InvalidPhone, "invalid_phone"),
            (Status::MissingPhone, "missing_phone"),
            (Status::OptedOut, "opted_out"),
            (Status::TooLong, "too_long"),
            (Status::EmptyText, "empty_text"),
            (Status::Incomplete, "incomplete"),
        ];
        for (status, name) in all {
            assert_eq!(status.as_str(), name, "as_str is the documented name");
            assert_eq!(serde_json::to_value(status).ok(), Some(serde_json::json!(name)), "JSON is the same name");
        }
    }

    #[test]
    fn composed_json_has_the_preview_fields() {
        let t = Template::parse("Hi €").expect("valid");
        let c = compose_row(
            &t,
            |_| None,
            Some("+380671234567"),
            Country::parse("UA").expect("known"),
            now(),
            DateFormat::Iso,
        );
        let json = serde_json::to_value(&c).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "phone": "+380671234567",
                "text": "Hi €",
                "encoding": "GSM7",
                "units": 5,
                "segments": 1,
                "ucs2_culprits": [],
                "status": "ready",
                "reason": null,
            }),
            "flat, with the names docs/cli.md gives the preview"
        );
    }
}
