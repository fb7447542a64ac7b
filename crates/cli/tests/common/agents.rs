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
