//! What every HTTP server faces, whatever it serves: an invalid request
//! line, a broken HTTP/2 preface, garbage frames, a silent connection, a
//! reset mid-request. One test per server and case; each server must close
//! the connection and still answer afterwards.

mod common;

use std::net::SocketAddr;

use common::wire::*;
use rstest::rstest;
use wirebench_proto::vocab::{Stack, StackKind};
use wirebench_server::pipeline::Role;

/// The HTTP servers under test.
#[derive(Debug, Clone, Copy)]
enum Server {
    Payload(StackKind),
    Producer(StackKind),
}

impl Server {
    async fn start(self) -> SocketAddr {
        match self {
            Server::Payload(kind) => payload_server(Stack::plain(kind)).await,
            Server::Producer(kind) => pipeline_server(Stack::plain(kind), Role::Producer).await,
        }
    }

    async fn assert_serves(self, addr: SocketAddr, after: &str) {
        match self {
            Server::Payload(kind) => assert_serves(Stack::plain(kind), addr, after).await,
            Server::Producer(kind) => assert_producer_serves(kind, addr).await,
        }
    }
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_servers_close_on_abuse_and_keep_serving(
    #[values(
        Server::Payload(StackKind::Rest),
        Server::Payload(StackKind::Grpc),
        Server::Payload(StackKind::GrpcJson),
        Server::Producer(StackKind::Rest),
        Server::Producer(StackKind::Grpc)
    )]
    server: Server,
    #[values(
        HttpAbuse::InvalidRequestLine,
        HttpAbuse::BrokenPreface,
        HttpAbuse::GarbageFrames,
        HttpAbuse::Idle,
        HttpAbuse::ResetMidRequest
    )]
    case: HttpAbuse,
) {
    let addr = server.start().await;
    http_abuse(case, &format!("{server:?}"), addr).await;
    server.assert_serves(addr, &format!("{case:?}")).await;
}
