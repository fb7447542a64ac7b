//! The `tcp` stack, the ceiling: requests and answers as bare
//! length-prefixed frames ([`wirebench_proto::tcp_wire`]), nothing else on
//! the wire. One loop serves both workloads; each passes the function that
//! turns a request's bytes into its answer's bytes: the payload service
//! ([`serve`]) or a pipeline role (`pipeline::tcp`).

use std::future::Future;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_stream::StreamExt;
use wirebench_proto::tcp_wire::{self, MAX_REQUEST_BYTES};

use crate::PayloadHandler;
use crate::listener::{Incoming, ServerStream};

/// Read buffer of a connection: room for a few whole requests.
const REQUEST_BUFFER_BYTES: usize = 4 * (4 + MAX_REQUEST_BYTES as usize);

/// Why a request got no answer: a gRPC status code and a message, sent to
/// the client before the connection closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: tonic::Code,
    pub message: String,
}

impl From<tonic::Status> for Refusal {
    fn from(status: tonic::Status) -> Self {
        Refusal {
            code: status.code(),
            message: status.message().to_owned(),
        }
    }
}

/// Serves the payload service over the TCP ceiling.
pub async fn serve(
    incoming: Incoming,
    handler: PayloadHandler,
    shutdown: impl Future<Output = ()>,
) {
    serve_frames(
        incoming,
        move |request: Bytes| {
            std::future::ready(
                tcp_wire::decode_payload_request(&request)
                    .map_err(|why| Refusal {
                        code: tonic::Code::InvalidArgument,
                        message: why,
                    })
                    .and_then(|size_in_kb| {
                        handler
                            .payload(size_in_kb)
                            .map_err(|err| tonic::Status::from(err).into())
                    }),
            )
        },
        shutdown,
    )
    .await;
}

/// Serves framed requests until `shutdown`, answering each with `answer`.
pub async fn serve_frames<F, Fut>(
    mut incoming: Incoming,
    answer: F,
    shutdown: impl Future<Output = ()>,
) where
    F: Fn(Bytes) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Bytes, Refusal>> + Send + 'static,
{
    tokio::pin!(shutdown);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            next = incoming.next() => match next {
                Some(Ok(stream)) => {
                    connections.spawn(connection(stream, answer.clone()));
                }
                Some(Err(_)) => continue,
                None => break,
            },
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(incoming);
    // Let requests in flight finish; idle connections end at the grace
    // period the caller enforces.
    while connections.join_next().await.is_some() {}
}

async fn connection<F, Fut>(stream: ServerStream, answer: F)
where
    F: Fn(Bytes) -> Fut,
    Fut: Future<Output = Result<Bytes, Refusal>>,
{
    // A request's length and body come in one read, not two.
    let mut stream = tokio::io::BufReader::with_capacity(REQUEST_BUFFER_BYTES, stream);
    let mut request = [0u8; MAX_REQUEST_BYTES as usize];
    loop {
        let Ok(len) = stream.read_u32().await else {
            return;
        };
        if len > MAX_REQUEST_BYTES {
            let _ = refuse(
                &mut stream,
                Refusal {
                    code: tonic::Code::InvalidArgument,
                    message: format!(
                        "a request is at most {MAX_REQUEST_BYTES} bytes, got a length of {len}"
                    ),
                },
            )
            .await;
            return;
        }
        let body = &mut request[..len as usize];
        if stream.read_exact(body).await.is_err() {
            return;
        }
        let bytes = match answer(Bytes::copy_from_slice(body)).await {
            Ok(bytes) => bytes,
            Err(refusal) => {
                let _ = refuse(&mut stream, refusal).await;
                return;
            }
        };
        let header = u32::try_from(bytes.len())
            .unwrap_or(tcp_wire::ERROR_MARK - 1)
            .to_be_bytes();
        // Header and answer in one vectored write: one syscall, one wake-up
        // of the reader, as a framed protocol should.
        let mut frame = bytes::Buf::chain(&header[..], &bytes[..]);
        if stream.write_all_buf(&mut frame).await.is_err() {
            return;
        }
    }
}

async fn refuse(stream: &mut (impl AsyncWrite + Unpin), refusal: Refusal) -> std::io::Result<()> {
    let answer = tcp_wire::error_answer(refusal.code as u8, &refusal.message);
    stream.write_all(&answer).await?;
    stream.shutdown().await
}
