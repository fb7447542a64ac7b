//! `bench --find-capacity --slo 'p99<50ms,errors<0.1%'`: per stack, the
//! highest open-loop rate that meets the SLO, with the lowest that misses
//! it (the capacity lies between: its interval). Rates double from the
//! start until a rate misses (the ramp), then the gap between the highest
//! rate met and the lowest missed is halved, geometrically, until it is
//! within 5% (the bisection).
//!
//! Every rate is *decided*, not just run once: one lucky or unlucky step
//! on a noisy machine (a 40 ms stall anywhere in a 4 s window is 1% of it,
//! and moves p99) would otherwise steer the search, and two searches
//! minutes apart found capacities 2x apart. A rate that met every term
//! with a margin of 2x is decided by that run; any other by two runs that
//! agree, or else by the majority of three. Each step (a trial at one
//! rate: fresh servers, a warm-up, a window) holds at least
//! [`MIN_STEP_REQUESTS`] requests unless `-t` was given, so its p99 rests
//! on ten samples above it or more. A step meets the SLO when every term holds and at least 95%
//! of the offered requests were answered well in the window (the rate was
//! sustained). Latency is from the intended send time, and the pacer sends
//! on time (lateness recorded per step), so a server that falls behind
//! shows it at once.
//!
//! At the lowest rate missed, the limit is named truthfully: the load
//! generator when in a run of it the client had no CPU to spare or sent
//! late (the capacity is then a floor); the server only when its CPU set
//! was saturated in every run of it while the generator was on time;
//! otherwise "unclear".

use std::time::Duration;

use wirebench_load::{LoadModel, LoadPlan, StopAt};
use wirebench_report::capacity::{Capacity, CapacityStep, SUSTAINED_SHARE};
use wirebench_report::threshold::Threshold;

pub use super::settings::CapacitySearch;
use super::trials::TrialPlan;
use crate::args::{BenchArgs, LoadArgs};
use crate::signals::Cancel;
use wirebench_report::label::stack_label;

/// The SLO when `--slo` is not given.
pub const DEFAULT_SLO: &str = "p99<50ms,error_rate<0.1%";
pub const DEFAULT_START_RPS: f64 = 200.0;
pub const DEFAULT_STEP: Duration = Duration::from_secs(4);
pub const DEFAULT_WARMUP: Duration = Duration::from_secs(1);
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 200;
/// The bisection stops when the gap is within this ratio.
const PRECISION: f64 = 1.05;
/// No search decides more rates than this, or goes past this rate.
const MAX_DECISIONS: usize = 20;
const MAX_RPS: f64 = 2_000_000.0;
/// A step's window is long enough for this many requests, unless `-t`
/// was given: p99 then rests on ten samples above it or more.
pub const MIN_STEP_REQUESTS: f64 = 1_000.0;
/// A run that met every term with this margin decides its rate alone.
const CLEAR_MARGIN: f64 = 2.0;

/// `--find-capacity`: the search's settings, from the flags or defaults.
pub fn resolve(args: &BenchArgs, load: &LoadArgs) -> anyhow::Result<Option<CapacitySearch>> {
    if !args.find_capacity {
        return Ok(None);
    }
    anyhow::ensure!(
        !args.profile,
        "--profile profiles trials, not the steps of --find-capacity"
    );
    anyhow::ensure!(
        load.users.is_none() && load.requests.is_none(),
        "--find-capacity runs the open loop for -t per step: not with -u or -n"
    );
    let slo = match &args.slo {
        Some(slo) => slo.0.clone(),
        None => wirebench_report::threshold::parse_list(DEFAULT_SLO).expect("the default parses"),
    };
    anyhow::ensure!(!slo.is_empty(), "--slo has no term: e.g. --slo 'p99<50ms'");
    Ok(Some(CapacitySearch {
        slo,
        start_rps: load.rate.unwrap_or(DEFAULT_START_RPS),
        step: load.duration.unwrap_or(DEFAULT_STEP),
        lengthen_steps: load.duration.is_none(),
        warmup: load.warmup.unwrap_or(DEFAULT_WARMUP),
        max_in_flight: load.concurrency.unwrap_or(DEFAULT_MAX_IN_FLIGHT),
        timeout_s: load
            .timeout
            .unwrap_or(crate::settings::DEFAULT_TIMEOUT)
            .as_secs_f64(),
    }))
}

