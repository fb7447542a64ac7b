//! The TCP ceiling's client: a 4-byte length and an 8-byte size out, a
//! 4-byte length and the payload back, one request at a time per
//! connection; the payload is read into a reused buffer and checked as it
//! comes.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

use super::connector::ClientStream;
use super::{Connector, connect_failure, one_at_a_time};
use crate::errors::{ErrorKind, RequestFailure};
use crate::verify::BodyCheck;

/// The answer length that marks an error (then a length-prefixed text).
const ERROR_MARK: u32 = u32::MAX;
const READ_CHUNK_BYTES: usize = 64 * 1024;

#[derive(Debug)]
pub struct TcpClient {
    request: [u8; 12],
    check: BodyCheck,
    connector: Connector,
    connections: Box<[Mutex<Option<Connection>>]>,
}

/// An open connection and its read buffer.
type Connection = (ClientStream, Vec<u8>);

impl TcpClient {
    pub fn new(size_in_kb: i64, connector: Connector, connections: u32) -> Self {
        let mut request = [0u8; 12];
        request[..4].copy_from_slice(&8u32.to_be_bytes());
        request[4..].copy_from_slice(&size_in_kb.to_le_bytes());
        Self {
            request,
            check: BodyCheck::PayloadBytes {
                len: usize::try_from(size_in_kb).unwrap_or(0) * 1024,
            },
            connector,
            connections: (0..connections).map(|_| Mutex::new(None)).collect(),
        }
    }

    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    pub async fn call(&self, sender_id: usize, timeout: Duration) -> Result<u64, RequestFailure> {
        let slot = &self.connections[sender_id % self.connections.len()];
        one_at_a_time(slot, timeout, async |connection| {
            self.exchange(connection).await
        })
        .await
    }

    async fn exchange(
        &self,
        slot: &mut Option<(ClientStream, Vec<u8>)>,
    ) -> Result<u64, RequestFailure> {
        if slot.is_none() {
            let stream = self.connector.connect().await.map_err(connect_failure)?;
            *slot = Some((stream, vec![0u8; READ_CHUNK_BYTES]));
        }
        let (stream, buffer) = slot.as_mut().expect("connected above");
        let reset = |err: std::io::Error| RequestFailure::new(ErrorKind::Reset, err);
        let closed = || RequestFailure::new(ErrorKind::Reset, "the server closed the connection");
        stream.write_all(&self.request).await.map_err(reset)?;
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
            return Err(RequestFailure::new(
                ErrorKind::Status,
                String::from_utf8_lossy(&buffer[4..have]).into_owned(),
            ));
        }
        let mut verifier = self.check.start();
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
