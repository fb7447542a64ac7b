//! Issue 17 through the binary: gRPC-Web (binary and text, HTTP/1.1 and
//! HTTP/2; payload, message and pipeline), REST over HTTP/3, and gzip or
//! zstd on every HTTP and gRPC stack, with 0 errors and every answer
//! checked; then the peers we did not write: sonora's gRPC-Web client
//! and server, aioquic's HTTP/3 client, curl --compressed and grpcio
//! with gzip.

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;

const PEERS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/peers");

fn trials(result: &Value) -> &Vec<Value> {
    result["trials"].as_array().unwrap()
}

fn trial<'a>(result: &'a Value, stack: &str) -> &'a Value {
    trials(result)
        .iter()
        .find(|t| t["stack"] == stack)
        .unwrap_or_else(|| panic!("no {stack} trial"))
}

#[test]
fn the_new_stacks_answer_every_request_right() {
    let stacks = "grpc-web,grpc-web-text,rest-h3,grpc-web+tls,grpc-web-text+zstd";
    let (result, _) = bench_json(&[
        "--quiet",
        "--warmup",
        "200ms",
        "--size-kb",
        "64",
        "-c",
        "8",
        "-n",
        "300",
        "--stacks",
        stacks,
    ]);
    for trial in trials(&result) {
        assert_eq!(
            trial["requests_ok"], 300,
            "{}: {}",
            trial["stack"], trial["errors"]
        );
        let received = trial["wire_bytes_received_per_request"].as_f64().unwrap();
        if trial["stack"] == "grpc-web-text+zstd" {
            // 64 KiB of x, compressed, then base64.
            assert!(received < 8.0 * 1024.0, "{received}");
        } else {
            assert!(received > 64.0 * 1024.0, "{}: {received}", trial["stack"]);
        }
    }
    let text = trial(&result, "grpc-web-text");
    // base64: 4 bytes on the wire for every 3 of the frames.
    assert!(
        text["wire_bytes_received_per_request"].as_f64().unwrap() > 4.0 / 3.0 * 64.0 * 1024.0,
        "{}",
        text["wire_bytes_received_per_request"]
    );
    assert!(
        text["verification"]
            .as_str()
            .unwrap()
            .contains("gRPC-Web text")
    );
    let h3 = trial(&result, "rest-h3");
    assert!(
        h3["wire"].as_str().unwrap().contains("QUIC"),
        "{}",
        h3["wire"]
    );
    assert_eq!(h3["connections"], 1);
}

#[test]
fn compression_shrinks_the_wire_on_every_stack_family() {
    let stacks = "rest,rest+gzip,rest-h2+zstd,rest-proto+gzip,rest-h3+gzip,\
        grpc,grpc+gzip,grpc-json+zstd,grpc-web+gzip,rest+tls+zstd";
    let (result, stdout) = bench_json(&[
        "--quiet",
        "--warmup",
        "200ms",
        "-c",
        "4",
        "-n",
        "200",
        "--workload",
        "message",
        "--shape",
        "telemetry",
        "--direction",
        "echo",
        "--stacks",
        stacks,
    ]);
    for trial in trials(&result) {
        assert_eq!(
            trial["requests_ok"], 200,
            "{}: {}",
            trial["stack"], trial["errors"]
        );
    }
    let wire = |stack: &str| {
        let t = trial(&result, stack);
        t["wire_bytes_received_per_request"].as_f64().unwrap()
            + t["wire_bytes_sent_per_request"].as_f64().unwrap()
    };
    // Compressed both ways: well under the plain stack's bytes.
    assert!(wire("rest+gzip") < 0.6 * wire("rest"), "{stdout}");
    assert!(wire("grpc+gzip") < 0.8 * wire("grpc"), "{stdout}");
    // Every compressed stack, each family: its bytes on the wire, headers
    // and framing included, well under the message's encoded size both
    // ways (a stack that ignored +gzip or +zstd carries more than that).
    let size = &result["run"]["settings"]["message"]["sizes"][0];
    let body = |encoding: &str| size[encoding].as_f64().unwrap();
    for (stack, encoded) in [
        ("rest+gzip", body("json_bytes")),
        ("rest-h2+zstd", body("json_bytes")),
        ("rest-h3+gzip", body("json_bytes")),
        ("grpc-json+zstd", body("json_bytes")),
        ("rest+tls+zstd", body("json_bytes")),
        ("rest-proto+gzip", body("protobuf_bytes")),
        ("grpc+gzip", body("protobuf_bytes")),
        ("grpc-web+gzip", body("protobuf_bytes")),
    ] {
        assert!(
            wire(stack) < 0.85 * 2.0 * encoded,
            "{stack}: {} wire bytes a request for a {encoded} B message each way",
            wire(stack)
        );
    }
    let gzip = trial(&result, "rest+gzip");
    assert!(
        gzip["wire"].as_str().unwrap().contains("gzip level 6"),
        "{}",
        gzip["wire"]
    );
    assert!(
        gzip["verification"]
            .as_str()
            .unwrap()
            .contains("gzip inflated"),
        "{}",
        gzip["verification"]
    );
}

