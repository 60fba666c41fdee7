"""The report's figures, drawn with matplotlib's Agg backend into deterministic PNG bytes.

This module holds the drawing conventions (`rc_style`, `png`, the `Palette`), the figures that
belong to no single claim (the headline, the forest plot `effects`, the critical-difference
diagram, the per-dataset appendix) and `all_figures`. A claim's own figure lives in its
module (`bench.report.claims.<key>`) and draws that claim's evidence, never a recomputation.
Every figure uses one palette for the whole report (a colour per model, blues and greens for classical,
reds and oranges for deep, purples for hybrids; line style for the feature variant, marker
for tuning; the learning curves colour by family alone, each family's chosen configuration bold
and the rest faded), draws spreads as the seeds' min–max (never mean ± sd, which a log axis
stretches below the fastest fit), groups legends by family, labels axes with units, and places labels in a
column beside the plot rather than on the points, so none overlap or are cut off.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import re
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from bench.registry import MODALITIES
from bench.report import analysis  # noqa: E402
from bench.report.measurements import Measurements  # noqa: E402

# A font matplotlib does not find (a bold CJK fallback, mathtext's STIX and Computer Modern) is
# logged as a warning per family, some 40 lines at a report's first figure; the fallback it takes
# draws the same figure, so those lines say nothing to a user and are kept off the terminal.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

DPI = 100
WIDTH = 10.5  # inches: 1,050 px at DPI, the HTML's content width
FAMILY_COLORS = {"classical": "#1f63a8", "deep": "#c8312c", "hybrid": "#7b4fa0"}
MODALITY_ORDER = MODALITIES  # the order figures and tables list modalities in
MODALITY_COLORS = {"tabular": "#1f63a8", "image": "#2b9348", "sequence": "#8e44ad", "text": "#c0392b"}
_CLASSICAL = ["#1f63a8", "#2a9d8f", "#5b8fd0", "#3d7d3d", "#0b3d6b", "#74a9cf", "#52b788", "#264653", "#8fb8de", "#1b7f79"]
_DEEP = ["#c8312c", "#e07b00", "#d6457e", "#8c3b1e", "#f2a03d", "#9e0142"]
_HYBRID = ["#6a3d9a", "#9e7cc1", "#4b2c6f", "#b294d6"]
_CJK_NAMES = ("CJK", "WenQuanYi", "Source Han", "Droid Sans Fallback", "AR PL", "Noto Sans SC", "Noto Sans TC", "Unifont")


@functools.cache
def _fallback_font() -> str | None:
    """An installed font with CJK glyphs (matplotlib falls back to it glyph by glyph), or None."""
    for f in sorted(font_manager.fontManager.ttflist, key=lambda f: (f.name, f.fname)):
        if any(k.lower() in f.name.lower() for k in _CJK_NAMES):
            try:
                if 0x4E2D in matplotlib.ft2font.FT2Font(f.fname).get_charmap():
                    return f.name
            except Exception:  # an unreadable font file: look further
                continue
    return None


@functools.cache
def _covered() -> frozenset[int]:
    """Code points the default font (DejaVu Sans) can draw."""
    path = font_manager.findfont("DejaVu Sans")
    return frozenset(matplotlib.ft2font.FT2Font(path).get_charmap())


def rc_style() -> dict:
    style = {
        "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
        "xtick.labelsize": 8, "ytick.labelsize": 8, "text.usetex": False, "path.simplify": False,
        "svg.hashsalt": "bench", "axes.spines.top": False, "axes.spines.right": False,
    }
    extra = _fallback_font()
    if extra:
        style["font.family"] = ["DejaVu Sans", extra]
    return style


@dataclass(frozen=True)
class Figure:
    name: str  # file name, e.g. "learning-curve-01-digits.png"
    title: str
    caption: str
    png: bytes


def plain(text) -> str:
    """Data text for matplotlib: `$` would start mathtext; glyphs no installed font has are dropped.

    Without a CJK font, a parenthesised gloss in such characters ("Feature engineering
    (特征工程)") is left out, and any other such character shows as "?", never as an
    empty box.
    """
    text = str(text).replace("$", r"\$")
    ok = _covered() | {ord(c) for c in " \n\t"}
    if _fallback_font() is not None or all(ord(c) in ok for c in text):
        return text
    text = re.sub(r"\s*[(（]([^()（）]*)[)）]", lambda m: "" if not any(ord(c) in ok and not c.isspace() for c in m.group(1)) else m.group(0), text)
    return "".join(c if ord(c) in ok else "?" for c in text)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("._")[:40] or "x"


def png(fig) -> bytes:
    buf = io.BytesIO()
    # No date or software version in the file: two builds of one report are byte-identical.
    # Fixed margins rather than bbox_inches="tight", which draws every figure twice.
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


# ---------------------------------------------------------------- one palette for the report


@dataclass(frozen=True)
class Palette:
    """A colour per model label, by family; line style per feature variant; marker per tuning."""

    colors: dict[str, str]
    family: dict[str, str]  # model label -> family

    @classmethod
    def of(cls, ok: pd.DataFrame) -> Palette:
        colors, family = {}, {}
        if ok.empty:
            return cls(colors, family)
        hyb = analysis.has_tag(ok, "hybrid")
        models = ok.assign(_h=hyb).groupby("model").agg(family=("family", "first"), hybrid=("_h", "any"))
        for group, shades in (("hybrid", _HYBRID), ("classical", _CLASSICAL), ("deep", _DEEP)):
            if group == "hybrid":
                names = sorted(models.index[models["hybrid"]])
            else:
                names = sorted(models.index[(models["family"] == group) & ~models["hybrid"]])
            for i, name in enumerate(names):
                colors[str(name)] = shades[i % len(shades)]
        family = {str(m): str(f) for m, f in models["family"].items()}
        return cls(colors, family)

    def color(self, model: str) -> str:
        return self.colors.get(str(model), "grey")


def _config_style(row) -> dict:
    """Line style and marker of a configuration: dashed for engineered features, squares when tuned."""
    engineered = str(row["features"]) != "raw"
    tuning = row.get("tuning", None)
    tuned = not pd.isna(tuning) and str(tuning) == "tuned"
    return {"ls": "--" if engineered else "-", "marker": "s" if tuned else "o"}


def config_table(ok: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: its model, family, features and tuning."""
    cols = [c for c in ("config", "model", "family", "features", "tuning") if c in ok.columns]
    return ok[cols].drop_duplicates("config").set_index("config").sort_index()


def _family_legend(ax, handles: dict[str, list], **kw):
    """One legend whose columns are the families (classical, deep, hybrid), each under its name."""
    cols = [(fam, handles.get(fam, [])) for fam in ("classical", "deep", "hybrid") if handles.get(fam)]
    if not cols:
        return None
    rows = max(len(hs) for _, hs in cols)
    blank = Line2D([], [], linestyle="none", marker="none")
    hs, labels = [], []
    for fam, items in cols:
        hs.append(blank)
        labels.append(f"{fam.capitalize()}:")
        for h, label in items:
            hs.append(h)
            labels.append(label)
        hs += [blank] * (rows - len(items))
        labels += [""] * (rows - len(items))
    leg = ax.legend(hs, labels, ncol=len(cols), frameon=False, handlelength=2.2, columnspacing=1.2, **kw)
    for text in leg.get_texts():
        if text.get_text().endswith(":") and text.get_text()[:-1].lower() in FAMILY_COLORS:
            text.set_fontweight("bold")
    return leg


def fit_left(fig, ax, pad_px: float = 12.0, most: float = 0.6) -> None:
    """Move the axes' left edge so its y tick labels fit in the figure, measured, not guessed."""
    renderer = fig.canvas.get_renderer()
    widest = max((t.get_window_extent(renderer).width for t in ax.get_yticklabels() if t.get_text()), default=0.0)
    left = min(most, (widest + pad_px + 8) / (fig.get_figwidth() * fig.dpi))
    box = fig.subplotpars
    fig.subplots_adjust(left=max(left, 0.04), right=max(box.right, left + 0.2))


def _score_label(task: str) -> str:
    return "test accuracy (fraction correct)" if task == "classification" else "test R² (unitless)"


def _log2_axis(ax):
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))


