//! `bench` against servers it did not start (`--target
//! rest=http://HOST:8000,grpc=grpc://HOST:50051`): a stack named there is
//! loaded at that address instead of at a server bench starts, with every
//! other part of the trial unchanged (the same requests, checks, load,
//! `--net`). Its servers are measured through `--server-metrics`
//! (`STACK=URL`, or a URL for every stack), since their /proc is out of
//! reach: a comparison across two hosts is one command.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use serde::Serialize;
use wirebench_proto::vocab::Stack;

/// The stacks served elsewhere, and where their metrics are.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Remote {
    /// Stack name -> the URL given.
    pub targets: BTreeMap<String, String>,
    /// Stack name (or "*": every stack) -> metrics URLs.
    pub server_metrics: BTreeMap<String, Vec<String>>,
    /// The certificate +tls targets are trusted with (`--cacert`).
    #[serde(skip)]
    pub cacert_pem: Option<String>,
}

impl Remote {
    /// From `--target`, `--server-metrics` and `--cacert`, for `stacks`.
    pub fn resolve(
        targets: Option<&str>,
        server_metrics: &[String],
        cacert: Option<&PathBuf>,
        stacks: &[Stack],
    ) -> anyhow::Result<Remote> {
        let mut remote = Remote::default();
        for entry in targets.into_iter().flat_map(|t| t.split(',')) {
            let (name, url) = entry.split_once('=').with_context(|| {
                format!("--target '{entry}': give STACK=URL, e.g. rest=http://10.0.0.2:8000")
            })?;
            let stack: Stack = name
                .trim()
                .parse()
                .map_err(|e| anyhow::anyhow!("--target '{entry}': {e}"))?;
            if !stacks.contains(&stack) {
                bail!("--target names {stack}, which is not in --stacks");
            }
            authority(stack, url.trim())?;
            remote.targets.insert(stack.name(), url.trim().to_owned());
        }
        for entry in server_metrics {
            let (stack, url) = match entry.split_once('=') {
                Some((name, url)) if !name.contains('/') => (name.trim().to_owned(), url.trim()),
                _ => ("*".to_owned(), entry.trim()),
            };
            crate::server_metrics::check_urls(&[url.to_owned()])?;
            remote
                .server_metrics
                .entry(stack)
                .or_default()
                .push(url.to_owned());
        }
        remote.cacert_pem = cacert
            .map(|path| {
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))
            })
            .transpose()?;
        Ok(remote)
    }

    /// Where `stack` is served, when bench does not start it: the address
    /// (resolved now) and the host name (for TLS).
    pub async fn target(&self, stack: Stack) -> anyhow::Result<Option<(SocketAddr, String)>> {
        let Some(url) = self.targets.get(&stack.name()) else {
            return Ok(None);
        };
        let authority = authority(stack, url)?;
        let addr = tokio::net::lookup_host(&authority)
            .await
            .with_context(|| format!("--target {url}: cannot resolve {authority}"))?
            .next()
            .with_context(|| format!("--target {url}: {authority} has no address"))?;
        let host = authority
            .rsplit_once(':')
            .map_or(authority.as_str(), |(host, _)| host)
            .trim_matches(['[', ']'])
            .to_owned();
        Ok(Some((addr, host)))
    }

    /// The metrics URLs of `stack`'s servers.
    pub fn metrics_of(&self, stack: Stack) -> Vec<String> {
        [stack.name(), "*".to_owned()]
            .iter()
            .filter_map(|key| self.server_metrics.get(key))
            .flatten()
            .cloned()
            .collect()
    }
}

/// HOST:PORT of `url`, checked against `stack`'s scheme.
fn authority(stack: Stack, url: &str) -> anyhow::Result<String> {
    let (scheme, rest) = url
        .split_once("://")
        .with_context(|| format!("--target {url}: give SCHEME://HOST:PORT"))?;
    let expected = stack.scheme();
    if scheme != expected {
        bail!("--target {stack}={url}: {stack} is reached at {expected}://HOST:PORT");
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if !authority.contains(':') {
        bail!("--target {url}: give the port (HOST:PORT)");
    }
    Ok(authority.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_metrics_are_read_per_stack() {
        let stacks: Vec<Stack> = ["rest", "grpc"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let remote = Remote::resolve(
            Some("rest=http://127.0.0.1:8000,grpc=grpc://127.0.0.1:50051"),
            &[
                "rest=http://127.0.0.1:9100/metrics".into(),
                "http://127.0.0.1:9200/metrics".into(),
            ],
            None,
            &stacks,
        )
        .unwrap();
        assert_eq!(
            remote.metrics_of(stacks[0]),
            [
                "http://127.0.0.1:9100/metrics",
                "http://127.0.0.1:9200/metrics"
            ]
        );
        assert_eq!(
            remote.metrics_of(stacks[1]),
            ["http://127.0.0.1:9200/metrics"]
        );
        for (bad, why) in [
            ("rest=grpc://h:1", "reached at http://"),
            ("grpc=grpc://h", "give the port"),
            ("rest-h2=http://h:1", "not in --stacks"),
            ("rest", "STACK=URL"),
        ] {
            let error = Remote::resolve(Some(bad), &[], None, &stacks).unwrap_err();
            assert!(error.to_string().contains(why), "{bad}: {error}");
        }
    }
}
