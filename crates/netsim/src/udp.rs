//! The proxy's UDP side, for QUIC (`rest-h3`): datagrams are relayed one
//! by one, each held for the one-way delay (plus jitter) and paced by the
//! shared link of its direction, in order. Each client address gets its
//! own upstream socket (a flow), as a NAT would. A datagram that finds its
//! direction's queue full is dropped, as a router's full queue drops;
//! nothing else is lost here (real loss is the kernel's, `--net loss=`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::NetConditions;
use crate::relay::{Links, Pacer, ProxyStats, Rng};

/// Largest datagram relayed (QUIC's packets are at most 1,500 bytes on
/// this path; GSO batches are split by the kernel before we see them).
const DATAGRAM_BYTES: usize = 65_535;
/// Datagrams queued per direction per flow before new ones are dropped.
const QUEUE_DATAGRAMS: usize = 4096;

/// Relays datagrams arriving at `front` to `upstream` and back.
pub(crate) async fn relay(
    front: UdpSocket,
    upstream: SocketAddr,
    conditions: NetConditions,
    links: Arc<Links>,
    stats: Arc<ProxyStats>,
) {
    let front = Arc::new(front);
    let mut flows: HashMap<SocketAddr, mpsc::Sender<(Instant, Vec<u8>)>> = HashMap::new();
    let mut rng = Rng::seeded();
    let mut last_due = Instant::now();
    let mut buf = vec![0u8; DATAGRAM_BYTES];
    loop {
        let Ok((n, client)) = front.recv_from(&mut buf).await else {
            continue;
        };
        let flow = match flows.entry(client) {
            std::collections::hash_map::Entry::Occupied(flow) => flow.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let Ok(flow) =
                    open_flow(&front, client, upstream, conditions, &links, &stats).await
                else {
                    continue;
                };
                stats.connections.fetch_add(1, Ordering::Relaxed);
                slot.insert(flow)
            }
        };
        stats.bytes_to_server.fetch_add(n as u64, Ordering::Relaxed);
        let due = due_time(&links.to_server, n, conditions, &mut rng, &mut last_due);
        // A full queue drops the datagram, as a router's would.
        let _ = flow.try_send((due, buf[..n].to_vec()));
    }
}

/// When a datagram of `n` bytes may leave: after the link carried it, one
/// one-way delay and some jitter later, never before the one ahead.
fn due_time(
    link: &Pacer,
    n: usize,
    conditions: NetConditions,
    rng: &mut Rng,
    last_due: &mut Instant,
) -> Instant {
    let sent = link.transmit(n);
    let jitter = conditions.jitter.mul_f64(rng.unit());
    let due = (sent + conditions.latency + jitter).max(*last_due);
    *last_due = due;
    due
}

/// A flow for `client`: its upstream socket, the task sending its queued
/// datagrams to the server, and the task relaying the server's back.
async fn open_flow(
    front: &Arc<UdpSocket>,
    client: SocketAddr,
    upstream: SocketAddr,
    conditions: NetConditions,
    links: &Arc<Links>,
    stats: &Arc<ProxyStats>,
) -> std::io::Result<mpsc::Sender<(Instant, Vec<u8>)>> {
    let local: SocketAddr = match upstream {
        SocketAddr::V4(_) => "0.0.0.0:0".parse().expect("an address"),
        SocketAddr::V6(_) => "[::]:0".parse().expect("an address"),
    };
    let socket = Arc::new(UdpSocket::bind(local).await?);
    socket.connect(upstream).await?;
    let (to_server, queue) = mpsc::channel(QUEUE_DATAGRAMS);
    tokio::spawn(send_queued(queue, Arc::clone(&socket), None));
    let (to_client, back) = mpsc::channel(QUEUE_DATAGRAMS);
    tokio::spawn(send_queued(back, Arc::clone(front), Some(client)));
    let links = Arc::clone(links);
    let stats = Arc::clone(stats);
    tokio::spawn(async move {
        let mut rng = Rng::seeded();
        let mut last_due = Instant::now();
        let mut buf = vec![0u8; DATAGRAM_BYTES];
        while let Ok(n) = socket.recv(&mut buf).await {
            stats.bytes_to_client.fetch_add(n as u64, Ordering::Relaxed);
            let due = due_time(&links.to_client, n, conditions, &mut rng, &mut last_due);
            if to_client.try_send((due, buf[..n].to_vec())).is_err() && to_client.is_closed() {
                return;
            }
        }
    });
    Ok(to_server)
}

/// Sends each queued datagram when it is due: on `socket`'s connected
/// peer, or to `to`.
async fn send_queued(
    mut queue: mpsc::Receiver<(Instant, Vec<u8>)>,
    socket: Arc<UdpSocket>,
    to: Option<SocketAddr>,
) {
    while let Some((due, datagram)) = queue.recv().await {
        tokio::time::sleep_until(due.into()).await;
        let _ = match to {
            Some(to) => socket.send_to(&datagram, to).await,
            None => socket.send(&datagram).await,
        };
    }
}
