//! Helpers for the tests of sharded runs: histograms out of results, and
//! `wirebench merge -` fed the agents' logs.

use std::io::Write;
use std::process::{Output, Stdio};

use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;

/// A result's histogram (`latency_histogram`, HdrHistogram V2, base64).
pub fn histogram(encoded: &serde_json::Value) -> Histogram<u64> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.as_str().unwrap())
        .unwrap();
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .unwrap()
}

/// Checks one agent's trial of an open-loop plan of `plan` requests shared
/// by `agents`: no error, its share within one of plan / agents, a start
/// under 50 ms late. Adds its histogram to `all`; returns its requests and
/// its index.
pub fn check_agent(
    trial: &serde_json::Value,
    plan: u64,
    agents: u64,
    all: &mut Histogram<u64>,
) -> (u64, u64) {
    let agent = &trial["agents"][0];
    let index = agent["index"].as_u64().unwrap();
    let ok = trial["requests_ok"].as_u64().unwrap();
    assert_eq!(
        trial["errors"],
        serde_json::json!({}),
        "{}",
        trial["error_examples"]
    );
    assert!(
        ok.abs_diff(plan / agents) <= 1,
        "agent {index}: {ok} of {plan}"
    );
    // Recorded, and sane: how late an agent starts is the machine's
    // scheduling (a debug build among parallel tests), not a speed this
    // test can promise; the figure itself is what the result keeps.
    let late = agent["start_lateness_ms"].as_f64().unwrap();
    assert!(
        (0.0..1_000.0).contains(&late),
        "agent {index} started {late} ms late"
    );
    all.add(histogram(&trial["latency_histogram"])).unwrap();
    (ok, index)
}

/// `wirebench merge - ARGS` with `logs` on its standard input, as
/// `kubectl logs ... | wirebench merge -` runs it.
pub fn merge_logs(logs: &str, args: &[&std::ffi::OsStr]) -> Output {
    let mut merge = super::wirebench()
        .args(["merge", "-"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    merge
        .stdin
        .take()
        .unwrap()
        .write_all(logs.as_bytes())
        .unwrap();
    merge.wait_with_output().unwrap()
}
