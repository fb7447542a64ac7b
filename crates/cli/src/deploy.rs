//! The servers of one trial, as child processes: the payload service (one
//! or several processes sharing a port), or the three pipeline services
//! wired to each other. Each is this same binary running `serve`.

use std::net::SocketAddr;

use wirebench_probe::CpuSet;
use wirebench_proto::vocab::Stack;
use wirebench_server::grpc::GrpcExec;
use wirebench_server::pipeline::{HopMode, Role};

use crate::args::BenchWorkload;
use crate::children::ServerProcess;

/// What to start for one trial.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub workload: BenchWorkload,
    pub stack: Stack,
    pub workers: usize,
    pub max_size_kb: u64,
    /// Payload: processes sharing the port.
    pub processes: usize,
    /// Pipeline: records per request by default, and the gRPC hop mode.
    pub records: u32,
    pub hop: HopMode,
    /// Payload over gRPC: where handlers run.
    pub grpc_exec: GrpcExec,
    /// +tls stacks: the certificate the servers present.
    pub tls: Option<TlsFiles>,
}

/// A certificate and key on disk, for `serve --tls-cert/--tls-key`.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

impl Deployment {
    /// For the trial's header line.
    pub fn describe(&self, size_kb: u64) -> String {
        match self.workload {
            BenchWorkload::Payload => format!(
                "{size_kb} KiB payload; {} server process(es) x {} worker(s){}",
                self.processes,
                self.workers,
                if self.stack.is_grpc() {
                    format!("; handlers {}", self.grpc_exec)
                } else {
                    String::new()
                }
            ),
            BenchWorkload::Pipeline if self.stack.is_grpc() => format!(
                "pipeline of {} records, {} hops; 3 processes x {} worker(s)",
                self.records,
                self.hop.name(),
                self.workers
            ),
            BenchWorkload::Pipeline => format!(
                "pipeline of {} records; 3 processes x {} worker(s)",
                self.records, self.workers
            ),
        }
    }
}

/// Running servers, with the role each plays; stopped on drop, the
/// client-facing one first so that streams between services close cleanly.
pub struct Servers {
    processes: Vec<(String, ServerProcess)>,
}

impl Servers {
    /// The address clients send to.
    pub fn front(&self) -> SocketAddr {
        match self.processes.last() {
            Some((role, p)) if role == "aggregator" => p.addr(),
            _ => self.processes[0].1.addr(),
        }
    }

    /// (role, pid) of every process, for the probe.
    pub fn roles(&self) -> Vec<(String, u32)> {
        self.processes
            .iter()
            .map(|(role, p)| (role.clone(), p.pid()))
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

/// Starts the servers of `deployment`, pinned to `cpus`. Spawned from the
/// thread that runs `block_on`, which lives as long as the run:
/// PR_SET_PDEATHSIG is tied to that thread.
pub fn start(deployment: &Deployment, cpus: Option<&CpuSet>) -> anyhow::Result<Servers> {
    let mut servers = Servers {
        processes: Vec::new(),
    };
    let d = deployment;
    let common = |workload: &str| -> Vec<String> {
        let mut args: Vec<String> = [
            "serve",
            workload,
            "--stack",
            &d.stack.name(),
            "--bind",
            "127.0.0.1",
            "--workers",
            &d.workers.to_string(),
        ]
        .map(String::from)
        .to_vec();
        if let Some(tls) = &d.tls {
            args.extend(["--tls-cert".into(), tls.cert.display().to_string()]);
            args.extend(["--tls-key".into(), tls.key.display().to_string()]);
        }
        args
    };
    match d.workload {
        BenchWorkload::Payload => {
            // With several processes, the first picks a free port and the
            // others join it with SO_REUSEPORT.
            for i in 0..d.processes {
                let port = servers
                    .processes
                    .first()
                    .map_or(0, |(_, first)| first.addr().port());
                let mut args = common("payload");
                args.extend(["--port".into(), port.to_string()]);
                args.extend(["--max-size-kb".into(), d.max_size_kb.to_string()]);
                args.extend(["--grpc-exec".into(), d.grpc_exec.to_string()]);
                if d.processes > 1 {
                    args.push("--reuse-port".into());
                }
                let label = format!("{} #{}", d.stack, i + 1);
                let process = ServerProcess::start(&label, &args, cpus.cloned())?;
                servers.processes.push(("server".into(), process));
            }
        }
        BenchWorkload::Pipeline => {
            let mut upstream: Option<SocketAddr> = None;
            for role in Role::ALL {
                let mut args = common("pipeline");
                args.extend([
                    "--role".into(),
                    role.name().into(),
                    "--port".into(),
                    "0".into(),
                ]);
                args.extend(["--records".into(), d.records.to_string()]);
                args.extend(["--hop".into(), d.hop.name().into()]);
                if let Some(next) = upstream {
                    args.extend(["--upstream".into(), next.to_string()]);
                }
                let label = format!("{} {role}", d.stack);
                let process = ServerProcess::start(&label, &args, cpus.cloned())?;
                upstream = Some(process.addr());
                servers.processes.push((role.name().into(), process));
            }
        }
    }
    Ok(servers)
}
