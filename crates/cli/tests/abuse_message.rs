//! Bad input against the message servers: malformed messages in either
//! encoding, a wrong content type, a message over the limit, a `down`
//! index that is not a number, an unknown direction byte. One test per case; the server refuses with the right
//! status and keeps serving.

mod common;

use std::time::Duration;

use common::wire::*;
use rstest::rstest;
use wirebench_proto::vocab::{Stack, StackKind};

const JSON: &str = "Content-Type: application/json\r\n";
const PROTOBUF: &str = "Content-Type: application/x-protobuf\r\n";

#[rstest]
#[case::malformed_json(
    "malformed JSON",
    http("POST", "/message", JSON, b"{\"orderId\":"),
    "400"
)]
#[case::wrong_field_type(
    "a field of the wrong type",
    http("POST", "/message/echo", JSON, b"{\"orderId\":{}}"),
    "400"
)]
#[case::garbage_protobuf("garbage protobuf", http("POST", "/message", PROTOBUF, &[0xff; 16]), "400")]
#[case::wrong_content_type(
    "wrong content type",
    http("POST", "/message", "Content-Type: text/plain\r\n", b"{}"),
    "415"
)]
#[case::over_the_limit(
    "message over the limit",
    http("POST", "/message/echo", JSON, &vec![b' '; 300 * 1024]),
    "413"
)]
#[case::unknown_route("unknown route", http("GET", "/messages", "", b""), "404")]
#[case::bad_index(
    "an index that is not a number",
    http("GET", "/message?index=-1", "", b""),
    "400"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_message_server_refuses_and_keeps_serving(
    #[case] case: &str,
    #[case] request: Vec<u8>,
    #[case] want: &str,
) {
    let addr = message_server(Stack::REST).await;
    let (reply, _) = exchange(addr, &request, Duration::from_secs(3)).await;
    let line = status_line(&reply);
    record(&format!("message rest: {case}"), 1, &line);
    assert!(line.contains(want), "{case}: {line}");
    assert_serves_message(Stack::REST, addr, case).await;
}

#[rstest]
#[case::garbage_message("garbage message", "application/grpc", grpc_frame(&[0xff; 16]), "grpc-status 3 ")]
#[case::malformed_json(
    "malformed JSON",
    "application/grpc+json",
    grpc_frame(b"{\"orderId\":"),
    "grpc-status 3 "
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_message_servers_refuse_malformed_messages(
    #[case] case: &str,
    #[case] content_type: &str,
    #[case] body: Vec<u8>,
    #[case] want: &str,
) {
    let kind = if content_type.ends_with("json") {
        StackKind::GrpcJson
    } else {
        StackKind::Grpc
    };
    let stack = Stack::plain(kind);
    let addr = message_server(stack).await;
    let path = "/wirebench.message.MessageService/Echo";
    let outcome = grpc_raw(addr, path, content_type, body, false).await;
    record(&format!("message {stack}: {case}"), 1, &outcome);
    assert!(outcome.contains(want), "{outcome}");
    assert_serves_message(stack, addr, case).await;
}

#[rstest]
#[case::unknown_direction("unknown direction byte", wirebench_proto::tcp_wire::frame(b"X"), 3)]
#[case::garbage_message("garbage message", wirebench_proto::tcp_wire::frame(&[b'U', 0xff, 0xff]), 3)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_message_server_answers_an_error_frame(
    #[case] case: &str,
    #[case] bytes: Vec<u8>,
    #[case] code: u8,
) {
    let tcp = Stack::plain(StackKind::Tcp);
    let addr = message_server(tcp).await;
    let (reply, closed) = exchange(addr, &bytes, Duration::from_secs(3)).await;
    record(
        &format!("message tcp: {case}"),
        1,
        &format!("{:?}", reply.get(8)),
    );
    assert!(
        closed && reply.starts_with(&[0xff; 4]) && reply.get(8) == Some(&code),
        "{case}: {reply:?}"
    );
    assert_serves_message(tcp, addr, case).await;
}
