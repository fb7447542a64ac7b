//! Checking answers as they stream in, chunk by chunk, without gathering the
//! body first: a 512 KiB response is verified in place, with no copy.

mod frames;
mod layers;

use bytes::Bytes;
use wirebench_proto::pipeline::Summary;
use wirebench_proto::vocab::Compression;

pub(crate) use frames::Frames;
pub use layers::compress;
use layers::{Inflate, Layer, WebBody};

/// What a good response body looks like.
#[derive(Debug, Clone, PartialEq)]
pub enum BodyCheck {
    /// Any body (only the status is checked).
    Any,
    /// Exactly these bytes.
    Exact(Bytes),
    /// The same JSON as these bytes: byte for byte, or else by value (a
    /// server that re-encodes JSON drops a trailing newline and spaces, and
    /// may order keys its own way).
    SameJson(Bytes),
    /// The seed-000 REST payload: `{"data":"` + `len` times `x` + `"}`.
    PayloadJson { len: usize },
    /// `len` times `x` (the gRPC payload's `data`).
    PayloadBytes { len: usize },
    /// The protobuf `PayloadResponse` of `rest-proto`: field 1's tag and
    /// length, then `len` times `x`.
    PayloadProto { len: usize },
    /// Seed 002's pipeline summary as JSON: the same count and checksum as
    /// the expected one (the checksum covers every record's score).
    Summary(Summary),
    /// The same summary as a protobuf message (gRPC).
    SummaryProto(Summary),
    /// Any message that decodes as this type (dynamic gRPC calls).
    Decodes(prost_reflect::MessageDescriptor),
    /// A message equal in meaning to the expected one, in `encoding`: for
    /// dynamic messages, whose maps have no fixed order on the wire.
    Means {
        expected: std::sync::Arc<ByMeaning>,
        encoding: wirebench_proto::message::Encoding,
    },
    /// `inner`, compressed (an HTTP body with `Content-Encoding`): an
    /// answer that is not compressed fails.
    Compressed {
        inner: Box<BodyCheck>,
        compression: Compression,
    },
    /// A gRPC-Web body: one message that passes `inner` (compressed when
    /// flagged so, with `compression`), then a trailer frame with
    /// grpc-status 0; base64 throughout when `text`.
    GrpcWeb {
        inner: Box<BodyCheck>,
        text: bool,
        compression: Option<Compression>,
    },
}

/// A message to compare answers with by meaning: its type, one of its
/// encodings (an answer with these very bytes passes at once), and its
/// order-independent digest (any other answer is decoded and compared by
/// it).
#[derive(Debug, PartialEq)]
pub struct ByMeaning {
    pub message: prost_reflect::MessageDescriptor,
    pub encoded: Bytes,
    pub digest: u64,
}

/// Largest body gathered for checks that need the whole body (JSON).
const GATHER_LIMIT_BYTES: usize = 1 << 20;

/// Does `got` agree with `expected` (count and checksum)?
pub fn summary_matches(expected: &Summary, got: &Summary) -> Result<(), String> {
    if got.count != expected.count || got.checksum != expected.checksum {
        return Err(format!(
            "summary of {} records with checksum {}, expected {} records with checksum {}",
            got.count, got.checksum, expected.count, expected.checksum
        ));
    }
    Ok(())
}

const JSON_PREFIX: &[u8] = br#"{"data":""#;
const JSON_SUFFIX: &[u8] = br#""}"#;

