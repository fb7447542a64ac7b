//! The user's schema, compiled: a built-in shape fed back as a user schema
//! answers byte for byte as the built-in shape does; canonical proto3
//! JSON as pbjson writes it; a second run loads the cache with no cargo
//! on the machine; with no cargo and no cache it falls back to dynamic and
//! the result and verdict say so; `--codegen compiled,dynamic` is a factor;
//! a schema whose Rust code does not build is refused naming the step and
//! the compiler's first error, with no cache entry left behind.

mod common;

use std::path::Path;

use common::*;

const SHAPES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../proto/shapes.proto");

fn serve_message(args: &[&str]) -> (Guard, String) {
    let (child, addr) = serve("message", "rest", args);
    (Guard(child), addr)
}

/// Every answer of the contract, from `addr`: down in JSON and in
/// protobuf, up and echo of the message in both.
fn answers(addr: &str) -> Vec<(String, Vec<u8>)> {
    const JSON: &str = "Content-Type: application/json\r\nAccept: application/json\r\n";
    const PROTOBUF: &str =
        "Content-Type: application/x-protobuf\r\nAccept: application/x-protobuf\r\n";
    let json = exchange(addr, "GET", "/message", "Accept: application/json\r\n", b"");
    let protobuf = exchange(
        addr,
        "GET",
        "/message",
        "Accept: application/x-protobuf\r\n",
        b"",
    );
    let mut all = vec![json.clone(), protobuf.clone()];
    for (headers, body) in [(JSON, &json.1), (PROTOBUF, &protobuf.1)] {
        all.push(exchange(addr, "POST", "/message", headers, body));
        all.push(exchange(addr, "POST", "/message/echo", headers, body));
    }
    all
}

#[test]
fn a_builtin_shape_fed_as_a_user_schema_answers_byte_for_byte_as_the_builtin_one() {
    for (shape, name, items) in [
        ("telemetry", "wirebench.shapes.Telemetry", "60"),
        ("order", "wirebench.shapes.Order", "10"),
    ] {
        let (_builtin, builtin) =
            serve_message(&["--shape", shape, "--items", items, "--seed", "1"]);
        let want = answers(&builtin);
        for (status, body) in &want {
            assert!(status.contains(" 200 "), "{shape}: {status}");
            assert!(!body.is_empty());
        }
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data.json");
        std::fs::write(&data, &want[0].1).unwrap();
        let (child, line) = start_listening_line(wirebench().args([
            "serve",
            "message",
            "--stack",
            "rest",
            "--port",
            "0",
            "--workers",
            "1",
            "--proto",
            SHAPES,
            "--message",
            name,
            "--data",
            data.to_str().unwrap(),
        ]));
        let _user = Guard(child);
        assert!(!line.contains("dynamic"), "{line}");
        let user = line.split_whitespace().nth(2).unwrap().to_owned();
        let got = answers(&user);
        for (i, (w, g)) in want.iter().zip(&got).enumerate() {
            assert_eq!(w.0, g.0, "{shape} answer {i}");
            assert!(
                w.1 == g.1,
                "{shape} answer {i} differs from the built-in one"
            );
        }
    }
}

/// A schema of its own for each test that builds one (the cache key is
/// the schema): `tag` makes it unique.
fn schema(dir: &Path, tag: &str) -> std::path::PathBuf {
    let proto = dir.join("own.proto");
    std::fs::write(
        &proto,
        format!(
            "syntax = \"proto3\";\npackage own.{tag};\nmessage Item {{ int64 id = 1; string name = 2; }}\nmessage Bag {{ repeated Item items = 1; map<string, int64> counts = 2; }}\n"
        ),
    )
    .unwrap();
    proto
}

fn bench_bag(proto: &Path, tag: &str, extra: &[&str]) -> (serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let message = format!("own.{tag}.Bag");
    let output = wirebench()
        .args(["bench", "--workload", "message", "--stacks", "rest,grpc"])
        .args([
            "-c",
            "2",
            "--warmup",
            "0s",
            "--proto",
            proto.to_str().unwrap(),
        ])
        .args(["--message", &message, "--json"])
        .arg(&json)
        .args(extra)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{said}");
    (read_json(&json), said)
}

#[test]
fn a_second_run_loads_the_cache_with_no_cargo_on_the_machine() {
    let dir = tempfile::tempdir().unwrap();
    let tag = format!("second{}", std::process::id());
    let proto = schema(dir.path(), &tag);
    let (first, said) = bench_bag(&proto, &tag, &["-n", "50"]);
    assert!(
        said.contains("compiling") && said.contains("later runs load it from the cache"),
        "{said}"
    );
    let (second, said) = bench_bag(&proto, &tag, &["-n", "50"]);
    assert!(!said.contains("compiling"), "built again: {said}");
    for result in [&first, &second] {
        assert_eq!(
            result["run"]["settings"]["message"]["codegen"][0],
            "compiled"
        );
        for trial in result["trials"].as_array().unwrap() {
            assert_eq!(trial["codegen"], "compiled");
            assert_eq!(trial["requests_ok"], 50, "{}", trial["error_examples"]);
        }
    }
    // No cargo at all: the cache is all it needs.
    let (child, line) = start_listening_line(
        wirebench()
            .args(["serve", "message", "--stack", "grpc", "--port", "0"])
            .args(["--proto", proto.to_str().unwrap()])
            .args(["--message", &format!("own.{tag}.Bag")])
            .env("PATH", path_without_cargo())
            .env_remove("CARGO"),
    );
    let _server = Guard(child);
    assert!(!line.contains("dynamic"), "{line}");
}

