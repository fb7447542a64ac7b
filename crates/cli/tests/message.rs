//! The message workload end to end: every stack (and +tls) serves a
//! built-in shape in every direction with every answer checked byte for
//! byte; protobuf stacks carry fewer bytes than JSON ones; Python's own
//! protobuf library reads the REST JSON as the canonical mapping and gets
//! the same message over gRPC; grpcurl finds the service and its type by
//! reflection.

mod common;

use std::process::Command;

use common::*;

const PEERS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/peers");

fn serve(args: &[&str]) -> (Guard, String) {
    let (child, addr) = start_listening(wirebench().args(["serve", "message"]).args(args).args([
        "--port",
        "0",
        "--workers",
        "1",
    ]));
    (Guard(child), addr)
}

#[test]
fn every_stack_carries_every_shape_every_way_with_zero_errors() {
    let stacks = "rest,rest-h2,rest-proto,grpc,grpc-json,tcp,rest+tls,rest-h2+tls,rest-proto+tls,grpc+tls,grpc-json+tls,tcp+tls";
    let (result, _) = bench_json(&[
        "--quiet",
        "--workload",
        "message",
        "--shape",
        "order,telemetry",
        "--direction",
        "down,up,echo",
        "--items",
        "20",
        "--stacks",
        stacks,
        "-n",
        "40",
        "-c",
        "4",
        "--warmup",
        "0s",
    ]);
    let trials = result["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 12 * 2 * 3);
    for trial in trials {
        assert_eq!(
            trial["requests_ok"], 40,
            "{} {}: {}",
            trial["stack"], trial["variant"], trial["error_examples"]
        );
        assert_eq!(trial["workload"], "message");
    }
    // Per direction, protobuf bodies are smaller than canonical JSON ones.
    let wire = |stack: &str, variant: &str| -> f64 {
        let t = trials
            .iter()
            .find(|t| t["stack"] == stack && t["variant"] == variant)
            .unwrap();
        t["wire_bytes_sent_per_request"].as_f64().unwrap()
            + t["wire_bytes_received_per_request"].as_f64().unwrap()
    };
    for variant in ["order down", "order up", "order echo", "telemetry echo"] {
        assert!(
            wire("rest-proto", variant) < wire("rest", variant),
            "{variant}"
        );
        assert!(
            wire("grpc", variant) < wire("grpc-json", variant),
            "{variant}"
        );
    }
    // Up sends the message and gets a few bytes back; down the reverse.
    let received = |variant: &str| {
        trials
            .iter()
            .find(|t| t["stack"] == "grpc" && t["variant"] == variant)
            .unwrap()["wire_bytes_received_per_request"]
            .as_f64()
            .unwrap()
    };
    assert!(received("order up") * 5.0 < received("order down"));
}

#[test]
fn python_protobuf_reads_the_rest_json_as_the_grpc_message_and_grpcurl_finds_it() {
    let Some(peers) = peers(&[]) else { return };
    let same = ["--shape", "order", "--seed", "42", "--items", "7"];
    let (_rest, rest) = serve(&[&["--stack", "rest"][..], &same].concat());
    let (_grpc, grpc) = serve(&[&["--stack", "grpc"][..], &same].concat());
    let check = format!("{PEERS_DIR}/message_check.py");
    let (ok, out) = run(Command::new(peers.python()).args([&check, &rest, &grpc]));
    assert!(ok && out.trim_end().ends_with("ok"), "{out}");

    let out = grpcurl_message_service(&peers, &grpc, "wirebench.shapes.Order");
    assert!(
        out.contains("\"lineItems\"") && out.contains("ORDER_STATUS_"),
        "{out}"
    );
}

#[test]
fn bad_message_flags_are_refused_before_anything_starts() {
    let (ok, out) = run(wirebench().args(["bench", "--workload", "message", "--shape", "invoice"]));
    assert!(
        !ok && out.contains("invoice") && out.contains("order"),
        "{out}"
    );
    let (ok, out) =
        run(wirebench().args(["bench", "--workload", "message", "--items", "0", "-n", "1"]));
    assert!(!ok && out.contains("--items"), "{out}");
}

#[test]
fn a_size_sweep_charts_each_stack_against_size_and_says_where_the_order_changes() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = run_ok(
        wirebench()
            .args([
                "bench",
                "--quiet",
                "--workload",
                "message",
                "--shape",
                "order",
                "--sizes",
                "1,8",
                "--stacks",
                "rest,grpc",
                "-n",
                "60",
                "-c",
                "3",
                "--warmup",
                "0s",
                "--out",
            ])
            .arg(dir.path()),
    );
    assert!(stdout.contains("order down, by "), "{stdout}");
    let result = read_json(&dir.path().join("result.json"));
    let sizes: Vec<u64> = result["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["size_kb"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [1, 8, 1, 8], "every stack at every size");
    // Items were scaled to reach each size: the 8 KiB order is at least
    // 8 KiB of protobuf, and its wire bytes show it.
    let wire = |i: usize| {
        result["trials"][i]["wire_bytes_received_per_request"]
            .as_f64()
            .unwrap()
    };
    assert!(
        wire(3) > 8.0 * 1024.0 && wire(3) > 4.0 * wire(2),
        "{} {}",
        wire(2),
        wire(3)
    );
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    for chart in ["sweep-cpu", "sweep-p50", "sweep-wire"] {
        assert!(html.contains(&format!("data-chart=\"{chart}\"")), "{chart}");
    }
    let (ok, out) = run(wirebench().args([
        "bench",
        "--workload",
        "message",
        "--shape",
        "tiny",
        "--sizes",
        "1,4",
    ]));
    assert!(!ok && out.contains("does not grow with --items"), "{out}");
}
