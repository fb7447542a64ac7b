//! The trials of a run: every stack's plan crossed with the run's
//! repetitions, server counts and the variations of a stack's servers.

use std::sync::Arc;

use wirebench_load::{Job, LoadPlan, TargetKind};
use wirebench_netsim::NetConditions;
use wirebench_proto::json;
use wirebench_proto::vocab::{Stack, Workload};
use wirebench_server::grpc::{GrpcExec, GrpcImpl};
use wirebench_server::pipeline::HopMode;

use super::settings::BenchSettings;
use crate::deploy::{Deployment, Services};

/// One trial, complete before it starts.
#[derive(Debug, Clone)]
pub struct TrialPlan {
    /// The servers to start.
    pub deployment: Deployment,
    /// What every request asks.
    pub job: Job,
    /// What is sent to the front server and how each answer is checked,
    /// from the job's contract; only the address is added when it runs.
    pub request: TargetKind,
    pub load: LoadPlan,
    /// 0-based repetition of its configuration.
    pub repetition: u32,
    /// Tells this trial apart from others of its stack (hop mode, handler
    /// execution), when the run varies it.
    pub variant: Option<String>,
    /// The message workload's message and direction ("order down").
    pub message: Option<String>,
    /// Network conditions between the load generator and the servers.
    pub net: Option<NetConditions>,
    /// A mix (`--mix`): every call's request; `job` and `request` are
    /// then its first call's.
    pub mix: Option<Arc<MixRequests>>,
}

/// A mix's calls on one stack: each call's name and request, and the
/// weights each request is picked by.
#[derive(Debug)]
pub struct MixRequests {
    pub file: std::path::PathBuf,
    pub weights: wirebench_load::Weights,
    pub calls: Vec<(String, TargetKind)>,
}

/// A stack's load and one of the run's requests, the same for each of its
/// trials.
pub struct StackPlan {
    pub stack: Stack,
    pub load: LoadPlan,
    pub job: Job,
    pub request: TargetKind,
    /// Which of the run's jobs, when there are several ("order down").
    pub variant: Option<String>,
    pub mix: Option<Arc<MixRequests>>,
}

/// Every trial, in order: repetitions outermost (so the stacks interleave,
/// A B A B ..., and drift spreads over all), then process and worker
/// counts, then stacks, then the variations of a stack's servers (hop
/// modes for the gRPC pipeline, handler execution for the gRPC payload,
/// the JSON codec of the JSON stacks).
pub fn plan_trials(settings: &BenchSettings, plans: &[StackPlan]) -> Vec<TrialPlan> {
    let mut trials = Vec::new();
    for repetition in 0..settings.trials {
        for &processes in &settings.server_processes {
            for &workers in &settings.server_workers {
                for plan in plans {
                    for (services, variant) in services(settings, plan) {
                        for (json_codec, codec_named) in codecs(settings, plan.stack) {
                            let variant = match (variant.clone(), codec_named) {
                                (Some(v), Some(c)) => Some(format!("{v}, {c}")),
                                (v, c) => v.or(c),
                            };
                            trials.push(TrialPlan {
                                deployment: Deployment {
                                    stack: plan.stack,
                                    workers,
                                    processes,
                                    max_size_kb: settings.max_size_kb,
                                    services: services.clone(),
                                    json_codec,
                                },
                                job: plan.job.clone(),
                                request: plan.request.clone(),
                                load: plan.load.clone(),
                                repetition,
                                variant,
                                message: plan.variant.clone(),
                                net: settings.net,
                                mix: plan.mix.clone(),
                            });
                        }
                    }
                }
            }
        }
    }
    trials
}

/// The JSON codecs `stack` is served with (none when it speaks no JSON),
/// each named when the run compares several.
fn codecs(settings: &BenchSettings, stack: Stack) -> Vec<(Option<json::Codec>, Option<String>)> {
    if !stack.speaks_json() {
        return vec![(None, None)];
    }
    let named = settings.json_codec.len() > 1;
    settings
        .json_codec
        .iter()
        .map(|&codec| (Some(codec), named.then(|| codec.to_string())))
        .collect()
}

/// The services of `stack` the run asks for, each with the words that tell
/// it apart when the run varies them.
fn services(settings: &BenchSettings, plan: &StackPlan) -> Vec<(Services, Option<String>)> {
    let grpc = plan.stack.is_grpc();
    if let Some(mix) = &plan.mix {
        let services = Services::Mix {
            file: mix.file.clone(),
            calls: mix.calls.len(),
        };
        return vec![(services, plan.variant.clone())];
    }
    if let Job::Message(job) = &plan.job {
        let services = Services::Message {
            source: job.source.clone(),
        };
        return vec![(services, plan.variant.clone())];
    }
    match settings.workload {
        Workload::Pipeline => {
            let hops = if grpc {
                settings.hops.clone()
            } else {
                vec![HopMode::Stream]
            };
            let named = grpc && settings.hops.len() > 1;
            hops.into_iter()
                .map(|hop| {
                    let variant = named.then(|| format!("{} hops", hop.name()));
                    let services = Services::Pipeline {
                        records: settings.records,
                        hop,
                    };
                    (services, variant)
                })
                .collect()
        }
        _ => {
            let execs = if grpc {
                settings.grpc_exec.clone()
            } else {
                vec![GrpcExec::Async]
            };
            // C-core serves the plain grpc stack only, with its own threads.
            let impls = if plan.stack == Stack::GRPC {
                settings.grpc_impl.clone()
            } else {
                vec![GrpcImpl::Tonic]
            };
            let named_exec = execs.len() > 1;
            let named_impl = impls.len() > 1;
            let mut services = Vec::new();
            for grpc_impl in impls {
                let execs = match grpc_impl {
                    GrpcImpl::Tonic => execs.clone(),
                    GrpcImpl::Grpcio => vec![GrpcExec::Async],
                };
                for grpc_exec in execs {
                    let mut variant: Vec<String> = Vec::new();
                    if named_impl {
                        variant.push(grpc_impl.to_string());
                    }
                    if named_exec && grpc_impl == GrpcImpl::Tonic {
                        variant.push(format!("handlers {grpc_exec}"));
                    }
                    let variant = (!variant.is_empty()).then(|| variant.join(", "));
                    services.push((
                        Services::Payload {
                            grpc_exec,
                            grpc_impl,
                        },
                        variant,
                    ));
                }
            }
            services
        }
    }
}
