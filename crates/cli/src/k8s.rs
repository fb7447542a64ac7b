//! `wirebench k8s`: the manifests that run a wirebench command on N load
//! agents as a Kubernetes Indexed Job, with no coordinator of our own.
//!
//! Each pod runs the command unchanged plus `--shard auto/N` (its index
//! comes from `JOB_COMPLETION_INDEX`, which the Job controller sets),
//! `--start-at` (one instant for all, fixed when the manifests are
//! printed) and `--json -` (its result on one line of its log, for
//! `kubectl logs ... | wirebench merge -`). The Job is Indexed with
//! completions = parallelism = N, backoffLimit 0 and restartPolicy Never
//! (a failed agent is a failed run, never a silent retry that would send
//! its part twice); requests equal limits so every agent's CPUs are
//! guaranteed (QoS Guaranteed); a topology spread keeps agents on
//! different nodes as far as the nodes allow.
//!
//! `--with-servers` adds the servers as Deployments and Services, each
//! with `serve --metrics`, and points the agents at them (and their
//! metrics endpoints). docs/kubernetes.md has the kubectl commands.

use std::net::{IpAddr, SocketAddr};
use std::time::SystemTime;

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};
use wirebench_proto::vocab::Stack;
use wirebench_server::pipeline::Role;

use crate::args::k8s::K8sArgs;
use crate::args::{Cli, Command};
use crate::args::{ServeArgs, ServiceKind};

/// The port every served process exposes its metrics on, in its pod.
const METRICS_PORT: u16 = 9100;

pub fn k8s(args: K8sArgs) -> anyhow::Result<std::process::ExitCode> {
    print!("{}", manifests(&args, SystemTime::now())?);
    Ok(std::process::ExitCode::SUCCESS)
}

/// The manifests, YAML documents, with `now` the time they are made.
pub fn manifests(args: &K8sArgs, now: SystemTime) -> anyhow::Result<String> {
    check(args)?;
    let start = match &args.start_at {
        Some(at) => at.clone(),
        None => humantime::format_rfc3339_seconds(now + args.start_in).to_string(),
    };
    if !matches!(
        args.command.first().map(String::as_str),
        Some("load" | "bench")
    ) {
        bail!(
            "the agents run `load URL ...` or `bench ...`, not {:?}",
            args.command.join(" ")
        );
    }
    let mut command = args.command.clone();
    let mut objects = Vec::new();
    if args.with_servers {
        let servers = servers_of(&args.name, &command)?;
        command = servers.rewritten;
        for (name, stack, workload, role, upstream) in &servers.deployments {
            objects.extend(server_objects(
                args,
                name,
                *stack,
                *workload,
                *role,
                upstream.as_deref(),
            ));
        }
    }
    command.extend([
        "--shard".to_owned(),
        format!("auto/{}", args.agents),
        // One argument: YAML 1.1 readers (PyYAML, hence
        // kubernetes-validate) take a bare RFC 3339 scalar for a date,
        // not a string.
        format!("--start-at={start}"),
        "--json".to_owned(),
        "-".to_owned(),
        "--quiet".to_owned(),
    ]);
    // The command as the pods will run it must parse here first.
    let parsed =
        Cli::try_parse_from(std::iter::once("wirebench".to_owned()).chain(command.clone()))
            .map_err(|e| anyhow::anyhow!("the agents' command does not parse: {e}"))?;
    if !matches!(parsed.command, Command::Load(_) | Command::Bench(_)) {
        bail!("the agents run `load URL ...` or `bench ...`");
    }
    objects.push(job(args, &command));
    let mut out = String::new();
    for object in objects {
        out.push_str("---\n");
        out.push_str(&serde_yaml_ng::to_string(&object).context("cannot write YAML")?);
    }
    Ok(out)
}

