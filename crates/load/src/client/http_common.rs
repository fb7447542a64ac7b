//! The hyper side of the HTTP/2 client ([`super::http2`]): building the
//! request, reading the answer frame by frame into the verifier (no copy of
//! the body), and naming hyper's errors. (The HTTP/1.1 client does not use
//! hyper: it has its own lean state machine, [`super::http1`].)

use bytes::Bytes;
use http::header::{HOST, HeaderValue};
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

use super::HttpTarget;
use crate::errors::{ErrorKind, RequestFailure};
use crate::verify::BodyCheck;

/// How much of an error response's body is kept for the error message.
const ERROR_TEXT_BYTES: usize = 200;

/// The request of `target` with `body` (HTTP/1.1 needs `host`; HTTP/2
/// carries the authority in `uri`).
pub fn build_request(
    target: &HttpTarget,
    body: Bytes,
    uri: &Uri,
    host: Option<&HeaderValue>,
) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = target.method.clone();
    *request.uri_mut() = uri.clone();
    let headers = request.headers_mut();
    if let Some(host) = host {
        headers.insert(HOST, host.clone());
    }
    for (name, value) in &target.headers {
        headers.insert(name, value.clone());
    }
    request
}

/// Reads the whole answer: a 2xx whose body passes `check`, or an error
/// that says what the server said.
pub async fn read_response(
    response: Response<Incoming>,
    check: &BodyCheck,
) -> Result<u64, RequestFailure> {
    let status = response.status();
    let mut body = response.into_body();
    let mut verifier = check.start();
    let mut received = 0u64;
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

pub fn classify(err: hyper::Error) -> RequestFailure {
    let kind = if err.is_parse() || err.is_parse_status() || err.is_user() {
        ErrorKind::Protocol
    } else {
        // Closed, canceled, incomplete message or an I/O error: the
        // connection went away under the request.
        ErrorKind::Reset
    };
    RequestFailure::new(kind, err)
}