impl BodyCheck {
    /// A fresh streaming verifier for one response.
    pub fn start(&self) -> BodyVerifier<'_> {
        let layer = match self {
            BodyCheck::Compressed { inner, compression } => {
                Some(Layer::Inflate(Inflate::new(*compression, inner.start())))
            }
            BodyCheck::GrpcWeb {
                inner,
                text,
                compression,
            } => Some(Layer::GrpcWeb(WebBody::new(
                Frames::new(inner, false).compressed(*compression).web(),
                *text,
            ))),
            _ => None,
        };
        BodyVerifier {
            check: self,
            pos: 0,
            ok: true,
            gathered: Vec::new(),
            layer: layer.map(Box::new),
        }
    }

    /// A verifier of this check for a body in `compression`.
    pub fn start_inflating(&self, compression: Compression) -> BodyVerifier<'_> {
        BodyVerifier {
            check: self,
            pos: 0,
            ok: true,
            gathered: Vec::new(),
            layer: Some(Box::new(Layer::Inflate(Inflate::new(
                compression,
                self.start(),
            )))),
        }
    }

    /// Describes the check for the run header, e.g. "body = 524288 x in JSON".
    pub fn describe(&self) -> String {
        match self {
            BodyCheck::Any => "any body".to_owned(),
            BodyCheck::Exact(bytes) => format!("body equal to the {} bytes sent", bytes.len()),
            BodyCheck::SameJson(bytes) => format!(
                "body the same JSON as the {} bytes sent, byte for byte or by value",
                bytes.len()
            ),
            BodyCheck::PayloadJson { len } => format!("body {{\"data\":\"<{len} x>\"}}"),
            BodyCheck::PayloadBytes { len } => format!("data = {len} bytes of x"),
            BodyCheck::PayloadProto { len } => format!("protobuf PayloadResponse of {len} x"),
            BodyCheck::Summary(expected) | BodyCheck::SummaryProto(expected) => format!(
                "summary of {} records with checksum {}",
                expected.count, expected.checksum
            ),
            BodyCheck::Decodes(message) => format!("answer decodes as {}", message.full_name()),
            BodyCheck::Means { expected, .. } => format!(
                "answer is the expected {}, byte for byte or else by meaning (its fields' digest, maps in any order)",
                expected.message.full_name()
            ),
            BodyCheck::Compressed { inner, compression } => {
                format!("{} inflated: {}", compression.name(), inner.describe())
            }
            BodyCheck::GrpcWeb {
                inner,
                text,
                compression,
            } => format!(
                "gRPC-Web{} frames{}, grpc-status 0 in the trailer frame: {}",
                if *text { " text" } else { "" },
                compression.map_or(String::new(), |c| format!(" ({} messages)", c.name())),
                inner.describe()
            ),
        }
    }

    /// Verifies a whole body at once.
    pub fn verify(&self, body: &[u8]) -> Result<(), String> {
        let mut verifier = self.start();
        verifier.feed(body);
        verifier.finish()
    }
}

/// Verifies one body fed in any number of chunks.
#[derive(Debug)]
pub struct BodyVerifier<'a> {
    check: &'a BodyCheck,
    pos: usize,
    ok: bool,
    /// The body so far, only for checks that need all of it.
    gathered: Vec<u8>,
    /// What unwraps the body before the check sees it.
    layer: Option<Box<Layer<'a>>>,
}

impl BodyVerifier<'_> {
    pub fn feed(&mut self, chunk: &[u8]) {
        if let Some(layer) = &mut self.layer {
            layer.feed(chunk);
            return;
        }
        if self.ok {
            self.ok = match self.check {
                BodyCheck::Any => true,
                BodyCheck::Exact(expected) => segment_matches(expected, self.pos, chunk),
                BodyCheck::PayloadBytes { len } => self.pos + chunk.len() <= *len && all_x(chunk),
                BodyCheck::PayloadJson { len } => {
                    framed_payload_matches(JSON_PREFIX, *len, JSON_SUFFIX, self.pos, chunk)
                }
                BodyCheck::PayloadProto { len } => {
                    let (prefix, prefix_len) = proto_prefix(*len);
                    framed_payload_matches(&prefix[..prefix_len], *len, &[], self.pos, chunk)
                }
                BodyCheck::Summary(_)
                | BodyCheck::SummaryProto(_)
                | BodyCheck::Decodes(_)
                | BodyCheck::SameJson(_)
                | BodyCheck::Means { .. } => {
                    self.gathered.extend_from_slice(chunk);
                    self.gathered.len() <= GATHER_LIMIT_BYTES
                }
                BodyCheck::Compressed { .. } | BodyCheck::GrpcWeb { .. } => {
                    unreachable!("a layered check feeds its layer")
                }
            };
        }
        self.pos += chunk.len();
    }

    pub fn finish(self) -> Result<(), String> {
        if let Some(layer) = self.layer {
            return layer.finish();
        }
        let expected_len = match self.check {
            BodyCheck::Any => return Ok(()),
            BodyCheck::Summary(_)
            | BodyCheck::SummaryProto(_)
            | BodyCheck::Decodes(_)
            | BodyCheck::SameJson(_)
            | BodyCheck::Means { .. }
                if !self.ok =>
            {
                return Err(format!("body over {GATHER_LIMIT_BYTES} bytes"));
            }
            BodyCheck::SameJson(expected) => {
                if self.gathered == expected.as_ref() {
                    return Ok(());
                }
                let value = |bytes: &[u8]| serde_json::from_slice::<serde_json::Value>(bytes);
                return match (value(&self.gathered), value(expected)) {
                    (Ok(got), Ok(sent)) if got == sent => Ok(()),
                    (Ok(_), Ok(_)) => Err("body is JSON, but not the JSON sent".to_owned()),
                    (Err(err), _) => Err(format!("body is not JSON: {err}")),
                    (Ok(_), Err(err)) => Err(format!("the body sent is not JSON: {err}")),
                };
            }
            BodyCheck::Summary(expected) => {
                let got: Summary = serde_json::from_slice(&self.gathered)
                    .map_err(|err| format!("body is not a summary: {err}"))?;
                return summary_matches(expected, &got);
            }
            BodyCheck::SummaryProto(expected) => {
                use prost::Message;
                let got = Summary::decode(self.gathered.as_slice())
                    .map_err(|err| format!("answer is not a Summary: {err}"))?;
                return summary_matches(expected, &got);
            }
            BodyCheck::Decodes(message) => {
                return prost_reflect::DynamicMessage::decode(
                    message.clone(),
                    self.gathered.as_slice(),
                )
                .map(|_| ())
                .map_err(|err| format!("answer is not a {}: {err}", message.full_name()));
            }
            BodyCheck::Means { expected, encoding } => {
                use wirebench_proto::message::dynamic;
                if self.gathered == expected.encoded {
                    return Ok(());
                }
                let got = dynamic::decode(&expected.message, &self.gathered, *encoding)?;
                return if dynamic::digest(&got) == expected.digest {
                    Ok(())
                } else {
                    Err(format!(
                        "answer is a {} but not the one sent",
                        expected.message.full_name()
                    ))
                };
            }
            BodyCheck::Compressed { .. } | BodyCheck::GrpcWeb { .. } => {
                unreachable!("a layered check finishes its layer")
            }
            BodyCheck::Exact(expected) => expected.len(),
            BodyCheck::PayloadBytes { len } => *len,
            BodyCheck::PayloadJson { len } => JSON_PREFIX.len() + len + JSON_SUFFIX.len(),
            BodyCheck::PayloadProto { len } => proto_prefix(*len).1 + len,
        };
        if self.pos != expected_len {
            Err(format!(
                "body is {} bytes, expected {expected_len} ({})",
                self.pos,
                self.check.describe()
            ))
        } else if !self.ok {
            Err(format!(
                "body has the right length but wrong content (expected {})",
                self.check.describe()
            ))
        } else {
            Ok(())
        }
    }
}

