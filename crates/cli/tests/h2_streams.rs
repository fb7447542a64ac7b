//! One connection, 50,000 header-only HTTP/2 streams: every HTTP/2 server
//! (each gRPC stack, the pipeline's gRPC service, rest-h2) refuses the
//! streams beyond its limit of concurrent streams, and its memory grows
//! by less than 50 MB. Without the limit a gRPC server went from 38 MB to
//! 662 MB, and kept it.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;

const STREAMS: u32 = 50_000;

/// A HEADERS frame opening stream `id` (END_HEADERS, no END_STREAM: the
/// request's body never comes). HPACK by hand, nothing indexed.
fn headers(id: u32, path: &str, content_type: &str) -> Vec<u8> {
    let mut block = vec![0x83, 0x86]; // :method POST, :scheme http
    let literal = |block: &mut Vec<u8>, name_index: &[u8], value: &str| {
        block.extend_from_slice(name_index);
        block.push(value.len() as u8);
        block.extend_from_slice(value.as_bytes());
    };
    literal(&mut block, &[0x04], path); // :path
    literal(&mut block, &[0x01], "t"); // :authority
    literal(&mut block, &[0x0f, 0x10], content_type); // content-type (31)
    let mut frame = (block.len() as u32).to_be_bytes()[1..].to_vec();
    frame.extend_from_slice(&[0x01, 0x04]);
    frame.extend_from_slice(&id.to_be_bytes());
    frame.extend_from_slice(&block);
    frame
}

fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb * 1024
}

/// What the server sent back: RST_STREAM frames with REFUSED_STREAM, and
/// whether it sent GOAWAY.
#[derive(Debug, Default)]
struct Answer {
    refused: u32,
    goaway: bool,
}

fn read_frames(mut stream: TcpStream) -> Answer {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = Answer::default();
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
        // Frames: 9-byte header, then the payload.
        let mut at = 0;
        while buffer.len() >= at + 9 {
            let len = u32::from_be_bytes([0, buffer[at], buffer[at + 1], buffer[at + 2]]) as usize;
            if buffer.len() < at + 9 + len {
                break;
            }
            match buffer[at + 3] {
                0x03 if len == 4 && buffer[at + 9..at + 13] == [0, 0, 0, 7] => answer.refused += 1,
                0x07 => answer.goaway = true,
                _ => {}
            }
            at += 9 + len;
        }
        buffer.drain(..at);
    }
    answer
}

fn flood(addr: &str, pid: u32, path: &str, content_type: &str) -> (Answer, u64) {
    let before = rss_bytes(pid);
    let mut stream = TcpStream::connect(addr).unwrap();
    let reader = stream.try_clone().unwrap();
    let answers = std::thread::spawn(move || read_frames(reader));
    stream.write_all(common::wire::PREFACE).unwrap();
    let mut sent = Vec::new();
    for i in 0..STREAMS {
        sent.extend(headers(2 * i + 1, path, content_type));
        if sent.len() > 1 << 16 {
            // A server that closed the connection stops the flood.
            if stream.write_all(&sent).is_err() {
                break;
            }
            sent.clear();
        }
    }
    let _ = stream.write_all(&sent);
    std::thread::sleep(Duration::from_millis(500));
    let peak = rss_bytes(pid).saturating_sub(before);
    drop(stream);
    (answers.join().unwrap(), peak)
}

/// A new connection still gets the server's SETTINGS.
fn still_speaks_http2(addr: &str) -> bool {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(common::wire::PREFACE).unwrap();
    let mut head = [0u8; 9];
    stream.read_exact(&mut head).is_ok() && head[3] == 0x04
}

#[test]
fn fifty_thousand_streams_on_one_connection_are_refused_beyond_the_limit() {
    let payload = "/payload.PayloadService/GetLargePayload";
    let cases: [(&str, &str, &[&str], &str, &str); 5] = [
        ("grpc", "payload", &[], payload, "application/grpc"),
        (
            "grpc-json",
            "payload",
            &[],
            payload,
            "application/grpc+json",
        ),
        ("grpc-web", "payload", &[], payload, "application/grpc-web"),
        (
            "rest-h2",
            "payload",
            &[],
            "/payload?size_in_kb=1",
            "application/json",
        ),
        (
            "grpc",
            "pipeline",
            &["--role", "producer"],
            "/ProducerService/Generate",
            "application/grpc",
        ),
    ];
    for (stack, workload, extra, path, content_type) in cases {
        let (child, addr) = serve(workload, stack, extra);
        let pid = child.id();
        let _server = Guard(child);
        let (answer, grown) = flood(&addr, pid, path, content_type);
        let name = format!("{workload} over {stack}");
        assert!(
            answer.refused > 0 || answer.goaway,
            "{name}: no stream refused: {answer:?}"
        );
        assert!(grown < 50 << 20, "{name}: RSS grew {} MB", grown >> 20);
        assert!(still_speaks_http2(&addr), "{name}: no longer serving");
        println!(
            "{name}: {} streams refused{}, RSS +{:.1} MB",
            answer.refused,
            if answer.goaway { ", then GOAWAY" } else { "" },
            grown as f64 / 1e6
        );
    }
}
