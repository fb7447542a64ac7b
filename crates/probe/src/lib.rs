//! The probe: what each process of a benchmark costs, read from /proc, and
//! where it runs.
//!
//! Window totals (CPU seconds) come from each process's CPU clock read at
//! the start and the end of the measured window, never from summing
//! samples: nanoseconds, every thread counted, exited ones too
//! ([`CpuClock`]; /proc's ticks only as a named fallback). Samples (every 250 ms by default) give the
//! per-second timeline, the RSS average and peak and the thread count. The
//! probe runs on its own OS thread so that a saturated async runtime cannot
//! delay its readings.

pub mod cpuset;
pub mod sampler;

pub use cpuset::{CpuSet, CpuSetError};
pub use sampler::{
    CpuClock, Probe, ProbeReport, ProcessNow, ProcessPoint, ProcessRole, ProcessUsage, Watched,
    process_now,
};

/// How often the kernel's per-process CPU counters tick (USER_HZ): CPU
/// times from /proc are exact to one tick.
pub fn ticks_per_second() -> u64 {
    procfs::ticks_per_second()
}
