//! HTTP/3 (the `rest-h3` stack): the same axum router as `rest`, served
//! over QUIC by quinn and h3. QUIC is always TLS 1.3, so the stack always
//! has a certificate (ALPN h3).
//!
//! It listens on UDP at the address of the TCP listener it is given: the
//! CLI binds TCP to pick a port, as for every stack, and the TCP socket is
//! held (not served) so the port pair stays wirebench's. Each request's
//! body is read whole (up to the router's limit plus room for framing:
//! more gets 413), handed to the router, and the answer streamed back
//! frame by frame. Datagrams that are not QUIC are dropped by quinn.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use bytes::{Buf, Bytes, BytesMut};
use http_body_util::BodyExt;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::{ServeError, ServeOptions};

/// Largest request body read before the router sees it.
const MAX_BODY_BYTES: usize = 80 * 1024 * 1024;

type Stream = h3::server::RequestStream<h3_quinn::BidiStream<Bytes>, Bytes>;

/// Serves `router` over HTTP/3 on UDP at `listener`'s address until
/// `shutdown` completes, then closes every connection. A request's
/// headers must come within the header deadline, and its body and answer
/// within the request deadline (408); QUIC's own idle timeout closes
/// silent connections.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let fail = |why: String| ServeError::Http3(why);
    let deadlines = Deadlines {
        header: options.header_timeout,
        request: options.request_timeout,
    };
    let tls = options
        .tls
        .clone()
        .ok_or_else(|| fail("HTTP/3 needs a TLS configuration".into()))?;
    let addr = listener
        .local_addr()
        .map_err(|err| fail(format!("the listener's address: {err}")))?;
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls)
        .map_err(|err| fail(format!("TLS for QUIC: {err}")))?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    // QUIC has no TCP connection for the listener's idle deadline: quinn's
    // own closes a connection silent for the same time.
    let mut transport = wirebench_proto::quic::transport();
    if let Ok(idle) = quinn::IdleTimeout::try_from(options.idle_timeout) {
        transport.max_idle_timeout(Some(idle));
    }
    config.transport_config(Arc::new(transport));
    let endpoint =
        quinn::Endpoint::server(config, addr).map_err(|err| fail(format!("UDP {addr}: {err}")))?;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            incoming = endpoint.accept() => match incoming {
                Some(incoming) => {
                    crate::task::spawn(connection(incoming, router.clone(), deadlines));
                }
                None => break,
            },
            () = &mut shutdown => break,
        }
    }
    endpoint.close(0u32.into(), b"shutting down");
    endpoint.wait_idle().await;
    drop(listener);
    Ok(())
}

/// How long a request's headers, and the whole request, may take.
#[derive(Debug, Clone, Copy)]
struct Deadlines {
    header: std::time::Duration,
    request: std::time::Duration,
}

/// One QUIC connection: each request on its own task.
async fn connection(incoming: quinn::Incoming, router: Router, deadlines: Deadlines) {
    let Ok(quic) = incoming.await else { return };
    let Ok(mut h3) = h3::server::Connection::<_, Bytes>::new(h3_quinn::Connection::new(quic)).await
    else {
        return;
    };
    while let Ok(Some(resolver)) = h3.accept().await {
        let router = router.clone();
        crate::task::spawn(async move {
            let headers = tokio::time::timeout(deadlines.header, resolver.resolve_request());
            let Ok(Ok((request, mut stream))) = headers.await else {
                return;
            };
            let response =
                match tokio::time::timeout(deadlines.request, answer(request, &mut stream, router))
                    .await
                {
                    Ok(Ok(response)) => response,
                    Ok(Err(_)) => return,
                    Err(_) => crate::rest::error_response(
                        http::StatusCode::REQUEST_TIMEOUT,
                        &format!("the request was not done within {:?}", deadlines.request),
                    ),
                };
            let _ = send(&mut stream, response).await;
        });
    }
}

/// Reads the request's body and runs the router.
async fn answer(
    request: http::Request<()>,
    stream: &mut Stream,
    router: Router,
) -> Result<http::Response<Body>, h3::error::StreamError> {
    let mut body = BytesMut::new();
    while let Some(mut data) = stream.recv_data().await? {
        if body.len() + data.remaining() > MAX_BODY_BYTES {
            let response = crate::rest::error_response(
                http::StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body over {MAX_BODY_BYTES} bytes"),
            );
            return Ok(response);
        }
        while data.has_remaining() {
            let chunk = data.chunk();
            body.extend_from_slice(chunk);
            let n = chunk.len();
            data.advance(n);
        }
    }
    let (parts, ()) = request.into_parts();
    let request = http::Request::from_parts(parts, Body::from(body.freeze()));
    Ok(router
        .oneshot(request)
        .await
        .expect("axum routers are infallible"))
}

async fn send(
    stream: &mut Stream,
    response: http::Response<Body>,
) -> Result<(), h3::error::StreamError> {
    let (parts, mut body) = response.into_parts();
    stream
        .send_response(http::Response::from_parts(parts, ()))
        .await?;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        if let Ok(data) = frame.into_data()
            && !data.is_empty()
        {
            stream.send_data(data).await?;
        }
    }
    stream.finish().await
}
