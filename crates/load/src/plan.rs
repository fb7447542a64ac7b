//! A load plan is validated once, when it is built; afterwards it cannot
//! hold an invalid state (no users model without a duration, no zero
//! concurrency), so the engine never checks options again.

use std::time::Duration;

use serde::Serialize;
use wirebench_proto::vocab::{LoadModel, StopAt};

use crate::engine::pacer::Pacing;
use crate::schedule::Schedule;
use crate::shard::Shard;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    #[error("{0} must be a positive number")]
    NotPositive(&'static str),
    #[error("the users model runs for a duration: give -t/--duration, not -n")]
    UsersNeedDuration,
    #[error("a duration of 0 s measures nothing")]
    EmptyDuration,
    #[error("{connections} connections for {senders} senders: at most one connection per sender")]
    MoreConnectionsThanSenders { connections: u32, senders: u32 },
    #[error(
        "a schedule changes the open loop's rate (--rate-schedule) or the concurrency (--concurrency-schedule), not the users model"
    )]
    ScheduleForUsers,
    #[error(
        "agent {shard} would have nothing to do: {what} {total} shared by {agents} agents gives it none (give at least {agents})",
        agents = shard.count
    )]
    EmptyShard {
        shard: Shard,
        what: &'static str,
        total: u64,
    },
    #[error("--skip-first {skip} would skip every one of the {requests} requests (-n)")]
    SkipsEveryRequest { skip: u64, requests: u64 },
}

/// Everything that shapes a run, validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadPlan {
    model: LoadModel,
    stop: StopAt,
    #[serde(rename = "warmup_s", with = "wirebench_proto::vocab::seconds")]
    warmup: Duration,
    #[serde(rename = "timeout_s", with = "wirebench_proto::vocab::seconds")]
    timeout: Duration,
    connections: u32,
    /// The rate (open loop) or the concurrency (closed loop) over the
    /// run; the model then holds its peak.
    #[serde(skip_serializing_if = "Option::is_none")]
    schedule: Option<Schedule>,
    /// The part of the plan this agent runs; the model, the stop and the
    /// connections above are the whole plan's.
    #[serde(skip_serializing_if = "Shard::is_whole")]
    shard: Shard,
    /// How the open loop's due times reach the senders: precise, except
    /// on tokio's paused clock (tests).
    #[serde(skip)]
    pacing: Pacing,
    /// ghz's `--skipFirst`: the window's first requests, sent and checked
    /// but not tallied (the whole plan's count; see [`LoadPlan::skip_first`]).
    #[serde(skip_serializing_if = "is_zero")]
    skip_first: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl LoadPlan {
    pub fn new(
        model: LoadModel,
        stop: StopAt,
        warmup: Duration,
        timeout: Duration,
        connections: u32,
    ) -> Result<Self, PlanError> {
        match model {
            LoadModel::Users {
                users,
                spawn_rate_per_s,
            } => {
                nonzero(users, "--users")?;
                positive(spawn_rate_per_s, "--spawn-rate")?;
                if matches!(stop, StopAt::Requests(_)) {
                    return Err(PlanError::UsersNeedDuration);
                }
            }
            LoadModel::Fixed { concurrency } => nonzero(concurrency, "--concurrency")?,
            LoadModel::Rate {
                rate_per_s,
                max_in_flight,
            } => {
                positive(rate_per_s, "--rate")?;
                nonzero(max_in_flight, "--concurrency (most requests in flight)")?;
            }
        }
        match stop {
            StopAt::Requests(n) => nonzero(n, "--requests")?,
            StopAt::Duration(d) if d.is_zero() => return Err(PlanError::EmptyDuration),
            StopAt::Duration(_) => {}
        }
        if timeout.is_zero() {
            return Err(PlanError::NotPositive("--timeout"));
        }
        nonzero(connections, "--connections")?;
        if connections > model.senders() {
            return Err(PlanError::MoreConnectionsThanSenders {
                connections,
                senders: model.senders(),
            });
        }
        Ok(Self {
            model,
            stop,
            warmup,
            timeout,
            connections,
            schedule: None,
            shard: Shard::WHOLE,
            pacing: Pacing::Precise,
            skip_first: 0,
        })
    }

    /// The same plan, of which this agent runs the part `shard` (see
    /// [`crate::shard`]). Refused when the agent would get no sender or no
    /// request.
    pub fn sharded(self, shard: Shard) -> Result<Self, PlanError> {
        let empty = |what: &'static str, total: u64| {
            (shard.share(total) == 0).then_some(PlanError::EmptyShard { shard, what, total })
        };
        let senders = match self.model {
            LoadModel::Users { .. } => "--users",
            LoadModel::Fixed { .. } => "--concurrency",
            LoadModel::Rate { .. } => "--concurrency (most requests in flight)",
        };
        let requests = match self.stop {
            StopAt::Requests(n) => empty("--requests", n),
            StopAt::Duration(_) => None,
        };
        if let Some(error) = empty(senders, u64::from(self.model.senders())).or(requests) {
            return Err(error);
        }
        Ok(Self { shard, ..self })
    }

    pub fn shard(&self) -> Shard {
        self.shard
    }

    /// This agent's senders (users, concurrency, or most in flight).
    pub fn senders(&self) -> u32 {
        self.share(self.model.senders())
    }

    /// This agent's requests when the run stops at a count.
    pub fn requests(&self) -> Option<u64> {
        match self.stop {
            StopAt::Requests(n) => Some(self.shard.share(n)),
            StopAt::Duration(_) => None,
        }
    }

    /// The same plan with its rate (open loop) or concurrency (closed
    /// loop) following `schedule`; the model's rate or concurrency should
    /// be the schedule's peak.
    pub fn with_schedule(self, schedule: Schedule) -> Result<Self, PlanError> {
        if matches!(self.model, LoadModel::Users { .. }) {
            return Err(PlanError::ScheduleForUsers);
        }
        Ok(Self {
            schedule: Some(schedule),
            ..self
        })
    }

    /// The same plan, whose window's first `skip` requests are sent and
    /// checked but not tallied (ghz's `--skipFirst`; `-n` counts them, as
    /// ghz's does). They are not a warm-up: the window's clock runs while
    /// they do, so `--warmup` is the flag for a warm-up the rate excludes.
    pub fn with_skip_first(self, skip: u64) -> Result<Self, PlanError> {
        if let StopAt::Requests(requests) = self.stop
            && skip >= requests
        {
            return Err(PlanError::SkipsEveryRequest { skip, requests });
        }
        Ok(Self {
            skip_first: skip,
            ..self
        })
    }

    /// This agent's share of `--skip-first`.
    pub fn skip_first(&self) -> u64 {
        self.shard.share(self.skip_first)
    }

    /// The same plan, paced by `pacing` (tests on tokio's paused clock
    /// need [`Pacing::Timer`]).
    pub fn with_pacing(self, pacing: Pacing) -> Self {
        Self { pacing, ..self }
    }

    pub fn pacing(&self) -> Pacing {
        self.pacing
    }

    pub fn schedule(&self) -> Option<Schedule> {
        self.schedule
    }

    pub fn model(&self) -> LoadModel {
        self.model
    }
    pub fn stop(&self) -> StopAt {
        self.stop
    }

    /// The model as a person reads it: "fixed: 50 in flight", or with
    /// fewer requests than senders, "fixed: 1 in flight (-c 50, 1
    /// request)": no more can be in flight than there are requests.
    pub fn describe_model(&self) -> String {
        match (self.model, self.stop) {
            (LoadModel::Fixed { concurrency }, StopAt::Requests(n))
                if n < u64::from(concurrency) =>
            {
                let s = if n == 1 { "" } else { "s" };
                format!("fixed: {n} in flight (-c {concurrency}, {n} request{s})")
            }
            (model, _) => model.to_string(),
        }
    }
    pub fn warmup(&self) -> Duration {
        self.warmup
    }
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    /// This agent's connections: its share of the plan's, and at least
    /// one.
    pub fn connections(&self) -> u32 {
        self.share(self.connections).max(1)
    }

    /// The connections of all the plan's agents together.
    pub fn connections_total(&self) -> u32 {
        (0..self.shard.count)
            .map(|index| {
                Shard {
                    index,
                    count: self.shard.count,
                }
                .share(u64::from(self.connections))
                .max(1) as u32
            })
            .sum()
    }

    fn share(&self, total: u32) -> u32 {
        u32::try_from(self.shard.share(u64::from(total))).expect("a share is at most its total")
    }
}

