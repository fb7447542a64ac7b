//! Compression on the wire, for a `+gzip` or `+zstd` stack: every REST
//! answer is compressed (to a client that accepts it, as HTTP says) and
//! every compressed request inflated, at the level of [`Compression::level`]
//! (tonic's fixed levels, so REST and gRPC compress alike). Nothing is
//! cached: each answer is compressed as it is sent.
//!
//! A request body inflates into the router's body limit, so a small body
//! that would inflate past it (a gzip bomb) is refused with 413 once the
//! limit is reached, never inflated whole. An encoding the stack does not
//! speak gets 415 and the list it does.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use wirebench_proto::vocab::Compression;

/// `router` with `compression` on every body, or as it is.
pub fn rest(router: Router, compression: Option<Compression>) -> Router {
    let accepted: &'static str = match compression {
        None => "identity",
        Some(Compression::Gzip) => "gzip, identity",
        Some(Compression::Zstd) => "zstd, identity",
    };
    let router = match compression {
        None => router,
        Some(compression) => {
            let gzip = compression == Compression::Gzip;
            let always = |_: StatusCode,
                          _: axum::http::Version,
                          _: &axum::http::HeaderMap,
                          _: &axum::http::Extensions| true;
            router
                .layer(RequestDecompressionLayer::new().gzip(gzip).zstd(!gzip))
                .layer(
                    CompressionLayer::new()
                        .gzip(gzip)
                        .zstd(!gzip)
                        .quality(CompressionLevel::Precise(compression.level()))
                        .compress_when(always),
                )
        }
    };
    router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| refuse_unknown(request, next, accepted),
    ))
}

/// 415 for a `Content-Encoding` other than `accepted`, with the list.
async fn refuse_unknown(request: Request, next: Next, accepted: &'static str) -> Response {
    let encoding = request
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    match encoding {
        Some(encoding) if !accepted.split(", ").any(|known| known == encoding.as_str()) => {
            let mut response = crate::rest::error_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &format!(
                    "Content-Encoding '{encoding}' is not supported here; this server accepts: {accepted}"
                ),
            );
            response
                .headers_mut()
                .insert(header::ACCEPT_ENCODING, HeaderValue::from_static(accepted));
            response
        }
        _ => next.run(request).await,
    }
}

/// tonic's name for `compression`.
pub fn grpc(compression: Compression) -> tonic::codec::CompressionEncoding {
    match compression {
        Compression::Gzip => tonic::codec::CompressionEncoding::Gzip,
        Compression::Zstd => tonic::codec::CompressionEncoding::Zstd,
    }
}
