//! The user's own message: a schema the tests have never seen (nested
//! messages, an enum, maps, a oneof, repeated fields, int64, bytes, a
//! Timestamp) with values from a JSON Lines file, over every stack in every
//! direction; generated values; the built-in shapes through reflection;
//! bad schemas, names and data refused before any server starts, saying
//! where; grpcurl and Python grpcio against `serve message --proto`; our
//! `load` against `serve message` and against a Python grpcio server of
//! the same schema, the data file's lines sent in turn.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const PEERS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/peers");

/// The shipped example schema and its data (examples/shop/), as a user has them.
const SCHEMA: &str = include_str!("../../../examples/shop/shop.proto");

const DATA: &str = include_str!("../../../examples/shop/carts.jsonl");

/// The schema and data file in a fresh folder.
fn files() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("shop.proto");
    let data = dir.path().join("carts.jsonl");
    std::fs::write(&proto, SCHEMA).unwrap();
    std::fs::write(&data, DATA).unwrap();
    (dir, proto, data)
}

/// `serve message` of the cart schema with the data file's carts.
fn serve_cart(stack: &str, proto: &Path, data: &Path) -> (std::process::Child, String) {
    serve(
        "message",
        stack,
        &[
            "--proto",
            path(proto),
            "--message",
            "shop.v1.Cart",
            "--data",
            path(data),
        ],
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_schema_never_seen_runs_over_every_stack_every_way_with_zero_errors() {
    let (_dir, proto, data) = files();
    let stacks = "rest,rest-h2,rest-proto,grpc,grpc-json,tcp,rest+tls,rest-h2+tls,rest-proto+tls,grpc+tls,grpc-json+tls,tcp+tls";
    let (result, stdout) = bench_json(&[
        "--quiet",
        "--workload",
        "message",
        "--proto",
        path(&proto),
        "--message",
        "shop.v1.Cart",
        "--data",
        path(&data),
        "--direction",
        "down,up,echo",
        "--stacks",
        stacks,
        "-n",
        "30",
        "-c",
        "3",
        "--warmup",
        "0s",
    ]);
    assert!(stdout.contains("shop.v1.Cart"), "{stdout}");
    let trials = result["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 12 * 3);
    for trial in trials {
        assert_eq!(trial["codegen"], "compiled");
        assert_eq!(
            trial["requests_ok"], 30,
            "{} {}: {}",
            trial["stack"], trial["variant"], trial["error_examples"]
        );
    }
    let echo = trials
        .iter()
        .find(|t| t["variant"] == "shop.v1.Cart echo")
        .unwrap();
    assert!(
        echo["verification"]
            .as_str()
            .unwrap()
            .contains("by meaning"),
        "{}",
        echo["verification"]
    );
}

#[test]
fn generated_values_and_builtin_shapes_through_reflection_run_too() {
    let (_dir, proto, _) = files();
    let (result, _) = bench_json(&[
        "--quiet",
        "--workload",
        "message",
        "--proto",
        path(&proto),
        "--message",
        "shop.v1.Cart",
        "--items",
        "5",
        "--string-bytes",
        "40",
        "--direction",
        "echo",
        "--stacks",
        "rest,grpc,tcp",
        "-n",
        "30",
        "-c",
        "3",
        "--warmup",
        "0s",
    ]);
    for trial in result["trials"].as_array().unwrap() {
        assert_eq!(trial["requests_ok"], 30, "{}", trial["error_examples"]);
    }
    let (result, _) = bench_json(&[
        "--quiet",
        "--workload",
        "message",
        "--shape",
        "telemetry",
        "--codegen",
        "dynamic",
        "--direction",
        "down,up",
        "--stacks",
        "rest,grpc-json,rest-proto",
        "-n",
        "30",
        "-c",
        "3",
        "--warmup",
        "0s",
    ]);
    for trial in result["trials"].as_array().unwrap() {
        assert_eq!(trial["requests_ok"], 30, "{}", trial["error_examples"]);
        assert!(trial["variant"].as_str().unwrap().contains("(dynamic)"));
    }
}

#[test]
fn bad_schemas_names_and_data_are_refused_before_any_server_starts() {
    let (dir, proto, data) = files();
    let cart = ["--proto", path(&proto), "--message", "shop.v1.Cart"];
    fn with<'a>(cart: &[&'a str], data: &'a Path) -> Vec<&'a str> {
        [cart, &["--data", path(data)]].concat()
    }
    let bench = |extra: &[&str]| {
        let mut args = vec![
            "bench",
            "--workload",
            "message",
            "-n",
            "1",
            "--stacks",
            "rest",
        ];
        args.extend_from_slice(extra);
        run(wirebench().args(&args))
    };
    let broken = dir.path().join("broken.proto");
    std::fs::write(
        &broken,
        "syntax = \"proto3\";\nmessage X {\n  int32 a = 1\n}\n",
    )
    .unwrap();
    let (ok, out) = bench(&["--proto", path(&broken), "--message", "X"]);
    assert!(!ok && out.contains("broken.proto:4:1"), "{out}");
    let (ok, out) = bench(&["--proto", path(&proto), "--message", "shop.v1.Nope"]);
    assert!(
        !ok && out.contains("shop.v1.Cart") && out.contains("shop.v1.Money"),
        "{out}"
    );
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"id\": \"1\"}\n{\"tier\": \"PLATINUM\"}\n").unwrap();
    let (ok, out) = bench(&with(&cart, &bad));
    assert!(
        !ok && out.contains("bad.jsonl:2")
            && out.contains("field tier")
            && out.contains("PLATINUM"),
        "{out}"
    );
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "\n\n").unwrap();
    let (ok, out) = bench(&with(&cart, &empty));
    assert!(!ok && out.contains("holds no message"), "{out}");
    let (ok, out) = bench(&[&cart[..], &["--shape", "order"]].concat());
    assert!(!ok && out.contains("not both"), "{out}");
    let _ = data;
}

