//! The network conditions of a [`VethPath`], in the path itself, packet
//! by packet. The kernel here has no netem, so this process holds the
//! packets: two TUN devices, one in the caller's namespace and one in the
//! servers', carry every IP packet between the path's two addresses (host
//! routes, more specific than the veth's /30, send them there); a task
//! reads each packet, holds it for the one-way delay plus jitter (never
//! letting it pass the one ahead), and writes it into the other
//! namespace.
//!
//! Unlike the user-space proxy, nothing is terminated: TCP's and QUIC's
//! own connections see the whole round trip, so their loss recovery
//! (retransmission timers, fast retransmit, QUIC's probes) runs on the
//! real RTT.
//!
//! Loss (`--net loss=`) is nftables' `numgen random` on the input hook of
//! each side's TUN device: there every packet is one wire packet (a TUN
//! without a virtio header gets its senders' TSO/GSO batches cut to the
//! MTU), whereas on a veth, or at the sender's output hook, one "packet"
//! may be a 64 KiB GSO batch, and dropping it drops forty packets in a
//! row. Bandwidth (`bandwidth=`) is tbf on each TUN device's egress.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::NetConditions;
use crate::netns::{NetnsError, VethPath, ip, nft, tc};

/// Packets in flight per direction (40 ms at 100k packets/s fits).
const QUEUE_PACKETS: usize = 8192;
const PACKET_BYTES: usize = 65_536;

/// A running delay line; its devices and routes go when it is dropped.
pub struct DelayLine {
    near_if: String,
    /// Our namespace's nftables table (loss), if any.
    table: Option<String>,
    tasks: Vec<JoinHandle<()>>,
    /// The devices' ends in this process (closing them deletes the
    /// devices).
    _devices: [Arc<AsyncFd<OwnedFd>>; 2],
}

impl DelayLine {
    /// Routes `path`'s traffic through two TUN devices and applies `net`'s
    /// delay, jitter, loss and bandwidth to every packet, each way.
    pub fn start(path: &VethPath, net: &NetConditions) -> Result<DelayLine, NetnsError> {
        let (latency, jitter) = (net.latency, net.jitter);
        let ns = path.servers().name().to_owned();
        let near_if = format!("{}d", path.near_if());
        // Made here, then moved: its name must be free here too.
        let far_if = format!("{}e", path.near_if());
        let far_if = far_if.as_str();
        let near = open_tun(&near_if)?;
        let far = open_tun(far_if)?;
        // The far device goes to the servers' namespace; our descriptor
        // stays attached to it.
        ip(&["link", "set", far_if, "netns", &ns])?;
        ip(&["link", "set", &near_if, "up"])?;
        ip(&["-n", &ns, "link", "set", far_if, "up"])?;
        let (near_ip, far_ip) = (path.near.to_string(), path.far.to_string());
        ip(&[
            "route",
            "add",
            &format!("{far_ip}/32"),
            "dev",
            &near_if,
            "src",
            &near_ip,
        ])?;
        ip(&[
            "-n",
            &ns,
            "route",
            "add",
            &format!("{near_ip}/32"),
            "dev",
            far_if,
            "src",
            &far_ip,
        ])?;
        // Packets from the servers' address arrive on the TUN, not the
        // veth their /30 is on: no reverse-path filter on either side.
        for (namespace, dev) in [(None, near_if.as_str()), (Some(ns.as_str()), far_if)] {
            let mut command = match namespace {
                Some(ns) => {
                    let mut c = std::process::Command::new("ip");
                    c.args(["netns", "exec", ns, "sysctl"]);
                    c
                }
                None => std::process::Command::new("sysctl"),
            };
            let _ = command
                .args(["-qw", &format!("net.ipv4.conf.{dev}.rp_filter=0")])
                .output();
        }
        let mut line_table = None;
        if net.loss_probability > 0.0 {
            // 1 in 10,000 steps.
            let per_10k = (net.loss_probability * 10_000.0).round() as u32;
            let rules = |table: &str, dev: &str| {
                format!(
                    "table inet {table} {{\n\
                     chain lossy {{ type filter hook input priority -300; policy accept; \
                     iifname \"{dev}\" counter; \
                     iifname \"{dev}\" numgen random mod 10000 < {per_10k} counter drop; }}\n}}\n"
                )
            };
            let table = format!("wirebench_{near_if}");
            nft(None, &rules(&table, &near_if))?;
            line_table = Some(table);
            nft(Some(&ns), &rules("wirebench", far_if))?;
        }
        if let Some(bits) = net.bandwidth_bits_per_s {
            let rate = format!("{bits}bit");
            // A burst of one MTU-sized packet, or 5 ms of traffic if more;
            // 50 ms of queue before tbf drops.
            let burst = format!("{}", (bits / 8 / 200).max(3_000));
            for namespace in [None, Some(ns.as_str())] {
                let dev = if namespace.is_some() {
                    far_if
                } else {
                    near_if.as_str()
                };
                let mut args = Vec::new();
                if let Some(namespace) = namespace {
                    args.extend(["-n", namespace]);
                }
                args.extend([
                    "qdisc", "add", "dev", dev, "root", "tbf", "rate", &rate, "burst", &burst,
                    "latency", "50ms",
                ]);
                tc(&args)?;
            }
        }
        let near = Arc::new(near);
        let far = Arc::new(far);
        let tasks = vec![
            tokio::spawn(pump(Arc::clone(&near), Arc::clone(&far), latency, jitter)),
            tokio::spawn(pump(Arc::clone(&far), Arc::clone(&near), latency, jitter)),
        ];
        Ok(DelayLine {
            near_if,
            table: line_table,
            tasks,
            _devices: [near, far],
        })
    }
}

