//! Two results side by side: for every configuration present in both
//! (over the medians of its repetitions), how
//! throughput, p50, p99 and server CPU per request moved, with the
//! direction and the size in words; and which trials got slower than a
//! threshold, for CI.

use crate::format;
use crate::label::ConfigKey;
use crate::model::{RunResult, Trial};
use crate::stats::Spread;

/// How a figure is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    RequestsPerSecond,
    Microseconds,
    Milliseconds,
}

impl Unit {
    fn show(self, value: f64) -> String {
        match self {
            Unit::RequestsPerSecond => format!("{} req/s", format::rate(value)),
            Unit::Microseconds => format::latency_us(value.round() as u64),
            Unit::Milliseconds => format!("{value:.4} ms"),
        }
    }
}

/// One figure before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub name: &'static str,
    pub unit: Unit,
    pub before: f64,
    pub after: f64,
    /// True when a larger value is better (throughput).
    pub higher_is_better: bool,
}

impl Change {
    /// (after - before) / before; None when before is 0.
    pub fn relative(&self) -> Option<f64> {
        (self.before != 0.0).then(|| (self.after - self.before) / self.before)
    }

    /// True when the change is for the worse by more than `threshold`.
    pub fn worse_by_more_than(&self, threshold: f64) -> bool {
        match self.relative() {
            Some(r) if self.higher_is_better => r < -threshold,
            Some(r) => r > threshold,
            None => false,
        }
    }

    /// "about the same", "slightly better", "much worse"...
    pub fn in_words(&self) -> String {
        let Some(r) = self.relative() else {
            return "not comparable (was 0)".to_owned();
        };
        let size = match r.abs() {
            a if a < 0.02 => return "about the same".to_owned(),
            a if a < 0.10 => "slightly",
            a if a < 0.25 => "noticeably",
            _ => "much",
        };
        let better = (r > 0.0) == self.higher_is_better;
        format!("{size} {}", if better { "better" } else { "worse" })
    }
}

/// The differences of one trial present in both results.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialDiff {
    pub key: String,
    pub changes: Vec<Change>,
}

impl TrialDiff {
    pub fn throughput(&self) -> &Change {
        &self.changes[0]
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub matched: Vec<TrialDiff>,
    pub only_before: Vec<String>,
    pub only_after: Vec<String>,
}

/// The trials of one configuration, by key, in the order they first ran.
fn groups(result: &RunResult) -> Vec<(String, Vec<&Trial>)> {
    let mut groups: Vec<(String, Vec<&Trial>)> = Vec::new();
    for trial in result.trials.iter().filter(|t| !t.interrupted) {
        let key = ConfigKey::of(trial).to_string();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, trials)) => trials.push(trial),
            None => groups.push((key, vec![trial])),
        }
    }
    groups
}

/// The median of `f` over a configuration's repetitions.
fn median(trials: &[&Trial], f: fn(&Trial) -> Option<f64>) -> Option<f64> {
    let values: Vec<f64> = trials.iter().filter_map(|t| f(t)).collect();
    Spread::of(&values).map(|s| s.median)
}

