"""The report's figures, drawn with matplotlib's Agg backend into deterministic PNG bytes."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.report import analysis  # noqa: E402

DPI = 90
_STYLE = {
    "font.size": 8,
    "axes.titlesize": 9,
    "legend.fontsize": 7,
    "text.usetex": False,
    "path.simplify": False,
    "svg.hashsalt": "bench",
}
FAMILY_COLORS = {"classical": "#1f77b4", "deep": "#d62728"}
MODALITY_COLORS = {"tabular": "#1f77b4", "image": "#2ca02c", "sequence": "#9467bd"}


@dataclass(frozen=True)
class Figure:
    name: str  # file name, e.g. "learning-curve-01-digits.png"
    title: str
    caption: str
    png: bytes


def plain(text) -> str:
    """Data text for matplotlib: `$` would start mathtext."""
    return str(text).replace("$", r"\$")


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("._")[:40] or "x"


def _png(fig) -> bytes:
    buf = io.BytesIO()
    # No date or software version in the file: two builds of one report are byte-identical.
    # Fixed margins rather than bbox_inches="tight", which draws every figure twice.
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _palette(configs: list[str], fams: dict[str, str]) -> dict[str, tuple]:
    """Blues-to-greens for classical configurations, reds-to-oranges for deep ones."""
    out = {}
    for fam, cmap in (("classical", plt.get_cmap("viridis")), ("deep", plt.get_cmap("autumn"))):
        members = [c for c in configs if fams[c] == fam]
        for i, c in enumerate(members):
            out[c] = cmap(0.85 * i / max(1, len(members) - 1))
    return out


def _families(ok: pd.DataFrame) -> dict[str, str]:
    return {str(c): str(f) for c, f in ok.groupby("config")["family"].first().items()}


def _datasets(ok: pd.DataFrame) -> list[str]:
    return sorted(ok["dataset"].astype(str).unique())


def learning_curves(ok: pd.DataFrame) -> list[Figure]:
    """Score against training size per dataset: mean over seeds, band = ± one standard deviation."""
    figs = []
    for i, dataset in enumerate(_datasets(ok), 1):
        sub = ok[ok["dataset"] == dataset]
        stats = sub.groupby(["config", "n_train"])["score"].agg(["mean", "std", "count"]).reset_index()
        fams = _families(sub)
        configs = sorted(fams, key=lambda c: (fams[c], c))
        colors = _palette(configs, fams)
        with plt.rc_context(_STYLE):
            fig, ax = plt.subplots(figsize=(8.5, 4))
            fig.subplots_adjust(left=0.08, right=0.66, bottom=0.12, top=0.92)
            for c in configs:
                s = stats[stats["config"] == c].sort_values("n_train")
                sd = s["std"].fillna(0).to_numpy()
                x, y = s["n_train"].to_numpy(), s["mean"].to_numpy()
                deep = fams[c] == "deep"
                style = "--" if "[" in c else "-"
                ax.plot(x, y, style, marker="o", ms=3, lw=2.2 if deep else 1.2, color=colors[c], label=plain(f"{c} ({fams[c]})"))
                ax.fill_between(x, y - sd, y + sd, color=colors[c], alpha=0.15, lw=0)
            ax.set_xscale("log", base=2)
            ax.set_xlabel("training rows (n_train, log scale)")
            task = str(sub["task"].iloc[0])
            ax.set_ylabel("test accuracy" if task == "classification" else "test R²")
            ax.set_title(plain(f"{dataset} ({sub['modality'].iloc[0]}, {task}): learning curves"))
            ax.grid(alpha=0.3)
            ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
            figs.append(Figure(
                f"learning-curve-{i:02d}-{slug(dataset)}.png",
                f"Learning curves: {dataset}",
                f"{dataset}: test score against training rows for every configuration; line = mean over "
                "seeds, band = ± one standard deviation; thick lines are deep models, dashed lines "
                "classical models on engineered features.",
                _png(fig),
            ))
    return figs


def pareto_front(points: pd.DataFrame) -> pd.DataFrame:
    """Points no other point beats on both score (higher) and fit time (lower)."""
    pts = points.sort_values(["time", "score"], ascending=[True, False])
    front, best = [], -np.inf
    for idx, r in pts.iterrows():
        if r["score"] > best:
            front.append(idx)
            best = r["score"]
    return points.loc[front]


def score_vs_time(ok: pd.DataFrame) -> list[Figure]:
    """Score against fit time at each dataset's largest size, with the Pareto front."""
    figs = []
    for i, dataset in enumerate(_datasets(ok), 1):
        sub = ok[ok["dataset"] == dataset]
        n = int(sub["n_train"].max())
        at = sub[sub["n_train"] == n]
        pts = at.groupby("config").agg(
            score=("score", "mean"), score_sd=("score", "std"), time=("fit_time_s", "mean"),
            time_sd=("fit_time_s", "std"), family=("family", "first"),
        ).reset_index()
        pts = pts[np.isfinite(pts["time"])]
        if pts.empty:
            continue
        pts["time"] = pts["time"].clip(lower=1e-4)
        front = pareto_front(pts)
        with plt.rc_context(_STYLE):
            fig, ax = plt.subplots(figsize=(7, 4))
            fig.subplots_adjust(left=0.1, right=0.97, bottom=0.12, top=0.92)
            for fam, g in pts.groupby("family"):
                ax.errorbar(
                    g["time"], g["score"], xerr=g["time_sd"].fillna(0), yerr=g["score_sd"].fillna(0),
                    fmt="o", ms=5, color=FAMILY_COLORS.get(fam, "grey"), label=plain(fam), capsize=2, lw=0.8,
                )
            f = front.sort_values("time")
            ax.step(f["time"], f["score"], where="post", color="black", lw=1, ls=":", label="Pareto front")
            ax.scatter(f["time"], f["score"], s=110, facecolors="none", edgecolors="black", lw=1.2, zorder=3)
            for r in pts.itertuples():
                ax.annotate(plain(r.config), (r.time, r.score), fontsize=6, xytext=(4, 3), textcoords="offset points")
            ax.set_xscale("log")
            ax.set_xlabel("fit time, s (wall, log scale)")
            ax.set_ylabel("test score")
            ax.set_title(plain(f"{dataset}, n_train={n}: score against fit time"))
            ax.grid(alpha=0.3)
            ax.legend(frameon=False)
            figs.append(Figure(
                f"score-vs-time-{i:02d}-{slug(dataset)}.png",
                f"Score against fit time: {dataset}",
                f"{dataset} at n_train={n}: mean test score against mean fit time per configuration "
                "(error bars: standard deviation across seeds); circled points joined by the dotted "
                "line form the Pareto front (no other configuration is both faster and better).",
                _png(fig),
            ))
    return figs


