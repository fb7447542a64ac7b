//! The live view of a run on a terminal, as oha draws one: a progress
//! gauge toward the window's end, req/s of the last second, p50/p90/p99 of
//! the window so far and p99 of the last second, the errors by kind, and
//! the latency histogram so far. It is drawn with ratatui in an inline
//! viewport under the command's own lines (not the alternate screen), so
//! the result's table follows it in the scrollback, and it is cleared when
//! the trial ends. It is fed from the engine's once-a-second timeline
//! snapshot, so drawing costs the senders nothing; the terminal is not put
//! in raw mode, so Ctrl-C stays the signal `signals.rs` handles.

use std::io::Stdout;

use hdrhistogram::Histogram;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Gauge, Paragraph};
use ratatui::{Frame, Terminal, TerminalOptions, Viewport};
use wirebench_load::{LoadPlan, Progress, StopAt};
use wirebench_report::format;

/// Rows of the latency histogram.
const HISTOGRAM_ROWS: usize = 8;
/// Lines the view takes: borders, gauge, rates, percentiles, errors, the
/// histogram's title and its rows.
const HEIGHT: u16 = 7 + HISTOGRAM_ROWS as u16;

/// What one frame shows: made from a [`Progress`], drawn by [`render`].
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub label: String,
    /// 0..=1 of the window (seconds or `-n` requests).
    pub done: f64,
    /// "4/10 s", "1200/5000 requests", "warming up for 2s".
    pub of: String,
    /// Good responses per second over `recent`.
    pub recent_rps: f64,
    /// What "recent" spans: the timeline's bin ("1s", "100ms").
    pub recent: String,
    pub requests_ok: u64,
    pub errors: u64,
    /// p50, p90, p99 of the window so far; `None` before a good response.
    pub quantiles_us: Option<[u64; 3]>,
    pub recent_p99_us: u64,
    /// Errors by kind, with the statuses answered.
    pub error_kinds: Vec<(String, u64)>,
    /// (lower bound µs, count) per histogram row.
    pub histogram: Vec<(u64, u64)>,
}

impl Snapshot {
    /// The frame before the measured window begins.
    pub fn warming_up(label: &str, plan: &LoadPlan) -> Snapshot {
        Snapshot {
            label: label.to_owned(),
            done: 0.0,
            of: format!(
                "warming up for {}",
                humantime::format_duration(plan.warmup())
            ),
            recent_rps: 0.0,
            recent: String::new(),
            requests_ok: 0,
            errors: 0,
            quantiles_us: None,
            recent_p99_us: 0,
            error_kinds: Vec::new(),
            histogram: Vec::new(),
        }
    }

    pub fn of(label: &str, stop: StopAt, p: &Progress<'_>) -> Snapshot {
        let (done, of) = how_far(stop, p);
        let latency = &p.so_far.latency_us;
        let mut error_kinds: Vec<(String, u64)> = p.so_far.errors.by_name().into_iter().collect();
        error_kinds.extend(
            p.so_far
                .errors
                .codes()
                .iter()
                .map(|(code, n)| (code.clone(), *n)),
        );
        Snapshot {
            label: label.to_owned(),
            done: done.clamp(0.0, 1.0),
            of,
            recent_rps: p.recent_rps(),
            recent: humantime::format_duration(p.bin).to_string(),
            requests_ok: p.requests_ok,
            errors: p.errors,
            quantiles_us: (!latency.is_empty())
                .then(|| [0.5, 0.9, 0.99].map(|q| latency.value_at_quantile(q))),
            recent_p99_us: p.recent_p99_us,
            error_kinds,
            histogram: rows(latency, HISTOGRAM_ROWS),
        }
    }
}

/// How far `p` is toward `stop`: 0..=1, and in words ("4/10 s",
/// "1200/5000 requests"); the plain progress lines say it the same way.
pub fn how_far(stop: StopAt, p: &Progress<'_>) -> (f64, String) {
    match stop {
        StopAt::Duration(d) => (
            p.measured_s / d.as_secs_f64().max(1e-9),
            format!("{:.0}/{:.0} s", p.measured_s, d.as_secs_f64()),
        ),
        StopAt::Requests(n) => (
            (p.requests_ok + p.errors) as f64 / n.max(1) as f64,
            format!("{}/{n} requests", p.requests_ok + p.errors),
        ),
    }
}

/// `histogram` in `n` rows of equal width from its least value to its
/// p99.9 (the last row also holds what lies above, so one outlier does not
/// squeeze the rest into a row): (lower bound, count).
pub fn rows(histogram: &Histogram<u64>, n: usize) -> Vec<(u64, u64)> {
    if histogram.is_empty() || n == 0 {
        return Vec::new();
    }
    let low = histogram.min();
    let high = histogram.value_at_quantile(0.999).max(low + 1);
    let width = (high - low).div_ceil(n as u64).max(1);
    (0..n as u64)
        .map(|i| {
            let from = low + i * width;
            let to = if i + 1 == n as u64 {
                histogram.max().max(from)
            } else {
                from + width - 1
            };
            (from, histogram.count_between(from, to))
        })
        .collect()
}

