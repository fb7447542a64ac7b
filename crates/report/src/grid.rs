//! The result as rows and columns, once, for every exporter that draws a
//! table (terminal, Markdown, HTML): the trials side by side, and each
//! probed process when there are several.

use crate::format;
use crate::label::trial_label;
use crate::model::RunResult;

/// A header and rows of cells, already formatted for people.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// Columns, from this one on, hold numbers (right-aligned).
    pub numeric_from: usize,
}

pub fn trials(result: &RunResult) -> Grid {
    let rows = result
        .trials
        .iter()
        .map(|trial| {
            let l = &trial.latency_us;
            let c = &trial.costs;
            let probed = !trial.processes.is_empty();
            let server_probed = trial.processes.iter().any(|p| !p.role.is_client());
            let or_dash = |known: bool, text: String| if known { text } else { "-".to_owned() };
            // No good answer, no latency: "-", not "0 us".
            let answered = trial.requests_ok > 0;
            let latency = |us: u64| or_dash(answered, format::latency_us(us));
            let mut label = trial_label(result, trial);
            if trial.interrupted {
                label.push_str(" (interrupted)");
            } else if trial.aborted.is_some() {
                label.push_str(" (stopped early)");
            }
            vec![
                label,
                trial.connections.to_string(),
                format::thousands(trial.requests_ok),
                format::thousands(trial.errors_total()),
                format::rate(trial.throughput_rps),
                latency(l.p50),
                latency(l.p90),
                latency(l.p99),
                latency(l.p999),
                latency(l.max),
                format!("{:.1}", trial.throughput_mb_s),
                or_dash(server_probed, format!("{:.0}", c.server_cpu_percent)),
                or_dash(probed, format!("{:.0}", c.client_cpu_percent)),
                or_dash(server_probed, format::bytes(c.server_rss_peak_bytes)),
                c.server_cpu_ms_per_request
                    .map_or("-".to_owned(), |ms| format!("{ms:.3}")),
            ]
        })
        .collect();
    Grid {
        header: vec![
            "stack",
            "conns",
            "ok",
            "errors",
            "req/s",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "max",
            "MB/s",
            "srv CPU%",
            "cli CPU%",
            "srv RSS peak",
            "srv CPU ms/req",
        ],
        rows,
        numeric_from: 1,
    }
}

/// Per process, when a trial has more than one server process: what each
/// one cost (seed 002's htop reading, measured).
pub fn processes(result: &RunResult) -> Option<Grid> {
    let several = result
        .trials
        .iter()
        .any(|t| t.processes.iter().filter(|p| !p.role.is_client()).count() > 1);
    if !several {
        return None;
    }
    let mut rows = Vec::new();
    for trial in &result.trials {
        let label = trial_label(result, trial);
        for p in &trial.processes {
            rows.push(vec![
                label.clone(),
                p.role.to_string(),
                p.pid.to_string(),
                p.cpus.as_ref().map_or("any".to_owned(), |c| c.to_string()),
                format!("{:.1}", p.cpu_percent),
                format!("{:.2}", p.cpu_user_s),
                format!("{:.2}", p.cpu_system_s),
                format::bytes(p.rss_avg_bytes),
                format::bytes(p.rss_peak_bytes),
                p.threads_max.to_string(),
                per_request(p.io_written_bytes, trial.requests_ok),
            ]);
        }
    }
    Some(Grid {
        header: vec![
            "stack",
            "role",
            "pid",
            "CPUs",
            "CPU%",
            "user s",
            "sys s",
            "RSS avg",
            "RSS peak",
            "threads",
            "out B/req",
        ],
        rows,
        numeric_from: 2,
    })
}

/// Bytes a process wrote per good response, when probed.
fn per_request(bytes: Option<u64>, requests_ok: u64) -> String {
    match bytes {
        Some(bytes) if requests_ok > 0 => format!("{:.0}", bytes as f64 / requests_ok as f64),
        _ => "-".to_owned(),
    }
}

/// Says what the per-process columns mean, under its table.
pub const PROCESSES_CAPTION: &str = "per process (CPU% 100 = one core busy for the whole window; \
     out B/req: bytes the process wrote to its sockets per good response)";

/// Per configuration over its repetitions, when there is something to
/// summarise: repetitions, the TCP ceiling, or wire bytes.
pub fn summary(result: &RunResult) -> Option<Grid> {
    let summary = result.summary.as_ref()?;
    let repeated = summary.groups.iter().any(|g| g.trials > 1);
    let ceiling = summary.groups.iter().any(|g| g.share_of_ceiling.is_some());
    let wire = summary
        .groups
        .iter()
        .any(|g| g.wire_bytes_per_request.is_some());
    if !(repeated || ceiling || wire) {
        return None;
    }
    // Shown when the servers were probed for it: what every hop carried.
    let hops = summary
        .groups
        .iter()
        .any(|g| g.server_bytes_written_per_request.is_some());
    let spread = |s: &crate::stats::Spread, show: &dyn Fn(f64) -> String| {
        if s.n > 1 {
            format!("{} [{}-{}]", show(s.median), show(s.min), show(s.max))
        } else {
            show(s.median)
        }
    };
    let rows = summary
        .groups
        .iter()
        .map(|g| {
            let ratio = summary
                .ratios
                .iter()
                .find(|r| r.numerator == g.label)
                .map_or_else(
                    || {
                        if g.baseline {
                            "baseline".to_owned()
                        } else {
                            "-".to_owned()
                        }
                    },
                    |r| r.throughput.cell(),
                );
            let bytes = |s: Option<crate::stats::Spread>| {
                s.map_or("-".to_owned(), |s| {
                    format::thousands(s.median.round() as u64)
                })
            };
            // No good answer in any trial: no latency, "-" not "0 us".
            let answered = result
                .trials
                .iter()
                .any(|t| t.requests_ok > 0 && crate::label::group_label(result, t) == g.label);
            let latency = |us: f64| match answered {
                true => format::latency_us(us as u64),
                false => "-".to_owned(),
            };
            let mut row = vec![
                g.label.clone(),
                g.trials.to_string(),
                spread(&g.throughput_rps, &|v| format::rate(v)),
                latency(g.latency_p50_us.median),
                latency(g.latency_p99_us.median),
                g.server_cpu_ms_per_request
                    .map_or("-".to_owned(), |s| format!("{:.3}", s.median)),
                bytes(g.wire_bytes_per_request),
            ];
            if hops {
                row.push(bytes(g.server_bytes_written_per_request));
            }
            row.extend([
                g.share_of_ceiling
                    .map_or("-".to_owned(), |share| format!("{:.1}%", share * 100.0)),
                ratio,
            ]);
            row
        })
        .collect();
    let mut header = vec![
        "stack",
        "trials",
        "req/s median [range]",
        "p50",
        "p99",
        "srv CPU ms/req",
        "wire B/req",
    ];
    if hops {
        header.push("srv out B/req");
    }
    header.extend(["of ceiling", "req/s vs base"]);
    Some(Grid {
        header,
        rows,
        numeric_from: 1,
    })
}

