//! How a pipeline service connects to the next one, for every stack: TCP
//! without Nagle, then TLS when the stack is `+tls`, trusting the
//! certificate it was told to (`--upstream-ca`). One connector serves the
//! hyper client of the REST hops, tonic's channel of the gRPC hops and the
//! TCP ceiling's pool, so a hop differs between stacks only in what it
//! speaks once connected.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_util::either::Either;

/// Opens connections to the next service; cheap to clone.
#[derive(Clone)]
pub struct HopConnector {
    /// Set for `+tls` stacks: the client configuration, ALPN included.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl HopConnector {
    /// Connects to `host:port` (`host` may be a name, an IPv4 address or a
    /// bracketed IPv6 address).
    pub async fn connect(&self, host: &str, port: u16) -> io::Result<HopStream> {
        let host = host.trim_matches(['[', ']']);
        let tcp = TcpStream::connect((host, port)).await?;
        tcp.set_nodelay(true)?;
        let Some(config) = &self.tls else {
            return Ok(HopStream(Either::Left(tcp)));
        };
        let name = ServerName::try_from(host.to_owned())
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))?;
        let tls = TlsConnector::from(Arc::clone(config))
            .connect(name, tcp)
            .await?;
        Ok(HopStream(Either::Right(Box::new(tls))))
    }

    /// The URL scheme of the hop: what HTTP/2's `:scheme` says.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }
}

impl tower::Service<Uri> for HopConnector {
    type Response = TokioIo<HopStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connector = self.clone();
        Box::pin(async move {
            let host = uri
                .host()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no host"))?;
            let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
                Some("https") => 443,
                _ => 80,
            });
            Ok(TokioIo::new(connector.connect(host, port).await?))
        })
    }
}

/// A connection to the next service, plain or TLS.
pub struct HopStream(Either<TcpStream, Box<TlsStream<TcpStream>>>);

impl Connection for HopStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for HopStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for HopStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