/// A compared figure: its name, unit, whether more is better, and how to
/// read it off a trial.
type Figure = (&'static str, Unit, bool, fn(&Trial) -> Option<f64>);

/// Every configuration present in both results, compared on the medians of
/// its repetitions (a single trial is its own median).
pub fn compare(before: &RunResult, after: &RunResult) -> Comparison {
    let before_groups = groups(before);
    let after_groups = groups(after);
    let mut matched = Vec::new();
    let mut only_before = Vec::new();
    for (key, a) in &before_groups {
        let Some((_, b)) = after_groups.iter().find(|(k, _)| k == key) else {
            only_before.push(key.clone());
            continue;
        };
        let figures: [Figure; 4] = [
            ("throughput", Unit::RequestsPerSecond, true, |t| {
                Some(t.throughput_rps)
            }),
            ("p50", Unit::Microseconds, false, |t| {
                Some(t.latency_us.p50 as f64)
            }),
            ("p99", Unit::Microseconds, false, |t| {
                Some(t.latency_us.p99 as f64)
            }),
            ("server CPU per request", Unit::Milliseconds, false, |t| {
                t.costs.server_cpu_ms_per_request
            }),
        ];
        let changes = figures
            .into_iter()
            .filter_map(|(name, unit, higher_is_better, f)| {
                Some(Change {
                    name,
                    unit,
                    before: median(a, f)?,
                    after: median(b, f)?,
                    higher_is_better,
                })
            })
            .collect();
        let trials = if a.len() > 1 || b.len() > 1 {
            format!(" ({} vs {} trials, medians)", a.len(), b.len())
        } else {
            String::new()
        };
        matched.push(TrialDiff {
            key: format!("{key}{trials}"),
            changes,
        });
    }
    let only_after = after_groups
        .into_iter()
        .map(|(key, _)| key)
        .filter(|key| !before_groups.iter().any(|(k, _)| k == key))
        .collect();
    Comparison {
        matched,
        only_before,
        only_after,
    }
}

impl Comparison {
    /// Trials whose throughput fell by more than `threshold` (0.10 = 10%).
    pub fn slower_than(&self, threshold: f64) -> Vec<&TrialDiff> {
        self.matched
            .iter()
            .filter(|d| d.throughput().worse_by_more_than(threshold))
            .collect()
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for diff in &self.matched {
            out.push_str(&format!("{}:\n", diff.key));
            for c in &diff.changes {
                let relative = c
                    .relative()
                    .map_or(String::new(), |r| format!(" ({:+.1}%)", r * 100.0));
                out.push_str(&format!(
                    "  {:<24} {} -> {}{relative}: {}\n",
                    c.name,
                    c.unit.show(c.before),
                    c.unit.show(c.after),
                    c.in_words()
                ));
            }
        }
        for key in &self.only_before {
            out.push_str(&format!("{key}: only in the first result\n"));
        }
        for key in &self.only_after {
            out.push_str(&format!("{key}: only in the second result\n"));
        }
        if self.matched.is_empty() {
            out.push_str("no trial is present in both results\n");
        }
        out
    }
}

/// Parses "10%", "10" or "0.1" into a fraction (0.10).
pub fn parse_threshold(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let (number, percent) = match trimmed.strip_suffix('%') {
        Some(n) => (n, true),
        None => (trimmed, false),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a threshold (e.g. 10%)"))?;
    let fraction = if percent || value > 1.0 {
        value / 100.0
    } else {
        value
    };
    if !(0.0..1.0).contains(&fraction) {
        return Err(format!(
            "'{text}' is not a threshold a throughput can fall by: give under 100%, e.g. 10%"
        ));
    }
    Ok(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(before: f64, after: f64, higher_is_better: bool) -> Change {
        Change {
            name: "x",
            unit: Unit::Milliseconds,
            before,
            after,
            higher_is_better,
        }
    }

    #[test]
    fn words_and_directions() {
        assert_eq!(change(100.0, 101.0, true).in_words(), "about the same");
        assert_eq!(change(100.0, 95.0, true).in_words(), "slightly worse");
        assert_eq!(change(100.0, 80.0, false).in_words(), "noticeably better");
        assert_eq!(change(100.0, 200.0, true).in_words(), "much better");
        assert_eq!(change(0.0, 5.0, true).in_words(), "not comparable (was 0)");
        assert!(change(100.0, 85.0, true).worse_by_more_than(0.10));
        assert!(!change(100.0, 95.0, true).worse_by_more_than(0.10));
        assert!(change(100.0, 115.0, false).worse_by_more_than(0.10));
    }

    #[test]
    fn thresholds() {
        assert_eq!(parse_threshold("10%"), Ok(0.10));
        assert_eq!(parse_threshold("10"), Ok(0.10));
        assert_eq!(parse_threshold("0.1"), Ok(0.1));
        assert!(parse_threshold("fast").is_err());
    }
}
