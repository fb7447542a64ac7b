//! HTTP/1.1 over hyper's connection-level API: we open exactly the
//! connections we report, reconnect a connection after it fails, and read
//! bodies frame by frame into the verifier (no copy of the body).

use std::time::Duration;

use bytes::Bytes;
use http::header::HeaderValue;
use http::{Request, Uri};
use http_body_util::Full;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::sync::Mutex;

use super::http_common::{build_request, classify, read_response};
use super::{Connector, HttpTarget, SetupError, connect_failure, timeout_failure};
use crate::errors::{ErrorKind, RequestFailure};

type Sender = SendRequest<Full<Bytes>>;

#[derive(Debug)]
pub struct Http1Client {
    target: HttpTarget,
    connector: Connector,
    host: HeaderValue,
    path: Uri,
    connections: Box<[Mutex<Option<Sender>>]>,
}

impl Http1Client {
    pub fn new(
        target: HttpTarget,
        authority: &str,
        connector: Connector,
        connections: u32,
    ) -> Result<Self, SetupError> {
        let bad = |why: &str| SetupError::BadUrl {
            url: format!("{authority}{}", target.path),
            why: why.to_owned(),
        };
        Ok(Self {
            host: HeaderValue::from_str(authority).map_err(|_| bad("bad host"))?,
            path: Uri::from(target.path.clone()),
            target,
            connector,
            connections: (0..connections).map(|_| Mutex::new(None)).collect(),
        })
    }

    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    pub async fn call(&self, sender_id: usize, timeout: Duration) -> Result<u64, RequestFailure> {
        let slot = &self.connections[sender_id % self.connections.len()];
        let mut connection = slot.lock().await;
        let result = tokio::time::timeout(timeout, self.exchange(&mut connection)).await;
        match result {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(failure)) => {
                // A connection that failed, or whose answer was wrong, may be
                // out of step with the server: start afresh next time.
                *connection = None;
                Err(failure)
            }
            Err(_) => {
                *connection = None;
                Err(timeout_failure(timeout))
            }
        }
    }

    async fn exchange(&self, connection: &mut Option<Sender>) -> Result<u64, RequestFailure> {
        if connection.as_ref().is_none_or(|sender| sender.is_closed()) {
            *connection = Some(self.connect().await?);
        }
        let sender = connection.as_mut().expect("connected above");
        sender.ready().await.map_err(classify)?;
        let response = sender
            .send_request(self.request())
            .await
            .map_err(classify)?;
        read_response(response, &self.target.check).await
    }

    fn request(&self) -> Request<Full<Bytes>> {
        build_request(&self.target, &self.path, Some(&self.host))
    }

    async fn connect(&self) -> Result<Sender, RequestFailure> {
        let stream = self.connector.connect().await.map_err(connect_failure)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|err| RequestFailure::new(ErrorKind::Connect, err))?;
        // The connection task ends when the sender is dropped or the peer
        // closes; its error, if any, reaches the request that was in flight.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }
}
