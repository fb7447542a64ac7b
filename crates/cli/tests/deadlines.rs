//! Slow clients against freshly started servers, per protocol: headers
//! trickled a byte at a time, a body trickled a byte at a time, and a
//! gRPC call's own `grpc-timeout`. Each is cut off by its deadline, within
//! a second of it (the servers here run with a 1 s header deadline and a
//! 3 s request deadline, common/wire.rs), and the server keeps serving.
//! A byte every 200 ms keeps the idle deadline (1 s) from firing, so what
//! ends the connection is the deadline under test. Idle connections are
//! `abuse_http.rs`'s case; the metrics endpoint's are here.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::wire::*;
use rstest::rstest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wirebench_proto::vocab::{Stack, StackKind};

const TRICKLE: Duration = Duration::from_millis(200);

/// Within a second of the deadline: not before it, not long after.
fn assert_near(what: &str, took: Duration, deadline: Duration) {
    assert!(
        took + Duration::from_millis(100) >= deadline && took <= deadline + Duration::from_secs(1),
        "{what}: cut after {took:?}, the deadline is {deadline:?}"
    );
    record(
        what,
        1,
        &format!(
            "cut after {:.1} s (deadline {deadline:?})",
            took.as_secs_f64()
        ),
    );
}

/// Writes `head` at once, then `trickled` a byte every [`TRICKLE`], until
/// the server answers or closes: when, and what it said.
async fn trickle(addr: SocketAddr, head: &[u8], trickled: &[u8]) -> (Duration, Vec<u8>) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head).await.unwrap();
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    for byte in trickled.iter().cycle().take(200) {
        tokio::select! {
            read = stream.read(&mut buf) => {
                if let Ok(n) = read {
                    reply.extend_from_slice(&buf[..n]);
                }
                break;
            }
            () = tokio::time::sleep(TRICKLE) => {
                if stream.write_all(&[*byte]).await.is_err() {
                    break;
                }
            }
        }
    }
    let took = started.elapsed();
    // The rest of the answer, if any.
    while let Ok(Ok(n)) =
        tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buf)).await
    {
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
    }
    (took, reply)
}

async fn metrics_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        wirebench_server::metrics::serve(
            listener,
            "rest".into(),
            &options(),
            std::future::pending(),
        )
        .await
    });
    addr
}

/// An HTTP/1.1 server under test: a payload server, or the metrics
/// endpoint.
#[derive(Debug, Clone, Copy)]
enum Http1 {
    Payload(Stack),
    Metrics,
}

#[rstest]
#[case::rest(Http1::Payload(Stack::REST))]
#[case::grpc_web(Http1::Payload(Stack::plain(StackKind::GrpcWeb)))]
#[case::metrics_endpoint(Http1::Metrics)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_headers_trickled_are_cut_at_the_header_deadline(#[case] server: Http1) {
    let (addr, name) = match server {
        Http1::Payload(stack) => (payload_server(stack).await, stack.name()),
        Http1::Metrics => (metrics_server().await, "metrics".to_owned()),
    };
    let (took, reply) = trickle(addr, b"GET /", b"payload?size_in_kb=1&x=abcdefghijklmnop").await;
    let line = status_or_empty(&reply);
    assert!(reply.is_empty() || line.contains("408"), "{name}: {line}");
    assert_near(&format!("{name}: headers trickled"), took, HEADER);
    if let Http1::Payload(stack) = server {
        assert_serves(stack, addr, "trickled headers").await;
    }
}

#[rstest]
#[case::rest(Stack::REST, "application/json", "408")]
#[case::rest_proto(Stack::plain(StackKind::RestProto), "application/x-protobuf", "408")]
#[case::grpc_web(
    Stack::plain(StackKind::GrpcWeb),
    "application/grpc-web+proto",
    "grpc-status: 4"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_body_trickled_is_cut_at_the_request_deadline(
    #[case] stack: Stack,
    #[case] content_type: &str,
    #[case] want: &str,
) {
    let addr = payload_server(stack).await;
    let path = if stack.is_grpc() {
        "/payload.PayloadService/Echo"
    } else {
        "/echo"
    };
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: {content_type}\r\nContent-Length: 1005\r\n\r\n"
    )
    .into_bytes();
    if stack.is_grpc() {
        head.extend_from_slice(&GRPC_FRAME_OF_1000);
    }
    let (took, reply) = trickle(addr, &head, b" ").await;
    let text = String::from_utf8_lossy(&reply).to_lowercase();
    assert!(text.contains(want), "{}: {text}", stack.name());
    assert_near(&format!("{}: body trickled", stack.name()), took, REQUEST);
    assert_serves(stack, addr, "a trickled body").await;
}

