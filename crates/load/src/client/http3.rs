//! HTTP/3 REST (the `rest-h3` stack): h3 over quinn, TLS 1.3 with ALPN h3
//! (QUIC has no plain form). Senders mapped to a connection share it, each
//! request on its own QUIC stream; a closed connection is replaced on the
//! next request. Bytes on the wire are QUIC's UDP payloads (quinn's own
//! count: packets, headers, TLS and retransmissions included), the same
//! meaning "wire bytes" has for the TCP stacks.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf, Bytes};
use http::Uri;

use super::http_common::{Answering, uri_of, uris_of};
use super::{
    HttpTarget, Rendered, SetupError, Slots, TlsClient, WireBytes, connect_failure, timeout_failure,
};
use crate::errors::{ErrorKind, RequestFailure};

type Sender = h3::client::SendRequest<h3_quinn::OpenStreams, Bytes>;

/// One QUIC connection and its HTTP/3 request side.
#[derive(Clone)]
struct Connection {
    quic: quinn::Connection,
    send: Sender,
}

pub struct Http3Client {
    target: HttpTarget,
    uris: Box<[Uri]>,
    endpoint: quinn::Endpoint,
    config: quinn::ClientConfig,
    addr: SocketAddr,
    server_name: String,
    connections: Slots<Connection>,
    /// Every connection opened, for its UDP byte counts.
    opened: Mutex<Vec<quinn::Connection>>,
}

impl std::fmt::Debug for Http3Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Http3Client({})", self.addr)
    }
}

impl Http3Client {
    pub fn new(
        target: HttpTarget,
        authority: &str,
        addr: SocketAddr,
        tls: Option<&TlsClient>,
        connections: u32,
    ) -> Result<Self, SetupError> {
        let bad = |why: String| SetupError::BadUrl {
            url: format!("https://{authority}"),
            why,
        };
        let tls = tls.ok_or_else(|| bad("HTTP/3 runs over TLS 1.3 only".into()))?;
        let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(Arc::clone(&tls.config))
            .map_err(|err| bad(format!("TLS for QUIC: {err}")))?;
        let mut config = quinn::ClientConfig::new(Arc::new(crypto));
        config.transport_config(Arc::new(wirebench_proto::quic::transport()));
        let local: SocketAddr = if addr.is_ipv4() {
            "0.0.0.0:0".parse().expect("an address")
        } else {
            "[::]:0".parse().expect("an address")
        };
        let endpoint = quinn::Endpoint::client(local)
            .map_err(|err| bad(format!("a UDP socket for QUIC: {err}")))?;
        let uris = uris_of(&target, "https", authority)?;
        Ok(Self {
            target,
            uris,
            endpoint,
            config,
            addr,
            server_name: tls.server_name.to_str().into_owned(),
            connections: Slots::new(connections),
            opened: Mutex::new(Vec::new()),
        })
    }

    /// UDP payload bytes of every connection opened so far.
    pub fn wire_bytes(&self) -> WireBytes {
        let opened = self.opened.lock().expect("not poisoned");
        opened.iter().fold(WireBytes::default(), |sum, quic| {
            let stats = quic.stats();
            WireBytes {
                sent: sum.sent + stats.udp_tx.bytes,
                received: sum.received + stats.udp_rx.bytes,
            }
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
        let round_trip = async {
            let mut connection = self.connection(sender_id).await?;
            self.round_trip(&mut connection.send, uri, body, exchange)
                .await
        };
        tokio::time::timeout(timeout, round_trip)
            .await
            .unwrap_or_else(|_| Err(timeout_failure(timeout)))
    }

    async fn round_trip(
        &self,
        send: &mut Sender,
        uri: Uri,
        body: Bytes,
        exchange: usize,
    ) -> Result<u64, RequestFailure> {
        let mut request = http::Request::new(());
        *request.method_mut() = self.target.method.clone();
        *request.uri_mut() = uri;
        for (name, value) in &self.target.headers {
            request.headers_mut().insert(name, value.clone());
        }
        if !body.is_empty() {
            request
                .headers_mut()
                .insert(http::header::CONTENT_LENGTH, body.len().into());
        }
        let mut stream = send.send_request(request).await.map_err(reset)?;
        if !body.is_empty() {
            stream.send_data(body).await.map_err(reset)?;
        }
        stream.finish().await.map_err(reset)?;
        let response = stream.recv_response().await.map_err(reset)?;
        let mut answer = Answering::new(response.status(), &self.target.exchanges[exchange].check);
        while let Some(mut data) = stream.recv_data().await.map_err(reset)? {
            while data.has_remaining() {
                let chunk = data.chunk();
                answer.feed(chunk);
                let n = chunk.len();
                data.advance(n);
            }
        }
        answer.finish()
    }

    /// The connection of `sender_id`, opened if it is missing or closed.
    async fn connection(&self, sender_id: usize) -> Result<Connection, RequestFailure> {
        let mut slot = self.connections.of(sender_id).lock().await;
        if let Some(connection) = slot.as_ref().filter(|c| c.quic.close_reason().is_none()) {
            return Ok(connection.clone());
        }
        let quic = self
            .endpoint
            .connect_with(self.config.clone(), self.addr, &self.server_name)
            .map_err(|err| connect_failure(std::io::Error::other(err)))?
            .await
            .map_err(|err| connect_failure(std::io::Error::other(err)))?;
        self.opened.lock().expect("not poisoned").push(quic.clone());
        let (mut driver, send) = h3::client::new(h3_quinn::Connection::new(quic.clone()))
            .await
            .map_err(|err| RequestFailure::new(ErrorKind::Connect, err))?;
        tokio::spawn(async move {
            let _ = std::future::poll_fn(|cx| driver.poll_close(cx)).await;
        });
        let connection = Connection { quic, send };
        *slot = Some(connection.clone());
        Ok(connection)
    }
}

impl Drop for Http3Client {
    fn drop(&mut self) {
        self.endpoint.close(0u32.into(), b"done");
    }
}

fn reset(err: impl std::fmt::Display) -> RequestFailure {
    RequestFailure::new(ErrorKind::Reset, err.to_string())
}

impl super::Transport for Http3Client {
    fn send<'a>(
        &'a self,
        sender_id: usize,
        exchange: usize,
        rendered: Option<&'a Rendered>,
        timeout: Duration,
    ) -> super::Sent<'a> {
        Box::pin(async move {
            Http3Client::call(self, sender_id, exchange, rendered, timeout)
                .await
                .map(super::Answer::bytes)
        })
    }

    fn connector(&self) -> Option<&super::Connector> {
        // quinn opens the connections and counts their bytes.
        None
    }

    fn tls_version(&self) -> Option<&'static str> {
        // QUIC is always TLS 1.3.
        Some("TLS 1.3")
    }

    fn wire_bytes(&self) -> super::WireBytes {
        Http3Client::wire_bytes(self)
    }
}
