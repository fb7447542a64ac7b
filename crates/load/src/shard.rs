//! One agent's part of a plan that N agents run together (`--shard I/N`),
//! with no coordinator: each agent derives its part from the plan alone.
//!
//! Agent I of N runs exactly the single-machine plan's work numbered I
//! modulo N, at the single plan's times: in the open loop the request
//! slots j with j mod N = I at their global due times; in the users model
//! the users k with k mod N = I at their global spawn times. A count that
//! cannot be numbered so (a concurrency, `-n`, connections) is shared as
//! evenly as it can be: floor(C/N), plus one for the agents I < C mod N.
//! The agents' parts then add up to the single plan exactly, and their
//! results can be merged losslessly (`wirebench merge`).
//!
//! `auto/N` takes I from `JOB_COMPLETION_INDEX`, which Kubernetes sets in
//! every pod of an Indexed Job.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The environment variable an Indexed Job sets to the pod's index.
pub const JOB_COMPLETION_INDEX: &str = "JOB_COMPLETION_INDEX";

/// Agent `index` of `count` (0 <= index < count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole plan, on one machine.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    pub fn new(index: u32, count: u32) -> Result<Shard, ShardError> {
        if count == 0 {
            return Err(ShardError::NoAgents);
        }
        if index >= count {
            return Err(ShardError::IndexOutOfRange { index, count });
        }
        Ok(Shard { index, count })
    }

    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    /// This agent's share of a count of `total`: floor(total / N), plus
    /// one for the agents below total mod N. The shares add up to `total`.
    pub fn share(&self, total: u64) -> u64 {
        let count = u64::from(self.count);
        total / count + u64::from(u64::from(self.index) < total % count)
    }

    /// The plan's number of this agent's `local`-th item (a slot of the
    /// open loop, a user, a sender): index + local x N.
    pub fn global(&self, local: u64) -> u64 {
        u64::from(self.index) + local * u64::from(self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `--shard` as written: `I/N`, or `auto/N` (I from the environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardSpec {
    Fixed(Shard),
    Auto { count: u32 },
}

impl ShardSpec {
    /// The shard, reading `JOB_COMPLETION_INDEX` through `env` for
    /// `auto/N`.
    pub fn resolve(self, env: impl Fn(&str) -> Option<String>) -> Result<Shard, ShardError> {
        match self {
            ShardSpec::Fixed(shard) => Ok(shard),
            ShardSpec::Auto { count } => {
                let value = env(JOB_COMPLETION_INDEX).ok_or(ShardError::NoIndex)?;
                let index = value
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| ShardError::BadIndex(value.clone()))?;
                Shard::new(index, count)
            }
        }
    }
}

impl FromStr for ShardSpec {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || ShardError::Malformed(text.to_owned());
        let (index, count) = text.split_once('/').ok_or_else(malformed)?;
        let count: u32 = count.trim().parse().map_err(|_| malformed())?;
        match index.trim() {
            "auto" => Shard::new(0, count).map(|_| ShardSpec::Auto { count }),
            index => {
                let index = index.parse().map_err(|_| malformed())?;
                Shard::new(index, count).map(ShardSpec::Fixed)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("'{0}' is not a shard: use I/N (agent I of N, from 0) or auto/N")]
    Malformed(String),
    #[error("a shard of 0 agents: N must be at least 1")]
    NoAgents,
    #[error("agent {index} of {count}: the index must be below {count} (agents count from 0)")]
    IndexOutOfRange { index: u32, count: u32 },
    #[error(
        "--shard auto/N reads the agent's index from {JOB_COMPLETION_INDEX} (set in every pod of a Kubernetes Indexed Job), and it is not set"
    )]
    NoIndex,
    #[error("{JOB_COMPLETION_INDEX}='{0}' is not an index (0, 1, 2, ...)")]
    BadIndex(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_and_differ_by_at_most_one() {
        for count in 1..=16u32 {
            for total in [0u64, 1, 7, 15, 16, 17, 100, 1001] {
                let shares: Vec<u64> = (0..count)
                    .map(|index| Shard::new(index, count).unwrap().share(total))
                    .collect();
                assert_eq!(shares.iter().sum::<u64>(), total, "{total} over {count}");
                let (min, max) = (shares.iter().min(), shares.iter().max());
                assert!(max.unwrap() - min.unwrap() <= 1, "{shares:?}");
            }
        }
    }

    #[test]
    fn the_agents_numbers_partition_the_plans() {
        for count in 1..=16u32 {
            let mut seen: Vec<u64> = (0..count)
                .flat_map(|index| {
                    let shard = Shard::new(index, count).unwrap();
                    (0..shard.share(1000)).map(move |k| shard.global(k))
                })
                .collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..1000).collect::<Vec<_>>(), "N = {count}");
        }
    }

    #[test]
    fn specs_parse_and_auto_reads_the_job_index() {
        let fixed: ShardSpec = "2/4".parse().unwrap();
        assert_eq!(fixed, ShardSpec::Fixed(Shard { index: 2, count: 4 }));
        let auto: ShardSpec = "auto/3".parse().unwrap();
        let env = |value: &'static str| {
            move |name: &str| (name == JOB_COMPLETION_INDEX).then(|| value.to_owned())
        };
        assert_eq!(auto.resolve(env("1")), Ok(Shard { index: 1, count: 3 }));
        assert_eq!(
            auto.resolve(env("3")),
            Err(ShardError::IndexOutOfRange { index: 3, count: 3 })
        );
        assert_eq!(
            auto.resolve(env("x")),
            Err(ShardError::BadIndex("x".into()))
        );
        assert_eq!(auto.resolve(|_: &str| None), Err(ShardError::NoIndex));
        for bad in ["4/4", "1/0", "a/2", "2", "auto/0", "-1/3"] {
            assert!(bad.parse::<ShardSpec>().is_err(), "{bad}");
        }
    }
}
