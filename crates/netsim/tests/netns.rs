//! Network namespaces joined by veth pairs and a bridge carry TCP between
//! them (root only; skipped, or failed under CI, without it).

use std::io::{Read, Write};
use std::process::Stdio;

use wirebench_netsim::netns::{Switch, VethPath};

fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        assert!(std::env::var_os("CI").is_none(), "CI runs as root");
        eprintln!("SKIPPED: network namespaces need root");
    }
    root
}

/// Python's one-line TCP echo server inside `ns`, on `addr:port`.
fn echo_server(
    ns: &wirebench_netsim::netns::Netns,
    addr: std::net::Ipv4Addr,
) -> std::process::Child {
    let script = format!(
        "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('{addr}',7777))\ns.listen()\nprint('up',flush=True)\nc,a=s.accept()\nc.sendall(a[0].encode())\nc.close()\n"
    );
    let mut child = ns
        .command("python3")
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut up = [0u8; 3];
    child.stdout.as_mut().unwrap().read_exact(&mut up).unwrap();
    child
}

#[test]
fn a_veth_path_reaches_the_servers_namespace_and_a_switch_joins_hosts() {
    if !root() {
        return;
    }
    let path = VethPath::create().unwrap();
    let mut server = echo_server(path.servers(), path.far);
    let mut stream = std::net::TcpStream::connect((path.far, 7777)).unwrap();
    let mut seen = String::new();
    stream.read_to_string(&mut seen).unwrap();
    assert_eq!(
        seen,
        path.near.to_string(),
        "the server saw our end of the pair"
    );
    server.wait().unwrap();
    let name = path.servers().name().to_owned();
    drop(path);
    let left = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&left.stdout).contains(&name),
        "removed"
    );

    let switch = Switch::create(3).unwrap();
    let (server_ns, server_addr) = switch.host(0);
    let mut server = echo_server(server_ns, server_addr);
    let (client_ns, client_addr) = switch.host(2);
    let client = client_ns
        .command("python3")
        .args([
            "-c",
            &format!(
                "import socket\nc=socket.create_connection(('{server_addr}',7777))\nprint(c.recv(64).decode())\n"
            ),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&client.stdout).trim(),
        client_addr.to_string()
    );
    server.wait().unwrap();
    let _ = std::io::stdout().flush();
}
