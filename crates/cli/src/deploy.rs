//! The servers of one trial, as child processes: the payload service (one
//! or several processes sharing a port), or the three pipeline services
//! wired to each other. Each is this same binary running `serve`.

use std::net::{IpAddr, SocketAddr};

use wirebench_probe::CpuSet;
use wirebench_probe::ProcessRole;
use wirebench_proto::message::MessageSource;
use wirebench_proto::vocab::Stack;
use wirebench_server::grpc::{GrpcExec, GrpcImpl};
use wirebench_server::pipeline::{HopMode, Role};

use crate::args::{ServeArgs, ServiceKind};
use crate::children::{Place, ServerProcess};

/// What to start for one trial: complete before it starts (a `+tls`
/// stack's certificate is the run's, handed to [`start`]).
#[derive(Debug, Clone)]
pub struct Deployment {
    pub stack: Stack,
    /// Tokio worker threads of each process.
    pub workers: usize,
    /// Processes sharing the port (payload; the pipeline has one per role).
    pub processes: usize,
    pub max_size_kb: u64,
    pub services: Services,
    /// JSON stacks: the codec every process serves with.
    pub json_codec: Option<wirebench_proto::json::Codec>,
}

/// Which services, with what is particular to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Services {
    /// The payload service; over gRPC, where its handlers run and which
    /// implementation serves it.
    Payload {
        grpc_exec: GrpcExec,
        grpc_impl: GrpcImpl,
    },
    /// The three pipeline services: records per request by default, and
    /// over gRPC, how they call each other.
    Pipeline { records: u32, hop: HopMode },
    /// The message service, serving this message.
    Message { source: MessageSource },
    /// A mix of calls, each at its own route and method (`serve mix`).
    Mix {
        file: std::path::PathBuf,
        calls: usize,
    },
}

/// A certificate and key on disk, for `serve --tls-cert/--tls-key`.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

impl Deployment {
    /// For the trial's header line.
    pub fn describe(&self) -> String {
        let codec = match self.json_codec {
            Some(codec) => format!("; JSON by {codec}"),
            None => String::new(),
        };
        let services = match &self.services {
            Services::Payload {
                grpc_exec,
                grpc_impl,
            } => format!(
                "{} server process(es) x {} worker(s){}",
                self.processes,
                self.workers,
                match grpc_impl {
                    _ if !self.stack.is_grpc() => String::new(),
                    GrpcImpl::Tonic => format!("; handlers {grpc_exec}"),
                    GrpcImpl::Grpcio => "; gRPC C-core (grpcio)".to_owned(),
                }
            ),
            Services::Pipeline { records, hop } if self.stack.is_grpc() => format!(
                "pipeline of {records} records, {} hops; 3 processes x {} worker(s)",
                hop.name(),
                self.workers
            ),
            Services::Pipeline { records, .. } => format!(
                "pipeline of {records} records; 3 processes x {} worker(s)",
                self.workers
            ),
            Services::Message { source } => format!(
                "message {}; {} server process(es) x {} worker(s)",
                source.label(),
                self.processes,
                self.workers
            ),
            Services::Mix { file, calls } => format!(
                "mix {} ({calls} calls); {} server process(es) x {} worker(s)",
                file.display(),
                self.processes,
                self.workers
            ),
        };
        services + &codec
    }

    /// The gRPC hop mode, where it applies (the pipeline over gRPC).
    pub fn hop(&self) -> Option<HopMode> {
        match self.services {
            Services::Pipeline { hop, .. } if self.stack.is_grpc() => Some(hop),
            Services::Pipeline { .. }
            | Services::Payload { .. }
            | Services::Message { .. }
            | Services::Mix { .. } => None,
        }
    }

    /// Where gRPC handlers run, where it applies (the payload over gRPC).
    pub fn grpc_exec(&self) -> Option<GrpcExec> {
        match self.services {
            Services::Payload {
                grpc_exec,
                grpc_impl: GrpcImpl::Tonic,
            } if self.stack.is_grpc() => Some(grpc_exec),
            Services::Payload { .. }
            | Services::Pipeline { .. }
            | Services::Message { .. }
            | Services::Mix { .. } => None,
        }
    }

    /// Which gRPC implementation serves, where it applies (the payload
    /// over gRPC).
    pub fn grpc_impl(&self) -> Option<GrpcImpl> {
        match self.services {
            Services::Payload { grpc_impl, .. } if self.stack.is_grpc() => Some(grpc_impl),
            Services::Payload { .. }
            | Services::Pipeline { .. }
            | Services::Message { .. }
            | Services::Mix { .. } => None,
        }
    }
}

