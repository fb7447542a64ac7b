//! Small pure statistics for repeated, interleaved trials: median and
//! spread, and the ratio between two stacks with a confidence interval.
//!
//! Trials are run A B A B ..., so trial i of A and trial i of B saw the same
//! machine state; the ratio is estimated from those pairs: the geometric
//! mean of the per-pair ratios, with a percentile-bootstrap interval over
//! pairs (10,000 resamples, a fixed seed: the same inputs always give the
//! same interval).

use serde::{Deserialize, Serialize};

/// Median, smallest and largest of some values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

impl Spread {
    pub fn of(values: &[f64]) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Some(Spread {
            median: median_of_sorted(&sorted),
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            n: sorted.len(),
        })
    }
}

fn median_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// A ratio A / B estimated from paired trials, with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RatioInterval {
    /// Geometric mean of the pairs' ratios.
    pub ratio: f64,
    /// Bounds of the interval: see `interval` (equal to `ratio` with one
    /// pair).
    pub low: f64,
    pub high: f64,
    /// What `low` and `high` are.
    #[serde(default)]
    pub interval: IntervalKind,
    /// 0.95 for a 95% bootstrap interval; None for a range.
    pub confidence: Option<f64>,
    pub pairs: usize,
}

/// What the bounds of a [`RatioInterval`] are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IntervalKind {
    /// A percentile-bootstrap confidence interval over the pairs: from
    /// [`MIN_PAIRS_FOR_INTERVAL`] pairs on.
    #[default]
    Bootstrap,
    /// The smallest and largest of the pairs' ratios: fewer pairs than an
    /// interval needs (resampling two values says nothing about a third).
    Range,
    /// One pair: no spread at all.
    Single,
}

pub const BOOTSTRAP_RESAMPLES: usize = 10_000;
pub const CONFIDENCE: f64 = 0.95;
/// A confidence interval is given from this many paired trials on; with
/// fewer, the range of the pairs' ratios, called a range.
pub const MIN_PAIRS_FOR_INTERVAL: usize = 3;

impl RatioInterval {
    /// "1.85x [bootstrap 95% 1.70-2.01, 5 paired trials]", "1.85x [range
    /// 1.70-2.01, 2 paired trials]", "1.85x".
    pub fn text(&self) -> String {
        match self.interval {
            IntervalKind::Single => format!("{:.2}x", self.ratio),
            IntervalKind::Range => format!(
                "{:.2}x [range {:.2}-{:.2}, {} paired trials]",
                self.ratio, self.low, self.high, self.pairs
            ),
            IntervalKind::Bootstrap => format!(
                "{:.2}x [bootstrap {:.0}% {:.2}-{:.2}, {} paired trials]",
                self.ratio,
                self.confidence.unwrap_or(CONFIDENCE) * 100.0,
                self.low,
                self.high,
                self.pairs
            ),
        }
    }

    /// "1.85x [1.70-2.01]" for a table cell (the kind is in the header's
    /// glossary: a range below three pairs).
    pub fn cell(&self) -> String {
        match self.interval {
            IntervalKind::Single => format!("{:.2}x", self.ratio),
            IntervalKind::Range => {
                format!(
                    "{:.2}x (range {:.2}-{:.2})",
                    self.ratio, self.low, self.high
                )
            }
            IntervalKind::Bootstrap => {
                format!("{:.2}x [{:.2}-{:.2}]", self.ratio, self.low, self.high)
            }
        }
    }
}

/// The ratio of `a` to `b`, pair by pair (`a[i]` with `b[i]`). None when
/// there is no pair or a value is not positive.
pub fn paired_ratio(a: &[f64], b: &[f64]) -> Option<RatioInterval> {
    let logs: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x > 0.0 && y > 0.0).then(|| (x / y).ln()))
        .collect::<Option<_>>()?;
    if logs.is_empty() {
        return None;
    }
    let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len() as f64;
    let ratio = mean(&logs).exp();
    if logs.len() < MIN_PAIRS_FOR_INTERVAL {
        let (low, high) = logs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), l| {
                (lo.min(*l), hi.max(*l))
            });
        return Some(RatioInterval {
            ratio,
            low: low.exp(),
            high: high.exp(),
            interval: if logs.len() == 1 {
                IntervalKind::Single
            } else {
                IntervalKind::Range
            },
            confidence: None,
            pairs: logs.len(),
        });
    }
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut resample = vec![0.0; logs.len()];
    let mut means: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| {
            for slot in resample.iter_mut() {
                *slot = logs[rng.below(logs.len())];
            }
            mean(&resample)
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    let at = |q: f64| means[((means.len() - 1) as f64 * q).round() as usize].exp();
    Some(RatioInterval {
        ratio,
        low: at(tail),
        high: at(1.0 - tail),
        interval: IntervalKind::Bootstrap,
        confidence: Some(CONFIDENCE),
        pairs: logs.len(),
    })
}

struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads() {
        assert_eq!(Spread::of(&[]), None);
        let s = Spread::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.0, 1.0, 3.0, 3));
        assert_eq!(Spread::of(&[1.0, 2.0, 3.0, 10.0]).unwrap().median, 2.5);
    }

    #[test]
    fn a_constant_ratio_has_a_tight_interval() {
        let a = [200.0, 220.0, 180.0, 210.0];
        let b = [100.0, 110.0, 90.0, 105.0];
        let r = paired_ratio(&a, &b).unwrap();
        assert!((r.ratio - 2.0).abs() < 1e-9);
        assert!((r.low - 2.0).abs() < 1e-9 && (r.high - 2.0).abs() < 1e-9);
        assert_eq!(r.pairs, 4);
    }

    #[test]
    fn a_noisy_ratio_has_an_interval_around_it() {
        let a = [210.0, 190.0, 240.0, 160.0, 200.0];
        let b = [100.0, 100.0, 100.0, 100.0, 100.0];
        let r = paired_ratio(&a, &b).unwrap();
        assert!(r.low < r.ratio && r.ratio < r.high, "{r:?}");
        // The interval of a mean of ratios lies within their range.
        assert!(r.low >= 1.6 && r.high <= 2.4, "{r:?}");
        // Deterministic.
        assert_eq!(paired_ratio(&a, &b), Some(r));
    }

    #[test]
    fn the_bootstrap_interval_has_the_width_of_a_95_percent_interval() {
        // Log-ratios of known spread: the bootstrap's 2.5th and 97.5th
        // percentiles of the mean lie about 1.96 standard errors (of the
        // plug-in estimate) either side; a 90% or 99% choice, or the
        // pairs' range, would miss these bounds.
        let logs = [
            -0.30, -0.10, 0.05, 0.12, 0.20, 0.33, -0.05, 0.18, 0.02, -0.21,
        ];
        let a: Vec<f64> = logs.iter().map(|l: &f64| 100.0 * l.exp()).collect();
        let b = vec![100.0; logs.len()];
        let r = paired_ratio(&a, &b).unwrap();
        let n = logs.len() as f64;
        let mean = logs.iter().sum::<f64>() / n;
        let sd = (logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n).sqrt();
        let half_width = 1.96 * sd / n.sqrt();
        let (low, high) = (r.low.ln() - mean, r.high.ln() - mean);
        for (bound, want) in [(low, -half_width), (high, half_width)] {
            assert!(
                (bound - want).abs() <= 0.15 * half_width,
                "bound {bound:.4} against {want:.4} ({r:?})"
            );
        }
        assert_eq!(r.interval, IntervalKind::Bootstrap);
        assert_eq!(r.confidence, Some(0.95));
        assert!(r.text().contains("bootstrap 95%"), "{}", r.text());
    }

    #[test]
    fn two_pairs_give_a_range_not_an_interval() {
        let r = paired_ratio(&[200.0, 300.0], &[100.0, 100.0]).unwrap();
        assert_eq!(r.interval, IntervalKind::Range);
        assert_eq!(r.confidence, None);
        assert!((r.low - 2.0).abs() < 1e-9 && (r.high - 3.0).abs() < 1e-9);
        assert!((r.ratio - 6f64.sqrt()).abs() < 1e-9);
        let text = r.text();
        assert!(text.contains("range") && !text.contains('%'), "{text}");
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(paired_ratio(&[], &[]), None);
        assert_eq!(paired_ratio(&[1.0], &[0.0]), None);
        let one = paired_ratio(&[3.0], &[2.0]).unwrap();
        assert_eq!(
            (one.ratio, one.low, one.high, one.pairs),
            (1.5, 1.5, 1.5, 1)
        );
        assert_eq!(one.interval, IntervalKind::Single);
    }
}
