"""The README's dependency table names every package pyproject.toml installs, and nothing else."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    """`dask[distributed]>=2024.1` -> `dask[distributed]`; `torch==2.13.0` -> `torch`."""
    return re.split(r"[<>=!~; ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _declared() -> dict[str, str]:
    """Each package of pyproject.toml, with where it is declared (`dependencies` or an extra)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    out = {_name(r): "dependencies" for r in project["dependencies"]}
    for extra, requirements in project.get("optional-dependencies", {}).items():
        for r in requirements:
            out.setdefault(_name(r), f"extra {extra}")
    return out


def _table() -> dict[str, str]:
    """Each package the README's Dependencies table names, with its row's first cell."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Dependencies\n", 1)[1].split("\n## ", 1)[0]
    out = {}
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith(("| package", "|---")):
            continue
        first = line.split("|")[1]
        names = re.sub(r"\(.*?\)", "", first)  # "(extra `test`)", "(pinned ...)"
        for name in names.split(","):
            if name.strip():
                out[name.strip().lower().replace("_", "-")] = first.strip()
    return out


def test_every_package_pyproject_installs_is_in_the_readme_table_and_no_other():
    declared, table = _declared(), _table()
    assert len(declared) > 20
    missing = {name: where for name, where in declared.items() if name not in table}
    assert not missing, f"README.md's Dependencies table lacks {missing}"
    unknown = sorted(set(table) - set(declared))
    assert not unknown, f"README.md's Dependencies table names packages pyproject.toml does not declare: {unknown}"


def test_the_row_of_a_package_from_an_extra_names_that_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = {e: {_name(r) for r in rs} for e, rs in project.get("optional-dependencies", {}).items()}
    core = {_name(r) for r in project["dependencies"]}
    table = _table()
    for name in set().union(*extras.values()) - core:
        holders = sorted(e for e, names in extras.items() if name in names)
        assert any(f"extra `{e}`" in table[name] for e in holders), \
            f"README.md: {name} comes with extra {holders} but its row says {table[name]!r}"
