//! Bad input against the TCP ceiling and the pipeline's REST, gRPC,
//! grpc-json and TCP roles: one test per case, each on its own server,
//! which must refuse the request and keep serving.

mod common;

use std::time::Duration;

use common::wire::*;
use prost::Message;
use rstest::rstest;
use wirebench_proto::pipeline::{GenerateRequest, RecordBatch};
use wirebench_proto::tcp_wire::frame;
use wirebench_proto::vocab::{Stack, StackKind};
use wirebench_server::pipeline::Role;

const TCP: Stack = Stack::plain(StackKind::Tcp);

#[rstest]
#[case::wrong_request_length(
    "wrong request length",
    vec![0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]
)]
#[case::text_instead_of_a_frame("text instead of a frame", b"GET / HTTP/1.1\r\n\r\n".to_vec())]
#[case::size_over_the_limit(
    "size over the limit",
    [&[0u8, 0, 0, 8][..], &i64::MAX.to_le_bytes()].concat()
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_ceiling_answers_an_error_frame_and_keeps_serving(
    #[case] case: &str,
    #[case] bytes: Vec<u8>,
) {
    let addr = payload_server(TCP).await;
    let (reply, closed) = exchange(addr, &bytes, Duration::from_secs(3)).await;
    let text = String::from_utf8_lossy(&reply[8.min(reply.len())..]).into_owned();
    record(
        &format!("tcp: {case}"),
        1,
        &format!(
            "error frame \"{}\", closed",
            text.chars().take(50).collect::<String>()
        ),
    );
    assert!(
        closed && reply.starts_with(&[0xff; 4]),
        "tcp {case}: {reply:?}"
    );
    assert_serves(TCP, addr, case).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_ceiling_closes_a_truncated_request_when_idle() {
    let addr = payload_server(TCP).await;
    let (_, closed) = exchange(addr, &[0, 0, 0, 8, 1, 2], Duration::from_secs(5)).await;
    assert!(closed);
    record(
        "tcp: truncated request, then idle",
        1,
        "closed by the idle timeout",
    );
    assert_serves(TCP, addr, "a truncated request").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_ceiling_survives_a_reset_mid_request() {
    let addr = payload_server(TCP).await;
    rst_mid_request(addr, &[0, 0, 0, 8, 1]).await;
    record("tcp: reset mid-request", 1, "server unaffected");
    assert_serves(TCP, addr, "tcp resets").await;
}

#[rstest]
#[case::records_not_a_number("records not a number", "/generate?records=x", "400")]
#[case::records_over_the_limit("records over the limit", "/generate?records=5000", "413")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_rest_producer_refuses_bad_queries(
    #[case] case: &str,
    #[case] path: &str,
    #[case] want: &str,
) {
    let rest = pipeline_server(Stack::REST, Role::Producer).await;
    let (reply, _) = exchange(rest, &http("GET", path, "", b""), Duration::from_secs(3)).await;
    record(
        &format!("pipeline rest producer: {case}"),
        1,
        &status_line(&reply),
    );
    assert!(status_line(&reply).contains(want), "{case}");
    assert_producer_serves(StackKind::Rest, rest).await;
}

#[rstest]
#[case::garbage_message("garbage message", "/ProducerService/Generate", grpc_frame(&[0xff; 8]), false)]
#[case::stream_reset_mid_message(
    "stream reset mid-message",
    "/ProducerService/GenerateStream",
    vec![0, 0, 0, 0, 30, 0x08],
    true
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_grpc_producer_refuses_bad_calls(
    #[case] case: &str,
    #[case] path: &str,
    #[case] body: Vec<u8>,
    #[case] reset: bool,
) {
    let grpc = pipeline_server(Stack::GRPC, Role::Producer).await;
    let outcome = grpc_raw(grpc, path, "application/grpc", body, reset).await;
    record(&format!("pipeline grpc producer: {case}"), 1, &outcome);
    if !reset {
        assert!(!outcome.contains("grpc-status 0 "), "{outcome}");
    }
    assert_producer_serves(StackKind::Grpc, grpc).await;
}

fn generate(request_id: u64, records: u32) -> Vec<u8> {
    frame(
        &GenerateRequest {
            request_id,
            records,
        }
        .encode_to_vec(),
    )
}

#[rstest]
#[case::garbage_message("garbage message", frame(&[0xff; 8]), 3)]
#[case::records_over_the_limit("records over the limit", generate(1, 5000), 8)]
#[case::length_over_the_limit("length over the limit", vec![0x7f, 0, 0, 0, 1], 3)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_tcp_producer_answers_the_status_code_and_keeps_serving(
    #[case] case: &str,
    #[case] bytes: Vec<u8>,
    #[case] code: u8,
) {
    let tcp = pipeline_server(TCP, Role::Producer).await;
    let (reply, closed) = exchange(tcp, &bytes, Duration::from_secs(3)).await;
    let text = String::from_utf8_lossy(reply.get(9..).unwrap_or_default()).into_owned();
    record(
        &format!("pipeline tcp producer: {case}"),
        1,
        &format!(
            "error frame, code {code}: \"{}\", closed",
            text.chars().take(40).collect::<String>()
        ),
    );
    assert!(
        closed && reply.starts_with(&[0xff; 4]) && reply.get(8) == Some(&code),
        "tcp producer {case}: {reply:?}"
    );
    let (reply, _) = exchange(tcp, &generate(7, 3), Duration::from_secs(3)).await;
    let batch = RecordBatch::decode(&reply[4..]).expect("still serves");
    assert_eq!((batch.request_id, batch.records.len()), (7, 3), "{case}");
}

#[rstest]
#[case::malformed_json("malformed JSON", "application/grpc+json", b"{not json".as_slice(), "grpc-status 3 ")]
#[case::protobuf_content_type(
    "protobuf content type",
    "application/grpc",
    [0x10, 0x03].as_slice(),
    "415"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_grpc_json_producer_refuses_bad_calls(
    #[case] case: &str,
    #[case] content_type: &str,
    #[case] message: &[u8],
    #[case] want: &str,
) {
    let json = pipeline_server(Stack::plain(StackKind::GrpcJson), Role::Producer).await;
    let path = "/ProducerService/Generate";
    let outcome = grpc_raw(json, path, content_type, grpc_frame(message), false).await;
    record(&format!("pipeline grpc-json producer: {case}"), 1, &outcome);
    assert!(outcome.contains(want), "{outcome}");
    let three = grpc_frame(br#"{"records":3}"#);
    let outcome = grpc_raw(json, path, "application/grpc+json", three, false).await;
    assert!(outcome.contains("grpc-status 0"), "still serves: {outcome}");
}
