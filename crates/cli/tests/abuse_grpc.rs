//! Bad input against the gRPC payload servers (protobuf and JSON codecs),
//! at the message level: one test per codec and case, each on its own
//! server, which must refuse the call and keep serving.

mod common;

use common::wire::*;
use rstest::rstest;
use wirebench_proto::vocab::{Stack, StackKind};

const PATH: &str = "/payload.PayloadService/GetLargePayload";

/// A bad call: its body, whether the content type is the codec's own, and
/// whether the stream is reset after sending.
struct BadCall {
    body: Vec<u8>,
    own_content_type: bool,
    reset: bool,
}

fn call(body: Vec<u8>) -> BadCall {
    BadCall {
        body,
        own_content_type: true,
        reset: false,
    }
}

fn oversized() -> Vec<u8> {
    // 256 MiB announced, 100 bytes sent.
    let mut frame = vec![0u8, 0x10, 0, 0, 0];
    frame.extend_from_slice(&[0x0a; 100]);
    frame
}

#[rstest]
#[case::garbage_message("garbage message", |_| call(grpc_frame(&[0xff; 10])))]
#[case::truncated_message("truncated message", |_| call(vec![0, 0, 0, 0, 100, 0x08, 0x01]))]
#[case::message_over_the_limit("message over the limit (256 MiB announced)", |_| call(oversized()))]
#[case::compressed_flag(
    "compressed flag without compression",
    |_| call(vec![1, 0, 0, 0, 2, 0x08, 0x01])
)]
#[case::negative_size("negative size", |kind| call(grpc_frame(if kind == StackKind::Grpc {
    &[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
} else {
    br#"{"size_in_kb":-1}"#
})))]
#[case::wrong_content_type("wrong content type", |_| BadCall {
    own_content_type: false,
    ..call(grpc_frame(&[0x08, 0x01]))
})]
#[case::reset_mid_stream("reset mid-stream", |_| BadCall {
    reset: true,
    ..call(vec![0, 0, 0, 0, 50, 0x08])
})]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_refuses_bad_calls_and_keeps_serving(
    #[values(StackKind::Grpc, StackKind::GrpcJson)] kind: StackKind,
    #[case] case: &str,
    #[case] bad: fn(StackKind) -> BadCall,
) {
    let stack = Stack::plain(kind);
    let addr = payload_server(stack).await;
    let BadCall {
        body,
        own_content_type,
        reset,
    } = bad(kind);
    let content_type = match (own_content_type, kind) {
        (false, _) => "text/plain",
        (true, StackKind::Grpc) => "application/grpc",
        (true, _) => "application/grpc+json",
    };
    let outcome = grpc_raw(addr, PATH, content_type, body, reset).await;
    record(&format!("{stack}: {case}"), 1, &outcome);
    if !reset {
        assert!(
            !outcome.contains("grpc-status 0 "),
            "{stack} {case}: {outcome}"
        );
        assert!(!outcome.contains("no answer"), "{stack} {case}: {outcome}");
    }
    assert_serves(stack, addr, case).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_json_refuses_malformed_json_as_invalid_argument() {
    let stack = Stack::plain(StackKind::GrpcJson);
    let addr = payload_server(stack).await;
    let body = grpc_frame(b"{not json");
    let outcome = grpc_raw(addr, PATH, "application/grpc+json", body, false).await;
    record(&format!("{stack}: malformed JSON message"), 1, &outcome);
    assert!(outcome.contains("grpc-status 3"), "{outcome}");
    assert_serves(stack, addr, "malformed JSON").await;
}
