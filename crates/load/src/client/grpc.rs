//! The load engine's gRPC client, on h2 directly (not tonic): `--connections`
//! HTTP/2 connections, each shared by the senders mapped to it and opened
//! again when it breaks. Each request frame is built once from its
//! exchange (the method is the exchange's path, the message its body:
//! built by the contract for wirebench's own services, or from reflection
//! or a `.proto` file, [`super::dynamic`], for any other); answers are
//! checked frame by frame in place.
//! (tonic is used only for reflection look-ups, [`channel`].)
//!
//! Streaming methods (ghz's streaming calls): a call that streams sends
//! its message `--stream-messages` times, `--stream-interval` apart, while
//! it reads the answers; every answer message is checked on its own, and
//! each answer's latency is kept beside the call's ([`StreamAnswer`]).

use std::time::{Duration, Instant};

use bytes::Bytes;
use tonic::Code;
use tonic::transport::{Channel, Endpoint};

use super::{
    Answer, Connector, Exchanges, Rendered, SetupError, Slots, StreamAnswer, Streaming,
    timeout_failure,
};
use crate::errors::{ErrorKind, RequestFailure};
use crate::verify::Frames;
use wirebench_proto::vocab::Compression;

/// The gRPC client of the load engine, on h2 directly: the request frame is
/// encoded once and sent as is; answers are checked in place, DATA frame by
/// DATA frame, their flow-control capacity handed back at once; the status
/// comes from the trailers. tonic's generic client costs about twice the
/// CPU per request (a tower buffer, a codec, a decoded message per call),
/// which made the load generator the bottleneck.
#[derive(Debug)]
pub struct GrpcClient {
    content_type: http::HeaderValue,
    /// Sent with every call, beside content-type and te.
    metadata: http::HeaderMap,
    streaming: Option<Streaming>,
    compression: Option<Compression>,
    /// Each request as it goes: its URI, and its frame on the wire (5-byte
    /// gRPC prefix + message).
    requests: Box<[(http::Uri, Bytes)]>,
    /// What the one response message must be, per request.
    exchanges: Exchanges,
    connector: Connector,
    connections: Slots<h2::client::SendRequest<Bytes>>,
}

/// A plain-TCP tonic channel to `authority` (reflection look-ups).
pub fn channel(authority: &str) -> Result<Channel, SetupError> {
    let url = format!("http://{authority}");
    let endpoint = Endpoint::from_shared(url.clone()).map_err(|err| SetupError::BadUrl {
        url,
        why: err.to_string(),
    })?;
    Ok(endpoint.tcp_nodelay(true).connect_lazy())
}

/// How every call of a client goes, besides its requests.
#[derive(Debug, Clone, Default)]
pub struct Calls {
    /// The JSON codec (`application/grpc+json`) instead of protobuf.
    pub json: bool,
    pub metadata: http::HeaderMap,
    pub streaming: Option<Streaming>,
    /// `grpc-encoding`: every message sent compressed, answers asked for so.
    pub compression: Option<Compression>,
}

impl GrpcClient {
    /// Calls to `authority` (the `:authority` sent; the connector knows
    /// where to connect).
    pub fn new(
        authority: &str,
        exchanges: &Exchanges,
        calls: Calls,
        connector: Connector,
        connections: u32,
    ) -> Result<Self, SetupError> {
        let scheme = if connector.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let requests = exchanges
            .iter()
            .map(|exchange| {
                let bad = |why: &str| SetupError::BadUrl {
                    url: format!("{authority}{}", exchange.path),
                    why: why.to_owned(),
                };
                let frame = frame_of(&exchange.body, calls.compression).map_err(|why| bad(&why))?;
                let uri = format!("{scheme}://{authority}{}", exchange.path)
                    .parse()
                    .map_err(|_| bad("not a URI"))?;
                Ok((uri, frame))
            })
            .collect::<Result<_, SetupError>>()?;
        Ok(Self {
            content_type: http::HeaderValue::from_static(if calls.json {
                wirebench_proto::json_codec::CONTENT_TYPE
            } else {
                "application/grpc"
            }),
            metadata: calls.metadata,
            streaming: calls.streaming,
            compression: calls.compression,
            requests,
            exchanges: exchanges.clone(),
            connector,
            connections: Slots::new(connections),
        })
    }