/// Running servers, with the role each plays; stopped on drop, the
/// client-facing one first so that streams between services close cleanly.
pub struct Servers {
    processes: Vec<(ProcessRole, ServerProcess)>,
}

impl Servers {
    /// The address clients send to.
    pub fn front(&self) -> SocketAddr {
        match self.processes.last() {
            Some((ProcessRole::Pipeline(Role::Aggregator), p)) => p.addr(),
            _ => self.processes[0].1.addr(),
        }
    }

    /// (role, pid) of every process, for the probe.
    pub fn roles(&self) -> Vec<(ProcessRole, u32)> {
        self.processes
            .iter()
            .map(|(role, p)| (*role, p.pid()))
            .collect()
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        while let Some((_, mut process)) = self.processes.pop() {
            process.stop();
        }
    }
}

/// Starts the servers of `deployment`, pinned to `cpus`, in the namespace
/// of `netns` when given (`bench --netns`); a `+tls` stack's servers
/// present `tls`. Spawned from the thread that runs `block_on`, which lives
/// as long as the run: PR_SET_PDEATHSIG is tied to that thread.
pub fn start(
    deployment: &Deployment,
    tls: Option<&TlsFiles>,
    cpus: Option<&CpuSet>,
    netns: Option<&wirebench_netsim::netns::VethPath>,
) -> anyhow::Result<Servers> {
    anyhow::ensure!(
        deployment.stack.tls == tls.is_some(),
        "{}: a +tls stack needs the run's certificate, and only it",
        deployment.stack
    );
    let mut servers = Servers {
        processes: Vec::new(),
    };
    let d = deployment;
    let bind: IpAddr = netns.map_or(IpAddr::from([127, 0, 0, 1]), |path| path.far.into());
    let place = Place {
        cpus: cpus.cloned(),
        netns: netns.map(|path| path.servers().path()),
    };
    // Every child's command line is a `ServeArgs`, the very type `serve`
    // parses, written out by its one function (`ServeArgs::argv`).
    let spec = |workload: ServiceKind| -> ServeArgs {
        let mut spec = ServeArgs::new(workload, d.stack);
        spec.bind = bind;
        spec.workers = Some(d.workers);
        if let Some(codec) = d.json_codec {
            spec.json_codec = codec;
        }
        if let Some(tls) = tls {
            spec.tls_cert = Some(tls.cert.clone());
            spec.tls_key = Some(tls.key.clone());
        }
        spec
    };
    match &d.services {
        Services::Payload { .. } | Services::Message { .. } | Services::Mix { .. } => {
            let mut one = match &d.services {
                Services::Message { source } => spec(ServiceKind::Message).with_message(source),
                Services::Mix { file, .. } => {
                    let mut one = spec(ServiceKind::Mix);
                    one.mix = Some(file.clone());
                    one
                }
                &Services::Payload {
                    grpc_exec,
                    grpc_impl,
                } => {
                    let mut one = spec(ServiceKind::Payload);
                    one.grpc_exec = grpc_exec;
                    one.grpc_impl = grpc_impl;
                    one
                }
                Services::Pipeline { .. } => unreachable!("matched below"),
            };
            one.max_size_kb = d.max_size_kb;
            one.reuse_port = d.processes > 1;
            // With several processes, the first picks a free port and the
            // others join it with SO_REUSEPORT.
            for i in 0..d.processes {
                one.port = Some(
                    servers
                        .processes
                        .first()
                        .map_or(0, |(_, first)| first.addr().port()),
                );
                let label = format!("{} #{}", d.stack, i + 1);
                let process = ServerProcess::start(&label, &one.argv(), place.clone())?;
                servers.processes.push((ProcessRole::Server, process));
            }
        }
        &Services::Pipeline { records, hop } => {
            let mut upstream: Option<SocketAddr> = None;
            for role in Role::ALL {
                let mut one = spec(ServiceKind::Pipeline);
                one.role = Some(role);
                one.port = Some(0);
                one.records = records;
                one.hop = hop;
                one.upstream = upstream.map(|next| next.to_string());
                let label = format!("{} {role}", d.stack);
                let process = ServerProcess::start(&label, &one.argv(), place.clone())?;
                upstream = Some(process.addr());
                servers
                    .processes
                    .push((ProcessRole::Pipeline(role), process));
            }
        }
    }
    Ok(servers)
}
