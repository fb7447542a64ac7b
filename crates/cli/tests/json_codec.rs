//! `--json-codec`: the JSON stacks served by serde_json and by sonic-rs,
//! as a factor of one run, on every workload that speaks JSON; every
//! answer checked by the client (which encodes with serde_json), so a
//! codec that wrote other JSON would fail here.

mod common;

use common::*;

fn trials(result: &serde_json::Value) -> &Vec<serde_json::Value> {
    result["trials"].as_array().unwrap()
}

#[test]
fn every_json_stack_runs_with_each_codec_and_the_verdict_names_them() {
    let (result, stdout) = bench_json(&[
        "--stacks",
        "rest,rest-h2,grpc-json,grpc",
        "--json-codec",
        "serde_json,sonic-rs",
        "--size-kb",
        "4",
        "-n",
        "200",
        "-c",
        "4",
        "--warmup",
        "0s",
    ]);
    let trials = trials(&result);
    // Three JSON stacks twice, grpc (protobuf) once, without a codec.
    assert_eq!(trials.len(), 7, "{stdout}");
    for trial in trials {
        assert_eq!(trial["requests_ok"], 200, "{trial}");
        let json = trial["stack"] != "grpc";
        assert_eq!(trial["json_codec"].is_string(), json, "{trial}");
        if json {
            assert_eq!(trial["variant"], trial["json_codec"], "{trial}");
        }
    }
    let sonic = trials
        .iter()
        .filter(|t| t["json_codec"] == "sonic-rs")
        .count();
    assert_eq!(sonic, 3);
    assert!(
        stdout.contains(
            "JSON (rest, rest-h2, grpc-json) encoded and decoded by serde_json and sonic-rs."
        ),
        "{stdout}"
    );
    assert!(stdout.contains("rest (sonic-rs)"), "{stdout}");
}

#[test]
fn the_pipeline_and_messages_are_served_by_sonic_rs_too() {
    let (result, _) = bench_json(&[
        "--workload",
        "pipeline",
        "--stacks",
        "rest,grpc-json",
        "--json-codec",
        "sonic-rs",
        "-n",
        "100",
        "-c",
        "4",
        "--warmup",
        "0s",
    ]);
    for trial in trials(&result) {
        assert_eq!(trial["requests_ok"], 100, "{trial}");
        assert_eq!(trial["json_codec"], "sonic-rs", "{trial}");
        // One codec: nothing to tell apart.
        assert!(trial["variant"].is_null(), "{trial}");
    }
    for direction in ["down", "up", "echo"] {
        let (result, _) = bench_json(&[
            "--workload",
            "message",
            "--shape",
            "order",
            "--direction",
            direction,
            "--stacks",
            "rest,grpc-json",
            "--json-codec",
            "sonic-rs",
            "-n",
            "100",
            "--warmup",
            "0s",
        ]);
        for trial in trials(&result) {
            assert_eq!(trial["requests_ok"], 100, "{direction}: {trial}");
        }
    }
}
