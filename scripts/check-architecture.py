#!/usr/bin/env python3
"""Keeps three promises of docs/architecture.md true.

1. A stack is named in one place. Outside the files listed in
   STACK_NAMES_ALLOWED, no source file names a stack kind
   (`StackKind::Grpc`, ...) or a family (`Family::Rest`, ...); the crates ask
   the vocabulary's questions instead (`stack.is_http2()`,
   `stack.encoding()`). Tests may name stacks: they say what they test.

2. No circle of files importing each other. Within each crate, a file
   imports another when it names an item of that file's module (`use
   crate::a::b`, `super::x`, a child module's `child::Y`). A module and its
   own ancestors are not a circle: a parent (lib.rs, mod.rs) holds what its
   children share and re-exports what they define. Tests (`#[cfg(test)] mod
   tests`) are left out: they sit beside what they test.

3. A server's tasks keep its scope. Its JSON codec and counters reach
   its tasks through their scope (crates/server/src/task.rs), so the
   server crate spawns only through that file: no `tokio::spawn`, no
   `spawn_blocking`, no `JoinSet` spawn, no `TokioExecutor` elsewhere (gRPC
   C-core's own `ctx.spawn` runs no code of ours).

Run from anywhere; exits 1 with what broke a promise.
"""

import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

# The files that may name a stack kind or a family, relative to ROOT: the
# vocabulary (each kind's one row), the one serve dispatch, the one
# contract of requests and checks, and the client's one transport choice.
STACK_NAMES_ALLOWED = {
    "crates/proto/src/vocab.rs",
    "crates/server/src/lib.rs",
    "crates/load/src/contract/mod.rs",
    "crates/load/src/client.rs",
}

# The one file of the server crate that may spawn a task.
SPAWN_ALLOWED = "crates/server/src/task.rs"
SPAWN = re.compile(r"\btokio::spawn\b|(?<!crate::task::)\bspawn_blocking\b|\bTokioExecutor\b|(?<!ctx)\.spawn\(")

STACK_NAME = re.compile(r"\b(StackKind|Family)::([A-Z][a-z][A-Za-z0-9]*)")
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def rust_files(src):
    for folder, _, names in os.walk(src):
        for name in sorted(names):
            if name.endswith(".rs"):
                yield os.path.join(folder, name)


def strip(text):
    """The code of a file without comments, strings and test modules."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'r#*"(?:.|\n)*?"#*', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    # A test module runs to the end of its file, in this codebase's style.
    cut = re.search(r"#\[cfg\(test\)\]\s*mod\s+" + IDENT, text)
    return text[: cut.start()] if cut else text


def module_of(src, path):
    """`a/b.rs` -> ['a', 'b']; `a/mod.rs` -> ['a']; lib.rs, main.rs -> []."""
    rel = os.path.relpath(path, src)[: -len(".rs")].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return rel


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e']."""
    tree = tree.strip()
    brace = tree.find("{")
    if brace < 0:
        return [re.split(r"\s+as\s+", tree)[0].strip()]
    prefix = tree[:brace]
    body = tree[brace + 1 : tree.rfind("}")]
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    return [p for part in parts if part.strip() for p in expand_use(prefix + part.strip())]


def referenced_paths(code, children):
    """Every module path the code names, as written."""
    paths = []
    for tree in re.findall(r"\buse\s+([^;]+);", code):
        paths.extend(expand_use(tree))
    roots = ["crate", "super", "self"] + sorted(children)
    pattern = r"\b(?:%s)(?:::%s)+" % ("|".join(roots), IDENT)
    paths.extend(re.findall("(?:" + pattern + ")", code))
    return paths


def resolve(path, here, children, modules):
    """The module (a key of `modules`) a path names, or None (a crate)."""
    parts = [p for p in path.split("::") if p]
    if not parts:
        return None
    if parts[0] == "crate":
        base, rest = [], parts[1:]
    elif parts[0] in ("super", "self"):
        base = list(here)
        rest = parts
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
    elif parts[0] in children:
        base, rest = list(here), parts
    else:
        return None
    full = base + rest
    # The longest prefix that is a file's module.
    for end in range(len(full), -1, -1):
        key = tuple(full[:end])
        if key in modules:
            return key
    return None


def cycles_in(crate):
    src = os.path.join(crate, "src")
    modules = {}
    for path in rust_files(src):
        modules[tuple(module_of(src, path))] = path
    edges = {key: set() for key in modules}
    for key, path in modules.items():
        code = strip(open(path, encoding="utf-8").read())
        children = set(re.findall(r"\bmod\s+(%s)\s*;" % IDENT, code))
        for named in referenced_paths(code, children):
            target = resolve(named, list(key), children, modules)
            if target is None or is_lineage(key, target):
                continue
            edges[key].add(target)
    return strongly_connected(edges, modules)


def is_lineage(a, b):
    """One module is the other's ancestor (or itself): a parent holds what
    its children share, and re-exports what they define, by design."""
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def strongly_connected(edges, modules):
    """Tarjan's: every group of more than one file that reach each other."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(os.path.relpath(modules[m], ROOT) for m in group))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    failures = []
    crates = sorted(
        os.path.join(ROOT, "crates", name)
        for name in os.listdir(os.path.join(ROOT, "crates"))
        if os.path.isdir(os.path.join(ROOT, "crates", name, "src"))
    )
    for crate in crates:
        for path in rust_files(os.path.join(crate, "src")):
            rel = os.path.relpath(path, ROOT)
            code = strip(open(path, encoding="utf-8").read())
            if rel.startswith("crates/server/src/") and rel != SPAWN_ALLOWED:
                for spawn in sorted(set(SPAWN.findall(code))):
                    failures.append(
                        f"{rel} spawns with `{spawn}`: spawn through "
                        f"{SPAWN_ALLOWED}, so the task keeps its server's scope"
                    )
            if rel in STACK_NAMES_ALLOWED:
                continue
            for kind, name in sorted(set(STACK_NAME.findall(code))):
                failures.append(
                    f"{rel} names {kind}::{name}: ask the vocabulary "
                    "(crates/proto/src/vocab.rs) instead, or list the file in "
                    "docs/architecture.md and this script"
                )
        for group in cycles_in(crate):
            failures.append("files that import each other: " + " <-> ".join(group))
    for failure in failures:
        print(failure)
    if failures:
        sys.exit(1)
    print(
        f"architecture: {len(crates)} crates, no stack named outside its files, "
        "no cycle, every server task spawned in its scope"
    )


if __name__ == "__main__":
    main()