/// What Kubernetes would refuse (or a typo it would take), refused before
/// anything is printed: object names are DNS labels, quantities are
/// quantities, the image is named, and `load`'s target is a URL.
fn check(args: &K8sArgs) -> anyhow::Result<()> {
    // The longest suffix a name gets: "-grpc-json-tls-gzip-aggregator".
    const LONGEST_SUFFIX: usize = 30;
    let label = |what: &str, name: &str, room: usize| {
        let ok = !name.is_empty()
            && name.len() + room <= 63
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-')
            && !name.ends_with('-');
        anyhow::ensure!(
            ok,
            "{what} '{name}' is not a Kubernetes name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most {} characters",
            63 - room
        );
        Ok(())
    };
    label("--name", &args.name, LONGEST_SUFFIX)?;
    if let Some(namespace) = &args.namespace {
        label("--namespace", namespace, 0)?;
    }
    anyhow::ensure!(
        !args.image.trim().is_empty() && !args.image.contains(char::is_whitespace),
        "--image '{}' is not an image reference (e.g. ghcr.io/you/wirebench:0.1)",
        args.image
    );
    for (flag, value) in [("--cpu", &args.cpu), ("--server-cpu", &args.server_cpu)] {
        anyhow::ensure!(
            quantity(value, &["m"]),
            "{flag} '{value}' is not a CPU quantity (e.g. 1, 1.5, 500m)"
        );
    }
    for (flag, value) in [
        ("--memory", &args.memory),
        ("--server-memory", &args.server_memory),
    ] {
        anyhow::ensure!(
            quantity(value, &["Ki", "Mi", "Gi", "Ti", "k", "M", "G", "T"]),
            "{flag} '{value}' is not a memory quantity (e.g. 512Mi, 2Gi)"
        );
    }
    if args.command.first().map(String::as_str) == Some("load") {
        let target = args.command.get(1).map(String::as_str).unwrap_or("");
        anyhow::ensure!(
            [
                "http://", "https://", "grpc://", "grpcs://", "tcp://", "tcps://"
            ]
            .iter()
            .any(|scheme| target.starts_with(scheme)),
            "the agents' `load` needs a URL first (http://, https://, grpc://, grpcs://, tcp://, tcps://), not '{target}'"
        );
    }
    Ok(())
}

/// A positive decimal with one of `suffixes` or none: "1", "0.5", "500m",
/// "512Mi".
fn quantity(text: &str, suffixes: &[&str]) -> bool {
    let number = suffixes
        .iter()
        .find_map(|s| text.strip_suffix(s))
        .unwrap_or(text);
    !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && number.parse::<f64>().is_ok_and(|n| n > 0.0)
}

/// The Pod Security Standards' "restricted" profile, for every pod: no
/// root, no privilege escalation, no capabilities, the runtime's seccomp
/// profile, a read-only root with `/tmp` on an emptyDir (where wirebench
/// writes: its working folder, and `HOME` for the schema cache), and no
/// service-account token (wirebench calls no Kubernetes API).
fn restricted(mut pod: Value, mut container: Value) -> Value {
    container["securityContext"] = json!({
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "capabilities": { "drop": ["ALL"] },
    });
    container["workingDir"] = json!("/tmp");
    container["env"] = json!([{ "name": "HOME", "value": "/tmp" }]);
    container["volumeMounts"] = json!([{ "name": "tmp", "mountPath": "/tmp" }]);
    pod["automountServiceAccountToken"] = json!(false);
    pod["securityContext"] = json!({
        "runAsNonRoot": true,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "seccompProfile": { "type": "RuntimeDefault" },
    });
    pod["volumes"] = json!([{ "name": "tmp", "emptyDir": {} }]);
    pod["containers"] = json!([container]);
    pod
}

fn labels(args: &K8sArgs, component: &str) -> Value {
    json!({
        "app.kubernetes.io/name": "wirebench",
        "app.kubernetes.io/instance": args.name,
        "app.kubernetes.io/component": component,
    })
}

fn metadata(args: &K8sArgs, name: &str, component: &str) -> Value {
    let mut metadata = json!({ "name": name, "labels": labels(args, component) });
    if let Some(namespace) = &args.namespace {
        metadata["namespace"] = json!(namespace);
    }
    metadata
}

/// Requests equal to limits: the QoS class Guaranteed.
fn resources(cpu: &str, memory: &str) -> Value {
    let amounts = json!({ "cpu": cpu, "memory": memory });
    json!({ "requests": amounts, "limits": amounts })
}

