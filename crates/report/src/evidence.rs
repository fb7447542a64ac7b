//! When a trial holds enough evidence for its figures to be compared
//! (docs/result-format.md, "When figures are compared").
//!
//! A ratio of two throughputs, or of two CPU costs, means something only
//! when each side measured enough: a 40 ms window of 200 requests is
//! mostly its own start and end, and two readings of a process CPU clock
//! are each exact only to one scheduler tick of a thread running at that
//! moment. The rule, in one place:
//! - **throughput**: a window of at least [`MIN_WINDOW_S`] and at least
//!   [`MIN_REQUESTS`] good responses;
//! - **server CPU**: at least [`MIN_SERVER_CPU_S`] of server CPU time over
//!   the window ([`MIN_SERVER_CPU_S_TICKS`] when CPU time was read from
//!   /proc's 10 ms ticks): two readings off by up to a scheduler tick
//!   (4 ms at HZ 250) each are then within ~3% of it (ticks: 1%).
//!
//! A trial short of it is "too short to compare", with how long a run
//! would be ([`Shortfall::advice`]).

use wirebench_probe::CpuClock;

use crate::model::Trial;

pub const MIN_WINDOW_S: f64 = 1.0;
pub const MIN_REQUESTS: u64 = 100;
pub const MIN_SERVER_CPU_S: f64 = 0.25;
pub const MIN_SERVER_CPU_S_TICKS: f64 = 2.0;

/// What a trial lacks for a comparison, and the window that would do.
#[derive(Debug, Clone, PartialEq)]
pub struct Shortfall {
    /// "a 0.04 s window and 200 requests", "0.09 s of server CPU".
    pub had: String,
    /// The shortest window, seconds, at this trial's rates, that would
    /// hold enough.
    pub needed_s: f64,
}

impl Shortfall {
    /// "run -t 3s or longer".
    pub fn advice(&self) -> String {
        format!("run -t {}s or longer", self.needed_s.ceil().max(1.0))
    }
}

/// Whether `trial`'s throughput can be compared.
pub fn throughput(trial: &Trial) -> Result<(), Shortfall> {
    if trial.duration_s >= MIN_WINDOW_S && trial.requests_ok >= MIN_REQUESTS {
        return Ok(());
    }
    let for_requests = match trial.throughput_rps {
        rps if rps > 0.0 => MIN_REQUESTS as f64 / rps,
        _ => f64::INFINITY,
    };
    Err(Shortfall {
        had: format!(
            "a {:.2} s window and {} good responses",
            trial.duration_s, trial.requests_ok
        ),
        needed_s: for_requests.max(MIN_WINDOW_S) * 1.1,
    })
}

/// Whether `trial`'s server CPU cost can be compared: None when its
/// servers were not measured at all.
pub fn server_cpu(trial: &Trial) -> Option<Result<(), Shortfall>> {
    let servers: Vec<_> = trial
        .processes
        .iter()
        .filter(|p| !p.role.is_client())
        .collect();
    let (cpu_s, ticks) = if servers.is_empty() {
        if trial.server_metrics.is_empty() {
            return None;
        }
        // Metrics endpoints' process_cpu_seconds_total (wirebench's reads
        // the process clock).
        (trial.server_metrics.iter().map(|s| s.cpu_s).sum(), false)
    } else {
        let ticks = servers
            .iter()
            .any(|p| p.cpu_clock != Some(CpuClock::ProcessClock));
        (servers.iter().map(|p| p.cpu_s()).sum::<f64>(), ticks)
    };
    let min = if ticks {
        MIN_SERVER_CPU_S_TICKS
    } else {
        MIN_SERVER_CPU_S
    };
    if cpu_s >= min {
        return Some(Ok(()));
    }
    let per_s = cpu_s / trial.duration_s.max(1e-9);
    Some(Err(Shortfall {
        had: format!(
            "{:.3} s of server CPU{}",
            cpu_s,
            if ticks { " read in 10 ms ticks" } else { "" }
        ),
        needed_s: if per_s > 0.0 {
            min / per_s * 1.1
        } else {
            f64::INFINITY
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::trial_fixture;

    #[test]
    fn a_short_trial_is_too_short_and_says_how_long_would_do() {
        let mut t = trial_fixture();
        t.duration_s = 0.04;
        t.requests_ok = 200;
        t.throughput_rps = 5_000.0;
        let short = throughput(&t).unwrap_err();
        assert!(short.had.contains("0.04 s"), "{short:?}");
        // 1 s, +10%.
        assert_eq!(short.advice(), "run -t 2s or longer");
        t.duration_s = 10.0;
        t.requests_ok = 50_000;
        assert_eq!(throughput(&t), Ok(()));
        // A long but sparse window: 50 requests in 10 s.
        t.requests_ok = 50;
        t.throughput_rps = 5.0;
        assert_eq!(throughput(&t).unwrap_err().advice(), "run -t 22s or longer");
    }

    #[test]
    fn server_cpu_needs_a_quarter_second_or_two_seconds_of_ticks() {
        let mut t = trial_fixture();
        t.duration_s = 1.0;
        let server = t
            .processes
            .iter_mut()
            .find(|p| !p.role.is_client())
            .expect("the fixture probes its server");
        server.cpu_user_s = 0.1;
        server.cpu_system_s = 0.0;
        server.cpu_clock = Some(CpuClock::ProcessClock);
        let short = server_cpu(&t).unwrap().unwrap_err();
        // 0.1 s per second of window: 2.5 s would hold 0.25 s (+10%).
        assert_eq!(short.advice(), "run -t 3s or longer");
        let server = t
            .processes
            .iter_mut()
            .find(|p| !p.role.is_client())
            .unwrap();
        server.cpu_user_s = 0.3;
        assert_eq!(server_cpu(&t), Some(Ok(())));
        // The same from ticks is not enough.
        let server = t
            .processes
            .iter_mut()
            .find(|p| !p.role.is_client())
            .unwrap();
        server.cpu_clock = None;
        assert!(server_cpu(&t).unwrap().unwrap_err().had.contains("ticks"));
        t.processes.clear();
        assert_eq!(server_cpu(&t), None);
    }
}
