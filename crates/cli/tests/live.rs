//! What a run shows while it runs, and how it stops when it is already
//! lost: the live view on a real terminal (tmux's, read back with
//! capture-pane), plain progress lines when standard output is a pipe, and
//! `--abort-on-fail` (k6's abortOnFail) ending a trial at its first lost
//! threshold with the partial result kept and exit code 99, on `load` and
//! on `bench`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

/// A threshold no server meets: no answer comes back in under a microsecond.
const LOST: &str = "p99<1us";

#[test]
fn abort_on_fail_ends_the_window_at_the_first_lost_threshold_and_keeps_the_result() {
    let (child, rest) = serve_payload("rest");
    let _rest = Guard(child);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let output = wirebench()
        .args(["load", &format!("http://{rest}/payload?size_kb=1")])
        .args(["-z", "60s", "-c", "2", "--warmup", "0s", "--quiet"])
        .args(["--threshold", "errors<50%", "--threshold", LOST])
        .args(["--abort-on-fail", "--abort-delay", "500ms"])
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(99), "{stdout}");
    let trial = read_json(&json)["trials"][0].clone();
    let aborted = trial["aborted"].as_str().expect("the lost threshold named");
    assert!(aborted.starts_with("p99<1us: "), "{aborted}");
    // Judged from the delay on, once a timeline bin: the window ended
    // within a bin or two of it, far before its 60 s.
    let window_s = trial["duration_s"].as_f64().unwrap();
    assert!((0.5..10.0).contains(&window_s), "window {window_s} s");
    assert!(trial["requests_ok"].as_u64().unwrap() > 0, "{trial}");
    assert!(!trial["interrupted"].as_bool().unwrap());
    let passed: Vec<bool> = trial["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(passed, [true, false], "the kept error bound still held");
    assert!(stdout.contains("rest (stopped early)"), "{stdout}");
    assert!(
        stdout.contains("stopped early by --abort-on-fail"),
        "{stdout}"
    );

    // A threshold that holds never stops the run.
    let trial = load_trial(
        &format!("http://{rest}/payload?size_kb=1"),
        &["-n", "300", "-c", "2", "--threshold", "errors<50%"],
    );
    assert!(trial.get("aborted").is_none(), "{trial}");
    assert_eq!(trial["requests_ok"], 300);

    // Without a threshold there is nothing to abort on.
    let (ok, text) =
        run(wirebench().args(["load", &format!("http://{rest}/payload"), "--abort-on-fail"]));
    assert!(!ok && text.contains("--threshold"), "{text}");
}

#[test]
fn bench_stops_each_lost_trial_and_goes_on_to_the_next_stack() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let output = wirebench()
        .args(["bench", "--stacks", "rest,grpc", "--size-kb", "1"])
        .args(["-z", "60s", "-c", "2", "--warmup", "0s", "--quiet"])
        .args(["--threshold", LOST, "--abort-on-fail"])
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(99), "{stdout}");
    let result = read_json(&json);
    let trials = result["trials"].as_array().unwrap();
    let stacks: Vec<&str> = trials
        .iter()
        .map(|t| t["stack"].as_str().unwrap())
        .collect();
    assert_eq!(stacks, ["rest", "grpc"]);
    for trial in trials {
        assert!(trial["aborted"].is_string(), "{trial}");
        assert!(trial["duration_s"].as_f64().unwrap() < 10.0, "{trial}");
    }
}

/// Plain lines on a pipe: no terminal codes, one line every few seconds.
#[test]
fn a_pipe_gets_plain_progress_lines() {
    let (child, rest) = serve_payload("rest");
    let _rest = Guard(child);
    let output = wirebench()
        .args(["load", &format!("http://{rest}/payload?size_kb=1")])
        .args(["-z", "6s", "-c", "2", "--warmup", "0s"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("rest: 5/6 s, ") && l.contains(" req/s, 0 errors so far")),
        "{stderr}"
    );
    assert!(
        !stdout.contains('\u{1b}') && !stderr.contains('\u{1b}'),
        "no escape codes on a pipe"
    );
}

fn tmux(args: &[&str]) -> String {
    let output = Command::new("tmux").args(args).output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Ends the test's own tmux server (its own socket) on drop, so a failed
/// assertion leaves nothing behind.
struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        tmux(&[&self.0, "kill-server"]);
    }
}

/// The live view on a real terminal: tmux runs `load` in a detached
/// 120x40 pane, and what the pane shows is read back while the run goes
/// (the gauge, the rates, the percentiles, the errors by kind, the
/// histogram) and once it ended (the view cleared, the result's table in
/// its place).
#[test]
fn the_live_view_draws_on_a_terminal_and_clears_for_the_result() {
    let Some(_peers) = peers(&["tmux"]) else {
        return;
    };
    let (child, rest) = serve_payload("rest");
    let _rest = Guard(child);
    let name = format!("wirebench-live-{}", std::process::id());
    let socket = format!("-Lwirebench-live-{}", std::process::id());
    let done = tempfile::NamedTempFile::new().unwrap();
    let command = format!(
        "{} load http://{rest}/payload?size_kb=1 -z 4s -c 2 --warmup 0s; echo exit=$? > {}; sleep 60",
        env!("CARGO_BIN_EXE_wirebench"),
        done.path().display()
    );
    tmux(&[
        &socket,
        "new-session",
        "-d",
        "-s",
        &name,
        "-x",
        "120",
        "-y",
        "40",
        &command,
    ]);
    let _session = Session(socket.clone());
    let capture = || tmux(&[&socket, "capture-pane", "-p", "-t", &name]);
    let mut live = String::new();
    let seen = eventually(Duration::from_secs(30), || {
        live = capture();
        live.contains("latency so far") && live.contains("p99") && live.contains("/4 s")
    });
    assert!(seen, "no live view in the pane:\n{live}");
    for expected in [
        "req/s",
        "(last 100ms)",
        "(so far)",
        "errors by kind: none",
        "\u{2588}",
    ] {
        assert!(live.contains(expected), "{expected:?} not in\n{live}");
    }
    let mut after = String::new();
    let ended = eventually(Duration::from_secs(60), || {
        after = capture();
        std::fs::read_to_string(done.path()).is_ok_and(|s| s.contains("exit=0"))
    });
    assert!(ended, "load did not end:\n{after}");
    assert!(
        !after.contains("latency so far"),
        "the view was not cleared:\n{after}"
    );
    assert!(
        after.contains("req/s median"),
        "the result's table follows:\n{after}"
    );
}