fn job(args: &K8sArgs, command: &[String]) -> Value {
    let name = format!("{}-agents", args.name);
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(args, &name, "load-agent"),
        "spec": {
            "completionMode": "Indexed",
            "completions": args.agents,
            "parallelism": args.agents,
            "backoffLimit": 0,
            "template": {
                "metadata": { "labels": labels(args, "load-agent") },
                "spec": restricted(json!({
                    "restartPolicy": "Never",
                    // Agents away from the servers, when the nodes allow.
                    "affinity": { "podAntiAffinity": {
                        "preferredDuringSchedulingIgnoredDuringExecution": [{
                            "weight": 100,
                            "podAffinityTerm": {
                                "topologyKey": "kubernetes.io/hostname",
                                "labelSelector": { "matchLabels": labels(args, "server") },
                            },
                        }],
                    } },
                    "topologySpreadConstraints": [{
                        "maxSkew": 1,
                        "topologyKey": "kubernetes.io/hostname",
                        "whenUnsatisfiable": "DoNotSchedule",
                        "labelSelector": { "matchLabels": labels(args, "load-agent") },
                    }],
                }), json!({
                    "name": "agent",
                    "image": args.image,
                    "command": ["wirebench"],
                    "args": command,
                    "resources": resources(&args.cpu, &args.memory),
                })),
            },
        },
    })
}

/// A served process: its object name, stack, workload, pipeline role and
/// upstream.
type Deployment = (String, Stack, ServiceKind, Option<Role>, Option<String>);

/// The servers a command needs, and the command pointed at them.
struct Servers {
    deployments: Vec<Deployment>,
    rewritten: Vec<String>,
}

/// An object name for `stack` (and `role`): DNS labels have no '+'.
fn object_name(prefix: &str, stack: Stack, role: Option<Role>) -> String {
    let stack = stack.name().replace('+', "-");
    match role {
        Some(role) => format!("{prefix}-{stack}-{}", role.name()),
        None => format!("{prefix}-{stack}"),
    }
}

fn servers_of(prefix: &str, command: &[String]) -> anyhow::Result<Servers> {
    let parsed =
        Cli::try_parse_from(std::iter::once("wirebench".to_owned()).chain(command.iter().cloned()))
            .map_err(|e| anyhow::anyhow!("the agents' command does not parse: {e}"))?;
    match parsed.command {
        Command::Load(load) => {
            let [url] = load.urls.as_slice() else {
                bail!("--with-servers serves one target: give the agents' command one URL");
            };
            let load = load.for_url(url);
            let parts = crate::load_cmd::url_parts(&load)?;
            let stack = parts.stack;
            refuse_tls(stack)?;
            let pipeline = parts.path.starts_with("/aggregate")
                || load
                    .call
                    .as_deref()
                    .is_some_and(|c| c.contains("Aggregator"));
            if parts.path.starts_with("/message")
                || load
                    .call
                    .as_deref()
                    .is_some_and(|c| c.contains("MessageService"))
            {
                bail!(
                    "--with-servers serves the payload and pipeline workloads; run `serve message` with your message yourself"
                );
            }
            let deployments = deployments(prefix, stack, pipeline);
            let front = front_of(&deployments, stack);
            let url = load.url.replacen(parts.authority, &front, 1);
            let mut rewritten: Vec<String> = command
                .iter()
                .map(|a| {
                    if *a == load.url {
                        url.clone()
                    } else {
                        a.clone()
                    }
                })
                .collect();
            for (name, ..) in &deployments {
                rewritten.push("--server-metrics".into());
                rewritten.push(format!("http://{name}:{METRICS_PORT}/metrics"));
            }
            Ok(Servers {
                deployments,
                rewritten,
            })
        }
        Command::Bench(bench) => {
            anyhow::ensure!(
                bench.target.is_none(),
                "--with-servers sets bench's --target itself"
            );
            let stacks = bench
                .stacks
                .clone()
                .unwrap_or_else(|| Stack::DEFAULT.to_vec());
            let pipeline = matches!(bench.workload, Some(crate::args::ServiceKind::Pipeline));
            anyhow::ensure!(
                !matches!(bench.workload, Some(crate::args::ServiceKind::Message)),
                "--with-servers serves the payload and pipeline workloads"
            );
            let mut all = Vec::new();
            let mut targets = Vec::new();
            let mut rewritten = command.to_vec();
            for stack in stacks {
                refuse_tls(stack)?;
                let deployments = deployments(prefix, stack, pipeline);
                let scheme = stack.scheme();
                targets.push(format!(
                    "{stack}={scheme}://{}",
                    front_of(&deployments, stack)
                ));
                for (name, ..) in &deployments {
                    rewritten.push("--server-metrics".into());
                    rewritten.push(format!("{stack}=http://{name}:{METRICS_PORT}/metrics"));
                }
                all.extend(deployments);
            }
            rewritten.push("--target".into());
            rewritten.push(targets.join(","));
            Ok(Servers {
                deployments: all,
                rewritten,
            })
        }
        _ => bail!("the agents run `load URL ...` or `bench ...`"),
    }
}

