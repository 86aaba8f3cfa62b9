//! The `sendrow` binary end to end, as outside tests drive it: the real
//! SQLite file, the real OS keychain (Secret Service in the throwaway D-Bus
//! session the test command starts) and the simulator run as `sendrow sim`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{require_keychain_session, sendrow, text, Sim, BIN};

/// Every file under `dir` (the database, its WAL and shared-memory files…)
/// that contains `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path).unwrap().windows(needle.len()).any(|w| w == needle.as_bytes()) {
            found.push(path.display().to_string());
        }
    }
    found
}

fn keychain_entries() -> String {
    let out = Command::new("secret-tool").args(["search", "--all", "service", "sendrow"]).output().unwrap();
    text(&out.stdout) + &text(&out.stderr)
}

#[tokio::test]
async fn right_key_is_active_and_lives_only_in_the_keychain() {
    require_keychain_session();
    let key = "sim-key-Q7xZ-never-in-files";
    let sim = Sim::start(&["--account", &format!("shop_hq:{key}")]);
    let dir = tempfile::tempdir().unwrap();

    let add = sendrow(dir.path(), &["account", "add", "main", "--subaccount", "shop_hq", "--base-url", &sim.url], key);
    assert!(add.status.success(), "a right key is accepted: {}", text(&add.stderr));
    assert!(text(&add.stdout).contains("active"), "add says the account is active: {}", text(&add.stdout));

    let list = sendrow(dir.path(), &["account", "list", "--json"], "");
    let accounts: serde_json::Value = serde_json::from_slice(&list.stdout).expect("list --json prints JSON");
    assert_eq!(accounts[0]["name"], "main", "the account is listed: {accounts}");
    assert_eq!(accounts[0]["status"], "active", "as active: {accounts}");

    // verify reads the key back from the keychain: proof it is stored there.
    let verify = sendrow(dir.path(), &["account", "verify", "main"], "");
    assert!(verify.status.success(), "the stored key still works: {}", text(&verify.stderr));
    assert!(keychain_entries().contains("sendrow"), "the keychain holds an entry for Sendrow");

    for out in [&add, &list, &verify] {
        assert!(!text(&out.stdout).contains(key) && !text(&out.stderr).contains(key), "the key is never printed");
    }
    assert_eq!(files_containing(dir.path(), key), Vec::<String>::new(), "the key is in no file of the data folder");
    assert!(sim.messages().await.is_empty(), "adding and verifying sent no SMS");

    let remove = sendrow(dir.path(), &["account", "remove", "main"], "");
    assert!(remove.status.success(), "remove works: {}", text(&remove.stderr));
    assert!(!keychain_entries().contains(key), "the key left the keychain with the account");
}

#[test]
fn account_remove_json_says_what_was_removed() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let add = sendrow(
        dir.path(),
        &["account", "add", "gone", "--subaccount", "sandbox_hq", "--base-url", &sim.url],
        "sandbox-key",
    );
    assert!(add.status.success(), "the account is added: {}", text(&add.stderr));

    let remove = sendrow(dir.path(), &["account", "remove", "gone", "--json"], "");
    assert!(remove.status.success(), "remove --json works: {}", text(&remove.stderr));
    let removed: serde_json::Value = serde_json::from_slice(&remove.stdout).expect("remove --json prints JSON");
    assert_eq!(removed, serde_json::json!({"removed": "gone"}), "it names the removed account");
    let list = sendrow(dir.path(), &["account", "list", "--json"], "");
    assert_eq!(text(&list.stdout).trim(), "[]", "the account is gone");

    let again = sendrow(dir.path(), &["account", "remove", "gone", "--json"], "");
    assert!(!again.status.success(), "removing it twice is an error");
    assert!(text(&again.stdout).is_empty(), "errors go to stderr, not into the JSON: {}", text(&again.stdout));
    assert!(text(&again.stderr).contains("no account named \"gone\""), "{}", text(&again.stderr));
}

#[test]
fn data_dir_flag_wins_over_sendrow_data_dir() {
    let from_env = tempfile::tempdir().unwrap();
    let from_flag = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(from_flag.path())
        .args(["account", "list", "--json"])
        .env("SENDROW_DATA_DIR", from_env.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(from_flag.path().join("sendrow.db").exists(), "--data-dir chose the folder");
    assert!(!from_env.path().join("sendrow.db").exists(), "SENDROW_DATA_DIR was not used");
}

#[test]
fn wrong_key_saves_an_inactive_account_and_fails_with_8x8s_reason() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let wrong = "wrong-key-8fJ2-must-not-leak";
    let add =
        sendrow(dir.path(), &["account", "add", "shop", "--subaccount", "sandbox_hq", "--base-url", &sim.url], wrong);
    assert!(!add.status.success(), "a refused key makes add exit non-zero");
    let stderr = text(&add.stderr);
    assert!(stderr.contains("Request was not authenticated properly"), "8x8's reason is given: {stderr}");
    assert!(stderr.contains("1200"), "with 8x8's code: {stderr}");
    assert!(!stderr.contains(wrong) && !text(&add.stdout).contains(wrong), "the key is not echoed");

    let list = sendrow(dir.path(), &["account", "list", "--json"], "");
    let accounts: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(accounts[0]["status"], "inactive", "the account is saved as inactive: {accounts}");
    assert_eq!(accounts[0]["status_reason"], "Request was not authenticated properly", "with the reason");
    assert_eq!(files_containing(dir.path(), wrong), Vec::<String>::new(), "even a wrong key stays out of files");
    let _ = sendrow(dir.path(), &["account", "remove", "shop"], "");
}

