//! Accounts through `Core`: saved with their status, the key only in the
//! secret store, and nothing half-written when a step fails.

use std::sync::Arc;

use sendrow_core::account::{AccountInput, AccountStatus, Target};
use sendrow_core::secrets::{MemorySecrets, Secret};
use sendrow_core::sim::{SANDBOX_KEY, SANDBOX_SUBACCOUNT};
use sendrow_core::{Core, Error};

use crate::sim;

fn input(name: &str, url: &str, key: &str) -> AccountInput {
    AccountInput {
        name: name.into(),
        subaccount_id: SANDBOX_SUBACCOUNT.into(),
        target: Target::BaseUrl(url.into()),
        api_key: Secret::new(key),
    }
}

fn open(secrets: Arc<MemorySecrets>) -> (tempfile::TempDir, Core) {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), secrets).unwrap();
    (dir, core)
}

fn files_contain(dir: &std::path::Path, needle: &str) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| {
        let bytes = std::fs::read(e.unwrap().path()).unwrap_or_default();
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    })
}

#[tokio::test]
async fn good_key_is_active_and_kept_only_in_the_secret_store() {
    let sim = sim().await;
    let secrets = Arc::new(MemorySecrets::new());
    let (dir, core) = open(secrets.clone());
    let account = core.add_account(input("main", &sim.base_url(), SANDBOX_KEY)).await.unwrap();
    assert_eq!(account.status, AccountStatus::Active, "8x8 accepted the key");
    assert!(account.verified_at.is_some(), "the check is timestamped");
    assert_eq!(secrets.get_for_test(&account.secret_ref), Some(SANDBOX_KEY.into()), "the key is in the secret store");
    drop(core);
    assert!(!files_contain(dir.path(), SANDBOX_KEY), "the key is nowhere in the data folder");
    assert!(sim.messages().is_empty(), "adding an account sent no SMS");
}

#[tokio::test]
async fn wrong_key_is_saved_inactive_with_8x8s_reason() {
    let sim = sim().await;
    let (_dir, core) = open(Arc::new(MemorySecrets::new()));
    let account = core.add_account(input("shop", &sim.base_url(), "wrong-key")).await.unwrap();
    match &account.status {
        AccountStatus::Inactive { reason, code } => {
            assert_eq!(reason, "Request was not authenticated properly", "8x8's own words are kept");
            assert_eq!(*code, Some(1200), "with 8x8's code");
        }
        other => panic!("a refused key must leave the account inactive, got {other:?}"),
    }
    assert_eq!(core.accounts().unwrap().len(), 1, "the account is still saved so the user can fix it");
}

#[tokio::test]
async fn unreachable_8x8_saves_the_account_unverified() {
    let sim = sim().await;
    let url = sim.base_url();
    sim.stop().await;
    let (_dir, core) = open(Arc::new(MemorySecrets::new()));
    let account = core.add_account(input("offline", &url, SANDBOX_KEY)).await.unwrap();
    assert!(
        matches!(&account.status, AccountStatus::Inactive { reason, .. } if reason.starts_with("not verified yet")),
        "without an answer the account cannot be called active: {:?}",
        account.status
    );
    assert!(account.verified_at.is_none(), "nothing was verified");
}

#[tokio::test]
async fn verify_flips_the_status_both_ways() {
    let sim = sim().await;
    let secrets = Arc::new(MemorySecrets::new());
    let (_dir, core) = open(secrets.clone());
    let account = core.add_account(input("main", &sim.base_url(), SANDBOX_KEY)).await.unwrap();
    // The key is revoked in the portal: simulate by replacing it in the keychain.
    use sendrow_core::secrets::SecretStore;
    secrets.set(&account.secret_ref, &Secret::new("revoked")).unwrap();
    let after = core.verify_account("main").await.unwrap();
    assert_eq!(after.status.as_str(), "inactive", "a revoked key turns the account inactive");
    secrets.set(&account.secret_ref, &Secret::new(SANDBOX_KEY)).unwrap();
    assert_eq!(
        core.verify_account("main").await.unwrap().status,
        AccountStatus::Active,
        "and a good key back to active"
    );
}

