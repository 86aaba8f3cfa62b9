//! Which rows and when (product.md §8–9) through `Core`: conditions on cells
//! and reminders from a date in the row, against a real CSV file, the real
//! SQLite store and the loopback simulator, with injected clocks.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeZone};
use sendrow_core::run::RunOptions;
use sendrow_core::send::RetryPolicy;
use sendrow_core::sim::Simulator;
use sendrow_core::store::EntryStatus;
use sendrow_core::Core;

use crate::sim;

struct Clinic {
    dir: tempfile::TempDir,
    core: Core,
    sim: Simulator,
    header: &'static str,
}

impl Clinic {
    async fn open(header: &'static str) -> Clinic {
        let sim = sim().await;
        let dir = tempfile::tempdir().unwrap();
        let secrets = std::sync::Arc::new(sendrow_core::secrets::MemorySecrets::new());
        let core = Core::open(&dir.path().join("data"), secrets).unwrap();
        crate::add_main_account(&core, &sim).await;
        Clinic { dir, core, sim, header }
    }

    fn csv(&self) -> PathBuf {
        self.dir.path().join("rows.csv")
    }

    fn write(&self, rows: &[&str]) {
        let mut text = format!("{}\n", self.header);
        for r in rows {
            text.push_str(r);
            text.push('\n');
        }
        std::fs::write(self.csv(), text).unwrap();
    }

    fn spec(&self, extra: serde_json::Value) -> sendrow_core::connection::ConnectionSpec {
        let mut spec = serde_json::json!({
            "name": "C",
            "source": {"type": "csv", "path": "rows.csv"},
            "row_key": {"column": "ID"},
            "start_from": "all_rows",
            "account": "main",
            "phone_field": "Phone",
            "default_country": "UA",
            "message": "Hi {{Name}}",
        });
        for (k, v) in extra.as_object().unwrap() {
            spec[k] = v.clone();
        }
        serde_json::from_value(spec).unwrap()
    }

    async fn add(&self, extra: serde_json::Value) -> Result<sendrow_core::connection::Saved, sendrow_core::Error> {
        self.core.add_connection(self.spec(extra), self.dir.path()).await
    }

    async fn run_at(&self, now: DateTime<FixedOffset>) -> sendrow_core::run::RunSummary {
        let options = RunOptions {
            now,
            retry: RetryPolicy {
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
                ..Default::default()
            },
            ..RunOptions::default()
        };
        self.core.run("C", &options).await.unwrap()
    }

    fn status_of(&self, row: &str) -> Vec<EntryStatus> {
        self.core
            .history("C")
            .unwrap()
            .into_iter()
            .filter(|e| e.row_key == row && !e.is_test)
            .map(|e| e.status)
            .collect()
    }
}

