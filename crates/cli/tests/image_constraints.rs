//! wirebench as the Kubernetes manifests run it: as user 65532 with no
//! capabilities and no new privileges, on a read-only root with `/tmp` on
//! a tmpfs as its working folder and `HOME`. The image itself cannot be
//! built here (no registry for its base images; docs/kubernetes.md), so
//! the binary runs under the same constraints in a mount namespace of its
//! own, and `bench` must work there: servers, load, probe and result.

mod common;

use std::process::Command;

use common::*;

#[test]
fn bench_runs_as_nonroot_on_a_read_only_root_with_tmp_on_tmpfs() {
    let is_root = unsafe { libc::geteuid() } == 0;
    let tools = ["unshare", "setpriv"]
        .iter()
        .all(|t| Command::new(t).arg("--version").output().is_ok());
    if !(is_root && tools) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root with util-linux: this test must run there"
        );
        eprintln!("skipped: needs root, unshare and setpriv");
        return;
    }
    let binary = env!("CARGO_BIN_EXE_wirebench");
    let script = format!(
        "set -e
mount --make-rprivate /
# The binary, staged on a tmpfs of this namespace first: the checkout
# may itself be under /tmp, which the tmpfs below hides.
mount -t tmpfs -o size=1g tmpfs /mnt
cp {binary} /mnt/wirebench
mount -o remount,bind,ro /
mount -t tmpfs -o size=2g tmpfs /tmp
cd /tmp
if touch /wirebench-probe 2>/dev/null; then echo 'root is writable'; exit 3; fi
# As the image has it: the one binary, where user 65532 can run it
# (a checkout under /root is not).
cp /mnt/wirebench /tmp/wirebench && chmod 755 /tmp/wirebench
setpriv --reuid=65532 --regid=65532 --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs \
  env HOME=/tmp WIREBENCH_CACHE_DIR=/tmp/cache sh -c 'id -u; /tmp/wirebench bench --quiet --stacks rest,grpc -n 100 -c 2 --warmup 0s --json /tmp/r.json >/tmp/out.txt 2>&1 || {{ cat /tmp/out.txt; exit 4; }}'
echo '--- result'
cat /tmp/r.json"
    );
    let (ok, out) = run(Command::new("unshare").args(["--mount", "sh", "-c", &script]));
    assert!(ok, "{out}");
    let (before, json) = out.split_once("--- result\n").expect("the result printed");
    assert_eq!(before.trim(), "65532", "ran as the image's user: {before}");
    let result: serde_json::Value = serde_json::from_str(json).unwrap();
    let trials = result["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 2);
    for trial in trials {
        assert_eq!(trial["requests_ok"], 100, "{}", trial["error_examples"]);
        assert!(
            trial["processes"].as_array().unwrap().len() >= 2,
            "the probe read the server and the client"
        );
    }
}