/// Every schedule step of every trial that followed a schedule.
pub fn steps(result: &RunResult) -> Option<Grid> {
    let rows: Vec<Vec<String>> = result
        .trials
        .iter()
        .flat_map(|t| {
            let label = trial_label(result, t);
            t.steps.iter().map(move |s| {
                vec![
                    label.clone(),
                    format!("{:.1}-{:.1} s", s.from_s, s.to_s),
                    format!("{:.1}", s.offered),
                    format::rate(s.throughput_rps),
                    s.errors.to_string(),
                    format::latency_us(s.p99_us),
                ]
            })
        })
        .collect();
    (!rows.is_empty()).then(|| Grid {
        header: vec!["per step", "window", "offered", "req/s", "errors", "p99"],
        rows,
        numeric_from: 2,
    })
}

/// A mix, or several targets: each call of each trial, measured apart
/// (the trial's own row is the whole mix).
pub fn calls(result: &RunResult) -> Option<Grid> {
    let rows: Vec<Vec<String>> = result
        .trials
        .iter()
        .flat_map(|t| {
            let label = trial_label(result, t);
            let attempts: u64 = t.calls.iter().map(|c| c.attempts()).sum();
            t.calls.iter().map(move |c| {
                let share = if attempts == 0 {
                    0.0
                } else {
                    c.attempts() as f64 / attempts as f64
                };
                let wire = c.wire_bytes_sent + c.wire_bytes_received;
                vec![
                    label.clone(),
                    c.name.clone(),
                    format!("{:.1}%", c.weight_share * 100.0),
                    format!("{:.1}%", share * 100.0),
                    format::rate(c.throughput_rps),
                    c.errors_total().to_string(),
                    format::latency_us(c.latency_us.p50),
                    format::latency_us(c.latency_us.p99),
                    match c.attempts() {
                        0 => "-".to_owned(),
                        n => format::thousands(wire / n),
                    },
                ]
            })
        })
        .collect();
    (!rows.is_empty()).then(|| Grid {
        header: vec![
            "per call",
            "call",
            "weight",
            "sent",
            "req/s",
            "errors",
            "p50",
            "p99",
            "wire B/req",
        ],
        rows,
        numeric_from: 2,
    })
}

/// The open loop's timing, per trial that had one: how late the load
/// generator sent (its own error), how many requests waited for a free
/// sender, and the latency from the due time beside the latency from the
/// actual send.
pub fn pacing(result: &RunResult) -> Option<Grid> {
    let rows: Vec<Vec<String>> = result
        .trials
        .iter()
        .filter_map(|t| {
            let late = t.send_lateness.as_ref()?;
            let l = &late.lateness_us;
            let uncorrected = t.latency_uncorrected_us.as_ref();
            Some(vec![
                trial_label(result, t),
                late.pacing.clone(),
                format::latency_us(l.p50),
                format::latency_us(l.p99),
                format::latency_us(l.max),
                format::thousands(late.due_while_busy),
                format::latency_us(t.latency_us.p50),
                uncorrected.map_or("-".to_owned(), |u| format::latency_us(u.p50)),
            ])
        })
        .collect();
    (!rows.is_empty()).then(|| Grid {
        header: vec![
            "open loop",
            "pacing",
            "late p50",
            "late p99",
            "late max",
            "due while busy",
            "p50 from due",
            "p50 from send",
        ],
        rows,
        numeric_from: 2,
    })
}

impl Grid {
    /// The grid without the columns whose header is in `drop`, nor those
    /// with nothing but "-" in them.
    pub fn without(self, drop: &[&str]) -> Grid {
        let keep: Vec<bool> = self
            .header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                !drop.contains(h) && (self.rows.is_empty() || self.rows.iter().any(|r| r[i] != "-"))
            })
            .collect();
        let numeric_from = (0..self.numeric_from).filter(|&i| keep[i]).count();
        let pick = |row: Vec<String>| -> Vec<String> {
            row.into_iter()
                .zip(&keep)
                .filter_map(|(cell, &k)| k.then_some(cell))
                .collect()
        };
        Grid {
            header: self
                .header
                .into_iter()
                .zip(&keep)
                .filter_map(|(h, &k)| k.then_some(h))
                .collect(),
            rows: self.rows.into_iter().map(pick).collect(),
            numeric_from,
        }
    }
}
