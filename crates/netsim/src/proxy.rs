//! The proxy itself: accept, connect upstream, two timed pipelines per
//! connection, a shared pacer per direction.

use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::NetConditions;
use crate::relay::{Links, Pacer, ProxyStats, Rng};

/// Largest chunk read at once: small enough that pacing is smooth.
const CHUNK_BYTES: usize = 16 * 1024;
/// Chunks in flight per direction per connection (bounds memory).
const IN_FLIGHT_CHUNKS: usize = 256;

/// A running proxy; it stops when dropped.
pub struct Proxy {
    addr: SocketAddr,
    stats: Arc<ProxyStats>,
    task: JoinHandle<()>,
}

/// What the proxy relays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TCP connections (every stack but rest-h3).
    Tcp,
    /// UDP datagrams (QUIC).
    Udp,
}

impl Proxy {
    /// Listens on a free port of `upstream`'s (loopback) address and
    /// forwards TCP to `upstream` under `conditions`.
    pub async fn start(upstream: SocketAddr, conditions: NetConditions) -> std::io::Result<Proxy> {
        Proxy::start_on(upstream.ip(), upstream, conditions, Transport::Tcp).await
    }

    /// Listens on a free port of `bind` and forwards `transport` to
    /// `upstream` under `conditions`.
    pub async fn start_on(
        bind: IpAddr,
        upstream: SocketAddr,
        conditions: NetConditions,
        transport: Transport,
    ) -> std::io::Result<Proxy> {
        let stats = Arc::new(ProxyStats::default());
        let links = Arc::new(Links {
            to_server: Pacer::new(conditions.bandwidth_bits_per_s),
            to_client: Pacer::new(conditions.bandwidth_bits_per_s),
        });
        let (addr, task) = match transport {
            Transport::Tcp => {
                let listener = TcpListener::bind((bind, 0)).await?;
                let addr = listener.local_addr()?;
                let task = tokio::spawn(accept_loop(
                    listener,
                    upstream,
                    conditions,
                    links,
                    Arc::clone(&stats),
                ));
                (addr, task)
            }
            Transport::Udp => {
                let socket = tokio::net::UdpSocket::bind((bind, 0)).await?;
                let addr = socket.local_addr()?;
                let task = tokio::spawn(crate::udp::relay(
                    socket,
                    upstream,
                    conditions,
                    links,
                    Arc::clone(&stats),
                ));
                (addr, task)
            }
        };
        Ok(Proxy { addr, stats, task })
    }

    /// Where clients should connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn stats(&self) -> &ProxyStats {
        &self.stats
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    conditions: NetConditions,
    links: Arc<Links>,
    stats: Arc<ProxyStats>,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((client, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                stats.connections.fetch_add(1, Ordering::Relaxed);
                connections.spawn(connection(client, upstream, conditions, Arc::clone(&links), Arc::clone(&stats)));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn connection(
    client: TcpStream,
    upstream: SocketAddr,
    conditions: NetConditions,
    links: Arc<Links>,
    stats: Arc<ProxyStats>,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        reset(&[client.as_raw_fd()]);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let fds = [client.as_raw_fd(), server.as_raw_fd()];
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let (reset_tx, mut reset_rx) = watch::channel(false);
    let mut up = tokio::spawn(pipeline(
        client_read,
        server_write,
        conditions,
        Arc::clone(&links),
        Some(reset_tx),
        Arc::clone(&stats),
    ));
    let mut down = tokio::spawn(pipeline(
        server_read,
        client_write,
        conditions,
        links,
        None,
        Arc::clone(&stats),
    ));
    tokio::select! {
        _ = &mut up => { let _ = down.await; }
        _ = &mut down => { up.abort(); }
        _ = reset_rx.changed() => {
            stats.resets.fetch_add(1, Ordering::Relaxed);
            // SO_LINGER 0 before the sockets close: both peers get RST.
            reset(&fds);
            up.abort();
            down.abort();
        }
    }
}

/// Makes the next close of these sockets a reset (RST).
fn reset(fds: &[i32]) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    for &fd in fds {
        // SAFETY: setsockopt on a descriptor we still own, with a correctly
        // sized option value.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }
}

/// One direction: read chunks, stamp their departure time, send them then.
/// The client-to-server direction (the one holding `reset`) may reset.
async fn pipeline(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    conditions: NetConditions,
    links: Arc<Links>,
    reset: Option<watch::Sender<bool>>,
    stats: Arc<ProxyStats>,
) {
    let to_server = reset.is_some();
    let link = if to_server {
        &links.to_server
    } else {
        &links.to_client
    };
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(IN_FLIGHT_CHUNKS);
    let writer = tokio::spawn(async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due.into()).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut rng = Rng::seeded();
    let mut last_due = Instant::now();
    loop {
        let mut chunk = vec![0u8; CHUNK_BYTES];
        let n = match from.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        chunk.truncate(n);
        if to_server {
            stats.bytes_to_server.fetch_add(n as u64, Ordering::Relaxed);
        } else {
            stats.bytes_to_client.fetch_add(n as u64, Ordering::Relaxed);
        }
        if let Some(reset) = &reset
            && conditions.reset_probability > 0.0
            && rng.unit() < conditions.reset_probability
        {
            let _ = reset.send(true);
            return;
        }
        let sent = link.transmit(n);
        let jitter = conditions.jitter.mul_f64(rng.unit());
        let due = (sent + conditions.latency + jitter).max(last_due);
        last_due = due;
        if tx.send((due, chunk)).await.is_err() {
            break;
        }
    }
    drop(tx);
    let _ = writer.await;
}
