//! The closed set of error codes the window branches on and translates
//! (`ui/i18n/*.json` has words under `error.<code>` for each): every code
//! `Error::code()` gives, the app's own (scheduler, dialogs, sign-in), and the
//! few the window makes up itself. Serialised in snake_case, as `as_str` says.

use serde::{Deserialize, Serialize};

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident => $text:literal,)*) => {
        /// A stable error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            /// Every code, for tests that each has words in every language.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as the window and `--json` see it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }
        }
    };
}

codes! {
    /// Free-form input a person typed that cannot be used.
    InvalidInput => "invalid_input",
    /// No account by that name.
    NoSuchAccount => "no_such_account",
    /// An account name that is taken.
    DuplicateAccount => "duplicate_account",
    /// A connection name that is taken.
    DuplicateConnection => "duplicate_connection",
    /// Removing a connection would lose messages not settled yet.
    Unsettled => "unsettled",
    /// The data folder cannot be used.
    DataDir => "data_dir",
    /// The database was written by a newer Sendrow.
    DatabaseTooNew => "database_too_new",
    /// The database failed.
    Database => "database",
    /// Another process read the same rows at the same time.
    Busy => "busy",
    /// The keychain is locked or missing.
    KeychainUnavailable => "keychain_unavailable",
    /// A key the keychain should have is gone.
    KeychainEntryMissing => "keychain_entry_missing",
    /// 8x8 refused the subaccount ID or key.
    GatewayAuth => "gateway_auth",
    /// 8x8 could not be reached.
    GatewayUnreachable => "gateway_unreachable",
    /// 8x8 reported another problem.
    Gateway => "gateway",
    /// The source could not be read.
    Source => "source",
    /// The source has headers but no rows yet.
    SourceNoRows => "source_no_rows",
    /// The source was caught half-saved.
    SourceBusy => "source_busy",
    /// Not a Google sheet's address.
    GoogleBadAddress => "google_bad_address",
    /// No sheet at that address.
    GoogleNotFound => "google_not_found",
    /// No such tab in the sheet.
    GoogleNoSuchTab => "google_no_such_tab",
    /// The sheet is not shared with the chosen way in.
    GooglePermission => "google_permission",
    /// Google refused the API key.
    GoogleApiKey => "google_api_key",
    /// The Google sign-in must be done again.
    GoogleReconnect => "google_reconnect",
    /// No usable OAuth client is set up.
    GoogleOauthClient => "google_oauth_client",
    /// The sign-in did not finish.
    GoogleSignIn => "google_sign_in",
    /// Google refused the service account key.
    GoogleServiceAccount => "google_service_account",
    /// Reading a tab by its title needs the Sheets API.
    GoogleTabsNeedApi => "google_tabs_need_api",
    /// Google could not be reached or is busy.
    GoogleUnreachable => "google_unreachable",
    /// Google reported another problem.
    Google => "google",
    /// The app: the built-in practice 8x8 did not start.
    Sandbox => "sandbox",
    /// The app: another Sendrow runs the schedule of this data folder.
    SchedulerElsewhere => "scheduler_elsewhere",
    /// The app: start at login could not be changed.
    Autostart => "autostart",
    /// The app: Google did not come back from the browser in time.
    GoogleSignInTimeout => "google_sign_in_timeout",
    /// The app: a newer sign-in replaced this one.
    GoogleSignInCancelled => "google_sign_in_cancelled",
    /// The app: the system file dialog could not open.
    FileDialog => "file_dialog",
    /// The app: the log folder could not be opened.
    LogFolder => "log_folder",
    /// The window: a sheet read by sign-in before signing in.
    GoogleSignInFirst => "google_sign_in_first",
    /// The window: the chosen account is inactive.
    AccountInactive => "account_inactive",
    /// The window: an answer that was not one of these.
    Unknown => "unknown",
    /// Paused: columns the connection uses are gone (`missing`, `columns`, `fingerprint`).
    PausedColumnsMissing => "paused_columns_missing",
    /// Paused: the connection now tells rows apart another way (`was`, `now`).
    PausedKeyChanged => "paused_key_changed",
    /// Paused: 8x8 refused the account mid-run (`account`, `reason` in 8x8's words).
    PausedAccountRefused => "paused_account_refused",
    /// Paused after failed runs in a row (`runs`, `last` in English).
    PausedAfterFailures => "paused_after_failures",
    /// Warning: the source has far fewer rows than before (`now`, `before`).
    SourceShrunk => "source_shrunk",
    /// Note: rows skipped for an empty or repeated ID (`column`, `no_id`, `repeated`).
    RowsSkippedForId => "rows_skipped_for_id",
    /// A message's reason: held, more new rows at once than the flood limit (`rows`, `limit`).
    HeldFlood => "held_flood",
    /// A message's reason: held, maybe the row first seen on `line` edited.
    HeldDoubtful => "held_doubtful",
    /// A message's reason: waiting for the quiet hours to end.
    QuietHours => "quiet_hours",
    /// A message's reason: skipped, the phone cell is not a usable number.
    RowInvalidPhone => "row_invalid_phone",
    /// A message's reason: skipped, no phone.
    RowMissingPhone => "row_missing_phone",
    /// A message's reason: skipped, the number is on the opt-out list.
    RowOptedOut => "row_opted_out",
    /// A message's reason: skipped, the text needs `parts` parts, more than `max`.
    RowTooLong => "row_too_long",
    /// A message's reason: skipped, the text came out empty.
    RowEmptyText => "row_empty_text",
    /// A message's reason: skipped, a cell the message uses is empty.
    RowIncomplete => "row_incomplete",
    /// A message's reason: the number was opted out while it waited.
    OptedOutWhileWaiting => "opted_out_while_waiting",
    /// A message's reason: a person skipped it after the flood guard held it.
    SkippedByPerson => "skipped_by_person",
    /// A message's reason: a person marked it as sent.
    MarkedSentByPerson => "marked_sent_by_person",
    /// A message's reason: Sendrow stopped while sending it.
    StoppedWhileSending => "stopped_while_sending",
    /// A message's reason: 8x8's answer was lost, so it may have gone out.
    SendUnknown => "send_unknown",
    /// A message's reason: it could not be sent this time; the next run tries again.
    SendFailed => "send_failed",
    /// A reminder's reason: its date cell cannot be read.
    ReminderNoDate => "reminder_no_date",
    /// A reminder's reason: the time in the row has passed.
    ReminderPassed => "reminder_passed",
    /// A reminder's reason: due `at`, more than 7 days ahead, handed to 8x8 on `hand_over`.
    ReminderHandOver => "reminder_hand_over",
    /// A reminder called off: its row is no longer in the source.
    ReminderRowGone => "reminder_row_gone",
    /// A reminder called off: its row no longer meets the conditions.
    ReminderRowNoMatch => "reminder_row_no_match",
    /// A reminder called off: the date moved; a new one goes `at`.
    ReminderMoved => "reminder_moved",
    /// A reminder called off: the date was removed or cannot be read.
    ReminderDateGone => "reminder_date_gone",
    /// A reminder 8x8 had already sent when Sendrow asked to cancel it.
    ReminderAlreadySent => "reminder_already_sent",
    /// Text written by an older Sendrow, before it kept codes: shown as it is.
    Text => "text",
}

