//! Which call of a mix each request makes, by the calls' weights: pure
//! logic, below both the engine (which picks) and the mixed client (which
//! sends).
//!
//! The pick is deterministic: request `k` of the whole plan picks by the
//! `k`-th point of a Weyl sequence (`frac(offset + k * phi)`, the offset
//! from `--seed`), whose points fall evenly over [0, 1): over N requests
//! each call's share is its weight's to within a few requests, not to
//! within a random draw's spread, and interleaved (no runs of one call).
//! A shard takes the whole plan's requests `k = i * count + index`, so the
//! agents of a sharded run together pick as one run would.

/// The fractional part of the golden ratio: the Weyl sequence's step.
const PHI_FRAC: f64 = 0.618_033_988_749_894_9;

/// Why a mix cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MixError {
    #[error("a mix needs at least one call")]
    Empty,
    #[error("call '{name}': the weight {weight} is not a positive number")]
    NotPositive { name: String, weight: f64 },
    #[error("two calls are named '{0}': each call's name must be its own")]
    Duplicate(String),
}

/// The calls' names and weights, and the pick of each request.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    names: Vec<String>,
    /// Each call's share of the requests, summing to 1.
    shares: Vec<f64>,
    /// The running sum of `shares`: call `i` is picked for a point in
    /// `[cumulative[i-1], cumulative[i])`.
    cumulative: Vec<f64>,
    offset: f64,
}

impl Weights {
    /// `calls` as (name, weight); the weights need not sum to anything.
    pub fn new(calls: &[(String, f64)], seed: u64) -> Result<Weights, MixError> {
        if calls.is_empty() {
            return Err(MixError::Empty);
        }
        for (i, (name, weight)) in calls.iter().enumerate() {
            if !(weight.is_finite() && *weight > 0.0) {
                return Err(MixError::NotPositive {
                    name: name.clone(),
                    weight: *weight,
                });
            }
            if calls[..i].iter().any(|(other, _)| other == name) {
                return Err(MixError::Duplicate(name.clone()));
            }
        }
        let total: f64 = calls.iter().map(|(_, w)| w).sum();
        let shares: Vec<f64> = calls.iter().map(|(_, w)| w / total).collect();
        let mut cumulative = Vec::with_capacity(shares.len());
        let mut sum = 0.0;
        for share in &shares {
            sum += share;
            cumulative.push(sum);
        }
        // Rounding must not leave a gap at the top.
        *cumulative.last_mut().expect("not empty") = 1.0;
        Ok(Weights {
            names: calls.iter().map(|(name, _)| name.clone()).collect(),
            shares,
            cumulative,
            // splitmix64's finaliser spreads nearby seeds apart.
            offset: (splitmix(seed) >> 11) as f64 / (1u64 << 53) as f64,
        })
    }

    /// Equal weights.
    pub fn even(names: Vec<String>, seed: u64) -> Result<Weights, MixError> {
        let calls: Vec<(String, f64)> = names.into_iter().map(|name| (name, 1.0)).collect();
        Weights::new(&calls, seed)
    }

    /// The call that request `number` of the whole plan makes.
    pub fn pick(&self, number: u64) -> usize {
        if self.names.len() == 1 {
            return 0;
        }
        // `number * PHI_FRAC` loses precision past 2^53 requests, which
        // no run reaches.
        let point = (self.offset + number as f64 * PHI_FRAC).fract();
        self.cumulative
            .iter()
            .position(|&edge| point < edge)
            .unwrap_or(self.names.len() - 1)
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Call `i`'s share of the requests, 0..1.
    pub fn share(&self, i: usize) -> f64 {
        self.shares[i]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
