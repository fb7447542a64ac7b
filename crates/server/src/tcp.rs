//! The `tcp` stack, the ceiling: the same payload bytes over a bare
//! length-prefixed protocol, with nothing else on the wire. A request is a
//! 4-byte big-endian length then that many bytes (an 8-byte little-endian
//! `size_in_kb`); the answer is a 4-byte length then the payload. A bad
//! request gets length 0xFFFFFFFF, then a length-prefixed error text, and
//! the connection closes.

use std::future::Future;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_stream::StreamExt;

use crate::PayloadHandler;
use crate::listener::{Incoming, ServerStream};

/// Marks an error answer.
pub const ERROR_MARK: u32 = u32::MAX;
/// Requests are 8 bytes; anything longer is refused without reading it.
const MAX_REQUEST_BYTES: u32 = 64;

pub async fn serve(
    mut incoming: Incoming,
    handler: PayloadHandler,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            next = incoming.next() => match next {
                Some(Ok(stream)) => {
                    connections.spawn(connection(stream, handler));
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

async fn connection(mut stream: ServerStream, handler: PayloadHandler) {
    let mut request = [0u8; MAX_REQUEST_BYTES as usize];
    loop {
        let Ok(len) = stream.read_u32().await else {
            return;
        };
        if len != 8 {
            let _ = refuse(
                &mut stream,
                &format!("a request is 8 bytes, got a length of {len}"),
            )
            .await;
            return;
        }
        if stream.read_exact(&mut request[..8]).await.is_err() {
            return;
        }
        let size_in_kb = decode_request(&request[..8]).expect("8 bytes were read");
        let answer = match handler.payload(size_in_kb) {
            Ok(data) => data,
            Err(err) => {
                let _ = refuse(&mut stream, &err.to_string()).await;
                return;
            }
        };
        let header = u32::try_from(answer.len())
            .unwrap_or(ERROR_MARK - 1)
            .to_be_bytes();
        // Header and payload in one vectored write: one syscall, one wake-up
        // of the reader, as a framed protocol should.
        let mut frame = bytes::Buf::chain(&header[..], &answer[..]);
        if stream.write_all_buf(&mut frame).await.is_err() {
            return;
        }
    }
}

/// A request's body: the size asked for, 8 bytes little-endian.
pub fn decode_request(body: &[u8]) -> Result<i64, String> {
    let bytes: [u8; 8] = body
        .try_into()
        .map_err(|_| format!("a request is 8 bytes, got {}", body.len()))?;
    Ok(i64::from_le_bytes(bytes))
}

async fn refuse(stream: &mut ServerStream, why: &str) -> std::io::Result<()> {
    stream.write_all(&ERROR_MARK.to_be_bytes()).await?;
    stream.write_all(&(why.len() as u32).to_be_bytes()).await?;
    stream.write_all(why.as_bytes()).await?;
    stream.shutdown().await
}