/// A block of the payload byte to compare against: slice equality is a
/// vectorised memcmp, where a byte-by-byte `all` with its early exit is not
/// vectorised, and cost two thirds of the client's CPU at 64 KiB.
static XS: [u8; 4096] = [b'x'; 4096];

fn all_x(bytes: &[u8]) -> bool {
    bytes
        .chunks(XS.len())
        .all(|chunk| chunk == &XS[..chunk.len()])
}

/// Does `chunk` equal `expected[pos..pos + chunk.len()]`?
fn segment_matches(expected: &[u8], pos: usize, chunk: &[u8]) -> bool {
    chunk.is_empty() || expected.get(pos..pos + chunk.len()) == Some(chunk)
}

/// The bytes before the data in a protobuf `PayloadResponse` (field 1,
/// wire type 2, then the length as a varint), and how many there are.
/// Pure arithmetic, no allocation: it runs for every chunk.
fn proto_prefix(len: usize) -> ([u8; 11], usize) {
    let mut prefix = [0u8; 11];
    if len == 0 {
        // proto3 leaves an empty field out: the body is empty.
        return (prefix, 0);
    }
    prefix[0] = 0x0a;
    let mut n = 1;
    let mut rest = len as u64;
    loop {
        let byte = (rest & 0x7f) as u8;
        rest >>= 7;
        if rest == 0 {
            prefix[n] = byte;
            return (prefix, n + 1);
        }
        prefix[n] = byte | 0x80;
        n += 1;
    }
}

/// Does `chunk`, starting at body offset `pos`, agree with `prefix` + `len`
/// times `x` + `suffix`? The chunk may span the region borders.
fn framed_payload_matches(
    prefix: &[u8],
    len: usize,
    suffix: &[u8],
    pos: usize,
    chunk: &[u8],
) -> bool {
    let data_start = prefix.len();
    let data_end = data_start + len;
    let total = data_end + suffix.len();
    let end = pos + chunk.len();
    if end > total {
        return false;
    }
    // The part of the chunk that falls in [from, to) of the body.
    let part = |from: usize, to: usize| {
        let lo = from.clamp(pos, end) - pos;
        let hi = to.clamp(pos, end) - pos;
        (&chunk[lo..hi], lo + pos)
    };
    let (prefix_part, prefix_at) = part(0, data_start);
    let (data, _) = part(data_start, data_end);
    let (suffix_part, suffix_at) = part(data_end, total);
    segment_matches(prefix, prefix_at, prefix_part)
        && all_x(data)
        && segment_matches(suffix, suffix_at.saturating_sub(data_end), suffix_part)
}

