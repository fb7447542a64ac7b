//! Servers measured from afar (`--server-metrics URL`): when the servers
//! run on another host, their /proc cannot be probed, so their metrics
//! endpoint (`serve --metrics`, or any Prometheus endpoint with the
//! standard process metrics) is read at the edges of the measured window.
//! The differences of the counters give the same figures as the local
//! probe: CPU seconds (hence CPU% and CPU per request), resident memory and
//! threads, and, from wirebench's own counters, requests and bytes written.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use wirebench_report::model::RemoteServer;

/// A scrape that takes longer than this fails the run's start (and leaves
/// the figures out at its end).
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(5);

/// One reading of one endpoint.
#[derive(Debug, Clone)]
pub struct Scrape {
    at: Instant,
    cpu_s: f64,
    rss_bytes: Option<f64>,
    threads: Option<f64>,
    requests: Option<f64>,
    bytes_written: Option<f64>,
}

/// Reads every endpoint of `urls`, in order.
pub async fn scrape_all(urls: &[String]) -> anyhow::Result<Vec<Scrape>> {
    let mut scrapes = Vec::with_capacity(urls.len());
    for url in urls {
        scrapes.push(
            tokio::time::timeout(SCRAPE_TIMEOUT, scrape(url))
                .await
                .with_context(|| format!("{url}: no answer within {SCRAPE_TIMEOUT:?}"))??,
        );
    }
    Ok(scrapes)
}

/// Checks that every URL is a plain http:// URL, before anything starts.
pub fn check_urls(urls: &[String]) -> anyhow::Result<()> {
    for url in urls {
        let uri: http::Uri = url
            .parse()
            .with_context(|| format!("--server-metrics '{url}' is not a URL"))?;
        if uri.scheme_str() != Some("http") || uri.authority().is_none() {
            bail!("--server-metrics '{url}': give http://HOST:PORT/metrics");
        }
    }
    Ok(())
}

async fn scrape(url: &str) -> anyhow::Result<Scrape> {
    let uri: http::Uri = url
        .parse()
        .with_context(|| format!("'{url}' is not a URL"))?;
    let authority = uri
        .authority()
        .with_context(|| format!("'{url}' has no host"))?
        .clone();
    let stream = tokio::net::TcpStream::connect(authority.as_str())
        .await
        .with_context(|| format!("cannot connect to {url}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .with_context(|| format!("{url}: no HTTP"))?;
    tokio::spawn(connection);
    let request = http::Request::get(uri.path_and_query().map_or("/metrics", |p| p.as_str()))
        .header(http::header::HOST, authority.as_str())
        .body(Empty::<bytes::Bytes>::new())?;
    let response = sender
        .send_request(request)
        .await
        .with_context(|| format!("{url}: no answer"))?;
    let at = Instant::now();
    if !response.status().is_success() {
        bail!("{url} answered {}", response.status());
    }
    let body = response.into_body().collect().await?.to_bytes();
    let text = std::str::from_utf8(&body).with_context(|| format!("{url}: not text"))?;
    parse(text, at).with_context(|| url.to_owned())
}

fn parse(text: &str, at: Instant) -> anyhow::Result<Scrape> {
    let metrics = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .context("not Prometheus text")?;
    // Summed over the series of a name (wirebench's are one per stack).
    let value = |name: &str| {
        let values: Vec<f64> = metrics
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter_map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => Some(v),
                _ => None,
            })
            .collect();
        (!values.is_empty()).then(|| values.iter().sum())
    };
    Ok(Scrape {
        at,
        cpu_s: value("process_cpu_seconds_total")
            .context("it has no process_cpu_seconds_total (the standard process metrics)")?,
        rss_bytes: value("process_resident_memory_bytes"),
        threads: value("process_threads"),
        requests: value("wirebench_requests_total"),
        bytes_written: value("wirebench_bytes_written_total"),
    })
}

/// The endpoints read when the window opens (`warmup` from now) and again
/// when [`Watch::finish`] is called.
pub struct Watch {
    urls: Vec<String>,
    first: tokio::task::JoinHandle<anyhow::Result<Vec<Scrape>>>,
}

/// Starts watching `urls` (None when there are none).
pub fn watch(urls: &[String], warmup: Duration) -> Option<Watch> {
    if urls.is_empty() {
        return None;
    }
    let owned = urls.to_vec();
    Some(Watch {
        urls: urls.to_vec(),
        first: tokio::spawn(async move {
            tokio::time::sleep(warmup).await;
            scrape_all(&owned).await
        }),
    })
}

impl Watch {
    /// The window's figures per endpoint; an endpoint that failed is said
    /// and left out (the run's own figures stand).
    pub async fn finish(self) -> Vec<RemoteServer> {
        let end = scrape_all(&self.urls).await;
        let start = self
            .first
            .await
            .map_err(anyhow::Error::from)
            .and_then(|r| r);
        match (start, end) {
            (Ok(start), Ok(end)) => window(&self.urls, &start, &end),
            (Err(e), _) | (_, Err(e)) => {
                println!("server metrics left out: {e:#}");
                Vec::new()
            }
        }
    }
}

/// What each endpoint's counters say of the window between `start` and
/// `end` (the same URLs, in order).
pub fn window(urls: &[String], start: &[Scrape], end: &[Scrape]) -> Vec<RemoteServer> {
    urls.iter()
        .zip(start.iter().zip(end))
        .map(|(url, (start, end))| {
            let seconds = end.at.saturating_duration_since(start.at).as_secs_f64();
            let cpu_s = (end.cpu_s - start.cpu_s).max(0.0);
            let delta =
                |f: fn(&Scrape) -> Option<f64>| Some((f(end)? - f(start)?).max(0.0).round() as u64);
            RemoteServer {
                url: url.clone(),
                window_s: seconds,
                cpu_s,
                cpu_percent: if seconds > 0.0 {
                    cpu_s / seconds * 100.0
                } else {
                    0.0
                },
                rss_bytes: end.rss_bytes.map(|v| v as u64),
                threads: end.threads.map(|v| v as u64),
                requests: delta(|s| s.requests),
                bytes_written: delta(|s| s.bytes_written),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_at_the_edges_give_the_window() {
        let text = |cpu: f64, requests: u64| {
            format!(
                "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {cpu}\n\
                 process_resident_memory_bytes 1000\nprocess_threads 3\n\
                 wirebench_requests_total{{stack=\"rest\"}} {requests}\n"
            )
        };
        let at = Instant::now();
        let start = parse(&text(1.5, 100), at).unwrap();
        let end = parse(&text(3.5, 1100), at + Duration::from_secs(4)).unwrap();
        let urls = ["http://h:9100/metrics".to_owned()];
        let [server] = window(&urls, &[start], &[end]).try_into().unwrap();
        assert_eq!(server.cpu_s, 2.0);
        assert_eq!(server.cpu_percent, 50.0);
        assert_eq!(server.requests, Some(1000));
        assert_eq!(server.bytes_written, None);
        assert_eq!(server.rss_bytes, Some(1000));
        assert!(parse("up 1\n", at).is_err());
        assert!(check_urls(&["https://h/metrics".into()]).is_err());
        assert!(check_urls(&["http://h:9100/metrics".into()]).is_ok());
    }
}
