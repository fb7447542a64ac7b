//! HTTP/1.1, lean: one state machine per connection in the sender's own
//! task. The request is serialized once and written with one syscall; the
//! response head is parsed with httparse; the body streams from a reused
//! buffer into the verifier (Content-Length, chunked, or until close, so
//! servers we did not write work too). hyper's client, which this
//! replaced, hands every request to a separate connection task over a
//! channel and back: two task wake-ups and a HeaderMap per request, about a
//! third of the load generator's CPU at 1 KiB, measured by profiling it.

use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::connector::ClientStream;
use super::{Connector, HttpTarget, Rendered, SetupError, Slots, connect_failure};
use crate::errors::{ErrorKind, RequestFailure};
use crate::verify::BodyVerifier;

/// Read buffer per connection: it starts small, so 10,000 users of small
/// answers hold 10,000 small buffers (the allocator zeroes what it hands
/// out, so a buffer is resident whole: 64 KiB each held 640 MiB), and
/// doubles up to [`BUFFER_MAX_BYTES`] when a response head does not fit
/// or a read fills it (large bodies then take few read calls).
const BUFFER_FIRST_BYTES: usize = 8 * 1024;
/// A response head must fit in this.
const BUFFER_MAX_BYTES: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;
/// How much of an error response's body is kept for the error message.
const ERROR_TEXT_BYTES: usize = 200;

#[derive(Debug)]
pub struct Http1Client {
    target: HttpTarget,
    /// Each request as it goes on the wire, serialized once.
    requests: Box<[Bytes]>,
    /// `host:port`, for requests rendered from templates.
    authority: String,
    connector: Connector,
    connections: Slots<Connection>,
}

