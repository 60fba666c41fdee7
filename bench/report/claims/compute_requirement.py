"""Compute requirement (row 6): classical models need little compute, deep ones much."""

from __future__ import annotations

import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bench.report import analysis as an
from bench.report import plots, stats
from bench.report.claims.base import Measurements, Result, Verdict, claim
from bench.report.claims.common import certainty, need, not_measurable

RULE = """
At each dataset's largest size with both families, per seed: the median over deep
configurations divided by the median over classical configurations, for fit CPU time
(a tuned configuration's hyperparameter search included; floored at 1 ms) and peak fit memory (floored at 1 MB); seeds and then datasets combine by
geometric mean. Costs are compared on one kind of hardware: where deep cells ran on a GPU
and on the CPU, the CPU cells are compared (the GPU ones reported alongside); where they
ran on a GPU only, the verdict says so. Supported when both ratios exceed 2 (deep needs at
least twice the compute), refuted when both are below 1 (deep needs less), inconclusive
when a ratio's interval straddles 1 or 2 and the other does not point the other way, mixed
otherwise. Fit wall time and one-row predict latency are reported alongside. Hybrids (models tagged `hybrid`) are a family of their
own and take no part.
"""


def figure(v: Verdict, ok: pd.DataFrame, pal: plots.Palette) -> list[plots.Figure]:
    """Deep / classical cost ratios per dataset, with the spread over seeds (the verdict's ratios).

    It draws every seed with a fit CPU ratio, also those without a memory ratio, which the
    verdict leaves out (as the figure did before it read the verdict's ratios).
    """
    if v.data is None:
        return []
    r, hw, gpu_only = v.data
    if r.empty:
        return []
    r = r[np.isfinite(r["fit_cpu_s"].astype("float64"))]
    if r.empty:
        return []
    per = r.groupby("dataset")
    names = sorted(per.groups, reverse=True)  # read top-down in alphabetical order
    with plt.rc_context(plots.rc_style()):
        height = 1.4 + 0.3 * len(names)
        fig, ax = plt.subplots(figsize=(plots.WIDTH, height))
        fig.subplots_adjust(left=0.2, right=0.83, bottom=0.55 / height + 0.06, top=1 - 0.35 / height)
        for k, (col, label, marker, off) in enumerate((
            ("fit_cpu_s", "fit CPU (+ search)", "o", -0.15), ("peak_memory_mb", "peak fit memory", "s", 0.15),
        )):
            for i, ds in enumerate(names):
                g = per.get_group(ds)[col]
                color = ("#444444", "#b07d00")[k]
                ax.plot([g.min(), g.max()], [i + off, i + off], color=color, lw=1.2, alpha=0.6)
                ax.plot([an.gmean(g)], [i + off], marker, color=color, ms=5, label=label if i == 0 else None)
        for x in (1, 2):
            ax.axvline(x, color="grey", lw=0.8, ls="--")
        ax.set_xscale("log")
        lo, hi = ax.get_xlim()
        ticks = [t for t in (0.01, 0.1, 0.5, 1, 2, 5, 10, 100, 1000, 10000) if lo <= t <= hi]
        ax.set_xticks(ticks, [f"×{t:g}" for t in ticks])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_yticks(range(len(names)), [plots.plain(n) for n in names])
        plots.fit_left(fig, ax)
        ax.set_ylim(-0.6, len(names) - 0.4)
        ax.set_xlabel("deep / classical cost (ratio of medians, log scale; dashed: ×1 and ×2)")
        ax.grid(alpha=0.25, axis="x")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
        where = "; ".join(f"{f} on {d}" for f, d in hw.items())
        ax.set_title(plots.plain(f"hardware: {where}" + (" (different hardware!)" if gpu_only else "")), loc="left", fontsize=8, color="#444")
        return [plots.Figure(
            "claim-compute.png", "Compute: deep / classical cost ratios",
            "Per dataset at the largest size both families ran: the deep models' median cost over the "
            "classical models' (fit CPU time and peak fit memory); marker = geometric mean over seeds, "
            "line = smallest to largest seed. Right of the ×2 line, deep needs at least twice the compute.",
            plots.png(fig),
        )]


def _ratio_side(iv: stats.Interval) -> str:
    if stats.decide(iv, math.log(2)) == "above":
        return "high"
    if stats.decide(iv, 0.0) == "below":
        return "low"
    if iv.lo >= 0.0 and iv.hi <= math.log(2):
        return "between"
    return "noise"


@claim(
    "compute_requirement", section="table", order=6, aspect="Compute requirement (计算资源需求)",
    classical="low (计算资源需求较低)", deep="high (计算资源需求较高)", rule=RULE, figure=figure, version=2,
)
def compute_requirement(ms: Measurements) -> Result:
    df = ms.ok
    missing = need(df, "classical", "deep")
    if missing:
        return missing
    kind = an.device_kind(df)
    used, deep_gpu_only = an.comparable_hardware(df)
    hw = an.hardware(used)
    ratios = an.compute_ratios(used)
    data = (ratios, hw, deep_gpu_only)
    r = ratios[np.isfinite(ratios["fit_cpu_s"]) & np.isfinite(ratios["peak_memory_mb"])]
    if r.empty:
        return not_measurable("no dataset has costs for both families", data)
    evidence = []
    for dataset, g in r.groupby("dataset"):
        row = {"dataset": dataset, "n_train": int(g["n_train"].iloc[0])}
        for col, name in (("fit_cpu_s", "fit CPU"), ("fit_time_s", "fit wall"), ("peak_memory_mb", "peak memory"), ("predict_latency_ms", "latency")):
            row[name] = f"{an.fmt_ratio(an.gmean(g[col]))} ({an.fmt_ratio(g[col].min())}–{an.fmt_ratio(g[col].max())})"
        evidence.append(row)
    logs = r.assign(cpu=np.log(r["fit_cpu_s"]), mem=np.log(r["peak_memory_mb"]))
    i_cpu, i_mem = stats.bootstrap_ci(logs, "cpu"), stats.bootstrap_ci(logs, "mem")
    cpu, mem = math.exp(i_cpu.mean), math.exp(i_mem.mean)
    sides = {_ratio_side(i_cpu), _ratio_side(i_mem)}
    if sides == {"high"}:
        verdict = "supported"
    elif sides == {"low"}:
        verdict = "refuted"
    elif "noise" in sides and not {"high", "low"} <= sides:
        verdict = "inconclusive"
    else:
        verdict = "mixed"
    where = "; ".join(f"{fam} on {devs}" for fam, devs in hw.items())
    gpu_note = (
        " Deep cells ran on a GPU only, classical ones on the CPU: the ratios compare different hardware."
        if deep_gpu_only and (kind == "GPU").any() else
        " Deep cells that ran on a GPU are left out of the ratios (different hardware)." if (kind == "GPU").any() else ""
    )
    return Result(
        verdict,
        f"over {r['dataset'].nunique()} datasets, deep / classical: fit CPU time {an.fmt_ratio(cpu)}, "
        f"peak memory {an.fmt_ratio(mem)} (hardware: {where})",
        evidence,
        certainty(
            f"fit CPU ratio {an.fmt_ratio(cpu)} [{an.fmt_ratio(math.exp(i_cpu.lo))}, {an.fmt_ratio(math.exp(i_cpu.hi))}]",
            f"peak memory ratio {an.fmt_ratio(mem)} [{an.fmt_ratio(math.exp(i_mem.lo))}, {an.fmt_ratio(math.exp(i_mem.hi))}]",
        ) + gpu_note,
        data=data,
    )
