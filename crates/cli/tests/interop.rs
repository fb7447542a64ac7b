//! Proven against tools nobody here wrote (scripts/install-peers.sh
//! installs them; .ci/run calls it): curl, ab, wrk, hey, h2load (HTTP/2 REST
//! and gRPC by framed requests), Locust (an HttpUser and a grpcio user),
//! grpcurl with reflection, and a Python grpcio client for every gRPC
//! service, streaming rpcs included. Then the other way round: our load
//! engine against Python servers (Starlette/uvicorn, grpcio sync and aio)
//! implementing the seed contracts.

mod common;

use std::process::Command;

use common::*;

const PROTO_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../proto");
const PEERS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/peers");

fn serve(args: &[&str]) -> (Guard, String) {
    let (child, addr) = start_listening(wirebench().arg("serve").args(args).args([
        "--port",
        "0",
        "--workers",
        "1",
    ]));
    (Guard(child), addr)
}

#[test]
fn http_tools_agree_our_rest_server_answers_correctly() {
    let Some(_peers) = peers(&["curl", "ab", "wrk", "hey", "h2load"]) else {
        return;
    };
    let (_server, addr) = serve(&["payload", "--stack", "rest", "--max-size-kb", "1024"]);
    let url = format!("http://{addr}/payload?size_in_kb=16");

    let (ok, body) = run(Command::new("curl").args(["-sS", &url]));
    assert!(
        ok && body.len() == 16 * 1024 + 11 && body.starts_with(r#"{"data":"xxx"#),
        "{}",
        &body[..80.min(body.len())]
    );
    for (path, code) in [
        ("/nowhere", "404"),
        ("/payload?size_in_kb=abc", "400"),
        ("/payload?size_in_kb=2048", "413"),
    ] {
        let (_, got) = run(Command::new("curl").args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("http://{addr}{path}"),
        ]));
        assert_eq!(got, code, "{path}");
    }
    let (_, echoed) = run(Command::new("curl").args([
        "-s",
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"data":"hi"}"#,
        &format!("http://{addr}/echo"),
    ]));
    assert_eq!(echoed, r#"{"data":"hi"}"#);

    let (ok, out) = run(Command::new("ab").args(["-q", "-n", "300", "-c", "10", &url]));
    assert!(
        ok && out.contains("Complete requests:      300")
            && out.contains("Failed requests:        0"),
        "{out}"
    );

    let (ok, out) = run(Command::new("wrk").args(["-t1", "-c10", "-d2s", &url]));
    assert!(
        ok && out.contains("Requests/sec") && !out.contains("Non-2xx"),
        "{out}"
    );

    let (ok, out) = run(Command::new("hey").args(["-n", "300", "-c", "10", &url]));
    assert!(ok && out.contains("[200]\t300 responses"), "{out}");

    // HTTP/2 with prior knowledge on the same port.
    let (ok, out) = run(Command::new("h2load").args(["-n", "300", "-c", "2", "-m", "10", &url]));
    assert!(
        ok && out.contains("300 succeeded, 0 failed, 0 errored"),
        "{out}"
    );
}

#[test]
fn h2load_drives_our_grpc_server_with_framed_requests() {
    let Some(_peers) = peers(&["h2load"]) else {
        return;
    };
    let (_server, addr) = serve(&["payload", "--stack", "grpc"]);
    let dir = tempfile::tempdir().unwrap();
    // gRPC frame: no compression, 4-byte length, PayloadRequest{size_in_kb: 16}.
    let message = [0x08, 16];
    let mut frame = vec![0u8, 0, 0, 0, message.len() as u8];
    frame.extend_from_slice(&message);
    let data = dir.path().join("request.bin");
    std::fs::write(&data, frame).unwrap();
    let (ok, out) = run(Command::new("h2load")
        .args(["-n", "300", "-c", "1", "-m", "10", "-d"])
        .arg(&data)
        .args(["-H", "content-type: application/grpc", "-H", "te: trailers"])
        .arg(format!(
            "http://{addr}/payload.PayloadService/GetLargePayload"
        )));
    assert!(
        ok && out.contains("300 succeeded, 0 failed, 0 errored"),
        "{out}"
    );
    assert!(out.contains("status codes: 300 2xx"), "{out}");
    // A gRPC error is HTTP 200 to h2load too (its status is in the
    // trailers, with no message): the answers' bytes say each call got its
    // 16 KiB. Each DATA payload: the 5-byte prefix, then the message's tag,
    // 3-byte length and 16,384 bytes.
    assert_eq!(
        h2load_data_bytes(&out),
        300 * (5 + 1 + 3 + 16 * 1024),
        "{out}"
    );
}