fn refuse_tls(stack: Stack) -> anyhow::Result<()> {
    if stack.tls {
        bail!(
            "--with-servers does not deploy +tls servers (their certificate would have to reach every agent): deploy them with your certificate and give the agents --target/--cacert"
        );
    }
    Ok(())
}

/// The processes that serve `stack`: one, or the pipeline's three.
fn deployments(prefix: &str, stack: Stack, pipeline: bool) -> Vec<Deployment> {
    if !pipeline {
        return vec![(
            object_name(prefix, stack, None),
            stack,
            ServiceKind::Payload,
            None,
            None,
        )];
    }
    Role::ALL
        .iter()
        .map(|&role| {
            let upstream = role.next().map(|next| {
                format!(
                    "{}:{}",
                    object_name(prefix, stack, Some(next)),
                    next.default_port(stack)
                )
            });
            (
                object_name(prefix, stack, Some(role)),
                stack,
                ServiceKind::Pipeline,
                Some(role),
                upstream,
            )
        })
        .collect()
}

/// HOST:PORT the agents send to: the (last) service's.
fn front_of(deployments: &[Deployment], stack: Stack) -> String {
    let (name, _, _, role, _) = deployments.last().expect("one at least");
    let port = role.map_or(stack.default_port(), |r| r.default_port(stack));
    format!("{name}:{port}")
}

fn server_objects(
    args: &K8sArgs,
    name: &str,
    stack: Stack,
    workload: ServiceKind,
    role: Option<Role>,
    upstream: Option<&str>,
) -> Vec<Value> {
    let port = role.map_or(stack.default_port(), |r| r.default_port(stack));
    // The pod's command line is `serve`'s own arguments, written out by
    // their one function, as `bench` starts its children.
    let mut spec = ServeArgs::new(workload, stack);
    spec.bind = IpAddr::from([0, 0, 0, 0]);
    spec.port = Some(port);
    spec.metrics = Some(SocketAddr::from(([0, 0, 0, 0], METRICS_PORT)));
    spec.role = role;
    spec.upstream = upstream.map(str::to_owned);
    let serve = spec.argv();
    let mut selector = labels(args, "server");
    selector["wirebench/server"] = json!(name);
    vec![
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": metadata(args, name, "server"),
            "spec": {
                "replicas": 1,
                "selector": { "matchLabels": selector },
                "template": {
                    "metadata": { "labels": selector },
                    "spec": restricted(json!({}), json!({
                        "name": "server",
                        "image": args.image,
                        "command": ["wirebench"],
                        "args": serve,
                        "ports": [
                            { "name": "traffic", "containerPort": port },
                            { "name": "metrics", "containerPort": METRICS_PORT },
                        ],
                        "readinessProbe": { "tcpSocket": { "port": port }, "periodSeconds": 2 },
                        "resources": resources(&args.server_cpu, &args.server_memory),
                    })),
                },
            },
        }),
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(args, name, "server"),
            "spec": {
                "selector": selector,
                "ports": [
                    { "name": "traffic", "port": port, "targetPort": port },
                    { "name": "metrics", "port": METRICS_PORT, "targetPort": METRICS_PORT },
                ],
            },
        }),
    ]
}