# ---------------------------------------------------------------- the headline


def headline(rec: pd.DataFrame) -> list[Figure]:
    """Best deep minus best classical against training size, one panel per modality, 95% bands
    (`rec`: the table's per-size comparisons, `Measurements.comparisons`: `diff`, `lo`, `hi`
    counting the test rows and the seeds)."""
    if rec.empty:
        return []
    mods = [m for m in MODALITY_ORDER if m in set(rec["modality"])] + sorted(set(rec["modality"]) - set(MODALITY_ORDER))
    with plt.rc_context(rc_style()):
        rows = max(int(np.ceil(rec.loc[rec["modality"] == m, "dataset"].nunique() / 2)) for m in mods)
        height = 3.3 + 0.2 * rows
        fig, axes = plt.subplots(1, len(mods), figsize=(WIDTH, height), sharey=True, squeeze=False)
        fig.subplots_adjust(left=0.075, right=0.985, bottom=(0.75 + 0.2 * rows) / height, top=1 - 0.55 / height, wspace=0.08)
        ymax = max(0.05, float(rec["diff"].abs().max()) * 1.05)
        for ax, mod in zip(axes[0], mods, strict=True):
            sub = rec[rec["modality"] == mod]
            ax.axhspan(-analysis.MARGIN, analysis.MARGIN, color="#dddddd", lw=0, zorder=0)
            ax.axhline(0, color="black", lw=1.0, zorder=1)
            cmap = plt.get_cmap("tab10")
            for i, (dataset, g) in enumerate(sub.groupby("dataset", sort=True)):
                g = g.sort_values("n_train")
                x, m, lo, hi = (g[c].to_numpy(dtype="float64") for c in ("n_train", "diff", "lo", "hi"))
                color = cmap(i % 10)
                ax.plot(x, m, "-o", color=color, ms=3.5, lw=1.6, label=plain(dataset), zorder=3)
                ax.fill_between(x, lo, hi, color=color, alpha=0.18, lw=0, zorder=2)
            _log2_axis(ax)
            ax.set_ylim(-ymax, ymax)
            ax.set_title(f"{mod} data", loc="left", fontweight="bold")
            ax.set_xlabel("training rows (log scale)")
            ax.grid(alpha=0.25)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.17), frameon=False, ncol=2, fontsize=7.5)
        axes[0][0].set_ylabel("best deep − best classical\n(test accuracy or R²)")
        fig.text(0.075, 1 - 0.2 / height, "Above zero: the best deep model is ahead. Grey band: within the margin.", fontsize=8.5, color="#444", va="top")
        return [Figure(
            "headline.png",
            "Best deep minus best classical, against training size",
            "Each line is one dataset: the best deep configuration's test score minus the best "
            "classical one's, each chosen on validation where the run has validation scores, on equal "
            "terms: best against best where both families had equal candidate and trial counts, else the "
            "modality's named pairing (tree ensemble against MLP or TabM on tables; classical on engineered "
            "features, else the SVM on raw pixels, against a CNN on images; a series-feature classifier, else "
            "nearest neighbours on the raw series, against a CNN or ResNet on sequences; engineered text "
            "features against a network over the words; the answer names it); a dataset and size with "
            "neither is left out; hybrids take no part. Mean over seeds with a 95% band that counts the test rows "
            f"and the seeds. Above zero, deep is ahead; the grey band is the ±{analysis.MARGIN} margin "
            "within which a difference does not count.",
            png(fig),
        )]


