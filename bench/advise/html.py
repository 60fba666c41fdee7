"""`bench advise`, step 6: the answer as one self-contained HTML page (figures embedded as PNG).

Plain language first, then the figures (learning curves with their extrapolation, score
against training cost), then the tables, the plan with estimated and actual times, and links
to the full report, the suite and the results of the run folder.
"""

from __future__ import annotations

import base64
import html
import io
import math

import numpy as np

from bench.advise.answer import Answer, _pct, _s, _size, headline, params_text
from bench.advise.curves import CROSSOVER_HORIZON, _error
from bench.advise.inspect import Profile

COLORS = {"classical": "#1f63a8", "deep": "#c8312c", "hybrid": "#6a3d9a"}
CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif; max-width: 1050px;
       margin: 1.5em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
p.answer { font-size: 1.08em; } p.small { font-size: 0.85em; color: #555; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.45em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 1em 0; } figure img { width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #555; } ul.caveats li { margin: 0.2em 0; }
code, pre { background: #f6f6f6; } pre { padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
"""


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def curves_figure(a: Answer) -> str | None:
    """Error against training rows (log-log), each family's measured points and its extrapolation."""
    if not a.curves:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10.5, 4.2))
    n_top = a.n_train
    trusted = a.crossover is not None and a.crossover.reliable
    far = n_top * (min(CROSSOVER_HORIZON, max(4, 2 * a.crossover.median / n_top))
                   if a.crossover and math.isfinite(a.crossover.median) else 8)
    for g, c in a.curves.items():
        color = COLORS.get(g, "#555")
        err = _error(c.scores.to_numpy())
        mean = _error(c.means.to_numpy())
        ax.plot(c.sizes, mean, "o-", color=color, label=f"{g} (measured)")
        for j in range(err.shape[1]):
            ax.plot(c.sizes, err[:, j], ".", color=color, alpha=0.35)
        if math.isfinite(c.slope) and trusted:  # no line drawn into the future from curves too noisy for a trend
            xs = np.geomspace(c.sizes[-1], far, 30)
            ax.plot(xs, mean[-1] * (xs / c.sizes[-1]) ** c.slope, "--", color=color,
                    label=f"{g} extrapolated ({_pct(c.per_doubling)} less error per doubling)")
    cr = a.crossover
    if cr and trusted and cr.in_sight >= 0.5 and math.isfinite(cr.median):
        hi = cr.hi if math.isfinite(cr.hi) else far
        ax.axvspan(max(cr.lo, n_top), min(hi, far), color="#999", alpha=0.15, label="crossover, 95% interval")
        ax.axvline(cr.median, color="#555", lw=1)
    ax.axvline(n_top, color="#222", lw=0.8, ls=":")
    ax.text(n_top, 0.02, " your data" if n_top >= a.n_pool else " the budget's top size", va="bottom", fontsize=8, transform=ax.get_xaxis_transform())
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training rows")
    ax.set_ylabel(f"error (1 - {a.metric})")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, which="both", alpha=0.2)
    fig.tight_layout()
    return _png(fig)