/// Searches `plan`'s stack; every step runs through `run_step`.
pub async fn search(
    search: &CapacitySearch,
    plan: &TrialPlan,
    cancel: &Cancel,
    mut run_step: impl AsyncFnMut(&TrialPlan) -> anyhow::Result<wirebench_report::Trial>,
) -> anyhow::Result<Capacity> {
    let label = stack_label(plan.deployment.stack, plan.variant.as_deref());
    let mut steps: Vec<CapacityStep> = Vec::new();
    let mut course = Course::default();
    let mut rate = search.start_rps;
    let mut decided = 0;
    let mut finished = false;
    while decided < MAX_DECISIONS && !cancel.is_cancelled() {
        let step_plan = TrialPlan {
            load: step_load(search, plan, rate)?,
            ..plan.clone()
        };
        let mut runs: Vec<CapacityStep> = Vec::new();
        let met = loop {
            let trial = run_step(&step_plan).await?;
            if trial.interrupted {
                break None;
            }
            let (mut step, clear) = judge(&search.slo, rate, &trial);
            step.run = runs.len() as u32 + 1;
            print_step(&label, &step, clear);
            runs.push(step);
            let votes: Vec<bool> = runs.iter().map(|r| r.met).collect();
            match votes[..] {
                [true] if clear => break Some(true),
                [a, b] if a == b => break Some(a),
                [_, _, _] => break Some(votes.iter().filter(|&&v| v).count() >= 2),
                _ => {}
            }
        };
        let Some(met) = met else {
            steps.extend(runs);
            break;
        };
        decided += 1;
        if !met {
            course.limit = limit_of(&runs);
        }
        steps.extend(runs);
        match course.next(rate, met) {
            Some(next) if (1.0..=MAX_RPS).contains(&next) => rate = next,
            Some(_) => break,
            None => {
                finished = true;
                break;
            }
        }
    }
    Ok(Capacity {
        label,
        slo: search.slo.iter().map(ToString::to_string).collect(),
        capacity_rps: course.met,
        missed_rps: course.missed,
        confirmed: finished && course.met.is_some(),
        limited_by: course.missed.map(|_| course.limit.clone()),
        steps,
    })
}

/// "rest: 2000 req/s offered: met (p99 1.2 ms, 1999.8 req/s answered
/// well)".
fn print_step(label: &str, step: &CapacityStep, clear: bool) {
    println!(
        "{label}: {} req/s offered, run {}: {}{} (p99 {}, {:.1} req/s answered well{}{})",
        step.offered_rps.round(),
        step.run,
        if step.met { "met" } else { "missed" },
        if clear { " with margin" } else { "" },
        wirebench_report::format::latency_us(step.p99_us),
        step.achieved_rps,
        step.lateness_p99_us.map_or(String::new(), |late| format!(
            ", sent late p99 {}",
            wirebench_report::format::latency_us(late)
        )),
        if step.failed.is_empty() {
            String::new()
        } else {
            format!("; failed: {}", step.failed.join(", "))
        }
    );
}

/// What limited a rate decided as missed, from its runs.
fn limit_of(runs: &[CapacityStep]) -> String {
    let missed: Vec<&CapacityStep> = runs.iter().filter(|r| !r.met).collect();
    if missed.iter().any(|r| r.client_bound || r.generator_late) {
        "load generator".to_owned()
    } else if !missed.is_empty() && missed.iter().all(|r| r.server_saturated) {
        "server".to_owned()
    } else {
        "unclear".to_owned()
    }
}

/// Where the search goes next: the ramp, then the bisection.
#[derive(Debug, Default)]
struct Course {
    /// The highest rate met (the floor), the lowest missed (the ceiling).
    met: Option<f64>,
    missed: Option<f64>,
    /// What limited the lowest rate missed.
    limit: String,
}

impl Course {
    /// Takes the decision at `rate`; the next rate, or None when the gap
    /// is within [`PRECISION`] (the capacity is `met`).
    fn next(&mut self, rate: f64, met: bool) -> Option<f64> {
        if met {
            self.met = Some(self.met.map_or(rate, |m| m.max(rate)));
        } else {
            self.missed = Some(self.missed.map_or(rate, |m| m.min(rate)));
        }
        match (self.met, self.missed) {
            // The ramp: up while rates are met, down while none is.
            (Some(low), None) => Some(low * 2.0),
            (None, Some(high)) => Some(high / 2.0),
            // Whole requests per second: the rates are read by people.
            (Some(low), Some(high)) if high / low > PRECISION => Some((low * high).sqrt().round()),
            _ => None,
        }
    }
}

/// The open-loop plan of one step at `rate`.
fn step_load(search: &CapacitySearch, plan: &TrialPlan, rate: f64) -> anyhow::Result<LoadPlan> {
    let window = match search.lengthen_steps {
        true => search
            .step
            .max(Duration::from_secs_f64(MIN_STEP_REQUESTS / rate)),
        false => search.step,
    };
    Ok(LoadPlan::new(
        LoadModel::Rate {
            rate_per_s: rate,
            max_in_flight: search.max_in_flight,
        },
        StopAt::Duration(window),
        search.warmup,
        Duration::from_secs_f64(search.timeout_s),
        plan.deployment
            .stack
            .default_connections(search.max_in_flight),
    )?)
}

