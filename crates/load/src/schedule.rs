//! Load that changes over a run, as ghz's `--load-schedule` and
//! `--concurrency-schedule` have it: `step` (from `start`, `step` more
//! every `every`, until `end`, then held) or `line` (a linear ramp from
//! `start` to `end` over `over`, then held). The same schedule gives the
//! open loop's rate (requests due per second: each request's due time is
//! where the schedule's running count reaches it, so latency stays
//! corrected against the scheduled send times) or the closed loop's
//! concurrency (senders active at a time). Time 0 is the start of the
//! measured window; the warm-up holds the schedule's first value.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Schedule {
    Step {
        start: f64,
        end: f64,
        step: f64,
        every_s: f64,
    },
    Line {
        start: f64,
        end: f64,
        over_s: f64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{text}' is not a schedule: {why} (e.g. step,start=100,end=1000,step=100,every=5s or line,start=10,end=500,over=30s)"
)]
pub struct ScheduleError {
    text: String,
    why: String,
}

impl FromStr for Schedule {
    type Err = ScheduleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |why: String| ScheduleError {
            text: text.to_owned(),
            why,
        };
        let mut parts = text.split(',').map(str::trim);
        let kind = parts.next().unwrap_or_default();
        let (mut start, mut end, mut step, mut every, mut over) = (None, None, None, None, None);
        for part in parts {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| fail(format!("'{part}' is not key=value")))?;
            let number = || {
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .ok_or_else(|| fail(format!("{key} must be a number above 0, not '{value}'")))
            };
            let seconds = || {
                humantime::parse_duration(value)
                    .ok()
                    .map(|d| d.as_secs_f64())
                    .filter(|s| *s > 0.0)
                    .ok_or_else(|| {
                        fail(format!(
                            "{key} must be a duration above 0 like 5s, not '{value}'"
                        ))
                    })
            };
            match key {
                "start" => start = Some(number()?),
                "end" => end = Some(number()?),
                "step" => step = Some(number()?),
                "every" => every = Some(seconds()?),
                "over" => over = Some(seconds()?),
                other => return Err(fail(format!("unknown key '{other}'"))),
            }
        }
        let need = |v: Option<f64>, key: &str| v.ok_or_else(|| fail(format!("{key}= is missing")));
        match kind {
            "step" => Ok(Schedule::Step {
                start: need(start, "start")?,
                end: need(end, "end")?,
                step: need(step, "step")?,
                every_s: need(every, "every")?,
            }),
            "line" => Ok(Schedule::Line {
                start: need(start, "start")?,
                end: need(end, "end")?,
                over_s: need(over, "over")?,
            }),
            other => Err(fail(format!("'{other}' is neither step nor line"))),
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Step {
                start,
                end,
                step,
                every_s,
            } => write!(
                f,
                "step,start={start},end={end},step={step},every={every_s}s"
            ),
            Schedule::Line { start, end, over_s } => {
                write!(f, "line,start={start},end={end},over={over_s}s")
            }
        }
    }
}

impl Schedule {
    /// The largest value the schedule reaches.
    pub fn peak(&self) -> f64 {
        match *self {
            Schedule::Step { start, end, .. } | Schedule::Line { start, end, .. } => start.max(end),
        }
    }

    /// How long a run of the whole schedule takes when `-t` is not given:
    /// until it holds `end`, and for `step` one step more at `end`.
    pub fn default_duration_s(&self) -> f64 {
        match *self {
            Schedule::Step { every_s, .. } => self.length_s() + every_s,
            Schedule::Line { over_s, .. } => over_s,
        }
    }

    /// Seconds until the schedule holds `end`.
    pub fn length_s(&self) -> f64 {
        match *self {
            Schedule::Step {
                start,
                end,
                step,
                every_s,
            } => ((end - start).abs() / step).ceil() * every_s,
            Schedule::Line { over_s, .. } => over_s,
        }
    }

    /// The value (a rate, or a concurrency) `t` seconds in.
    pub fn at(&self, t: f64) -> f64 {
        match *self {
            Schedule::Step {
                start,
                end,
                step,
                every_s,
            } => {
                let steps = (t / every_s).floor().max(0.0);
                if end >= start {
                    (start + steps * step).min(end)
                } else {
                    (start - steps * step).max(end)
                }
            }
            Schedule::Line { start, end, over_s } => {
                start + (end - start) * (t / over_s).clamp(0.0, 1.0)
            }
        }
    }

    /// Where the steps begin, seconds, up to `until`: the schedule's
    /// steps (a `line` is cut into whole seconds), for the per-step
    /// report.
    pub fn boundaries(&self, until: f64) -> Vec<f64> {
        let width = match *self {
            Schedule::Step { every_s, .. } => every_s,
            Schedule::Line { .. } => 1.0,
        };
        let last = self.length_s().min(until);
        let mut at = Vec::new();
        let mut t = 0.0;
        while t < last - 1e-9 {
            at.push(t);
            t += width;
        }
        if at.is_empty() || last < until {
            at.push(last);
        }
        at
    }

    /// As a concurrency: whether sender `id` (0-based) sends `t` seconds
    /// in (the first floor(value) senders do).
    pub fn active(&self, id: usize, t: f64) -> bool {
        self.at(t) + 1e-9 >= id as f64 + 1.0
    }

