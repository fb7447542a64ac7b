//! Real network paths on one machine, in the kernel: network namespaces
//! joined by veth pairs (MTU 1500, the kernel's whole TCP/IP path, not
//! loopback's shortcut). Two shapes, one implementation:
//!
//! - [`VethPath`]: one namespace (the servers') behind a veth pair whose
//!   other end stays with the caller (`bench --netns`);
//! - [`Switch`]: a bridge in a namespace of its own and N hosts, each a
//!   namespace on a veth port of it (the load agents and the servers of
//!   the Kubernetes proof).
//!
//! Everything is made with `ip` (iproute2) and needs root
//! (CAP_NET_ADMIN). Addresses are in 10.254.0.0/16, inside namespaces made
//! here; everything is removed on drop (deleting a namespace deletes its
//! veth ends, and a veth pair dies with either end).

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// Each path of a process gets its own names and subnet.
static NEXT: AtomicU32 = AtomicU32::new(0);

#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error(
        "network namespaces need root (CAP_NET_ADMIN) and iproute2's `ip`: `ip {args}` failed: {why}"
    )]
    Ip { args: String, why: String },
    #[error(
        "shaping the namespace path needs root, nftables and iproute2: `{tool} {args}` failed: {why}"
    )]
    Tool {
        tool: &'static str,
        args: String,
        why: String,
    },
}

/// Runs `ip ARGS`.
pub(crate) fn ip(args: &[&str]) -> Result<(), NetnsError> {
    run("ip", args).map_err(|why| NetnsError::Ip {
        args: args.join(" "),
        why,
    })
}

/// Runs `tc ARGS`.
pub(crate) fn tc(args: &[&str]) -> Result<(), NetnsError> {
    run("tc", args).map_err(|why| NetnsError::Tool {
        tool: "tc",
        args: args.join(" "),
        why,
    })
}

/// Runs `tool ARGS`; its error output when it fails.
fn run(tool: &str, args: &[&str]) -> Result<(), String> {
    let output = Command::new(tool)
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

/// A veth pair: `name` in namespace `here` (None: the caller's), its peer
/// `eth0` in namespace `peer`.
fn veth(here: Option<&str>, name: &str, peer: &str) -> Result<(), NetnsError> {
    let mut args = Vec::new();
    if let Some(here) = here {
        args.extend(["-n", here]);
    }
    args.extend([
        "link", "add", name, "type", "veth", "peer", "name", "eth0", "netns", peer,
    ]);
    ip(&args)
}

/// What runs killed with SIGKILL left behind: every namespace (`wb<pid>x…`),
/// link (`wbv<pid>x…`) and nftables table (`inet wirebench_wbv<pid>x…`)
/// whose owner, the pid in its name, is gone. A drop that never ran
/// leaves a 1% drop rule on the host, so every run that makes a path
/// removes what dead runs left first. Returns what it removed.
pub fn remove_stale() -> Vec<String> {
    let dead = |name: &str, prefix: &str| {
        let digits: String = name
            .strip_prefix(prefix)
            .unwrap_or_default()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let followed_by_x = name
            .strip_prefix(prefix)
            .is_some_and(|rest| rest[digits.len()..].starts_with('x'));
        match digits.parse::<u32>() {
            Ok(pid) if followed_by_x => {
                !std::path::Path::new("/proc").join(pid.to_string()).exists()
            }
            _ => false,
        }
    };
    let mut removed = Vec::new();
    // Namespaces first: their ends of veth pairs go with them.
    let namespaces: Vec<String> = std::fs::read_dir("/run/netns")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    for name in namespaces {
        if dead(&name, "wb") && ip(&["netns", "del", &name]).is_ok() {
            removed.push(format!("namespace {name}"));
        }
    }
    let links = Command::new("ip").args(["-o", "link", "show"]).output();
    let links = links.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    for line in links.unwrap_or_default().lines() {
        // "7: wbv123x0@if2: <BROADCAST,...": the name, before any '@'.
        let Some(name) = line.split(": ").nth(1) else {
            continue;
        };
        let name = name.split('@').next().unwrap_or(name);
        if dead(name, "wbv") && ip(&["link", "del", name]).is_ok() {
            removed.push(format!("link {name}"));
        }
    }
    let tables = Command::new("nft").args(["list", "tables"]).output();
    let tables = tables.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    for line in tables.unwrap_or_default().lines() {
        let Some(table) = line.strip_prefix("table inet ") else {
            continue;
        };
        let table = table.trim();
        if dead(table, "wirebench_wbv")
            && nft(None, &format!("delete table inet {table}\n")).is_ok()
        {
            removed.push(format!("nftables table inet {table}"));
        }
    }
    removed
}

/// A fresh, unique name prefix and /24 for one path of this process.
fn fresh() -> (String, u8) {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    // The subnet's third byte: spread over processes and paths.
    let subnet = ((pid.wrapping_mul(7) + n) % 250) as u8 + 1;
    (format!("wb{pid}x{n}"), subnet)
}

/// A network namespace, deleted on drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    fn create(name: String) -> Result<Netns, NetnsError> {
        ip(&["netns", "add", &name])?;
        let ns = Netns { name };
        ip(&["-n", &ns.name, "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its handle, for `setns(2)` (e.g. in a child before exec).
    pub fn path(&self) -> std::path::PathBuf {
        std::path::Path::new("/run/netns").join(&self.name)
    }

    /// `program` run inside it (`ip netns exec NAME program`).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name]).arg(program);
        command
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.name]);
    }
}

