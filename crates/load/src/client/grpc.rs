//! gRPC over tonic channels: `--connections` channels, each one HTTP/2
//! connection that reconnects by itself, shared by the senders mapped to it.

use std::time::Duration;

use bytes::Bytes;
use prost::Message;
use tonic::Code;
use tonic::transport::{Channel, Endpoint};
use wirebench_proto::payload::payload_service_client::PayloadServiceClient;
use wirebench_proto::payload::{EchoMessage, PayloadRequest};
use wirebench_proto::pipeline::aggregator_service_client::AggregatorServiceClient;
use wirebench_proto::pipeline::{AggregateRequest, Summary};

use wirebench_proto::payload_json::payload_service_client::PayloadServiceClient as JsonPayloadClient;

use super::dynamic::{DynamicCall, RawCodec};
use super::{Connector, SetupError, timeout_failure};
use crate::errors::{ErrorKind, RequestFailure};
use crate::verify::{BodyCheck, summary_matches};

/// Which rpc to call, with its request and what its answer must be.
#[derive(Debug, Clone)]
pub enum GrpcCall {
    /// `payload.PayloadService/GetLargePayload`.
    GetLargePayload { size_in_kb: i64 },
    /// `payload.PayloadService/Echo` with these bytes.
    Echo { data: Bytes },
    /// Seed 002's `AggregatorService/Aggregate`; the answer must match
    /// `expected` (count and checksum).
    Aggregate {
        request: AggregateRequest,
        expected: Summary,
    },
    /// Any other unary method, described by reflection or a .proto file.
    Dynamic(DynamicCall),
}

impl GrpcCall {
    pub const GET_LARGE_PAYLOAD: &str = "payload.PayloadService/GetLargePayload";
    pub const ECHO: &str = "payload.PayloadService/Echo";
    pub const AGGREGATE: &str = "AggregatorService/Aggregate";

    /// What a good answer looks like, in words.
    pub fn describe_check(&self) -> String {
        match self {
            GrpcCall::GetLargePayload { size_in_kb } => BodyCheck::PayloadBytes {
                len: usize::try_from(*size_in_kb).unwrap_or(0) * 1024,
            }
            .describe(),
            GrpcCall::Echo { data } => BodyCheck::Exact(data.clone()).describe(),
            GrpcCall::Aggregate { expected, .. } => BodyCheck::Summary(expected.clone()).describe(),
            GrpcCall::Dynamic(call) => format!("answer decodes as {}", call.output.full_name()),
        }
    }

    /// `/package.Service/Method`, for labels.
    pub fn path(&self) -> String {
        match self {
            GrpcCall::GetLargePayload { .. } => format!("/{}", Self::GET_LARGE_PAYLOAD),
            GrpcCall::Echo { .. } => format!("/{}", Self::ECHO),
            GrpcCall::Aggregate { .. } => format!("/{}", Self::AGGREGATE),
            GrpcCall::Dynamic(call) => call.path.to_string(),
        }
    }
}

#[derive(Debug)]
pub struct GrpcClient {
    call: GrpcCall,
    /// The JSON codec (`grpc-json`) instead of protobuf.
    json: bool,
    check: Option<BodyCheck>,
    connector: Connector,
    channels: Box<[Channel]>,
}

/// A channel whose connections come from `connector`: one HTTP/2
/// connection, opened lazily, reopened by itself, with the same fixed
/// flow-control windows as our servers (`wirebench_proto::GRPC_*_WINDOW_BYTES`).
pub fn channel_via(connector: &Connector, authority: &str) -> Result<Channel, SetupError> {
    let scheme = if connector.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let url = format!("{scheme}://{authority}");
    let endpoint = Endpoint::from_shared(url.clone()).map_err(|err| SetupError::BadUrl {
        url,
        why: err.to_string(),
    })?;
    let connector = connector.clone();
    let connect = tower::service_fn(move |_: http::Uri| {
        let connector = connector.clone();
        async move { connector.connect().await.map(hyper_util::rt::TokioIo::new) }
    });
    Ok(endpoint
        .initial_stream_window_size(wirebench_proto::GRPC_STREAM_WINDOW_BYTES)
        .initial_connection_window_size(wirebench_proto::GRPC_CONNECTION_WINDOW_BYTES)
        .connect_with_connector_lazy(connect))
}

/// A plain-TCP channel to `authority` (reflection look-ups and the like).
pub fn channel(authority: &str) -> Result<Channel, SetupError> {
    let url = format!("http://{authority}");
    let endpoint = Endpoint::from_shared(url.clone()).map_err(|err| SetupError::BadUrl {
        url,
        why: err.to_string(),
    })?;
    Ok(endpoint.tcp_nodelay(true).connect_lazy())
}

type JsonChannel = tower::util::MapRequest<
    Channel,
    fn(http::Request<tonic::body::Body>) -> http::Request<tonic::body::Body>,
>;

