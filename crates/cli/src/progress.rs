//! What watches a trial while it runs: its progress shown (the live view
//! on a terminal, a plain line every few seconds when standard output is a
//! file or a pipe, nothing with `--quiet`), and with `--abort-on-fail` its
//! thresholds judged once a second, k6's `abortOnFail`: the first one lost
//! ends the trial's window there. It is fed once a second from the
//! engine's timeline tick, so it costs the load nothing measurable.

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use wirebench_load::{LoadPlan, Progress, StopAt};
use wirebench_report::threshold::{Figures, Threshold};

use crate::live_view::LiveView;

/// How often the plain (non-terminal) progress line is printed.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// A trial's watcher: feed it each [`Progress`] with [`Watch::observe`].
pub struct Watch<'a> {
    shown: Shown,
    abort: Option<Abort<'a>>,
    lost: Option<String>,
}

enum Shown {
    Live(Box<LiveView>),
    Lines {
        label: String,
        stop: StopAt,
        last: Instant,
    },
    Quiet,
}

/// `--abort-on-fail`: the thresholds, judged from `after` into the window.
struct Abort<'a> {
    thresholds: &'a [Threshold],
    after: Duration,
}

impl<'a> Watch<'a> {
    /// A watcher for one trial labelled `label`; `abort_after` is set with
    /// `--abort-on-fail` (its `--abort-delay`, or zero).
    pub fn new(
        label: &str,
        plan: &LoadPlan,
        quiet: bool,
        thresholds: &'a [Threshold],
        abort_after: Option<Duration>,
    ) -> Watch<'a> {
        let lines = || Shown::Lines {
            label: label.to_owned(),
            stop: plan.stop(),
            last: Instant::now(),
        };
        let shown = if quiet {
            Shown::Quiet
        } else if std::io::stdout().is_terminal() {
            LiveView::start(label, plan).map_or_else(lines, |view| Shown::Live(Box::new(view)))
        } else {
            lines()
        };
        Watch {
            shown,
            abort: abort_after
                .filter(|_| !thresholds.is_empty())
                .map(|after| Abort { thresholds, after }),
            lost: None,
        }
    }

    /// Shows `p`, and answers `Break` when a threshold is lost and
    /// `--abort-on-fail` is on.
    pub fn observe(&mut self, p: Progress<'_>) -> ControlFlow<()> {
        match &mut self.shown {
            Shown::Live(view) => view.update(&p),
            Shown::Lines { label, stop, last } => {
                if last.elapsed() >= LINE_EVERY {
                    *last = Instant::now();
                    let (_, of) = crate::live_view::how_far(*stop, &p);
                    eprintln!(
                        "{label}: {of}, {:.0} req/s, {} errors so far",
                        p.recent_rps(),
                        p.errors
                    );
                }
            }
            Shown::Quiet => {}
        }
        match self.abort.as_ref().and_then(|abort| abort.lost(&p)) {
            Some(lost) => {
                self.lost = Some(lost);
                ControlFlow::Break(())
            }
            None => ControlFlow::Continue(()),
        }
    }

    /// Ends the view; the threshold that stopped the trial, if one did
    /// ("p99<5ms: 7.20 ms at 3 s").
    pub fn finish(self) -> Option<String> {
        if let Shown::Live(view) = self.shown {
            view.finish();
        }
        self.lost
    }
}

impl Abort<'_> {
    /// The first threshold the window so far has lost, in words. Nothing
    /// is judged before `after`, nor before a request has completed, nor
    /// a latency bound before a good response.
    fn lost(&self, p: &Progress<'_>) -> Option<String> {
        let attempts = p.requests_ok + p.errors;
        if p.measured_s < self.after.as_secs_f64() || attempts == 0 || p.measured_s <= 0.0 {
            return None;
        }
        let figures = Figures {
            rps: p.requests_ok as f64 / p.measured_s,
            error_rate: p.errors as f64 / attempts as f64,
            latency_us: &p.so_far.latency_us,
        };
        self.thresholds.iter().find_map(|threshold| {
            let value = threshold.measure_figures(&figures)?;
            (!threshold.holds(value)).then(|| {
                format!(
                    "{threshold}: {} at {:.1} s",
                    threshold.show(Some(value)),
                    p.measured_s
                )
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirebench_load::stats::Tally;

    fn progress(tally: &Tally, measured_s: f64) -> Progress<'_> {
        Progress {
            measured_s,
            requests_ok: tally.requests_ok,
            errors: tally.errors.total(),
            bin: Duration::from_secs(1),
            recent_ok: 0,
            recent_p99_us: 0,
            so_far: tally,
        }
    }

    fn tally(latencies_us: &[u64]) -> Tally {
        let mut tally = Tally::new(false);
        for us in latencies_us {
            tally.latency_us.record(*us).unwrap();
            tally.requests_ok += 1;
        }
        tally
    }

    #[test]
    fn a_lost_threshold_is_named_with_its_value_and_time() {
        let thresholds: Vec<Threshold> = vec!["p99<5ms".parse().unwrap()];
        let abort = Abort {
            thresholds: &thresholds,
            after: Duration::ZERO,
        };
        let fast = tally(&[1_000; 100]);
        assert_eq!(abort.lost(&progress(&fast, 2.0)), None);
        let slow = tally(&[9_000; 100]);
        let lost = abort.lost(&progress(&slow, 3.0)).expect("p99 is 9 ms");
        // 9 ms as the histogram holds it (3 significant figures).
        assert_eq!(lost, "p99<5ms: 9.01 ms at 3.0 s");
    }

    #[test]
    fn nothing_is_judged_before_the_delay_or_the_first_answer() {
        let thresholds: Vec<Threshold> = vec!["rps>1000000".parse().unwrap()];
        let abort = Abort {
            thresholds: &thresholds,
            after: Duration::from_secs(5),
        };
        let some = tally(&[1_000; 10]);
        assert_eq!(
            abort.lost(&progress(&some, 2.0)),
            None,
            "before --abort-delay"
        );
        assert!(abort.lost(&progress(&some, 5.0)).is_some());
        let none = tally(&[]);
        let eager = Abort {
            thresholds: &thresholds,
            after: Duration::ZERO,
        };
        assert_eq!(eager.lost(&progress(&none, 1.0)), None, "no request yet");
    }
}
