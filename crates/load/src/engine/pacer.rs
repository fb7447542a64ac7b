//! The open loop's clock: which slot is due when, and how a due slot
//! reaches a sender on time.
//!
//! tokio's timer wheel has a resolution of one millisecond and its driver
//! waits in `epoll_wait`, whose timeout is in whole milliseconds: a
//! request slept for with `sleep_until(due)` leaves on average ~1.3 ms
//! late, and in the open loop that lateness is charged to the server
//! (latency is measured from the due time). So in real runs the due times
//! are released by a thread of their own ([`Pacing::Precise`]): it sleeps
//! with `clock_nanosleep(TIMER_ABSTIME)` at a timer slack of 1 ns (the
//! kernel's default slack is 50 us) and hands each slot to a waiting
//! sender through a semaphore, shortly before it falls due ([`LEAD`]); the
//! sender yields until the due time itself, so its tokio worker is awake
//! when the slot falls due (a parked worker takes tens of microseconds to
//! wake). A sender that takes a permit claims the next slot; slots are
//! released in order, so a claimed slot is always due within [`LEAD`]. The
//! thread sleeps between slots; the final wait costs the client at most
//! 10% of one core, which its CPU figures include.
//!
//! wrk2 does the same with a per-connection timer and usleep (its slack
//! unset); vegeta's pacer sleeps with Go's timer (its runtime netpoller,
//! microsecond resolution); k6's constant-arrival-rate executor starts
//! each iteration from a Go ticker. None records how late each send was;
//! wirebench does ([`crate::stats::Tally::lateness_us`]).
//!
//! Under tokio's paused clock (the engine's tests) time is tokio's alone,
//! so there [`Pacing::Timer`] sleeps with tokio's timer: the schedule
//! logic is the same function, [`Pacer::due`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::secs;
use crate::schedule::Schedule;
use crate::shard::Shard;

/// How the open loop's due times reach its senders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pacing {
    /// A thread of its own releases each slot at its due time, to within
    /// the kernel's timer resolution (microseconds).
    #[default]
    Precise,
    /// Each sender sleeps until its slot with tokio's timer (1 ms
    /// resolution): for tokio's paused clock only.
    Timer,
}

/// Hands out due times (open loop): at a constant rate, or where a rate
/// schedule's running count reaches each request. A schedule's clock
/// starts with the measured window; the warm-up holds its first rate.
#[derive(Debug)]
pub(super) struct Pacer {
    pub(super) start: Instant,
    /// Slots per second.
    pub(super) rate_per_s: f64,
    /// The schedule, the warm-up's length and how many requests it holds.
    pub(super) schedule: Option<(Schedule, Duration, u64)>,
    /// This agent's next slot, counted among its own.
    pub(super) next_slot: AtomicU64,
    /// A shard sends the slots j with j mod N = I.
    pub(super) shard: Shard,
}

impl Pacer {
    /// When this agent's `local`-th slot is due.
    pub(super) fn due(&self, local: u64) -> Instant {
        let slot = self.shard.global(local);
        match &self.schedule {
            Some((schedule, warmup, warm)) if slot >= *warm => {
                self.start + *warmup + secs(schedule.due_s(slot - warm))
            }
            Some((schedule, _, _)) => self.start + secs(slot as f64 / schedule.at(0.0)),
            // slot / rate, not slot x (1 / rate): R x D slots then fall
            // exactly before the end of a window of D seconds, not one more.
            None => self.start + secs(slot as f64 / self.rate_per_s),
        }
    }

    /// Claims the next slot: its due time.
    pub(super) fn claim(&self) -> Instant {
        self.due(self.next_slot.fetch_add(1, Ordering::Relaxed))
    }
}

/// The precise release: a thread that adds one permit per slot at its due
/// time. Dropping it stops the thread (within [`Release::CHECK`]) and
/// closes the semaphore, so no sender waits for a slot that will not come.
pub(super) struct Release {
    pub(super) permits: Arc<Semaphore>,
    stop: Arc<AtomicBool>,
}

/// How long before its due time a slot is handed to a sender, at most,
/// which then waits the rest without parking its worker thread
/// ([`Release::until`]): a parked tokio worker takes tens of microseconds
/// to wake (an eventfd write, then `epoll_wait` returning), more than the
/// lateness allowed. Never more than a tenth of the gap between two slots,
/// so the wait costs at most 10% of one core at any rate (where slots are
/// dense, the worker is busy and does not park anyway).
pub(super) const LEAD: Duration = Duration::from_millis(1);