# ---------------------------------------------------------------- a claim's effects; ranks


def effects(key: str, title: str, what: str, rows, thresholds=(analysis.MARGIN,)) -> list[Figure]:
    """A claim's per-dataset (or per-pair) differences with their 95% intervals (a forest plot)."""
    rows = [r for r in rows if math.isfinite(r[1])]
    if not rows:
        return []
    with plt.rc_context(rc_style()):
        height = 0.9 + 0.3 * len(rows)
        fig, ax = plt.subplots(figsize=(WIDTH, height))
        fig.subplots_adjust(left=0.3, right=0.97, bottom=0.5 / height, top=1 - 0.15 / height)
        m = thresholds[0]
        ax.axvspan(-m, m, color="#dddddd", lw=0)
        for x in thresholds[1:]:
            ax.axvline(x, color="grey", lw=0.8, ls="--")
        ax.axvline(0, color="black", lw=0.9)
        for i, (_label, mean, lo, hi) in enumerate(rows):
            y = len(rows) - 1 - i
            if not (math.isfinite(lo) and math.isfinite(hi)):  # one value: no interval, a hollow dot
                ax.plot([mean], [y], "o", mfc="none", color="#555555", ms=5)
                continue
            color = "#2b9348" if lo > m else "#c8312c" if hi < -m else "#555555"
            ax.plot([lo, hi], [y, y], color=color, lw=1.6)
            ax.plot([mean], [y], "o", color=color, ms=5)
        ends = [v for r in rows for v in (r[1], r[2], r[3]) if math.isfinite(v)]
        lo_x = min(*ends, -3 * m)
        hi_x = max(*ends, 3 * m, *thresholds)
        pad = 0.06 * (hi_x - lo_x)
        ax.set_xlim(lo_x - pad, hi_x + pad)
        ax.set_yticks(range(len(rows)), [plain(r[0]) for r in rows][::-1])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_xlabel(plain(what))
        ax.grid(alpha=0.25, axis="x")
        fit_left(fig, ax)
        return [Figure(
            f"claim-{slug(key).replace('_', '-')}.png", title,
            f"{what}, per dataset or pair: dot = mean over seeds, line = its 95% interval (a score difference's "
            "counts the test rows and the seeds; the \"How sure\" line names its method; a hollow dot: no "
            f"interval). Grey band: "
            f"the ±{thresholds[0]} margin; green lies beyond it (the claim's way), red beyond it the other way.",
            png(fig),
        )]


