"""What a claim is, how one is registered, and how it meets a results table.

A claim is one module (here, or a plugin's) that registers a measuring function with the
`claim` decorator, as models and datasets register theirs: its rule text, the rule's
version, where it sits in the report, its figure and its picture note. The function reads
the table's `Measurements` (its finished cells `ms.ok`, the win records `ms.wins`, other
claims' results `ms.result(claim)`) and returns a `Result`: the verdict, the reason, the
evidence, and in `data` whatever its figure draws. `evaluate` asks the `Measurements` for
it, which measures it once per table, and hands the result to both the verdict and the
figure, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bench.registry import Registry
from bench.report import plots
from bench.report.analysis.outcomes import MARGIN
from bench.report.analysis.rows import status_label
from bench.report.measurements import Measurements, measured

VERDICTS = ("supported", "refuted", "mixed", "inconclusive", "not measurable")
SECTIONS = ("table", "further")  # the documents' comparison table; the further claims of CLAIMS.md


@dataclass(frozen=True)
class Result:
    """What a claim's measuring function returns."""

    verdict: str
    reason: str
    evidence: list[dict] = field(default_factory=list)  # one row per dataset or comparison
    certainty: str = ""  # how sure: the intervals the verdict rests on
    effect: str = ""  # what `effects` measure, e.g. "CNN − MLP test score"
    effects: list[tuple[str, float, float, float]] = field(default_factory=list)  # (label, mean, lo, hi)
    data: Any = field(default=None, repr=False, compare=False)  # what the claim's figure draws


@dataclass(frozen=True)
class Verdict:
    """One claim confronted with the measurements."""

    key: str
    aspect: str
    classical: str
    deep: str
    rule: str
    verdict: str
    reason: str
    evidence: tuple[dict, ...] = field(default_factory=tuple)  # one row per dataset or comparison
    certainty: str = ""  # how sure: the intervals the verdict rests on
    missing: str = ""  # failed cells and whether their absence could change the verdict
    effect: str = ""  # what `effects` measure, e.g. "CNN − MLP test score"
    effects: tuple[tuple[str, float, float, float], ...] = ()  # (label, mean, lo, hi) per dataset or pair
    picture: str = ""  # a note under the claim's picture (e.g. where else its picture is)
    data: Any = field(default=None, repr=False, compare=False)  # the result's data, for the figure
    claim: Claim | None = field(default=None, repr=False, compare=False)

    def figures(self, ok: pd.DataFrame, pal: plots.Palette) -> list[plots.Figure]:
        """The claim's figure, drawn from this verdict's own evidence (`ok`: the same finished cells)."""
        return self.claim.figure(self, ok, pal) if self.claim is not None else forest(self, ok, pal)


def forest(v: Verdict, ok: pd.DataFrame, pal: plots.Palette, thresholds: tuple[float, ...] = (MARGIN,)) -> list[plots.Figure]:
    """The default figure: the verdict's per-dataset (or per-pair) effects with their intervals."""
    if not v.effects:
        return []
    return plots.effects(v.key, plots.plain(v.aspect), v.effect, v.effects, thresholds)


Measure = Callable[[Measurements], Result]
Draw = Callable[[Verdict, pd.DataFrame, plots.Palette], list[plots.Figure]]


@dataclass(frozen=True)
class Claim:
    key: str
    aspect: str
    classical: str  # what the documents say of classical ML ("" for a further claim)
    deep: str  # what they say of deep learning, or the further claim itself
    rule: str
    measure: Measure
    version: int = 1  # raised whenever the rule's text or code changes what it decides
    section: str = "further"
    order: int = 1000  # place within its section (built-ins 1, 2, ...; ties by registration)
    figure: Draw = forest
    picture: str = ""
    cells: bool = True  # False: the rule reads no cell, so failed cells get no note


CLAIMS: Registry[Claim] = Registry("claim")
TABLE: list[Claim] = []  # the six rows of the documents' comparison table, in order
FURTHER: list[Claim] = []  # the further claims of CLAIMS.md, then those of plugins


