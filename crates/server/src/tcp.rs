//! The `tcp` stack, the ceiling: requests and answers as bare
//! length-prefixed frames ([`wirebench_proto::tcp_wire`]), nothing else on
//! the wire. One loop ([`serve_frames`]) serves every workload; each passes
//! the function that turns a request's bytes into its answer's bytes: the
//! payload service ([`serve`]), the message workload and a mix
//! (`message::tcp`) or a pipeline role (`pipeline::tcp`).

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_stream::StreamExt;
use wirebench_proto::tcp_wire::{self, MAX_REQUEST_BYTES};

use crate::PayloadHandler;
use crate::listener::{Incoming, ServerStream};

/// Read buffer of a connection: room for a few whole payload requests (a
/// larger request is read past it, straight into the request buffer).
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
    request_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    serve_frames(
        incoming,
        MAX_REQUEST_BYTES,
        request_timeout,
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

/// Serves framed requests of at most `max_request_bytes` until `shutdown`,
/// answering each with `answer`. A frame must arrive whole within
/// `request_timeout` of its first byte (a frame trickled a byte at a time
/// is cut off with DEADLINE_EXCEEDED); between frames the idle deadline
/// applies.
pub async fn serve_frames<F, Fut>(
    mut incoming: Incoming,
    max_request_bytes: u32,
    request_timeout: Duration,
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
                    let idle = stream.idle();
                    let connection = connection(stream, max_request_bytes, request_timeout, answer.clone());
                    crate::task::spawn_into(&mut connections, async move {
                        tokio::select! {
                            () = connection => {}
                            () = idle => {}
                        }
                    });
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

/// Why a frame was not read.
enum FrameError {
    /// The connection closed or failed mid-frame.
    Closed,
    /// Its length is over the limit.
    TooLong(u32),
}

/// Reads one frame's length and body into `request`.
async fn read_frame(
    stream: &mut tokio::io::BufReader<ServerStream>,
    max_request_bytes: u32,
    request: &mut Vec<u8>,
) -> Result<(), FrameError> {
    let len = stream.read_u32().await.map_err(|_| FrameError::Closed)?;
    if len > max_request_bytes {
        return Err(FrameError::TooLong(len));
    }
    request.clear();
    let read = (&mut *stream)
        .take(u64::from(len))
        .read_to_end(request)
        .await;
    if read.is_err() || request.len() != len as usize {
        return Err(FrameError::Closed);
    }
    Ok(())
}

async fn connection<F, Fut>(
    stream: ServerStream,
    max_request_bytes: u32,
    request_timeout: Duration,
    answer: F,
) where
    F: Fn(Bytes) -> Fut,
    Fut: Future<Output = Result<Bytes, Refusal>>,
{
    // A request's length and body come in one read, not two.
    let mut stream = tokio::io::BufReader::with_capacity(REQUEST_BUFFER_BYTES, stream);
    // Grows with the bytes that actually arrive (not with the length a
    // client announces), to the largest request seen on this connection.
    let mut request = Vec::new();
    loop {
        // Between frames only the idle deadline applies; from a frame's
        // first byte, the whole frame must come within the request deadline.
        if stream
            .fill_buf()
            .await
            .map_or(true, |bytes| bytes.is_empty())
        {
            return;
        }
        let frame = read_frame(&mut stream, max_request_bytes, &mut request);
        let refusal = match tokio::time::timeout(request_timeout, frame).await {
            Ok(Ok(())) => None,
            Ok(Err(FrameError::Closed)) => return,
            Ok(Err(FrameError::TooLong(len))) => Some(Refusal {
                code: tonic::Code::InvalidArgument,
                message: format!(
                    "a request is at most {max_request_bytes} bytes, got a length of {len}"
                ),
            }),
            Err(_) => Some(Refusal {
                code: tonic::Code::DeadlineExceeded,
                message: format!("the request did not arrive whole within {request_timeout:?}"),
            }),
        };
        if let Some(refusal) = refusal {
            let _ = refuse(&mut stream, refusal).await;
            return;
        }
        let bytes = match answer(Bytes::copy_from_slice(&request)).await {
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
