//! HTTP/2 REST (the `rest-h2` stack): prior knowledge over plain TCP, ALPN
//! h2 over TLS, the same flow-control windows as gRPC. Senders mapped to a
//! connection share it (HTTP/2 multiplexes); a broken connection is
//! replaced on the next request.

use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body_util::Full;
use hyper::client::conn::http2::{self, SendRequest};
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::http_common::{build_request, classify, read_response, uri_of, uris_of};
use super::{Connector, HttpTarget, Rendered, SetupError, Slots, connect_failure, timeout_failure};
use crate::errors::{ErrorKind, RequestFailure};

type Sender = SendRequest<Full<Bytes>>;

#[derive(Debug)]
pub struct Http2Client {
    target: HttpTarget,
    connector: Connector,
    /// Each request's URI, parsed once.
    uris: Box<[Uri]>,
    connections: Slots<Sender>,
}

impl Http2Client {
    pub fn new(
        target: HttpTarget,
        authority: &str,
        connector: Connector,
        connections: u32,
    ) -> Result<Self, SetupError> {
        let scheme = if connector.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let uris = uris_of(&target, scheme, authority)?;
        Ok(Self {
            target,
            connector,
            uris,
            connections: Slots::new(connections),
        })
    }

    /// Request `exchange` (or its `rendered` path and body) on sender
    /// `sender_id`'s connection.
    pub async fn call(
        &self,
        sender_id: usize,
        exchange: usize,
        rendered: Option<&Rendered>,
        timeout: Duration,
    ) -> Result<u64, RequestFailure> {
        let uri = uri_of(&self.uris[exchange], rendered)?;
        let body = rendered.map_or_else(
            || self.target.exchanges[exchange].body.clone(),
            |r| r.body.clone(),
        );
        let exchange = &self.target.exchanges[exchange];
        let round_trip = async {
            let mut sender = self.sender(sender_id).await?;
            sender.ready().await.map_err(classify)?;
            let request = build_request(&self.target, body, &uri, None);
            let response = sender.send_request(request).await.map_err(classify)?;
            read_response(response, &exchange.check).await
        };
        tokio::time::timeout(timeout, round_trip)
            .await
            .unwrap_or_else(|_| Err(timeout_failure(timeout)))
    }

    /// The connection of `sender_id`, opened if it is missing or closed. The
    /// lock is held only to look (or to connect), never while a request is
    /// in flight.
    async fn sender(&self, sender_id: usize) -> Result<Sender, RequestFailure> {
        let mut slot = self.connections.of(sender_id).lock().await;
        if let Some(sender) = slot.as_ref().filter(|s| !s.is_closed()) {
            return Ok(sender.clone());
        }
        let stream = self.connector.connect().await.map_err(connect_failure)?;
        let (sender, connection) = http2::Builder::new(TokioExecutor::new())
            .initial_stream_window_size(wirebench_proto::GRPC_STREAM_WINDOW_BYTES)
            .initial_connection_window_size(wirebench_proto::GRPC_CONNECTION_WINDOW_BYTES)
            .max_frame_size(wirebench_proto::HTTP2_MAX_FRAME_BYTES)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|err| RequestFailure::new(ErrorKind::Connect, err))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        *slot = Some(sender.clone());
        Ok(sender)
    }
}

impl super::Transport for Http2Client {
    fn send<'a>(
        &'a self,
        sender_id: usize,
        exchange: usize,
        rendered: Option<&'a Rendered>,
        timeout: Duration,
    ) -> super::Sent<'a> {
        Box::pin(async move {
            Http2Client::call(self, sender_id, exchange, rendered, timeout)
                .await
                .map(super::Answer::bytes)
        })
    }

    fn connector(&self) -> Option<&super::Connector> {
        Some(&self.connector)
    }
}