/// How one step fared against the SLO, and whether it kept up; and
/// whether it met every term with a margin of [`CLEAR_MARGIN`] (then it
/// decides its rate alone).
fn judge(slo: &[Threshold], rate: f64, trial: &wirebench_report::Trial) -> (CapacityStep, bool) {
    let outcomes: Vec<_> = slo.iter().map(|t| (t, t.check(trial))).collect();
    let mut failed: Vec<String> = outcomes
        .iter()
        .filter(|(_, outcome)| !outcome.passed)
        .map(|(_, outcome)| outcome.threshold.clone())
        .collect();
    if trial.throughput_rps < rate * SUSTAINED_SHARE {
        failed.push("sustained".to_owned());
    }
    let generator_late = wirebench_report::lateness::material(trial).is_some();
    let clear = failed.is_empty()
        && !generator_late
        && outcomes.iter().all(|(t, outcome)| {
            outcome
                .value
                .is_some_and(|v| t.holds_with_margin(v, CLEAR_MARGIN))
        });
    let step = CapacityStep {
        offered_rps: rate,
        achieved_rps: trial.throughput_rps,
        p99_us: trial.latency_us.p99,
        error_rate: trial.error_rate,
        server_cpu_percent: trial.costs.server_cpu_percent,
        client_bound: trial.costs.client_bound,
        server_saturated: trial.costs.server_saturated,
        lateness_p99_us: trial.send_lateness.as_ref().map(|l| l.lateness_us.p99),
        generator_late,
        run: 1,
        met: failed.is_empty(),
        failed,
    };
    (step, clear)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rates a search decides against `meets`, and what it finds.
    fn course(meets: impl Fn(f64) -> bool) -> (Vec<f64>, Option<f64>, Option<f64>) {
        let mut course = Course::default();
        let (mut rate, mut tried) = (100.0, Vec::new());
        while tried.len() < MAX_DECISIONS {
            let met = meets(rate);
            tried.push(rate);
            match course.next(rate, met) {
                Some(next) => rate = next,
                None => break,
            }
        }
        (tried, course.met, course.missed)
    }

    #[test]
    fn the_ramp_doubles_and_the_bisection_halves_to_within_five_percent() {
        let (tried, found, missed) = course(|rate| rate <= 1000.0);
        assert_eq!(&tried[..5], [100.0, 200.0, 400.0, 800.0, 1600.0]);
        let (found, missed) = (found.unwrap(), missed.unwrap());
        assert!((800.0..=1000.0).contains(&found), "{found}");
        assert!(missed > 1000.0, "{missed}");
        // The interval the module promises: within 5%.
        assert!(missed / found <= PRECISION, "{found}-{missed} {tried:?}");
        assert!(tried.len() < MAX_DECISIONS, "{tried:?}");
    }

    #[test]
    fn nothing_met_goes_down_and_finds_nothing() {
        let (tried, found, missed) = course(|_| false);
        assert_eq!(&tried[..3], [100.0, 50.0, 25.0]);
        assert_eq!(found, None);
        assert_eq!(missed, Some(tried[tried.len() - 1]));
    }

    fn step(met: bool, client_bound: bool, late: bool, saturated: bool) -> CapacityStep {
        CapacityStep {
            offered_rps: 1000.0,
            achieved_rps: 1000.0,
            p99_us: 1000,
            error_rate: 0.0,
            server_cpu_percent: 50.0,
            client_bound,
            server_saturated: saturated,
            lateness_p99_us: Some(10),
            generator_late: late,
            run: 1,
            met,
            failed: Vec::new(),
        }
    }

    #[test]
    fn the_limit_is_the_server_only_when_it_was_saturated_and_the_generator_on_time() {
        let saturated = step(false, false, false, true);
        assert_eq!(limit_of(&[saturated.clone(), saturated.clone()]), "server");
        // One run of it had a late generator: it cannot be the server's.
        let late = step(false, false, true, true);
        assert_eq!(limit_of(&[saturated.clone(), late]), "load generator");
        let bound = step(false, true, false, false);
        assert_eq!(limit_of(&[bound, saturated.clone()]), "load generator");
        // Missed with both sides idle: noise, or not CPU.
        let idle = step(false, false, false, false);
        assert_eq!(limit_of(&[idle, saturated]), "unclear");
        // Met runs of a rate decided as missed say nothing of its limit.
        let met_late = step(true, false, true, false);
        let saturated = step(false, false, false, true);
        assert_eq!(
            limit_of(&[met_late, saturated.clone(), saturated]),
            "server"
        );
    }
}
