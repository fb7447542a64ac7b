//! `wirebench k8s`: the manifests validate strictly, offline, against two
//! Kubernetes versions (kubernetes-validate), and say what schemas cannot
//! check: an Indexed Job of N agents that run the command as given plus
//! their shard, one start time and a one-line result; guaranteed CPUs;
//! servers whose Services select their pods and are what the agents call.

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;

/// Kubernetes versions the manifests are validated against.
const VERSIONS: [&str; 2] = ["1.29.0", "1.37.0"];

fn manifests(args: &[&str]) -> (String, Vec<Value>) {
    let yaml = run_ok(
        wirebench()
            .args(["k8s", "--image", "registry.example/wirebench:1"])
            .args(args),
    );
    let docs = yaml
        .split("\n---\n")
        .map(|doc| doc.trim_start_matches("---\n"))
        .filter(|doc| !doc.trim().is_empty())
        .map(|doc| serde_yaml_ng::from_str(doc).unwrap())
        .collect();
    (yaml, docs)
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn manifests_validate_and_hold_what_schemas_cannot_check() {
    let cases: [&[&str]; 4] = [
        &[
            "--agents",
            "4",
            "--",
            "load",
            "http://10.0.0.9:8000/payload?size_in_kb=64",
            "--rate",
            "4000",
            "-t",
            "60s",
            "--size-kb",
            "64",
        ],
        &[
            "--agents",
            "3",
            "--with-servers",
            "--start-in",
            "90s",
            "--",
            "load",
            "grpc://server:50051",
            "-c",
            "60",
            "-t",
            "30s",
        ],
        &[
            "--agents",
            "2",
            "--with-servers",
            "--",
            "bench",
            "--workload",
            "pipeline",
            "--stacks",
            "rest,grpc",
            "-t",
            "20s",
        ],
        &[
            "--agents",
            "4",
            "--with-servers",
            "--",
            "bench",
            "--stacks",
            "rest,rest-proto,grpc",
            "--size-kb",
            "64",
            "-t",
            "30s",
        ],
    ];
    let peers = peers(&[]);
    let dir = tempfile::tempdir().unwrap();
    for (i, args) in cases.iter().enumerate() {
        let agents: u64 = args[1].parse().unwrap();
        let (yaml, docs) = manifests(args);
        if let Some(peers) = &peers {
            let file = dir.path().join(format!("case-{i}.yaml"));
            std::fs::write(&file, &yaml).unwrap();
            for version in VERSIONS {
                run_ok(
                    Command::new(peers.bin("kubernetes-validate"))
                        .args(["--strict", "--quiet", "-k", version])
                        .arg(&file),
                );
            }
        }

        let [job] = of_kind(&docs, "Job")[..] else {
            panic!("one Job in {yaml}")
        };
        let spec = &job["spec"];
        assert_eq!(spec["completionMode"], "Indexed");
        assert_eq!(spec["completions"], agents);
        assert_eq!(spec["parallelism"], agents);
        assert_eq!(spec["backoffLimit"], 0);
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Never");
        assert_eq!(
            pod["topologySpreadConstraints"][0]["topologyKey"],
            "kubernetes.io/hostname"
        );
        let container = &pod["containers"][0];
        assert_eq!(
            container["resources"]["requests"],
            container["resources"]["limits"]
        );
        let command = strings(&container["args"]);
        // The command as given, then the agent's own flags; it parses (the
        // generator checked it), and its start time is ahead.
        let given: Vec<&str> = args[args.iter().position(|a| *a == "--").unwrap() + 1..].to_vec();
        assert_eq!(command[0], given[0]);
        let shard = command.iter().position(|a| a == "--shard").unwrap();
        assert_eq!(command[shard + 1], format!("auto/{agents}"));
        let start = command
            .iter()
            .find_map(|a| a.strip_prefix("--start-at="))
            .unwrap();
        let start = humantime::parse_rfc3339(start).unwrap();
        assert!(start > std::time::SystemTime::now(), "{start:?}");
        assert!(command.windows(2).any(|w| w == ["--json", "-"]));

        let deployments = of_kind(&docs, "Deployment");
        let services = of_kind(&docs, "Service");
        assert_eq!(deployments.len(), services.len());
        for (deployment, service) in deployments.iter().zip(&services) {
            let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
            let selector = service["spec"]["selector"].as_object().unwrap();
            assert!(
                selector.iter().all(|(k, v)| &pod_labels[k] == v),
                "{service}"
            );
            let server = &deployment["spec"]["template"]["spec"]["containers"][0];
            assert_eq!(
                server["resources"]["requests"],
                server["resources"]["limits"]
            );
            let serve = strings(&server["args"]);
            assert!(
                serve
                    .windows(2)
                    .any(|w| w[0] == "--metrics" && w[1].starts_with("0.0.0.0:"))
            );
            // The agents read this server's metrics through its Service.
            let name = service["metadata"]["name"].as_str().unwrap();
            assert!(
                command
                    .iter()
                    .any(|a| a.contains(&format!("http://{name}:9100/metrics"))),
                "{command:?}"
            );
        }
        if !deployments.is_empty() {
            // The agents call the (last) server by its Service's name.
            let front = services.last().unwrap()["metadata"]["name"]
                .as_str()
                .unwrap();
            assert!(
                command.iter().any(|a| a.contains(&format!("{front}:"))),
                "{command:?}"
            );
        }
    }
}

#[test]
fn what_the_agents_cannot_run_is_refused() {
    for (args, why) in [
        (
            vec!["--agents", "2", "--", "serve", "payload", "--stack", "rest"],
            "load URL",
        ),
        (
            vec![
                "--agents",
                "2",
                "--",
                "load",
                "http://h:1/payload",
                "--nonsense",
            ],
            "does not parse",
        ),
        (
            vec![
                "--agents",
                "2",
                "--with-servers",
                "--",
                "load",
                "https://h:1/payload",
            ],
            "+tls",
        ),
        (
            vec!["--agents", "0", "--", "load", "http://h:1/"],
            "at least 1",
        ),
        (
            vec![
                "--agents",
                "1",
                "--cpu",
                "banana",
                "--",
                "load",
                "http://h:1/",
            ],
            "not a CPU quantity",
        ),
        (
            vec![
                "--agents",
                "1",
                "--memory",
                "-5Gi",
                "--",
                "load",
                "http://h:1/",
            ],
            "not a memory quantity",
        ),
        (
            vec![
                "--agents",
                "1",
                "--name",
                "Bad_Name!",
                "--",
                "load",
                "http://h:1/",
            ],
            "not a Kubernetes name",
        ),
        (
            vec!["--agents", "1", "--", "load", "notaurl"],
            "needs a URL first",
        ),
    ] {
        let (ok, said) = run(wirebench().args(["k8s", "--image", "i"]).args(&args));
        assert!(!ok && said.contains(why), "{args:?}: {said}");
    }
}

/// The Pod Security Standards' "restricted" profile, checked on every pod
/// template as the admission controller would: non-root, no privilege
/// escalation, ALL capabilities dropped, RuntimeDefault seccomp; and beyond
/// it, a read-only root with /tmp writable and no service-account token.
#[test]
fn every_pod_meets_the_restricted_pod_security_profile() {
    let (_, docs) = manifests(&[
        "--agents",
        "2",
        "--with-servers",
        "--",
        "bench",
        "--workload",
        "pipeline",
        "--stacks",
        "grpc",
    ]);
    let mut pods = 0;
    for doc in &docs {
        let Some(pod) = doc["spec"]["template"]["spec"].as_object() else {
            continue;
        };
        pods += 1;
        let kind = &doc["kind"];
        assert_eq!(pod["automountServiceAccountToken"], false, "{kind}");
        let security = &pod["securityContext"];
        assert_eq!(security["runAsNonRoot"], true, "{kind}");
        assert_eq!(
            security["seccompProfile"]["type"], "RuntimeDefault",
            "{kind}"
        );
        assert!(security["runAsUser"].as_u64().unwrap() > 0, "{kind}");
        let mounts_tmp = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["emptyDir"].is_object());
        assert!(mounts_tmp, "{kind}: /tmp on an emptyDir");
        for container in pod["containers"].as_array().unwrap() {
            let c = &container["securityContext"];
            assert_eq!(c["allowPrivilegeEscalation"], false, "{kind}");
            assert_eq!(c["readOnlyRootFilesystem"], true, "{kind}");
            assert_eq!(
                c["capabilities"]["drop"],
                serde_json::json!(["ALL"]),
                "{kind}"
            );
            assert_eq!(container["volumeMounts"][0]["mountPath"], "/tmp", "{kind}");
            assert!(container.get("securityContext").is_some());
            assert!(
                !c["privileged"].as_bool().unwrap_or(false),
                "{kind}: privileged"
            );
        }
    }
    assert_eq!(pods, 4, "three pipeline servers and the agents' Job");
}
