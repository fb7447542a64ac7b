//! What every HTTP server faces, whatever it serves: an invalid request
//! line, a broken HTTP/2 preface, garbage frames, a silent connection, a
//! reset mid-request. One test per server and case; each server must close
//! the connection, and the payload servers must still answer afterwards.

mod common;

use common::wire::*;
use rstest::rstest;
use wirebench_proto::vocab::{Stack, StackKind};
use wirebench_server::pipeline::Role;

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_servers_close_on_http_abuse(
    #[values(StackKind::Rest, StackKind::Grpc, StackKind::GrpcJson)] kind: StackKind,
    #[values(
        HttpAbuse::InvalidRequestLine,
        HttpAbuse::BrokenPreface,
        HttpAbuse::GarbageFrames,
        HttpAbuse::Idle,
        HttpAbuse::ResetMidRequest
    )]
    case: HttpAbuse,
) {
    let stack = Stack::plain(kind);
    let addr = payload_server(stack).await;
    http_abuse(case, &stack.name(), addr).await;
    assert_serves(stack, addr, &format!("{case:?}")).await;
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_producers_close_on_http_abuse(
    #[values(StackKind::Rest, StackKind::Grpc)] kind: StackKind,
    #[values(
        HttpAbuse::InvalidRequestLine,
        HttpAbuse::BrokenPreface,
        HttpAbuse::GarbageFrames,
        HttpAbuse::Idle,
        HttpAbuse::ResetMidRequest
    )]
    case: HttpAbuse,
) {
    let stack = Stack::plain(kind);
    let addr = pipeline_server(stack, Role::Producer).await;
    http_abuse(case, &format!("pipeline {stack} producer"), addr).await;
    assert_producer_serves(kind, addr).await;
}

/// Three records from a pipeline producer, over REST or gRPC.
async fn assert_producer_serves(kind: StackKind, addr: std::net::SocketAddr) {
    if kind == StackKind::Rest {
        let request = http("GET", "/generate?records=3", "", b"");
        let (reply, _) = exchange(addr, &request, std::time::Duration::from_secs(3)).await;
        assert!(status_line(&reply).contains("200"), "still serves");
    } else {
        let three = grpc_frame(&[0x10, 0x03]);
        let outcome = grpc_raw(
            addr,
            "/ProducerService/Generate",
            "application/grpc",
            three,
            false,
        )
        .await;
        assert!(outcome.contains("grpc-status 0"), "still serves: {outcome}");
    }
}
