//! The arguments of `wirebench k8s`: how many agents, which image, what
//! they run. Beside the other commands' arguments; [`crate::k8s`] turns
//! them into manifests.

use std::time::Duration;

use clap::Args;

#[derive(Debug, Args)]
pub struct K8sArgs {
    /// Load agents: the Job's pods.
    #[arg(long, value_parser = crate::numbers::at_least_one::<u32>, allow_negative_numbers = true)]
    pub agents: u32,
    /// The image that holds wirebench (see the Dockerfile).
    #[arg(long)]
    pub image: String,
    /// Prefix of every object's name.
    #[arg(long, default_value = "wirebench")]
    pub name: String,
    /// Namespace of every object (default: kubectl's).
    #[arg(long)]
    pub namespace: Option<String>,
    /// CPUs of each agent, requested and limited alike.
    #[arg(long, default_value = "1")]
    pub cpu: String,
    /// Memory of each agent, requested and limited alike.
    #[arg(long, default_value = "512Mi")]
    pub memory: String,
    /// Every agent starts its part this long after the manifests are
    /// printed (room for the image pull and the scheduling).
    #[arg(long, value_parser = crate::numbers::duration, default_value = "60s", conflicts_with = "start_at")]
    pub start_in: Duration,
    /// Or at this instant, RFC 3339 UTC.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,
    /// Also the servers, as Deployments and Services with --metrics; the
    /// agents' URL (load) or --target (bench) points at them.
    #[arg(long)]
    pub with_servers: bool,
    /// CPUs and memory of each server.
    #[arg(long, default_value = "1")]
    pub server_cpu: String,
    #[arg(long, default_value = "512Mi")]
    pub server_memory: String,
    /// The agents' command: load URL [flags] or bench [flags].
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}
