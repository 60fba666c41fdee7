"""bench's import graph, counting imports inside functions, its circles, and its long files.

    python benchmarks/import_graph.py                 # the working tree's bench/
    python benchmarks/import_graph.py --rev 1abe589^  # a committed revision (git archive, read-only)
    python benchmarks/import_graph.py --rev A --rev B # several, side by side, then each one's detail

A node is a module of bench/ (a package is its __init__.py). An edge A -> B is an import
statement of A that names B: at load time (module level, not under `if TYPE_CHECKING`) or
inside a function (deferred, e.g. for a fast `bench --help`). `from P import x` names the
submodule P.x when one exists, else P. A circle is a strongly connected component of more
than one module. Two counts are given: every edge ("all"), and without a package's edges to
its own submodules ("registering": an __init__.py that imports its submodules so that they
register, which is how tests/test_layout.py counts). With every edge counted, a submodule
that imports its own package (`from bench.models import model` inside bench/models/) makes
a circle with the package's __init__.py; that is what 1abe589 removed.

Python runs a package's __init__.py before any of its submodules, whatever the import
statement says; that implicit step is not an edge here.

Files over 500 lines are listed with their line counts. Nothing is imported or run: the
files are parsed with `ast`. Output is plain text, deterministic for a given tree.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LONG = 500


@dataclass
class Graph:
    modules: dict[str, Path]
    load: dict[str, set[str]] = field(default_factory=dict)  # load-time edges
    deferred: dict[str, set[str]] = field(default_factory=dict)  # edges from imports inside functions
    deferred_statements: int = 0  # import statements inside functions that name a bench module

    def edges(self, deferred: bool = True, registering: bool = True) -> dict[str, set[str]]:
        out = {}
        for m in self.modules:
            deps = set(self.load.get(m, ())) | (set(self.deferred.get(m, ())) if deferred else set())
            if not registering:
                deps = {d for d in deps if not d.startswith(m + ".")}
            out[m] = deps
        return out


def _module(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.Module):
    """(import node, inside a function?) for every import statement not under TYPE_CHECKING."""
    def walk(node: ast.AST, in_function: bool):
        for child in ast.iter_child_nodes(node):
            if _type_checking(child):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, in_function
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from walk(child, inner)
    yield from walk(tree, False)


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _named(node: ast.Import | ast.ImportFrom, me: str, is_package: bool, modules: dict[str, Path]) -> set[str]:
    """The bench modules an import statement names."""
    if isinstance(node, ast.Import):
        found = {_resolve(a.name, modules) for a in node.names}
    else:
        base = node.module or ""
        if node.level:
            package = me if is_package else me.rpartition(".")[0]
            parts = package.split(".")
            parts = parts[: len(parts) - node.level + 1]
            base = ".".join(parts + ([base] if base else []))
        found = set()
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            found.add(sub if sub in modules else _resolve(base, modules))
    return {m for m in found if m and m != me}


def build(root: Path) -> Graph:
    """The import graph of the package folder `root` (a bench/ folder)."""
    paths = sorted(root.rglob("*.py"))
    modules = {_module(p, root): p for p in paths}
    graph = Graph(modules)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        load, deferred = set(), set()
        for node, in_function in _imports(tree):
            named = _named(node, name, path.name == "__init__.py", modules)
            if in_function:
                deferred |= named
                graph.deferred_statements += bool(named)
            else:
                load |= named
        graph.load[name], graph.deferred[name] = load, deferred
    return graph


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # recursion depth is bounded by the module count (a few hundred)
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(edges) + 100))
    try:
        for v in sorted(edges):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found)


def long_files(root: Path, limit: int = LONG) -> list[tuple[str, int]]:
    out = []
    for path in sorted(root.rglob("*.py")):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > limit:
            out.append((str(path.relative_to(root.parent)), n))
    return sorted(out, key=lambda t: -t[1])


@dataclass
class Summary:
    label: str
    modules: int
    load_edges: int
    deferred_edges: int
    deferred_statements: int
    circles_load: list[list[str]]
    circles_all: list[list[str]]
    circles_registering: list[list[str]]
    long: list[tuple[str, int]]


def summarise(root: Path, label: str) -> Summary:
    g = build(root)
    return Summary(
        label=label,
        modules=len(g.modules),
        load_edges=sum(len(v) for v in g.load.values()),
        deferred_edges=sum(len(v - g.load[k]) for k, v in g.deferred.items()),
        deferred_statements=g.deferred_statements,
        circles_load=circles(g.edges(deferred=False)),
        circles_all=circles(g.edges()),
        circles_registering=circles(g.edges(registering=False)),
        long=long_files(root),
    )


def _tree_of(rev: str, into: Path) -> Path:
    """bench/ as committed at `rev`, extracted under `into` (git archive; the work tree is untouched)."""
    blob = subprocess.run(["git", "archive", "--format=tar", rev, "bench"], cwd=REPO,
                          capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return into / "bench"


def _describe(c: list[list[str]]) -> str:
    return f"{len(c)} ({sum(len(x) for x in c)} modules)" if c else "0"


def report(summaries: list[Summary]) -> str:
    rows = [
        ("modules", lambda s: str(s.modules)),
        ("load-time edges", lambda s: str(s.load_edges)),
        ("edges only inside functions", lambda s: str(s.deferred_edges)),
        ("import statements inside functions naming bench", lambda s: str(s.deferred_statements)),
        ("circles at load time", lambda s: _describe(s.circles_load)),
        ("circles, counting imports inside functions", lambda s: _describe(s.circles_all)),
        ("  the same without a package's edges to its own submodules", lambda s: _describe(s.circles_registering)),
        (f"files over {LONG} lines", lambda s: str(len(s.long))),
    ]
    width = max(len(r[0]) for r in rows)
    cells = [[f(s) for s in summaries] for _, f in rows]
    widths = [max([len(s.label)] + [len(row[i]) for row in cells]) for i, s in enumerate(summaries)]
    lines = [" " * width + " | " + " | ".join(s.label.ljust(w) for s, w in zip(summaries, widths, strict=True))]
    lines += [name.ljust(width) + " | " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
              for (name, _), row in zip(rows, cells, strict=True)]
    for s in summaries:
        lines += ["", f"## {s.label}"]
        for title, found in (("circles, counting imports inside functions", s.circles_all),):
            lines.append(f"{title}: {len(found)}")
            lines += ["  " + " <-> ".join(c) for c in found]
        lines.append(f"files over {LONG} lines: {len(s.long)}")
        lines += [f"  {n:5d} {p}" for p, n in s.long]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", action="append", default=[],
                        help="a git revision to read bench/ from (repeatable); without it, the working tree")
    parser.add_argument("--root", type=Path, help="a bench/ folder to read instead of the working tree's")
    args = parser.parse_args(argv)
    summaries = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, rev in enumerate(args.rev):
            summaries.append(summarise(_tree_of(rev, Path(tmp) / str(i)), rev))
        if not args.rev or args.root:
            summaries.append(summarise(args.root or REPO / "bench", "working tree" if not args.root else str(args.root)))
    print(report(summaries))
    return 1 if any(s.circles_all for s in summaries[-1:]) else 0


if __name__ == "__main__":
    sys.exit(main())
