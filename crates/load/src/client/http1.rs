//! HTTP/1.1 over hyper's connection-level API: we open exactly the
//! connections we report, reconnect a connection after it fails, and read
//! bodies frame by frame into the verifier (no copy of the body).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HOST, HeaderValue};
use http::{Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use super::{HttpTarget, SetupError, timeout_failure};
use crate::errors::{ErrorKind, RequestFailure};

type Sender = SendRequest<Full<Bytes>>;

/// How much of an error response's body is kept for the error message.
const ERROR_TEXT_BYTES: usize = 200;

#[derive(Debug)]
pub struct Http1Client {
    target: HttpTarget,
    addr: SocketAddr,
    host: HeaderValue,
    path: Uri,
    connections: Box<[Mutex<Option<Sender>>]>,
}

impl Http1Client {
    pub async fn new(target: HttpTarget, connections: u32) -> Result<Self, SetupError> {
        let url = target.uri.to_string();
        let bad = |why: &str| SetupError::BadUrl {
            url: url.clone(),
            why: why.to_owned(),
        };
        if target.uri.scheme_str() != Some("http") {
            return Err(bad(
                "only http:// URLs are supported (TLS stacks come later)",
            ));
        }
        let authority = target
            .uri
            .authority()
            .ok_or_else(|| bad("no host"))?
            .clone();
        let port = authority.port_u16().unwrap_or(80);
        let addr = tokio::net::lookup_host((authority.host(), port))
            .await
            .map_err(|source| SetupError::Resolve {
                authority: authority.to_string(),
                source,
            })?
            .next()
            .ok_or_else(|| bad("the host resolves to no address"))?;
        let host = HeaderValue::from_str(authority.as_str()).map_err(|_| bad("bad host"))?;
        let path = target
            .uri
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/")
            .parse::<Uri>()
            .map_err(|_| bad("bad path"))?;
        Ok(Self {
            target,
            addr,
            host,
            path,
            connections: (0..connections).map(|_| Mutex::new(None)).collect(),
        })
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
        let status = response.status();
        let mut body = response.into_body();
        let mut verifier = self.target.check.start();
        let mut received = 0u64;
        // The start of an error body, so the error says what the server said.
        let mut error_text = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(classify)?;
            if let Some(data) = frame.data_ref() {
                received += data.len() as u64;
                if status.is_success() {
                    verifier.feed(data);
                } else if error_text.len() < ERROR_TEXT_BYTES {
                    let room = ERROR_TEXT_BYTES - error_text.len();
                    error_text.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
        }
        if !status.is_success() {
            let text = String::from_utf8_lossy(&error_text);
            return Err(RequestFailure::new(
                ErrorKind::Status,
                format!("{status}: {}", text.trim()),
            ));
        }
        verifier
            .finish()
            .map_err(|why| RequestFailure::new(ErrorKind::WrongBody, why))?;
        Ok(received)
    }

    fn request(&self) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.target.body.clone()));
        *request.method_mut() = self.target.method.clone();
        *request.uri_mut() = self.path.clone();
        let headers = request.headers_mut();
        headers.insert(HOST, self.host.clone());
        for (name, value) in &self.target.headers {
            headers.insert(name, value.clone());
        }
        request
    }

    async fn connect(&self) -> Result<Sender, RequestFailure> {
        let stream = TcpStream::connect(self.addr)
            .await
            .map_err(|err| RequestFailure::new(ErrorKind::Connect, err))?;
        stream
            .set_nodelay(true)
            .map_err(|err| RequestFailure::new(ErrorKind::Connect, err))?;
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

fn classify(err: hyper::Error) -> RequestFailure {
    let kind = if err.is_parse() || err.is_parse_status() || err.is_user() {
        ErrorKind::Protocol
    } else {
        // Closed, canceled, incomplete message or an I/O error: the
        // connection went away under the request.
        ErrorKind::Reset
    };
    RequestFailure::new(kind, err)
}
