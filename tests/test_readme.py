"""The README and the docs/ pages as a user reads them: what they show works, what they name exists.

Every `python -m bench ...` (or `bench ...`) line in their code blocks is accepted by the
command line's own parser and names files that exist (or that an earlier command on the same
page creates with `--out`); every `nox -s SESSION` names a session of noxfile.py, whose
arguments after `--` the bench command it runs accepts; every repository path, `bench.`
module and link they name exists.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import _parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
INPUTS = ("suite", "run_dir", "resume", "base_path", "baseline")  # parsed arguments naming existing paths
OUTPUTS = ("--out",)
TOP_LEVEL = ("bench/", "suites/", "results/", "docs/", "tests/", "benchmarks/", ".ci/", "noxfile.py", "pyproject.toml")


def _rel(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _code_lines(page: Path) -> list[tuple[int, str]]:
    """(line number, line) of every line inside a fenced code block; continuations joined."""
    out, fence, pending = [], False, None
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            fence = not fence
            continue
        if not fence:
            continue
        if pending is not None:
            line = pending[1] + " " + line.strip()
            number = pending[0]
        if line.endswith("\\"):
            pending = (number, line[:-1])
            continue
        pending = None
        out.append((number, line))
    return out


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError:
        return []


def _bench_argv(words: list[str]) -> list[str] | None:
    """The arguments after `python -m bench` or `bench`, or None for another command."""
    if words[:3] in (["python", "-m", "bench"], ["python3", "-m", "bench"]):
        return words[3:]
    if words[:1] == ["bench"]:
        return words[1:]
    return None


def _nox_sessions() -> dict[str, list[str] | None]:
    """noxfile.py's sessions, each with the bench arguments its posargs follow (None: not bench)."""
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    sessions = {}
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        decorators = [d for d in fn.decorator_list if "session" in ast.unparse(d)]
        if not decorators:
            continue
        name = fn.name
        for d in decorators:
            for kw in getattr(d, "keywords", []):
                if kw.arg == "name":
                    name = ast.literal_eval(kw.value)
        prefix = None
        for call in ast.walk(fn):
            if isinstance(call, ast.Call) and ast.unparse(call.func) == "session.run":
                consts = [a.value for a in call.args if isinstance(a, ast.Constant)]
                starred = any(isinstance(a, ast.Starred) and "posargs" in ast.unparse(a) for a in call.args)
                if consts[:3] == ["python", "-m", "bench"] and starred:
                    prefix = consts[3:]
        sessions[name] = prefix
    return sessions


def _commands() -> list:
    cases = []
    sessions = _nox_sessions()
    for page in PAGES:
        for number, line in _code_lines(page):
            words = _words(line)
            argv = _bench_argv(words)
            if argv is None and words[:2] == ["nox", "-s"] and len(words) > 2 and "--" in words:
                prefix = sessions.get(words[2])
                if prefix is not None:
                    argv = prefix + words[words.index("--") + 1 :]
            if argv is not None:
                cases.append(pytest.param(page, argv, id=f"{_rel(page)}:{number}"))
    return cases


def _parse(argv: list[str]):
    """(namespace or None, error text) from the parser that `python -m bench` hands argv to."""
    if argv[:1] == ["regress"]:
        try:
            from bench.regress.cli import _parser as regress_parser
        except ImportError:  # before the regression check became a package
            from bench.regress import _parser as regress_parser
        parser, argv = regress_parser(), argv[1:]
    else:
        parser = _parser()
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            return parser.parse_args(argv), ""
    except SystemExit as exc:
        return (True, "") if exc.code == 0 else (None, err.getvalue().strip().splitlines()[-1])


def _made_earlier(page: Path, argv: list[str]) -> set[str]:
    """Folders that commands shown earlier on the page create with --out."""
    made = set()
    for case in _commands():
        other_page, other_argv = case.values
        if other_page != page:
            continue
        if other_argv is argv:
            break
        for flag in OUTPUTS:
            if flag in other_argv[:-1]:
                made.add(other_argv[other_argv.index(flag) + 1].rstrip("/"))
    return made


