"""`python -m bench fetch NAME... | --suite SUITE`: download datasets into the cache ahead of a run.

For clusters and offline machines: fetch where there is a network, then copy the cache
folder ($BENCH_DATA_DIR) over. `--from PATH` imports from a local file or folder instead (a
zip of the UCR archive, a folder holding the MNIST IDX files...), checked the same way.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

from bench.cli_common import EXIT_BAD_INPUT, EXIT_OK, error
from bench.errors import DataError


def add_parser(sub, parents=()) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "fetch", parents=list(parents), help="download datasets into the cache ($BENCH_DATA_DIR) ahead of a run",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("names", nargs="*", metavar="NAME",
                   help="a dataset (mnist, fashion_mnist, shuttle...) or NAME:ARG (ucr:GunPoint, openml:44089)")
    p.add_argument("--suite", help="fetch every downloadable dataset of this suite TOML")
    p.add_argument("--from", dest="source", metavar="PATH", help="import from this file or folder instead of the network")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def suite_targets(path: str) -> tuple[list[tuple[str, dict]], list[str]]:
    """(downloadable datasets with their parameters, notes on the others) of a suite file."""
    from bench.datasets import DATASETS
    from bench.datasets import cache as dc

    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"{path}: cannot read the suite: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a valid TOML suite: {exc}") from None
    targets, notes = [], []
    tables = raw.get("datasets", {})
    if not isinstance(tables, dict) or not tables:
        raise DataError(f"{path}: [datasets] has no tables")
    for label, table in tables.items():
        name = table.get("dataset", label) if isinstance(table, dict) else label
        if name not in dc.SOURCES:
            where = "unknown dataset" if name not in DATASETS else "bundled or generated here, nothing to fetch"
            notes.append(f"{label}: {where}")
            continue
        params = {k: v for k, v in table.items() if k not in ("dataset", "train_sizes", "test_size")}
        entry = DATASETS[name] if name in DATASETS else None
        targets.append((name, {**(entry.defaults if entry else {}), **params}))
    return targets, notes


def run(args) -> int:
    from bench.datasets import DATASETS
    from bench.datasets import cache as dc

    if not args.names and not args.suite:
        return error("name datasets to fetch (e.g. fashion_mnist ucr:GunPoint openml:44089) or give --suite SUITE")
    try:
        targets = []
        for n in args.names:
            if n.partition(":")[0] not in dc.SOURCES and n.partition(":")[0] in DATASETS:
                print(f"skip {n}: bundled or generated here, nothing to fetch")
                continue
            targets.append(dc.parse_spec(n))
        for name, params in list(targets):
            entry = DATASETS[name] if name in DATASETS else None
            if entry:
                targets[targets.index((name, params))] = (name, {**entry.defaults, **params})
        if args.suite:
            more, notes = suite_targets(args.suite)
            targets += more
            for note in notes:
                print(f"skip {note}")
    except DataError as exc:
        return error(exc)
    if targets:
        try:
            dc.check_cache()
        except DataError as exc:
            return error(exc)
    progress = not args.no_progress and sys.stderr.isatty()
    failed = 0
    print(f"cache: {dc.data_dir()}")
    for name, params in targets:
        src = dc.SOURCES[name]
        try:
            if args.source:
                if src.import_from is None:
                    raise DataError(f"{src.spec(params)} cannot be imported from a file; fetch it from the network")
                print(src.import_from(params, Path(args.source)))
            else:
                print(src.fetch(params, progress))
        except DataError as exc:
            failed += 1
            print(f"error: {src.spec(params)}: {exc}", file=sys.stderr)
        except OSError as exc:  # the cache changed under us (made read-only, filled up)
            failed += 1
            print(f"error: {src.spec(params)}: {dc.cache_problem(exc)}", file=sys.stderr)
    if failed:
        print(f"{failed} of {len(targets)} datasets not fetched; nothing partial was kept", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK
