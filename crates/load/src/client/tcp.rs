//! The TCP ceiling's client ([`wirebench_proto::tcp_wire`]): a request
//! frame out, an answer frame back, one request at a time per connection;
//! the answer is read into a reused buffer and checked as it comes.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use wirebench_proto::tcp_wire::{ERROR_MARK, MAX_ERROR_BYTES, parse_error};

use super::connector::ClientStream;
use super::{Connector, Exchange, Exchanges, Rendered, Slots, connect_failure};
use crate::errors::{ErrorKind, RequestFailure};

const READ_CHUNK_BYTES: usize = 64 * 1024;

#[derive(Debug)]
pub struct TcpClient {
    /// Each exchange's body is a request frame.
    exchanges: Exchanges,
    connector: Connector,
    connections: Slots<Connection>,
}

/// An open connection and its read buffer.
type Connection = (ClientStream, Vec<u8>);

impl TcpClient {
    pub fn new(exchanges: Exchanges, connector: Connector, connections: u32) -> Self {
        Self {
            exchanges,
            connector,
            connections: Slots::new(connections),
        }
    }

    pub async fn call(
        &self,
        sender_id: usize,
        exchange: usize,
        timeout: Duration,
    ) -> Result<u64, RequestFailure> {
        let exchange = &self.exchanges[exchange];
        self.connections
            .one_at_a_time(sender_id, timeout, async |connection| {
                self.exchange(connection, exchange).await
            })
            .await
    }

    async fn exchange(
        &self,
        slot: &mut Option<(ClientStream, Vec<u8>)>,
        exchange: &Exchange,
    ) -> Result<u64, RequestFailure> {
        if slot.is_none() {
            let stream = self.connector.connect().await.map_err(connect_failure)?;
            *slot = Some((stream, vec![0u8; READ_CHUNK_BYTES]));
        }
        let (stream, buffer) = slot.as_mut().expect("connected above");
        let reset = |err: std::io::Error| RequestFailure::new(ErrorKind::Reset, err);
        let closed = || RequestFailure::new(ErrorKind::Reset, "the server closed the connection");
        stream.write_all(&exchange.body).await.map_err(reset)?;
        // Read as much as is there, header and payload together: as few
        // syscalls as the bytes allow.
        let mut have = 0;
        while have < 4 {
            let n = stream.read(&mut buffer[have..]).await.map_err(reset)?;
            if n == 0 {
                return Err(closed());
            }
            have += n;
        }
        let len = u32::from_be_bytes(buffer[..4].try_into().expect("4 bytes"));
        if len == ERROR_MARK {
            return Err(read_error(stream, buffer, have).await);
        }
        let mut verifier = exchange.check.start();
        let first = (have - 4).min(len as usize);
        verifier.feed(&buffer[4..4 + first]);
        let mut left = len as usize - first;
        while left > 0 {
            let want = left.min(buffer.len());
            let n = stream.read(&mut buffer[..want]).await.map_err(reset)?;
            if n == 0 {
                return Err(closed());
            }
            verifier.feed(&buffer[..n]);
            left -= n;
        }
        verifier
            .finish()
            .map_err(|why| RequestFailure::new(ErrorKind::WrongBody, why))?;
        Ok(u64::from(len))
    }
}

/// The refusal after an error mark: its status code and message. `buffer`
/// holds `have` bytes read so far, the mark included.
async fn read_error(
    stream: &mut ClientStream,
    buffer: &mut Vec<u8>,
    have: usize,
) -> RequestFailure {
    let Some(have) = fill(stream, buffer, have, 8).await else {
        return RequestFailure::new(ErrorKind::Status, "the server refused the request");
    };
    let len = u32::from_be_bytes(buffer[4..8].try_into().expect("4 bytes")).min(MAX_ERROR_BYTES);
    let end = 8 + len as usize;
    let complete = fill(stream, buffer, have, end).await;
    let (code, message) = parse_error(&buffer[8..complete.unwrap_or(8).min(end)]);
    let code = tonic::Code::from_i32(i32::from(code));
    RequestFailure::new(ErrorKind::Status, format!("{code:?}: {message}"))
        .with_code(format!("tcp {code:?}"))
}

/// Reads until `buffer` holds `want` bytes; `None` if the stream ended first.
async fn fill(
    stream: &mut ClientStream,
    buffer: &mut Vec<u8>,
    mut have: usize,
    want: usize,
) -> Option<usize> {
    if buffer.len() < want {
        buffer.resize(want, 0);
    }
    while have < want {
        match stream.read(&mut buffer[have..want]).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => have += n,
        }
    }
    Some(have)
}

impl super::Transport for TcpClient {
    fn send<'a>(
        &'a self,
        sender_id: usize,
        exchange: usize,
        rendered: Option<&'a Rendered>,
        timeout: Duration,
    ) -> super::Sent<'a> {
        Box::pin(async move {
            // A tcp frame has no template to render.
            let _ = rendered;
            TcpClient::call(self, sender_id, exchange, timeout)
                .await
                .map(super::Answer::bytes)
        })
    }

    fn connector(&self) -> Option<&super::Connector> {
        Some(&self.connector)
    }
}