    /// Call `exchange` (or its `rendered` message) on sender `sender_id`'s
    /// connection.
    pub async fn call(
        &self,
        sender_id: usize,
        exchange: usize,
        rendered: Option<&Rendered>,
        timeout: Duration,
    ) -> Result<Answer, RequestFailure> {
        let frame = match rendered {
            Some(r) => frame_of(&r.body, self.compression)
                .map_err(|why| RequestFailure::new(ErrorKind::Protocol, why))?,
            None => self.requests[exchange].1.clone(),
        };
        tokio::time::timeout(timeout, self.exchange(sender_id, exchange, frame))
            .await
            .unwrap_or_else(|_| Err(timeout_failure(timeout)))
    }

    async fn exchange(
        &self,
        sender_id: usize,
        exchange: usize,
        frame: Bytes,
    ) -> Result<Answer, RequestFailure> {
        let uri = &self.requests[exchange].0;
        let sender = self.sender(sender_id).await?;
        let mut sender = sender.ready().await.map_err(h2_failure)?;
        let mut request = http::Request::new(());
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = uri.clone();
        let headers = request.headers_mut();
        for (name, value) in &self.metadata {
            headers.append(name, value.clone());
        }
        headers.insert(http::header::CONTENT_TYPE, self.content_type.clone());
        headers.insert(http::header::TE, http::HeaderValue::from_static("trailers"));
        if let Some(compression) = self.compression {
            let name = http::HeaderValue::from_static(compression.name());
            headers.insert("grpc-encoding", name.clone());
            headers.insert("grpc-accept-encoding", name);
        }
        let (response, mut body_out) = sender.send_request(request, false).map_err(h2_failure)?;
        let sends = self.streaming.map_or(1, |s| s.sends());
        let interval = self.streaming.map_or(Duration::ZERO, |s| s.interval);
        // Sending and reading go on at once: a bidi server answers while
        // the call still sends.
        let send = async {
            let mut sent_at = Vec::new();
            for i in 0..sends {
                if i > 0 && !interval.is_zero() {
                    tokio::time::sleep(interval).await;
                }
                if self.streaming.is_some() {
                    sent_at.push(Instant::now());
                }
                body_out
                    .send_data(frame.clone(), i + 1 == sends)
                    .map_err(h2_failure)?;
            }
            Ok(sent_at)
        };
        let receive = async {
            let response = response.await.map_err(h2_failure)?;
            if response.status() != http::StatusCode::OK {
                return Err(RequestFailure::new(
                    ErrorKind::Status,
                    format!("HTTP {}", response.status()),
                )
                .with_code(format!("HTTP {}", response.status().as_u16())));
            }
            // A "trailers-only" answer carries its status in the headers.
            if let Some(failure) = grpc_failure(response.headers()) {
                return Err(failure);
            }
            let mut body = response.into_body();
            let mut frames = Frames::new(&self.exchanges[exchange].check, self.streaming.is_some())
                .compressed(self.compression);
            while let Some(chunk) = body.data().await {
                let chunk = chunk.map_err(h2_failure)?;
                let _ = body.flow_control().release_capacity(chunk.len());
                frames.feed(&chunk);
            }
            let trailers = body.trailers().await.map_err(h2_failure)?;
            match trailers.as_ref().and_then(grpc_failure) {
                Some(failure) => Err(failure),
                None if trailers.is_none() => Err(RequestFailure::new(
                    ErrorKind::Protocol,
                    "no grpc-status trailer",
                )),
                None => Ok(frames),
            }
        };
        let (sent_at, mut frames) = tokio::try_join!(send, receive)?;
        let arrivals = std::mem::take(&mut frames.arrivals);
        let bytes = frames
            .finish()
            .map_err(|why| RequestFailure::new(ErrorKind::WrongBody, why))?;
        Ok(Answer {
            bytes,
            stream: self
                .streaming
                .map(|streaming| stream_answer(streaming, &sent_at, &arrivals)),
        })
    }

