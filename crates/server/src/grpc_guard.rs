//! What tonic leaves to its user: a request that is not gRPC (by its
//! content type) gets HTTP 415, as the gRPC spec asks, instead of being
//! decoded as if it were.

use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use tonic::body::Body;
use tower::{Layer, Service};

/// Admits requests whose content type starts with one of `accepted`.
#[derive(Debug, Clone, Copy)]
pub struct ContentTypeGuard {
    pub accepted: &'static [&'static str],
}

impl<S> Layer<S> for ContentTypeGuard {
    type Service = Guarded<S>;
    fn layer(&self, inner: S) -> Guarded<S> {
        Guarded {
            inner,
            accepted: self.accepted,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Guarded<S> {
    inner: S,
    accepted: &'static [&'static str],
}

impl<S, B> Service<Request<B>> for Guarded<S>
where
    S: Service<Request<B>, Response = Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Response<Body>, S::Error>> + Send>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let content_type = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if self.accepted.iter().any(|a| content_type.starts_with(a)) {
            let future = self.inner.call(request);
            return Box::pin(future);
        }
        let expected = self.accepted.join(" or ");
        let response = Response::builder()
            .status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
            .header(http::header::CONTENT_TYPE, "text/plain")
            .body(Body::new(http_body_util::Full::new(bytes::Bytes::from(
                format!("this gRPC server takes content-type {expected}"),
            ))))
            .expect("static response");
        Box::pin(std::future::ready(Ok(response)))
    }
}
