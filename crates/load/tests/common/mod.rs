//! Real servers on 127.0.0.1:0 for the engine's tests.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use wirebench_load::{Job, LoadModel, LoadPlan, StopAt, Target};
use wirebench_proto::vocab::{Stack, StackKind};
use wirebench_server::PayloadHandler;

/// A payload server of `stack`, stopped when the guard drops.
pub struct TestServer {
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
    pub task: tokio::task::JoinHandle<()>,
}

pub async fn start(stack: Stack, max_size_kb: u64) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        wirebench_server::serve(
            stack,
            listener,
            PayloadHandler::new(max_size_kb),
            wirebench_server::ServeOptions::default(),
            shutdown,
        )
        .await
        .unwrap();
    });
    TestServer {
        addr,
        _stop: stop,
        task,
    }
}

/// Every stack that has a form without TLS (all but rest-h3, which
/// `tls.rs` runs).
pub fn plain_stacks() -> Vec<Stack> {
    StackKind::ALL
        .into_iter()
        .map(Stack::plain)
        .filter(|stack| !stack.tls)
        .collect()
}

/// The payload contract of `stack`, as bench asks it.
pub fn payload_target(stack: Stack, addr: SocketAddr, size_kb: u64) -> Target {
    Target {
        authority: addr.to_string(),
        tls: None,
        kind: Job::Payload { size_kb }.request(stack).unwrap(),
    }
}

/// Response payload bytes one good answer of `size_kb` counts: the HTTP
/// body, the gRPC message, the TCP payload.
pub fn received_per_answer(stack: Stack, size_kb: u64) -> u64 {
    let len = size_kb * 1024;
    // A protobuf `bytes` field: its tag, the length as a varint, the data.
    let varint = if len < 128 {
        1
    } else if len < 16_384 {
        2
    } else {
        3
    };
    let protobuf = len + 1 + varint;
    match stack.kind {
        StackKind::Rest | StackKind::RestH2 | StackKind::RestH3 | StackKind::GrpcJson => len + 11,
        StackKind::RestProto | StackKind::Grpc => protobuf,
        // The whole body: the message's frame, then the trailer frame
        // with tonic-web's "grpc-status:0\r\n".
        StackKind::GrpcWeb => 5 + protobuf + 5 + 15,
        // The same frames in base64, each padded on its own.
        StackKind::GrpcWebText => (5 + protobuf).div_ceil(3) * 4 + 20_u64.div_ceil(3) * 4,
        StackKind::Tcp => len,
    }
}

pub fn plan(model: LoadModel, stop: StopAt, connections: u32) -> LoadPlan {
    LoadPlan::new(
        model,
        stop,
        Duration::ZERO,
        Duration::from_secs(2),
        connections,
    )
    .unwrap()
}
