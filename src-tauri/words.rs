//! The few words the Rust side shows by itself — the tray menu, its tooltip
//! and desktop notifications — in the UI language (`core.language()`),
//! English when none was chosen. The window's own strings live in `ui/i18n/`.

/// The UI languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Uk,
}

impl Lang {
    /// The saved UI language; English when none was saved or it is unknown.
    pub fn of(saved: Option<&str>) -> Lang {
        match saved {
            Some(l) if l.starts_with("uk") => Lang::Uk,
            _ => Lang::En,
        }
    }

    /// The Ukrainian word for `n` things: `forms` are the one / few / many
    /// forms ("рядок", "рядки", "рядків"), as `Intl.PluralRules("uk")` picks them.
    fn uk_count(n: usize, forms: [&'static str; 3]) -> &'static str {
        match (n % 10, n % 100) {
            (1, r) if r != 11 => forms[0],
            (2..=4, r) if !(12..=14).contains(&r) => forms[1],
            _ => forms[2],
        }
    }

    fn pick(self, en: &'static str, uk: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Uk => uk,
        }
    }

    /// Words the engine wrote as a code: the English sentence, or the
    /// window's Ukrainian for that code (`ui/i18n/uk.json`, `error.<code>`)
    /// with its parameters, so a notification says what the card says.
    pub fn coded(self, coded: &sendrow_core::code::Coded) -> String {
        use sendrow_core::code::Code;
        let words = match self {
            Lang::Uk if coded.code != Code::Text => uk_error(coded.code),
            _ => None,
        };
        let Some(mut text) = words else { return coded.text.clone() };
        for (name, value) in &coded.params {
            let shown = match value {
                serde_json::Value::String(s) => format!("«{s}»"),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), |s| format!("«{s}»")))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            text = text.replace(&format!("{{{name}}}"), &shown);
        }
        text
    }

    /// A failed run's words by its code (no parameters), else the English.
    pub fn run_error(self, code: Option<sendrow_core::code::Code>, english: &str) -> String {
        match (self, code.and_then(uk_error)) {
            (Lang::Uk, Some(words)) => words,
            _ => english.to_owned(),
        }
    }

    pub fn open(self) -> &'static str {
        self.pick("Open Sendrow", "Відкрити Sendrow")
    }

    pub fn pause_all(self) -> &'static str {
        self.pick("Pause all", "Призупинити автооновлення")
    }

    pub fn resume_all(self) -> &'static str {
        self.pick("Resume all", "Відновити автооновлення")
    }

    pub fn run_all(self) -> &'static str {
        self.pick("Run all now", "Запустити всі з'єднання зараз")
    }

    pub fn quit(self) -> &'static str {
        self.pick("Quit", "Вийти")
    }

    /// The status line before anything ran.
    pub fn idle(self) -> &'static str {
        self.pick("No runs yet", "Ще нічого не запускалося")
    }

    /// The status line when the schedule runs in another process.
    pub fn elsewhere(self) -> &'static str {
        self.pick(
            "The schedule runs in another Sendrow (sendrow daemon)",
            "Розклад виконує інший Sendrow (sendrow daemon)",
        )
    }

    pub fn all_paused(self) -> &'static str {
        self.pick("Scheduled runs are paused", "Автооновлення призупинено")
    }

    /// "Orders: sent 3 at 14:05".
    pub fn last_run(self, name: &str, sent: usize, at: &str) -> String {
        match self {
            Lang::En => format!("{name}: sent {sent} at {at}"),
            Lang::Uk => format!("{name}: надіслано {sent} о {at}"),
        }
    }

    pub fn run_failed_short(self, name: &str) -> String {
        match self {
            Lang::En => format!("{name}: the last run failed"),
            Lang::Uk => format!("З'єднання «{name}»: останній запуск не вдався"),
        }
    }

    pub fn paused_short(self, name: &str) -> String {
        match self {
            Lang::En => format!("{name} is paused"),
            Lang::Uk => format!("З'єднання «{name}» призупинено"),
        }
    }

    /// A notification's title and body for a run that failed.
    pub fn run_failed(self, name: &str, message: &str) -> (String, String) {
        match self {
            Lang::En => (format!("{name}: the run failed"), message.to_owned()),
            Lang::Uk => (format!("З'єднання «{name}»: запуск не вдався"), message.to_owned()),
        }
    }

    /// The source shrank sharply: nothing is sent until someone looks.
    pub fn warning(self, name: &str) -> (String, String) {
        match self {
            Lang::En => (
                format!("{name}: the sheet has far fewer rows"),
                "Nothing is sent until you look: put the rows back, or tell Sendrow it was on purpose.".to_owned(),
            ),
            Lang::Uk => (
                format!("{name}: у таблиці набагато менше рядків"),
                "Нічого не надсилається, доки ви не перевірите: поверніть рядки або підтвердьте, що це навмисно."
                    .to_owned(),
            ),
        }
    }

    /// A connection paused by itself (an account 8x8 refuses, repeated failures).
    pub fn paused(self, name: &str, reason: &str) -> (String, String) {
        let reason = reason.trim_end_matches('.');
        match self {
            Lang::En => (format!("{name} is paused"), format!("{reason}. Open Sendrow to fix it and resume.")),
            Lang::Uk => (
                format!("З'єднання «{name}» призупинено"),
                format!("{reason}. Відкрийте Sendrow, щоб виправити й відновити його."),
            ),
        }
    }

    /// Rows the flood guard holds for a person.
    pub fn held(self, name: &str, held: usize) -> (String, String) {
        match self {
            Lang::En => (
                format!("{name}: {held} {} for you", if held == 1 { "row waits" } else { "rows wait" }),
                "More new rows than usual at once: open Sendrow to send them or skip them.".to_owned(),
            ),
            Lang::Uk => (
                format!(
                    "{name}: {held} {}",
                    Lang::uk_count(held, ["рядок чекає на вас", "рядки чекають на вас", "рядків чекають на вас"])
                ),
                "Нових рядків більше, ніж зазвичай: відкрийте Sendrow, щоб надіслати чи пропустити їх.".to_owned(),
            ),
        }
    }

    /// Messages that may or may not have gone out.
    pub fn unknown(self, name: &str, unknown: usize) -> (String, String) {
        match self {
            Lang::En => (
                format!("{name}: {unknown} {} a look", if unknown == 1 { "message needs" } else { "messages need" }),
                "8x8 did not answer in time, so they may or may not have gone out. Review them in Sendrow.".to_owned(),
            ),
            Lang::Uk => (
                format!(
                    "{name}: {unknown} {} перевірити",
                    Lang::uk_count(unknown, ["повідомлення треба", "повідомлення треба", "повідомлень треба"])
                ),
                "8x8 не відповів вчасно, тож невідомо, чи їх надіслано. Перегляньте їх у Sendrow.".to_owned(),
            ),
        }
    }
}