def claim(
    key: str,
    *,
    aspect: str,
    deep: str,
    rule: str,
    classical: str = "",
    version: int = 1,
    section: str = "further",
    order: int = 1000,
    figure: Draw = forest,
    picture: str = "",
    cells: bool = True,
):
    """Register `fn(ms) -> Result` as the claim `key`; it is measured once per results table.

    `rule` is printed next to the verdict (whitespace folded); `section` is "table" for a
    row of the documents' comparison table or "further"; `figure(verdict, ok, palette)`
    draws the verdict's `data` (default: a forest plot of its `effects`); `picture` is a
    note printed under it. `ms` is the table's `Measurements`. The decorated name becomes the
    registered `Claim`: a claim built on another (`data_and_compute`) reads that one's result
    with `ms.result(other)`, measured once per table.
    """
    if section not in SECTIONS:
        raise ValueError(f"claim {key!r}: section must be one of {SECTIONS}")
    if not " ".join(rule.split()):
        raise ValueError(f"claim {key!r}: a claim needs its rule's text")

    def wrap(fn: Measure) -> Claim:
        entry = Claim(key, aspect, classical, deep, " ".join(rule.split()), fn, version, section, order, figure, picture, cells)
        CLAIMS.add(key, entry)
        where = TABLE if section == "table" else FURTHER
        where.append(entry)
        where.sort(key=lambda c: c.order)  # stable: equal places keep their registration order
        return entry

    return wrap


def evaluate(claim: Claim, ms: Measurements | pd.DataFrame, ok: pd.DataFrame | None = None,
             cores: int | None = None) -> Verdict:
    """The claim's verdict on a table's `Measurements` (a results table is measured here,
    with `ok`, its `ok_rows`, when already computed, and `cores`, the run machine's logical
    cores from its environment.json, to tell wall-time timeouts under load apart in the
    list of failed cells)."""
    ms = measured(ms, cores, ok)
    r = ms.result(claim)
    if r.verdict not in VERDICTS:
        raise ValueError(f"rule {claim.key} returned {r.verdict!r}")
    return Verdict(
        claim.key, claim.aspect, claim.classical, claim.deep, claim.rule, r.verdict, r.reason,
        tuple(r.evidence), r.certainty, _missing_cells(claim, ms, r.verdict), r.effect, tuple(r.effects),
        claim.picture, r.data, claim,
    )


def _missing_cells(claim: Claim, ms: Measurements, verdict: str) -> str:
    """Which cells failed, and whether any scores they might have had could change the verdict.

    The failed cells get, in turn, the lowest and the highest score seen on their dataset,
    deep and classical alike or in opposite directions (four cases, `ms.what_ifs`); the rule
    is applied again to each. The verdict stands when none of the four changes it.
    """
    df = ms.table
    if df.empty or not claim.cells:
        return ""
    failed = df[df["status"] != "ok"].sort_values(["dataset", "model", "features", "n_train", "seed"])
    if failed.empty:
        return ""
    head = ", ".join(f"{n} {s}" for s, n in failed["status"].value_counts().sort_index().items())
    cells = [
        f"{r['dataset']}/{r['model']}/{r['features']}/n={int(r['n_train'])}/seed {int(r['seed'])} ({status_label(r, ms.cores)})"
        for _, r in failed.head(6).iterrows()
    ]
    head += " cell(s): " + "; ".join(cells) + (f"; and {len(failed) - 6} more" if len(failed) > 6 else "")
    cases = ms.what_ifs
    if not cases:
        return f"{head}. They are on datasets with no finished cell: they cannot change this verdict."
    changed = {v for v in (case.result(claim).verdict for case in cases) if v != verdict}
    if changed:
        return f"{head}. Had they finished, the verdict could be {', '.join(sorted(changed))}."
    return f"{head}. Whatever their scores, the verdict stays {verdict}."
