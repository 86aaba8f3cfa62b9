//! Composing the SMS for a row: the message template, the recipient's phone
//! number, the sender ID, and what the text costs as SMS.
//!
//! Everything here is pure: no I/O, no SQL, no clock (the time is a
//! parameter), so the preview, the test send and the run all compose a row the
//! same way. Deliberately not here: the opt-out list and quiet hours (they need
//! the store and the clock), and sending.

pub mod phone;
pub mod segments;
pub mod sender;
pub mod template;

pub use phone::{normalize, Country, PhoneIssue, E164};
pub use segments::{measure, Measure};
pub use sender::{Error as SenderError, SenderId};
pub use template::{DateFormat, Error as TemplateError, Template};
