//! The pipeline over the `tcp` ceiling: each role reads a framed protobuf
//! request and answers a framed protobuf message
//! ([`wirebench_proto::tcp_wire`]); nothing else is on the wire. Between
//! services, a pool of such connections, one request at a time on each:
//! the least a hop can cost, so the other stacks can be read as a share
//! of it.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wirebench_proto::pipeline::{AggregateRequest, GenerateRequest};
use wirebench_proto::pipeline_hop::{HopAnswer, HopRequest};
use wirebench_proto::tcp_wire::{self, ERROR_MARK, MAX_ERROR_BYTES};

use super::hop_connect::{HopConnector, HopStream};
use super::roles::{HopFailure, Hops, Role, Upstream, within};
use super::{PipelineConfig, PipelineError, Role as RoleName};
use crate::listener::Incoming;
use crate::tcp::Refusal;

/// Read buffer of a hop connection: a length and a batch of the default
/// size come in one read.
const ANSWER_BUFFER_BYTES: usize = 16 * 1024;

/// A connection to the next service, read through a buffer.
type HopConnection = tokio::io::BufReader<HopStream>;

/// Largest answer a hop reads (a batch of `--max-records` records is far
/// under this).
const MAX_ANSWER_BYTES: u32 = 256 << 20;

pub async fn serve(
    incoming: Incoming,
    config: &PipelineConfig,
    request_timeout: std::time::Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let aggregator = config.role == RoleName::Aggregator;
    let role = Arc::new(Role::new(config, &TcpHops));
    crate::tcp::serve_frames(
        incoming,
        wirebench_proto::tcp_wire::MAX_REQUEST_BYTES,
        request_timeout,
        move |request: Bytes| {
            let role = Arc::clone(&role);
            async move {
                let (request_id, requested) = decode(aggregator, request).map_err(refusal)?;
                let answer = role.answer(requested).await.map_err(refusal)?;
                Ok(Bytes::from(answer.encode_protobuf(request_id)))
            }
        },
        shutdown,
    )
    .await;
}

/// A request's id and records: the aggregator is asked with an
/// `AggregateRequest`; the producer and processor with requests of the
/// `GenerateRequest` shape (`ProcessRequest` has the same fields).
fn decode(aggregator: bool, request: Bytes) -> Result<(u64, u32), PipelineError> {
    let malformed = |err: prost::DecodeError| {
        PipelineError::InvalidArgument(format!("malformed request: {err}"))
    };
    if aggregator {
        let request = AggregateRequest::decode(request).map_err(malformed)?;
        return Ok((0, request.records));
    }
    let request = GenerateRequest::decode(request).map_err(malformed)?;
    Ok((request.request_id, request.records))
}

fn refusal(err: PipelineError) -> Refusal {
    tonic::Status::from(err).into()
}

/// The tcp hop kind.
pub struct TcpHops;

impl Hops for TcpHops {
    type To<R: HopRequest> = TcpHop<R>;

    fn to<R: HopRequest>(&self, config: &PipelineConfig) -> TcpHop<R> {
        TcpHop::new(config)
    }
}

/// The hop to the next service: idle connections kept for reuse, one
/// request at a time on each, a new one opened when none is idle.
pub struct TcpHop<R> {
    connector: HopConnector,
    host: String,
    port: u16,
    timeout: std::time::Duration,
    idle: Mutex<Vec<HopConnection>>,
    request: PhantomData<fn() -> R>,
}

impl<R: HopRequest> Upstream<<R::Answer as HopAnswer>::Item> for TcpHop<R> {
    async fn fetch(&self, records: u32) -> Result<Vec<<R::Answer as HopAnswer>::Item>, HopFailure> {
        let answer = self.call(&R::new(0, records)).await?;
        answer
            .into_items()
            .map_err(|(code, message)| HopFailure::refused_with_code(code, message))
    }
}

impl<R: HopRequest> TcpHop<R> {
    fn new(config: &PipelineConfig) -> TcpHop<R> {
        let upstream = config.upstream();
        let (host, port) = upstream
            .rsplit_once(':')
            .map(|(host, port)| (host.to_owned(), port.parse().unwrap_or(0)))
            .unwrap_or((upstream.clone(), 0));
        TcpHop {
            connector: config.hop_connector(),
            host,
            port,
            timeout: config.hop_timeout,
            idle: Mutex::new(Vec::new()),
            request: PhantomData,
        }
    }

    async fn call(&self, request: &R) -> Result<R::Answer, HopFailure> {
        let exchange = async {
            if let Some(mut stream) = self.take_idle() {
                match self.exchange(&mut stream, request).await {
                    Ok(answer) => {
                        self.put_back(stream);
                        return Ok(answer);
                    }
                    // The next service closed this idle connection meanwhile
                    // (it restarted, or timed the connection out): the
                    // request is a read, so it is sent again on a new one.
                    Err(Exchange::Broken(_)) => {}
                    Err(Exchange::Answered(failure)) => return Err(failure),
                }
            }
            let mut stream = tokio::io::BufReader::with_capacity(
                ANSWER_BUFFER_BYTES,
                self.connector
                    .connect(&self.host, self.port)
                    .await
                    .map_err(|err| HopFailure::Unreachable(err.to_string()))?,
            );
            let answer =
                self.exchange(&mut stream, request)
                    .await
                    .map_err(|failure| match failure {
                        Exchange::Broken(err) => HopFailure::Unreachable(err.to_string()),
                        Exchange::Answered(failure) => failure,
                    })?;
            self.put_back(stream);
            Ok(answer)
        };
        within(self.timeout, exchange).await
    }

    /// Only a connection whose exchange completed goes back to the pool.
    fn put_back(&self, stream: HopConnection) {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(stream);
    }

    fn take_idle(&self) -> Option<HopConnection> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop()
    }

    async fn exchange(
        &self,
        stream: &mut HopConnection,
        request: &R,
    ) -> Result<R::Answer, Exchange> {
        stream.write_all(&tcp_wire::frame_message(request)).await?;
        let len = stream.read_u32().await?;
        if len == ERROR_MARK {
            let len = stream.read_u32().await?.min(MAX_ERROR_BYTES);
            let mut body = vec![0u8; len as usize];
            stream.read_exact(&mut body).await?;
            let (code, message) = tcp_wire::parse_error(&body);
            return Err(Exchange::Answered(HopFailure::refused_with_code(
                i32::from(code),
                message,
            )));
        }
        if len > MAX_ANSWER_BYTES {
            return Err(Exchange::Answered(HopFailure::Malformed(format!(
                "an answer of {len} bytes, over {MAX_ANSWER_BYTES}"
            ))));
        }
        let mut body = vec![0u8; len as usize];
        stream.read_exact(&mut body).await?;
        R::Answer::decode(body.as_slice())
            .map_err(|err| Exchange::Answered(HopFailure::Malformed(err.to_string())))
    }
}

/// How an exchange on a hop connection failed.
enum Exchange {
    /// The connection broke: nothing, or not all, came back.
    Broken(std::io::Error),
    /// The next service answered, with a refusal or a bad answer.
    Answered(HopFailure),
}

impl From<std::io::Error> for Exchange {
    fn from(err: std::io::Error) -> Self {
        Exchange::Broken(err)
    }
}
