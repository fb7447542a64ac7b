//! What a trial stands on, set up before its window and torn down after
//! it: its servers (started here as child processes, or served elsewhere
//! with `--target`), the network path in front of them (the kernel's delay
//! line on the `--netns` path, the proxy), and the clients that load them
//! (one per call of a mix). A trial is one pipeline: its plan
//! ([`super::trials::TrialPlan`]) -> [`Resources::start`] -> the measured
//! window (`crate::trial::measure`) -> its `Trial`, assembled once.

use std::sync::Arc;

use anyhow::Context;
use wirebench_load::{Client, Mixed, Target, TlsClient, Trust};
use wirebench_netsim::delay_line::DelayLine;
use wirebench_netsim::netns::VethPath;
use wirebench_netsim::{NetConditions, Proxy, Transport};
use wirebench_probe::ProcessRole;

use super::Run;
use super::config::BenchConfig;
use super::trials::TrialPlan;
use crate::deploy::{self, Servers};
use crate::trial::CallSpec;

/// A trial's servers, network path and clients. Fields drop in order: the
/// proxy, then the servers (the client-facing one first), then the delay
/// line and the clients.
pub struct Resources {
    proxy: Option<Proxy>,
    /// Started here; None when the stack is served elsewhere, or stopped.
    servers: Option<Servers>,
    /// Whether wirebench started the servers (not `--target`).
    started: bool,
    _delay_line: Option<DelayLine>,
    /// Where the load goes: the proxy, or the servers.
    pub target: Target,
    /// The client of the trial's request (of a mix: of its first call).
    pub client: Arc<Client>,
    /// A mix: the mix, and every call's client (the first is `client`),
    /// each with its own connections.
    pub mixed: Option<(Arc<Mixed>, Vec<Arc<Client>>)>,
    /// How the load reached servers started here.
    pub network_path: Option<String>,
}

impl Resources {
    /// Starts `plan`'s servers (unless served elsewhere), its network path
    /// and its clients.
    pub async fn start(
        config: &BenchConfig,
        plan: &TrialPlan,
        run: &Run,
    ) -> anyhow::Result<Resources> {
        let stack = plan.deployment.stack;
        let Run { tls, netns, .. } = run;
        let tls = tls.as_ref().filter(|_| stack.tls);
        let remote = config.settings.remote.target(stack).await?;
        let servers = match &remote {
            Some(_) => None,
            None => Some(deploy::start(
                &plan.deployment,
                tls.map(|t| &t.files),
                config.placement.server.as_ref(),
                netns.as_ref(),
            )?),
        };
        let (server_addr, host) = match (&servers, &remote) {
            (Some(servers), _) => (servers.front(), "localhost".to_owned()),
            (None, Some((addr, host))) => (*addr, host.clone()),
            (None, None) => unreachable!("started when not remote"),
        };
        // On the namespace path the kernel drops packets and shapes the
        // bandwidth, and a delay line holds each packet (so TCP and QUIC
        // see the whole round trip); the proxy keeps what only it can do
        // (resets), in front of the path.
        let net = plan.net.unwrap_or_default();
        let delay_line = match netns.as_ref() {
            Some(path) if net.in_kernel() => {
                Some(DelayLine::start(path, &net).context("--net on the --netns path")?)
            }
            _ => None,
        };
        let proxy = match plan.net.and_then(|net| net.for_proxy(netns.is_some())) {
            Some(net) => Some(
                Proxy::start_on(
                    netns
                        .as_ref()
                        .map_or(server_addr.ip(), |path| path.near.into()),
                    server_addr,
                    net,
                    if stack.is_quic() {
                        Transport::Udp
                    } else {
                        Transport::Tcp
                    },
                )
                .await
                .context("cannot start the network proxy")?,
            ),
            None => None,
        };
        let front = proxy.as_ref().map_or(server_addr, Proxy::addr);
        let trust = match (&remote, &config.settings.remote.cacert_pem, tls) {
            (Some(_), Some(pem), _) => Some(pem.clone()),
            (Some(_), None, Some(_)) => {
                anyhow::bail!("{stack} is served elsewhere: give --cacert with its certificate")
            }
            (_, _, tls) => tls.map(|t| t.cert_pem.clone()),
        };
        let tls_client = match trust.filter(|_| stack.tls) {
            Some(pem) => Some(
                TlsClient::new(&host, stack.alpn(), &Trust::Pem(pem))
                    .map_err(anyhow::Error::msg)?,
            ),
            None => None,
        };
        let target = Target {
            authority: front.to_string(),
            tls: tls_client,
            kind: plan.request.clone(),
        };
        let connections = plan.load.connections();
        let client = Arc::new(Client::new(&target, connections).await?);
        let mixed = match &plan.mix {
            Some(mix) => {
                let mut clients = vec![Arc::clone(&client)];
                for (_, request) in &mix.calls[1..] {
                    let target = Target {
                        kind: request.clone(),
                        ..target.clone()
                    };
                    clients.push(Arc::new(Client::new(&target, connections).await?));
                }
                let mixed = Arc::new(Mixed::new(mix.weights.clone(), clients.clone()));
                Some((mixed, clients))
            }
            None => None,
        };
        let network_path = servers.is_some().then(|| network_path(netns.as_ref(), net));
        Ok(Resources {
            proxy,
            started: servers.is_some(),
            servers,
            _delay_line: delay_line,
            target,
            client,
            mixed,
            network_path,
        })
    }

    /// The servers started here, (role, pid), for the probe and perf.
    pub fn roles(&self) -> Vec<(ProcessRole, u32)> {
        self.servers.as_ref().map_or_else(Vec::new, Servers::roles)
    }

    /// Whether wirebench started the servers (not `--target`).
    pub fn started_servers(&self) -> bool {
        self.started
    }

    /// Each call of a mix, as the result lists it (empty without one).
    pub fn calls(&self, plan: &TrialPlan) -> Vec<CallSpec> {
        let Some(mix) = &plan.mix else {
            return Vec::new();
        };
        mix.calls
            .iter()
            .enumerate()
            .map(|(i, (name, request))| CallSpec {
                name: name.clone(),
                target: Target {
                    kind: request.clone(),
                    ..self.target.clone()
                }
                .label(),
                weight_share: mix.weights.share(i),
            })
            .collect()
    }

    /// Stops the proxy and the servers, the client-facing one first: the
    /// window is over. The clients stay, for what they counted.
    pub fn stop_servers(&mut self) {
        drop(self.proxy.take());
        drop(self.servers.take());
    }
}

/// The path to servers started here: loopback, or the `--netns` path with
/// what the kernel and the delay line do on it.
fn network_path(netns: Option<&VethPath>, net: NetConditions) -> String {
    let Some(path) = netns else {
        return "loopback".to_owned();
    };
    let mut text = path.describe();
    if net.delays() {
        text.push_str(&format!(
            "; a TUN delay line holds every packet {} (+ up to {} jitter) each way",
            humantime::format_duration(net.latency),
            humantime::format_duration(net.jitter)
        ));
    }
    if net.loss_probability > 0.0 {
        text.push_str(&format!(
            "; the kernel drops {}% of packets each way (nftables numgen)",
            net.loss_probability * 100.0
        ));
    }
    if let Some(bits) = net.bandwidth_bits_per_s {
        text.push_str(&format!("; tbf {} kbit/s each way", bits / 1000));
    }
    text
}
