//! One contract per workload x stack: for a [`Job`] (what one request asks
//! of the servers) and a stack, [`Job::request`] says what the client sends
//! and how every answer is checked, and [`Job::min_max_size_kb`] what the
//! servers must be started with. `bench`, `load` and the tests all build
//! their requests here. A new workload is one `Job` variant and its arm in
//! each match of this file (one arm per stack family, no wildcard), plus
//! its server's service (`wirebench_server::Service`) and a `serve` and
//! `bench` name for it; a new codec is a stack's encoding in the
//! vocabulary.
//!
//! The checks are as strict as the contract allows: the payload's every
//! byte, the pipeline's count and checksum (computed here from the same
//! deterministic work the servers run), the echo's exact bytes.

use std::sync::Arc;

use bytes::Bytes;
use prost::Message;
use wirebench_proto::json_codec::JsonMessage;
use wirebench_proto::message::{Direction, Encoding};
use wirebench_proto::payload::{EchoMessage, PayloadRequest};
use wirebench_proto::pipeline::{AggregateRequest, Summary};
use wirebench_proto::pipeline_work::{DEFAULT_MAX_RECORDS, DEFAULT_RECORDS, expected_summary};
use wirebench_proto::vocab::{Family, Stack, Workload};
use wirebench_proto::{DataJson, tcp_wire};

mod message;

pub use message::{MessageJob, SizeError};

use crate::client::{Exchange, Exchanges, HttpTarget, HttpVersion, TargetKind};
use crate::verify::BodyCheck;

/// gRPC-Web's content types: binary, and base64 text.
pub use wirebench_proto::vocab::{GRPC_WEB, GRPC_WEB_TEXT};

/// What one request asks of the servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Seed 000: a small request, `size_kb` KiB of `x` back.
    Payload { size_kb: u64 },
    /// `size_kb` KiB of `x` sent, the same bytes back.
    Echo { size_kb: u64 },
    /// Seed 002: the aggregator's summary of `records` records (0: the
    /// servers' default).
    Pipeline { records: u32 },
    /// A structured message, one way or both.
    Message(Arc<MessageJob>),
}

/// Why a job cannot be asked of a stack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    #[error("{what} of {size_kb} KiB does not fit this machine's memory size type")]
    TooLarge { what: &'static str, size_kb: u64 },
    #[error("{records} records is over the pipeline's limit of {DEFAULT_MAX_RECORDS}")]
    TooManyRecords { records: u32 },
    #[error("the {stack} stack has no {workload} service")]
    NotServed { stack: Stack, workload: Workload },
}

/// Paths of wirebench's own gRPC methods.
pub const GET_LARGE_PAYLOAD: &str = "/payload.PayloadService/GetLargePayload";
pub const ECHO: &str = "/payload.PayloadService/Echo";
pub const AGGREGATE: &str = "/AggregatorService/Aggregate";

impl Job {
    /// How the message workload's message is coded: "compiled" or
    /// "dynamic" (None for the other workloads).
    pub fn codegen(&self) -> Option<String> {
        match self {
            Job::Message(job) => Some(job.source.codegen().to_string()),
            Job::Payload { .. } | Job::Echo { .. } | Job::Pipeline { .. } => None,
        }
    }

    pub fn workload(&self) -> Workload {
        match self {
            Job::Payload { .. } => Workload::Payload,
            Job::Echo { .. } => Workload::Echo,
            Job::Pipeline { .. } => Workload::Pipeline,
            Job::Message(_) => Workload::Message,
        }
    }

    /// The size asked for, KiB, where the workload has one.
    pub fn size_kb(&self) -> Option<u64> {
        match self {
            Job::Payload { size_kb } | Job::Echo { size_kb } => Some(*size_kb),
            Job::Message(job) => job.target_kb,
            Job::Pipeline { .. } => None,
        }
    }

    /// What the servers need to serve the job: a `--max-size-kb` of at
    /// least this (the largest body a request carries, KiB). Which
    /// service to start is [`Job::workload`].
    pub fn min_max_size_kb(&self) -> u64 {
        match self {
            Job::Message(job) => (job.max_bytes(Encoding::Json) as u64).div_ceil(1024),
            Job::Payload { .. } | Job::Echo { .. } | Job::Pipeline { .. } => {
                self.size_kb().unwrap_or(0)
            }
        }
    }