#[test]
fn grpc_web_serves_the_pipeline_and_speaks_http2_too() {
    let (result, _) = bench_json(&[
        "--quiet",
        "--warmup",
        "200ms",
        "-c",
        "4",
        "-n",
        "100",
        "--workload",
        "pipeline",
        "--records",
        "20",
        "--stacks",
        "grpc-web,grpc-web-text+gzip",
    ]);
    for trial in trials(&result) {
        assert_eq!(
            trial["requests_ok"], 100,
            "{}: {}",
            trial["stack"], trial["errors"]
        );
        assert_eq!(trial["processes"].as_array().unwrap().len(), 4);
    }
    // gRPC-Web over HTTP/2 (h2c): the load engine's --http2.
    let (child, addr) = serve_payload("grpc-web");
    let _server = Guard(child);
    let trial = load_trial(
        &format!("http://{addr}"),
        &[
            "--stack",
            "grpc-web",
            "--http2",
            "-n",
            "200",
            "-c",
            "8",
            "--size-kb",
            "16",
        ],
    );
    assert_eq!(trial["requests_ok"], 200, "{}", trial["errors"]);
    assert_eq!(
        trial["connections"], 8,
        "one per sender unless --connections"
    );
}

#[test]
fn peers_speak_grpc_web_http3_and_compression_with_our_servers() {
    let Some(peers) = peers(&["curl"]) else {
        return;
    };
    let script = format!("{PEERS_DIR}/web_h3_peers.py");
    let python = |args: &[&str]| {
        let (ok, out) = run(Command::new(peers.python()).arg(&script).args(args));
        assert!(ok && out.trim_end().ends_with("ok"), "{args:?}: {out}");
    };

    // sonora's gRPC-Web client against our grpc-web server.
    let (child, addr) = serve_payload("grpc-web");
    let _web = Guard(child);
    python(&["web-client", &format!("http://{addr}")]);

    // grpcio, gzip both ways, against grpc+gzip.
    let (child, addr) = serve_payload("grpc+gzip");
    let _gzip = Guard(child);
    python(&["grpc-gzip", &addr]);

    // curl --compressed against rest+gzip: a gzip body, inflated by curl.
    let (child, addr) = serve_payload("rest+gzip");
    let _rest = Guard(child);
    let (ok, out) = run(Command::new("curl").args([
        "-sS",
        "--compressed",
        "-D",
        "-",
        &format!("http://{addr}/payload?size_in_kb=4"),
    ]));
    assert!(ok, "{out}");
    assert!(
        out.to_ascii_lowercase().contains("content-encoding: gzip"),
        "{out}"
    );
    let body = out.split("\r\n\r\n").nth(1).unwrap();
    assert_eq!(body, format!("{{\"data\":\"{}\"}}", "x".repeat(4096)));

    // aioquic's HTTP/3 client against rest-h3.
    let dir = tempfile::tempdir().unwrap();
    let key = wirebench_server::tls::CertifiedKey::self_signed().unwrap();
    let (cert, key_file) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert, &key.cert_pem).unwrap();
    std::fs::write(&key_file, &key.key_pem).unwrap();
    let (child, addr) = serve(
        "payload",
        "rest-h3",
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key_file.to_str().unwrap(),
        ],
    );
    let _h3 = Guard(child);
    let (host, port) = addr.rsplit_once(':').unwrap();
    python(&["h3", host, port, cert.to_str().unwrap()]);

    // Our load engine against sonora's gRPC-Web server (ASGI, uvicorn).
    // As released (0.2.3), sonora writes its trailer frame with Python's
    // bytes repr ("b'grpc-status': b'0'"): every answer is refused, and
    // the error says why.
    let sonora = |mode: &str| {
        let (child, addr) = start_listening(Command::new(peers.python()).args([
            script.as_str(),
            "web-server",
            mode,
        ]));
        (Guard(child), addr)
    };
    let args = [
        "--stack",
        "grpc-web",
        "-n",
        "200",
        "-c",
        "4",
        "--size-kb",
        "8",
    ];
    let (_as_is, addr) = sonora("as-is");
    let trial = load_trial_failing(&format!("http://{addr}"), &args);
    assert_eq!(trial["requests_ok"], 0);
    assert!(
        trial["errors"]["wrong_body"].as_u64().unwrap() > 0,
        "{}",
        trial["errors"]
    );
    let (_patched, addr) = sonora("patched");
    let trial = load_trial(&format!("http://{addr}"), &args);
    assert_eq!(trial["requests_ok"], 200, "{}", trial["errors"]);
}

#[test]
fn the_proxy_relays_quic_datagrams_with_their_delay() {
    let (result, _) = bench_json(&[
        "--quiet",
        "--warmup",
        "200ms",
        "-c",
        "4",
        "-n",
        "100",
        "--size-kb",
        "16",
        "--stacks",
        "rest-h3",
        "--net",
        "latency=10ms",
    ]);
    let trial = &trials(&result)[0];
    assert_eq!(trial["requests_ok"], 100, "{}", trial["errors"]);
    assert_eq!(trial["net"], "latency=10ms");
    // A request and its answer each wait 10 ms in the proxy.
    assert!(
        trial["latency_us"]["min"].as_u64().unwrap() >= 20_000,
        "{}",
        trial["latency_us"]
    );
}
