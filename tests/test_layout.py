"""The package's shape: the registry is a leaf, and no two modules import each other, at load
time or inside a function."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "bench"


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_nodes(tree: ast.Module, inside_functions: bool):
    """The import statements of a module: at load time (not under TYPE_CHECKING), or all of them."""
    if inside_functions:
        yield from (n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom))
        return
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        yield from (ast.walk(node) if isinstance(node, ast.Try | ast.If) else [node])


def _load_time_imports(path: Path, modules: set[str], inside_functions: bool = False) -> set[str]:
    """bench modules imported at module level (not inside functions, not under TYPE_CHECKING),
    or, with `inside_functions`, anywhere in the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = _module(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out = set()
    for sub in _import_nodes(tree, inside_functions):
        names = []
        if isinstance(sub, ast.Import):
            names = [a.name for a in sub.names]
        elif isinstance(sub, ast.ImportFrom):
            base = sub.module or ""
            if sub.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - sub.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{a.name}" for a in sub.names]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != me and name.startswith("bench"):
                out.add(name)
    return out


def _graph(inside_functions: bool = False) -> dict[str, set[str]]:
    paths = sorted(ROOT.rglob("*.py"))
    modules = {_module(p) for p in paths}
    return {_module(p): _load_time_imports(p, modules, inside_functions) for p in paths}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, or None. A package's __init__ importing its own submodules is not one."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt.startswith(node + "."):  # a package registering its own submodules
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_registry_imports_nothing_of_bench_not_even_inside_a_function():
    # It once loaded the datasets, models and features inside a function: a circle through
    # the modules that import it.
    tree = ast.parse((ROOT / "registry.py").read_text(encoding="utf-8"))
    imported = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    assert not [line for line in imported if "bench" in line]


@pytest.mark.parametrize("leaf", ["bench.errors", "bench.atomic", "bench.cli_common", "bench.plugins"])
def test_small_shared_modules_are_leaves(leaf):
    assert _graph()[leaf] == set()


def test_no_import_cycle_between_modules_at_load_time():
    graph = _graph()
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_no_import_cycle_even_counting_imports_inside_functions():
    # A function-level import defers a module's loading (a fast `bench --help`); it must not
    # hide a circle (report/stats.py <-> analysis.py and external.py <-> render.py once did).
    graph = _graph(inside_functions=True)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


REGISTRIES = ("bench.models", "bench.datasets", "bench.plugins", "bench.features", "bench.upgrade")


def test_the_report_reads_only_rows_no_registry_or_plugin_not_even_inside_a_function():
    # An old table's tags, hyperparameters and dataset parameters were once filled from
    # today's registries inside the report (analysis.py, external.py), so an old run's report
    # changed when the registry did; `bench report` now upgrades old rows once (bench.upgrade).
    graph = _graph(inside_functions=True)
    report = {m: deps for m, deps in graph.items() if m == "bench.report" or m.startswith("bench.report.")}
    assert len(report) > 20
    reached = {m: sorted(d for d in deps if d.startswith(REGISTRIES)) for m, deps in report.items()}
    assert not {m: d for m, d in reached.items() if d}


def _claim_keys(path: Path) -> list[str]:
    """Keys a module registers with the report's `claim` decorator."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        d.args[0].value
        for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
        for d in node.decorator_list
        if isinstance(d, ast.Call) and ast.unparse(d.func).split(".")[-1] == "claim" and d.args and isinstance(d.args[0], ast.Constant)
    ]


def test_a_claim_is_one_module_named_for_it_and_nothing_else_registers_one():
    # Adding a claim is adding one file: its rule, figure and picture note live in it, and
    # bench/report/claims/__init__.py imports every module of the folder.
    folder = ROOT / "report" / "claims"
    assert not (ROOT / "report" / "claims.py").exists()
    shared = {"__init__", "base", "common"}
    for path in sorted(folder.glob("*.py")):
        assert _claim_keys(path) == ([] if path.stem in shared else [path.stem]), path.name
    elsewhere = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py") if p.parent != folder and _claim_keys(p)]
    assert not elsewhere


def test_bench_advise_is_one_package_without_a_cycle_and_its_executor_lives_in_execution():
    # It was five loose top-level modules (advise.py, advise_inspect.py, advise_plan.py,
    # advise_answer.py, advise_html.py) with an executor of its own among them.
    assert not sorted(p.name for p in ROOT.glob("advise_*.py")) and not (ROOT / "advise.py").exists()
    graph = _graph(inside_functions=True)
    package = {m: {d for d in deps if d.startswith("bench.advise")} for m, deps in graph.items() if m.startswith("bench.advise")}
    assert set(package) >= {"bench.advise", "bench.advise.command", "bench.advise.plan"}
    assert _cycle(package) is None, " -> ".join(_cycle(package))
    assert not [m for m, deps in graph.items() if m.startswith("bench.execution") and any(d.startswith("bench.advise") for d in deps)]


def _import_graph_tool():
    """benchmarks/import_graph.py, the script that prints the graph's summary (docs/code-map.md)."""
    import importlib.util
    import sys

    if "import_graph" not in sys.modules:
        path = ROOT.parent / "benchmarks" / "import_graph.py"
        spec = importlib.util.spec_from_file_location("import_graph", path)
        sys.modules["import_graph"] = module = importlib.util.module_from_spec(spec)  # dataclasses look it up
        spec.loader.exec_module(module)
    return sys.modules["import_graph"]


def test_the_import_graph_tool_finds_what_the_layout_tests_find():
    # Both read the same tree; the tool's stricter count (every edge) includes the layout's.
    tool = _import_graph_tool()
    graph = tool.build(ROOT)
    assert set(graph.modules) == set(_graph())
    assert tool.circles(graph.edges(registering=False)) == []
    assert tool.circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert graph.deferred_statements > 0  # imports inside functions are counted, not skipped


def test_no_module_of_a_package_imports_its_own_package_not_even_inside_a_function():
    # 1abe589 moved the registries' machinery to bench/models/core.py and bench/datasets/core.py
    # so that no model or dataset module imports its package (whose __init__ imports them all).
    tool = _import_graph_tool()
    found = tool.circles(tool.build(ROOT).edges())
    assert not found, [" <-> ".join(c) for c in found]