    /// The connection of `sender_id`, opened if it is missing or broken.
    async fn sender(
        &self,
        sender_id: usize,
    ) -> Result<h2::client::SendRequest<Bytes>, RequestFailure> {
        let mut slot = self.connections.of(sender_id).lock().await;
        if let Some(sender) = slot.as_ref() {
            let mut probe = sender.clone();
            // Ready or busy is fine; an error means the connection is gone.
            let broken = matches!(
                std::future::poll_fn(|cx| std::task::Poll::Ready(probe.poll_ready(cx))).await,
                std::task::Poll::Ready(Err(_))
            );
            if !broken {
                return Ok(sender.clone());
            }
        }
        let stream = self
            .connector
            .connect()
            .await
            .map_err(|err| RequestFailure::new(ErrorKind::Connect, err))?;
        let (sender, connection) = h2::client::Builder::new()
            .initial_window_size(wirebench_proto::GRPC_STREAM_WINDOW_BYTES)
            .initial_connection_window_size(wirebench_proto::GRPC_CONNECTION_WINDOW_BYTES)
            .max_frame_size(wirebench_proto::HTTP2_MAX_FRAME_BYTES)
            .handshake(stream)
            .await
            .map_err(|err| RequestFailure::new(ErrorKind::Connect, err))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        *slot = Some(sender.clone());
        Ok(sender)
    }
}

/// The messages of a streaming call, and each answer's latency (see
/// [`StreamAnswer::message_latency`]).
fn stream_answer(streaming: Streaming, sent_at: &[Instant], arrivals: &[Instant]) -> StreamAnswer {
    let last = sent_at.len().saturating_sub(1);
    let message_latency = arrivals
        .iter()
        .enumerate()
        .filter_map(|(k, &arrived)| {
            let from = match (streaming.client, streaming.server) {
                (true, true) => sent_at.get(k.min(last)),
                (true, false) => sent_at.get(last),
                (false, _) if k == 0 => sent_at.first(),
                (false, _) => arrivals.get(k - 1),
            }?;
            Some(arrived.saturating_duration_since(*from))
        })
        .collect();
    StreamAnswer {
        sent: sent_at.len() as u32,
        received: arrivals.len() as u32,
        message_latency,
    }
}

/// `message` as it goes on the wire: the 5-byte gRPC prefix, then it.
/// A gRPC (and gRPC-Web) length-prefixed message: flag, length, bytes;
/// compressed, and flagged so, with `compression`.
pub(crate) fn frame_of(message: &[u8], compression: Option<Compression>) -> Result<Bytes, String> {
    let packed;
    let (flag, message) = match compression {
        Some(compression) => {
            packed = crate::verify::compress(compression, message);
            (1, packed.as_slice())
        }
        None => (0, message),
    };
    let length = u32::try_from(message.len()).map_err(|_| "request over 4 GiB".to_owned())?;
    let mut frame = Vec::with_capacity(5 + message.len());
    frame.push(flag);
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(message);
    Ok(Bytes::from(frame))
}

/// The failure a `grpc-status` header or trailer reports, if not OK.
fn grpc_failure(headers: &http::HeaderMap) -> Option<RequestFailure> {
    let status = headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .trim()
        .parse::<i32>()
        .ok()?;
    if status == 0 {
        return None;
    }
    let code = Code::from_i32(status);
    let message = headers
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .map(percent_decode)
        .unwrap_or_default();
    let kind = match code {
        Code::Unavailable => ErrorKind::Unavailable,
        Code::DeadlineExceeded => ErrorKind::Timeout,
        _ => ErrorKind::GrpcStatus,
    };
    Some(
        RequestFailure::new(kind, format!("{code:?}: {message}"))
            .with_code(format!("gRPC {code:?}")),
    )
}