fn kyiv(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(2 * 3600).unwrap().with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

const SHOP: &str = "ID,Name,Phone,Статус,Сума";

#[tokio::test]
async fn bad_conditions_and_reminders_are_refused_at_save_naming_the_field() {
    let shop = Clinic::open(SHOP).await;
    shop.write(&["1,Olena,0671234567,нове,100"]);
    async fn shop_err(shop: &Clinic, json: serde_json::Value) -> String {
        shop.add(json).await.unwrap_err().to_string()
    }
    let err = shop_err(
        &shop,
        serde_json::json!({"conditions": {"all": [{"column": "Status", "op": "equals", "value": "paid"}]}}),
    )
    .await;
    assert!(err.contains("conditions.all[0].column") && err.contains("\"Статус\""), "{err}");
    let err = shop_err(&shop, serde_json::json!({"send_at": {"column": "Visit"}})).await;
    assert!(err.contains("send_at.column") && err.contains("\"Сума\""), "{err}");
    let mut spec = shop.spec(serde_json::json!({"send_at": {"column": "Сума"}}));
    spec.row_key = None;
    let err = shop.core.add_connection(spec, shop.dir.path()).await.unwrap_err().to_string();
    assert!(err.starts_with("send_at:") && err.contains("ID column") && err.contains("row_key"), "{err}");
    let unknown_op = sendrow_core::connection::ConnectionSpec::parse(
        &serde_json::json!({"name": "C", "source": {"type": "csv", "path": "x.csv"}, "account": "main",
            "phone_field": "Phone", "message": "hi",
            "conditions": {"any": [{"column": "Статус", "op": "is", "value": "paid"}]}})
        .to_string(),
    )
    .unwrap_err()
    .to_string();
    assert!(unknown_op.contains("conditions.any[0].op") && unknown_op.contains("not_contains"), "{unknown_op}");
    assert!(shop.core.connections().unwrap().is_empty(), "nothing was saved");

    let saved = shop
        .add(serde_json::json!({"conditions": {"all": [{"column": "Статус", "op": "equals", "value": "оплачено"}]}}))
        .await
        .unwrap();
    let shown = serde_json::to_value(&saved.connection).unwrap();
    assert_eq!(shown["conditions"]["all"][0]["value"], "оплачено", "connection show --json has them: {shown}");
}

fn paid() -> serde_json::Value {
    serde_json::json!({"conditions": {"all": [{"column": "Статус", "op": "equals", "value": "оплачено"},
                                              {"column": "Сума", "op": "greater_than", "value": "500"}]}})
}

#[tokio::test]
async fn a_row_is_sent_the_first_time_it_meets_the_conditions_and_never_twice() {
    let shop = Clinic::open(SHOP).await;
    shop.write(&[
        "1,Olena,0671234567,нове,\"1 200,50 грн\"",
        "2,Ivan,0501112233, ОПЛАЧЕНО ,900",
        "3,Petro,0931234567,оплачено,450 грн",
    ]);
    let saved = shop.add(paid()).await.unwrap();
    assert_eq!(saved.will_send, 1, "only the paid order over 500 would go now");
    let preview = shop.core.preview("C", None).await.unwrap().0;
    assert_eq!(preview.iter().map(|p| p.row.as_str()).collect::<Vec<_>>(), ["2"], "preview lists only rows that go");

    let now = kyiv(2026, 12, 1, 12, 0);
    let first = shop.run_at(now).await;
    assert_eq!((first.sent, first.not_matching, first.new_rows), (1, 2, 1), "{first:?}");
    assert_eq!(shop.status_of("1"), [], "a row not matching yet is not done: no entry, not seen");

    // The status turns to paid: the next read sends it.
    shop.write(&[
        "1,Olena,0671234567,оплачено,\"1 200,50 грн\"",
        "2,Ivan,0501112233,оплачено,900",
        "3,Petro,0931234567,оплачено,450 грн",
    ]);
    let second = shop.run_at(now).await;
    assert_eq!((second.sent, second.not_matching), (1, 1), "{second:?}");
    assert_eq!(shop.status_of("1"), [EntryStatus::Queued]);

    // Back and forth never texts twice.
    for status in ["нове", "оплачено", "нове", "оплачено"] {
        shop.write(&[&format!("1,Olena,0671234567,{status},\"1 200,50 грн\""), "2,Ivan,0501112233,оплачено,900"]);
        let again = shop.run_at(now).await;
        assert_eq!(again.sent, 0, "{status}: {again:?}");
    }
    assert_eq!(shop.sim.messages().len(), 2, "two SMS in all");
    assert_eq!(shop.status_of("3"), [], "450 is not over 500: still waiting for a match, never sent");
}

#[tokio::test]
async fn new_rows_takes_as_baseline_only_the_rows_matching_at_save() {
    let shop = Clinic::open(SHOP).await;
    shop.write(&["1,Olena,0671234567,оплачено,600", "2,Ivan,0501112233,нове,900"]);
    let saved =
        shop.add(serde_json::json!({"start_from": "new_rows", "conditions": paid()["conditions"]})).await.unwrap();
    assert_eq!(saved.will_send, 0);
    let now = kyiv(2026, 12, 1, 12, 0);
    let first = shop.run_at(now).await;
    assert_eq!((first.sent, first.not_matching), (0, 1), "the paid row was there at save: {first:?}");
    shop.write(&[
        "1,Olena,0671234567,оплачено,600",
        "2,Ivan,0501112233,оплачено,900",
        "3,Petro,0931234567,оплачено,700",
    ]);
    let second = shop.run_at(now).await;
    assert_eq!(second.sent, 2, "row 2 came to match after the save, row 3 is new: {second:?}");
    assert_eq!(shop.status_of("1"), [], "the baseline row is never sent");
    let mut sent: Vec<String> = shop.sim.messages().into_iter().map(|m| m.destination).collect();
    sent.sort();
    assert_eq!(sent, ["380501112233", "380931234567"]);
}

const VISITS: &str = "ID,Name,Phone,Visit";

/// Now on the machine's clock, to the minute: the simulator judges
/// `scheduled` against its own (real, or advanced) clock, as 8x8 does.
fn real_now() -> DateTime<FixedOffset> {
    let now = chrono::Local::now().fixed_offset();
    now - chrono::Duration::seconds(now.timestamp() % 60)
        - chrono::Duration::nanoseconds(now.timestamp_subsec_nanos() as i64)
}

/// A visit `days` days and `hours` hours from `now`, written as a receptionist does.
fn visit(now: DateTime<FixedOffset>, days: i64, hours: i64) -> String {
    let at = now.with_timezone(&chrono::Local) + chrono::Duration::days(days) + chrono::Duration::hours(hours);
    at.format("%d.%m.%Y %H:%M").to_string()
}

fn entries(clinic: &Clinic, row: &str) -> Vec<sendrow_core::store::Entry> {
    clinic.core.history("C").unwrap().into_iter().filter(|e| e.row_key == row && !e.is_test).collect()
}

fn reminder() -> serde_json::Value {
    serde_json::json!({"send_at": {"column": "Visit", "minutes_before": 1440}, "message": "{{Name}}, see you at {{$time}} tomorrow"})
}

#[tokio::test]
async fn reminders_are_scheduled_at_8x8_kept_sent_now_or_skipped_by_their_date() {
    let clinic = Clinic::open(VISITS).await;
    let now = real_now();
    let rows = [
        format!("A,Olena,0671234567,{}", visit(now, 3, 0)),
        format!("B,Ivan,0501112233,{}", visit(now, 20, 0)),
        format!("C,Petro,0931234567,{}", visit(now, 0, 2)),
        format!("D,Oksana,0661234567,{}", visit(now, -1, 0)),
        "E,Taras,0671112233,".to_owned(),
        "F,Iryna,0671112244,next week".to_owned(),
    ];
    clinic.write(&rows.iter().map(String::as_str).collect::<Vec<_>>());
    clinic.add(reminder()).await.unwrap();
    let run = clinic.run_at(now).await;
    assert_eq!((run.scheduled, run.sent, run.incomplete), (2, 1, 2), "{run:?}");

    let a = &entries(&clinic, "A")[0];
    assert_eq!(a.status, EntryStatus::Scheduled, "{a:?}");
    let send_at = DateTime::parse_from_rfc3339(a.send_at.as_deref().unwrap()).unwrap();
    assert_eq!(send_at, now + chrono::Duration::days(2), "the day before the visit, same time");
    let at_8x8 = clinic.sim.messages().into_iter().find(|m| Some(&m.umid) == a.umid.as_ref()).unwrap();
    assert_eq!(at_8x8.scheduled, Some(send_at.with_timezone(&chrono::Utc)), "handed over with scheduled");
    let local = send_at.with_timezone(&chrono::Local).format("%H:%M").to_string();
    assert_eq!(at_8x8.text, format!("Olena, see you at {local} tomorrow"), "{{{{$time}}}} is the send time");

    let b = &entries(&clinic, "B")[0];
    assert_eq!((b.status, b.umid.is_none()), (EntryStatus::Waiting, true), "too far for 8x8: kept here {b:?}");
    assert!(b.send_at.is_some() && b.reason.as_deref().unwrap_or("").contains("7 days"), "{b:?}");
    assert_eq!(entries(&clinic, "C")[0].status, EntryStatus::Queued, "send time passed, visit ahead: sent now");
    assert!(clinic.sim.messages().iter().any(|m| m.destination == "380931234567" && m.scheduled.is_none()));
    let d = &entries(&clinic, "D")[0];
    assert_eq!(d.status, EntryStatus::Skipped);
    assert!(d.reason.as_deref().unwrap_or("").contains("passed"), "{d:?}");
    assert!(entries(&clinic, "E").is_empty(), "no date yet: read again next time");
    assert!(entries(&clinic, "F").is_empty(), "a date that cannot be read waits to be fixed");
    let note = run.warning.clone().unwrap_or_default();
    assert!(note.contains("line 7") && note.contains("next week"), "the run says which and why: {note}");
    assert_eq!(clinic.sim.messages().len(), 2, "A scheduled and C sent");
    let card = clinic.core.connection_view("C").unwrap();
    assert_eq!(card.reminders_ahead, 2, "A at 8x8 and B kept here");
    let next = DateTime::parse_from_rfc3339(card.next_reminder.as_deref().unwrap()).unwrap();
    assert_eq!(next, send_at, "the next one is A's");

    // A's visit moves a day later, B's row is deleted, E gets its date.
    let moved = [
        format!("A,Olena,0671234567,{}", visit(now, 4, 0)),
        format!("C,Petro,0931234567,{}", visit(now, 0, 2)),
        format!("D,Oksana,0661234567,{}", visit(now, -1, 0)),
        format!("E,Taras,0671112233,{}", visit(now, 5, 0)),
        format!("F,Iryna,0671112244,{}", visit(now, 6, 0)),
    ];
    clinic.write(&moved.iter().map(String::as_str).collect::<Vec<_>>());
    let run = clinic.run_at(now + chrono::Duration::minutes(5)).await;
    assert_eq!((run.cancelled, run.scheduled, run.sent), (2, 3, 0), "{run:?}");
    let a = entries(&clinic, "A");
    assert_eq!(a.iter().map(|e| e.status).collect::<Vec<_>>(), [EntryStatus::Cancelled, EntryStatus::Scheduled]);
    assert!(a[0].reason.as_deref().unwrap_or("").contains("changed"), "{:?}", a[0]);
    let new_at = DateTime::parse_from_rfc3339(a[1].send_at.as_deref().unwrap()).unwrap();
    assert_eq!(new_at, now + chrono::Duration::days(3));
    let sim = clinic.sim.messages();
    assert!(sim.iter().find(|m| Some(&m.umid) == a[0].umid.as_ref()).unwrap().cancelled, "cancelled at 8x8");
    assert!(!sim.iter().find(|m| Some(&m.umid) == a[1].umid.as_ref()).unwrap().cancelled);
    assert_eq!(entries(&clinic, "B")[0].status, EntryStatus::Cancelled, "row deleted");
    assert_eq!(entries(&clinic, "E")[0].status, EntryStatus::Scheduled);
    assert_eq!(entries(&clinic, "F")[0].status, EntryStatus::Scheduled, "its date fixed, it goes");

    // Nothing changes: nothing happens.
    let again = clinic.run_at(now + chrono::Duration::minutes(10)).await;
    assert_eq!((again.cancelled, again.scheduled, again.sent), (0, 0, 0), "{again:?}");
    assert_eq!(clinic.sim.messages().len(), 5);
}

#[tokio::test]
async fn a_far_reminder_is_handed_over_once_within_reach_and_a_late_cancel_is_recorded() {
    let clinic = Clinic::open(VISITS).await;
    let now = real_now();
    // Sent 7 days and 3 hours from now: handed over in 4 hours.
    clinic.write(&[&format!("A,Olena,0671234567,{}", visit(now, 8, 3))]);
    clinic.add(reminder()).await.unwrap();
    let run = clinic.run_at(now).await;
    assert_eq!((run.scheduled, run.waiting), (1, 0), "{run:?}");
    let waiting = &entries(&clinic, "A")[0];
    let hand_over = DateTime::parse_from_rfc3339(waiting.not_before.as_deref().unwrap()).unwrap();
    assert_eq!(hand_over, now + chrono::Duration::hours(4), "{waiting:?}");
    let next_run = clinic.core.connection_view("C").unwrap().next_run.expect("a run is planned for it");
    assert_eq!(DateTime::parse_from_rfc3339(&next_run).unwrap(), hand_over, "the scheduler wakes for it");

    clinic.sim.advance_clock(Duration::from_secs(4 * 3600 + 60));
    let later = now + chrono::Duration::hours(4) + chrono::Duration::minutes(1);
    let run = clinic.run_at(later).await;
    assert_eq!(run.scheduled, 1, "{run:?}");
    let a = &entries(&clinic, "A")[0];
    assert_eq!(a.status, EntryStatus::Scheduled, "{a:?}");
    assert_eq!(clinic.sim.messages().len(), 1);

    // 8x8 sent it already (its clock is past the send time), then the date moves:
    // the cancel is refused and recorded, and no second reminder goes.
    clinic.sim.advance_clock(Duration::from_secs(7 * 24 * 3600));
    clinic.write(&[&format!("A,Olena,0671234567,{}", visit(now, 9, 3))]);
    let run = clinic.run_at(later + chrono::Duration::minutes(1)).await;
    assert_eq!((run.cancelled, run.scheduled), (0, 0), "{run:?}");
    let a = entries(&clinic, "A");
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].status, EntryStatus::Queued);
    assert!(a[0].reason.as_deref().unwrap_or("").contains("already sent"), "{:?}", a[0]);
    assert_eq!(clinic.sim.messages().len(), 1, "never a second reminder");
}