    /// Call `index` of a mix, named `name`, whose message is this
    /// message job's: the same requests and checks, at the call's own
    /// route (`/mix/NAME`), method (`wirebench.mix.Mix/NAME`) or tcp call
    /// byte (its index) instead of the message workload's.
    pub fn mix_request(
        &self,
        stack: Stack,
        name: &str,
        index: u8,
    ) -> Result<TargetKind, ContractError> {
        let mut kind = self.request(stack)?;
        let rest = wirebench_proto::message::mix_rest_path(name);
        let grpc = wirebench_proto::message::mix_grpc_path(name);
        let reroute = |exchanges: &Exchanges, route: &dyn Fn(&Exchange) -> Exchange| {
            Exchanges::new(exchanges.iter().map(route).collect()).expect("not empty")
        };
        match &mut kind {
            TargetKind::Http(http) => {
                http.exchanges = reroute(&http.exchanges, &|e| {
                    let query = e.path.query().map(|q| format!("?{q}")).unwrap_or_default();
                    Exchange {
                        path: format!("{rest}{query}")
                            .parse()
                            .expect("a call's name is a path"),
                        ..e.clone()
                    }
                });
            }
            TargetKind::Grpc { exchanges, .. } => {
                *exchanges = reroute(exchanges, &|e| Exchange {
                    path: grpc.parse().expect("a call's name is a path"),
                    ..e.clone()
                });
            }
            TargetKind::Tcp(exchanges) => {
                *exchanges = reroute(exchanges, &|e| {
                    // The frame: 4 bytes of length, then the call byte.
                    let mut frame = e.body.to_vec();
                    frame[4] = index;
                    Exchange {
                        body: Bytes::from(frame),
                        ..e.clone()
                    }
                });
            }
        }
        Ok(kind)
    }

    /// What the client sends to `stack`'s front server, and the check
    /// every answer must pass.
    pub fn request(&self, stack: Stack) -> Result<TargetKind, ContractError> {
        let count = match self {
            Job::Message(job) => job.count(),
            Job::Payload { .. } | Job::Echo { .. } | Job::Pipeline { .. } => 1,
        };
        let exchanges = (0..count)
            .map(|i| self.exchange(stack, i))
            .collect::<Result<Vec<_>, _>>()?;
        let exchanges = Exchanges::new(exchanges).expect("every job has a request");
        let compression = stack.compression;
        let media = stack.media_type().map(http::HeaderValue::from_static);
        Ok(match stack.family() {
            Family::Rest => {
                let protobuf = stack.encoding() == Encoding::Protobuf;
                let sends_body = match self {
                    Job::Echo { .. } => true,
                    Job::Message(job) => job.direction != Direction::Down,
                    Job::Payload { .. } | Job::Pipeline { .. } => false,
                };
                let mut headers = http::HeaderMap::new();
                let media = media.expect("every REST stack names its media type");
                if protobuf {
                    headers.insert(http::header::ACCEPT, media.clone());
                }
                if sends_body {
                    headers.insert(http::header::CONTENT_TYPE, media);
                }
                if let Some(compression) = compression {
                    let name = http::HeaderValue::from_static(compression.name());
                    headers.insert(http::header::ACCEPT_ENCODING, name.clone());
                    if sends_body {
                        headers.insert(http::header::CONTENT_ENCODING, name);
                    }
                }
                let method = if sends_body {
                    http::Method::POST
                } else {
                    http::Method::GET
                };
                TargetKind::Http(HttpTarget {
                    version: stack.http_version().expect("every REST stack speaks HTTP"),
                    method,
                    headers,
                    exchanges,
                })
            }
            Family::Grpc => TargetKind::Grpc {
                exchanges,
                json: stack.speaks_json(),
                metadata: http::HeaderMap::new(),
                authority: None,
                streaming: None,
                compression,
            },
            Family::GrpcWeb => {
                let media = media.expect("gRPC-Web names its media type");
                let mut headers = http::HeaderMap::new();
                headers.insert(http::header::CONTENT_TYPE, media.clone());
                headers.insert(http::header::ACCEPT, media);
                headers.insert("x-grpc-web", http::HeaderValue::from_static("1"));
                if let Some(compression) = compression {
                    let name = http::HeaderValue::from_static(compression.name());
                    headers.insert("grpc-encoding", name.clone());
                    headers.insert("grpc-accept-encoding", name);
                }
                TargetKind::Http(HttpTarget {
                    version: HttpVersion::Http1,
                    method: http::Method::POST,
                    headers,
                    exchanges,
                })
            }
            Family::Tcp => TargetKind::Tcp(exchanges),
        })
    }