def costs_by_model(ok: pd.DataFrame) -> list[Figure]:
    """Fit time and peak memory per configuration, over cells at each dataset's largest size."""
    if ok.empty:
        return []
    largest = ok.groupby("dataset")["n_train"].transform("max") == ok["n_train"]
    at = ok[largest]
    fams = _families(at)
    configs = sorted(fams, key=lambda c: (fams[c], c))
    with plt.rc_context(_STYLE):
        height = 1.2 + 0.22 * len(configs)
        fig, axes = plt.subplots(1, 2, figsize=(10, height), sharey=True)
        longest = max((len(f"{c} ({fams[c]})") for c in configs), default=10)
        fig.subplots_adjust(left=min(0.45, 0.03 + 0.0075 * longest), right=0.98, bottom=0.5 / height + 0.05, top=1 - 0.45 / height, wspace=0.05)
        for ax, col, label in (
            (axes[0], "fit_time_s", "fit time, s (log scale)"),
            (axes[1], "peak_memory_mb", "peak fit memory, MB (log scale, floored at 0.1)"),
        ):
            data = [at.loc[at["config"] == c, col].dropna().clip(lower=1e-4 if col == "fit_time_s" else 0.1).to_numpy() for c in configs]
            data = [d if d.size else np.array([np.nan]) for d in data]
            box = ax.boxplot(data, orientation="horizontal", patch_artist=True, widths=0.6, flierprops={"ms": 2})
            for patch, c in zip(box["boxes"], configs, strict=True):
                patch.set_facecolor(FAMILY_COLORS.get(fams[c], "grey"))
                patch.set_alpha(0.5)
            ax.set_xscale("log")
            ax.set_xlabel(label)
            ax.grid(alpha=0.3, axis="x")
        axes[0].set_yticks(range(1, len(configs) + 1), [plain(f"{c} ({fams[c]})") for c in configs])
        fig.suptitle("Cost by model, over datasets and seeds at each dataset's largest training size")
        return [Figure(
            "costs-by-model.png",
            "Fit time and peak memory by model",
            "Fit time and peak fit memory of each configuration (blue: classical, red: deep), one "
            "box over all datasets and seeds at each dataset's largest training size.",
            _png(fig),
        )]


