//! A server's JSON codec and counters are its options, not the process's:
//! two servers in one process, one on serde_json and one on sonic-rs,
//! each decode with their own codec (the codec's own error for the same
//! malformed body comes back, on REST and on grpc-json, whose codec tonic
//! builds by `Default` in a task hyper spawns per stream) and count only
//! their own requests.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::wire::*;
use wirebench_proto::DataJson;
use wirebench_proto::json::Codec;
use wirebench_proto::vocab::{Stack, StackKind};
use wirebench_server::ServeOptions;
use wirebench_server::counters::Counters;

/// A JSON body neither codec accepts.
const MALFORMED: &[u8] = b"{\"data\": nope}";

async fn server(stack: Stack, codec: Codec, counters: Arc<Counters>) -> SocketAddr {
    let options = ServeOptions {
        json_codec: codec,
        counters: Some(counters),
        ..options()
    };
    payload_server_with(stack, options).await
}

/// `text` with grpc-message's percent-encoding undone.
fn percent_decoded(text: &str) -> String {
    let mut out = Vec::new();
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        let hex = (byte == b'%')
            .then(|| bytes.clone().take(2).collect::<Vec<u8>>())
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok());
        match hex {
            Some(decoded) => {
                out.push(decoded);
                bytes.nth(1);
            }
            None => out.push(byte),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What `codec` says of the malformed body.
fn complaint(codec: Codec) -> String {
    codec.from_slice::<DataJson>(MALFORMED).unwrap_err()
}

#[tokio::test]
async fn each_server_decodes_with_its_own_codec_and_counts_its_own_requests() {
    // The two codecs must word the error apart, or this proves nothing.
    let (serde, sonic) = (complaint(Codec::SerdeJson), complaint(Codec::SonicRs));
    assert_ne!(serde, sonic);
    for stack in [Stack::REST, Stack::plain(StackKind::GrpcJson)] {
        let counted = [Codec::SerdeJson, Codec::SonicRs].map(|_| Arc::new(Counters::default()));
        let mut servers = Vec::new();
        for (codec, counters) in [Codec::SerdeJson, Codec::SonicRs].into_iter().zip(&counted) {
            servers.push((codec, server(stack, codec, counters.clone()).await));
        }
        for (round, (codec, addr)) in servers.into_iter().enumerate() {
            let answer = if stack == Stack::REST {
                let request = http(
                    "POST",
                    "/echo",
                    "Content-Type: application/json\r\n",
                    MALFORMED,
                );
                let (reply, _) = exchange(addr, &request, Duration::from_secs(5)).await;
                String::from_utf8_lossy(&reply).into_owned()
            } else {
                percent_decoded(
                    &grpc_raw(
                        addr,
                        "/payload.PayloadService/Echo",
                        "application/grpc+json",
                        grpc_frame(MALFORMED),
                        false,
                    )
                    .await,
                )
            };
            // grpc-message is cut and percent-encoded: its first words.
            let own: String = complaint(codec).chars().take(20).collect();
            assert!(answer.contains(&own), "{stack} on {codec}: {answer}");
            let other: String = complaint(match codec {
                Codec::SerdeJson => Codec::SonicRs,
                Codec::SonicRs => Codec::SerdeJson,
            })
            .chars()
            .take(20)
            .collect();
            assert!(!answer.contains(&other), "{stack} on {codec}: {answer}");
            // A malformed body is refused before the handler counts it;
            // one good request is counted, by its own server only.
            let good = if stack == Stack::REST {
                let request = http("GET", "/payload?size_in_kb=1", "", b"");
                let (reply, _) = exchange(addr, &request, Duration::from_secs(5)).await;
                status_line(&reply)
            } else {
                grpc_raw(
                    addr,
                    "/payload.PayloadService/GetLargePayload",
                    "application/grpc+json",
                    grpc_frame(br#"{"size_in_kb":1}"#),
                    false,
                )
                .await
            };
            let ok = if stack == Stack::REST {
                "200 OK"
            } else {
                "grpc-status 0"
            };
            assert!(good.contains(ok), "{stack} on {codec}: {good}");
            assert_eq!(counted[round].requests(), 1, "{stack} on {codec}");
            assert!(counted[round].bytes_written() > 1024, "{stack} on {codec}");
        }
        assert_eq!(
            counted.iter().map(|c| c.requests()).collect::<Vec<_>>(),
            [1, 1],
            "{stack}"
        );
    }
}