/// Draws `view` into `frame`.
pub fn render(frame: &mut Frame<'_>, view: &Snapshot) {
    let block = Block::bordered().title(format!(" {} ", view.label));
    let inner = block.inner(frame.area());
    frame.render_widget(block, frame.area());
    let [gauge, rates, quantiles, errors, histogram] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(inner);
    frame.render_widget(
        Gauge::default()
            .gauge_style(Style::new().fg(Color::Cyan).bg(Color::DarkGray))
            .ratio(view.done)
            .label(view.of.clone())
            .use_unicode(true),
        gauge,
    );
    frame.render_widget(
        Paragraph::new(format!(
            "req/s {} (last {})   ok {}   errors {}",
            format::rate(view.recent_rps),
            view.recent,
            format::thousands(view.requests_ok),
            format::thousands(view.errors)
        )),
        rates,
    );
    let so_far = match view.quantiles_us {
        Some([p50, p90, p99]) => format!(
            "p50 {}   p90 {}   p99 {} (so far)   p99 {} (last {})",
            format::latency_us(p50),
            format::latency_us(p90),
            format::latency_us(p99),
            format::latency_us(view.recent_p99_us),
            view.recent
        ),
        None => "p50 -   p90 -   p99 - (no good response yet)".to_owned(),
    };
    frame.render_widget(Paragraph::new(so_far), quantiles);
    let kinds = if view.error_kinds.is_empty() {
        "errors by kind: none".to_owned()
    } else {
        let kinds: Vec<String> = view
            .error_kinds
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect();
        format!("errors by kind: {}", kinds.join(", "))
    };
    frame.render_widget(Paragraph::new(kinds), errors);
    frame.render_widget(
        Paragraph::new(histogram_lines(&view.histogram, histogram.width)),
        histogram,
    );
}

/// The histogram's title and one line per row: its lower bound, a bar
/// scaled to the fullest row, its count.
fn histogram_lines(rows: &[(u64, u64)], width: u16) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from("latency so far")];
    let fullest = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let room = (width as usize).saturating_sub(24).max(1);
    for (from, n) in rows {
        let bar = (*n as usize * room).div_ceil(fullest as usize);
        lines.push(Line::from(format!(
            "{:>10} {} {n}",
            format::latency_us(*from),
            "\u{2588}".repeat(bar)
        )));
    }
    lines
}

/// The view on the terminal of standard output.
pub struct LiveView {
    terminal: Terminal<CrosstermBackend<Stdout>>,
    label: String,
    stop: StopAt,
}

impl LiveView {
    /// Starts the view; `None` when the terminal will not take it (the
    /// caller falls back to plain lines).
    pub fn start(label: &str, plan: &LoadPlan) -> Option<LiveView> {
        let terminal = Terminal::with_options(
            CrosstermBackend::new(std::io::stdout()),
            TerminalOptions {
                viewport: Viewport::Inline(HEIGHT),
            },
        )
        .ok()?;
        let mut view = LiveView {
            terminal,
            label: label.to_owned(),
            stop: plan.stop(),
        };
        view.draw(&Snapshot::warming_up(label, plan));
        Some(view)
    }

    pub fn update(&mut self, p: &Progress<'_>) {
        let snapshot = Snapshot::of(&self.label, self.stop, p);
        self.draw(&snapshot);
    }

    fn draw(&mut self, snapshot: &Snapshot) {
        // A terminal that fails to draw loses a frame, never the run.
        let _ = self.terminal.draw(|frame| render(frame, snapshot));
    }

    /// Clears the view and leaves the cursor where it began, for what
    /// the command prints next.
    pub fn finish(mut self) {
        let top = self.terminal.get_frame().area().as_position();
        let _ = self.terminal.clear();
        let _ = self.terminal.set_cursor_position(top);
        let _ = self.terminal.show_cursor();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;

    fn latencies(values_us: &[u64]) -> Histogram<u64> {
        let mut h = Histogram::new(3).unwrap();
        for v in values_us {
            h.record(*v).unwrap();
        }
        h
    }

    #[test]
    fn rows_span_min_to_p999_and_count_every_value() {
        let mut values: Vec<u64> = (100..=1099).collect();
        values.push(1_000_000); // one outlier, above p99.9
        let h = latencies(&values);
        let five = rows(&h, 5);
        assert_eq!(five.len(), 5);
        assert_eq!(five[0].0, 100);
        assert!(five.windows(2).all(|w| w[0].0 < w[1].0));
        let counted: u64 = five.iter().map(|(_, n)| n).sum();
        assert_eq!(
            counted,
            h.len(),
            "every value is in one row, the outlier in the last"
        );
        assert!(rows(&latencies(&[]), 5).is_empty());
    }

    #[test]
    fn a_frame_shows_progress_rates_percentiles_errors_and_the_histogram() {
        let h = latencies(&[500, 600, 700, 800, 900, 2_000]);
        let view = Snapshot {
            label: "rest 1 KiB".to_owned(),
            done: 0.4,
            of: "4/10 s".to_owned(),
            recent_rps: 1234.0,
            recent: "1s".to_owned(),
            requests_ok: 4936,
            errors: 3,
            quantiles_us: Some([700, 900, 2_000]),
            recent_p99_us: 1_500,
            error_kinds: vec![("timeout".to_owned(), 2), ("HTTP 503".to_owned(), 1)],
            histogram: rows(&h, HISTOGRAM_ROWS),
        };
        let mut terminal = Terminal::new(TestBackend::new(90, HEIGHT)).unwrap();
        terminal.draw(|frame| render(frame, &view)).unwrap();
        let buffer = terminal.backend().buffer();
        let text: String = (0..buffer.area.height)
            .map(|y| {
                (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
                    + "\n"
            })
            .collect();
        for expected in [
            "rest 1 KiB",
            "4/10 s",
            "req/s 1,234.0 (last 1s)",
            "ok 4,936",
            "errors 3",
            "p50 700 us",
            "p99 2.00 ms (so far)",
            "p99 1.50 ms (last 1s)",
            "timeout 2, HTTP 503 1",
            "latency so far",
            "\u{2588}",
        ] {
            assert!(text.contains(expected), "{expected:?} not in\n{text}");
        }
    }
}
