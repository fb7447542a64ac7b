//! The codebase's shape, as docs/architecture.md promises it: a stack is
//! named only in the files listed there (the vocabulary, the one serve
//! dispatch, the one contract, the client's one transport choice), and no
//! files import each other in a circle. The check is
//! `scripts/check-architecture.py`; this test runs it, so `cargo test`
//! keeps the promise.

use std::path::Path;
use std::process::Command;

#[test]
fn stacks_are_named_in_their_files_and_no_files_import_each_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("python3")
        .arg(root.join("scripts/check-architecture.py"))
        .output()
        .expect("python3 runs (the README's set-up has it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("no cycle"), "{stdout}");
}

/// The check finds what it is for: a file outside the list that names a
/// stack kind, two files that import each other, and a server task
/// spawned outside its scope.
#[test]
fn the_check_fails_on_a_stack_named_elsewhere_on_a_cycle_and_on_a_bare_spawn() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let scratch = tempfile::tempdir().unwrap();
    let src = scratch.path().join("crates/demo/src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(scratch.path().join("scripts")).unwrap();
    std::fs::copy(
        root.join("scripts/check-architecture.py"),
        scratch.path().join("scripts/check-architecture.py"),
    )
    .unwrap();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\n").unwrap();
    std::fs::write(
        src.join("a.rs"),
        "use crate::b::B;\npub struct A;\nfn f(s: Stack) -> bool { s.kind == StackKind::Grpc }\n",
    )
    .unwrap();
    std::fs::write(src.join("b.rs"), "use crate::a::A;\npub struct B;\n").unwrap();
    let server = scratch.path().join("crates/server/src");
    std::fs::create_dir_all(&server).unwrap();
    std::fs::write(
        server.join("lib.rs"),
        "fn f() { tokio::spawn(async {}); set.spawn(async {}); }\n",
    )
    .unwrap();
    let out = Command::new("python3")
        .arg(scratch.path().join("scripts/check-architecture.py"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("crates/demo/src/a.rs names StackKind::Grpc"),
        "{stdout}"
    );
    assert!(
        stdout.contains("crates/demo/src/a.rs <-> crates/demo/src/b.rs"),
        "{stdout}"
    );
    for spawn in ["tokio::spawn", ".spawn("] {
        assert!(
            stdout.contains(&format!("crates/server/src/lib.rs spawns with `{spawn}`")),
            "{stdout}"
        );
    }
}
