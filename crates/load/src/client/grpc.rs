//! gRPC over tonic channels: `--connections` channels, each one HTTP/2
//! connection that reconnects by itself, shared by the senders mapped to it.

use std::time::Duration;

use bytes::Bytes;
use tonic::Code;
use tonic::transport::{Channel, Endpoint};
use wirebench_proto::payload::payload_service_client::PayloadServiceClient;
use wirebench_proto::payload::{EchoMessage, PayloadRequest};

use super::{SetupError, timeout_failure};
use crate::errors::{ErrorKind, RequestFailure};
use crate::verify::BodyCheck;

/// Which rpc to call, with its request.
#[derive(Debug, Clone)]
pub enum GrpcCall {
    /// `payload.PayloadService/GetLargePayload`.
    GetLargePayload { size_in_kb: i64 },
    /// `payload.PayloadService/Echo` with these bytes.
    Echo { data: Bytes },
}

impl GrpcCall {
    pub const GET_LARGE_PAYLOAD: &str = "payload.PayloadService/GetLargePayload";
    pub const ECHO: &str = "payload.PayloadService/Echo";

    /// Parses ghz's `--call` form (`package.Service/Method` or `.Method`).
    pub fn parse(call: &str, size_kb: u64) -> Result<GrpcCall, String> {
        let normalized = call.replace('.', "/").replacen("payload/", "payload.", 1);
        let known = [Self::GET_LARGE_PAYLOAD, Self::ECHO];
        if normalized == Self::GET_LARGE_PAYLOAD {
            Ok(GrpcCall::GetLargePayload {
                size_in_kb: i64::try_from(size_kb).map_err(|_| "size too large".to_owned())?,
            })
        } else if normalized == Self::ECHO {
            let len = usize::try_from(size_kb * 1024).map_err(|_| "size too large".to_owned())?;
            Ok(GrpcCall::Echo {
                data: Bytes::from(vec![b'x'; len]),
            })
        } else {
            Err(format!(
                "unknown call '{call}': this build calls {}",
                known.join(" and ")
            ))
        }
    }

    /// What a good answer looks like.
    pub fn check(&self) -> BodyCheck {
        match self {
            GrpcCall::GetLargePayload { size_in_kb } => BodyCheck::PayloadBytes {
                len: usize::try_from(*size_in_kb).unwrap_or(0) * 1024,
            },
            GrpcCall::Echo { data } => BodyCheck::Exact(data.clone()),
        }
    }
}

#[derive(Debug)]
pub struct GrpcClient {
    call: GrpcCall,
    check: BodyCheck,
    channels: Box<[PayloadServiceClient<Channel>]>,
}

impl GrpcClient {
    pub fn new(authority: &str, call: GrpcCall, connections: u32) -> Result<Self, SetupError> {
        let url = format!("http://{authority}");
        let endpoint = Endpoint::from_shared(url.clone()).map_err(|err| SetupError::BadUrl {
            url,
            why: err.to_string(),
        })?;
        // Each lazily connected channel is its own HTTP/2 connection.
        // Adaptive (BDP-estimated) flow-control windows, as grpc-go and
        // grpc-core use, so large messages are not held to 64 KiB windows.
        let endpoint = endpoint.tcp_nodelay(true).http2_adaptive_window(true);
        let channels = (0..connections)
            .map(|_| {
                PayloadServiceClient::new(endpoint.connect_lazy())
                    .max_decoding_message_size(usize::MAX)
                    .max_encoding_message_size(usize::MAX)
            })
            .collect();
        Ok(Self {
            check: call.check(),
            call,
            channels,
        })
    }

    pub async fn call(&self, sender_id: usize, timeout: Duration) -> Result<u64, RequestFailure> {
        let mut client = self.channels[sender_id % self.channels.len()].clone();
        let exchange = async {
            let data = match &self.call {
                GrpcCall::GetLargePayload { size_in_kb } => {
                    let request = PayloadRequest {
                        size_in_kb: *size_in_kb,
                    };
                    client
                        .get_large_payload(request)
                        .await
                        .map_err(classify)?
                        .into_inner()
                        .data
                }
                GrpcCall::Echo { data } => {
                    let request = EchoMessage { data: data.clone() };
                    client
                        .echo(request)
                        .await
                        .map_err(classify)?
                        .into_inner()
                        .data
                }
            };
            self.check
                .verify(&data)
                .map_err(|why| RequestFailure::new(ErrorKind::WrongBody, why))?;
            Ok(data.len() as u64)
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(timeout_failure(timeout)))
    }
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
