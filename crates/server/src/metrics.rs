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
//! count into them: the server's options carry them, and this endpoint
//! reads the same ones. Its own answers are not counted.

use std::future::Future;
use std::sync::{Arc, LazyLock};

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{Counter, Encoder, IntCounter, IntGauge, Opts, Registry, TextEncoder};
use tokio::net::TcpListener;

/// This process's metrics, read when scraped: the process's CPU, memory
/// and threads from /proc (as the local probe reads them; the `prometheus`
/// crate's own process collector rounds CPU down to whole seconds, too
/// coarse for a window of a few seconds), and the request and byte
/// counters.
struct Collected {
    cpu: Counter,
    rss: IntGauge,
    threads: IntGauge,
    requests: IntCounter,
    bytes_written: IntCounter,
    counts: Arc<crate::counters::Counters>,
}

impl Collector for Collected {
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
            (&self.requests, self.counts.requests()),
            (&self.bytes_written, self.counts.bytes_written()),
        ] {
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

/// The metrics of this process, `stack` naming what it serves and
/// `counts` what it counted.
fn registry(
    stack: &str,
    counts: Arc<crate::counters::Counters>,
) -> Result<Registry, prometheus::Error> {
    let registry = Registry::new();
    let ours = |name: &str, help: &str| Opts::new(name, help).const_label("stack", stack);
    registry.register(Box::new(Collected {
        counts,
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
/// slow clients as the traffic port. The counters are the server's
/// (`options.counters`, made here when it has none, so they read 0).
pub async fn serve(
    listener: TcpListener,
    stack: String,
    options: &crate::ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), crate::ServeError> {
    let counts = options.counters.clone().unwrap_or_default();
    let registry =
        registry(&stack, counts).map_err(|e| crate::ServeError::Metrics(e.to_string()))?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let text = render(&registry);
            async move { ([(http::header::CONTENT_TYPE, CONTENT_TYPE.as_str())], text) }
        }),
    );
    // Outside the server's scope: a scrape is not one of its requests.
    crate::task::Scope::default()
        .run(async {
            let incoming = crate::listener::incoming(listener, None, options.idle_timeout);
            crate::http_serve::serve_router(app, incoming, options, shutdown).await;
        })
        .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::{Counters, count_request, count_written};
    use crate::task::Scope;

    #[test]
    fn the_text_has_the_process_metrics_and_ours() {
        let counts = Arc::new(Counters::default());
        let scope = Scope {
            counters: Some(counts.clone()),
            ..Scope::default()
        };
        scope.run_sync(|| {
            count_request();
            count_written(10);
        });
        let text = render(&registry("rest", counts).unwrap());
        for name in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_threads",
            "wirebench_requests_total{stack=\"rest\"} 1",
            "wirebench_bytes_written_total{stack=\"rest\"} 10",
        ] {
            assert!(text.contains(name), "{name} in\n{text}");
        }
    }
}
