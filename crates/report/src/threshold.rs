//! Pass/fail criteria on a trial, as k6 has them: `--threshold 'p99<50ms'`
//! on `load` and on every stack of `bench`. A failed threshold is named in
//! the notes and makes the command exit 99 (k6's code), distinct from
//! errors of use (2) and interruptions (130). The same expressions are
//! an SLO's terms (`--slo 'p99<50ms,errors<0.1%'`).
//!
//! Latency bounds take a unit (`us`, `ms`, `s`); quantiles come from the
//! trial's full histogram, so any `pNN.N` is exact to the histogram's
//! precision, not only the summary's p50/p90/p99/p99.9.

use std::fmt;
use std::str::FromStr;

use crate::format;
pub use crate::model::ThresholdOutcome;
use crate::model::Trial;

/// What a threshold measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// A latency quantile, 0..=1 (`p99` is 0.99), microseconds.
    Quantile(f64),
    Mean,
    Min,
    Max,
    /// Good responses per second.
    Rps,
    /// errors / (good + errors), 0..=1.
    ErrorRate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Below,
    AtMost,
    Above,
    AtLeast,
}

/// One criterion: `p99<50ms`, `rps>=1000`, `error_rate<0.1%`.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub metric: Metric,
    pub comparison: Comparison,
    /// In the metric's unit: microseconds, requests per second, or a
    /// fraction.
    pub bound: f64,
    /// As the user wrote it, spaces removed.
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{text}' is not a threshold: {why} (e.g. p99<50ms, p99.9<=1s, mean<10ms, max<2s, rps>1000, error_rate<0.1%)"
)]
pub struct ThresholdError {
    text: String,
    why: String,
}

impl FromStr for Threshold {
    type Err = ThresholdError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let text: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let fail = |why: &str| ThresholdError {
            text: text.clone(),
            why: why.to_owned(),
        };
        if text.contains(',') {
            return Err(fail(
                "one criterion per --threshold (repeat the flag: --threshold p99<50ms --threshold rps>1)",
            ));
        }
        let at = text
            .find(['<', '>'])
            .ok_or_else(|| fail("no comparison: use <, <=, > or >="))?;
        let (name, rest) = text.split_at(at);
        let (comparison, value) = match (rest.as_bytes()[0], rest.get(1..2)) {
            (b'<', Some("=")) => (Comparison::AtMost, &rest[2..]),
            (b'<', _) => (Comparison::Below, &rest[1..]),
            (b'>', Some("=")) => (Comparison::AtLeast, &rest[2..]),
            _ => (Comparison::Above, &rest[1..]),
        };
        let metric = match name {
            "mean" | "avg" => Metric::Mean,
            "min" => Metric::Min,
            "max" => Metric::Max,
            "rps" => Metric::Rps,
            "error_rate" | "errors" => Metric::ErrorRate,
            p if p.starts_with('p') => {
                let percent: f64 = p[1..]
                    .parse()
                    .map_err(|_| fail(&format!("'{p}' is not a percentile like p99 or p99.9")))?;
                if !(0.0..=100.0).contains(&percent) {
                    return Err(fail(&format!("'{p}' is not between p0 and p100")));
                }
                Metric::Quantile(percent / 100.0)
            }
            "" => return Err(fail("nothing to compare")),
            other => return Err(fail(&format!("unknown measure '{other}'"))),
        };
        let bound = match metric {
            Metric::Rps => value
                .parse::<f64>()
                .map_err(|_| fail("rps takes a number of requests per second"))?,
            Metric::ErrorRate => match value.strip_suffix('%') {
                Some(percent) => percent.parse::<f64>().map(|p| p / 100.0),
                None => value.parse::<f64>(),
            }
            .map_err(|_| fail("error_rate takes a fraction (0.001) or a percentage (0.1%)"))?,
            _ => {
                let duration = humantime::parse_duration(value)
                    .map_err(|_| fail("a latency bound takes a unit: 500us, 50ms, 2s"))?;
                duration.as_secs_f64() * 1e6
            }
        };
        if !bound.is_finite() || bound < 0.0 {
            return Err(fail("the bound must be a finite number, not negative"));
        }
        if metric == Metric::ErrorRate && bound > 1.0 {
            return Err(fail("an error rate is at most 100%"));
        }
        Ok(Threshold {
            metric,
            comparison,
            bound,
            text,
        })
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Threshold {
    /// What `trial` measured of this threshold's metric.
    pub fn measure(&self, trial: &Trial) -> Option<f64> {
        // A result without its histogram judges latency as unmeasured.
        let histogram = crate::histogram::decode(&trial.latency_histogram).unwrap_or_else(|_| {
            hdrhistogram::Histogram::new(3).expect("3 significant figures are allowed")
        });
        self.measure_figures(&Figures {
            rps: trial.throughput_rps,
            error_rate: trial.error_rate,
            latency_us: &histogram,
        })
    }

    /// What `figures` hold of this threshold's metric: `None` for a
    /// latency when no good response was counted.
    pub fn measure_figures(&self, figures: &Figures<'_>) -> Option<f64> {
        let latency = figures.latency_us;
        let of_latency = |value: u64| (!latency.is_empty()).then_some(value as f64);
        match self.metric {
            Metric::Rps => Some(figures.rps),
            Metric::ErrorRate => Some(figures.error_rate),
            Metric::Mean => (!latency.is_empty()).then(|| latency.mean()),
            Metric::Min => of_latency(latency.min()),
            Metric::Max => of_latency(latency.max()),
            Metric::Quantile(q) => of_latency(latency.value_at_quantile(q)),
        }
    }

    /// Whether `value` meets the threshold.
    pub fn holds(&self, value: f64) -> bool {
        match self.comparison {
            Comparison::Below => value < self.bound,
            Comparison::AtMost => value <= self.bound,
            Comparison::Above => value > self.bound,
            Comparison::AtLeast => value >= self.bound,
        }
    }

    /// Whether `value` meets the threshold with room to spare: an upper
    /// bound met at `margin` times less (`p99<2ms` by 1 ms, for 2), a
    /// lower bound at `margin` times more. An error rate of 0 always has
    /// room.
    pub fn holds_with_margin(&self, value: f64, margin: f64) -> bool {
        match self.comparison {
            Comparison::Below | Comparison::AtMost => value * margin <= self.bound || value == 0.0,
            Comparison::Above | Comparison::AtLeast => value >= self.bound * margin,
        }
    }

    /// `trial` against this threshold. A trial that measured nothing
    /// fails it: no good response proves no latency bound.
    pub fn check(&self, trial: &Trial) -> ThresholdOutcome {
        self.outcome(self.measure(trial))
    }

    /// How `figures` fare against the threshold: what a trial is built
    /// with, before it exists.
    pub fn check_figures(&self, figures: &Figures<'_>) -> ThresholdOutcome {
        self.outcome(self.measure_figures(figures))
    }

    fn outcome(&self, value: Option<f64>) -> ThresholdOutcome {
        ThresholdOutcome {
            threshold: self.text.clone(),
            value,
            passed: value.is_some_and(|v| self.holds(v)),
        }
    }

    /// `value` in the threshold's unit, for people: "62.1 ms", "950.0
    /// req/s", "0.20%".
    pub fn show(&self, value: Option<f64>) -> String {
        match (self.metric, value) {
            (_, None) => "nothing measured".to_owned(),
            (Metric::Rps, Some(v)) => format!("{v:.1} req/s"),
            (Metric::ErrorRate, Some(v)) => format!("{:.2}%", v * 100.0),
            (_, Some(v)) => format::latency_us(v.round() as u64),
        }
    }
}

/// What a threshold judges: a finished trial's figures, or a run's so far
/// (`--abort-on-fail` judges them once a second).
pub struct Figures<'a> {
    /// Good responses per second.
    pub rps: f64,
    /// errors / (good + errors), 0..=1.
    pub error_rate: f64,
    /// Latency of the good responses, microseconds.
    pub latency_us: &'a hdrhistogram::Histogram<u64>,
}

