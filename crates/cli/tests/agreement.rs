//! Independent tools agree with wirebench: scripts/agree.sh runs wrk, hey
//! and h2load (HTTP/2 and framed gRPC) against the same server as
//! wirebench, and fails when any req/s or latency ratio is off by more than
//! 30% (generous: this machine is shared; the note quotes a quiet run).
//! Each row is the median of five paired rounds that alternate which tool
//! goes first, and a disagreement must show twice in a row. h2load gets
//! wirebench's HTTP/2 settings (windows, 1 MiB frames), so the server
//! frames its answers alike for both.
//! Agreement is a property of the release build (a debug client is the
//! bottleneck), which .ci/run builds before the tests.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

#[test]
fn wirebench_agrees_with_wrk_hey_and_h2load_within_30_percent() {
    let Some(_peers) = peers(&["wrk", "hey", "h2load", "taskset"]) else {
        return;
    };
    let release = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/wirebench");
    if !release.exists() {
        let message = "no release build (cargo build --release): agreement is measured on it";
        if std::env::var_os("CI").is_some() {
            panic!("{message}");
        }
        eprintln!("SKIPPED: {message}");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/agree.sh");
    let agree = || {
        run(Command::new("bash")
            .arg(&script)
            .env("WIREBENCH", &release)
            .env("DURATION", "1")
            .env("ROUNDS", "5")
            .env("AGREE_WITHIN", "0.3"))
    };
    // This shared machine's speed swings within seconds (one run measured
    // wrk at 9,477 req/s and hey at 5,712 on the same server, seconds
    // apart; another gRPC through h2load at 5,284 and through wirebench at
    // 16,548): paired rounds cancel slow swings, the second try short ones.
    let (mut ok, mut out) = agree();
    if !ok {
        let (again, second) = agree();
        ok = again;
        out = format!("{out}\n{second}");
    }
    assert!(ok, "disagreed twice in a row:\n{out}");
    assert!(out.contains("gRPC (mean)") && out.contains("wrk"), "{out}");
}