def critical_difference(ok: pd.DataFrame) -> list[Figure]:
    """Per modality, average ranks over its datasets with the Nemenyi critical-difference bars
    (scikit-posthocs), over the configurations that ran on all of them (`bench.report.ranks`)."""
    from bench.report import ranks, stats

    figs = []
    for mr in ranks.modality_ranks(ok):
        test = mr.friedman
        if test is None:
            continue
        import scikit_posthocs as sp

        p = stats.nemenyi(mr.scores)
        mean_ranks = mr.ranks()
        with plt.rc_context(rc_style()):
            height = 1.3 + 0.25 * len(mean_ranks)
            fig, ax = plt.subplots(figsize=(WIDTH, height))
            fig.subplots_adjust(left=0.2, right=0.8, bottom=0.04, top=1 - 0.75 / height)
            colors = {plain(c): FAMILY_COLORS.get(mr.families.get(c, ""), "grey") for c in mean_ranks.index}
            drawn = sp.critical_difference_diagram(
                mean_ranks.rename(index=plain), p.rename(index=plain, columns=plain), ax=ax,
                color_palette=colors, label_fmt_left="{label} ({rank:.2f})", label_fmt_right="({rank:.2f}) {label}",
            )
            # Each crossbar's points come from a set, in an order that changes with string hashing
            # between processes; sorted, the same bar draws the same pixels (byte-identical rebuilds).
            for lines in drawn.get("crossbars", []):
                for line in lines:
                    x, y = line.get_data()
                    line.set_data(sorted(x), y)
            # The title sits in its own strip above the rank axis, so it crowds none of its labels.
            fig.text(0.01, 1 - 0.12 / height, plain(f"{mr.modality} data: average rank over {test.n_datasets} datasets "
                                                     "(1 = best)"), fontsize=9, fontweight="bold", va="top")
            figs.append(Figure(
                f"critical-difference-{slug(mr.modality)}.png", f"Critical-difference diagram: {mr.modality} data",
                f"{mr.modality} data: average rank of each configuration that ran on all {test.n_datasets} ranked "
                f"datasets ({', '.join(str(d) for d in mr.scores.index)}; each at its largest size; 1 = best test "
                f"score); Friedman p = {test.p:.2g}. A bar joins configurations the Nemenyi post-hoc test "
                "(after the Friedman test, α = 0.05) cannot tell apart. Blue: classical; red: deep; purple: hybrid. "
                + mr.left_out_text(),
                png(fig),
            ))
    return figs


