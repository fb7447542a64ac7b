//! Live progress of a long run: a progress bar on a terminal, a plain line
//! every few seconds when the output is a file or a pipe, nothing with
//! `--quiet`. It is fed once a second from the engine's timeline tick, so it
//! costs the load nothing measurable.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use wirebench_load::{LoadPlan, Progress, StopAt};

/// How often the plain (non-terminal) progress line is printed.
const LINE_EVERY: Duration = Duration::from_secs(5);

pub enum Reporter {
    /// `counts_requests`: the bar counts requests (`-n`), not seconds.
    Bar {
        bar: ProgressBar,
        counts_requests: bool,
    },
    Lines {
        label: String,
        stop: StopAt,
        last: Instant,
    },
    Quiet,
}

impl Reporter {
    /// A reporter for one trial labelled `label`.
    pub fn new(label: &str, plan: &LoadPlan, quiet: bool) -> Reporter {
        if quiet {
            return Reporter::Quiet;
        }
        if !std::io::stderr().is_terminal() {
            return Reporter::Lines {
                label: label.to_owned(),
                stop: plan.stop(),
                last: Instant::now(),
            };
        }
        let (length, template) = match plan.stop() {
            StopAt::Duration(d) => (d.as_secs(), "{prefix} [{bar:30}] {pos}/{len} s  {msg}"),
            StopAt::Requests(n) => (n, "{prefix} [{bar:30}] {pos}/{len} requests  {msg}"),
        };
        let bar = ProgressBar::new(length);
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_prefix(label.to_owned());
        bar.set_message(format!(
            "warming up for {}",
            humantime::format_duration(plan.warmup())
        ));
        Reporter::Bar {
            bar,
            counts_requests: matches!(plan.stop(), StopAt::Requests(_)),
        }
    }

    pub fn update(&mut self, p: Progress) {
        match self {
            Reporter::Bar {
                bar,
                counts_requests,
            } => {
                let done = if *counts_requests {
                    p.requests_ok + p.errors
                } else {
                    p.measured_s as u64
                };
                bar.set_position(done.min(bar.length().unwrap_or(u64::MAX)));
                bar.set_message(format!("{} req/s, {} errors", p.last_second_ok, p.errors));
            }
            Reporter::Lines { label, stop, last } => {
                if last.elapsed() >= LINE_EVERY {
                    *last = Instant::now();
                    let of = match stop {
                        StopAt::Duration(d) => {
                            format!("{:.0}/{:.0} s", p.measured_s, d.as_secs_f64())
                        }
                        StopAt::Requests(n) => format!("{}/{n} requests", p.requests_ok + p.errors),
                    };
                    eprintln!(
                        "{label}: {of}, {} req/s, {} errors so far",
                        p.last_second_ok, p.errors
                    );
                }
            }
            Reporter::Quiet => {}
        }
    }

    pub fn finish(self) {
        if let Reporter::Bar { bar, .. } = self {
            bar.finish_and_clear();
        }
    }
}
