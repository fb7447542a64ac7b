//! Real servers on 127.0.0.1:0 for the engine's tests.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use wirebench_load::verify::BodyCheck;
use wirebench_load::{GrpcCall, HttpTarget, LoadModel, LoadPlan, StopAt, Target};
use wirebench_proto::vocab::Stack;
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
        wirebench_server::serve_payload(
            stack,
            listener,
            PayloadHandler::new(max_size_kb),
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

pub fn payload_target(stack: Stack, addr: SocketAddr, size_kb: u64) -> Target {
    match stack {
        Stack::Rest => Target::Http(HttpTarget {
            uri: format!("http://{addr}/payload?size_in_kb={size_kb}")
                .parse()
                .unwrap(),
            method: http::Method::GET,
            headers: http::HeaderMap::new(),
            body: Bytes::new(),
            check: BodyCheck::PayloadJson {
                len: size_kb as usize * 1024,
            },
        }),
        Stack::Grpc => Target::Grpc {
            authority: addr.to_string(),
            call: GrpcCall::GetLargePayload {
                size_in_kb: size_kb as i64,
            },
        },
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