/// The DATA bytes h2load received: "traffic: ... 4.69MB (4917900) data".
fn h2load_data_bytes(out: &str) -> u64 {
    let traffic = out
        .lines()
        .find(|l| l.trim_start().starts_with("traffic:"))
        .unwrap_or_else(|| panic!("no traffic line: {out}"));
    let before_data = traffic
        .split(") data")
        .next()
        .and_then(|s| s.rsplit('(').next())
        .unwrap_or_else(|| panic!("no data bytes: {traffic}"));
    before_data.parse().unwrap()
}

/// Starts the three pipeline services over `stack`; returns the guards
/// and the producer's and aggregator's addresses.
fn pipeline(stack: &str) -> (Vec<Guard>, String, String) {
    let (producer, producer_addr) = serve(&["pipeline", "--stack", stack, "--role", "producer"]);
    let (processor, processor_addr) = serve(&[
        "pipeline",
        "--stack",
        stack,
        "--role",
        "processor",
        "--upstream",
        &producer_addr,
    ]);
    let (aggregator, aggregator_addr) = serve(&[
        "pipeline",
        "--stack",
        stack,
        "--role",
        "aggregator",
        "--upstream",
        &processor_addr,
    ]);
    (
        vec![producer, processor, aggregator],
        producer_addr,
        aggregator_addr,
    )
}

#[test]
fn other_tools_read_the_pipeline_over_rest_h2_rest_proto_and_grpc_json() {
    let Some(peers) = peers(&["curl", "h2load"]) else {
        return;
    };
    // rest-h2: curl with prior knowledge gets the seed's summary over HTTP/2.
    let (_servers, _, aggregator) = pipeline("rest-h2");
    let (ok, out) = run(Command::new("curl").args([
        "-sS",
        "--http2-prior-knowledge",
        "-w",
        " HTTP/%{http_version}",
        &format!("http://{aggregator}/aggregate"),
    ]));
    assert!(
        ok && out.contains("69e426d1415168fa") && out.ends_with("HTTP/2"),
        "{out}"
    );

    // rest-proto: Python's HTTP client and protoc's classes decode the bodies.
    let (_servers, producer, aggregator) = pipeline("rest-proto");
    let client = format!("{PEERS_DIR}/rest_proto_client.py");
    let (ok, out) = run(Command::new(peers.python()).args([&client, &producer, &aggregator]));
    assert!(ok && out.trim_end().ends_with("ok"), "{out}");

    // grpc-json: h2load sends framed JSON with the grpc+json content type.
    let (_servers, _, aggregator) = pipeline("grpc-json");
    let dir = tempfile::tempdir().unwrap();
    let message = br#"{"records":10}"#;
    let mut frame = vec![0u8, 0, 0, 0, message.len() as u8];
    frame.extend_from_slice(message);
    let data = dir.path().join("request.bin");
    std::fs::write(&data, frame).unwrap();
    let (ok, out) = run(Command::new("h2load")
        .args(["-n", "200", "-c", "1", "-m", "10", "-d"])
        .arg(&data)
        .args([
            "-H",
            "content-type: application/grpc+json",
            "-H",
            "te: trailers",
        ])
        .arg(format!("http://{aggregator}/AggregatorService/Aggregate")));
    assert!(
        ok && out.contains("200 succeeded, 0 failed, 0 errored") && out.contains("200 2xx"),
        "{out}"
    );
    // Every call answered with a message (a gRPC error answers with
    // trailers only): a 5-byte prefix and a JSON summary of at least
    // `{"count":10,...}` each.
    assert!(h2load_data_bytes(&out) >= 200 * (5 + 20), "{out}");
}

