"""The verdict rules: one module per claim, each turning a results table into a verdict.

Each rule was written before any result was looked at, and its text sits next to it so the
report prints exactly the rule the code applies. A rule reads only the finished cells (the
`bench.results.frame` schema, status `ok`), and answers `supported`, `refuted`, `mixed`
(evidence both ways), `inconclusive` (differences within noise) or `not measurable` (with
the reason), with a table of evidence (one row per dataset or comparison), a line saying
how sure it is, and the data its figure draws. The measurements (best configurations,
pairing, win records, gaps, cost ratios, intervals) live in `bench.report.analysis` and
`bench.report.stats`; the per-dataset loop most rules share is `common`. A rule receives
the table's `Measurements` (`bench.report.measurements`), built once per report, which
measures each claim once.

A claim is one module that registers itself with the `claim` decorator (`base`). Every
module of this package other than `base` and `common` is a claim and is imported here, so
adding a claim is adding a file; a plugin module (`--plugin`, BENCH_PLUGINS) registers
one the same way (docs/adding-a-claim.md): `bench report` loads the plugins before it
builds the report, which imports no plugin or registry itself.

The conventions every rule shares are printed once in the report (`CONVENTIONS`); what
changed in them, and why, is `CHANGES`.
"""

from __future__ import annotations

import importlib
import pkgutil

import pandas as pd

from bench.report.analysis import MARGIN, ok_rows
from bench.report.claims.base import (
    CLAIMS,
    FURTHER,
    TABLE,
    VERDICTS,
    Claim,
    Result,
    Verdict,
    claim,
    evaluate,
    forest,
)
from bench.report.measurements import Measurements, measured

__all__ = [
    "CHANGES", "CLAIMS", "CONVENTIONS", "FURTHER", "MARGIN", "TABLE", "VERDICTS", "Claim", "Measurements", "Result",
    "Verdict", "claim", "evaluate", "forest", "further_verdicts", "ok_rows", "table_verdicts",
]

CONVENTIONS = (
    "Only cells with status ok count. A configuration is a (model, feature variant, tuning) "
    "triple. The best configuration of a family at a (dataset, training size) is chosen by its "
    "mean validation score over seeds (a validation part carved from the training rows); its "
    "test score is what is reported. Deep and classical are compared seed by seed, on the same "
    f"split and training rows. A difference counts only beyond a margin of {MARGIN} in score "
    "(accuracy or R²), and only when its 95% bootstrap interval lies beyond it: an interval "
    "that straddles a threshold is within noise. One dataset's outcome is supports, refutes, "
    "mixed (one prediction holds, the other fails) or inconclusive (within noise). A claim "
    "tested on several datasets is supported when at least two thirds support it and none "
    "refutes it, refuted when at least two thirds refute it and none supports it, mixed when "
    "the evidence points both ways, and inconclusive otherwise. Intervals resample datasets, "
    "then seeds within each; a difference measured on one seed only has no interval and is "
    "taken at face value. Models and datasets are chosen by their tags (convolutional, "
    "fully_connected, recurrent, hybrid; long_range), not by name."
)

CHANGES = (
    "What changed in the rules, and why: the best configuration of a family used to be the one "
    "with the highest mean test score, and that same test score was reported; the maximum over "
    "more configurations then favours the family with more of them (classical). It is now "
    "chosen on validation scores, and tuned and default configurations compete as separate "
    "configurations, among those that ran on every seed of their size (a configuration run on one "
    "seed would rest a verdict on a single value). A verdict used to be mixed whenever it was not supported or refuted; "
    "now mixed means evidence both ways and inconclusive means differences within noise, "
    "judged by bootstrap intervals rather than by means alone; a single value has no interval "
    "and decides nothing."
)

_NOT_CLAIMS = {"base", "common"}
for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _NOT_CLAIMS and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")


def table_verdicts(ms: Measurements | pd.DataFrame, ok: pd.DataFrame | None = None, cores: int | None = None) -> list[Verdict]:
    """The verdicts on the rows of the documents' comparison table, in order.

    `ms`: the table's `Measurements`; a results table (with its `ok_rows` and the run
    machine's `cores`, when known) is measured here, for this call only.
    """
    ms = measured(ms, cores, ok)
    return [evaluate(c, ms) for c in TABLE]


def further_verdicts(ms: Measurements | pd.DataFrame, ok: pd.DataFrame | None = None, cores: int | None = None) -> list[Verdict]:
    """The verdicts on the further claims, plugins' claims included (`ms`: as for `table_verdicts`)."""
    ms = measured(ms, cores, ok)
    return [evaluate(c, ms) for c in FURTHER]
