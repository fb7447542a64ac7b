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
    let mut answer = Answering::new(response.status(), check);
    let mut body = response.into_body();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(classify)?;
        if let Some(data) = frame.data_ref() {
            answer.feed(data);
        }
    }
    answer.finish()
}

/// Where an answer's body goes as it arrives: into the check (2xx), or,
/// its first bytes, into the error's text. Shared by HTTP/2 and HTTP/3.
pub struct Answering<'a> {
    status: http::StatusCode,
    verifier: crate::verify::BodyVerifier<'a>,
    received: u64,
    error_text: Vec<u8>,
}

impl<'a> Answering<'a> {
    pub fn new(status: http::StatusCode, check: &'a BodyCheck) -> Answering<'a> {
        Answering {
            status,
            verifier: check.start(),
            received: 0,
            error_text: Vec::new(),
        }
    }

    pub fn feed(&mut self, data: &[u8]) {
        self.received += data.len() as u64;
        if self.status.is_success() {
            self.verifier.feed(data);
        } else if self.error_text.len() < ERROR_TEXT_BYTES {
            let room = ERROR_TEXT_BYTES - self.error_text.len();
            self.error_text
                .extend_from_slice(&data[..data.len().min(room)]);
        }
    }

    /// The body's bytes when the answer was a 2xx that passed its check.
    pub fn finish(self) -> Result<u64, RequestFailure> {
        if !self.status.is_success() {
            let text = String::from_utf8_lossy(&self.error_text);
            return Err(RequestFailure::new(
                ErrorKind::Status,
                format!("{}: {}", self.status, text.trim()),
            )
            .with_code(format!("HTTP {}", self.status.as_u16())));
        }
        self.verifier
            .finish()
            .map_err(|why| RequestFailure::new(ErrorKind::WrongBody, why))?;
        Ok(self.received)
    }
}

/// Every exchange's URI at `scheme://authority`, parsed once.
pub fn uris_of(
    target: &HttpTarget,
    scheme: &str,
    authority: &str,
) -> Result<Box<[Uri]>, super::SetupError> {
    target
        .exchanges
        .iter()
        .map(|exchange| {
            let url = format!("{scheme}://{authority}{}", exchange.path);
            url.parse().map_err(|_| super::SetupError::BadUrl {
                url: url.clone(),
                why: "not a URL".into(),
            })
        })
        .collect()
}

/// `base` with a rendered request's path, or `base` itself.
pub fn uri_of(base: &Uri, rendered: Option<&super::Rendered>) -> Result<Uri, RequestFailure> {
    match rendered {
        Some(r) => {
            let mut parts = base.clone().into_parts();
            parts.path_and_query = Some(r.path.clone());
            Uri::from_parts(parts).map_err(|err| RequestFailure::new(ErrorKind::Protocol, err))
        }
        None => Ok(base.clone()),
    }
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