/// A gRPC message's frame header announcing 1,000 bytes: what comes
/// after it is the message, trickled.
const GRPC_FRAME_OF_1000: [u8; 5] = [0, 0, 0, 0x03, 0xe8];

/// An HTTP/2 request whose body starts with `head`, then comes a byte
/// every [`TRICKLE`]: when the answer's headers came, and what they (or
/// the trailers) said.
async fn h2_trickle(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    head: &'static [u8],
) -> (Duration, String) {
    let started = Instant::now();
    let (response, mut send) = h2_post(addr, path, headers).await;
    send.send_data(Bytes::from_static(head), false).unwrap();
    let trickler = tokio::spawn(async move {
        for _ in 0..200 {
            tokio::time::sleep(TRICKLE).await;
            if send.send_data(Bytes::from_static(b" "), false).is_err() {
                return;
            }
        }
    });
    let response = tokio::time::timeout(Duration::from_secs(20), response)
        .await
        .expect("an answer within 20 s")
        .expect("an answer, not a reset");
    let took = started.elapsed();
    trickler.abort();
    let (head, mut body) = response.into_parts();
    let mut said = format!("HTTP {}", head.status.as_u16());
    if let Some(status) = head.headers.get("grpc-status") {
        said.push_str(&format!(", grpc-status {}", status.to_str().unwrap()));
    }
    while let Some(Ok(_)) = body.data().await {}
    if let Ok(Some(trailers)) = body.trailers().await
        && let Some(status) = trailers.get("grpc-status")
    {
        said.push_str(&format!(", grpc-status {}", status.to_str().unwrap()));
    }
    (took, said)
}

#[rstest]
#[case::rest_h2(
    Stack::plain(StackKind::RestH2),
    "/echo",
    "application/json",
    "HTTP 408"
)]
#[case::grpc(
    Stack::GRPC,
    "/payload.PayloadService/Echo",
    "application/grpc",
    "grpc-status 4"
)]
#[case::grpc_json(
    Stack::plain(StackKind::GrpcJson),
    "/payload.PayloadService/Echo",
    "application/grpc+json",
    "grpc-status 4"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_body_trickled_is_cut_at_the_request_deadline(
    #[case] stack: Stack,
    #[case] path: &str,
    #[case] content_type: &str,
    #[case] want: &str,
) {
    let addr = payload_server(stack).await;
    let headers = [("content-type", content_type), ("te", "trailers")];
    let head: &[u8] = if stack.is_grpc() {
        &GRPC_FRAME_OF_1000
    } else {
        b"{"
    };
    let (took, said) = h2_trickle(addr, path, &headers, head).await;
    assert!(said.contains(want), "{}: {said}", stack.name());
    assert_near(&format!("{}: body trickled", stack.name()), took, REQUEST);
    assert_serves(stack, addr, "a trickled body").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grpc_call_ends_at_its_own_grpc_timeout_with_deadline_exceeded() {
    let addr = payload_server(Stack::GRPC).await;
    let headers = [
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("grpc-timeout", "500m"),
    ];
    let (took, said) = h2_trickle(
        addr,
        "/payload.PayloadService/Echo",
        &headers,
        &GRPC_FRAME_OF_1000,
    )
    .await;
    assert!(said.contains("grpc-status 4"), "{said}");
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_millis(1500),
        "grpc-timeout 500m: answered after {took:?}"
    );
    record(
        "grpc: grpc-timeout 500m, body trickled",
        1,
        &format!("DEADLINE_EXCEEDED after {:.2} s", took.as_secs_f64()),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_frame_trickled_is_cut_at_the_request_deadline() {
    let tcp = Stack::plain(StackKind::Tcp);
    // The message server: its requests may be long enough to trickle.
    let addr = message_server(tcp).await;
    let (took, reply) = trickle(addr, &1000u32.to_be_bytes(), b"E").await;
    // The error answer: the mark, the frame's length, then the status
    // code (4: DEADLINE_EXCEEDED) and the message.
    assert!(reply.len() > 8, "tcp: {reply:?}");
    assert_eq!(
        reply[..4],
        wirebench_proto::tcp_wire::ERROR_MARK.to_be_bytes()
    );
    let (code, message) = wirebench_proto::tcp_wire::parse_error(&reply[8..]);
    assert_eq!(code, 4, "tcp: {message}");
    assert_near("tcp: frame trickled", took, REQUEST);
    assert_serves_message(tcp, addr, "a trickled frame").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_endpoint_closes_idle_connections() {
    let addr = metrics_server().await;
    let started = Instant::now();
    let (_, closed) = exchange(addr, b"", IDLE * 4).await;
    assert!(closed, "metrics: idle connection kept");
    assert_near("metrics: idle connection", started.elapsed(), IDLE);
}

/// Connections that stop mid-body on a server started a moment ago are
/// closed by the idle deadline: nothing moves, so the request deadline
/// (60 s here) is not what ends them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_server_closes_connections_idle_mid_body_at_the_idle_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = wirebench_server::ServeOptions {
        request_timeout: Duration::from_secs(60),
        ..options()
    };
    tokio::spawn(wirebench_server::serve(
        Stack::REST,
        listener,
        wirebench_server::PayloadHandler::new(256),
        options,
        std::future::pending(),
    ));
    let started = Instant::now();
    let mut open = Vec::new();
    for _ in 0..8 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"da")
            .await
            .unwrap();
        open.push(stream);
    }
    let mut closed_after = Vec::new();
    for mut stream in open {
        let mut buf = [0u8; 512];
        let deadline = started + IDLE * 5;
        loop {
            match tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => {
                    closed_after.push(started.elapsed());
                    break;
                }
                Ok(Ok(_)) => continue,
                Err(_) => panic!(
                    "a connection idle mid-body was still open after {:?}",
                    IDLE * 5
                ),
            }
        }
    }
    let last = closed_after.iter().max().copied().unwrap();
    assert_near(
        "rest: 8 connections idle mid-body, fresh server",
        last,
        IDLE,
    );
    assert_serves(Stack::REST, addr, "idle mid-body connections").await;
}