def cost_figure(a: Answer) -> str | None:
    """Score against training time (search included) of every configuration at the full size."""
    if not len(a.configs):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.2))
    t = a.configs
    train = (t["fit_s"].fillna(0) + t["search_s"].fillna(0)).clip(lower=1e-3)
    for g in t["group"].unique():
        m = t["group"] == g
        ax.scatter(train[m], t["score"][m], color=COLORS.get(g, "#555"), label=g, s=40)
        for x, y, label in zip(train[m], t["score"][m], t["config"][m], strict=True):
            ax.annotate(label, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.axhline(a.chance, color="#999", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("training time per cell, search included (s)")
    ax.set_ylabel(f"test {a.metric}")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.2)
    fig.tight_layout()
    return _png(fig)


def _table(header: list[str], rows: list[list], numeric=()) -> str:
    out = ["<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>"]
    for r in rows:
        cells = "".join(f'<td class="num">{_e(v)}</td>' if j in numeric else f"<td>{_e(v)}</td>" for j, v in enumerate(r))
        out.append(f"<tr>{cells}</tr>")
    out.append("</table>")
    return "\n".join(out)


def _fig(data: str | None, alt: str, caption: str) -> str:
    if data is None:
        return ""
    return (f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def page(a: Answer, profile: Profile, *, plan_lines: list[str], timing: list[list], command: str,
         rerun: str, report_ok: bool) -> str:
    title = f"Classical or deep for {profile.source}?"
    body = [f"<h1>{_e(title)}</h1>", f'<p class="small">{_e(command)}</p>']
    body += [f'<p class="answer">{_e(line)}</p>' for line in headline(a, profile)]
    if a.caveats:
        body.append("<p><b>Caveats</b></p><ul class='caveats'>" + "".join(f"<li>{_e(c)}</li>" for c in a.caveats) + "</ul>")
    links = ['<a href="suite.toml">suite.toml</a> (the generated suite: edit and rerun it)',
             '<a href="results.csv">results.csv</a> (every cell)', '<a href="advice.json">advice.json</a>']
    if report_ok:
        links.insert(0, '<a href="report.html">the full report</a> (every figure and statistic of the run)')
    body.append("<p>" + " · ".join(links) + "</p>")
    body.append("<h2>Learning curves</h2>")
    body.append(_fig(curves_figure(a), "learning curves",
                     "Error of each family's best default configuration at each training size (dots: seeds), "
                     "and its extrapolation from the largest sizes' slope. Shaded: where the curves would cross "
                     "(95% interval over resampled seeds)."))
    if a.curves:
        rows = [[g, f"{n:,}", f"{v:.3f}"] for g, c in a.curves.items() for n, v in zip(c.sizes, c.means, strict=True)]
        body.append(_table(["family", "training rows", f"mean {a.metric}"], rows, numeric=(1, 2)))
    body.append("<h2>Costs</h2>")
    body.append(_fig(cost_figure(a), "score against training time",
                     f"Every configuration at {a.n_train:,} training rows: test {a.metric} against training time "
                     "(the final fit plus any search); dotted: chance."))
    if len(a.configs):
        rows = []
        for r in a.configs.itertuples():
            rows.append([r.config, r.group, f"{r.score:.3f}", "-" if not math.isfinite(r.sd) else f"{r.sd:.3f}",
                         "-" if not math.isfinite(r.val_score) else f"{r.val_score:.3f}", _s(r.fit_s), _s(r.search_s),
                         _s(r.predict_ms_per_1000 / 1000), f"{r.latency_ms:.2f}", f"{r.peak_memory_mb:.0f}",
                         _size(r.model_kb), f"{r.n_params:,.0f}" if math.isfinite(r.n_params) else "?",
                         f"{r.score_above_chance_per_train_s:.3f}", r.device])
        body.append(_table(["configuration", "group", a.metric, "sd", "validation", "fit", "search", "predict 1,000 rows",
                            "latency ms", "peak MB", "model size", "parameters", "score/s", "device"],
                           rows, numeric=tuple(range(2, 13))))
        body.append(f'<p class="small">score/s: {_e(a.metric)} above chance ({a.chance:.3f}) per second of training, '
                    "search included. Mean over seeds; costs are medians.</p>")
    body.append("<h2>Best configuration of each family</h2>")
    for g, b in a.best.items():
        body.append(f"<p><b>{_e(g)}: {_e(b.config)}</b>, test {_e(a.metric)} {b.mean:.3f} "
                    f"(chosen on {_e(b.chosen_on)} rows; {_e(params_text(b))})</p>")
        body.append(f"<pre>{_e(_params_json(b.params))}</pre>")
    body.append("<h2>The data</h2><ul>" + "".join(f"<li>{_e(line)}</li>" for line in profile.lines()) + "</ul>")
    body.append("<h2>The plan and its time</h2><ul>" + "".join(f"<li>{_e(line)}</li>" for line in plan_lines) + "</ul>")
    body.append(_table(["step", "estimated", "actual"], timing, numeric=(1, 2)))
    body.append(f"<p>Rerun or extend: <code>{_e(rerun)}</code></p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def _params_json(params: dict) -> str:
    import json

    return json.dumps(params, indent=1, sort_keys=True, default=str)
