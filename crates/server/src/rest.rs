//! REST adapter (axum) over the shared [`PayloadHandler`], for the `rest`,
//! `rest-h2` and `rest-proto` stacks: one router, served over HTTP/1.1 and
//! HTTP/2 (h2c) alike, answering JSON or protobuf as the request asks.
//!
//! `GET /payload?size_in_kb=N` -> `200 application/json {"data":"xxx..."}`
//! (a missing parameter means 1, as in seed 000), or the protobuf
//! `PayloadResponse` with `Accept: application/x-protobuf`; `POST /echo`
//! returns the body it got (JSON, or protobuf `EchoMessage`). Bad input gets
//! a status and a one-line message: 400 (not an integer, negative,
//! malformed body), 404 (unknown route), 405 (wrong method), 413 (over
//! `--max-size-kb`), 415 (neither JSON nor protobuf).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use prost::Message;
use serde::Deserialize;
use wirebench_proto::payload::{EchoMessage, PayloadResponse};
use wirebench_proto::{DataJson, PROTOBUF_MEDIA_TYPE as PROTOBUF};

use crate::{PayloadHandler, RequestError};

/// Room for the JSON around an echo body of the largest allowed size.
const JSON_OVERHEAD_BYTES: usize = 64 * 1024;

pub fn router(handler: PayloadHandler) -> Router {
    let body_limit = handler.max_size_bytes().saturating_add(JSON_OVERHEAD_BYTES);
    let router = Router::new()
        .route("/payload", get(get_payload))
        .route("/echo", post(echo))
        .fallback(not_found);
    limit_bodies(router, body_limit).with_state(handler)
}

#[derive(Deserialize)]
struct PayloadQuery {
    // Text, not i64, so a bad value gets our message rather than serde's.
    size_in_kb: Option<String>,
}

async fn get_payload(
    State(handler): State<PayloadHandler>,
    headers: HeaderMap,
    Query(query): Query<PayloadQuery>,
) -> Result<Response, RestError> {
    let size_in_kb = parse_size(query.size_in_kb.as_deref())?;
    let data = handler.payload(size_in_kb)?;
    Ok(if wants_protobuf(&headers) {
        protobuf(PayloadResponse { data }.encode_to_vec())
    } else {
        json_data(&data)
    })
}

pub(crate) fn wants_protobuf(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROTOBUF))
}

/// A protobuf body, encoded by the caller: the cost `rest-proto` pays
/// instead of JSON.
pub(crate) fn protobuf(encoded: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, PROTOBUF)], encoded).into_response()
}

async fn echo(
    State(handler): State<PayloadHandler>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, RestError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let (encoding, data) = decode_echo(content_type, body)?;
    let echoed = handler.echo(data)?;
    Ok(match encoding {
        Encoding::Protobuf => protobuf(EchoMessage { data: echoed }.encode_to_vec()),
        Encoding::Json => json_data(&echoed),
    })
}

/// How a REST body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Protobuf,
}

/// Why an `/echo` body was refused (400 or 415).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EchoError {
    UnsupportedMediaType,
    Malformed(String),
}

/// Decodes an `/echo` body by its content type: the data to send back.
pub fn decode_echo(content_type: &str, body: Bytes) -> Result<(Encoding, Bytes), EchoError> {
    if content_type.starts_with(PROTOBUF) {
        let message = EchoMessage::decode(body)
            .map_err(|err| EchoError::Malformed(format!("malformed protobuf body: {err}")))?;
        return Ok((Encoding::Protobuf, message.data));
    }
    if !content_type.starts_with("application/json") {
        return Err(EchoError::UnsupportedMediaType);
    }
    let message: DataJson<'_> = wirebench_proto::json::from_slice(&body)
        .map_err(|err| EchoError::Malformed(format!("malformed JSON body: {err}")))?;
    Ok((
        Encoding::Json,
        Bytes::copy_from_slice(message.data.as_bytes()),
    ))
}

/// `size_in_kb` from the query: missing means 1 (as in seed 000).
pub fn parse_size(text: Option<&str>) -> Result<i64, RequestError> {
    match text {
        None => Ok(1),
        Some(text) => text.trim().parse::<i64>().map_err(|_| {
            RequestError::InvalidArgument(format!("size_in_kb must be an integer, got '{text}'"))
        }),
    }
}

impl From<EchoError> for RestError {
    fn from(err: EchoError) -> Self {
        match err {
            EchoError::UnsupportedMediaType => RestError::UnsupportedMediaType,
            EchoError::Malformed(why) => RestError::Request(RequestError::InvalidArgument(why)),
        }
    }
}

async fn not_found() -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        "no such route; this server has GET /payload?size_in_kb=N and POST /echo",
    )
}

/// `{"data":""}`: what the JSON adds around the payload.
const JSON_ENVELOPE_BYTES: usize = 11;

/// Serializes `{"data": "..."}` from the handler's bytes. The JSON encoding
/// (escaping included) is the cost REST pays on top of the shared work.
/// The body is allocated once, at the size it will have when nothing needs
/// escaping (the payload's `x`s), not grown by doubling from 128 bytes;
/// valid UTF-8 is borrowed, not copied.
fn json_data(data: &[u8]) -> Response {
    let mut body = Vec::with_capacity(data.len() + JSON_ENVELOPE_BYTES);
    wirebench_proto::json::to_writer(&mut body, &DataJson::of(data))
        .expect("a string always serializes");
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

enum RestError {
    Request(RequestError),
    UnsupportedMediaType,
}

impl From<RequestError> for RestError {
    fn from(err: RequestError) -> Self {
        RestError::Request(err)
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        match self {
            RestError::Request(err @ RequestError::InvalidArgument(_)) => {
                error_response(StatusCode::BAD_REQUEST, &err.to_string())
            }
            RestError::Request(err @ RequestError::TooLarge { .. }) => {
                error_response(StatusCode::PAYLOAD_TOO_LARGE, &err.to_string())
            }
            RestError::UnsupportedMediaType => error_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected Content-Type: application/json or application/x-protobuf",
            ),
        }
    }
}

/// `{"error": "..."}` with `status`: how every REST server (payload and
/// pipeline) refuses a request.
/// The body limit of a REST router: a request whose `Content-Length` is
/// over `limit` bytes is refused with 413 from its headers, before a byte
/// of its body is read (axum's limit alone reads up to the limit first);
/// a body without a length (chunked) is cut at the limit as it arrives.
pub(crate) fn limit_bodies<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    limit: usize,
) -> Router<S> {
    router
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| async move {
                let declared = request
                    .headers()
                    .get(header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                match declared {
                    Some(bytes) if bytes > limit as u64 => error_response(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        &format!(
                            "a body of {} KiB is over this server's limit of {} KiB",
                            bytes.div_ceil(1024),
                            limit / 1024
                        ),
                    ),
                    _ => next.run(request).await,
                }
            },
        ))
}

pub(crate) fn error_response(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
