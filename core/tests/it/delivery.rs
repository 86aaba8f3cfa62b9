//! Delivery polling when 8x8 refuses the key: the account is marked inactive,
//! as after a 401 anywhere else, and nothing is recorded for the messages.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sendrow_core::account::{AccountInput, AccountStatus, Target};
use sendrow_core::delivery::PollSettings;
use sendrow_core::secrets::{MemorySecrets, Secret, SecretStore};
use sendrow_core::send::{deliver, RetryPolicy};
use sendrow_core::sim::{SANDBOX_KEY, SANDBOX_SUBACCOUNT};
use sendrow_core::store::{EntryStatus, NewEntry, Store};
use sendrow_core::Core;

use crate::{gateway, sim};

#[tokio::test]
async fn a_401_while_polling_marks_the_account_inactive() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemorySecrets::new());
    let core = Core::open(dir.path(), secrets.clone()).unwrap();
    let account = core
        .add_account(AccountInput {
            name: "main".into(),
            subaccount_id: SANDBOX_SUBACCOUNT.into(),
            target: Target::BaseUrl(sim.base_url()),
            api_key: Secret::new(SANDBOX_KEY),
        })
        .await
        .unwrap();
    assert_eq!(account.status, AccountStatus::Active, "the account starts active");

    // A queued message whose delivery is due for a check.
    let store = Store::open(dir.path()).unwrap();
    let conn = store.insert_connection("orders", &serde_json::json!({"account": "main"}), true, Utc::now()).unwrap();
    let entry = NewEntry {
        row_key: "A".into(),
        row_line: None,
        phone: Some("+380671234567".into()),
        text: "Order A is confirmed".into(),
        status: EntryStatus::Pending,
        reason: None,
        is_test: false,
        not_before: None,
        time_slots: None,
    };
    store.insert_entries(conn, &[entry], Utc::now()).unwrap();
    let claimed = store.claim(conn, false, 10, Utc::now()).unwrap();
    let sent = deliver(&store, &gateway(&sim), &claimed, None, &RetryPolicy::default()).await.unwrap();
    assert_eq!(sent.queued, 1, "the message was queued: {sent:?}");

    // The key is revoked in the 8x8 portal after the send.
    secrets.set(&account.secret_ref, &Secret::new("revoked-in-the-portal")).unwrap();
    let settings = PollSettings { per_subaccount_gap: Duration::from_millis(1), ..PollSettings::default() };
    let report = core.check_deliveries(Utc::now(), &settings).await.unwrap();

    assert_eq!(report.refused_accounts, ["main"], "the poll reports the refused account: {report:?}");
    assert_eq!(report.checked, 0, "no state was learnt");
    assert_eq!(
        core.account("main").unwrap().status,
        AccountStatus::Inactive { reason: "Request was not authenticated properly".into(), code: Some(1200) },
        "the account is inactive with 8x8's reason and code"
    );
    let history = store.history(conn).unwrap();
    assert_eq!(history[0].delivery_state, None, "the message's delivery is still unknown, to ask again later");
}