    /// Request `i` to `stack` (a message job sends its messages in turn;
    /// every other job has one request).
    fn exchange(&self, stack: Stack, i: usize) -> Result<Exchange, ContractError> {
        if !stack.carries_pipeline() && matches!(self, Job::Pipeline { .. }) {
            return Err(ContractError::NotServed {
                stack,
                workload: Workload::Pipeline,
            });
        }
        let protobuf = stack.encoding() == Encoding::Protobuf;
        let (path, body) = match stack.family() {
            Family::Rest => {
                let body = match self {
                    Job::Echo { size_kb } if protobuf => {
                        Bytes::from(echo_message(*size_kb)?.encode_to_vec())
                    }
                    Job::Echo { size_kb } => echo_json(*size_kb)?,
                    // Down asks by the query, GET /message?index=K.
                    Job::Message(job) if job.direction != Direction::Down => {
                        job.request(i, stack.encoding())
                    }
                    Job::Message(_) | Job::Payload { .. } | Job::Pipeline { .. } => Bytes::new(),
                };
                let body = match stack.compression {
                    Some(compression) if !body.is_empty() => {
                        Bytes::from(crate::verify::compress(compression, &body))
                    }
                    _ => body,
                };
                (self.http_path(i), body)
            }
            Family::Grpc => {
                let (path, message) = self.grpc_message(i, stack.speaks_json())?;
                (path.to_owned(), message)
            }
            Family::GrpcWeb => {
                let (path, message) = self.grpc_message(i, stack.speaks_json())?;
                let frame = crate::client::frame_of(&message, stack.compression).map_err(|_| {
                    ContractError::TooLarge {
                        what: "a gRPC-Web message",
                        size_kb: message.len() as u64 / 1024,
                    }
                })?;
                let body = if stack.base64() {
                    use base64::Engine;
                    Bytes::from(base64::engine::general_purpose::STANDARD.encode(&frame))
                } else {
                    frame
                };
                (path.to_owned(), body)
            }
            Family::Tcp => {
                let frame = match self {
                    Job::Payload { size_kb } => tcp_wire::payload_request(signed(*size_kb)),
                    Job::Pipeline { records } => {
                        tcp_wire::frame_message(&AggregateRequest { records: *records })
                    }
                    Job::Message(job) => {
                        let mut frame = vec![job.direction.tcp_tag()];
                        frame.extend_from_slice(&job.request(i, Encoding::Protobuf));
                        tcp_wire::frame(&frame)
                    }
                    Job::Echo { .. } => {
                        return Err(ContractError::NotServed {
                            stack,
                            workload: Workload::Echo,
                        });
                    }
                };
                (self.http_path(i), Bytes::from(frame))
            }
        };
        Ok(Exchange {
            path: path.parse().expect("our paths are valid"),
            body,
            check: self.check_at(stack, i)?,
            vary: None,
        })
    }

    /// How a good answer over `stack` looks (to the first request, where a
    /// job has several).
    pub fn check(&self, stack: Stack) -> Result<BodyCheck, ContractError> {
        self.check_at(stack, 0)
    }

    /// How a good answer to request `i` over `stack` looks.
    fn check_at(&self, stack: Stack, i: usize) -> Result<BodyCheck, ContractError> {
        let message = self.message_check(stack, i)?;
        Ok(match (stack.family(), stack.compression) {
            (Family::GrpcWeb, compression) => BodyCheck::GrpcWeb {
                inner: Box::new(message),
                text: stack.base64(),
                compression,
            },
            // gRPC flags each compressed message: the client inflates it.
            (Family::Grpc | Family::Tcp, _) | (Family::Rest, None) => message,
            (Family::Rest, Some(compression)) => BodyCheck::Compressed {
                inner: Box::new(message),
                compression,
            },
        })
    }

    /// How the message of a good answer to request `i` over `stack`
    /// looks, before any framing or compression.
    fn message_check(&self, stack: Stack, i: usize) -> Result<BodyCheck, ContractError> {
        let protobuf = stack.encoding() == Encoding::Protobuf;
        Ok(match self {
            Job::Payload { size_kb } => {
                let len = bytes_of("size_kb", *size_kb)?;
                if stack.is_ceiling() {
                    BodyCheck::PayloadBytes { len }
                } else if protobuf {
                    BodyCheck::PayloadProto { len }
                } else {
                    BodyCheck::PayloadJson { len }
                }
            }
            Job::Echo { size_kb } => BodyCheck::Exact(match stack.family() {
                Family::Rest if !protobuf => echo_json(*size_kb)?,
                Family::Rest | Family::Grpc | Family::GrpcWeb | Family::Tcp => {
                    let message = echo_message(*size_kb)?;
                    if protobuf {
                        Bytes::from(message.encode_to_vec())
                    } else {
                        let mut json = Vec::new();
                        message.write_json(&mut json);
                        Bytes::from(json)
                    }
                }
            }),
            Job::Pipeline { records } => {
                let expected = pipeline_summary(*records)?;
                if protobuf {
                    BodyCheck::SummaryProto(expected)
                } else {
                    BodyCheck::Summary(expected)
                }
            }
            Job::Message(job) => job.check(i, stack.encoding()),
        })
    }

