//! The request and byte counters `serve --metrics` exposes
//! ([`crate::metrics`]). They count only in a process that serves them
//! ([`enable`]), for every stack alike: a relaxed atomic add per request
//! and per socket write on one shared cache line, which a process nobody
//! observes need not pay (there, each costs one uncontended load of a
//! flag). They are the process's, as its CPU seconds and resident memory
//! are: one process serves one stack, and the scrape reads them beside
//! /proc's figures.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static COUNTING: AtomicBool = AtomicBool::new(false);
pub(crate) static REQUESTS: AtomicU64 = AtomicU64::new(0);
pub(crate) static BYTES_WRITTEN: AtomicU64 = AtomicU64::new(0);

/// Starts the counters: called before serving, when `--metrics` is given.
pub fn enable() {
    COUNTING.store(true, Ordering::Relaxed);
}

/// Counts one request handled (answered or refused).
pub fn count_request() {
    if COUNTING.load(Ordering::Relaxed) {
        REQUESTS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts bytes written to a client's connection.
pub fn count_written(bytes: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        BYTES_WRITTEN.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}
