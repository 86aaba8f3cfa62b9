//! Helpers shared by the end-to-end tests of the `sendrow` binary.
// Not every helper is used by every module.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_sendrow");

/// `sendrow sim` as a child process, killed on drop.
pub struct Sim {
    child: Child,
    pub url: String,
}

impl Sim {
    pub fn start(args: &[&str]) -> Sim {
        let mut child = Command::new(BIN)
            .arg("sim")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("sendrow sim starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the first line announces the address, got {first:?}"))
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "the simulator listens on loopback: {url}");
        Sim { child, url }
    }

    pub async fn messages(&self) -> Vec<serde_json::Value> {
        reqwest::get(format!("{}/_sim/messages", self.url)).await.unwrap().json().await.unwrap()
    }

    /// Makes the next send requests meet these faults (`429`, `500`,
    /// `timeout`, `reset`), one each, in order.
    pub async fn queue_faults(&self, faults: &[&str]) {
        let answer = reqwest::Client::new()
            .post(format!("{}/_sim/faults", self.url))
            .json(&serde_json::json!({ "next": faults }))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "the simulator takes the faults: {}", answer.status());
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn require_keychain_session() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests use the real keychain: run them with the test command in README.md, \
         which starts a throwaway D-Bus session with an unlocked GNOME Keyring"
    );
}

/// Runs `sendrow --data-dir DIR ARGS…` with `stdin` piped in.
pub fn sendrow(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
