//! The second gRPC implementation, gRPC C-core through the `grpcio` crate:
//! served as `serve payload --stack grpc --grpc-impl grpcio`, checked by the
//! same contract as tonic's server, and compared with tonic as a factor of
//! `bench`. It is built with `--features grpcio` (cmake, C++); without it,
//! asking for it is a clear error.

mod common;

use common::*;

#[cfg(feature = "grpcio")]
#[test]
fn grpc_c_core_serves_the_payload_contract_and_keeps_serving_after_a_refusal() {
    let (child, addr) = serve(
        "payload",
        "grpc",
        &["--grpc-impl", "grpcio", "--max-size-kb", "64"],
    );
    let _server = Guard(child);
    let url = format!("grpc://{addr}");
    let trial = load_trial(
        &url,
        &["-n", "500", "-c", "8", "--size-kb", "16", "--warmup", "1s"],
    );
    assert_eq!(trial["requests_ok"], 500, "{}", trial["error_examples"]);
    // The same answers as tonic's, in size: 16 KiB of data in a protobuf
    // message.
    let (tonic, tonic_addr) = serve("payload", "grpc", &["--max-size-kb", "64"]);
    let _tonic = Guard(tonic);
    let same = load_trial(
        &format!("grpc://{tonic_addr}"),
        &["-n", "500", "-c", "8", "--size-kb", "16", "--warmup", "1s"],
    );
    assert_eq!(trial["bytes_received"], same["bytes_received"]);
    assert!(trial["bytes_received"].as_u64().unwrap() > 500 * 16 * 1024);
    // Over the limit: RESOURCE_EXHAUSTED, as tonic answers it.
    let refused = load_trial_failing(&url, &["-n", "5", "--size-kb", "128"]);
    let codes = refused["error_codes"].to_string();
    assert!(codes.contains("ResourceExhausted"), "{refused}");
    // Echo, through its own method.
    let echo = load_trial(
        &url,
        &[
            "--call",
            "payload.PayloadService/Echo",
            "-d",
            r#"{"data":"aGVsbG8="}"#,
            "--proto",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../proto/payload.proto"),
            "-n",
            "50",
        ],
    );
    assert_eq!(echo["requests_ok"], 50, "{echo}");
    let trial = load_trial(&url, &["-n", "100", "--size-kb", "1"]);
    assert_eq!(trial["requests_ok"], 100, "still serving");
}

#[cfg(feature = "grpcio")]
#[test]
fn bench_compares_tonic_and_grpc_c_core_as_a_factor() {
    let (result, stdout) = bench_json(&[
        "--stacks",
        "rest,grpc",
        "--grpc-impl",
        "tonic,grpcio",
        "--size-kb",
        "1",
        "-n",
        "2000",
        "-c",
        "10",
        "--warmup",
        "1s",
        "--quiet",
    ]);
    let trials = result["trials"].as_array().unwrap();
    let seen: Vec<(String, String, String)> = trials
        .iter()
        .map(|t| {
            (
                t["stack"].as_str().unwrap().to_owned(),
                t["variant"].as_str().unwrap_or("").to_owned(),
                t["grpc_impl"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expected = [
        ("rest", "", ""),
        ("grpc", "tonic", "tonic"),
        ("grpc", "grpcio", "grpcio"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(seen, expected);
    for trial in trials {
        assert_eq!(trial["requests_ok"], 2000, "{}", trial["variant"]);
    }
    assert!(stdout.contains("grpc (grpcio)"), "{stdout}");
}

#[test]
fn grpc_c_core_is_refused_where_it_cannot_serve() {
    let (ok, said) = run(wirebench().args([
        "serve",
        "payload",
        "--stack",
        "rest",
        "--port",
        "0",
        "--grpc-impl",
        "grpcio",
    ]));
    assert!(!ok && said.contains("plain grpc stack only"), "{said}");
    let (ok, said) = run(wirebench().args([
        "bench",
        "--stacks",
        "rest",
        "--grpc-impl",
        "grpcio",
        "-n",
        "10",
    ]));
    assert!(!ok && said.contains("add grpc to --stacks"), "{said}");
    #[cfg(not(feature = "grpcio"))]
    {
        let (ok, said) = run(wirebench().args([
            "serve",
            "payload",
            "--stack",
            "grpc",
            "--port",
            "0",
            "--grpc-impl",
            "grpcio",
        ]));
        assert!(!ok && said.contains("--features grpcio"), "{said}");
    }
}
