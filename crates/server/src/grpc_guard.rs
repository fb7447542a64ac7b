//! What tonic leaves to its user: a request that is not gRPC (by its
//! content type) gets HTTP 415, as the gRPC spec asks, instead of being
//! decoded as if it were; and a `grpc-json` answer says it is JSON (tonic
//! always answers `application/grpc`).

use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use tonic::body::Body;
use tower::{Layer, Service};

/// Admits requests whose content type starts with one of `accepted`, and
/// answers with `answer_as` when set.
#[derive(Debug, Clone, Copy)]
pub struct ContentTypeGuard {
    pub accepted: &'static [&'static str],
    pub answer_as: Option<&'static str>,
}

impl ContentTypeGuard {
    /// The guard of a gRPC server with the protobuf codec, or (`json`) the
    /// JSON codec of the `grpc-json` stack.
    pub fn for_codec(json: bool) -> ContentTypeGuard {
        if json {
            ContentTypeGuard {
                accepted: &[wirebench_proto::json_codec::CONTENT_TYPE],
                answer_as: Some(wirebench_proto::json_codec::CONTENT_TYPE),
            }
        } else {
            ContentTypeGuard {
                // application/grpc, application/grpc+proto
                accepted: &["application/grpc"],
                answer_as: None,
            }
        }
    }
}

impl<S> Layer<S> for ContentTypeGuard {
    type Service = Guarded<S>;
    fn layer(&self, inner: S) -> Guarded<S> {
        Guarded {
            inner,
            guard: *self,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Guarded<S> {
    inner: S,
    guard: ContentTypeGuard,
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
        if self
            .guard
            .accepted
            .iter()
            .any(|a| content_type.starts_with(a))
        {
            let future = self.inner.call(request);
            let Some(answer_as) = self.guard.answer_as else {
                return Box::pin(future);
            };
            return Box::pin(async move {
                let mut response = future.await?;
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static(answer_as),
                );
                Ok(response)
            });
        }
        let expected = self.guard.accepted.join(" or ");
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
