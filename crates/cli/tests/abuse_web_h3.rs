//! Bad input against the gRPC-Web, HTTP/3 and compressed stacks, each of which must refuse
//! it with the right status and keep serving: malformed gRPC-Web frames
//! and base64, garbage UDP datagrams at the HTTP/3 server, gzip bombs
//! (refused once the limit is reached, never inflated whole: the server's
//! peak memory stays far below what the bomb inflates to), and encodings
//! a stack does not speak (415 or UNIMPLEMENTED, with the list it does).

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use common::wire::*;
use common::{Guard, serve};
use wirebench_load::{Client, Job, Target, TlsClient, Trust};
use wirebench_proto::vocab::{Compression, Stack, StackKind};
use wirebench_server::tls::CertifiedKey;
use wirebench_server::{PayloadHandler, ServeOptions};

const GET: &str = "/payload.PayloadService/GetLargePayload";
const ECHO: &str = "/payload.PayloadService/Echo";

/// A gRPC-Web call over HTTP/1.1 with `body`: the status line and
/// everything that came back, as text.
async fn web_call(addr: SocketAddr, content_type: &str, extra: &str, body: &[u8]) -> String {
    let headers = format!("Content-Type: {content_type}\r\nX-Grpc-Web: 1\r\n{extra}");
    let request = http("POST", GET, &headers, body);
    let (reply, _) = exchange(addr, &request, Duration::from_secs(5)).await;
    String::from_utf8_lossy(&reply).into_owned()
}