#[tokio::test]
async fn quiet_hours_move_a_reminder_and_conditions_cancel_it() {
    let clinic = Clinic::open("ID,Name,Phone,Visit,Status").await;
    let now = real_now();
    let visit_day = (now.with_timezone(&chrono::Local) + chrono::Duration::days(3)).format("%Y-%m-%d").to_string();
    clinic.write(&[&format!("A,Olena,0671234567,{visit_day} 10:00,booked")]);
    let mut extra = reminder();
    extra["send_at"]["at_time"] = "22:30".into();
    extra["quiet_hours"] = serde_json::json!({"from": "21:00", "to": "08:00"});
    extra["conditions"] = serde_json::json!({"all": [{"column": "Status", "op": "not_equals", "value": "cancelled"}]});
    clinic.add(extra).await.unwrap();
    clinic.run_at(now).await;
    let a = &entries(&clinic, "A")[0];
    let send_at = DateTime::parse_from_rfc3339(a.send_at.as_deref().unwrap()).unwrap().with_timezone(&chrono::Local);
    assert_eq!(send_at.format("%H:%M").to_string(), "08:00", "22:30 is in quiet hours: moved to their end");
    assert_eq!(send_at.date_naive(), (now.with_timezone(&chrono::Local) + chrono::Duration::days(3)).date_naive());

    clinic.write(&[&format!("A,Olena,0671234567,{visit_day} 10:00,cancelled")]);
    let run = clinic.run_at(now).await;
    assert_eq!(run.cancelled, 1, "{run:?}");
    assert!(entries(&clinic, "A")[0].reason.as_deref().unwrap_or("").contains("conditions"));
    // Booked again: a new reminder.
    clinic.write(&[&format!("A,Olena,0671234567,{visit_day} 10:00,booked")]);
    let run = clinic.run_at(now).await;
    assert_eq!(run.scheduled, 1, "{run:?}");
    assert_eq!(clinic.status_of("A"), [EntryStatus::Cancelled, EntryStatus::Scheduled]);
}

