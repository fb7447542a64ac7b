#!/usr/bin/env python3
"""Runs every command of the user's docs, so they cannot rot.

The README and docs/*.md show what a user types. This script runs each
`sh` block of them, in order, as one shell session per document: a line
that ends in `&` starts a server in the background (the session waits
until it listens, and a later block that starts servers stops the earlier
ones), every other line runs in the foreground and must exit 0, or with
the code its comment names ("exit 99 if ..."), and a load or bench must
have no error in its answers. Every load stops by itself and every
address is loopback.

What is changed, and why (printed as the run starts):
  * loads are short: `load` and `bench` run at most 1 s per trial (-t; 5 s
    over a --net path),
    200 requests (-n), one trial (--trials 1) and no warm-up; the scripts
    get DURATION=1 (and skip oha, which takes ten minutes to build);
  * addresses that stand for your machines (HOST, 10.0.0.2, 0.0.0.0) are
    127.0.0.1; `sudo` is dropped (CI runs as root);
  * the session runs in a scratch directory that links the repository's
    examples/, proto/ and scripts/, so files the docs write land there;
  * as root, it runs in a network namespace of its own (`unshare --net`,
    loopback only) whose ephemeral ports are 20000-45000: the docs' fixed
    ports (8000-9101, the seeds' 50051-50061) can then neither meet a
    service of this machine nor a client socket still in TIME_WAIT (Linux
    refuses a listener on a port such a socket holds, and 50051 lies in
    its default ephemeral range).

The commands that are CI's own steps (the build, the tests, the peers'
install) are not run twice. A block is not run when the line before its fence says why, e.g.
`<!-- not run: needs a Kubernetes cluster -->`: such blocks are listed
in the summary.

Usage: scripts/run-docs.py [BINARY] [DOC...]
  BINARY defaults to target/release/wirebench; DOC to README.md and
  docs/*.md. Exit 1 when a command failed.
"""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A load or bench trial runs at most this long, or this many requests.
MAX_SECONDS = 1.0
# ... and over a network path with delay and loss (--net), where 512 KiB
# on one connection takes a second to get through slow start.
MAX_SECONDS_NET = 5.0
MAX_REQUESTS = 200
# A foreground command that runs longer than this has hung.
COMMAND_TIMEOUT_S = 600
# The shim's exit code when a command exited 0 with errors in its answers.
ANSWERS_FAILED = 3
# A background server that does not listen by then has failed.
READY_TIMEOUT_S = 60
# The words of the docs that stand for another machine: loopback here.
PLACEHOLDERS = [
    (re.compile(r"\bHOST\b"), "127.0.0.1"),
    (re.compile(r"\b10\.0\.0\.2\b"), "127.0.0.1"),
    (re.compile(r"\b0\.0\.0\.0\b"), "127.0.0.1"),
]
# Commands CI runs as its own steps (.ci/run): not run twice.
CI_STEPS = {
    "cargo run --release -- bench",
    "cargo test --workspace",
    "scripts/install-peers.sh",
}
NOT_RUN = re.compile(r"<!--\s*not run:\s*(.*?)\s*-->")
EXPECTED_EXIT = re.compile(r"#.*\bexit (\d+)\b")


def blocks(doc):
    """The `sh` blocks of `doc`: (line, reason it is not run or None,
    [(line, command)]). A command's `\\` continuations, and the body of a
    `for` loop up to its `done`, belong to it."""
    lines = (ROOT / doc).read_text().splitlines()
    found = []
    i = 0
    while i < len(lines):
        fence = lines[i].strip()
        if fence not in ("```sh", "```bash"):
            i += 1
            continue
        marker = NOT_RUN.search(lines[i - 1]) if i > 0 else None
        start = i + 1
        commands = []
        pending = None  # (line, the lines so far, a loop?)
        i += 1
        while i < len(lines) and not lines[i].strip().startswith("```"):
            text = lines[i].rstrip()
            i += 1
            if pending is None:
                if not text.strip() or text.strip().startswith("#"):
                    continue
                loop = re.match(r"\(?(for|while) ", text.strip()) is not None
                pending = (i, [text], loop)
            else:
                pending[1].append(text)
            place, parts, loop = pending
            done = text.strip().startswith("done") if loop else not text.endswith("\\")
            if done:
                commands.append((place, "\n".join(parts).strip()))
                pending = None
        found.append((start, marker.group(1) if marker else None, commands))
        i += 1
    return found


def without_comment(command):
    """The command without its trailing `# comment` (a `#` in quotes
    stays)."""
    quote = None
    for i, c in enumerate(command):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or command[i - 1].isspace()):
            return command[:i].rstrip()
    return command


def localize(command):
    """The command as this machine runs it: placeholders to loopback."""
    for pattern, value in PLACEHOLDERS:
        command = pattern.sub(value, command)
    if command.startswith("sudo "):
        command = command[len("sudo "):]
    return command