/// The grpc-status of a gRPC-Web answer (headers or trailer frame).
fn web_status(reply: &str) -> Option<String> {
    let at = reply.to_ascii_lowercase().rfind("grpc-status:")?;
    let rest = &reply[at + "grpc-status:".len()..];
    Some(
        rest.trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_web_refuses_malformed_frames_and_base64_and_keeps_serving() {
    const BINARY: &str = "application/grpc-web+proto";
    const TEXT: &str = "application/grpc-web-text";
    let cases: [(&str, &str, Vec<u8>); 6] = [
        (
            "frame announcing 100 bytes, 3 sent",
            BINARY,
            vec![0, 0, 0, 0, 100, 8, 1, 0],
        ),
        ("garbage message", BINARY, grpc_frame(&[0xff; 10])),
        (
            "a trailer frame from the client",
            BINARY,
            vec![0x80, 0, 0, 0, 2, b'a', b'b'],
        ),
        (
            "compressed flag, no grpc-encoding",
            BINARY,
            vec![1, 0, 0, 0, 2, 8, 1],
        ),
        ("text: not base64", TEXT, b"!!!! not base64 ~~~~".to_vec()),
        ("text: base64 cut mid-group", TEXT, b"AAAAAAIIA".to_vec()),
    ];
    for kind in [StackKind::GrpcWeb, StackKind::GrpcWebText] {
        let stack = Stack::plain(kind);
        let addr = payload_server(stack).await;
        for (case, content_type, body) in &cases {
            let reply = web_call(addr, content_type, "", body).await;
            let refused = match web_status(&reply) {
                Some(code) => code != "0",
                None => status_line(reply.as_bytes()).contains(" 4"),
            };
            assert!(refused, "{stack}, {case}: {reply:.300}");
            record(
                &format!("{stack}: {case}"),
                1,
                &web_status(&reply).map_or_else(
                    || status_line(reply.as_bytes()),
                    |c| format!("grpc-status {c}"),
                ),
            );
            assert_serves(stack, addr, case).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http3_server_drops_garbage_datagrams_and_keeps_serving() {
    let key = CertifiedKey::self_signed().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stack = Stack::plain(StackKind::RestH3);
    tokio::spawn(wirebench_server::serve(
        stack,
        listener,
        PayloadHandler::new(256),
        ServeOptions {
            tls: Some(key.server_config(stack.alpn()).unwrap()),
            ..ServeOptions::default()
        },
        std::future::pending(),
    ));
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut sent = 0;
    for i in 0..600u32 {
        let len = 1 + (random() % 1500) as usize;
        let mut datagram: Vec<u8> = (0..len).map(|_| random() as u8).collect();
        match i % 3 {
            // A long-header Initial of QUIC v1, its payload garbage.
            0 => {
                datagram.resize(1200, 0);
                datagram[0] = 0xc3;
                datagram[1..5].copy_from_slice(&1u32.to_be_bytes());
                datagram[5] = 8;
            }
            // A version no one speaks (the server may answer with version
            // negotiation).
            1 => {
                datagram.resize(1200, 0);
                datagram[0] = 0xc0;
                datagram[1..5].copy_from_slice(&0x1a2a_3a4a_u32.to_be_bytes());
            }
            _ => {}
        }
        udp.send_to(&datagram, addr).await.unwrap();
        sent += 1;
    }
    record("rest-h3: garbage and bogus QUIC datagrams", sent, "dropped");
    let target = Target {
        authority: addr.to_string(),
        tls: Some(
            TlsClient::new("localhost", stack.alpn(), &Trust::Pem(key.cert_pem.clone())).unwrap(),
        ),
        kind: Job::Payload { size_kb: 4 }.request(stack).unwrap(),
    };
    let client = Client::new(&target, 1).await.unwrap();
    let answer = client.call(0, Duration::from_secs(5)).await;
    assert!(answer.is_ok(), "{stack} after garbage: {answer:?}");
    // A bad request over HTTP/3 gets REST's status.
    let mut bad = target.clone();
    if let wirebench_load::TargetKind::Http(http) = &mut bad.kind {
        let exchanges = vec![wirebench_load::Exchange {
            path: "/payload?size_in_kb=abc".parse().unwrap(),
            ..http.exchanges.first().clone()
        }];
        http.exchanges = wirebench_load::Exchanges::new(exchanges).unwrap();
    }
    let client = Client::new(&bad, 1).await.unwrap();
    let answer = client.call(0, Duration::from_secs(5)).await.unwrap_err();
    assert!(format!("{answer:?}").contains("400"), "{answer:?}");
}

/// One raw gRPC call over h2 with `headers` added: the answer's
/// grpc-status and grpc-accept-encoding.
async fn grpc_with(addr: SocketAddr, headers: &[(&str, &str)], body: Vec<u8>) -> (String, String) {
    let mut all = vec![("content-type", "application/grpc"), ("te", "trailers")];
    all.extend_from_slice(headers);
    let (response, mut send) = h2_post(addr, ECHO, &all).await;
    let _ = send.send_data(Bytes::from(body), true);
    let response = tokio::time::timeout(Duration::from_secs(10), response)
        .await
        .unwrap()
        .unwrap();
    let (head, mut body) = response.into_parts();
    let header =
        |map: &http::HeaderMap, name: &str| map.get(name).map(|v| v.to_str().unwrap().to_owned());
    let mut status = header(&head.headers, "grpc-status");
    while let Some(chunk) = body.data().await {
        if chunk.is_err() {
            break;
        }
    }
    if let Ok(Some(trailers)) = body.trailers().await {
        status = status.or(header(&trailers, "grpc-status"));
    }
    (
        status.unwrap_or_default(),
        header(&head.headers, "grpc-accept-encoding").unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_encoding_gets_415_or_unimplemented_with_the_supported_list() {
    for compression in [None, Some(Compression::Gzip), Some(Compression::Zstd)] {
        let mut stack = Stack::plain(StackKind::Rest);
        stack.compression = compression;
        let addr = payload_server(stack).await;
        let request = http(
            "POST",
            "/echo",
            "Content-Type: application/json\r\nContent-Encoding: br\r\n",
            b"\x0b\x03\x80{}\x03",
        );
        let (reply, _) = exchange(addr, &request, Duration::from_secs(3)).await;
        let text = String::from_utf8_lossy(&reply);
        assert!(status_line(&reply).contains("415"), "{stack}: {text}");
        let listed =
            compression.map_or("identity".to_owned(), |c| format!("{}, identity", c.name()));
        assert!(
            text.contains(&format!("accepts: {listed}")),
            "{stack}: {text}"
        );
        record(
            &format!("{stack}: Content-Encoding br"),
            1,
            "415, with the list",
        );
        assert_serves(stack, addr, "Content-Encoding br").await;
    }
    let stack = Stack::plain(StackKind::Grpc).compressed(Compression::Gzip);
    let addr = payload_server(stack).await;
    let frame = vec![1, 0, 0, 0, 3, 1, 2, 3];
    let (status, accepted) = grpc_with(addr, &[("grpc-encoding", "snappy")], frame).await;
    assert_eq!(status, "12", "UNIMPLEMENTED");
    assert!(
        accepted.contains("gzip"),
        "grpc-accept-encoding: {accepted}"
    );
    record(
        "grpc+gzip: grpc-encoding snappy",
        1,
        "UNIMPLEMENTED, grpc-accept-encoding gzip",
    );
    assert_serves(stack, addr, "grpc-encoding snappy").await;
    let stack = Stack::plain(StackKind::GrpcWeb).compressed(Compression::Gzip);
    let addr = payload_server(stack).await;
    let reply = web_call(
        addr,
        "application/grpc-web+proto",
        "grpc-encoding: snappy\r\n",
        &[1, 0, 0, 0, 3, 1, 2, 3],
    )
    .await;
    assert_eq!(web_status(&reply).as_deref(), Some("12"), "{reply:.300}");
    assert_serves(stack, addr, "grpc-encoding snappy").await;
}

/// `python3` compresses: gzip of `prefix` and then `zeros` zero bytes.
fn gzip_bomb(prefix: &[u8], zeros: usize) -> Vec<u8> {
    let script = "import sys, zlib\n\
        c = zlib.compressobj(9, zlib.DEFLATED, 31)\n\
        out = [c.compress(bytes.fromhex(sys.argv[1]))]\n\
        block = bytes(1 << 20)\n\
        for _ in range(int(sys.argv[2]) >> 20): out.append(c.compress(block))\n\
        out.append(c.flush())\n\
        sys.stdout.buffer.write(b''.join(out))\n";
    let hex: String = prefix.iter().map(|b| format!("{b:02x}")).collect();
    let output = Command::new("python3")
        .args(["-c", script, &hex, &zeros.to_string()])
        .output()
        .unwrap();
    assert!(output.status.success());
    output.stdout
}

/// A process's peak resident memory, bytes (VmHWM).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_is_refused_at_the_limit_without_inflating_it_whole() {
    const INFLATED: usize = 512 << 20;
    const ROOM: u64 = 200 << 20;
    // REST: the body inflates into the router's limit (1 MiB + 64 KiB).
    let bomb = gzip_bomb(b"", INFLATED);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    for stack in ["rest+gzip", "grpc+gzip", "grpc-web+gzip"] {
        let (child, addr) = serve("payload", stack, &["--max-size-kb", "1024"]);
        let pid = child.id();
        let _server = Guard(child);
        let addr: SocketAddr = addr.parse().unwrap();
        let outcome = match stack {
            "rest+gzip" => {
                let request = http(
                    "POST",
                    "/echo",
                    "Content-Type: application/json\r\nContent-Encoding: gzip\r\n",
                    &bomb,
                );
                let (reply, _) = exchange(addr, &request, Duration::from_secs(10)).await;
                assert!(
                    status_line(&reply).contains("413"),
                    "{}",
                    status_line(&reply)
                );
                "413".to_owned()
            }
            _ => {
                // An EchoMessage whose field 1 is 512 MiB of zeros,
                // gzipped, in a frame flagged compressed.
                let mut prefix = vec![0x0a];
                let mut len = INFLATED;
                while len >= 0x80 {
                    prefix.push((len as u8) | 0x80);
                    len >>= 7;
                }
                prefix.push(len as u8);
                let message = gzip_bomb(&prefix, INFLATED);
                let mut frame = vec![1];
                frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
                frame.extend_from_slice(&message);
                let status = if stack == "grpc+gzip" {
                    grpc_with(addr, &[("grpc-encoding", "gzip")], frame).await.0
                } else {
                    let request = http(
                        "POST",
                        ECHO,
                        "Content-Type: application/grpc-web+proto\r\ngrpc-encoding: gzip\r\n",
                        &frame,
                    );
                    let (reply, _) = exchange(addr, &request, Duration::from_secs(10)).await;
                    web_status(&String::from_utf8_lossy(&reply)).unwrap_or_default()
                };
                assert_eq!(status, "8", "{stack}: RESOURCE_EXHAUSTED");
                "RESOURCE_EXHAUSTED".to_owned()
            }
        };
        let peak = peak_rss(pid);
        assert!(
            peak < ROOM,
            "{stack}: the server peaked at {} MiB for a bomb of {} MiB",
            peak >> 20,
            INFLATED >> 20
        );
        record(
            &format!(
                "{stack}: {} KiB gzip inflating to 512 MiB",
                bomb.len() >> 10
            ),
            1,
            &format!("{outcome}; server peak RSS {} MiB", peak >> 20),
        );
        let stack: Stack = stack.parse().unwrap();
        assert_serves(stack, addr, "a gzip bomb").await;
    }
}