    /// As a concurrency: the first time after `after` when sender `id`
    /// sends again; None when it never does.
    pub fn next_active(&self, id: usize, after: f64) -> Option<f64> {
        match *self {
            Schedule::Step { every_s, .. } => {
                let steps = (self.length_s() / every_s).round() as u64;
                (0..=steps)
                    .map(|k| k as f64 * every_s)
                    .find(|&t| t > after && self.active(id, t))
            }
            Schedule::Line { start, end, over_s } => {
                if end <= start {
                    return None;
                }
                let t = ((id as f64 + 1.0 - start) / (end - start) * over_s).max(0.0);
                (t <= over_s + 1e-9).then_some(t.max(after))
            }
        }
    }

    /// As a rate: when request `slot` (0-based) is due, seconds from the
    /// start: where the schedule's running count of requests reaches it.
    pub fn due_s(&self, slot: u64) -> f64 {
        let k = slot as f64;
        match *self {
            Schedule::Step { every_s, .. } => {
                let mut before = 0.0;
                let mut t = 0.0;
                loop {
                    let rate = self.at(t);
                    if t >= self.length_s() {
                        return t + (k - before) / rate;
                    }
                    let here = rate * every_s;
                    if k < before + here {
                        return t + (k - before) / rate;
                    }
                    before += here;
                    t += every_s;
                }
            }
            Schedule::Line { start, end, over_s } => {
                let slope = (end - start) / over_s;
                let in_ramp = start * over_s + slope * over_s * over_s / 2.0;
                if k >= in_ramp {
                    return over_s + (k - in_ramp) / end;
                }
                if slope.abs() < 1e-12 {
                    return k / start;
                }
                // start * t + slope * t^2 / 2 = k
                (-start + (start * start + 2.0 * slope * k).sqrt()) / slope
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Schedule {
        text.parse().unwrap()
    }

    #[test]
    fn schedules_read_as_written_and_bad_ones_say_why() {
        assert_eq!(
            parse("step,start=100,end=300,step=100,every=2s"),
            Schedule::Step {
                start: 100.0,
                end: 300.0,
                step: 100.0,
                every_s: 2.0
            }
        );
        let line = parse("line, start=10, end=50, over=4s");
        assert_eq!(line.to_string(), "line,start=10,end=50,over=4s");
        for (text, says) in [
            ("ramp,start=1", "neither step nor line"),
            ("step,start=1,end=2,step=1", "every= is missing"),
            ("line,start=-1,end=2,over=1s", "above 0"),
            ("line,start=1,end=2,over=5", "duration"),
            ("line,start=1,end=2,over=1s,speed=3", "unknown key"),
        ] {
            let err = text.parse::<Schedule>().unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn steps_hold_then_rise_and_requests_fall_due_at_the_rate_of_their_step() {
        let s = parse("step,start=100,end=300,step=100,every=2s");
        assert_eq!(s.at(0.0), 100.0);
        assert_eq!(s.at(1.99), 100.0);
        assert_eq!(s.at(2.0), 200.0);
        assert_eq!(s.at(100.0), 300.0);
        assert_eq!(s.length_s(), 4.0);
        assert_eq!(s.boundaries(6.0), vec![0.0, 2.0, 4.0]);
        // 200 requests in the first 2 s, 400 in the next, then 300/s.
        assert_eq!(s.due_s(0), 0.0);
        assert!((s.due_s(100) - 1.0).abs() < 1e-9);
        assert!((s.due_s(200) - 2.0).abs() < 1e-9);
        assert!((s.due_s(400) - 3.0).abs() < 1e-9);
        assert!((s.due_s(600) - 4.0).abs() < 1e-9);
        assert!((s.due_s(900) - 5.0).abs() < 1e-9);
        let down = parse("step,start=300,end=100,step=100,every=1s");
        assert_eq!(down.at(1.5), 200.0);
        assert_eq!(down.at(9.0), 100.0);
    }

    #[test]
    fn a_concurrency_schedule_wakes_each_sender_when_its_turn_comes() {
        let s = parse("step,start=2,end=4,step=1,every=1s");
        assert!(s.active(1, 0.0) && !s.active(2, 0.0));
        assert_eq!(s.next_active(2, 0.0), Some(1.0));
        assert_eq!(s.next_active(3, 0.5), Some(2.0));
        assert_eq!(s.next_active(4, 0.0), None, "never more than 4");
        let line = parse("line,start=1,end=5,over=4s");
        assert_eq!(line.next_active(2, 0.0), Some(2.0));
        assert!(line.active(2, 2.0));
        assert_eq!(line.next_active(5, 0.0), None);
    }

    #[test]
    fn a_line_ramps_and_its_count_is_the_area_under_it() {
        let s = parse("line,start=10,end=50,over=4s");
        assert_eq!(s.at(2.0), 30.0);
        assert_eq!(s.at(10.0), 50.0);
        // Requests due by t: 10 t + 5 t^2: 15 by 1 s, 120 by 4 s.
        assert!((s.due_s(15) - 1.0).abs() < 1e-9);
        assert!((s.due_s(120) - 4.0).abs() < 1e-9);
        assert!((s.due_s(170) - 5.0).abs() < 1e-9);
        assert_eq!(s.boundaries(6.0), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        // Due times never go back.
        let mut last = -1.0;
        for k in 0..500 {
            let t = s.due_s(k);
            assert!(t > last, "slot {k}");
            last = t;
        }
    }
}