    /// The REST route of request `i` (and the label of the tcp request).
    fn http_path(&self, i: usize) -> String {
        match self {
            Job::Payload { size_kb } => format!("/payload?size_in_kb={size_kb}"),
            Job::Echo { .. } => "/echo".to_owned(),
            Job::Pipeline { records } => format!("/aggregate?records={records}"),
            Job::Message(job) => match job.direction {
                Direction::Echo => "/message/echo".to_owned(),
                Direction::Down if job.count() > 1 => format!("/message?index={i}"),
                Direction::Down | Direction::Up => "/message".to_owned(),
            },
        }
    }

    /// The gRPC method and request `i`'s message, encoded once.
    fn grpc_message(&self, i: usize, json: bool) -> Result<(&'static str, Bytes), ContractError> {
        fn encode(message: &(impl Message + JsonMessage), json: bool) -> Bytes {
            if json {
                let mut out = Vec::new();
                message.write_json(&mut out);
                Bytes::from(out)
            } else {
                Bytes::from(message.encode_to_vec())
            }
        }
        Ok(match self {
            Job::Payload { size_kb } => (
                GET_LARGE_PAYLOAD,
                encode(
                    &PayloadRequest {
                        size_in_kb: signed(*size_kb),
                    },
                    json,
                ),
            ),
            Job::Echo { size_kb } => (ECHO, encode(&echo_message(*size_kb)?, json)),
            Job::Pipeline { records } => (
                AGGREGATE,
                encode(&AggregateRequest { records: *records }, json),
            ),
            Job::Message(job) => {
                let encoding = if json {
                    Encoding::Json
                } else {
                    Encoding::Protobuf
                };
                (job.direction.grpc_path(), job.request(i, encoding))
            }
        })
    }
}

/// What a correct pipeline answers for a request of `records` (0: the
/// servers' default).
pub fn pipeline_summary(records: u32) -> Result<Summary, ContractError> {
    let records = if records == 0 {
        DEFAULT_RECORDS
    } else {
        records
    };
    if records > DEFAULT_MAX_RECORDS {
        return Err(ContractError::TooManyRecords { records });
    }
    Ok(expected_summary(records))
}

fn bytes_of(what: &'static str, size_kb: u64) -> Result<usize, ContractError> {
    size_kb
        .checked_mul(1024)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(ContractError::TooLarge { what, size_kb })
}

fn signed(size_kb: u64) -> i64 {
    i64::try_from(size_kb).unwrap_or(i64::MAX)
}

fn echo_message(size_kb: u64) -> Result<EchoMessage, ContractError> {
    Ok(EchoMessage {
        data: Bytes::from(vec![b'x'; bytes_of("echo", size_kb)?]),
    })
}

/// `{"data":"xxx..."}`: what the REST echo sends, and gets back.
fn echo_json(size_kb: u64) -> Result<Bytes, ContractError> {
    let data = "x".repeat(bytes_of("echo", size_kb)?);
    Ok(Bytes::from(
        serde_json::to_vec(&DataJson {
            data: std::borrow::Cow::Borrowed(&data),
        })
        .expect("a string serializes"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirebench_proto::vocab::StackKind;

    #[test]
    fn every_stack_has_a_contract_for_the_payload_and_the_pipeline() {
        for kind in StackKind::ALL {
            let stack = Stack::plain(kind);
            for job in [Job::Payload { size_kb: 4 }, Job::Pipeline { records: 10 }] {
                if !stack.carries_pipeline() && job.workload() == Workload::Pipeline {
                    assert!(job.request(stack).is_err());
                    continue;
                }
                let request = job.request(stack).unwrap();
                assert_eq!(
                    request.multiplexes(),
                    stack.multiplexes(),
                    "{stack}: {job:?}"
                );
            }
        }
        assert!(matches!(
            Job::Echo { size_kb: 1 }.request("tcp".parse().unwrap()),
            Err(ContractError::NotServed { .. })
        ));
    }

    #[test]
    fn checks_follow_the_encoding() {
        let check = |stack: &str, job: Job| job.check(stack.parse().unwrap()).unwrap();
        let payload = Job::Payload { size_kb: 2 };
        assert!(matches!(
            check("rest", payload.clone()),
            BodyCheck::PayloadJson { len: 2048 }
        ));
        assert!(matches!(
            check("grpc-json", payload.clone()),
            BodyCheck::PayloadJson { .. }
        ));
        assert!(matches!(
            check("rest-proto", payload.clone()),
            BodyCheck::PayloadProto { .. }
        ));
        assert!(matches!(
            check("tcp", payload),
            BodyCheck::PayloadBytes { .. }
        ));
        let pipeline = Job::Pipeline { records: 0 };
        match check("grpc", pipeline) {
            BodyCheck::SummaryProto(summary) => assert_eq!(summary.count, 100),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            pipeline_summary(DEFAULT_MAX_RECORDS + 1),
            Err(ContractError::TooManyRecords {
                records: DEFAULT_MAX_RECORDS + 1
            })
        );
    }
}
