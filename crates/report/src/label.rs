//! How a trial's configuration is named: one key type, [`ConfigKey`], for
//! every place that groups or names trials. Its `Display` is the full key
//! (what `compare` matches across runs: "payload rest 16 KiB w1"); within
//! one run, [`ConfigKey::label`] names only what sets it apart from the
//! run's other trials of the same stack ("rest", or "rest w2 p2" when the
//! run varies workers or processes).

use std::fmt;

use wirebench_proto::vocab::{Stack, Workload};

use crate::model::{RunResult, Trial};

/// A server configuration: tokio workers per process, processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ServerConfig {
    pub workers: Option<usize>,
    pub processes: Option<usize>,
}

impl ServerConfig {
    pub fn of(trial: &Trial) -> ServerConfig {
        ServerConfig {
            workers: trial.server_workers,
            processes: trial.server_processes,
        }
    }
}

impl fmt::Display for ServerConfig {
    /// "2 worker(s) x 1 process(es)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.workers, self.processes) {
            (Some(w), Some(p)) => write!(f, "{w} worker(s) x {p} process(es)"),
            _ => f.write_str("servers not started by wirebench"),
        }
    }
}

/// Everything that makes two trials repetitions of one configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConfigKey {
    pub workload: Workload,
    pub stack: Stack,
    pub variant: Option<String>,
    pub size_kb: Option<u64>,
    pub servers: ServerConfig,
}

impl ConfigKey {
    pub fn of(trial: &Trial) -> ConfigKey {
        ConfigKey {
            workload: trial.workload,
            stack: trial.stack,
            variant: trial.variant.clone(),
            size_kb: trial.size_kb,
            servers: ServerConfig::of(trial),
        }
    }

    /// The key as the run's reports show it: the stack and variant, the
    /// size where the run varies it (a sweep), and workers and processes
    /// only where the run varies them (processes also when there are
    /// several).
    pub fn label(&self, result: &RunResult) -> String {
        let varies = |f: fn(&Trial) -> Option<usize>| {
            result.trials.iter().any(|t| f(t) != f(&result.trials[0]))
        };
        let sized = result
            .trials
            .iter()
            .any(|t| t.size_kb != result.trials[0].size_kb);
        let variant = match (&self.variant, self.size_kb.filter(|_| sized)) {
            (Some(variant), Some(kb)) => Some(format!("{variant}, {kb} KiB")),
            (Some(variant), None) => Some(variant.clone()),
            (None, Some(kb)) => Some(format!("{kb} KiB")),
            (None, None) => None,
        };
        let mut label = stack_label(self.stack, variant.as_deref());
        if let Some(w) = self
            .servers
            .workers
            .filter(|_| varies(|t| t.server_workers))
        {
            label.push_str(&format!(" w{w}"));
        }
        if let Some(p) = self
            .servers
            .processes
            .filter(|&p| p > 1 || varies(|t| t.server_processes))
        {
            label.push_str(&format!(" p{p}"));
        }
        label
    }
}

impl fmt::Display for ConfigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.workload,
            stack_label(self.stack, self.variant.as_deref())
        )?;
        if let Some(kb) = self.size_kb {
            write!(f, " {kb} KiB")?;
        }
        if let Some(w) = self.servers.workers {
            write!(f, " w{w}")?;
        }
        if let Some(p) = self.servers.processes.filter(|&p| p > 1) {
            write!(f, " p{p}")?;
        }
        Ok(())
    }
}

/// "grpc (grpcio)": a stack and its variant, as every report, progress
/// line and capacity search names a configuration.
pub fn stack_label(stack: impl fmt::Display, variant: Option<&str>) -> String {
    match variant {
        Some(variant) => format!("{stack} ({variant})"),
        None => stack.to_string(),
    }
}

/// The trial's configuration as the run's reports name it.
pub fn group_label(result: &RunResult, trial: &Trial) -> String {
    ConfigKey::of(trial).label(result)
}

/// The trial itself: its configuration, and "#k" when the run repeats it.
pub fn trial_label(result: &RunResult, trial: &Trial) -> String {
    let mut label = group_label(result, trial);
    if result.trials.iter().any(|t| t.repetition > 0) {
        label.push_str(&format!(" #{}", trial.repetition + 1));
    }
    label
}

/// What a trial's requests did, apart from the stack and the server
/// settings being compared: the workload, the message and direction, the
/// size and the network. Only trials of one workload group are ever set
/// against each other (a ratio between two different workloads says
/// nothing about the stacks).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkloadGroup {
    pub workload: Workload,
    pub message: Option<String>,
    pub size_kb: Option<u64>,
    pub net: Option<String>,
}

impl WorkloadGroup {
    pub fn of(trial: &Trial) -> WorkloadGroup {
        WorkloadGroup {
            workload: trial.workload,
            // Results written before `message` existed kept it as the
            // variant's first part ("order down, sonic-rs").
            message: trial.message.clone().or_else(|| {
                (trial.workload == Workload::Message)
                    .then_some(trial.variant.as_deref())
                    .flatten()
                    .and_then(|v| v.split(", ").next())
                    .map(str::to_owned)
            }),
            size_kb: trial.size_kb,
            net: trial.net.clone(),
        }
    }
}

impl fmt::Display for WorkloadGroup {
    /// "payload 64 KiB", "message order down", "pipeline (latency=20ms)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.workload)?;
        if let Some(message) = &self.message {
            write!(f, " {message}")?;
        }
        if let Some(kb) = self.size_kb {
            write!(f, " {kb} KiB")?;
        }
        if let Some(net) = &self.net {
            write!(f, " ({net})")?;
        }
        Ok(())
    }
}

/// The run's workload groups, in the order their first trials ran.
pub fn workload_groups(result: &RunResult) -> Vec<WorkloadGroup> {
    let mut groups: Vec<WorkloadGroup> = Vec::new();
    for trial in &result.trials {
        let group = WorkloadGroup::of(trial);
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups
}