/// Words for people, as a code and named parameters the window puts in its
/// own language (`ui/i18n/*.json`, `error.<code>`), and the English sentence
/// the command line and the log show. Kept in the store as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coded {
    /// What it is.
    pub code: Code,
    /// Its particulars, by name.
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
    /// The English sentence.
    pub text: String,
}

impl Coded {
    /// `code` with the English `text` and no parameters yet.
    pub fn new(code: Code, text: impl Into<String>) -> Coded {
        Coded { code, params: serde_json::Map::new(), text: text.into() }
    }

    /// Adds the parameter `name`.
    pub fn param(mut self, name: &str, value: impl Serialize) -> Coded {
        self.params.insert(name.to_owned(), serde_json::to_value(value).unwrap_or_default());
        self
    }

    /// As kept in a text column.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| self.text.clone())
    }

    /// A kept value: JSON from [`Coded::to_stored`], or the plain English an
    /// older Sendrow kept ([`Code::Text`]).
    pub fn from_stored(stored: &str) -> Coded {
        serde_json::from_str(stored).unwrap_or_else(|_| Coded::new(Code::Text, stored))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_coded_message_round_trips_through_the_store_and_reads_old_text() {
        let coded = Coded::new(Code::SourceShrunk, "the source now has 0 row(s)").param("now", 0).param("before", 40);
        let back = Coded::from_stored(&coded.to_stored());
        assert_eq!(back, coded, "kept as JSON and read back whole");
        let old = Coded::from_stored("paused after 5 failed runs");
        assert_eq!((old.code, old.text.as_str()), (Code::Text, "paused after 5 failed runs"), "an older value");
    }

    #[test]
    fn every_code_serialises_as_its_name_and_only_once() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::json!(code.as_str()), "{code:?}");
            assert_eq!(serde_json::from_value::<Code>(serde_json::json!(code.as_str())).unwrap(), *code);
            assert!(seen.insert(code.as_str()), "{code:?} is listed twice");
        }
    }
}