/// Thresholds that must all hold: an SLO, as `--slo` takes it
/// (`p99<50ms,errors<0.1%`).
#[derive(Debug, Clone, PartialEq)]
pub struct Slo(pub Vec<Threshold>);

impl FromStr for Slo {
    type Err = ThresholdError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_list(text).map(Slo)
    }
}

/// Parses a comma-separated list (`p99<50ms,errors<0.1%`), as `--slo`
/// takes it.
pub fn parse_list(text: &str) -> Result<Vec<Threshold>, ThresholdError> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(str::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Threshold {
        text.parse().unwrap()
    }

    #[test]
    fn thresholds_read_as_k6_writes_them() {
        let t = parse("p99 < 50ms");
        assert_eq!(t.metric, Metric::Quantile(0.99));
        assert_eq!(t.comparison, Comparison::Below);
        assert_eq!(t.bound, 50_000.0);
        assert_eq!(t.to_string(), "p99<50ms");
        let Metric::Quantile(q) = parse("p99.9<=1s").metric else {
            panic!("a quantile")
        };
        assert!((q - 0.999).abs() < 1e-12, "{q}");
        assert_eq!(parse("p99.9<=1s").bound, 1e6);
        assert_eq!(parse("p99<1us").bound, 1.0);
        assert_eq!(parse("rps>=1000").comparison, Comparison::AtLeast);
        assert_eq!(parse("error_rate<0.1%").bound, 0.001);
        assert_eq!(parse("errors<0.001").bound, 0.001);
        assert_eq!(parse("mean>2ms").comparison, Comparison::Above);
        assert_eq!(parse_list("p99<50ms, errors<0.1%").unwrap().len(), 2);
    }

    #[test]
    fn bad_thresholds_say_what_is_wrong() {
        for (text, says) in [
            ("p99", "no comparison"),
            ("p99<50", "takes a unit"),
            ("p101<1s", "between p0 and p100"),
            ("pxx<1s", "not a percentile"),
            ("latency<1s", "unknown measure 'latency'"),
            ("rps>fast", "number of requests"),
            ("error_rate<lots", "fraction"),
            ("error_rate<150%", "at most 100%"),
            ("p99<50ms,rps>1", "one criterion per --threshold"),
            ("rps>-5", "not negative"),
            ("<1s", "nothing to compare"),
        ] {
            let err = text.parse::<Threshold>().unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn comparisons_hold_or_not() {
        assert!(parse("p99<50ms").holds(49_999.0));
        assert!(!parse("p99<50ms").holds(50_000.0));
        assert!(parse("p99<=50ms").holds(50_000.0));
        assert!(parse("rps>10").holds(11.0));
        assert!(!parse("rps>=10").holds(9.9));
    }
}