#[tokio::test]
async fn the_simulator_checks_holds_and_cancels_scheduled_messages_as_8x8_does() {
    use sendrow_core::gateway::{Cancel, Error as GatewayError, SmsRequest};
    let sim = sim().await;
    let gateway = crate::gateway(&sim);
    let at = |d: chrono::Duration| (chrono::Utc::now() + d).with_timezone(&FixedOffset::east_opt(7200).unwrap());
    let sms = |scheduled: String| SmsRequest {
        destination: "+380671234567".into(),
        text: "see you tomorrow".into(),
        scheduled: Some(scheduled),
        ..Default::default()
    };
    for bad in [
        at(chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%S").to_string(),
        at(chrono::Duration::days(8)).to_rfc3339(),
    ] {
        match gateway.send(&sms(bad.clone())).await {
            Ok(answer) => assert!(!answer.status.is_queued(), "{bad}: refused, got {answer:?}"),
            Err(GatewayError::Rejected { code, .. }) => assert_eq!(code, 1011, "{bad}"),
            Err(other) => panic!("{bad}: {other}"),
        }
    }
    let held = gateway.send(&sms(at(chrono::Duration::hours(2)).to_rfc3339())).await.unwrap();
    assert!(held.status.is_queued());
    assert_eq!(gateway.message_status(&held.umid).await.unwrap().status.state, "scheduled", "held until its time");
    let listed = sim.messages();
    assert!(listed[0].scheduled.is_some() && !listed[0].cancelled);
    assert_eq!(gateway.cancel(&held.umid).await.unwrap(), Cancel::Cancelled);
    assert!(sim.messages()[0].cancelled);
    assert_eq!(gateway.cancel(&held.umid).await.unwrap(), Cancel::AlreadyGone, "nothing left to cancel");
    assert_eq!(gateway.cancel("no-such-message").await.unwrap(), Cancel::AlreadyGone);

    let later = gateway.send(&sms(at(chrono::Duration::hours(1)).to_rfc3339())).await.unwrap();
    sim.advance_clock(Duration::from_secs(3600 + 60));
    // (The advanced clock also opens a new window for the one-a-second details limit.)
    let state = gateway.message_status(&later.umid).await.unwrap().status.state;
    assert_eq!(state, "delivered", "its time came a minute ago: it went, through the delivery states");
    assert_eq!(gateway.cancel(&later.umid).await.unwrap(), Cancel::AlreadyGone, "too late to cancel");
}

#[tokio::test]
async fn the_wizard_draft_counts_matching_rows_and_shows_the_first_reminders() {
    let clinic = Clinic::open("ID,Name,Phone,Visit,Status").await;
    let now = real_now();
    clinic.write(&[
        &format!("A,Olena,0671234567,{},booked", visit(now, 3, 0)),
        &format!("B,Ivan,0501112233,{},cancelled", visit(now, 3, 0)),
        &format!("C,Petro,0931234567,{},booked", visit(now, 10, 0)),
        "D,Oksana,0661234567,,booked",
    ]);
    let mut extra = reminder();
    extra["conditions"] = serde_json::json!({"all": [{"column": "Status", "op": "not_equals", "value": "cancelled"}]});
    let draft = clinic.core.check_draft(&clinic.spec(extra), clinic.dir.path()).await.unwrap();
    assert_eq!(draft.matching, Some(3));
    let plans: Vec<(usize, &str)> = draft.reminders.iter().map(|r| (r.line, r.plan)).collect();
    assert_eq!(plans, [(2, "scheduled"), (4, "waiting"), (5, "no_date")], "{:?}", draft.reminders);
    let at = DateTime::parse_from_rfc3339(draft.reminders[0].send_at.as_deref().unwrap()).unwrap();
    assert_eq!(at, now + chrono::Duration::days(2));
}