/// Marks requests as `application/grpc+json`.
fn json_channel(channel: Channel) -> JsonChannel {
    fn mark(mut request: http::Request<tonic::body::Body>) -> http::Request<tonic::body::Body> {
        request.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(wirebench_proto::json_codec::CONTENT_TYPE),
        );
        request
    }
    tower::util::MapRequest::new(channel, mark as fn(_) -> _)
}

impl GrpcClient {
    pub fn new(
        authority: &str,
        call: GrpcCall,
        json: bool,
        connector: Connector,
        connections: u32,
    ) -> Result<Self, SetupError> {
        if json
            && !matches!(
                call,
                GrpcCall::GetLargePayload { .. } | GrpcCall::Echo { .. }
            )
        {
            return Err(SetupError::BadUrl {
                url: format!("{authority}{}", call.path()),
                why: "the JSON codec (grpc-json) serves the payload service only".into(),
            });
        }
        let channels = (0..connections)
            .map(|_| channel_via(&connector, authority))
            .collect::<Result<_, _>>()?;
        let check = match &call {
            GrpcCall::GetLargePayload { size_in_kb } => Some(BodyCheck::PayloadBytes {
                len: usize::try_from(*size_in_kb).unwrap_or(0) * 1024,
            }),
            GrpcCall::Echo { data } => Some(BodyCheck::Exact(data.clone())),
            GrpcCall::Aggregate { .. } | GrpcCall::Dynamic(_) => None,
        };
        Ok(Self {
            call,
            json,
            check,
            connector,
            channels,
        })
    }

    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    pub async fn call(&self, sender_id: usize, timeout: Duration) -> Result<u64, RequestFailure> {
        let channel = self.channels[sender_id % self.channels.len()].clone();
        let exchange = async {
            match &self.call {
                GrpcCall::GetLargePayload { size_in_kb } => {
                    let request = PayloadRequest {
                        size_in_kb: *size_in_kb,
                    };
                    let answer = if self.json {
                        payload_json_client(channel)
                            .get_large_payload(request)
                            .await
                    } else {
                        payload_client(channel).get_large_payload(request).await
                    };
                    self.verify(&answer.map_err(classify)?.into_inner().data)
                }
                GrpcCall::Echo { data } => {
                    let request = EchoMessage { data: data.clone() };
                    let answer = if self.json {
                        payload_json_client(channel).echo(request).await
                    } else {
                        payload_client(channel).echo(request).await
                    };
                    self.verify(&answer.map_err(classify)?.into_inner().data)
                }
                GrpcCall::Aggregate { request, expected } => {
                    let summary = AggregatorServiceClient::new(channel)
                        .aggregate(*request)
                        .await
                        .map_err(classify)?
                        .into_inner();
                    summary_matches(expected, &summary)
                        .map_err(|why| RequestFailure::new(ErrorKind::WrongBody, why))?;
                    Ok(summary.encoded_len() as u64)
                }
                GrpcCall::Dynamic(call) => {
                    let mut grpc =
                        tonic::client::Grpc::new(channel).max_decoding_message_size(usize::MAX);
                    grpc.ready()
                        .await
                        .map_err(|err| RequestFailure::new(ErrorKind::Unavailable, err))?;
                    let answer = grpc
                        .unary(
                            tonic::Request::new(call.request.clone()),
                            call.path.clone(),
                            RawCodec,
                        )
                        .await
                        .map_err(classify)?
                        .into_inner();
                    prost_reflect::DynamicMessage::decode(call.output.clone(), answer.as_ref())
                        .map_err(|err| {
                            RequestFailure::new(
                                ErrorKind::WrongBody,
                                format!("answer is not a {}: {err}", call.output.full_name()),
                            )
                        })?;
                    Ok(answer.len() as u64)
                }
            }
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(timeout_failure(timeout)))
    }

    fn verify(&self, data: &[u8]) -> Result<u64, RequestFailure> {
        if let Some(check) = &self.check {
            check
                .verify(data)
                .map_err(|why| RequestFailure::new(ErrorKind::WrongBody, why))?;
        }
        Ok(data.len() as u64)
    }
}

fn payload_client(channel: Channel) -> PayloadServiceClient<Channel> {
    PayloadServiceClient::new(channel)
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX)
}

fn payload_json_client(channel: Channel) -> JsonPayloadClient<JsonChannel> {
    JsonPayloadClient::new(json_channel(channel))
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX)
}

fn classify(status: tonic::Status) -> RequestFailure {
    let kind = match status.code() {
        Code::Unavailable => ErrorKind::Unavailable,
        Code::DeadlineExceeded => ErrorKind::Timeout,
        Code::Cancelled => ErrorKind::Reset,
        // tonic reports broken HTTP/2 connections as UNKNOWN with a source.
        Code::Unknown if std::error::Error::source(&status).is_some() => ErrorKind::Reset,
        _ => ErrorKind::GrpcStatus,
    };
    let message = if status.message().is_empty() {
        format!("{}", status.code())
    } else {
        format!("{}: {}", status.code(), status.message())
    };
    RequestFailure::new(kind, message)
}
