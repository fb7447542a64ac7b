//! The pipeline over the `tcp` ceiling: each role reads a framed protobuf
//! request and answers a framed protobuf message
//! ([`wirebench_proto::tcp_wire`]); nothing else is on the wire. Between
//! services, a pool of such connections, one request at a time on each:
//! the least a hop can cost, so the other stacks can be read as a share
//! of it.

use std::future::Future;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wirebench_proto::pipeline::{
    AggregateRequest, GenerateRequest, ProcessRequest, ProcessedBatch, RecordBatch,
};
use wirebench_proto::tcp_wire::{self, ERROR_MARK, MAX_ERROR_BYTES};

use super::hop_connect::{HopConnector, HopStream};
use super::{PipelineConfig, PipelineError, Role, work};
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
    config: PipelineConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let role = Arc::new(TcpRole {
        hop: TcpHop::new(&config),
        config,
    });
    crate::tcp::serve_frames(
        incoming,
        move |request: Bytes| {
            let role = Arc::clone(&role);
            async move { role.answer(request).await.map_err(refusal) }
        },
        shutdown,
    )
    .await;
}

struct TcpRole {
    config: PipelineConfig,
    hop: TcpHop,
}

impl TcpRole {
    /// One request's answer, encoded.
    async fn answer(&self, request: Bytes) -> Result<Bytes, PipelineError> {
        let malformed = |err: prost::DecodeError| {
            PipelineError::InvalidArgument(format!("malformed request: {err}"))
        };
        let encoded = match self.config.role {
            Role::Producer => {
                let request = GenerateRequest::decode(request).map_err(malformed)?;
                let n = self.config.records(request.records)?;
                RecordBatch {
                    request_id: request.request_id,
                    records: work::generate(n),
                    ..Default::default()
                }
                .encode_to_vec()
            }
            Role::Processor => {
                let request = ProcessRequest::decode(request).map_err(malformed)?;
                let n = self.config.records(request.records)?;
                let batch: RecordBatch = self
                    .hop
                    .call(&GenerateRequest {
                        request_id: 0,
                        records: n,
                    })
                    .await?;
                ProcessedBatch {
                    request_id: request.request_id,
                    records: work::process(batch.records),
                    ..Default::default()
                }
                .encode_to_vec()
            }
            Role::Aggregator => {
                let request = AggregateRequest::decode(request).map_err(malformed)?;
                let n = self.config.records(request.records)?;
                let batch: ProcessedBatch = self
                    .hop
                    .call(&ProcessRequest {
                        request_id: 0,
                        records: n,
                    })
                    .await?;
                work::aggregate(&batch.records).encode_to_vec()
            }
        };
        Ok(Bytes::from(encoded))
    }
}

fn refusal(err: PipelineError) -> Refusal {
    tonic::Status::from(err).into()
}

/// The hop to the next service: idle connections kept for reuse, one
/// request at a time on each, a new one opened when none is idle.
struct TcpHop {
    connector: HopConnector,
    host: String,
    port: u16,
    next: String,
    timeout: std::time::Duration,
    idle: Mutex<Vec<HopConnection>>,
}

impl TcpHop {
    fn new(config: &PipelineConfig) -> TcpHop {
        let upstream = config.upstream();
        let (host, port) = upstream
            .rsplit_once(':')
            .map(|(host, port)| (host.to_owned(), port.parse().unwrap_or(0)))
            .unwrap_or((upstream.clone(), 0));
        TcpHop {
            connector: config.hop_connector(),
            host,
            port,
            next: config.next_service(),
            timeout: config.hop_timeout,
            idle: Mutex::new(Vec::new()),
        }
    }

    async fn call<Req: Message, Resp: Message + Default>(
        &self,
        request: &Req,
    ) -> Result<Resp, PipelineError> {
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
                    Err(HopFailure::Broken(_)) => {}
                    Err(HopFailure::Answered(err)) => return Err(err),
                }
            }
            let mut stream = tokio::io::BufReader::with_capacity(
                ANSWER_BUFFER_BYTES,
                self.connector
                    .connect(&self.host, self.port)
                    .await
                    .map_err(|err| self.unavailable(&err.to_string()))?,
            );
            let answer =
                self.exchange(&mut stream, request)
                    .await
                    .map_err(|failure| match failure {
                        HopFailure::Broken(err) => self.unavailable(&err.to_string()),
                        HopFailure::Answered(err) => err,
                    })?;
            self.put_back(stream);
            Ok(answer)
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(self.unavailable(&format!("no answer within {:?}", self.timeout)))
            })
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

    async fn exchange<Req: Message, Resp: Message + Default>(
        &self,
        stream: &mut HopConnection,
        request: &Req,
    ) -> Result<Resp, HopFailure> {
        stream.write_all(&tcp_wire::frame_message(request)).await?;
        let len = stream.read_u32().await?;
        if len == ERROR_MARK {
            let len = stream.read_u32().await?.min(MAX_ERROR_BYTES);
            let mut body = vec![0u8; len as usize];
            stream.read_exact(&mut body).await?;
            let (code, message) = tcp_wire::parse_error(&body);
            let message = format!("{} answered: {message}", self.next);
            return Err(HopFailure::Answered(
                if tonic::Code::from_i32(i32::from(code)) == tonic::Code::Unavailable {
                    PipelineError::Unavailable(message)
                } else {
                    PipelineError::BadUpstream(message)
                },
            ));
        }
        if len > MAX_ANSWER_BYTES {
            return Err(HopFailure::Answered(PipelineError::BadUpstream(format!(
                "{} sent an answer of {len} bytes, over {MAX_ANSWER_BYTES}",
                self.next
            ))));
        }
        let mut body = vec![0u8; len as usize];
        stream.read_exact(&mut body).await?;
        Resp::decode(body.as_slice()).map_err(|err| {
            HopFailure::Answered(PipelineError::BadUpstream(format!(
                "{} sent malformed protobuf: {err}",
                self.next
            )))
        })
    }

    fn unavailable(&self, why: &str) -> PipelineError {
        PipelineError::Unavailable(format!("{} is unavailable: {why}", self.next))
    }
}

/// How an exchange on a hop connection failed.
enum HopFailure {
    /// The connection broke: nothing, or not all, came back.
    Broken(std::io::Error),
    /// The next service answered, with a refusal or a bad answer.
    Answered(PipelineError),
}

impl From<std::io::Error> for HopFailure {
    fn from(err: std::io::Error) -> Self {
        HopFailure::Broken(err)
    }
}
