//! Issue 6 through `wirebench bench`: every stack side by side with its
//! share of the TCP ceiling and bytes on the wire, paired trials in
//! interleaved order with a ratio and an interval, gRPC execution models,
//! TLS, and network conditions recorded in the result.

mod common;

use common::*;
use serde_json::Value;

fn bench(args: &[&str]) -> (Value, String) {
    let mut all = vec!["--quiet", "--warmup", "200ms", "--size-kb", "8", "-c", "4"];
    all.extend_from_slice(args);
    bench_json(&all)
}

/// Two paired trials give a ratio with the range of the pairs, called a
/// range (an interval needs three: docs/result-format.md).
#[test]
fn paired_trials_interleave_and_give_a_ratio_with_its_range() {
    let (result, stdout) = bench(&["--stacks", "tcp,rest,grpc", "--trials", "2", "-n", "400"]);
    let order: Vec<(String, u64)> = result["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["stack"].as_str().unwrap().to_owned(),
                t["repetition"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, u64)> = [
        ("tcp", 0),
        ("rest", 0),
        ("grpc", 0),
        ("tcp", 1),
        ("rest", 1),
        ("grpc", 1),
    ]
    .into_iter()
    .map(|(s, r)| (s.to_owned(), r))
    .collect();
    assert_eq!(order, expected, "A B C A B C");
    for trial in result["trials"].as_array().unwrap() {
        assert_eq!(trial["requests_ok"], 400, "{}", trial["errors"]);
        assert!(trial["wire_bytes_received_per_request"].as_f64().unwrap() > 8.0 * 1024.0);
        assert!(trial["wire_bytes_sent_per_request"].as_f64().unwrap() > 0.0);
    }
    let summary = &result["summary"];
    let groups = summary["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 3);
    assert_eq!(groups[0]["label"], "tcp");
    let baselines: Vec<&Value> = groups.iter().filter(|g| g["baseline"] == true).collect();
    assert_eq!(baselines.len(), 1);
    assert_eq!(baselines[0]["label"], "rest");
    assert_eq!(groups[0]["share_of_ceiling"], 1.0);
    assert!(groups[1]["share_of_ceiling"].as_f64().unwrap() > 0.0);
    let ratios = summary["ratios"].as_array().unwrap();
    let grpc = ratios.iter().find(|r| r["numerator"] == "grpc").unwrap();
    assert_eq!(grpc["throughput"]["pairs"], 2);
    assert_eq!(grpc["throughput"]["interval"], "range");
    assert!(grpc["throughput"]["confidence"].is_null());
    let (low, ratio, high) = (
        grpc["throughput"]["low"].as_f64().unwrap(),
        grpc["throughput"]["ratio"].as_f64().unwrap(),
        grpc["throughput"]["high"].as_f64().unwrap(),
    );
    assert!(low <= ratio && ratio <= high, "{low} {ratio} {high}");
    assert!(stdout.contains("(range "), "{stdout}");
    assert!(!stdout.contains("bootstrap 95%"), "{stdout}");
    assert!(stdout.contains("of ceiling"), "{stdout}");
}

#[test]
fn every_stack_and_tls_run_with_zero_errors() {
    let (result, _) = bench(&[
        "--stacks",
        "tcp,rest,rest-h2,rest-proto,grpc,grpc-json,rest-h2+tls,grpc+tls,tcp+tls",
        "-n",
        "200",
    ]);
    for trial in result["trials"].as_array().unwrap() {
        assert_eq!(
            trial["requests_ok"], 200,
            "{}: {}",
            trial["stack"], trial["errors"]
        );
        assert!(trial["wire"].as_str().unwrap().len() > 10);
    }
    // The TLS version is the one the connections negotiated (the client
    // offers 1.2 and 1.3; rustls's servers pick 1.3), not a fixed text.
    for stack in ["rest-h2+tls", "grpc+tls", "tcp+tls"] {
        let tls = result["trials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["stack"] == stack)
            .unwrap();
        let wire = tls["wire"].as_str().unwrap();
        assert!(
            wire.contains("over TLS 1.3 (negotiated)"),
            "{stack}: {wire}"
        );
    }
}

#[test]
fn the_pipeline_runs_over_every_stack_and_tls_with_checked_summaries() {
    let stacks = "tcp,rest,rest-h2,rest-proto,grpc,grpc-json,\
        tcp+tls,rest+tls,rest-h2+tls,rest-proto+tls,grpc+tls,grpc-json+tls";
    let (result, _) = bench(&[
        "--workload",
        "pipeline",
        "--records",
        "20",
        "--stacks",
        stacks,
        "-n",
        "100",
    ]);
    let trials = result["trials"].as_array().unwrap();
    let names: Vec<&str> = trials
        .iter()
        .map(|t| t["stack"].as_str().unwrap())
        .collect();
    assert_eq!(names.join(","), stacks.replace(' ', ""));
    for trial in trials {
        // Every answer was checked against the locally computed summary
        // (count and checksum), in the stack's own encoding.
        assert_eq!(
            trial["requests_ok"], 100,
            "{}: {}",
            trial["stack"], trial["errors"]
        );
        assert_eq!(trial["workload"], "pipeline");
        assert_eq!(trial["processes"].as_array().unwrap().len(), 4);
        assert!(trial["wire_bytes_received_per_request"].as_f64().unwrap() > 0.0);
    }
    // JSON summaries are longer than protobuf ones; the TCP ceiling's are the
    // shortest of all.
    let received = |stack: &str| {
        trials.iter().find(|t| t["stack"] == stack).unwrap()["wire_bytes_received_per_request"]
            .as_f64()
            .unwrap()
    };
    assert!(received("tcp") < received("rest-proto"));
    assert!(received("rest-proto") < received("rest"));
    // Between services too: what the producer wrote per request is its
    // batch of 20 records, bigger as JSON than as protobuf, and every
    // server's bytes add up to more than the client saw.
    let producer_wrote = |stack: &str| {
        let trial = trials.iter().find(|t| t["stack"] == stack).unwrap();
        let producer = trial["processes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["role"] == "producer")
            .unwrap();
        producer["io_written_bytes"].as_f64().unwrap() / 100.0
    };
    assert!(producer_wrote("tcp") < producer_wrote("rest"));
    assert!(producer_wrote("grpc") < producer_wrote("grpc-json"));
    for trial in trials {
        let all = trial["costs"]["server_bytes_written_per_request"]
            .as_f64()
            .unwrap();
        assert!(
            all > trial["wire_bytes_received_per_request"].as_f64().unwrap(),
            "{}",
            trial["stack"]
        );
    }
}

#[test]
fn grpc_execution_models_run_side_by_side() {
    let (result, stdout) = bench(&[
        "--stacks",
        "grpc",
        "--grpc-exec",
        "async,pool:4",
        "-n",
        "300",
    ]);
    let execs: Vec<&str> = result["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["grpc_exec"].as_str().unwrap())
        .collect();
    assert_eq!(execs, ["async", "pool:4"]);
    assert!(stdout.contains("grpc (handlers pool:4)"), "{stdout}");
}

/// 10 ms each way: every stack's fastest request takes the round trip,
/// and about the same beyond it (the delay is the path's, not a stack's).
#[test]
fn network_conditions_slow_every_stack_alike_and_are_recorded() {
    let (result, _) = bench(&[
        "--stacks",
        "rest,grpc",
        "--net",
        "latency=10ms",
        "-n",
        "100",
    ]);
    let mut fastest = Vec::new();
    for trial in result["trials"].as_array().unwrap() {
        assert_eq!(trial["net"], "latency=10ms");
        let min = trial["latency_us"]["min"].as_u64().unwrap();
        assert!(min >= 20_000, "{}", trial["latency_us"]);
        fastest.push(min);
    }
    // Alike: beyond the 20 ms round trip, the two stacks' fastest requests
    // differ by less than the round trip itself.
    let (low, high) = (fastest[0].min(fastest[1]), fastest[0].max(fastest[1]));
    assert!(high - low < 20_000, "fastest: {fastest:?} us");
    assert!(
        result["run"]["settings"]["net"]["latency_s"]
            .as_f64()
            .unwrap()
            > 0.009
    );
}