def seconds(text):
    """A duration as the docs write them (500ms, 10s, 2m, 1h), seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)?", text)
    if not match:
        return None
    value = float(match.group(1))
    return value * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[match.group(2)]


def shorten(argv):
    """`load` and `bench` with every trial short (see the module doc);
    any other command as it is."""
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in ("load", "bench") or "--list-presets" in argv:
        return argv
    limit = MAX_SECONDS_NET if any(a.startswith("--net") for a in argv) else MAX_SECONDS
    out = []
    sized = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, inline = arg.partition("=")
        has_value = i + 1 < len(argv) or eq
        value = inline if eq else (argv[i + 1] if i + 1 < len(argv) else None)
        if name in ("-t", "-z", "--duration") and has_value:
            sized = True
            s = seconds(value)
            value = value if s is not None and s <= limit else f"{limit:g}s"
        elif name in ("-n", "--requests") and has_value:
            sized = True
            value = str(min(int(value), MAX_REQUESTS))
        elif name == "--trials" and has_value:
            value = "1"
        elif name == "--warmup" and has_value:
            value = "0s"
        else:
            out.append(arg)
            i += 1
            continue
        out += [f"{name}={value}"] if eq else [name, value]
        i += 1 if eq else 2
    if not sized:
        out += ["-t", f"{limit:g}s"]
    if command == "bench" and not any(a.partition("=")[0] == "--warmup" for a in argv):
        out += ["--warmup", "0s"]
    return out


def result_file(argv, scratch):
    """Where a `load` or `bench` writes its result: its own --json FILE,
    or one added in `scratch` (None for `--json -`, which a later
    `merge` reads, and for other commands)."""
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in ("load", "bench") or "--list-presets" in argv:
        return argv, None
    for i, arg in enumerate(argv):
        if arg == "--json" and i + 1 < len(argv):
            return argv, None if argv[i + 1] == "-" else Path(argv[i + 1])
        if arg.startswith("--json="):
            return argv, None if arg == "--json=-" else Path(arg[len("--json="):])
    path = Path(scratch, "result.json")
    return argv + ["--json", str(path)], path


def errors_in(result):
    """The trials of a result that had errors: "stack: {kind: count}"."""
    trials = json.loads(result.read_text()).get("trials", [])
    return [f"{t.get('stack')}: {t['errors']}" for t in trials if t.get("errors")]


def shim(binary, ready_dir, argv):
    """What `wirebench` is in the session: the binary, loads shortened and
    their answers checked (a command that provokes errors on purpose,
    with --net's loss or resets, is exempt); a server says it is ready (a
    file named after this process) once it listens, and stops when this
    process is told to."""
    argv = shorten(argv)
    if argv[:1] != ["serve"]:
        with tempfile.TemporaryDirectory(prefix="run-docs-result-") as scratch:
            argv, result = result_file(argv, scratch)
            try:
                code = subprocess.run([binary] + argv, timeout=COMMAND_TIMEOUT_S).returncode
            except subprocess.TimeoutExpired:
                print(f"run-docs: still running after {COMMAND_TIMEOUT_S} s: stopped", file=sys.stderr)
                return 124
            provoked = any(w in a for a in argv for w in ("loss=", "reset="))
            if code == 0 and result is not None and result.exists() and not provoked:
                errors = errors_in(result)
                if errors:
                    print(f"run-docs: errors in the answers: {'; '.join(errors)}", file=sys.stderr)
                    return ANSWERS_FAILED
            return code
    child = subprocess.Popen([binary] + argv, stdout=subprocess.PIPE, text=True)
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    for line in child.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        if line.startswith("listening on "):
            Path(ready_dir, str(os.getpid())).write_text(line)
    return child.wait()


SESSION_PRELUDE = r"""
set -o pipefail
__status="$RUN_DOCS_DIR/status"
__stop_servers() {
    local pids
    pids=$(jobs -p)
    [ -n "$pids" ] && kill $pids 2>/dev/null
    wait 2>/dev/null
    return 0
}
trap __stop_servers EXIT
__ready() {  # place pid: wait until the server started as pid listens
    local place=$1 pid=$2 waited=0
    while [ ! -e "$RUN_DOCS_DIR/ready/$pid" ]; do
        if ! kill -0 "$pid" 2>/dev/null || [ "$waited" -ge $((READY_TIMEOUT_S * 10)) ]; then
            echo "fail $place (the server did not start)" >> "$__status"
            return
        fi
        sleep 0.1; waited=$((waited + 1))
    done
    echo "ok $place" >> "$__status"
}
__check() {  # place code expected...: record how a command ended, and its time
    local place=$1 code=$2; shift 2
    local took
    took=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $__started }")
    for ok in "$@"; do
        if [ "$code" = "$ok" ]; then echo "ok $place $took" >> "$__status"; return; fi
    done
    echo "fail $place (exit $code) $took" >> "$__status"
}
"""


def session(doc):
    """The shell session that runs `doc`'s blocks, how many commands it
    runs, and the blocks left out."""
    script = [SESSION_PRELUDE.replace("READY_TIMEOUT_S", str(READY_TIMEOUT_S))]
    skipped = []
    count = 0
    for start, reason, commands in blocks(doc):
        if reason is not None:
            skipped.append((f"{doc}:{start}", reason, len(commands)))
            continue
        if any(without_comment(c).endswith("&") for _, c in commands):
            script.append("__stop_servers")
        for place, command in commands:
            where = f"{doc}:{place}"
            count += 1
            local = localize(without_comment(command))
            if local in CI_STEPS:
                skipped.append((where, "one of CI's own steps", 1))
                continue
            expected = ["0"] + EXPECTED_EXIT.findall(command)
            script.append(f"echo; echo {shlex.quote('$ ' + local)}")
            if local.endswith("&"):
                script.append(local)
                script.append(f"__ready {shlex.quote(where)} $!")
            else:
                script.append("__started=$EPOCHREALTIME")
                script.append(local)
                script.append(f"__check {shlex.quote(where)} $? {' '.join(expected)}")
    return "\n".join(script) + "\n", count, skipped


# The ephemeral ports inside the session's own network namespace: clear
# of every port the docs serve on.
EPHEMERAL_PORTS = "20000 45000"


def isolated(argv):
    """`argv` in a network namespace of its own when this runs as root
    (loopback up, EPHEMERAL_PORTS), else as it is."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        print("run-docs: not root: the session shares this machine's network (ports may clash)")
        return argv
    setup = (
        "ip link set lo up && "
        f"echo {EPHEMERAL_PORTS} > /proc/sys/net/ipv4/ip_local_port_range && "
        'exec "$@"'
    )
    return ["unshare", "--net", "sh", "-c", setup, "sh"] + argv


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--shim":
        sys.exit(shim(os.environ["RUN_DOCS_BINARY"], os.environ["RUN_DOCS_DIR"] + "/ready", sys.argv[2:]))
    args = sys.argv[1:]
    binary = Path(args.pop(0) if args and not args[0].endswith(".md") else ROOT / "target/release/wirebench")
    if not binary.exists():
        sys.exit(f"run-docs: no {binary}: cargo build --release first")
    docs = args or ["README.md"] + sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))
    print(__doc__.split("What is changed")[0].strip().splitlines()[0])
    print(f"loads at most {MAX_SECONDS:g} s ({MAX_SECONDS_NET:g} s over --net) or {MAX_REQUESTS} requests per trial; HOST, 10.0.0.2 and 0.0.0.0 are 127.0.0.1")
    failures, ran, skipped_all, timed = [], 0, [], []
    started = time.monotonic()
    for doc in docs:
        with tempfile.TemporaryDirectory(prefix="run-docs-") as scratch:
            state = Path(scratch, ".run-docs")
            (state / "ready").mkdir(parents=True)
            (state / "bin").mkdir()
            work = Path(scratch, "work")
            work.mkdir()
            for linked in ("examples", "proto", "scripts", "scenarios"):
                (work / linked).symlink_to(ROOT / linked)
            wrapper = state / "bin" / "wirebench"
            wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(Path(__file__).resolve()))} --shim "$@"\n')
            wrapper.chmod(0o755)
            script, count, skipped = session(doc)
            skipped_all += skipped
            if not count:
                continue
            peers = Path(os.environ.get("WIREBENCH_PEERS", Path.home() / ".cache/wirebench-peers"))
            env = dict(
                os.environ,
                PATH=f"{state / 'bin'}:{peers / 'venv/bin'}:{os.environ['PATH']}",
                RUN_DOCS_BINARY=str(binary.resolve()),
                RUN_DOCS_DIR=str(state),
                WIREBENCH=str(binary.resolve()),
                DURATION="1",
                WITHOUT_OHA="1",
            )
            print(f"\n== {doc}")
            subprocess.run(isolated(["bash", "-c", script]), cwd=work, env=env, check=False)
            status = (state / "status").read_text().splitlines() if (state / "status").exists() else []
            ran += len(status)
            failures += [line[len("fail "):] for line in status if line.startswith("fail ")]
            timed += [(float(line.split()[-1]), line.split()[1]) for line in status if line.startswith("ok ") and len(line.split()) == 3]
    print(f"\n== run-docs: {ran} commands run in {time.monotonic() - started:.0f} s, {len(failures)} failed")
    slowest = ", ".join(f"{place} {took:.0f} s" for took, place in sorted(timed, reverse=True)[:5])
    print(f"   slowest: {slowest}")
    for place, reason, count in skipped_all:
        print(f"   not run: {place} ({count} commands): {reason}")
    for failure in failures:
        print(f"   FAILED: {failure}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