def win_rates(ok: pd.DataFrame) -> list[Figure]:
    """Share of (dataset, seed) comparisons the best deep model wins, by modality and size."""
    rec = analysis.win_records(ok)
    if rec.empty:
        return []
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(7, 3.6))
        fig.subplots_adjust(left=0.1, right=0.97, bottom=0.14, top=0.9)
        for modality, g in rec.groupby("modality", sort=True):
            rates = g.groupby("n_train").apply(analysis.win_rate, include_groups=False)
            counts = g.groupby("n_train").size()
            ax.plot(rates.index, rates.to_numpy(), "o-", color=MODALITY_COLORS.get(modality, "grey"), label=plain(modality))
            for n, r in rates.items():
                ax.annotate(str(int(counts[n])), (n, r), fontsize=6, xytext=(3, 3), textcoords="offset points")
        ax.axhline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_ylim(-0.05, 1.05)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("training rows (n_train, log scale)")
        ax.set_ylabel("deep win rate")
        ax.set_title("Best deep vs best classical configuration: deep win rate")
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
        return [Figure(
            "win-rate.png",
            "Win rate of deep against classical",
            "Share of (dataset, seed) comparisons at each training size in which the best deep "
            f"configuration beats the best classical one by more than {analysis.MARGIN} (ties count "
            "half), by modality; numbers are the comparisons behind each point.",
            _png(fig),
        )]


def all_figures(ok: pd.DataFrame) -> dict[str, list[Figure]]:
    """Every figure of the report, by section, from the finished cells (`analysis.ok_rows`)."""
    if ok.empty:
        return {"learning_curves": [], "score_vs_time": [], "costs": [], "win_rate": [], "ranks": []}
    return {
        "ranks": critical_difference(ok),
        "learning_curves": learning_curves(ok),
        "score_vs_time": score_vs_time(ok),
        "costs": costs_by_model(ok),
        "win_rate": win_rates(ok),
    }


def critical_difference(ok: pd.DataFrame) -> list[Figure]:
    """Average ranks over datasets with the Nemenyi critical-difference bars (scikit-posthocs)."""
    from bench.report import stats

    scores = stats.complete_blocks(ok)
    test = stats.friedman(scores)
    if test is None:
        return []
    import scikit_posthocs as sp

    p = stats.nemenyi(scores)
    fams = ok.groupby("config")["family"].first()
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(8.5, 0.9 + 0.22 * len(test.mean_ranks)))
        fig.subplots_adjust(left=0.22, right=0.78, bottom=0.05, top=0.8)
        colors = {c: FAMILY_COLORS.get(str(fams[c]), "grey") for c in test.mean_ranks.index}
        sp.critical_difference_diagram(
            test.mean_ranks.rename(index=plain), p.rename(index=plain, columns=plain), ax=ax,
            color_palette={plain(c): v for c, v in colors.items()},
            label_fmt_left="{label} ({rank:.2f})", label_fmt_right="({rank:.2f}) {label}",
        )
        ax.set_title(
            f"Average rank over {test.n_datasets} datasets (1 = best); Friedman p = {test.p:.2g}; "
            "bars join configurations the Nemenyi test cannot tell apart (α = 0.05)", fontsize=8,
        )
        return [Figure(
            "critical-difference.png",
            "Critical-difference diagram",
            f"Average rank of each configuration that ran on all {test.n_datasets} datasets (at each "
            "dataset's largest size; 1 = best test score). Configurations joined by a bar are not "
            "significantly different (Nemenyi post-hoc test after a Friedman test, α = 0.05). "
            "Blue: classical; red: deep.",
            _png(fig),
        )]