/// How long after the run begins its first slot falls due: time to start
/// the senders, the pacer thread and the first connections' tasks.
pub(super) const SET_UP: Duration = Duration::from_millis(20);

impl Release {
    /// The thread looks at the stop flag at least this often.
    const CHECK: Duration = Duration::from_millis(50);

    /// Starts releasing `pacer`'s slots; the last is the one before
    /// `deadline` (none: until dropped). After the last, one more permit
    /// for each of the `senders`: each claims a slot past the deadline and
    /// stops. (Closing the semaphore instead would strand the permits of
    /// slots due while every sender was busy: a closed semaphore grants
    /// none.)
    pub(super) fn start(
        pacer: Arc<Pacer>,
        deadline: Option<Instant>,
        senders: usize,
    ) -> std::io::Result<Release> {
        let permits = Arc::new(Semaphore::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_permits, thread_stop) = (Arc::clone(&permits), Arc::clone(&stop));
        std::thread::Builder::new()
            .name("wirebench-pacer".into())
            .spawn(move || {
                set_timer_slack_ns(1);
                let mut local = 0u64;
                let mut previous: Option<Instant> = None;
                while !thread_stop.load(Ordering::Relaxed) {
                    let due = pacer.due(local);
                    if deadline.is_some_and(|end| due >= end) {
                        break;
                    }
                    // At most a tenth of the gap since the last slot: the
                    // final wait then takes at most 10% of a core.
                    let gap = previous.map_or(LEAD * 10, |p| due.saturating_duration_since(p));
                    previous = Some(due);
                    let lead = LEAD.min(gap / 10);
                    let release_at = due.into_std().checked_sub(lead).unwrap_or(due.into_std());
                    if !sleep_until(release_at, &thread_stop) {
                        break;
                    }
                    thread_permits.add_permits(1);
                    local += 1;
                }
                thread_permits.add_permits(senders);
            })?;
        Ok(Release { permits, stop })
    }

    /// Waits for the next slot, handed over up to [`LEAD`] before it is
    /// due; false when the run is over (the slot then claimed is past its
    /// deadline, which the caller checks).
    pub(super) async fn take(&self) -> bool {
        match self.permits.acquire().await {
            Ok(permit) => {
                permit.forget();
                true
            }
            Err(_) => false,
        }
    }

    /// The last stretch before `due`: the task yields until then, so its
    /// worker keeps running other tasks (answers still in flight) and
    /// never parks. At most [`LEAD`] per request, and a tenth of the time
    /// between requests: up to 10% of one core.
    pub(super) async fn until(due: Instant) {
        while Instant::now() < due {
            tokio::task::yield_now().await;
        }
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.permits.close();
    }
}

/// The calling thread's timer slack: how late the kernel may wake it to
/// batch wake-ups (50 us by default).
fn set_timer_slack_ns(ns: libc::c_ulong) {
    // SAFETY: PR_SET_TIMERSLACK takes one integer and changes only this
    // thread's slack; a failure leaves the default, which is still correct.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, ns, 0, 0, 0);
    }
}

/// Sleeps until `until` on CLOCK_MONOTONIC (std's `Instant` clock on
/// Linux), waking at least every [`Release::CHECK`] to look at `stop`;
/// false when stopped.
fn sleep_until(until: std::time::Instant, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = std::time::Instant::now();
        let Some(left) = until.checked_duration_since(now).filter(|d| !d.is_zero()) else {
            return true;
        };
        if left > Release::CHECK {
            std::thread::sleep(Release::CHECK);
            continue;
        }
        // An absolute wake-up: the time spent computing it is not added.
        let mut target = monotonic_now();
        let nanos = target.tv_nsec as u128 + left.as_nanos();
        target.tv_sec += (nanos / 1_000_000_000) as libc::time_t;
        target.tv_nsec = (nanos % 1_000_000_000) as libc::c_long;
        // SAFETY: `target` is a valid timespec; the remainder is unused
        // with TIMER_ABSTIME. EINTR just loops.
        unsafe {
            libc::clock_nanosleep(
                libc::CLOCK_MONOTONIC,
                libc::TIMER_ABSTIME,
                &target,
                std::ptr::null_mut(),
            );
        }
    }
}

fn monotonic_now() -> libc::timespec {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: CLOCK_MONOTONIC always exists; `now` is a valid out pointer.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now);
    }
    now
}