/// grpc-message is percent-encoded.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn h2_failure(err: h2::Error) -> RequestFailure {
    let kind = if err.is_io() || err.is_go_away() || err.is_reset() {
        ErrorKind::Reset
    } else {
        ErrorKind::Protocol
    };
    RequestFailure::new(kind, err)
}

impl super::Transport for GrpcClient {
    fn send<'a>(
        &'a self,
        sender_id: usize,
        exchange: usize,
        rendered: Option<&'a Rendered>,
        timeout: Duration,
    ) -> super::Sent<'a> {
        Box::pin(GrpcClient::call(
            self, sender_id, exchange, rendered, timeout,
        ))
    }

    fn connector(&self) -> Option<&super::Connector> {
        Some(&self.connector)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_and_metadata_go_on_every_call_the_connection_stays() {
        let exchanges = crate::contract::Job::Payload { size_kb: 1 }
            .request(wirebench_proto::vocab::Stack::GRPC)
            .unwrap()
            .exchanges()
            .clone();
        let mut metadata = http::HeaderMap::new();
        metadata.insert("x-tenant", "acme".parse().unwrap());
        let connector = Connector {
            addr: "127.0.0.1:50051".parse().unwrap(),
            tls: None,
            wire: Default::default(),
        };
        let calls = Calls {
            metadata,
            ..Calls::default()
        };
        let client = GrpcClient::new("api.example:443", &exchanges, calls, connector, 1).unwrap();
        let uri = &client.requests[0].0;
        assert_eq!(uri.authority().unwrap().as_str(), "api.example:443");
        assert_eq!(client.metadata["x-tenant"], "acme");
        assert_eq!(client.connector.addr.port(), 50051);
    }

    #[test]
    fn each_answer_is_timed_from_what_it_answers() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let ms = |answer: StreamAnswer| {
            answer
                .message_latency
                .iter()
                .map(|d| d.as_millis() as u64)
                .collect::<Vec<_>>()
        };
        let streaming = |client, server| Streaming {
            client,
            server,
            messages: 3,
            interval: Duration::ZERO,
        };
        let sent = [at(0), at(10), at(20)];
        // bidi: the k-th answer, from the k-th message (the fourth from
        // the last).
        let arrivals = [at(5), at(18), at(21), at(30)];
        let bidi = stream_answer(streaming(true, true), &sent, &arrivals);
        assert_eq!((bidi.sent, bidi.received), (3, 4));
        assert_eq!(ms(bidi), [5, 8, 1, 10]);
        // client streaming: the answer, from the last message.
        let client = stream_answer(streaming(true, false), &sent, &[at(26)]);
        assert_eq!(ms(client), [6]);
        // server streaming: each answer from the one before it.
        let server = stream_answer(streaming(false, true), &[at(0)], &arrivals);
        assert_eq!(ms(server), [5, 13, 3, 9]);
    }

    #[test]
    fn grpc_status_and_message_are_read() {
        let mut headers = http::HeaderMap::new();
        headers.insert("grpc-status", "0".parse().unwrap());
        assert!(grpc_failure(&headers).is_none());
        headers.insert("grpc-status", "14".parse().unwrap());
        headers.insert("grpc-message", "producer%20is%20down".parse().unwrap());
        let failure = grpc_failure(&headers).unwrap();
        assert_eq!(failure.kind, ErrorKind::Unavailable);
        assert!(
            failure.message.contains("producer is down"),
            "{}",
            failure.message
        );
        headers.insert("grpc-status", "8".parse().unwrap());
        assert_eq!(grpc_failure(&headers).unwrap().kind, ErrorKind::GrpcStatus);
    }
}