/// Fuzzing entry: every body check on an arbitrary answer, fed in chunks of
/// a size the first byte picks. Must never panic.
pub fn fuzz_entry(data: &[u8]) {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let chunk = 1 + usize::from(first) % 97;
    let checks = [
        BodyCheck::PayloadJson { len: 64 },
        BodyCheck::PayloadProto { len: 300 },
        BodyCheck::PayloadBytes { len: 16 },
        BodyCheck::Exact(Bytes::from_static(b"{\"data\":\"x\"}")),
        BodyCheck::Summary(Summary::default()),
        BodyCheck::SummaryProto(Summary::default()),
    ];
    for check in &checks {
        let mut verifier = check.start();
        for piece in body.chunks(chunk) {
            verifier.feed(piece);
        }
        let _ = verifier.finish();
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_echo_of_json_is_compared_by_value() {
        let sent = Bytes::from_static(b"{\"data\":\"hello\", \"n\": 1}\n");
        let check = BodyCheck::SameJson(sent.clone());
        assert_eq!(check.verify(&sent), Ok(()), "byte for byte");
        assert_eq!(
            check.verify(br#"{"n":1,"data":"hello"}"#),
            Ok(()),
            "re-encoded"
        );
        assert!(check.verify(br#"{"n":2,"data":"hello"}"#).is_err());
        assert!(check.verify(b"not json").is_err());
    }

    use super::*;

    fn json_body(n: usize) -> Vec<u8> {
        format!("{{\"data\":\"{}\"}}", "x".repeat(n)).into_bytes()
    }

    #[test]
    fn json_payload_passes_in_any_chunking() {
        let check = BodyCheck::PayloadJson { len: 1000 };
        let body = json_body(1000);
        for chunk_size in [1, 3, 7, 9, 64, 1000, 5000] {
            let mut v = check.start();
            for chunk in body.chunks(chunk_size) {
                v.feed(chunk);
            }
            assert_eq!(v.finish(), Ok(()), "chunk size {chunk_size}");
        }
    }

    #[test]
    fn wrong_size_or_content_fails() {
        let check = BodyCheck::PayloadJson { len: 1000 };
        assert!(check.verify(&json_body(999)).is_err());
        assert!(check.verify(&json_body(1001)).is_err());
        let mut body = json_body(1000);
        body[500] = b'y';
        assert!(check.verify(&body).unwrap_err().contains("wrong content"));
        // Whitespace variant is not the seed's compact encoding.
        let spaced = format!("{{\"data\": \"{}\"}}", "x".repeat(1000));
        assert!(check.verify(spaced.as_bytes()).is_err());
    }

    #[test]
    fn protobuf_payload_matches_prost_encoding() {
        use prost::Message;
        for len in [0usize, 1, 127, 128, 300, 524_288] {
            let body = wirebench_proto::payload::PayloadResponse {
                data: Bytes::from(vec![b'x'; len]),
            }
            .encode_to_vec();
            let check = BodyCheck::PayloadProto { len };
            let mut v = check.start();
            for chunk in body.chunks(1000) {
                v.feed(chunk);
            }
            assert_eq!(v.finish(), Ok(()), "{len}");
            assert!(
                BodyCheck::PayloadProto { len: len + 1 }
                    .verify(&body)
                    .is_err()
            );
        }
    }

    #[test]
    fn bytes_and_exact_checks() {
        let check = BodyCheck::PayloadBytes { len: 4 };
        assert!(check.verify(b"xxxx").is_ok());
        assert!(check.verify(b"xxx").is_err());
        assert!(check.verify(b"xxxxx").is_err());
        assert!(check.verify(b"xxyx").is_err());
        let exact = BodyCheck::Exact(Bytes::from_static(b"hello"));
        assert!(exact.verify(b"hello").is_ok());
        assert!(exact.verify(b"hellO").is_err());
        assert!(BodyCheck::Any.verify(b"whatever").is_ok());
    }

    #[test]
    fn summary_check_compares_count_and_checksum() {
        let expected = Summary {
            count: 2,
            sum: 3.0,
            mean: 1.5,
            min: 1.0,
            max: 2.0,
            checksum: "00ff".into(),
        };
        let check = BodyCheck::Summary(expected);
        let good =
            br#"{"count": 2, "sum": 3.0, "mean": 1.5, "min": 1.0, "max": 2.0, "checksum": "00ff"}"#;
        let mut v = check.start();
        for chunk in good.chunks(5) {
            v.feed(chunk);
        }
        assert_eq!(v.finish(), Ok(()));
        let wrong = br#"{"count": 2, "checksum": "00fe"}"#;
        assert!(check.verify(wrong).unwrap_err().contains("checksum 00fe"));
        assert!(
            check
                .verify(b"not json")
                .unwrap_err()
                .contains("not a summary")
        );
    }
}