/// An open connection and what has been read but not yet used.
#[derive(Debug)]
struct Connection {
    stream: ClientStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Http1Client {
    pub fn new(
        target: HttpTarget,
        authority: &str,
        connector: Connector,
        connections: u32,
    ) -> Result<Self, SetupError> {
        let requests = target
            .exchanges
            .iter()
            .map(|exchange| serialize(&target, &exchange.path, &exchange.body, authority))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            target,
            requests,
            authority: authority.to_owned(),
            connector,
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
        // A prepared request is borrowed: nothing is copied or counted
        // per request unless it was rendered from a template.
        let rendered_bytes;
        let request: &[u8] = match rendered {
            Some(r) => {
                rendered_bytes = serialize(&self.target, &r.path, &r.body, &self.authority)
                    .map_err(|err| RequestFailure::new(ErrorKind::Protocol, err))?;
                &rendered_bytes
            }
            None => &self.requests[exchange],
        };
        self.connections
            .one_at_a_time(sender_id, timeout, async |connection| {
                self.exchange(connection, exchange, request).await
            })
            .await
    }

    async fn exchange(
        &self,
        slot: &mut Option<Connection>,
        exchange: usize,
        request: &[u8],
    ) -> Result<u64, RequestFailure> {
        if slot.is_none() {
            let stream = self.connector.connect().await.map_err(connect_failure)?;
            *slot = Some(Connection {
                stream,
                buf: vec![0; BUFFER_FIRST_BYTES],
                start: 0,
                end: 0,
            });
        }
        let connection = slot.as_mut().expect("connected above");
        if let Err(err) = connection.stream.write_all(request).await {
            return Err(RequestFailure::new(ErrorKind::Reset, err));
        }
        let head = connection.read_head().await?;
        let success = (200..300).contains(&head.status);
        let mut sink = Sink {
            verifier: success.then(|| self.target.exchanges[exchange].check.start()),
            error_text: Vec::new(),
            received: 0,
        };
        let body_expected = !(head.status == 204
            || head.status == 304
            || (100..200).contains(&head.status)
            || self.target.method == http::Method::HEAD);
        if body_expected {
            match head.framing {
                Framing::Length(len) => connection.read_exact_into(len, &mut sink).await?,
                Framing::Chunked => connection.read_chunked_into(&mut sink).await?,
                Framing::UntilClose => connection.read_to_close_into(&mut sink).await?,
            }
        }
        let keep = head.keep_alive && !matches!(head.framing, Framing::UntilClose);
        let received = sink.received;
        if !success {
            let text = String::from_utf8_lossy(&sink.error_text);
            let reason = http::StatusCode::from_u16(head.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            let failure = RequestFailure::new(
                ErrorKind::Status,
                format!("{} {reason}: {}", head.status, text.trim()),
            )
            .with_code(format!("HTTP {}", head.status));
            if !keep {
                *slot = None;
            }
            return Err(failure);
        }
        let verified = sink
            .verifier
            .expect("a verifier for 2xx")
            .finish()
            .map_err(|why| RequestFailure::new(ErrorKind::WrongBody, why));
        if !keep {
            *slot = None;
        }
        verified.map(|()| received)
    }
}

/// A request of `target` to `path` with `body` as it goes on the wire:
/// head and body.
fn serialize(
    target: &HttpTarget,
    path: &http::uri::PathAndQuery,
    body: &Bytes,
    authority: &str,
) -> Result<Bytes, SetupError> {
    let bad = |why: &str| SetupError::BadUrl {
        url: format!("{authority}{path}"),
        why: why.to_owned(),
    };
    let mut head = format!("{} {path} HTTP/1.1\r\nhost: {authority}\r\n", target.method);
    for (name, value) in &target.headers {
        let value = value
            .to_str()
            .map_err(|_| bad("header values must be text"))?;
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || target.method == http::Method::POST || target.method == http::Method::PUT
    {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    Ok(Bytes::from(request))
}

/// Where body bytes go: the verifier (2xx) or the error text.
struct Sink<'a> {
    verifier: Option<BodyVerifier<'a>>,
    error_text: Vec<u8>,
    received: u64,
}

impl Sink<'_> {
    fn feed(&mut self, bytes: &[u8]) {
        self.received += bytes.len() as u64;
        match &mut self.verifier {
            Some(verifier) => verifier.feed(bytes),
            None if self.error_text.len() < ERROR_TEXT_BYTES => {
                let room = ERROR_TEXT_BYTES - self.error_text.len();
                self.error_text
                    .extend_from_slice(&bytes[..bytes.len().min(room)]);
            }
            None => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

#[derive(Debug)]
struct Head {
    status: u16,
    framing: Framing,
    keep_alive: bool,
}

fn protocol(why: impl std::fmt::Display) -> RequestFailure {
    RequestFailure::new(ErrorKind::Protocol, why)
}

fn reset(why: impl std::fmt::Display) -> RequestFailure {
    RequestFailure::new(ErrorKind::Reset, why)
}

impl Connection {
    /// Reads more into the buffer (compacting it first); false at EOF.
    async fn fill(&mut self) -> Result<bool, RequestFailure> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= BUFFER_MAX_BYTES {
                return Err(protocol("response head over 64 KiB"));
            }
            self.grow();
        }
        let n = self
            .stream
            .read(&mut self.buf[self.end..])
            .await
            .map_err(reset)?;
        self.end += n;
        Ok(n > 0)
    }

    /// Doubles the buffer, up to [`BUFFER_MAX_BYTES`].
    fn grow(&mut self) {
        let len = (self.buf.len() * 2).min(BUFFER_MAX_BYTES);
        self.buf.resize(len, 0);
    }

    async fn read_head(&mut self) -> Result<Head, RequestFailure> {
        loop {
            if self.end > self.start {
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut response = httparse::Response::new(&mut headers);
                match response.parse(&self.buf[self.start..self.end]) {
                    Ok(httparse::Status::Complete(len)) => {
                        let status = response.code.unwrap_or(0);
                        let mut framing = Framing::UntilClose;
                        let mut keep_alive = response.version == Some(1);
                        for header in response.headers.iter() {
                            if header.name.eq_ignore_ascii_case("content-length") {
                                let len = std::str::from_utf8(header.value)
                                    .ok()
                                    .and_then(|v| v.trim().parse().ok())
                                    .ok_or_else(|| protocol("bad content-length"))?;
                                if framing != Framing::Chunked {
                                    framing = Framing::Length(len);
                                }
                            } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                                if header
                                    .value
                                    .windows(7)
                                    .any(|w| w.eq_ignore_ascii_case(b"chunked"))
                                {
                                    framing = Framing::Chunked;
                                }
                            } else if header.name.eq_ignore_ascii_case("connection") {
                                if header
                                    .value
                                    .windows(5)
                                    .any(|w| w.eq_ignore_ascii_case(b"close"))
                                {
                                    keep_alive = false;
                                } else if header
                                    .value
                                    .windows(10)
                                    .any(|w| w.eq_ignore_ascii_case(b"keep-alive"))
                                {
                                    keep_alive = true;
                                }
                            }
                        }
                        self.start += len;
                        return Ok(Head {
                            status,
                            framing,
                            keep_alive,
                        });
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(err) => return Err(protocol(format!("malformed response head: {err}"))),
                }
            }
            if !self.fill().await? {
                return Err(reset("the server closed the connection before answering"));
            }
        }
    }

    /// The next buffered bytes (reading when there are none), at most
    /// `limit`; empty at EOF.
    async fn next_bytes(&mut self, limit: usize) -> Result<&[u8], RequestFailure> {
        if self.start == self.end {
            self.start = 0;
            let n = self.stream.read(&mut self.buf[..]).await.map_err(reset)?;
            self.end = n;
            if n == self.buf.len() && n < BUFFER_MAX_BYTES && limit > n {
                // A large body: fewer, larger reads from the next one on.
                self.grow();
            }
        }
        let take = (self.end - self.start).min(limit);
        let bytes = &self.buf[self.start..self.start + take];
        self.start += take;
        Ok(bytes)
    }

    async fn read_exact_into(
        &mut self,
        len: u64,
        sink: &mut Sink<'_>,
    ) -> Result<(), RequestFailure> {
        let mut left = len;
        while left > 0 {
            let bytes = self
                .next_bytes(usize::try_from(left).unwrap_or(usize::MAX))
                .await?;
            if bytes.is_empty() {
                return Err(reset("the server closed the connection mid-body"));
            }
            left -= bytes.len() as u64;
            sink.feed(bytes);
        }
        Ok(())
    }

    async fn read_to_close_into(&mut self, sink: &mut Sink<'_>) -> Result<(), RequestFailure> {
        loop {
            let bytes = self.next_bytes(usize::MAX).await?;
            if bytes.is_empty() {
                return Ok(());
            }
            sink.feed(bytes);
        }
    }

    /// One line (without CRLF) of a chunked body's framing, as text.
    async fn read_line(&mut self) -> Result<String, RequestFailure> {
        let mut line = Vec::new();
        loop {
            let bytes = self.next_bytes(1).await?;
            match bytes.first() {
                None => return Err(reset("the server closed the connection mid-body")),
                Some(b'\n') => {
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    return Ok(String::from_utf8_lossy(&line).into_owned());
                }
                Some(&b) => {
                    if line.len() > 4096 {
                        return Err(protocol("chunk line over 4 KiB"));
                    }
                    line.push(b);
                }
            }
        }
    }

    async fn read_chunked_into(&mut self, sink: &mut Sink<'_>) -> Result<(), RequestFailure> {
        loop {
            let line = self.read_line().await?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size, 16)
                .map_err(|_| protocol(format!("bad chunk size '{size}'")))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.read_line().await?.is_empty() {}
                return Ok(());
            }
            self.read_exact_into(size, sink).await?;
            if !self.read_line().await?.is_empty() {
                return Err(protocol("chunk not followed by CRLF"));
            }
        }
    }
}

impl super::Transport for Http1Client {
    fn send<'a>(
        &'a self,
        sender_id: usize,
        exchange: usize,
        rendered: Option<&'a Rendered>,
        timeout: Duration,
    ) -> super::Sent<'a> {
        Box::pin(async move {
            Http1Client::call(self, sender_id, exchange, rendered, timeout)
                .await
                .map(super::Answer::bytes)
        })
    }

    fn connector(&self) -> Option<&super::Connector> {
        Some(&self.connector)
    }
}