impl Drop for DelayLine {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        // Our routes go with our device; the far one with its descriptor
        // (and its namespace's table with the namespace).
        let _ = ip(&["link", "del", &self.near_if]);
        if let Some(table) = &self.table {
            let _ = nft(None, &format!("delete table inet {table}\n"));
        }
    }
}

/// A TUN device `name` (IP packets, no extra header), non-blocking.
fn open_tun(name: &str) -> Result<AsyncFd<OwnedFd>, NetnsError> {
    let failed = |why: String| NetnsError::Tool {
        tool: "tun",
        args: name.to_owned(),
        why,
    };
    // SAFETY: open(2) on a constant NUL-terminated path.
    let fd = unsafe {
        libc::open(
            c"/dev/net/tun".as_ptr(),
            libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(failed(std::io::Error::last_os_error().to_string()));
    }
    // SAFETY: fd was just opened and is owned by nothing else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: an all-zero ifreq is valid; the name fits (checked below).
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    if name.len() >= request.ifr_name.len() {
        return Err(failed("name too long".into()));
    }
    for (slot, byte) in request.ifr_name.iter_mut().zip(name.bytes()) {
        *slot = byte as libc::c_char;
    }
    request.ifr_ifru.ifru_flags = (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short;
    // SAFETY: TUNSETIFF with a valid ifreq on our own descriptor.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF, &request) } < 0 {
        return Err(failed(std::io::Error::last_os_error().to_string()));
    }
    // SAFETY: the descriptor is ours alone and stays open as long as the
    // AsyncFd that owns it.
    unsafe { AsyncFd::register(fd) }.map_err(|err| failed(err.to_string()))
}

/// Moves packets from `from` to `to`, each `latency` (plus jitter) later.
async fn pump(
    from: Arc<AsyncFd<OwnedFd>>,
    to: Arc<AsyncFd<OwnedFd>>,
    latency: Duration,
    jitter: Duration,
) {
    let (queue, mut due) = mpsc::channel::<(Instant, Vec<u8>)>(QUEUE_PACKETS);
    let writer = tokio::spawn(async move {
        while let Some((at, packet)) = due.recv().await {
            tokio::time::sleep_until(at.into()).await;
            let _ = to
                .async_io(tokio::io::Interest::WRITABLE, |fd| {
                    // SAFETY: write(2) of a live buffer to our descriptor.
                    let n = unsafe {
                        libc::write(fd.as_raw_fd(), packet.as_ptr().cast(), packet.len())
                    };
                    if n < 0 {
                        Err(std::io::Error::last_os_error())
                    } else {
                        Ok(())
                    }
                })
                .await;
        }
    });
    let mut rng = crate::relay::Rng::seeded();
    let mut last = Instant::now();
    let mut buf = vec![0u8; PACKET_BYTES];
    loop {
        let read = from
            .async_io(tokio::io::Interest::READABLE, |fd| {
                // SAFETY: read(2) into a live buffer of its length.
                let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0 {
                    Err(std::io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            })
            .await;
        let Ok(n) = read else { break };
        let at = (Instant::now() + latency + jitter.mul_f64(rng.unit())).max(last);
        last = at;
        // A full queue drops the packet, as a router's full queue would.
        let _ = queue.try_send((at, buf[..n].to_vec()));
    }
    writer.abort();
}
