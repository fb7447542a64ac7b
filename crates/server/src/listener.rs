//! Accepting connections, plain or TLS, the same way for every protocol:
//! an accept loop hands ready streams (TLS handshakes done on their own
//! tasks, so a slow handshake never stalls accepting) to the protocol's
//! server as a stream of connections.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::either::Either;

/// A TLS handshake that takes longer than this is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection may sit with nothing read or written before the
/// server closes it (slowloris: idle connections must not pile up).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Plain or TLS (tokio-util's `Either` forwards every read and write).
type Inner = Either<TcpStream, Box<TlsStream<TcpStream>>>;

/// One accepted connection, closed when it has been idle too long.
pub struct ServerStream {
    inner: Inner,
    idle: IdleTimer,
}

/// Fires when nothing has moved for `limit`. Activity only records a time;
/// the timer is re-armed lazily when it fires early, so the busy path pays
/// no timer work.
struct IdleTimer {
    limit: Duration,
    last_activity: tokio::time::Instant,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl IdleTimer {
    fn new(limit: Duration) -> IdleTimer {
        let now = tokio::time::Instant::now();
        IdleTimer {
            limit,
            last_activity: now,
            sleep: Box::pin(tokio::time::sleep_until(now + limit)),
        }
    }

    fn touch(&mut self) {
        self.last_activity = tokio::time::Instant::now();
    }

    /// Ready(error) once the connection has been idle for the limit.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        loop {
            if self.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let deadline = self.last_activity + self.limit;
            if tokio::time::Instant::now() >= deadline {
                return Poll::Ready(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "connection idle too long",
                ));
            }
            self.sleep.as_mut().reset(deadline);
        }
    }
}

/// Accepted connections, ready to speak the protocol.
pub type Incoming = ReceiverStream<io::Result<ServerStream>>;

/// Accepts on `listener` (with TLS when `tls` is given) until the returned
/// stream is dropped; connections idle for `idle_timeout` are closed.
pub fn incoming(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    idle_timeout: Duration,
) -> Incoming {
    let (tx, rx) = mpsc::channel(256);
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => accepted,
                () = tx.closed() => return,
            };
            let stream = match stream {
                Ok((stream, _)) => stream,
                // Out of descriptors and the like: wait, keep serving.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            match &acceptor {
                None => {
                    let stream = ServerStream {
                        inner: Either::Left(stream),
                        idle: IdleTimer::new(idle_timeout),
                    };
                    if tx.send(Ok(stream)).await.is_err() {
                        return;
                    }
                }
                Some(acceptor) => {
                    let (acceptor, tx) = (acceptor.clone(), tx.clone());
                    tokio::spawn(async move {
                        if let Ok(Ok(tls)) =
                            tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                        {
                            let stream = ServerStream {
                                inner: Either::Right(Box::new(tls)),
                                idle: IdleTimer::new(idle_timeout),
                            };
                            let _ = tx.send(Ok(stream)).await;
                        }
                    });
                }
            }
        }
    });
    ReceiverStream::new(rx)
}

impl AsyncRead for ServerStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Pending => this.idle.poll_expired(cx).map(Err),
            ready => {
                if buf.filled().len() > before {
                    this.idle.touch();
                }
                ready
            }
        }
    }
}

impl ServerStream {
    /// Runs a write, notes progress, and times out a write stuck for the
    /// idle limit (a client that stops reading).
    fn write_with<T>(
        &mut self,
        cx: &mut Context<'_>,
        write: impl FnOnce(Pin<&mut Inner>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match write(Pin::new(&mut self.inner), cx) {
            Poll::Pending => self.idle.poll_expired(cx).map(Err),
            ready => {
                self.idle.touch();
                ready
            }
        }
    }
}

/// A write's result, its bytes counted for `serve --metrics`.
fn counted(written: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
    if let Poll::Ready(Ok(n)) = written {
        crate::metrics::count_written(n);
    }
    written
}

impl AsyncWrite for ServerStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        counted(self.get_mut().write_with(cx, |s, cx| s.poll_write(cx, buf)))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        counted(
            self.get_mut()
                .write_with(cx, |s, cx| s.poll_write_vectored(cx, bufs)),
        )
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().write_with(cx, |s, cx| s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl tonic::transport::server::Connected for ServerStream {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}