# ---------------------------------------------------------------- per dataset (appendix)


def chosen_at_largest(sub: pd.DataFrame) -> dict[str, str]:
    """Per family, the configuration chosen on validation at the dataset's largest size (`analysis.best`)."""
    at = sub[sub["n_train"] == sub["n_train"].max()]
    out = {}
    for fam, g in at.groupby("family", sort=True):
        b = analysis.best(g)
        if b is not None:
            out[str(fam)] = b.label
    return out


def learning_curves(ok: pd.DataFrame, pal: Palette) -> list[Figure]:
    """Score against training size per dataset: each family's configuration chosen on validation at the
    largest size bold in the family's hue with its seeds' min–max band, every other configuration a
    thin faded line of the same hue (no band), so the families read apart and the choices stand out."""
    figs = []
    conf = config_table(ok)
    for i, dataset in enumerate(analysis.datasets(ok), 1):
        sub = ok[ok["dataset"] == dataset]
        stats_ = sub.groupby(["config", "n_train"])["score"].agg(["mean", "min", "max"]).reset_index()
        chosen = chosen_at_largest(sub)
        picked = set(chosen.values())
        configs = sorted(sub["config"].unique(), key=lambda c: (c in picked, str(conf.loc[c, "family"]), c))
        with plt.rc_context(rc_style()):
            fig, ax = plt.subplots(figsize=(WIDTH, 4.2))
            fig.subplots_adjust(left=0.075, right=0.66, bottom=0.13, top=0.92)
            handles: dict[str, list] = {}
            faded: dict[str, int] = {}
            for c in configs:
                s = stats_[stats_["config"] == c].sort_values("n_train")
                row = conf.loc[c]
                fam, style = str(row["family"]), _config_style(row)
                color = FAMILY_COLORS.get(fam, "grey")
                x, y = s["n_train"].to_numpy(), s["mean"].to_numpy()
                if c in picked:
                    (line,) = ax.plot(x, y, style["ls"], marker=style["marker"], ms=4.5, lw=2.6, color=color, zorder=5)
                    ax.fill_between(x, s["min"].to_numpy(), s["max"].to_numpy(), color=color, alpha=0.15, lw=0, zorder=4)
                    handles.setdefault(fam, []).insert(0, (line, plain(f"{c} (chosen)")))
                else:
                    ax.plot(x, y, style["ls"], marker=style["marker"], ms=2, lw=0.8, color=color, alpha=0.28, zorder=2)
                    faded[fam] = faded.get(fam, 0) + 1
            # A ring on each family's choice at every size: what the verdicts compare there on equal terms (it may change with size).
            for n_train, at in sub.groupby("n_train", sort=True):
                for fam, g in at.groupby("family", sort=True):
                    b = analysis.best(g)
                    if b is None:
                        continue
                    m = stats_[(stats_["config"] == b.label) & (stats_["n_train"] == n_train)]["mean"]
                    if len(m):
                        ax.plot([n_train], [float(m.iloc[0])], "o", ms=9, mfc="none", mec=FAMILY_COLORS.get(str(fam), "grey"),
                                mew=1.4, zorder=6)
            ring = Line2D([], [], ls="none", marker="o", ms=8, mfc="none", mec="#444444", mew=1.4)
            for fam, k in faded.items():
                ghost = Line2D([], [], color=FAMILY_COLORS.get(fam, "grey"), lw=0.8, alpha=0.35)
                handles.setdefault(fam, []).append((ghost, f"{k} other{'s' if k != 1 else ''} (faded)"))
            _log2_axis(ax)
            ax.set_xlabel("training rows (log scale)")
            task = str(sub["task"].iloc[0])
            ax.set_ylabel(_score_label(task))
            ax.set_title(plain(f"{dataset} ({sub['modality'].iloc[0]}, {task})"), loc="left")
            ax.grid(alpha=0.25)
            leg = _family_legend(ax, handles, loc="upper left", bbox_to_anchor=(1.01, 1.02))
            if leg is not None:
                ax.add_artist(leg)
            ax.legend([ring], ["the family's choice on validation at that size"], loc="lower left",
                      bbox_to_anchor=(1.01, -0.02), frameon=False)
            figs.append(Figure(
                f"learning-curve-{i:02d}-{slug(dataset)}.png",
                f"Learning curves: {dataset}",
                f"{dataset}: test score against training rows. Bold, in its family's colour (blue classical, red "
                "deep, purple hybrid): each family's configuration chosen on validation at the largest size, mean "
                "over seeds with the seeds' min–max as a band; faded: every other configuration's mean; rings: each "
                "family's choice among all its configurations at each size (it can differ from size to size; the "
                "verdicts compare these where the families had equal candidate and trial counts, else the modality's "
                "named pairing's best: see the answer). Dashed = "
                "engineered features, squares = tuned.",
                png(fig),
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


def score_vs_time(ok: pd.DataFrame, pal: Palette) -> list[Figure]:
    """Score and fit time side by side per configuration at each dataset's largest size, Pareto front marked.

    One row per configuration (best score on top), so every label sits on its own line:
    no label can overlap another or be cut off, however many configurations there are.
    """
    figs = []
    conf = config_table(ok)
    for i, dataset in enumerate(analysis.datasets(ok), 1):
        sub = ok[ok["dataset"] == dataset]
        n = int(sub["n_train"].max())
        at = sub[sub["n_train"] == n]
        pts = at.groupby("config").agg(
            score=("score", "mean"), score_lo=("score", "min"), score_hi=("score", "max"),
            time=("fit_time_s", "mean"), time_lo=("fit_time_s", "min"), time_hi=("fit_time_s", "max"),
            family=("family", "first"),
        ).reset_index()
        pts = pts[np.isfinite(pts["time"])]
        if pts.empty:
            continue
        for col in ("time", "time_lo", "time_hi"):
            pts[col] = pts[col].clip(lower=1e-4)
        front = set(pareto_front(pts)["config"])
        pts = pts.sort_values(["score", "config"], ascending=[True, False]).reset_index(drop=True)
        with plt.rc_context(rc_style()):
            height = 1.4 + 0.22 * len(pts)
            fig, axes = plt.subplots(1, 2, figsize=(WIDTH, height), sharey=True)
            fig.subplots_adjust(left=0.25, right=0.98, bottom=0.55 / height + 0.04, top=1 - 0.45 / height, wspace=0.06)
            ys = np.arange(len(pts))
            for ax, (col, label) in zip(axes, (
                ("score", _score_label(str(sub["task"].iloc[0]))),
                ("time", "fit time (seconds, wall clock, log scale)"),
            ), strict=True):
                for y, r in zip(ys, pts.itertuples(), strict=True):
                    color = pal.color(conf.loc[r.config, "model"])
                    # The seeds' min–max: never below the fastest fit, so a log axis cannot stretch it.
                    v, lo, hi = getattr(r, col), getattr(r, f"{col}_lo"), getattr(r, f"{col}_hi")
                    if lo < hi:
                        ax.plot([lo, hi], [y, y], color=color, lw=1.2, alpha=0.6)
                    ax.plot([v], [y], _config_style(conf.loc[r.config])["marker"], color=color, ms=5.5 if r.config in front else 4,
                            mec="black" if r.config in front else color, mew=1.2 if r.config in front else 0.5)
                ax.set_xlabel(label)
                ax.grid(alpha=0.25, axis="x")
            axes[1].set_xscale("log")
            picked = set(chosen_at_largest(sub).values())
            axes[0].set_yticks(ys, [plain(("◆ " if c in front else "") + c + (" *" if c in picked else "")) for c in pts["config"]])
            for tick, c in zip(axes[0].get_yticklabels(), pts["config"], strict=True):
                tick.set_color(FAMILY_COLORS.get(str(conf.loc[c, "family"]), "black"))
                if c in front:
                    tick.set_fontweight("bold")
            fit_left(fig, axes[0])
            fig.suptitle(plain(f"{dataset}, n_train={n:,}: score and fit time (◆ = Pareto front)"), fontsize=9)
            figs.append(Figure(
                f"score-vs-time-{i:02d}-{slug(dataset)}.png",
                f"Score and fit time: {dataset}",
                f"{dataset} at n_train={n}: mean test score and mean fit time per configuration, best score "
                "on top (lines: the seeds' min–max, never a standard deviation, so a log axis cannot stretch a "
                "spread below the fastest fit). ◆ marks the Pareto front: no other "
                "configuration is both faster and better; * marks each family's configuration chosen on "
                "validation among all its configurations (the one the verdicts compare on equal terms; else they "
                "compare the modality's named pairing: see the answer).",
                png(fig),
            ))
    return figs


def costs_by_model(ok: pd.DataFrame, pal: Palette) -> list[Figure]:
    """Fit time and peak memory per configuration, over cells at each dataset's largest size."""
    if ok.empty:
        return []
    largest = ok.groupby("dataset")["n_train"].transform("max") == ok["n_train"]
    at = ok[largest]
    conf = config_table(at)
    configs = sorted(conf.index, key=lambda c: (str(conf.loc[c, "family"]), c))
    with plt.rc_context(rc_style()):
        height = 1.3 + 0.22 * len(configs)
        fig, axes = plt.subplots(1, 2, figsize=(WIDTH, height), sharey=True)
        fig.subplots_adjust(left=0.25, right=0.98, bottom=0.55 / height + 0.04, top=1 - 0.45 / height, wspace=0.06)
        for ax, col, label in (
            (axes[0], "fit_time_s", "fit time (seconds, log scale)"),
            (axes[1], "peak_memory_mb", "peak fit memory (MB, log scale, floored at 0.1)"),
        ):
            data = [at.loc[at["config"] == c, col].dropna().clip(lower=1e-4 if col == "fit_time_s" else 0.1).to_numpy() for c in configs]
            data = [d if d.size else np.array([np.nan]) for d in data]
            box = ax.boxplot(data, orientation="horizontal", patch_artist=True, widths=0.6, flierprops={"ms": 2})
            for patch, c in zip(box["boxes"], configs, strict=True):
                patch.set_facecolor(pal.color(conf.loc[c, "model"]))
                patch.set_alpha(0.6)
            ax.set_xscale("log")
            ax.set_xlabel(label)
            ax.grid(alpha=0.25, axis="x")
        axes[0].set_yticks(range(1, len(configs) + 1), [plain(c) for c in configs])
        for tick, c in zip(axes[0].get_yticklabels(), configs, strict=True):
            tick.set_color(FAMILY_COLORS.get(str(conf.loc[c, "family"]), "black"))
        fit_left(fig, axes[0])
        fig.suptitle("Cost by configuration, over datasets and seeds at each dataset's largest training size", fontsize=9)
        return [Figure(
            "costs-by-model.png",
            "Fit time and peak memory by configuration",
            "Fit time and peak fit memory of each configuration (labels: blue classical, red deep; "
            "boxes in the model's colour), one box over all datasets and seeds at each dataset's "
            "largest training size.",
            png(fig),
        )]


# ---------------------------------------------------------------- all of them


def all_figures(ms: Measurements | pd.DataFrame, verdicts=()) -> dict[str, list[Figure]]:
    """Every figure of the report, by place: `headline`, `claim:<key>`, `ranks` and the appendix.

    `ms`: the table's `Measurements` (finished cells alone are measured here, for this call);
    `verdicts` (`bench.report.claims.Verdict`, evaluated on these same measurements) draw
    their claims' figures from their own evidence: `verdict.figures(ok, palette)`.
    """
    ms = Measurements(ms, ok=ms) if isinstance(ms, pd.DataFrame) else ms  # finished cells: their own table
    ok = ms.ok
    out: dict[str, list[Figure]] = {"headline": [], "ranks": [], "learning_curves": [], "score_vs_time": [], "costs": []}
    if ok.empty:
        return out
    pal = Palette.of(ok)
    out["headline"] = headline(ms.comparisons)
    for v in verdicts:
        figs = v.figures(ok, pal)
        if figs:
            out[f"claim:{v.key}"] = figs
    out["ranks"] = critical_difference(ok)
    out["learning_curves"] = learning_curves(ok, pal)
    out["score_vs_time"] = score_vs_time(ok, pal)
    out["costs"] = costs_by_model(ok, pal)
    return out
