//! The lean HTTP/1.1 client against servers that frame answers every way
//! HTTP/1.1 allows: Content-Length, chunked (with extensions and trailers),
//! until close; keep-alive and Connection: close; and a malformed head.
//! Raw sockets, so the bytes are exactly the ones under test.

mod common;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wirebench_load::{Client, ErrorKind, LoadModel, StopAt, run};
use wirebench_proto::vocab::Stack;

/// Answers every request on a connection with `answer(n)`.
async fn raw_server(answer: fn(usize) -> Vec<u8>, close_after: bool) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            n += 1;
            let start = n;
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut have = Vec::new();
                let mut i = start;
                loop {
                    let Ok(read) = socket.read(&mut buf).await else {
                        return;
                    };
                    if read == 0 {
                        return;
                    }
                    have.extend_from_slice(&buf[..read]);
                    while let Some(end) = have.windows(4).position(|w| w == b"\r\n\r\n") {
                        have.drain(..end + 4);
                        if socket.write_all(&answer(i)).await.is_err() {
                            return;
                        }
                        i += 1;
                        if close_after {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

const BODY: &str = r#"{"data":"xxxxxxxx"}"#;

fn chunked(_: usize) -> Vec<u8> {
    // Split mid-prefix and mid-data, with an extension and a trailer.
    let (a, b) = BODY.split_at(5);
    let (b, c) = b.split_at(6);
    format!(
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n{:x};ext=1\r\n{a}\r\n{:x}\r\n{b}\r\n{:x}\r\n{c}\r\n0\r\nx-trailer: yes\r\n\r\n",
        a.len(),
        b.len(),
        c.len()
    )
    .into_bytes()
}

fn until_close(_: usize) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{BODY}").into_bytes()
}

fn length_then_close(_: usize) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{BODY}",
        BODY.len()
    )
    .into_bytes()
}

fn malformed(_: usize) -> Vec<u8> {
    b"HTTP/1.1 2OO OK\r\n\r\n".to_vec()
}

async fn load(addr: std::net::SocketAddr, requests: u64) -> wirebench_load::LoadOutcome {
    // A target expecting 8 x in the seed's JSON.
    let mut target = common::payload_target(Stack::REST, addr, 0);
    if let wirebench_load::TargetKind::Http(http) = &mut target.kind {
        let mut exchange = http.exchanges.first().clone();
        exchange.check = wirebench_load::verify::BodyCheck::PayloadJson { len: 8 };
        http.exchanges = wirebench_load::Exchanges::one(exchange);
    }
    let plan = common::plan(
        LoadModel::Fixed { concurrency: 2 },
        StopAt::Requests(requests),
        2,
    );
    let client = Arc::new(Client::new(&target, 2).await.unwrap());
    run(&plan, client, std::future::pending()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_framing_is_read_and_checked() {
    for (name, answer, close) in [
        (
            "chunked, keep-alive",
            chunked as fn(usize) -> Vec<u8>,
            false,
        ),
        ("until close", until_close, true),
        ("content-length then close", length_then_close, true),
    ] {
        let addr = raw_server(answer, close).await;
        let outcome = load(addr, 50).await;
        assert_eq!(
            outcome.tally.requests_ok,
            50,
            "{name}: {:?}",
            outcome.tally.errors.examples_by_name()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_head_is_a_protocol_error_and_the_run_goes_on() {
    let addr = raw_server(malformed, false).await;
    let outcome = load(addr, 10).await;
    assert_eq!(outcome.tally.requests_ok, 0);
    assert_eq!(
        outcome.tally.errors.count(ErrorKind::Protocol),
        10,
        "{:?}",
        outcome.tally.errors.by_name()
    );
    let _ = Duration::ZERO;
}