/// The window's Ukrainian words for `code`, when it has any.
fn uk_error(code: sendrow_core::code::Code) -> Option<String> {
    static UK: std::sync::OnceLock<serde_json::Map<String, serde_json::Value>> = std::sync::OnceLock::new();
    let uk = UK.get_or_init(|| serde_json::from_str(include_str!("../ui/i18n/uk.json")).unwrap_or_default());
    uk.get(&format!("error.{}", code.as_str())).and_then(|v| v.as_str()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_saved_language_picks_the_words_and_english_is_the_default() {
        assert_eq!(Lang::of(Some("uk")), Lang::Uk);
        assert_eq!(Lang::of(Some("en")), Lang::En);
        assert_eq!(Lang::of(None), Lang::En, "no choice yet: English");
        assert_eq!(Lang::of(Some("de")), Lang::En, "an unknown language falls back to English");
        assert_eq!(Lang::Uk.pause_all(), "Призупинити автооновлення");
        assert_eq!(Lang::En.last_run("Orders", 3, "14:05"), "Orders: sent 3 at 14:05");
    }

    #[test]
    fn counted_words_take_the_ukrainian_plural_forms() {
        let held = |n| Lang::Uk.held("Замовлення", n).0;
        assert_eq!(held(1), "Замовлення: 1 рядок чекає на вас");
        assert_eq!(held(3), "Замовлення: 3 рядки чекають на вас");
        assert_eq!(held(12), "Замовлення: 12 рядків чекають на вас", "12 to 14 take the many form");
        assert_eq!(held(21), "Замовлення: 21 рядок чекає на вас");
        assert_eq!(held(25), "Замовлення: 25 рядків чекають на вас");
        assert_eq!(Lang::En.held("Orders", 1).0, "Orders: 1 row waits for you");
        assert_eq!(Lang::En.unknown("Orders", 2).0, "Orders: 2 messages need a look");
    }

    #[test]
    fn a_coded_reason_is_worded_in_ukrainian_and_kept_in_english() {
        use sendrow_core::code::{Code, Coded};
        let refused = Coded::new(
            Code::PausedAccountRefused,
            "8x8 refused the account \"main\": Request was not authenticated properly",
        )
        .param("account", "main")
        .param("reason", "Request was not authenticated properly");
        assert_eq!(Lang::En.coded(&refused), refused.text, "English is the engine's sentence");
        let uk = Lang::Uk.coded(&refused);
        assert!(uk.contains("«main»") && !uk.contains("{account}"), "Ukrainian words with the parameters: {uk:?}");
        assert!(!uk.starts_with("8x8 refused"), "not the English: {uk:?}");
        let (_, body) = Lang::Uk.paused("Замовлення", &uk);
        assert!(!body.contains(".."), "one full stop: {body:?}");
        let old = Coded::new(Code::Text, "paused after 5 failed runs");
        assert_eq!(Lang::Uk.coded(&old), "paused after 5 failed runs", "text of an older Sendrow stays as it was");
        assert_eq!(
            Lang::Uk.run_error(Some(Code::GatewayUnreachable), "8x8 could not be reached"),
            uk_error(Code::GatewayUnreachable).unwrap()
        );
    }
}
