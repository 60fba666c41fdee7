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
    """'deep', 'classical' or 'level' for one per-size comparison (`analysis.outcome_of`): the verdicts'
    three outcomes, which decide who wins. `standing` says in words how an undecided one stands."""
    o = analysis.outcome_of(d)
    return "deep" if o == "supports" else "classical" if o == "refutes" else "level"


def standing(d) -> str:
    """How one per-size comparison's 95% interval stands against the margin (`analysis.MARGIN`):
    'deep' or 'classical' (wholly beyond the margin: the verdicts' outcome); 'level' (wholly inside
    ±margin, zero included); 'deep_small' or 'classical_small' (wholly inside ±margin, zero excluded);
    'deep_unsure' or 'classical_unsure' (zero excluded, but reaching past the margin without clearing
    it); 'undecided' (zero included, reaching past the margin); 'none' (no interval)."""
    lead = _leader(d)
    if lead != "level":
        return lead
    if not d.decided:
        return "none"
    m = analysis.MARGIN
    side = "deep" if d.lo > 0 else "classical" if d.hi < 0 else None
    if -m <= d.lo and d.hi <= m:
        return f"{side}_small" if side else "level"
    return f"{side}_unsure" if side else "undecided"


_M = analysis.MARGIN
_STANDING_WORDS = {
    "deep": "deep ahead",
    "classical": "classical ahead",
    "deep_unsure": f"deep ahead but not surely by more than {_M}",
    "classical_unsure": f"classical ahead but not surely by more than {_M}",
    "deep_small": f"deep ahead by less than the {_M} margin",
    "classical_small": f"classical ahead by less than the {_M} margin",
    "level": f"level within ±{_M}",
    "undecided": "undecided",
    "none": "undecided",
}
_CLEAR = ("deep", "classical")
_WITHIN = ("level", "deep_small", "classical_small")  # the whole interval inside ±margin
ONE_SEED = "one seed: the interval counts the test rows only"


def _figure(d) -> str:
    """The difference and its interval as printed beside a standing's words."""
    return d.text() if d.decided else f"{analysis.fmt_signed(d.diff)}, no interval"


def _sizes_text(sizes: list[int]) -> str:
    return f"{sizes[0]:,}" if len(sizes) == 1 else f"{sizes[0]:,}–{sizes[-1]:,}"


def lead_changes(comp: pd.DataFrame) -> dict[str, str]:
    """Per dataset whose standing (`standing`) changes across its compared sizes, its runs in words with
    the figures where neither family is ahead beyond the margin ("undecided at 100 (+0.163 [-0.123, +0.448]),
    deep ahead at 400–1,348"); datasets whose standing never changes are left out."""
    out = {}
    for dataset, g in comp.sort_values(["dataset", "n_train"]).groupby("dataset", sort=True):
        runs: list[tuple[str, list[int], list[str]]] = []
        for r in g.itertuples():
            key = standing(r.difference)
            words, n = _STANDING_WORDS[key], int(r.n_train)
            fig = "" if key in _CLEAR else _figure(r.difference)
            if runs and runs[-1][0] == words:
                runs[-1][1].append(n)
                runs[-1][2].append(fig)
            else:
                runs.append((words, [n], [fig]))
        if len(runs) > 1:
            out[str(dataset)] = ", ".join(f"{words} at {_sizes_text(s)}" + _figures_text(s, figs)
                                          for words, s, figs in runs)
    return out


def _figures_text(sizes: list[int], figs: list[str]) -> str:
    if not any(figs):
        return ""
    if len(figs) == 1:
        return f" ({figs[0]})"
    return " (" + "; ".join(f"{f} at {n:,}" for n, f in zip(sizes, figs, strict=True)) + ")"


