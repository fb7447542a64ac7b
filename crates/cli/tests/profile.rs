//! `bench --profile`: perf samples the servers and the load generator
//! over each trial's window; the result holds the shares by category and
//! the folded stacks, the HTML report a flame graph per stack. Needs perf
//! (scripts/install-peers.sh installs it; CI runs as root): missing, the
//! test fails in CI and is skipped elsewhere.

mod common;

use common::*;

#[test]
fn every_trial_is_profiled_and_the_report_shows_its_flame_graph() {
    let Some(_peers) = peers(&["perf"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let stdout = run_ok(wirebench().args([
        "bench",
        "--stacks",
        "rest,grpc",
        "--profile",
        "--size-kb",
        "16",
        "-t",
        "2s",
        "--warmup",
        "0s",
        "-c",
        "8",
        "--out",
        out.to_str().unwrap(),
    ]));
    if stdout.contains("profile: unavailable") {
        assert!(std::env::var_os("CI").is_none(), "{stdout}");
        eprintln!("SKIPPED: {stdout}");
        return;
    }
    let result = read_json(&out.join("result.json"));
    for trial in result["trials"].as_array().unwrap() {
        let profile = &trial["profile"];
        assert_eq!(profile["frequency_hz"], 199, "{}", trial["stack"]);
        // A busy server for 2 s at 199 samples a second.
        let samples = profile["server_samples"].as_u64().unwrap();
        assert!(samples > 50, "{samples} server samples");
        for role in ["server", "client"] {
            let total: f64 = profile[role]
                .as_array()
                .unwrap()
                .iter()
                .map(|share| share["percent"].as_f64().unwrap())
                .sum();
            assert!((total - 100.0).abs() < 0.01, "{role}: {total}");
        }
        let folded = profile["folded"].as_array().unwrap();
        assert!(
            folded
                .iter()
                .any(|s| s.as_str().unwrap().starts_with("server;"))
        );
    }
    // The REST server spends its time writing JSON, the gRPC one none.
    let encoding = |stack: &str| {
        let trial = result["trials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["stack"] == stack)
            .unwrap();
        trial["profile"]["server"][0]["percent"].as_f64().unwrap()
    };
    assert!(encoding("rest") > encoding("grpc"), "{stdout}");
    assert!(stdout.contains("kernel net"), "{stdout}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Where the CPU went"));
    assert_eq!(html.matches("data:image/svg+xml;base64,").count(), 2);
}
