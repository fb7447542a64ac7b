//! The request and byte counters `serve --metrics` exposes
//! ([`crate::metrics`]), for every stack alike: a relaxed atomic add per
//! request and per socket write. They belong to one server: its options
//! carry them ([`crate::ServeOptions::counters`]), and its tasks find
//! them in their scope ([`crate::task`]), as they find its JSON codec. A
//! server nobody observes has none and pays one task-local read per
//! count; the metrics endpoint's own answers are not counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// One server's counts.
#[derive(Debug, Default)]
pub struct Counters {
    requests: AtomicU64,
    bytes_written: AtomicU64,
}

impl Counters {
    /// Requests handled (answered or refused).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Bytes written to client connections (before TLS).
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written.load(Ordering::Relaxed)
    }
}

tokio::task_local! {
    pub(crate) static SCOPED: Option<Arc<Counters>>;
}

/// Counts one request handled (answered or refused) by the server this
/// runs in, if it counts.
pub fn count_request() {
    let _ = SCOPED.try_with(|counters| {
        if let Some(counters) = counters {
            counters.requests.fetch_add(1, Ordering::Relaxed);
        }
    });
}

/// Counts bytes written to a client's connection by the server this runs
/// in, if it counts.
pub fn count_written(bytes: usize) {
    let _ = SCOPED.try_with(|counters| {
        if let Some(counters) = counters {
            counters
                .bytes_written
                .fetch_add(bytes as u64, Ordering::Relaxed);
        }
    });
}
