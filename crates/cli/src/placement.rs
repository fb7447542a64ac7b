//! Where the load generator and the servers run (DESIGN rule 7): on
//! disjoint CPU sets whenever the machine has two or more CPUs, so the
//! client's work does not steal the servers' CPU (seed 000's admitted
//! flaw), and runtime worker threads sized to each set.

use anyhow::{bail, ensure};
use wirebench_probe::CpuSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuPlacement {
    /// Every CPU this process may use.
    pub available: CpuSet,
    /// None: not pinned (shares every available CPU).
    pub client: Option<CpuSet>,
    pub server: Option<CpuSet>,
}

impl CpuPlacement {
    pub fn resolve(
        client: Option<CpuSet>,
        server: Option<CpuSet>,
        no_pin: bool,
    ) -> anyhow::Result<CpuPlacement> {
        let available = CpuSet::current()?;
        if no_pin {
            ensure!(
                client.is_none() && server.is_none(),
                "--no-pin and --client-cpus/--server-cpus contradict each other: give one"
            );
            return Ok(CpuPlacement {
                available,
                client: None,
                server: None,
            });
        }
        let rest_of = |taken: &CpuSet| {
            let rest: Vec<usize> = available
                .cpus()
                .iter()
                .copied()
                .filter(|cpu| !taken.contains(*cpu))
                .collect();
            CpuSet::new(rest)
        };
        let (client, server) = match (client, server) {
            (Some(c), Some(s)) => (c.within(&available)?, s.within(&available)?),
            (Some(c), None) => {
                let c = c.within(&available)?;
                let Ok(s) = rest_of(&c) else {
                    bail!(
                        "--client-cpus {c} leaves no CPU for the servers; give --server-cpus too"
                    );
                };
                (c, s)
            }
            (None, Some(s)) => {
                let s = s.within(&available)?;
                let Ok(c) = rest_of(&s) else {
                    bail!(
                        "--server-cpus {s} leaves no CPU for the load generator; give --client-cpus too"
                    );
                };
                (c, s)
            }
            (None, None) => match CpuSet::default_split(&available) {
                Some((c, s)) => (c, s),
                None => {
                    return Ok(CpuPlacement {
                        available,
                        client: None,
                        server: None,
                    });
                }
            },
        };
        Ok(CpuPlacement {
            available,
            client: Some(client),
            server: Some(server),
        })
    }

    pub fn pinned(&self) -> bool {
        self.client.is_some()
    }

    pub fn client_threads(&self) -> usize {
        self.client.as_ref().unwrap_or(&self.available).len()
    }

    pub fn server_threads(&self) -> usize {
        self.server.as_ref().unwrap_or(&self.available).len()
    }

    pub fn client_set(&self) -> &CpuSet {
        self.client.as_ref().unwrap_or(&self.available)
    }

    /// For people: "load generator on CPU 0, servers on CPU 1".
    pub fn describe(&self) -> String {
        match (&self.client, &self.server) {
            (Some(c), Some(s)) if c.overlaps(s) => format!(
                "load generator on CPU {c}, servers on CPU {s} (overlapping: they compete for CPU)"
            ),
            (Some(c), Some(s)) => format!("load generator on CPU {c}, servers on CPU {s}"),
            _ => format!(
                "not pinned: load generator and servers share CPU {}",
                self.available
            ),
        }
    }
}