fn nonzero<T: PartialEq + Default>(value: T, name: &'static str) -> Result<(), PlanError> {
    if value == T::default() {
        Err(PlanError::Zero(name))
    } else {
        Ok(())
    }
}

fn positive(value: f64, name: &'static str) -> Result<(), PlanError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(PlanError::NotPositive(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn invalid_plans_are_refused() {
        let users = LoadModel::Users {
            users: 10,
            spawn_rate_per_s: 1.0,
        };
        assert_eq!(
            LoadPlan::new(users, StopAt::Requests(5), S, S, 1),
            Err(PlanError::UsersNeedDuration)
        );
        let fixed = LoadModel::Fixed { concurrency: 0 };
        assert!(LoadPlan::new(fixed, StopAt::Requests(5), S, S, 1).is_err());
        let fixed = LoadModel::Fixed { concurrency: 2 };
        assert!(matches!(
            LoadPlan::new(fixed, StopAt::Requests(5), S, S, 3),
            Err(PlanError::MoreConnectionsThanSenders { .. })
        ));
        let rate = LoadModel::Rate {
            rate_per_s: f64::NAN,
            max_in_flight: 1,
        };
        assert!(LoadPlan::new(rate, StopAt::Duration(S), S, S, 1).is_err());
        assert!(LoadPlan::new(fixed, StopAt::Duration(Duration::ZERO), S, S, 1).is_err());
        assert!(LoadPlan::new(fixed, StopAt::Requests(5), S, S, 2).is_ok());
    }
}
