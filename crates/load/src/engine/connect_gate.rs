//! One backoff per connection, not per sender. A connection that failed
//! to connect is tried again by one sender at a time (the probe), after a
//! wait that doubles with each failure ([`BACKOFF_FIRST`] to
//! [`BACKOFF_MAX`]); the other senders of that connection wait for it. So
//! a dead server sees at most 1 / [`BACKOFF_FIRST`] connection attempts a
//! second per configured connection, however many senders share it: with
//! a backoff per sender, 500 senders of an open loop on one gRPC
//! connection made 2,000 attempts a second against a dead port. The
//! senders map to connections as the client's do: sender `id` uses
//! connection `id % connections`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::time::{Duration, Instant};

use super::{BACKOFF_FIRST, BACKOFF_MAX};

/// How often a sender waiting for another's probe looks again.
const PROBE_POLL: Duration = Duration::from_millis(1);

#[derive(Debug, Default)]
struct Gate {
    /// Set while the connection fails to connect.
    backoff: Option<Duration>,
    /// No attempt before this.
    open_at: Option<Instant>,
    /// A sender is trying it now.
    probing: bool,
}

/// What a sender may do with its connection now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pass {
    /// Send; as the probe of a failing connection when `probe`.
    Go { probe: bool },
    /// Wait until then and ask again.
    WaitUntil(Instant),
}

/// A connection's gate: `failing` mirrors `gate.backoff.is_some()`, so a
/// healthy connection (every request of a normal run) costs one relaxed
/// load before and after each call, never the lock.
#[derive(Debug, Default)]
struct Slot {
    failing: AtomicBool,
    gate: Mutex<Gate>,
}

#[derive(Debug)]
pub(super) struct ConnectGates(Vec<Slot>);

impl ConnectGates {
    pub(super) fn new(connections: usize) -> ConnectGates {
        ConnectGates((0..connections.max(1)).map(|_| Slot::default()).collect())
    }

    fn slot(&self, sender: usize) -> &Slot {
        &self.0[sender % self.0.len()]
    }

    fn gate(&self, sender: usize) -> std::sync::MutexGuard<'_, Gate> {
        self.slot(sender)
            .gate
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn pass(&self, sender: usize, now: Instant) -> Pass {
        if !self.slot(sender).failing.load(Ordering::Relaxed) {
            return Pass::Go { probe: false };
        }
        let mut gate = self.gate(sender);
        if gate.backoff.is_none() {
            return Pass::Go { probe: false };
        }
        match gate.open_at {
            Some(at) if now < at => Pass::WaitUntil(at),
            // Another sender is finding out; look again shortly.
            _ if gate.probing => Pass::WaitUntil(now + PROBE_POLL),
            _ => {
                gate.probing = true;
                Pass::Go { probe: true }
            }
        }
    }

    /// What a call on `sender`'s connection came to: it failed to
    /// connect, or it did not.
    pub(super) fn settle(&self, sender: usize, probe: bool, connect_failed: bool, now: Instant) {
        let slot = self.slot(sender);
        if !connect_failed && !probe && !slot.failing.load(Ordering::Relaxed) {
            return;
        }
        let mut gate = self.gate(sender);
        if probe {
            gate.probing = false;
        }
        if connect_failed {
            let wait = gate
                .backoff
                .map_or(BACKOFF_FIRST, |last| (last * 2).min(BACKOFF_MAX));
            gate.backoff = Some(wait);
            gate.open_at = Some(now + wait);
        } else {
            gate.backoff = None;
            gate.open_at = None;
        }
        slot.failing
            .store(gate.backoff.is_some(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_failing_connection_has_one_probe_and_a_doubling_wait() {
        let gates = ConnectGates::new(2);
        let t0 = Instant::now();
        // Senders 0 and 2 share connection 0; sender 1 has connection 1.
        assert_eq!(gates.pass(0, t0), Pass::Go { probe: false });
        gates.settle(0, false, true, t0);
        assert_eq!(gates.pass(2, t0), Pass::WaitUntil(t0 + BACKOFF_FIRST));
        assert_eq!(gates.pass(1, t0), Pass::Go { probe: false }, "its own");
        let t1 = t0 + BACKOFF_FIRST;
        assert_eq!(gates.pass(2, t1), Pass::Go { probe: true });
        assert_eq!(
            gates.pass(0, t1),
            Pass::WaitUntil(t1 + PROBE_POLL),
            "one probe at a time"
        );
        gates.settle(2, true, true, t1);
        assert_eq!(gates.pass(0, t1), Pass::WaitUntil(t1 + 2 * BACKOFF_FIRST));
        let mut at = t1;
        for _ in 0..10 {
            at += BACKOFF_MAX;
            assert!(matches!(gates.pass(0, at), Pass::Go { probe: true }));
            gates.settle(0, true, true, at);
        }
        assert_eq!(
            gates.pass(0, at),
            Pass::WaitUntil(at + BACKOFF_MAX),
            "capped"
        );
        at += BACKOFF_MAX;
        assert!(matches!(gates.pass(0, at), Pass::Go { probe: true }));
        gates.settle(0, true, false, at);
        assert_eq!(
            gates.pass(2, at),
            Pass::Go { probe: false },
            "healthy again"
        );
    }
}
