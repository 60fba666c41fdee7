"""The report's answer: one plain sentence per modality and the quotable summary under it.

Who wins at the largest sizes run, by how much, how sure and where the lead changes, from the
per-size comparisons the verdicts read (`Measurements.comparisons`) and the same decision
threshold (`stats.DECISIVE`); which candidates each family's best was chosen from; the cost;
the verdicts' count. bench.report.sections places it first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.report import analysis, claims, plots, stats
from bench.report.measurements import Measurements


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _leader(d) -> str:
    """'deep', 'classical' or 'level' for one per-size comparison (`analysis.outcome_of`)."""
    o = analysis.outcome_of(d)
    return "deep" if o == "supports" else "classical" if o == "refutes" else "level"


_LEAD_WORDS = {"deep": "deep ahead", "classical": "classical ahead", "level": "level"}


def _sizes_text(sizes: list[int]) -> str:
    return f"{sizes[0]:,}" if len(sizes) == 1 else f"{sizes[0]:,}–{sizes[-1]:,}"


def lead_changes(comp: pd.DataFrame) -> dict[str, str]:
    """Per dataset whose leader changes across its compared sizes, the leader's runs in words
    ("level at 100, deep ahead at 400–1,348"); datasets whose leader never changes are left out."""
    out = {}
    for dataset, g in comp.sort_values(["dataset", "n_train"]).groupby("dataset", sort=True):
        runs: list[tuple[str, list[int]]] = []
        for r in g.itertuples():
            lead = _leader(r.difference)
            if runs and runs[-1][0] == lead:
                runs[-1][1].append(int(r.n_train))
            else:
                runs.append((lead, [int(r.n_train)]))
        if len(runs) > 1:
            out[str(dataset)] = ", ".join(f"{_LEAD_WORDS[lead]} at {_sizes_text(s)}" for lead, s in runs)
    return out


def _range(values) -> str:
    v = sorted({int(x) for x in values})
    return str(v[0]) if len(v) == 1 else f"{v[0]}–{v[-1]}"


def _basis_text(at: pd.DataFrame) -> str:
    """How the families were set against each other at the largest sizes of one modality (`basis`
    of `Measurements.comparisons`: best against best on equal terms, or the modality's pairing)."""
    parts = []
    for basis, g in at.groupby("basis", sort=False):
        counts, counts_c = (_range(g[col]) for col in ("n_deep", "n_classical"))
        how = str(basis).removeprefix("pairing: ")
        what = f"the pairing {how}" if str(basis).startswith("pairing: ") else how
        noun = "configuration" if counts == counts_c == "1" else "configurations"
        parts.append(f"{what}, each side's best on validation from {counts} deep and {counts_c} classical "
                     f"{noun} ({_plural(len(g), 'dataset')})")
    return "; ".join(parts)


def _against_every_candidate(ok: pd.DataFrame, at: pd.DataFrame) -> str:
    """Deep minus classical with each family's single choice on validation from all its configurations
    (unequal counts), median over the paired datasets of `at`: beside the pairing, for the reader to weigh."""
    diffs = []
    for r in at[at["paired"].astype(bool)].itertuples():
        cells = ok[(ok["dataset"] == r.dataset) & (ok["n_train"] == r.n_train)]
        d, c = analysis.best(cells, family="deep"), analysis.best(cells, family="classical")
        if d is not None and c is not None:
            diffs.append(float(d.scores.mean() - c.scores.mean()))
    if not diffs:
        return ""
    what = "a median of " if len(diffs) > 1 else ""
    return (f"; with each family's best from all its configurations instead (unequal candidate counts), deep minus "
            f"classical is {what}{analysis.fmt_signed(float(np.median(diffs)))}")


def modality_sentences(comp: pd.DataFrame, ok: pd.DataFrame | None = None) -> list[str]:
    """One plain sentence per modality: who wins at the largest sizes run, by how much, how sure,
    where the lead changes and what each family's best was chosen from, from the comparisons the
    verdicts read (`Measurements.comparisons`) and the same decision threshold (`stats.DECISIVE`)."""
    if comp.empty:
        return []
    at_max = comp[comp.groupby("dataset")["n_train"].transform("max") == comp["n_train"]]
    changes = lead_changes(comp)
    mods = [m for m in plots.MODALITY_ORDER if m in set(at_max["modality"])] + sorted(set(at_max["modality"]) - set(plots.MODALITY_ORDER))
    out = []
    for mod in mods:
        g = at_max[at_max["modality"] == mod].sort_values("dataset")
        sizes = sorted({int(n) for n in g["n_train"]})
        where = f"largest size{'s' if len(sizes) > 1 else ''} run {_sizes_text(sizes)} training rows"
        if len(g) == 1:
            r = g.iloc[0]
            d = r["difference"]
            lead = _leader(d)
            head = {"deep": "deep wins", "classical": "classical wins", "level": "neither family wins"}[lead]
            sure = (f"deep minus classical {d.text()} (95% interval counting the test rows)"
                    if d.decided else f"deep minus classical {analysis.fmt_signed(d.diff)}, with no interval")
            if lead == "level":
                sure += (" (it includes zero)" if d.decided and d.lo <= 0 <= d.hi else
                         f" (inside or across the ±{analysis.MARGIN} margin)")
            text = f"{mod.capitalize()} data (one dataset, {r['dataset']}; {where}): {head}: {sure}"
        else:
            sr = stats.signed_rank(list(g["diff"]), analysis.MARGIN)
            finite = g["diff"].astype("float64")
            finite = finite[np.isfinite(finite)]
            med = float(finite.median()) if len(finite) else float("nan")
            lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (float("nan"), float("nan"))
            # As the verdicts decide: a probability of 0.95, overruled by a dataset whose own interval lies the other way.
            against = {"deep": [r.dataset for r in g.itertuples() if _leader(r.difference) == "classical"],
                       "classical": [r.dataset for r in g.itertuples() if _leader(r.difference) == "deep"]}
            if sr is None:
                head = "no test across datasets (fewer than two finite differences): deep minus classical is"
            elif sr.above >= stats.DECISIVE and not against["deep"]:
                head = "deep wins by"
            elif sr.below >= stats.DECISIVE and not against["classical"]:
                head = "classical wins by"
            elif sr.within >= stats.DECISIVE:
                head = f"neither family wins (the two are within ±{analysis.MARGIN}): deep minus classical is"
            elif sr.above >= stats.DECISIVE or sr.below >= stats.DECISIVE:
                side = "deep" if sr.above >= stats.DECISIVE else "classical"
                head = (f"neither family wins clearly ({side} ahead across datasets, but {', '.join(against[side])}'s own "
                        "interval lies the other way): deep minus classical is")
            else:
                head = f"neither family wins clearly (no probability reaches {stats.DECISIVE:.2f}): deep minus classical is"
            text = (f"{mod.capitalize()} data ({len(g)} datasets; {where}): {head} a median "
                    f"{analysis.fmt_signed(med)} (per dataset {analysis.fmt_signed(lo)} to {analysis.fmt_signed(hi)})")
            if sr is not None:
                text += (f"; P(deep ahead) {sr.above:.2f}, P(within ±{analysis.MARGIN}) {sr.within:.2f}, P(classical "
                         f"ahead) {sr.below:.2f} (Bayesian signed-rank test across datasets)")
        mine = {k: v for k, v in changes.items() if k in set(g["dataset"])}
        if mine:
            text += "; the lead changes with size on " + ", ".join(f"{k} ({v})" for k, v in mine.items())
        else:
            text += "; the lead does not change across the sizes run"
        paired = ok is not None and bool(g["paired"].astype(bool).any())
        out.append(text + f". Compared by {_basis_text(g)}" + (_against_every_candidate(ok, g) if paired else "") + ".")
    return out


def hardware_text(ok: pd.DataFrame, env: dict | None = None) -> str:
    """Where the families ran, named once: "both on this run's CPU (model)" when every family ran
    on the CPU, else each family's devices."""
    hw = analysis.hardware(ok)
    devices = set(hw.values())
    if devices == {"cpu"}:
        model = ((env or {}).get("cpu") or {}).get("model")
        who = "both families" if len(hw) == 2 else f"all {len(hw)} families" if len(hw) > 2 else "every cell"
        return f"{who} on this run's CPU" + (f", {model}" if model else "")
    return "; ".join(f"{f} on {d}" for f, d in hw.items())


def answer(ms: Measurements, table: list[claims.Verdict], env: dict | None = None) -> list[str]:
    """The summary a reader can quote: who wins where, by how much, at what cost, how sure."""
    ok, comp = ms.ok, ms.comparisons
    if comp.empty:
        return ["This run cannot compare the families: no dataset has finished deep and classical cells at one size."]
    out = modality_sentences(comp, ok)
    for which, pick in (("largest", "max"), ("smallest", "min")):
        at = comp[comp.groupby("dataset")["n_train"].transform(pick) == comp["n_train"]]
        outcomes = {r.dataset: analysis.outcome_of(r.difference) for r in at.itertuples()}
        n = len(outcomes)
        deep = sum(o == "supports" for o in outcomes.values())
        cl = sum(o == "refutes" for o in outcomes.values())
        out.append(
            f"At each dataset's {which} training size, the best deep model is ahead on {deep} of "
            f"{_plural(n, 'dataset')} and behind on {cl} (each by more than {analysis.MARGIN}, judged by a 95% "
            f"interval that counts the test rows); on {n - deep - cl} the two are level or within noise."
        )
    used, gpu_only = analysis.comparable_hardware(ok)
    r = analysis.compute_ratios(used)
    if not r.empty:
        cpu = analysis.gmean(r.groupby("dataset")["fit_cpu_s"].apply(analysis.gmean))
        mem = analysis.gmean(r.groupby("dataset")["peak_memory_mb"].apply(analysis.gmean))
        hw = hardware_text(used, env)
        out.append(
            f"The cost: deep models need {analysis.fmt_ratio(cpu)} the fit CPU time and "
            f"{analysis.fmt_ratio(mem)} the peak memory of classical ones ({hw})."
            + (" That compares a GPU with a CPU." if gpu_only else "")
        )
    counts: dict[str, int] = {}
    for v in table:
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    out.append(
        "Verdicts on the documents' six rows: "
        + ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: claims.VERDICTS.index(kv[0]))) + "."
    )
    basis = analysis.selection_basis(ok)
    if basis == "test":
        out.append("Caution: no cell has a validation score, so best configurations were chosen on test scores.")
    elif basis == "partly":
        out.append("Caution: some cells lack a validation score; choices among them fell back to test scores.")
    return out
