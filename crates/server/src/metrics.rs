//! What a server tells an observer on another host (`serve --metrics
//! ADDR`): Prometheus text at `GET /metrics`, with the standard process
//! metrics (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
//! `process_threads`, read from /proc like the local probe) and
//! wirebench's own: requests handled and bytes written to
//! client sockets, labelled with the stack. A load generator that cannot
//! see the server's /proc (`load --server-metrics URL`) reads these at
//! the edges of its window and derives the same CPU and memory figures.
//!
//! The counters themselves are [`crate::counters`], below the servers that
//! count into them.

use std::future::Future;
use std::sync::LazyLock;
use std::sync::atomic::Ordering;

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{Counter, Encoder, IntCounter, IntGauge, Opts, Registry, TextEncoder};
use tokio::net::TcpListener;

/// This process's metrics, read when scraped: the process's CPU, memory
/// and threads from /proc (as the local probe reads them; the `prometheus`
/// crate's own process collector rounds CPU down to whole seconds, too
/// coarse for a window of a few seconds), and the request and byte
/// counters.
struct Counters {
    cpu: Counter,
    rss: IntGauge,
    threads: IntGauge,
    requests: IntCounter,
    bytes_written: IntCounter,
}

impl Collector for Counters {
    fn desc(&self) -> Vec<&Desc> {
        [
            self.cpu.desc(),
            self.rss.desc(),
            self.threads.desc(),
            self.requests.desc(),
            self.bytes_written.desc(),
        ]
        .concat()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        if let Some(now) = wirebench_probe::process_now(std::process::id()) {
            self.cpu.inc_by((now.cpu_s - self.cpu.get()).max(0.0));
            self.rss
                .set(i64::try_from(now.rss_bytes).unwrap_or(i64::MAX));
            self.threads
                .set(i64::try_from(now.threads).unwrap_or(i64::MAX));
        }
        for (counter, now) in [
            (&self.requests, &crate::counters::REQUESTS),
            (&self.bytes_written, &crate::counters::BYTES_WRITTEN),
        ] {
            let now = now.load(Ordering::Relaxed);
            counter.inc_by(now.saturating_sub(counter.get()));
        }
        [
            self.cpu.collect(),
            self.rss.collect(),
            self.threads.collect(),
            self.requests.collect(),
            self.bytes_written.collect(),
        ]
        .concat()
    }
}

/// The metrics of this process, `stack` naming what it serves.
fn registry(stack: &str) -> Result<Registry, prometheus::Error> {
    let registry = Registry::new();
    let ours = |name: &str, help: &str| Opts::new(name, help).const_label("stack", stack);
    registry.register(Box::new(Counters {
        cpu: Counter::with_opts(Opts::new(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
        ))?,
        rss: IntGauge::with_opts(Opts::new(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
        ))?,
        threads: IntGauge::with_opts(Opts::new("process_threads", "Number of OS threads."))?,
        requests: IntCounter::with_opts(ours(
            "wirebench_requests_total",
            "Requests handled (answered or refused).",
        ))?,
        bytes_written: IntCounter::with_opts(ours(
            "wirebench_bytes_written_total",
            "Bytes written to client connections (before TLS).",
        ))?,
    }))?;
    Ok(registry)
}

/// The metrics as Prometheus text.
pub fn render(registry: &Registry) -> String {
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&registry.gather(), &mut out)
        .expect("encoding into memory cannot fail");
    String::from_utf8(out).expect("the text format is UTF-8")
}

static CONTENT_TYPE: LazyLock<String> =
    LazyLock::new(|| TextEncoder::new().format_type().to_owned());

/// Serves `GET /metrics` on `listener` until `shutdown` completes, with the
/// server's own header, request and idle deadlines (`options`; its TLS is
/// not used: the endpoint is plain HTTP): a scraper's port faces the same
/// slow clients as the traffic port.
pub async fn serve(
    listener: TcpListener,
    stack: String,
    options: &crate::ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), crate::ServeError> {
    let registry = registry(&stack).map_err(|e| crate::ServeError::Metrics(e.to_string()))?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let text = render(&registry);
            async move { ([(http::header::CONTENT_TYPE, CONTENT_TYPE.as_str())], text) }
        }),
    );
    let incoming = crate::listener::incoming(listener, None, options.idle_timeout);
    crate::http_serve::serve_router(app, incoming, options, shutdown).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::{count_request, count_written, enable};

    #[test]
    fn the_text_has_the_process_metrics_and_ours() {
        enable();
        count_request();
        count_written(10);
        let text = render(&registry("rest").unwrap());
        for name in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_threads",
            "wirebench_requests_total{stack=\"rest\"}",
            "wirebench_bytes_written_total{stack=\"rest\"}",
        ] {
            assert!(text.contains(name), "{name} in\n{text}");
        }
    }
}
