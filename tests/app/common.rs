//! Helpers shared by the end-to-end tests of the `sendrow` binary.
// Not every helper is used by every module.

use std::io::{BufRead, BufReader, Read, Write};
use std::ops::{Deref, DerefMut};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_sendrow");

/// How long a CLI command of a test may take before it counts as hung.
pub const CLI_PATIENCE: Duration = Duration::from_secs(120);

/// A child started as the leader of a process group of its own. Whatever it
/// starts stays in that group (tauri-driver → WebKitWebDriver → the app →
/// WebKit's processes), so dropping the guard — the test passed, failed or
/// panicked — kills them all: nothing outlives its test to hold the
/// single-instance name, a data folder or the output pipe. Derefs to the
/// `Child` for `id`, `try_wait`, `kill` (the leader alone) and `wait`.
pub struct Group(Child, bool);

impl Group {
    pub fn spawn(cmd: &mut Command) -> std::io::Result<Group> {
        cmd.process_group(0).spawn().map(|child| Group(child, false))
    }

    /// Every live process of the group, from /proc (Linux).
    pub fn members(&self) -> Vec<u32> {
        let pgid = self.0.id();
        processes().into_iter().filter(|p| p.pgid == pgid).map(|p| p.pid).collect()
    }

    /// Sends `signal` (`TERM`, `KILL`) to every process of the group.
    pub fn signal(&mut self, signal: &str) {
        let pgid = self.0.id();
        // Once the leader is reaped its PID may be reused (pid_max is often
        // 32768, and a test run spawns thousands), unless another member still
        // holds it as their group ID: only then is the group still ours. Once
        // seen empty it is never signalled again.
        let leader_gone = matches!(self.0.try_wait(), Ok(Some(_)));
        if self.1 || (leader_gone && !self.members().iter().any(|&pid| pid != pgid)) {
            self.1 = leader_gone;
            return;
        }
        let _ = Command::new("kill")
            .args([format!("-{signal}"), "--".into(), format!("-{pgid}")])
            .stderr(Stdio::null())
            .status();
    }

    /// SIGTERM to the whole group, SIGKILL to whatever is left after `grace`.
    pub fn stop(&mut self, grace: Duration) {
        self.signal("TERM");
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline && !self.members().is_empty() {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.signal("KILL");
        let _ = self.0.wait();
    }
}

impl Deref for Group {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for Group {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.signal("KILL");
        let _ = self.0.wait();
    }
}

/// One line of `ps`, read from /proc/PID/stat (Linux).
pub struct Proc {
    pub pid: u32,
    pub ppid: u32,
    pub pgid: u32,
    pub name: String,
}

pub fn processes() -> Vec<Proc> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // "PID (NAME) STATE PPID PGRP …"; NAME may hold spaces and parentheses.
            let (head, tail) = stat.rsplit_once(')')?;
            let name = head.split_once('(')?.1.to_owned();
            let mut fields = tail.split_whitespace().skip(1);
            let ppid = fields.next()?.parse().ok()?;
            let pgid = fields.next()?.parse().ok()?;
            Some(Proc { pid, ppid, pgid, name })
        })
        .collect()
}

/// The command line of `pid`, empty once it is gone.
pub fn cmdline(pid: u32) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    raw.split(|&b| b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect()
}

/// The process that owns the app's single-instance D-Bus name on the tests'
/// session bus: a running Sendrow app that every new launch hands over to.
pub fn single_instance_owner() -> Option<u32> {
    let out = Command::new("dbus-send")
        .args(["--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus"])
        .args(["org.freedesktop.DBus.GetConnectionUnixProcessID", "string:app.sendrow.desktop.SingleInstance"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).split_whitespace().skip_while(|w| *w != "uint32").nth(1)?.parse().ok()
}

/// Runs `cmd` in a group of its own with `stdin` fed to it and waits at most
/// `limit`: a command that hangs is killed with all it started, and the test
/// fails naming it instead of waiting for ever.
pub fn output_within(cmd: &mut Command, stdin: &str, limit: Duration) -> Output {
    let mut group = Group::spawn(cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()))
        .unwrap_or_else(|e| panic!("{cmd:?} cannot start: {e}"));
    let _ = group.stdin.take().expect("stdin is piped").write_all(stdin.as_bytes());
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(group.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(group.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = group.try_wait().expect("the child can be waited for") {
            break status;
        }
        if Instant::now() >= deadline {
            group.signal("KILL");
            panic!("{cmd:?} did not finish within {limit:?}; it was killed with everything it started");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Whatever the command left running would hold its pipes open.
    group.signal("KILL");
    Output { status, stdout: stdout.join().unwrap_or_default(), stderr: stderr.join().unwrap_or_default() }
}

/// `sendrow sim` as a child process, killed on drop.
pub struct Sim {
    _child: Group,
    pub url: String,
}

impl Sim {
    pub fn start(args: &[&str]) -> Sim {
        let mut child =
            Group::spawn(Command::new(BIN).arg("sim").args(args).stdout(Stdio::piped()).stderr(Stdio::inherit()))
                .expect("sendrow sim starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the first line announces the address, got {first:?}"))
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "the simulator listens on loopback: {url}");
        Sim { _child: child, url }
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

pub fn require_keychain_session() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests use the real keychain: run them with the test command in README.md, \
         which starts a throwaway D-Bus session with an unlocked GNOME Keyring"
    );
}

/// Runs `sendrow --data-dir DIR ARGS…` with `stdin` piped in (bounded by `CLI_PATIENCE`).
pub fn sendrow(dir: &Path, args: &[&str], stdin: &str) -> Output {
    output_within(Command::new(BIN).arg("--data-dir").arg(dir).args(args), stdin, CLI_PATIENCE)
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