#[test]
fn sendrow_data_dir_env_chooses_the_folder() {
    require_keychain_session();
    // Region hosts are real 8x8 servers this machine must not contact; their
    // mapping is unit-tested in core. Here only the folder choice is checked.
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let add = Command::new(BIN)
        .args(["account", "add", "env-shop", "--subaccount", "sandbox_hq", "--base-url", &sim.url])
        .env("SENDROW_DATA_DIR", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(b"sandbox-key")?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(add.status.success(), "the account is added: {}", text(&add.stderr));
    assert!(dir.path().join("sendrow.db").exists(), "SENDROW_DATA_DIR chose the folder");
    let list = sendrow(dir.path(), &["account", "list", "--json"], "");
    let accounts: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(accounts[0]["name"], "env-shop", "the same folder is read back with --data-dir: {accounts}");
    let _ = sendrow(dir.path(), &["account", "remove", "env-shop"], "");
}

#[test]
fn bad_input_is_refused_with_words_that_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let no_key = sendrow(dir.path(), &["account", "add", "a", "--subaccount", "shop_hq", "--region", "eu"], "");
    assert!(!no_key.status.success(), "an empty stdin is refused");
    assert!(text(&no_key.stderr).contains("no API key on standard input"), "{}", text(&no_key.stderr));

    let region = sendrow(dir.path(), &["account", "add", "a", "--subaccount", "shop_hq", "--region", "mars"], "k");
    assert!(text(&region.stderr).contains("use apac, us, eu or id"), "{}", text(&region.stderr));

    let missing = sendrow(dir.path(), &["account", "verify", "ghost"], "");
    assert!(!missing.status.success(), "an unknown account is an error");
    assert!(text(&missing.stderr).contains("no account named \"ghost\""), "{}", text(&missing.stderr));
}

#[test]
fn a_database_from_a_newer_sendrow_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sendrow.db");
    let made = Command::new("python3")
        .args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table x(y)'); c.execute('pragma user_version=999'); c.commit()"])
        .arg(&db)
        .status()
        .expect("python3 writes the test database");
    assert!(made.success(), "the newer database was written");
    let before = std::fs::read(&db).unwrap();
    let out = sendrow(dir.path(), &["account", "list"], "");
    assert!(!out.status.success(), "a newer schema is refused");
    assert!(text(&out.stderr).contains("newer version of Sendrow"), "the reason is given: {}", text(&out.stderr));
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file was not modified");
}

#[test]
fn no_keychain_means_a_clear_error_and_nothing_saved() {
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["account", "add", "main", "--subaccount", "sandbox_hq", "--base-url", &sim.url])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/sendrow-test-bus")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"sandbox-key").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "without a keychain the key cannot be stored");
    assert!(text(&out.stderr).contains("keychain is not available"), "the keychain is named: {}", text(&out.stderr));
    let list = sendrow(dir.path(), &["account", "list", "--json"], "");
    assert_eq!(text(&list.stdout).trim(), "[]", "no account was saved without its key");
}

#[tokio::test]
async fn sim_rate_limit_and_retry_after_flags_take_effect() {
    // 8x8's default is 1,800 a second: any 429 among five at once is the flag's doing.
    let sim = Sim::start(&["--rate-limit", "1", "--retry-after", "4"]);
    let client = reqwest::Client::new();
    let sends: Vec<_> = (0..5)
        .map(|i| {
            let body =
                serde_json::json!({"destination": "+380671234567", "text": "hi", "clientMessageId": format!("r-{i}")});
            tokio::spawn(
                client
                    .post(format!("{}/api/v1/subaccounts/sandbox_hq/messages", sim.url))
                    .bearer_auth("sandbox-key")
                    .json(&body)
                    .send(),
            )
        })
        .collect();
    let mut answers = Vec::new();
    for send in sends {
        answers.push(send.await.unwrap().unwrap());
    }
    let limited: Vec<_> = answers.iter().filter(|a| a.status() == 429).collect();
    let accepted = answers.iter().filter(|a| a.status() == 200).count();
    assert!(!limited.is_empty() && accepted >= 1, "some go, the rest are limited: {answers:?}");
    assert_eq!(accepted + limited.len(), answers.len(), "nothing else happened: {answers:?}");
    for a in &limited {
        assert_eq!(a.headers()["retry-after"], "4", "--retry-after sets the header");
    }
    assert_eq!(sim.messages().await.len(), accepted, "limited requests queued nothing");
}