#[test]
fn grpcurl_and_python_grpcio_call_every_grpc_service() {
    let Some(peers) = peers(&[]) else { return };
    let grpcurl = peers.bin("grpcurl");
    let (_payload, payload) = serve(&["payload", "--stack", "grpc"]);
    let (ok, out) = run(Command::new(&grpcurl).args(["-plaintext", &payload, "list"]));
    assert!(
        ok && out.contains("payload.PayloadService") && out.contains("grpc.health.v1.Health"),
        "{out}"
    );
    let (ok, out) = run(Command::new(&grpcurl).args([
        "-plaintext",
        &payload,
        "describe",
        "payload.PayloadService",
    ]));
    assert!(ok && out.contains("rpc GetLargePayload"), "{out}");
    let (ok, out) = run(Command::new(&grpcurl).args([
        "-plaintext",
        "-d",
        r#"{"size_in_kb": 1}"#,
        &payload,
        "payload.PayloadService/GetLargePayload",
    ]));
    assert!(ok && out.contains(r#""data":"#), "{out}");
    let (ok, out) = run(Command::new(&grpcurl).args([
        "-plaintext",
        "-d",
        r#"{"service": "payload.PayloadService"}"#,
        &payload,
        "grpc.health.v1.Health/Check",
    ]));
    assert!(ok && out.contains("SERVING"), "{out}");

    let (_producer, producer) = serve(&["pipeline", "--stack", "grpc", "--role", "producer"]);
    let (_processor, processor) = serve(&[
        "pipeline",
        "--stack",
        "grpc",
        "--role",
        "processor",
        "--upstream",
        &producer,
    ]);
    let (_aggregator, aggregator) = serve(&[
        "pipeline",
        "--stack",
        "grpc",
        "--role",
        "aggregator",
        "--upstream",
        &processor,
    ]);
    for (addr, service) in [
        (&producer, "ProducerService"),
        (&processor, "ProcessorService"),
        (&aggregator, "AggregatorService"),
    ] {
        let (ok, out) = run(Command::new(&grpcurl).args(["-plaintext", addr, "list"]));
        assert!(ok && out.contains(service), "{service}: {out}");
    }
    // The seed's own command, and a bidirectional stream carrying several requests.
    let (ok, out) = run(Command::new(&grpcurl).args([
        "-plaintext",
        "-d",
        "{}",
        &producer,
        "ProducerService.Generate",
    ]));
    assert!(ok && out.matches("\"label\"").count() == 100, "{out}");
    let (ok, out) = run(Command::new(&grpcurl).args([
        "-plaintext",
        "-d",
        r#"{"request_id": 1, "records": 2} {"request_id": 2, "records": 3}"#,
        &producer,
        "ProducerService.GenerateStream",
    ]));
    assert!(ok && out.matches("\"requestId\"").count() == 2, "{out}");
    let (ok, out) = run(Command::new(&grpcurl).args([
        "-plaintext",
        "-d",
        "{}",
        &aggregator,
        "AggregatorService.Aggregate",
    ]));
    assert!(ok && out.contains("69e426d1415168fa"), "{out}");

    let client = format!("{PEERS_DIR}/grpc_client.py");
    for (kind, addr) in [
        ("payload", &payload),
        ("producer", &producer),
        ("processor", &processor),
        ("aggregator", &aggregator),
    ] {
        let (ok, out) = run(Command::new(peers.python()).args([&client, kind, addr]));
        assert!(ok && out.trim_end().ends_with("ok"), "{kind}: {out}");
    }
}

/// Runs Locust headless for a few seconds; returns (requests, failures)
/// from its stats CSV.
fn locust(peers: &Peers, file: &str, host: &str) -> (u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("stats");
    let (ok, out) = run(Command::new(peers.bin("locust"))
        .args([
            "-f",
            &format!("{PEERS_DIR}/{file}"),
            "--headless",
            "-u",
            "5",
            "-r",
            "5",
            "-t",
            "3s",
            "--host",
            host,
            "--only-summary",
            "--csv",
        ])
        .arg(&prefix)
        .current_dir(dir.path()));
    let csv = std::fs::read_to_string(format!("{}_stats.csv", prefix.display()))
        .unwrap_or_else(|_| panic!("no stats: {out}"));
    let aggregated = csv
        .lines()
        .find(|l| l.contains(",Aggregated,"))
        .unwrap_or_else(|| panic!("{csv}"));
    let fields: Vec<&str> = aggregated.split(',').collect();
    let _ = ok; // Locust exits 1 when any request failed; the counts say why.
    (fields[2].parse().unwrap(), fields[3].parse().unwrap())
}

#[test]
fn locust_http_and_grpc_users_load_our_servers_without_failures() {
    let Some(peers) = peers(&[]) else { return };
    let (_rest, rest) = serve(&["payload", "--stack", "rest"]);
    let (requests, failures) = locust(&peers, "locust_rest.py", &format!("http://{rest}"));
    assert!(
        requests > 20 && failures == 0,
        "rest: {requests} requests, {failures} failures"
    );
    let (_grpc, grpc) = serve(&["payload", "--stack", "grpc"]);
    let (requests, failures) = locust(&peers, "locust_grpc.py", &format!("grpc://{grpc}"));
    assert!(
        requests > 20 && failures == 0,
        "grpc: {requests} requests, {failures} failures"
    );
}

#[test]
fn our_engine_drives_python_servers_of_the_seed_contracts() {
    let Some(peers) = peers(&[]) else { return };
    let load = load_trial;
    let (rest_child, rest) =
        start_listening(Command::new(peers.python()).arg(format!("{PEERS_DIR}/rest_server.py")));
    let _rest = Guard(rest_child);
    let trial = load(
        &format!("http://{rest}/payload?size_in_kb=16"),
        &["-n", "300", "-c", "10"],
    );
    assert_eq!(
        trial["requests_ok"], 300,
        "Starlette payload: {}",
        trial["errors"]
    );
    let trial = load(
        &format!("http://{rest}/aggregate"),
        &["-n", "100", "-c", "4"],
    );
    assert_eq!(
        trial["requests_ok"], 100,
        "Starlette pipeline: {}",
        trial["error_examples"]
    );

    for flavour in [&[][..], &["--aio"][..]] {
        let (grpc_child, grpc) = start_listening(
            Command::new(peers.python())
                .arg(format!("{PEERS_DIR}/grpc_server.py"))
                .args(flavour),
        );
        let _grpc = Guard(grpc_child);
        let trial = load(
            &format!("grpc://{grpc}"),
            &["--size-kb", "16", "-n", "300", "-c", "10"],
        );
        assert_eq!(
            trial["requests_ok"], 300,
            "grpcio {flavour:?} payload: {}",
            trial["errors"]
        );
        let trial = load(
            &format!("grpc://{grpc}"),
            &[
                "--call",
                "payload.PayloadService/Echo",
                "--size-kb",
                "4",
                "-n",
                "100",
            ],
        );
        assert_eq!(
            trial["requests_ok"], 100,
            "grpcio {flavour:?} echo: {}",
            trial["errors"]
        );
        let trial = load(
            &format!("grpc://{grpc}"),
            &[
                "--call",
                "AggregatorService.Aggregate",
                "--proto",
                &format!("{PROTO_DIR}/services.proto"),
                "-n",
                "100",
            ],
        );
        assert_eq!(
            trial["requests_ok"], 100,
            "grpcio {flavour:?} pipeline: {}",
            trial["error_examples"]
        );
    }
}

/// ghz-style metadata (`-H` on a grpc:// target) reaches a Python grpcio
/// server that refuses calls without it; `--authority` leaves the
/// connection where the URL says.
#[test]
fn grpc_metadata_reaches_a_python_server_that_checks_it() {
    let Some(peers) = peers(&[]) else { return };
    let (child, grpc) = start_listening(
        Command::new(peers.python())
            .arg(format!("{PEERS_DIR}/grpc_server.py"))
            .args(["--require-metadata", "x-tenant=acme"]),
    );
    let _grpc = Guard(child);
    let url = format!("grpc://{grpc}");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let output = wirebench()
        .args(["load", &url, "-n", "20", "--quiet", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let without = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(98),
        "no request succeeded: {without}"
    );
    let trial = &read_json(&json)["trials"][0];
    assert_eq!(trial["requests_ok"], 0, "{without}");
    assert!(
        trial["error_examples"]["grpc_status"]
            .as_str()
            .unwrap()
            .contains("x-tenant=acme is required"),
        "{}",
        trial["error_examples"]
    );
    let trial = load_trial(
        &url,
        &[
            "-H",
            "x-tenant: acme",
            "--authority",
            "api.example:443",
            "-n",
            "200",
            "-c",
            "4",
        ],
    );
    assert_eq!(trial["requests_ok"], 200, "{}", trial["error_examples"]);
}
