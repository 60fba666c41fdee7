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

import re
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
    caps = caps_note(ms.ok, r.evidence) if claim.cells and r.verdict != "not measurable" else ""
    return Verdict(
        claim.key, claim.aspect, claim.classical, claim.deep, claim.rule, r.verdict, r.reason,
        tuple(r.evidence), " ".join(p for p in (r.certainty, caps) if p), _missing_cells(claim, ms, r.verdict),
        r.effect, tuple(r.effects),
        claim.picture, r.data, claim,
    )


def _flagged(cells: pd.DataFrame, column: str) -> tuple[int, int, list[str]]:
    """(cells flagged True, cells with the column recorded, up to six `dataset n=…: config` names)."""
    if column not in cells.columns:
        return 0, 0, []
    values = cells[column].astype("boolean")
    recorded = cells[values.notna()]
    hit = recorded[values[values.notna()].astype(bool)]
    names = sorted({f"{r['dataset']} n={int(r['n_train'])}: {r['config'] if 'config' in r else r['model']}"
                    for _, r in hit.iterrows()})
    return len(hit), len(recorded), names[:6] + ([f"and {len(names) - 6} more"] if len(names) > 6 else [])


def caps_note(ok: pd.DataFrame, evidence: list[dict]) -> str:
    """A line on the cells a verdict read that a cap cut short: deep training stopped at its epoch
    cap with validation loss still falling (`epochs_capped`), a tuning search cut by its time cap
    (`tuning_capped`). The cells read are those of the evidence rows' (dataset, n_train), their
    datasets where a row names no size, the whole table where rows name no dataset. Empty when
    the table does not record the columns (tables from before them) or no cell was cut."""
    if ok.empty or not {"epochs_capped", "tuning_capped"} & set(ok.columns):
        return ""
    rows = [e for e in evidence if "dataset" in e]
    if not rows:  # rows that name their datasets in text, as `name (n=1,000)`
        known = set(ok["dataset"].astype(str))
        rows = [{"dataset": d, "n_train": int(n.replace(",", ""))} for e in evidence for v in e.values()
                for d, n in re.findall(r"([^\s(,;]+) \(n=([\d,]+)\)", str(v)) if d in known]
    if rows:
        keep = pd.Series(False, index=ok.index)
        for e in rows:
            at = ok["dataset"] == e["dataset"]
            size = pd.to_numeric(pd.Series([e.get("n_train")]), errors="coerce").iloc[0]  # a range or text: every size
            if size == size:
                at &= ok["n_train"] == size
            keep |= at
        cells, scope = ok[keep], "the cells this verdict compared"
        if "config" in cells.columns:  # narrowed to the configurations its evidence names, where it names any
            text = " ".join(str(v) for e in rows for v in e.values())
            named = [c for c in cells["config"].unique()
                     if re.search(r"(^|[\s(,:])" + re.escape(str(c)) + r"($|[\s),:;])", text)]
            if named:
                cells, scope = cells[cells["config"].isin(named)], "the configurations this verdict names"
    else:
        return ""
    parts = []
    n, of, names = _flagged(cells, "epochs_capped")
    if n:
        parts.append(f"deep training stopped at its epoch cap with validation loss still falling in {n} of {of} "
                     f"cells that record it ({'; '.join(names)})")
    n, of, names = _flagged(cells, "tuning_capped")
    if n:
        parts.append(f"the hyperparameter search was cut by its time cap in {n} of {of} tuned cells ({'; '.join(names)})")
    return f"Caps among {scope}: " + "; ".join(parts) + "." if parts else ""


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
