//! Accepting connections, plain or TLS, the same way for every protocol:
//! an accept loop hands ready streams (TLS handshakes done on their own
//! tasks, so a slow handshake never stalls accepting) to the protocol's
//! server as a stream of connections.
//!
//! The idle deadline is a watchdog beside each connection
//! ([`ServerStream::idle`]), not a timer polled from inside its reads: a
//! protocol stack polls a socket only when it wants bytes, so a timer
//! polled there can go unpolled while a request waits mid-body, and a
//! connection that stops mid-body then outlived its deadline (closed at
//! twice the limit, or later). Each read or write that moves a byte notes
//! the time; the watchdog sleeps until the last note plus the limit, and
//! the connection is dropped when nothing moved in between.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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

/// One accepted connection; [`ServerStream::idle`] ends when it has been
/// idle too long.
pub struct ServerStream {
    inner: Inner,
    activity: Arc<Activity>,
}

/// When a connection last moved a byte, and how long it may sit still.
#[derive(Debug)]
struct Activity {
    /// Its start; `last_ms` counts from here.
    start: tokio::time::Instant,
    /// Milliseconds from `start` to the last read or write that moved a
    /// byte (a relaxed store on the busy path, nothing else).
    last_ms: AtomicU64,
    limit: Duration,
}

impl Activity {
    fn new(limit: Duration) -> Arc<Activity> {
        Arc::new(Activity {
            start: tokio::time::Instant::now(),
            last_ms: AtomicU64::new(0),
            limit,
        })
    }

    fn touch(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }
}

impl ServerStream {
    fn new(inner: Inner, idle_timeout: Duration) -> ServerStream {
        ServerStream {
            inner,
            activity: Activity::new(idle_timeout),
        }
    }

    /// Completes once nothing has been read or written for the idle
    /// deadline. The server runs it beside the connection and drops the
    /// connection when it completes (whatever the protocol is waiting for).
    pub fn idle(&self) -> impl Future<Output = ()> + Send + 'static {
        let activity = Arc::clone(&self.activity);
        async move {
            loop {
                let last = activity.last_ms.load(Ordering::Relaxed);
                let deadline = activity.start + Duration::from_millis(last) + activity.limit;
                tokio::time::sleep_until(deadline).await;
                if activity.last_ms.load(Ordering::Relaxed) == last {
                    return;
                }
            }
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
    crate::task::spawn(async move {
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
                    let stream = ServerStream::new(Either::Left(stream), idle_timeout);
                    if tx.send(Ok(stream)).await.is_err() {
                        return;
                    }
                }
                Some(acceptor) => {
                    let (acceptor, tx) = (acceptor.clone(), tx.clone());
                    crate::task::spawn(async move {
                        if let Ok(Ok(tls)) =
                            tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                        {
                            let stream =
                                ServerStream::new(Either::Right(Box::new(tls)), idle_timeout);
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
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.touch();
        }
        read
    }
}

impl ServerStream {
    /// A write's result: its bytes noted as activity (only bytes: a flush
    /// with nothing to send, which a protocol stack makes on every wake,
    /// is not a sign of life) and counted for `serve --metrics`.
    fn written(&self, written: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if let Poll::Ready(Ok(n)) = written
            && n > 0
        {
            self.activity.touch();
            crate::counters::count_written(n);
        }
        written
    }
}

impl AsyncWrite for ServerStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.written(written)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.written(written)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl tonic::transport::server::Connected for ServerStream {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}