#[test]
fn grpcurl_and_python_grpcio_call_a_user_schema_by_reflection() {
    let Some(peers) = peers(&[]) else { return };
    let (_dir, proto, data) = files();
    let serve = |stack: &str| {
        let (child, addr) = serve_cart(stack, &proto, &data);
        (Guard(child), addr)
    };
    let (_grpc, grpc) = serve("grpc");
    let (_rest, rest) = serve("rest");
    let out = grpcurl_message_service(&peers, &grpc, "shop.v1.Cart");
    assert!(
        out.contains("\"9007199254740993\"") && out.contains("GOLD"),
        "{out}"
    );
    let check = format!("{PEERS_DIR}/message_user_check.py");
    let (ok, out) = run(Command::new(peers.python()).args([
        &check,
        path(&proto),
        "shop.v1.Cart",
        &grpc,
        &rest,
    ]));
    assert!(ok && out.trim_end().ends_with("ok"), "{out}");
}

/// `load` with the message flags: against our server, every line of the
/// data file in turn, each answer checked against its own line (the
/// lines differ, so a request checked against another line's answer
/// fails); then against a Python grpcio server of the same schema, which
/// we did not write: checked by meaning.
#[test]
fn load_sends_the_data_lines_in_turn_to_ours_and_to_a_python_server() {
    let (_dir, proto, data) = files();
    let (child, addr) = serve_cart("rest", &proto, &data);
    let _server = Guard(child);
    // Compiled, the canonical proto3 JSON as pbjson writes it: int64 and
    // its maps' keys as strings, map entries in key order, enum names,
    // RFC 3339 "Z", a Duration in seconds, bytes as base64.
    let (status, first) = exchange(&addr, "GET", "/message", "", b"");
    assert!(status.contains(" 200 "), "{status}");
    assert_eq!(
        String::from_utf8(first).unwrap(),
        r#"{"id":"9007199254740993","lines":[{"sku":"12","qty":2,"price":{"currency":"EUR","units":"3","nanos":500000000}}],"tags":{"a":"1","b":"2","ç":"naïve \"q\""},"tier":"GOLD","updated":"2024-05-01T12:00:00.250Z","credits":{"1":{"currency":"JPY"},"3":{"currency":"USD","units":"1"}},"ttl":"90.500s","token":"AAEC/w=="}"#
    );
    let message = [
        "--proto",
        path(&proto),
        "--message",
        "shop.v1.Cart",
        "--data-file",
        path(&data),
    ];
    for direction in ["down", "up", "echo"] {
        let trial = load_trial(
            &format!("http://{addr}"),
            &[&message[..], &["--direction", direction, "-n", "40"]].concat(),
        );
        assert_eq!(
            trial["requests_ok"], 40,
            "{direction}: {}",
            trial["error_examples"]
        );
        assert!(
            trial["verification"]
                .as_str()
                .unwrap()
                .contains("1 more requests, in turn"),
            "{}",
            trial["verification"]
        );
    }

    let Some(peers) = peers(&[]) else { return };
    let (child, grpc) = start_listening(Command::new(peers.python()).args([
        &format!("{PEERS_DIR}/message_server.py"),
        path(&proto),
        "shop.v1.Cart",
        path(&data),
    ]));
    let _python = Guard(child);
    for direction in ["down", "echo"] {
        let trial = load_trial(
            &format!("grpc://{grpc}"),
            &[
                &message[..],
                &["--direction", direction, "-n", "200", "-c", "4"],
            ]
            .concat(),
        );
        assert_eq!(
            trial["requests_ok"], 200,
            "Python {direction}: {}",
            trial["error_examples"]
        );
        assert!(
            trial["verification"]
                .as_str()
                .unwrap()
                .contains("by meaning"),
            "{}",
            trial["verification"]
        );
    }
}