/// HTTP/3: a body trickled a byte at a time over QUIC gets 408 at the
/// request deadline, as over TCP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http3_body_trickled_is_cut_at_the_request_deadline() {
    use wirebench_load::{TlsClient, Trust};
    use wirebench_server::tls::CertifiedKey;
    let key = CertifiedKey::self_signed().unwrap();
    let stack = Stack::plain(StackKind::RestH3);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(wirebench_server::serve(
        stack,
        listener,
        wirebench_server::PayloadHandler::new(256),
        wirebench_server::ServeOptions {
            tls: Some(key.server_config(stack.alpn()).unwrap()),
            ..options()
        },
        std::future::pending(),
    ));
    let tls = TlsClient::new("localhost", stack.alpn(), &Trust::Pem(key.cert_pem.clone())).unwrap();
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls.config.clone()).unwrap();
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    endpoint.set_default_client_config(quinn::ClientConfig::new(std::sync::Arc::new(crypto)));
    let started = Instant::now();
    let quic = endpoint.connect(addr, "localhost").unwrap().await.unwrap();
    let (mut driver, mut send) = h3::client::new(h3_quinn::Connection::new(quic))
        .await
        .unwrap();
    tokio::spawn(async move { std::future::poll_fn(|cx| driver.poll_close(cx)).await });
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("https://localhost:{}/echo", addr.port()))
        .header("content-type", "application/json")
        .header("content-length", "1000")
        .body(())
        .unwrap();
    let stream = send.send_request(request).await.unwrap();
    let (mut body, mut answer) = stream.split();
    let trickler = tokio::spawn(async move {
        for _ in 0..200 {
            tokio::time::sleep(TRICKLE).await;
            if body.send_data(Bytes::from_static(b" ")).await.is_err() {
                return;
            }
        }
    });
    let response = tokio::time::timeout(Duration::from_secs(20), answer.recv_response())
        .await
        .expect("an answer within 20 s")
        .expect("an answer");
    let took = started.elapsed();
    trickler.abort();
    assert_eq!(response.status(), http::StatusCode::REQUEST_TIMEOUT);
    assert_near("rest-h3: body trickled", took, REQUEST);
}