#[tokio::test]
async fn a_401_during_other_work_marks_the_account_inactive() {
    let sim = sim().await;
    let (_dir, core) = open(Arc::new(MemorySecrets::new()));
    core.add_account(input("main", &sim.base_url(), SANDBOX_KEY)).await.unwrap();
    let refusal = crate::gateway_as(&sim, SANDBOX_SUBACCOUNT, "bad")
        .send(&sendrow_core::gateway::SmsRequest {
            destination: "+380671234567".into(),
            text: "x".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    core.mark_account_refused("main", &refusal).unwrap();
    let account = core.account("main").unwrap();
    assert_eq!(
        account.status,
        AccountStatus::Inactive { reason: "Request was not authenticated properly".into(), code: Some(1200) },
        "the 401 is recorded with 8x8's reason"
    );
}

#[tokio::test]
async fn keychain_failure_leaves_nothing_behind() {
    let sim = sim().await;
    let (_dir, core) = open(Arc::new(MemorySecrets::unavailable()));
    let err = core.add_account(input("main", &sim.base_url(), SANDBOX_KEY)).await.unwrap_err();
    assert_eq!(err.code().as_str(), "keychain_unavailable", "the failure is named: {err}");
    assert!(err.to_string().contains("Secret Service"), "and says what to do: {err}");
    assert!(!err.to_string().contains(SANDBOX_KEY), "without the key in the text");
    assert!(core.accounts().unwrap().is_empty(), "no account without its key");
}

#[tokio::test]
async fn duplicate_name_is_refused_without_an_orphan_key() {
    let sim = sim().await;
    let secrets = Arc::new(MemorySecrets::new());
    let (_dir, core) = open(secrets.clone());
    core.add_account(input("main", &sim.base_url(), SANDBOX_KEY)).await.unwrap();
    let err = core.add_account(input("main", &sim.base_url(), SANDBOX_KEY)).await.unwrap_err();
    assert_eq!(err.code().as_str(), "duplicate_account", "the clash is named: {err}");
    assert_eq!(secrets.len(), 1, "the second key was not left in the keychain");
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_stored() {
    let secrets = Arc::new(MemorySecrets::new());
    let (_dir, core) = open(secrets.clone());
    let cases = [
        (input("main", "http://sms.example.com", SANDBOX_KEY), "unencrypted"),
        (input("main", "http://127.0.0.1:9", ""), "API key is empty"),
        (input(" main", "http://127.0.0.1:9", SANDBOX_KEY), "leading or trailing spaces"),
        (AccountInput { subaccount_id: "x".into(), ..input("main", "http://127.0.0.1:9", SANDBOX_KEY) }, "3 to 50"),
    ];
    for (bad, expected) in cases {
        let err = core.add_account(bad).await.unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "input errors are Invalid: {err:?}");
        assert!(err.to_string().contains(expected), "{expected:?} should be in {err}");
    }
    assert!(core.accounts().unwrap().is_empty() && secrets.is_empty(), "nothing was stored");
}

#[tokio::test]
async fn remove_deletes_the_account_and_its_key() {
    let sim = sim().await;
    let secrets = Arc::new(MemorySecrets::new());
    let (_dir, core) = open(secrets.clone());
    core.add_account(input("main", &sim.base_url(), SANDBOX_KEY)).await.unwrap();
    core.remove_account("main").unwrap();
    assert!(core.accounts().unwrap().is_empty(), "the account is gone");
    assert!(secrets.is_empty(), "and so is its key");
    let err = core.remove_account("main").unwrap_err();
    assert!(matches!(err, Error::NoSuchAccount(_)), "removing twice names the problem: {err:?}");
}