/// The servers' namespace behind a veth pair: the caller keeps one end
/// (`near`), the namespace has the other (`far`).
#[derive(Debug)]
pub struct VethPath {
    servers: Netns,
    near_if: String,
    pub near: Ipv4Addr,
    pub far: Ipv4Addr,
}

impl VethPath {
    pub fn create() -> Result<VethPath, NetnsError> {
        let (name, subnet) = fresh();
        let servers = Netns::create(format!("{name}-srv"))?;
        // Interface names have at most 15 bytes.
        let near_if = format!("wbv{}", &name[2..].chars().take(11).collect::<String>());
        let path = VethPath {
            near: Ipv4Addr::new(10, 254, subnet, 1),
            far: Ipv4Addr::new(10, 254, subnet, 2),
            near_if,
            servers,
        };
        let ns = path.servers.name().to_owned();
        veth(None, &path.near_if, &ns)?;
        ip(&[
            "addr",
            "add",
            &format!("{}/30", path.near),
            "dev",
            &path.near_if,
        ])?;
        ip(&["link", "set", &path.near_if, "up"])?;
        ip(&[
            "-n",
            &ns,
            "addr",
            "add",
            &format!("{}/30", path.far),
            "dev",
            "eth0",
        ])?;
        ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
        Ok(path)
    }

    pub fn servers(&self) -> &Netns {
        &self.servers
    }

    /// The name of the caller's end of the veth pair.
    pub fn near_if(&self) -> &str {
        &self.near_if
    }

    /// How results name it.
    pub fn describe(&self) -> String {
        format!(
            "veth {} -> {} (namespace {}, MTU 1500)",
            self.near,
            self.far,
            self.servers.name()
        )
    }
}

/// Runs `nft -f -` with `rules` inside namespace `ns` (None: the caller's).
pub(crate) fn nft(ns: Option<&str>, rules: &str) -> Result<(), NetnsError> {
    use std::io::Write;
    let failed = |why: String| NetnsError::Tool {
        tool: "nft",
        args: rules.trim().to_owned(),
        why,
    };
    let mut command = match ns {
        Some(ns) => {
            let mut command = Command::new("ip");
            command.args(["netns", "exec", ns, "nft"]);
            command
        }
        None => Command::new("nft"),
    };
    let mut child = command
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| failed(e.to_string()))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(rules.as_bytes())
        .map_err(|e| failed(e.to_string()))?;
    let output = child
        .wait_with_output()
        .map_err(|e| failed(e.to_string()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(failed(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ))
    }
}

impl Drop for VethPath {
    fn drop(&mut self) {
        // The namespace's end goes with it (Netns's drop); ours with it.
        let _ = ip(&["link", "del", &self.near_if]);
    }
}

/// A bridge in a namespace of its own, and hosts on its ports.
#[derive(Debug)]
pub struct Switch {
    hosts: Vec<(Netns, Ipv4Addr)>,
    /// Dropped last: the hosts' veth pairs end on its bridge.
    _switch: Netns,
}

impl Switch {
    /// A switch with `hosts` hosts, host i at 10.254.S.(i + 1).
    pub fn create(hosts: usize) -> Result<Switch, NetnsError> {
        let (name, subnet) = fresh();
        let switch = Netns::create(format!("{name}-sw"))?;
        let sw = switch.name().to_owned();
        ip(&["-n", &sw, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &sw, "link", "set", "br0", "up"])?;
        let mut made = Vec::with_capacity(hosts);
        for i in 0..hosts {
            let host = Netns::create(format!("{name}-h{i}"))?;
            let addr = Ipv4Addr::new(10, 254, subnet, u8::try_from(i + 1).unwrap_or(254));
            let port = format!("p{i}");
            veth(Some(&sw), &port, host.name())?;
            ip(&["-n", &sw, "link", "set", &port, "master", "br0"])?;
            ip(&["-n", &sw, "link", "set", &port, "up"])?;
            ip(&[
                "-n",
                host.name(),
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                "eth0",
            ])?;
            ip(&["-n", host.name(), "link", "set", "eth0", "up"])?;
            made.push((host, addr));
        }
        Ok(Switch {
            hosts: made,
            _switch: switch,
        })
    }

    /// Host `i`: its namespace and address.
    pub fn host(&self, i: usize) -> (&Netns, Ipv4Addr) {
        let (ns, addr) = &self.hosts[i];
        (ns, *addr)
    }
}
