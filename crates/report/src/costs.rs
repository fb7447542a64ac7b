//! From probed processes to what a trial cost: CPU per request, requests
//! per CPU-second, and the two verdicts (client-bound, server saturated).

use wirebench_probe::ProcessUsage;

use crate::model::Costs;

/// At or above this share of its CPU set, a side is saturated.
pub const SATURATED_FRACTION: f64 = 0.9;

pub const CLIENT_BOUND_SENTENCE: &str =
    "client-bound: these numbers measure the load generator, not the server";

/// Fills the servers' figures of `costs` from their metrics endpoints
/// (when the servers were not probed locally): CPU%, CPU per request and
/// requests per CPU-second, memory, bytes written.
pub fn from_remote(costs: &mut Costs, servers: &[crate::model::RemoteServer], requests_ok: u64) {
    if servers.is_empty() {
        return;
    }
    let cpu_s: f64 = servers.iter().map(|s| s.cpu_s).sum();
    costs.server_cpu_percent = servers.iter().map(|s| s.cpu_percent).sum();
    costs.server_cpu_ms_per_request =
        (requests_ok > 0 && cpu_s > 0.0).then(|| cpu_s * 1000.0 / requests_ok as f64);
    costs.requests_per_server_cpu_second = (cpu_s > 0.0).then(|| requests_ok as f64 / cpu_s);
    costs.server_rss_peak_bytes = servers
        .iter()
        .filter_map(|s| s.rss_bytes)
        .max()
        .unwrap_or(0);
    costs.server_bytes_written_per_request = servers
        .iter()
        .map(|s| s.bytes_written)
        .sum::<Option<u64>>()
        .filter(|_| requests_ok > 0)
        .map(|bytes| bytes as f64 / requests_ok as f64);
}

/// Derives the costs of a trial from its processes. `client_cpus_busy` is
/// how busy the client's CPU set was (all processes), when known;
/// `machine_cpus` is the capacity of a process whose CPU set is unknown.
pub fn costs(
    processes: &[ProcessUsage],
    requests_ok: u64,
    client_cpus_busy_percent: Option<f64>,
    machine_cpus: usize,
) -> Costs {
    let is_client = |p: &&ProcessUsage| p.role.is_client();
    let servers: Vec<&ProcessUsage> = processes.iter().filter(|p| !is_client(p)).collect();
    let clients: Vec<&ProcessUsage> = processes.iter().filter(is_client).collect();
    let cpu_s = |ps: &[&ProcessUsage]| ps.iter().map(|p| p.cpu_s()).sum::<f64>();
    let percent = |ps: &[&ProcessUsage]| ps.iter().map(|p| p.cpu_percent).sum::<f64>();
    // Capacity of a side, in percent: 100 per CPU of the union of its sets.
    let capacity = |ps: &[&ProcessUsage]| {
        let mut cpus: Vec<usize> = ps
            .iter()
            .flat_map(|p| match &p.cpus {
                Some(set) => set.cpus().to_vec(),
                None => (0..machine_cpus).collect(),
            })
            .collect();
        cpus.sort_unstable();
        cpus.dedup();
        100.0 * cpus.len().max(1) as f64
    };
    let per_request = |seconds: f64| {
        (requests_ok > 0 && seconds > 0.0).then(|| seconds * 1000.0 / requests_ok as f64)
    };
    let per_second = |seconds: f64| (seconds > 0.0).then(|| requests_ok as f64 / seconds);
    let server_cpu_s = cpu_s(&servers);
    let client_cpu_s = cpu_s(&clients);
    let server_cpu_percent = percent(&servers);
    let client_cpu_percent = percent(&clients);
    let client_saturated_itself =
        !clients.is_empty() && client_cpu_percent >= SATURATED_FRACTION * capacity(&clients);
    let client_set_saturated =
        client_cpus_busy_percent.is_some_and(|busy| busy >= SATURATED_FRACTION * 100.0);
    Costs {
        server_cpu_percent,
        client_cpu_percent,
        server_rss_peak_bytes: servers.iter().map(|p| p.rss_peak_bytes).max().unwrap_or(0),
        server_cpu_ms_per_request: per_request(server_cpu_s),
        requests_per_server_cpu_second: per_second(server_cpu_s),
        client_cpu_ms_per_request: per_request(client_cpu_s),
        requests_per_client_cpu_second: per_second(client_cpu_s),
        client_cpus_busy_percent,
        client_bound: client_saturated_itself || client_set_saturated,
        server_saturated: !servers.is_empty()
            && server_cpu_percent >= SATURATED_FRACTION * capacity(&servers),
        server_bytes_written_per_request: servers
            .iter()
            .map(|p| p.io_written_bytes)
            .sum::<Option<u64>>()
            .filter(|_| !servers.is_empty() && requests_ok > 0)
            .map(|bytes| bytes as f64 / requests_ok as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use wirebench_probe::ProcessRole::{self, Client, Server};

    fn usage(role: ProcessRole, cpus: &str, cpu_s: f64, window_s: f64) -> ProcessUsage {
        ProcessUsage {
            role,
            pid: 1,
            cpus: Some(cpus.parse().unwrap()),
            cpu_user_s: cpu_s * 0.75,
            cpu_system_s: cpu_s * 0.25,
            cpu_clock: Some(wirebench_probe::CpuClock::ProcessClock),
            cpu_percent: cpu_s / window_s * 100.0,
            rss_avg_bytes: 10,
            rss_peak_bytes: 20,
            threads_max: 2,
            io_written_bytes: (!role.is_client()).then_some(300_000),
            timeline: Vec::new(),
            exited: false,
        }
    }

    #[test]
    fn per_request_figures() {
        let processes = [usage(Server, "1", 5.0, 10.0), usage(Client, "0", 2.0, 10.0)];
        let c = costs(&processes, 10_000, Some(30.0), 2);
        assert!((c.server_cpu_ms_per_request.unwrap() - 0.5).abs() < 1e-9);
        assert!((c.requests_per_server_cpu_second.unwrap() - 2000.0).abs() < 1e-9);
        assert!((c.client_cpu_ms_per_request.unwrap() - 0.2).abs() < 1e-9);
        assert!((c.server_cpu_percent - 50.0).abs() < 1e-9);
        assert!(!c.client_bound && !c.server_saturated);
        assert_eq!(c.server_bytes_written_per_request, Some(30.0));
        assert_eq!(
            costs(&processes, 0, None, 2).server_cpu_ms_per_request,
            None
        );
    }

    #[test]
    fn saturation_verdicts() {
        // Client uses 95% of its one CPU; servers 2 x 95% of two CPUs.
        let processes = [
            usage(Server, "1", 9.5, 10.0),
            usage(Server, "2", 9.5, 10.0),
            usage(Client, "0", 9.5, 10.0),
        ];
        let c = costs(&processes, 1, None, 3);
        assert!(c.client_bound && c.server_saturated);
        // Every server's bytes count: the pipeline's hops add up.
        assert_eq!(c.server_bytes_written_per_request, Some(600_000.0));
        // Starved: the client itself uses 40%, but its CPU is 99% busy.
        let starved = [usage(Server, "1", 1.0, 10.0), usage(Client, "0", 4.0, 10.0)];
        assert!(costs(&starved, 1, Some(99.0), 2).client_bound);
        assert!(!costs(&starved, 1, Some(50.0), 2).client_bound);
    }
}