def _standings_text(g: pd.DataFrame) -> str:
    """Each dataset of one modality at its largest size, grouped by its standing, with the figure where
    neither family is ahead beyond the margin and a note where the comparison rests on one seed."""
    groups: dict[str, list[str]] = {}
    order = list(_STANDING_WORDS)
    rows = sorted(((standing(r.difference), r) for r in g.itertuples()), key=lambda kr: (order.index(kr[0]), kr[1].dataset))
    for key, r in rows:
        d = r.difference
        notes = ([] if key in _CLEAR else [_figure(d)]) + ([ONE_SEED] if d.n_seeds == 1 else [])
        groups.setdefault(_STANDING_WORDS[key], []).append(str(r.dataset) + (f" ({'; '.join(notes)})" if notes else ""))
    return "; ".join(f"{words} on {', '.join(items)}" for words, items in groups.items())


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
            key = standing(d)
            side = key.partition("_")[0]
            head = {
                "deep": "deep wins", "classical": "classical wins",
                "level": f"neither family wins (the two are within ±{_M})",
                "deep_small": f"neither family wins ({side} is ahead by less than the {_M} margin)",
                "deep_unsure": f"neither family wins clearly ({side} is ahead, but not surely by more than {_M})",
                "undecided": "not decided", "none": "not decided",
            }[key.replace("classical_", "deep_")]
            counted = ONE_SEED if d.n_seeds == 1 else "counting the test rows and the seeds"
            sure = (f"deep minus classical {d.text()} (95% interval; {counted})"
                    if d.decided else f"deep minus classical {analysis.fmt_signed(d.diff)}, with no interval")
            if key == "undecided":
                sure += f" (the interval includes zero and reaches past the ±{_M} margin)"
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
            wider = [r.dataset for r in g.itertuples() if standing(r.difference) not in _WITHIN]
            if sr is None:
                head = "no test across datasets (fewer than two finite differences): deep minus classical is"
            elif sr.above >= stats.DECISIVE and not against["deep"]:
                head = "deep wins across datasets by"
            elif sr.below >= stats.DECISIVE and not against["classical"]:
                head = "classical wins across datasets by"
            elif sr.within >= stats.DECISIVE and not wider:
                head = f"neither family wins (the two are within ±{analysis.MARGIN}): deep minus classical is"
            elif sr.within >= stats.DECISIVE:
                # The test reads each dataset's difference as exact: a dataset whose own interval
                # reaches past the margin keeps "within" from being said of the modality.
                head = (f"neither family wins clearly (within ±{analysis.MARGIN} across datasets, but "
                        f"{', '.join(wider)}'s own interval reaches past the margin): deep minus classical is")
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
            text += "; per dataset at its largest size: " + _standings_text(g)
        mine = {k: v for k, v in changes.items() if k in set(g["dataset"])}
        if mine:
            text += "; the lead changes with size on " + ", ".join(f"{k} ({v})" for k, v in mine.items())
        else:
            text += "; the lead does not change across the sizes run"
        paired = ok is not None and bool(g["paired"].astype(bool).any())
        out.append(text + f". Compared by {_basis_text(g)}" + (_against_every_candidate(ok, g) if paired else "") + ".")
    return out


def hardware_text(ok: pd.DataFrame, env: dict | None = None) -> str:
    """Where the two families of the cost ratio ran, named once: "both families on this run's CPU (model)"
    when deep and classical ran on the CPU, else each one's devices. Hybrids take no part in the ratio
    (`analysis.compute_ratios`), so their cells are not counted here."""
    hw = {f: d for f, d in analysis.hardware(ok).items() if f in ("deep", "classical")}
    devices = set(hw.values())
    if devices == {"cpu"}:
        model = ((env or {}).get("cpu") or {}).get("model")
        who = "both families" if len(hw) == 2 else f"the {next(iter(hw))} cells"
        return f"{who} on this run's CPU" + (f", {model}" if model else "")
    return "; ".join(f"{f} on {d}" for f, d in hw.items())


def _count_sentence(which: str, standings: dict[str, str]) -> str:
    """How many datasets, at each one's `which` training size, have deep ahead and behind beyond the
    margin (the verdicts' outcomes), and how the others stand: wholly within the margin, one side
    ahead but not surely beyond it (named), or undecided."""
    n = len(standings)
    deep = sum(k == "deep" for k in standings.values())
    cl = sum(k == "classical" for k in standings.values())
    text = (f"At each dataset's {which} training size, the best deep model is ahead on {deep} of "
            f"{_plural(n, 'dataset')} and behind on {cl} (each by more than {_M}, judged by a 95% "
            "interval that counts the test rows)")
    rest = n - deep - cl
    if not rest:
        return text + "."
    within = sum(k in _WITHIN for k in standings.values())
    unsure = sorted(ds for ds, k in standings.items() if k.endswith("_unsure"))
    undecided = sum(k == "undecided" for k in standings.values())
    none = sum(k == "none" for k in standings.values())
    parts = ([f"the interval lies within ±{_M} on {within}"] if within else []) + (
        [f"one side is ahead but not surely by more than {_M} on {len(unsure)} ({', '.join(unsure)})"] if unsure else []) + (
        [f"undecided on {undecided} (the interval includes zero and reaches past the margin)"] if undecided else []) + (
        [f"no interval on {none}"] if none else [])
    other = "the other " if deep + cl else ""
    return text + f"; on {other}{rest} neither is surely ahead by more than {_M}: " + ", ".join(parts) + "."


def answer(ms: Measurements, table: list[claims.Verdict], env: dict | None = None) -> list[str]:
    """The summary a reader can quote: who wins where, by how much, at what cost, how sure."""
    ok, comp = ms.ok, ms.comparisons
    if comp.empty:
        return ["This run cannot compare the families: no dataset has finished deep and classical cells at one size."]
    out = modality_sentences(comp, ok)
    for which, pick in (("largest", "max"), ("smallest", "min")):
        at = comp[comp.groupby("dataset")["n_train"].transform(pick) == comp["n_train"]]
        out.append(_count_sentence(which, {str(r.dataset): standing(r.difference) for r in at.itertuples()}))
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
