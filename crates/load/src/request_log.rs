//! `--log-requests FILE`: one line per request (vegeta's `encode`, k6's
//! `--out json`), for the questions a histogram cannot answer (which
//! request was slow, when). A [`Logged`] client wraps the run's client
//! and hands each request's line to a writer thread over a channel, so a
//! sender never waits on the disk. The log is bounded (`max` lines; later
//! requests are counted as not logged) and written atomically: a
//! temporary file beside FILE, renamed when the run ends.
//!
//! Each line: the send time (Unix seconds), the call (a mix's call, or
//! the target), the stack, the latency from send to answer in
//! microseconds (as the request saw it, not corrected for an open loop's
//! due time), the status ("ok", or the failure's code or kind), and the
//! answer's bytes. Warm-up requests are logged too, marked `warmup`
//! when they left before the measured window.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use crate::client::{Answer, WireBytes};
use crate::engine::Call;
use crate::errors::RequestFailure;

/// The line format: JSON Lines, or CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    JsonLines,
    Csv,
}

impl LogFormat {
    /// CSV for a `.csv` file, else JSON Lines.
    pub fn of(path: &Path) -> LogFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => LogFormat::Csv,
            _ => LogFormat::JsonLines,
        }
    }
}

struct Line {
    sent_unix_s: f64,
    call: Arc<str>,
    warmup: bool,
    latency_us: u64,
    status: String,
    bytes: u64,
}

/// The log of one run.
pub struct RequestLog {
    sender: Mutex<Option<mpsc::Sender<Line>>>,
    writer: Mutex<Option<std::thread::JoinHandle<std::io::Result<()>>>>,
    temp: PathBuf,
    path: PathBuf,
    /// When the measured window opens: requests sent before are warm-up.
    measure_from: Instant,
    max_lines: u64,
    taken: AtomicU64,
}

/// What the log holds when the run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSummary {
    pub lines: u64,
    /// Requests past the bound: counted, not logged.
    pub not_logged: u64,
}

impl RequestLog {
    /// A log to `path` of at most `max_lines` lines for `stack`'s run,
    /// whose warm-up lasts `warmup` from now.
    pub fn create(
        path: &Path,
        stack: &str,
        warmup: Duration,
        max_lines: u64,
    ) -> std::io::Result<RequestLog> {
        let format = LogFormat::of(path);
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
        let file = tempfile::Builder::new()
            .prefix(".wirebench-log-")
            .tempfile_in(folder.unwrap_or(Path::new(".")))?;
        let (file, temp) = file.keep().map_err(|e| e.error)?;
        let (sender, lines) = mpsc::channel::<Line>();
        let stack: Arc<str> = stack.into();
        let writer_stack = Arc::clone(&stack);
        let writer = std::thread::Builder::new()
            .name("request-log".into())
            .spawn(move || write_lines(file, format, &writer_stack, lines))?;
        Ok(RequestLog {
            sender: Mutex::new(Some(sender)),
            writer: Mutex::new(Some(writer)),
            temp,
            path: path.to_owned(),
            measure_from: Instant::now() + warmup,
            max_lines,
            taken: AtomicU64::new(0),
        })
    }

    fn record(&self, call: &Arc<str>, sent: Instant, result: &Result<Answer, RequestFailure>) {
        if self.taken.fetch_add(1, Ordering::Relaxed) >= self.max_lines {
            return;
        }
        let latency = Instant::now().saturating_duration_since(sent);
        let sent_unix_s = (SystemTime::now() - latency)
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let (status, bytes) = match result {
            Ok(answer) => ("ok".to_owned(), answer.bytes),
            Err(failure) => (
                failure
                    .code
                    .clone()
                    .unwrap_or_else(|| failure.kind.name().to_owned()),
                0,
            ),
        };
        let line = Line {
            sent_unix_s,
            call: Arc::clone(call),
            warmup: sent < self.measure_from,
            latency_us: crate::stats::micros(latency),
            status,
            bytes,
        };
        if let Some(sender) = self.sender.lock().expect("not poisoned").as_ref() {
            let _ = sender.send(line);
        }
    }

    /// Ends the log: every line written, the file renamed into place.
    pub fn finish(&self) -> std::io::Result<LogSummary> {
        drop(self.sender.lock().expect("not poisoned").take());
        if let Some(writer) = self.writer.lock().expect("not poisoned").take() {
            writer
                .join()
                .map_err(|_| std::io::Error::other("the request log's writer panicked"))??;
            std::fs::rename(&self.temp, &self.path)?;
        }
        let taken = self.taken.load(Ordering::Relaxed);
        Ok(LogSummary {
            lines: taken.min(self.max_lines),
            not_logged: taken.saturating_sub(self.max_lines),
        })
    }
}

fn write_lines(
    file: std::fs::File,
    format: LogFormat,
    stack: &str,
    lines: mpsc::Receiver<Line>,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
    if format == LogFormat::Csv {
        writeln!(out, "sent_unix_s,call,stack,warmup,latency_us,status,bytes")?;
    }
    for line in lines {
        match format {
            LogFormat::JsonLines => {
                let json = serde_json::json!({
                    "sent_unix_s": line.sent_unix_s,
                    "call": &*line.call,
                    "stack": stack,
                    "warmup": line.warmup,
                    "latency_us": line.latency_us,
                    "status": line.status,
                    "bytes": line.bytes,
                });
                writeln!(out, "{json}")?;
            }
            LogFormat::Csv => {
                let quote = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
                writeln!(
                    out,
                    "{:.6},{},{},{},{},{},{}",
                    line.sent_unix_s,
                    quote(&line.call),
                    quote(stack),
                    line.warmup,
                    line.latency_us,
                    quote(&line.status),
                    line.bytes
                )?;
            }
        }
    }
    out.flush()?;
    out.get_ref().sync_all()
}

/// A client whose every request is logged.
pub struct Logged<C> {
    inner: Arc<C>,
    log: Arc<RequestLog>,
    /// Each call's name (one, for a client without a mix).
    names: Vec<Arc<str>>,
}

impl<C: Call> Logged<C> {
    /// `inner`'s requests, logged to `log`; `target` names the call of a
    /// client without a mix.
    pub fn new(inner: Arc<C>, log: Arc<RequestLog>, target: &str) -> Logged<C> {
        let names = match inner.mix() {
            Some(mix) => mix.names().iter().map(|n| Arc::from(n.as_str())).collect(),
            None => vec![Arc::from(target)],
        };
        Logged { inner, log, names }
    }
}

impl<C: Call> Call for Logged<C> {
    async fn call(&self, sender_id: usize, timeout: Duration) -> Result<Answer, RequestFailure> {
        self.call_picked(0, sender_id, timeout).await
    }

    async fn call_picked(
        &self,
        pick: usize,
        sender_id: usize,
        timeout: Duration,
    ) -> Result<Answer, RequestFailure> {
        let sent = Instant::now();
        let result = self.inner.call_picked(pick, sender_id, timeout).await;
        self.log.record(&self.names[pick], sent, &result);
        result
    }

    fn wire_bytes(&self) -> WireBytes {
        self.inner.wire_bytes()
    }

    fn mix(&self) -> Option<&crate::mix::Weights> {
        self.inner.mix()
    }

    fn wire_bytes_each(&self) -> Vec<WireBytes> {
        self.inner.wire_bytes_each()
    }
}
