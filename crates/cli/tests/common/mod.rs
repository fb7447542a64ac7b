//! Helpers for tests that run the real `wirebench` binary.

#![allow(dead_code)]

pub mod agents;
pub mod wire;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary, with the compiled-schema cache of the tests (one for every
/// test binary, so the first schema built compiles prost and pbjson once).
pub fn wirebench() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wirebench"));
    command.env("WIREBENCH_CACHE_DIR", SCHEMA_CACHE);
    command
}

pub const SCHEMA_CACHE: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/wirebench-cache");

/// `PATH` without any folder that holds cargo: what a machine (or a
/// container image) without a Rust toolchain has.
pub fn path_without_cargo() -> String {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|dir| !Path::new(dir).join("cargo").exists())
        .collect::<Vec<_>>()
        .join(":")
}

/// A `--max-size-kb` value no other test uses, so the server processes a
/// test started can be found by their command line.
pub fn marker(test: u64) -> String {
    (60_000 + test * 1000 + u64::from(std::process::id()) % 1000).to_string()
}

/// Pids of live `wirebench serve` processes whose command line holds
/// `--max-size-kb MARKER`.
pub fn servers_with_marker(marker: &str) -> Vec<u32> {
    let needle = format!("--max-size-kb\0{marker}\0");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // Zombies have exited; only their parent's wait is missing.
            let cmdline = String::from_utf8_lossy(&cmdline);
            cmdline.contains("\0serve\0") && cmdline.contains(&needle) && !state.contains(") Z ")
        })
        .collect()
}

/// Waits up to `limit` for `check` to hold.
pub fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

pub fn signal(child: &Child, signal: i32) {
    // SAFETY: signalling a child this test started, by its pid.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
}

pub fn wait_with_limit(mut child: Child, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    while started.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return (child.wait_with_output().unwrap(), started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    panic!("process did not end within {limit:?}");
}

pub fn spawn(command: &mut Command) -> Child {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The peer tools of scripts/install-peers.sh, or None (with a loud line on
/// stderr) on a machine without them. Under CI (`CI` set) a missing tool
/// fails the test instead: CI never skips silently.
pub struct Peers {
    pub venv_bin: std::path::PathBuf,
}

impl Peers {
    pub fn python(&self) -> std::path::PathBuf {
        self.venv_bin.join("python")
    }
    pub fn bin(&self, name: &str) -> std::path::PathBuf {
        self.venv_bin.join(name)
    }
}

pub fn peers(tools: &[&str]) -> Option<Peers> {
    let root = std::env::var_os("WIREBENCH_PEERS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/wirebench-peers")
        });
    let venv_bin = root.join("venv/bin");
    let mut missing: Vec<String> = tools
        .iter()
        .filter(|tool| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|t| t.to_string())
        .collect();
    if !venv_bin.join("python").exists() {
        missing.push(format!("{}", venv_bin.join("python").display()));
    }
    if missing.is_empty() {
        return Some(Peers { venv_bin });
    }
    let message = format!(
        "peer tools missing ({}): run scripts/install-peers.sh (as root on Debian)",
        missing.join(", ")
    );
    if std::env::var_os("CI").is_some() {
        panic!("{message}");
    }
    eprintln!("SKIPPED: {message}");
    None
}

/// A child process killed (and reaped) on drop.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` and waits for its "listening on ADDR" line. Wrap the
/// child in a [`Guard`] to have it killed on drop.
pub fn start_listening(command: &mut Command) -> (Child, String) {
    let (child, line) = start_listening_line(command);
    let addr = line
        .strip_prefix("listening on ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_owned();
    (child, addr)
}

/// Starts `command` and returns it with the first line it printed (the
/// "listening on ..." line).
pub fn start_listening_line(command: &mut Command) -> (Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = spawn(command);
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = tx.send(lines.next());
        for _ in lines {}
    });
    // A server of a user's schema may build it first (a minute or two,
    // the first time a test binary builds one).
    let line = match rx.recv_timeout(Duration::from_secs(300)) {
        Ok(Some(Ok(line))) => line,
        other => {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "no address from {command:?}: {other:?} {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    };
    (child, line)
}

/// Runs a command, returns (success, stdout + stderr).
pub fn run(command: &mut Command) -> (bool, String) {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// One HTTP/1.1 exchange; the answer's status line and body.
pub fn exchange(
    addr: &str,
    method: &str,
    path: &str,
    headers: &str,
    body: &[u8],
) -> (String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(&wire::http(method, path, headers, body))
        .unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let status = String::from_utf8_lossy(&reply[..split])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    (status, reply[split + 4..].to_vec())
}

/// Runs `wirebench bench ARGS --json FILE`, asserts it succeeded, and
/// returns the result and what it printed.
pub fn bench_json(args: &[&str]) -> (serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let stdout = run_ok(wirebench().arg("bench").args(args).arg("--json").arg(&json));
    (read_json(&json), stdout)
}

/// Starts `wirebench serve WORKLOAD --stack STACK --port 0 --workers 1
/// EXTRA...`; returns the child and the address it printed.
pub fn serve(workload: &str, stack: &str, extra: &[&str]) -> (Child, String) {
    start_listening(
        wirebench()
            .args(["serve", workload, "--stack", stack, "--port", "0"])
            .args(["--workers", "1"])
            .args(extra),
    )
}

/// Starts `wirebench serve payload --stack STACK --port 0`.
pub fn serve_payload(stack: &str) -> (Child, String) {
    serve("payload", stack, &[])
}

/// Runs `wirebench load URL --quiet ARGS --json FILE`, asserts it succeeded,
/// and returns its one trial.
pub fn load_trial(url: &str, args: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    run_ok(
        wirebench()
            .args(["load", url, "--quiet"])
            .args(args)
            .arg("--json")
            .arg(&json),
    );
    read_json(&json)["trials"][0].clone()
}

/// Runs `wirebench load URL --quiet ARGS --json FILE` where no request is
/// meant to succeed: asserts it exited 98 (no good answer) and returns its
/// one trial.
pub fn load_trial_failing(url: &str, args: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let output = wirebench()
        .args(["load", url, "--quiet"])
        .args(args)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(98),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    read_json(&json)["trials"][0].clone()
}

/// Runs a command, asserts it succeeded (showing what it printed if not)
/// and returns its standard output.
pub fn run_ok(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{command:?}\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// grpcurl, by reflection, against a message server serving `served`
/// (`shop.v1.Cart`): the service declares the type, and `Down` answers.
/// Returns what `Down` printed.
pub fn grpcurl_message_service(peers: &Peers, addr: &str, served: &str) -> String {
    let grpcurl = peers.bin("grpcurl");
    let service = "wirebench.message.MessageService";
    let (ok, out) = run(Command::new(&grpcurl).args(["-plaintext", addr, "describe", service]));
    let echo = format!("rpc Echo ( .{served} ) returns ( .{served} )");
    assert!(ok && out.contains(&echo), "{out}");
    let down = format!("{service}/Down");
    let (ok, out) = run(Command::new(&grpcurl).args(["-plaintext", "-d", "{}", addr, &down]));
    assert!(ok, "{out}");
    out
}