#[tokio::test]
async fn sim_lists_and_clears_accepted_messages() {
    let sim = Sim::start(&[]);
    let client = reqwest::Client::new();
    let sent: serde_json::Value = client
        .post(format!("{}/api/v1/subaccounts/sandbox_hq/messages", sim.url))
        .bearer_auth("sandbox-key")
        .json(&serde_json::json!({"destination": "+380671234567", "text": "Hi {there}", "clientMessageId": "m-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = sim.messages().await;
    assert_eq!(listed.len(), 1, "one accepted message is listed");
    let m = &listed[0];
    assert_eq!(m["umid"], sent["umid"], "with the umid 8x8 answered");
    assert_eq!(m["clientMessageId"], "m-1", "our reference");
    assert_eq!(m["encoding"], "GSM7", "braces are GSM-7 extension characters");
    for field in ["destination", "text", "source", "received_at"] {
        assert!(m.get(field).is_some(), "{field} is listed: {m}");
    }
    client.delete(format!("{}/_sim/messages", sim.url)).send().await.unwrap();
    assert!(sim.messages().await.is_empty(), "DELETE clears the list");
}

/// A data folder Sendrow cannot write (a read-only share, a folder of
/// another user's) is refused with the path named, whatever step fails. As
/// root every folder is writable, so there the binary runs as `nobody`.
#[cfg(target_os = "linux")]
#[test]
fn a_read_only_data_folder_is_named_in_the_error() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let as_root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    let root = tempfile::tempdir().unwrap();
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = |dir: &Path| {
        let mut cmd = if as_root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN]);
            c
        } else {
            Command::new(BIN)
        };
        cmd.arg("--data-dir").arg(dir).args(["connection", "list"]).stdin(Stdio::null()).output().unwrap()
    };
    let make_read_only = |dir: &Path| {
        if as_root {
            for entry in std::fs::read_dir(dir).unwrap() {
                std::os::unix::fs::chown(entry.unwrap().path(), Some(65534), Some(65534)).unwrap();
            }
            std::os::unix::fs::chown(dir, Some(65534), Some(65534)).unwrap();
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    };

    // A folder with its database, made read-only since.
    let used = root.path().join("used");
    assert!(sendrow(&used, &["connection", "list"], "").status.success(), "a fresh folder works");
    make_read_only(&used);
    // An empty read-only folder: the database cannot even be created.
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    make_read_only(&empty);
    for dir in [&used, &empty] {
        let out = run(dir);
        assert!(!out.status.success(), "{} cannot be used", dir.display());
        let why = text(&out.stderr);
        assert!(why.contains(&dir.display().to_string()), "the error names the folder {}: {why}", dir.display());
        assert!(why.contains("writable"), "and says what to check: {why}");
        assert!(!why.contains("panicked"), "{why}");
    }
    for dir in [&used, &empty] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// Typed at a terminal, the API key is not echoed (a screen share, a
/// recording, the scrollback). The terminal is a real pty from `script`.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_api_key_typed_at_a_terminal_is_not_shown() {
    use std::io::Read;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    require_keychain_session();
    let key = "typed-key-Zq81-never-on-screen";
    let sim = Sim::start(&["--account", &format!("shop_hq:{key}")]);
    let dir = tempfile::tempdir().unwrap();
    let command = format!(
        "{BIN} --data-dir {} account add main --subaccount shop_hq --base-url {}",
        dir.path().display(),
        sim.url
    );
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) gives the command a terminal");
    let screen = Arc::new(Mutex::new(Vec::new()));
    let mut stdout = child.stdout.take().unwrap();
    let reader = {
        let screen = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                screen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let shown = |screen: &Arc<Mutex<Vec<u8>>>| text(&screen.lock().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !shown(&screen).contains("API key") {
        assert!(Instant::now() < deadline, "no prompt within 30 s: {:?}", shown(&screen));
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{key}\r").as_bytes()).unwrap();
    stdin.flush().unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the command did not finish within 30 s: {:?}", shown(&screen));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    reader.join().unwrap();
    let screen = shown(&screen);
    assert!(status.success(), "the typed key is accepted: {screen}");
    assert!(screen.contains("active"), "and the account is active: {screen}");
    assert!(!screen.contains(key), "the key never appears on the terminal: {screen}");
    let _ = sendrow(dir.path(), &["account", "remove", "main"], "");
}
