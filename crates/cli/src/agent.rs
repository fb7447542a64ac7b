//! Running as one of N load agents: which part of the plan this agent
//! runs (`--shard I/N` or `auto/N`, see [`wirebench_load::shard`]) and
//! when every agent starts (`--start-at` a wall-clock instant, or
//! `--start-in` a delay from now). Agents share nothing but the plan and
//! the start time, so no coordinator is needed: a Kubernetes Indexed Job
//! (`wirebench k8s`) or N shells start them, and `wirebench merge` adds
//! up what they measured.

use std::time::{Duration, SystemTime};

use anyhow::bail;
use clap::Args;
use wirebench_load::shard::ShardError;
use wirebench_load::{Shard, ShardSpec};
use wirebench_report::Agent;

use crate::signals::Cancel;

#[derive(Debug, Args, Clone, Default)]
pub struct AgentArgs {
    /// Run agent I's part of a plan run by N agents (I from 0): the open
    /// loop's slots j with j mod N = I, the users k with k mod N = I, and
    /// a 1/N share of -c, -n and connections. auto/N reads I from
    /// JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it).
    #[arg(long, value_name = "I/N", help_heading = "Agents")]
    pub shard: Option<ShardSpec>,
    /// Start the plan at this wall-clock instant, RFC 3339 UTC (e.g.
    /// 2026-12-02T14:00:00Z), as every agent does; refused once passed.
    #[arg(long, value_name = "TIME", value_parser = start_time, conflicts_with = "start_in", help_heading = "Agents")]
    pub start_at: Option<SystemTime>,
    /// Start the plan this long from now (e.g. 30s).
    #[arg(long, value_name = "DURATION", value_parser = crate::numbers::duration, help_heading = "Agents")]
    pub start_in: Option<Duration>,
}

fn start_time(text: &str) -> Result<SystemTime, String> {
    humantime::parse_rfc3339_weak(text)
        .map_err(|e| format!("'{text}' is not an RFC 3339 time like 2026-12-02T14:00:00Z: {e}"))
}

impl AgentArgs {
    /// This agent's part of the plan; the whole plan without --shard.
    pub fn shard(&self) -> Result<Shard, ShardError> {
        match self.shard {
            None => Ok(Shard::WHOLE),
            Some(spec) => spec.resolve(|name| std::env::var(name).ok()),
        }
    }

    /// When the plan starts, if told: refused when the time has passed,
    /// or is more than [`MAX_START_WAIT`] away (a typo, not a plan).
    pub fn start(&self) -> anyhow::Result<Option<SystemTime>> {
        let start = match (self.start_at, self.start_in) {
            (Some(at), _) => at,
            (None, Some(delay)) => SystemTime::now() + delay,
            (None, None) => return Ok(None),
        };
        if let Err(passed) = start.duration_since(SystemTime::now()) {
            bail!(
                "--start-at {} passed {:.1} s ago: this agent would start late and its part would not line up with the others'; give a time to come",
                humantime::format_rfc3339_millis(start),
                passed.duration().as_secs_f64()
            );
        }
        if start.duration_since(SystemTime::now()).unwrap_or_default() > MAX_START_WAIT {
            bail!(
                "the start is more than {} h away: an agent waits at most that long (give --start-at or --start-in within it)",
                MAX_START_WAIT.as_secs() / 3600
            );
        }
        Ok(Some(start))
    }
}

/// The longest an agent waits for its start: a day.
pub const MAX_START_WAIT: Duration = Duration::from_secs(24 * 3600);

/// Waits until `start` (when given), or until a signal cancels the run,
/// and says how late the plan then begins, milliseconds (None when it
/// was cancelled: the run then ends at once, with what it has).
pub async fn wait_for(start: Option<SystemTime>, cancel: &Cancel) -> Option<f64> {
    let start = start?;
    if let Ok(left) = start.duration_since(SystemTime::now()) {
        tokio::select! {
            () = tokio::time::sleep(left) => {}
            () = cancel.cancelled() => return None,
        }
    }
    let late = SystemTime::now()
        .duration_since(start)
        .unwrap_or(Duration::ZERO);
    Some(late.as_secs_f64() * 1e3)
}

/// This agent as a result lists it, when the plan is sharded.
pub fn describe(shard: Shard, lateness_ms: Option<f64>, started_at: String) -> Option<Agent> {
    (!shard.is_whole()).then(|| Agent {
        index: shard.index,
        count: shard.count,
        host: host_name(),
        started_at,
        start_lateness_ms: lateness_ms,
        ..Agent::default()
    })
}

/// The host's name (a pod's name in Kubernetes).
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|name| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