#[test]
fn without_cargo_a_schema_falls_back_to_dynamic_and_the_result_says_so() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tag = format!("nocargo{}", std::process::id());
    let proto = schema(dir.path(), &tag);
    let output = wirebench()
        .args([
            "bench",
            "--quiet",
            "--workload",
            "message",
            "--stacks",
            "rest",
            "-n",
            "30",
        ])
        .args(["--warmup", "0s", "--proto", proto.to_str().unwrap()])
        .args(["--message", &format!("own.{tag}.Bag"), "--json"])
        .arg(dir.path().join("r.json"))
        .env("WIREBENCH_CACHE_DIR", cache.path())
        .env("PATH", path_without_cargo())
        .env_remove("CARGO")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("no cargo"), "{stderr}");
    assert!(
        stdout.contains("reflection-based encoding, not what a compiled server costs"),
        "{stdout}"
    );
    let result = read_json(&dir.path().join("r.json"));
    let message = &result["run"]["settings"]["message"];
    assert_eq!(message["codegen"], serde_json::json!(["dynamic"]));
    assert!(
        message["codegen_fallback"]
            .as_str()
            .unwrap()
            .contains("no cargo"),
        "{message}"
    );
    let trial = &result["trials"][0];
    assert_eq!(trial["codegen"], "dynamic");
    assert_eq!(trial["requests_ok"], 30, "{}", trial["error_examples"]);
    assert!(
        std::fs::read_dir(cache.path().join("schemas"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 0,
        "nothing cached without a build"
    );
}

#[test]
fn compiled_and_dynamic_are_a_factor_and_never_ranked_against_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let tag = format!("factor{}", std::process::id());
    let proto = schema(dir.path(), &tag);
    let (result, said) = bench_bag(
        &proto,
        &tag,
        &["--codegen", "compiled,dynamic", "-t", "1s", "--items", "40"],
    );
    let message = &result["run"]["settings"]["message"];
    assert_eq!(
        message["codegen"],
        serde_json::json!(["compiled", "dynamic"])
    );
    let trials = result["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 4);
    for codegen in ["compiled", "dynamic"] {
        assert_eq!(trials.iter().filter(|t| t["codegen"] == codegen).count(), 2);
    }
    let bag = format!("own.{tag}.Bag");
    assert!(
        said.contains(&format!("{bag} (dynamic) down: reflection-based encoding")),
        "{said}"
    );
    // Each codegen ranked within itself: no sentence sets a dynamic
    // configuration against a compiled one.
    for line in said
        .lines()
        .filter(|l| l.contains(" the requests per second of "))
    {
        let dynamic = line.matches("(dynamic)").count();
        assert!(
            dynamic == 0 || !line.contains(&format!("({bag} down)")),
            "{line}"
        );
    }
    assert!(
        said.contains(&format!(
            "Reflection's cost ({bag} down): server CPU per request, dynamic over compiled: rest "
        )),
        "{said}"
    );
}

#[test]
fn a_schema_whose_code_does_not_build_is_refused_with_no_cache_entry_left() {
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("clash.proto");
    // Both names are FooBar in Rust: protox accepts the schema, rustc
    // does not.
    std::fs::write(
        &proto,
        format!(
            "syntax = \"proto3\";\npackage clash.p{};\nmessage FooBar {{ int32 a = 1; }}\nmessage Foo_bar {{ int32 b = 1; }}\n",
            std::process::id()
        ),
    )
    .unwrap();
    let (ok, out) = run(wirebench()
        .args([
            "bench",
            "--workload",
            "message",
            "--stacks",
            "rest",
            "-n",
            "1",
        ])
        .args(["--proto", proto.to_str().unwrap()])
        .args([
            "--message",
            &format!("clash.p{}.FooBar", std::process::id()),
        ]));
    assert!(!ok, "{out}");
    assert!(
        out.contains("failed (cargo build)") && out.contains("error") && out.contains("FooBar"),
        "{out}"
    );
    let entry = out
        .split("cached in ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("names its cache entry: {out}"));
    assert!(!Path::new(entry).exists(), "{entry} left behind");
    let parent = Path::new(entry).parent().unwrap();
    let key = Path::new(entry).file_name().unwrap().to_str().unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(parent)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| {
            name.starts_with(key) && !name.ends_with(".lock") || name == &format!("build-{key}")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