def _generated(path: str) -> bool:
    """A file a script in its folder makes (examples/make_examples.py makes examples/*.csv)."""
    folder = (ROOT / path).parent
    return folder != ROOT and any(folder.glob("make_*.py"))


@pytest.mark.parametrize(("page", "argv"), _commands())
def test_command_line_shown_is_accepted_and_names_existing_files(page, argv):
    args, error = _parse(argv)
    if args is None:
        pytest.fail(f"{_rel(page)}: `bench {' '.join(argv)}` is refused: {error}")
    if args is True:  # --help
        return
    made = _made_earlier(page, argv)
    named = {getattr(args, attr) for attr in INPUTS if isinstance(getattr(args, attr, None), str)}
    named |= {w for i, w in enumerate(argv) if "/" in w and "://" not in w and argv[i - 1] not in OUTPUTS}
    missing = sorted(p for p in named if not (ROOT / p).exists() and p.rstrip("/") not in made
                     and not p.startswith("/") and not _generated(p))
    assert not missing, f"{_rel(page)}: `bench {' '.join(argv)}` names paths the repository lacks: {missing}"
    plugins = [m for attr, value in vars(args).items() if attr.startswith("plugin") for m in value or []]
    for module in plugins:
        assert importlib.util.find_spec(module), f"{_rel(page)}: plugin module {module!r} does not exist"


def test_nox_sessions_the_pages_run_exist():
    sessions = _nox_sessions()
    for page in PAGES:
        for number, line in _code_lines(page):
            words = _words(line)
            if words[:2] == ["nox", "-s"] and len(words) > 2:
                assert words[2] in sessions, f"{_rel(page)}:{number}: no nox session {words[2]!r}; have {sorted(sessions)}"


def _backticked(page: Path) -> list[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    return re.findall(r"`([^`\s]+)`", text)


def _resolves(dotted: str) -> bool:
    """A module, or an attribute of one (`bench.registry.MODEL_TAGS`)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_paths_and_modules_the_page_names_exist(page):
    stale = []
    for token in _backticked(page):
        token = token.rstrip(".,:;")
        if token.startswith(TOP_LEVEL) and not any(c in token for c in "<>*"):
            path, _, test = token.split("#")[0].partition("::")  # a pytest node id names a test in a file
            if not (ROOT / path).exists() or (test and f"def {test}(" not in (ROOT / path).read_text(encoding="utf-8")):
                stale.append(token)
        elif re.fullmatch(r"bench(\.\w+)+", token) and not _resolves(token):
            stale.append(token)
    assert not stale, f"{_rel(page)} names what the repository lacks: {stale}"


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings."""
    out = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return out


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_links_of_the_page_resolve(page):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
        if "://" in target:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists() or (anchor and dest.suffix == ".md" and anchor not in _anchors(dest)):
            broken.append(target)
    assert not broken, f"{_rel(page)}: broken links {broken}"


def test_the_claims_the_report_tests_ship_with_the_project_and_the_readme_links_them():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/CLAIMS.md)" in readme
    assert "## The comparison table" in (ROOT / "docs" / "CLAIMS.md").read_text(encoding="utf-8")


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), flags=re.M | re.S)


def test_the_readme_examples_of_a_new_model_and_dataset_register_and_keep_the_registry_contract(tmp_path):
    blocks = _python_blocks(ROOT / "README.md")
    assert blocks, "the README shows no example of adding a model or a dataset"
    (tmp_path / "readme_examples.py").write_text("\n\n".join(blocks), encoding="utf-8")
    registered = re.findall(r'@(?:model|dataset)\(\s*"(\w+)"', "\n".join(blocks))
    assert registered, "the README's examples register nothing"
    # The examples are loaded as a plugin into a fresh test process, which runs the contract on them.
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "readme_examples",
         str(ROOT / "tests" / "test_registry_contract.py"), "-k", " or ".join(registered)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and " failed" not in proc.stdout, proc.stdout[-2000:]
