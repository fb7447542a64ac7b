//! What the proxy's two relays (TCP connections in [`crate::proxy`], QUIC
//! datagrams in [`crate::udp`]) share: the link of each direction and its
//! pacer, the count of what was relayed, and cheap randomness for jitter
//! and resets. Below both, so neither imports the other's.

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

/// The pacer lets this much time of traffic through in one burst.
const BURST: Duration = Duration::from_millis(2);

/// What the proxy did.
#[derive(Debug, Default)]
pub struct ProxyStats {
    pub connections: AtomicU64,
    pub resets: AtomicU64,
    pub bytes_to_server: AtomicU64,
    pub bytes_to_client: AtomicU64,
}

/// The link of each direction, shared by every connection (or flow).
pub(crate) struct Links {
    pub(crate) to_server: Pacer,
    pub(crate) to_client: Pacer,
}

/// Hands out transmission slots on a link of a fixed rate, shared by every
/// connection in one direction.
pub struct Pacer {
    bytes_per_s: Option<f64>,
    next_free: Mutex<Instant>,
}

impl Pacer {
    pub(crate) fn new(bits_per_s: Option<u64>) -> Pacer {
        Pacer {
            bytes_per_s: bits_per_s.map(|b| b as f64 / 8.0),
            next_free: Mutex::new(Instant::now()),
        }
    }

    /// Reserves the link for `bytes`; returns when they will have left.
    pub(crate) fn transmit(&self, bytes: usize) -> Instant {
        let now = Instant::now();
        let Some(rate) = self.bytes_per_s else {
            return now;
        };
        let mut next_free = self.next_free.lock().unwrap_or_else(|p| p.into_inner());
        // An idle link does not bank more than a short burst.
        let start = (*next_free).max(now.checked_sub(BURST).unwrap_or(now));
        *next_free = start + Duration::from_secs_f64(bytes as f64 / rate);
        *next_free
    }
}

/// xorshift64*: jitter and resets need cheap randomness, not secrecy.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn seeded() -> Rng {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos() as u64);
        Rng(nanos | 1)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}
