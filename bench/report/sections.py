"""The report's content as a list of blocks (bench.report.document), in the reader's order.

The answer first (a summary to quote and the headline figure), then each claim with its
verdict, its picture, how sure it is and its evidence as a table (long tables collapsed
in the HTML, in full in the Markdown), then the statistics across datasets, published
figures, per-dataset detail, failed cells and provenance.
Only bench.report.formats turns the blocks into Markdown and HTML.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd

from bench.registry import first_line
from bench.report import analysis, claims, external, plots, stats
from bench.report import ranks as ranks_mod
from bench.report.answer_sentences import answer
from bench.report.document import Block
from bench.report.document import details as _details
from bench.report.document import figure_block as _figure
from bench.report.document import heading as _h
from bench.report.document import table as _table
from bench.report.measurements import Measurements

_SEED_REF = re.compile(r"\bseeds? (\d{3}(?:(?:, | and )\d{3})*)\b")
_CJK_GLOSS = re.compile(r"\s*[(（]([^()（）]*[\u3400-\u9fff][^()（）]*)[)）]")
SOURCES_NOTE = (
    "The source documents are five introductory articles in Chinese on machine learning and deep learning, "
    "numbered 000 to 004 (the files seeds/000_….txt to seeds/004_….txt; CLAIMS.md lists the claims taken from "
    "each): \"source document 002, section 1.3\" is a section of the third article, not a random seed."
)


def documents_named(text: str) -> str:
    """The claims' references to their source documents as documents: "seed 002, §1.1" reads like
    a random seed; "source document 002, §1.1" does not."""
    def named(m: re.Match) -> str:
        nums = re.findall(r"\d{3}", m.group(1))
        if len(nums) == 1:
            return f"source document {nums[0]}"
        return "source documents " + _and(nums)
    return _SEED_REF.sub(named, str(text))


_HARDWARE = re.compile(r"\s*\(hardware: ([^()]*)\)")


def hardware_once(text: str) -> str:
    """A claim's "(hardware: classical on cpu; deep on cpu; ...)" as "(one CPU for all)" when every family
    ran on the CPU: the answer names the machine once; a text naming other devices is kept."""
    def once(m: re.Match) -> str:
        devices = {part.rpartition(" on ")[2].strip() for part in m.group(1).split(";")}
        return " (one CPU for all)" if devices == {"cpu"} else m.group(0)
    return _HARDWARE.sub(once, str(text))


def second_line_gloss(text: str) -> str:
    """The Chinese wording in parentheses moved to a second line ("English\n中文"), for a table cell."""
    glosses = [m.group(1).strip() for m in _CJK_GLOSS.finditer(str(text))]
    if not glosses:
        return str(text)
    return _CJK_GLOSS.sub("", str(text)).strip() + "\n" + "；".join(glosses)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _verdict_section(verdicts: list[claims.Verdict], table: bool, figures: dict) -> list[Block]:
    blocks = []
    g = second_line_gloss

    def dn(text: str) -> str:
        return hardware_once(documents_named(text))

    if table:
        rows = [(g(dn(v.aspect)), g(v.classical), g(v.deep), v.verdict, dn(v.reason)) for v in verdicts]
        blocks.append(_table(
            ("Aspect", "Classical ML (claim)", "Deep learning (claim)", "Verdict", "Why (measured)"),
            rows, anchor="comparison-table", summary="-",
        ))
    else:
        rows = [(g(dn(v.aspect)), g(v.deep), v.verdict, dn(v.reason)) for v in verdicts]
        blocks.append(_table(("Claim", "The documents say", "Verdict", "Why (measured)"), rows, anchor="further-claims-table", summary="-"))
    for v in verdicts:
        blocks.append(_h(3, f"{dn(v.aspect)}: {v.verdict}", anchor=f"claim-{v.key}"))
        claim = f"classical ML {v.classical}; deep learning {v.deep}" if v.classical else v.deep
        reason = dn(v.reason)
        blocks.append(Block("p", f"Verdict: {v.verdict}. {reason[:1].upper() + reason[1:]}.", cls=f"verdict-line v-{v.verdict.replace(' ', '-')}"))
        blocks.append(Block("p", f"The claim: {claim}."))
        blocks += [_figure(dataclasses.replace(f, title=dn(f.title), caption=dn(f.caption)))
                   for f in figures.get(f"claim:{v.key}", [])]
        if v.picture:
            blocks.append(Block("p", dn(v.picture)))
        if v.certainty:
            blocks.append(Block("p", f"How sure: {dn(v.certainty)}"))
        if v.missing:
            blocks.append(Block("p", f"Missing cells: {v.missing}"))
        if v.evidence:
            blocks.append(evidence_table([{k: dn(x) if isinstance(x, str) else x for k, x in r.items()} for r in v.evidence]))
        version = v.claim.version if v.claim is not None else 1
        blocks.append(Block("p", f"Rule (version {version}): {dn(v.rule)}", cls="rule"))
    return blocks


def evidence_table(rows) -> Block:
    """A claim's evidence rows (dicts) as one table, columns in first-seen order."""
    header = list(dict.fromkeys(k for r in rows for k in r))
    return _table(header, [tuple(r.get(k, "") for k in header) for r in rows], summary=f"Evidence: {_plural(len(rows), 'row')}")


def _statistics(ms: Measurements, figs: list[plots.Figure]) -> list[Block]:
    """Average ranks, the Friedman test and the critical-difference diagram, over datasets."""
    ok = ms.ok
    blocks = [_h(2, "Statistics across datasets", anchor="statistics")]
    fam = stats.family_ranks(ms.wins)
    if fam is not None:
        p = "n/a" if not np.isfinite(fam.wilcoxon_p) else f"{fam.wilcoxon_p:.2g}"
        blocks.append(Block("p", (
            f"Best deep against best classical, per dataset at its largest compared size ({_plural(fam.n_datasets, 'dataset')}): "
            f"average rank {fam.deep:.2f} for deep and {fam.classical:.2f} for classical (1 = ahead everywhere). "
            f"Wilcoxon signed-rank test of the differences: p = {p}."
        )))
    comp = ms.comparisons
    if not comp.empty:
        at = comp[comp.groupby("dataset")["n_train"].transform("max") == comp["n_train"]]
        sr = stats.signed_rank(list(at["diff"]), analysis.MARGIN)
        if sr is not None:
            blocks.append(Block("p", (
                "The same differences (each family's best on equal terms or the modality's pairing) in the Bayesian signed-rank "
                f"test with a region of practical equivalence of ± {analysis.MARGIN}: P(classical ahead) = "
                f"{sr.below:.2f}, P(within) = {sr.within:.2f}, P(deep ahead) = {sr.above:.2f} over "
                f"{_plural(sr.n_datasets, 'dataset')}."
            )))
    by_name = {f.name: f for f in figs}
    per = ranks_mod.modality_ranks(ok)
    if not per:
        blocks.append(Block("p", "No ranks: no finished cells."))
    blocks.append(Block("p", (
        "Ranks per modality: within each modality, every configuration that ran on all of its ranked datasets "
        "(each at its largest size) is ranked per dataset (1 = best test score) and the ranks averaged. The "
        "diagram and the table below it show the same ranks; what is left out is named with the reason."
    )))
    for mr in per:
        blocks.append(_h(3, f"Ranks: {mr.modality} data", anchor=f"ranks-{mr.modality}"))
        test = mr.friedman
        if test is None:
            n_d, n_c = mr.scores.shape
            blocks.append(Block("p", (
                f"No Friedman test or diagram on {mr.modality} data: it needs three configurations on two datasets, "
                + (f"and only one {mr.modality} dataset ({mr.scores.index[0]}) is ranked: the ranks below are its "
                   "scores' order." if n_d == 1 else f"and {_plural(n_c, 'configuration')} ran on all {n_d} of them.")
            )))
        else:
            blocks.append(Block("p", (
                f"Friedman test over the {test.n_configs} configurations that ran on all {test.n_datasets} ranked "
                f"{mr.modality} datasets: χ² = {test.statistic:.3g}, p = {test.p:.2g}"
                + (". They do not all rank alike." if test.p < 0.05 else ". No evidence that they rank differently.")
            )))
        name = f"critical-difference-{plots.slug(mr.modality)}.png"
        if name in by_name:
            blocks.append(_figure(by_name[name]))
        r = mr.ranks()
        if len(r):
            blocks.append(_table(
                ("configuration", "family", "average rank", "datasets"),
                [(c, mr.families.get(c, ""), f"{v:.2f}", mr.scores.shape[0]) for c, v in r.items()],
                anchor=f"ranks-{mr.modality}-table", summary=f"Average ranks on {mr.modality} data ({len(r)})",
            ))
        if name not in by_name:  # a diagram names what it leaves out in its caption
            blocks.append(Block("p", mr.left_out_text(), cls="small"))
    return blocks


def _tuning_blocks(ok: pd.DataFrame) -> list[Block]:
    """Default against tuned, per model: what the equal-budget search bought, and what it cost."""
    pairs = analysis.default_vs_tuned(ok)
    if pairs.empty:
        return []
    rows = []
    for (model, features), g in pairs.groupby(["model", "features"], sort=True):
        iv = stats.bootstrap_ci(g, "diff")
        rows.append((
            model, features, g["dataset"].nunique(), int(len(g)), f"{g['default'].mean():.3f}",
            f"{g['tuned'].mean():.3f}", iv.text(), _num(g["search_cpu_s"].mean(), ".3g"),
        ))
    partial = analysis.partial_configs(ok)
    note = (
        "At each dataset's largest size, on the seeds both ran: the mean test score with the model's "
        "defaults and after the suite's random search (chosen on validation rows, refit on all training "
        "rows), the difference with a 95% bootstrap interval over datasets and seeds, and the search's "
        "CPU seconds per tuned cell (counted in the model's cost)."
    )
    if partial:
        note += (
            f" {_plural(len(partial), 'configuration')} ran on fewer seeds than the others at their size "
            "(this suite tunes on fewer seeds than it runs defaults): they are shown here and in the "
            "figures but do not enter the choice of a family's best configuration, since a verdict on "
            "one seed would have no interval."
        )
    return [
        _h(3, "Default and tuned", anchor="default-vs-tuned"),
        Block("p", note),
        _table(("model", "features", "datasets", "pairs", "default", "tuned", "tuned − default", "search CPU s"),
               rows, anchor="default-vs-tuned-table"),
    ]


def _selection_blocks(ok: pd.DataFrame) -> list[Block]:
    """Ties met in choosing each family's best, and each family's selection regret (a diagnostic)."""
    sel = analysis.selections(ok)
    if sel.empty:
        return []
    rows = []
    for fam, g in sel.groupby("family", sort=True):
        r = g["regret"].astype("float64")
        rows.append((fam, len(g), int((g["tied"] != "").sum()), f"{r.mean():.3f}", f"{r.median():.3f}", f"{r.max():.3f}"))
    blocks = [
        _h(3, "Ties and selection regret", anchor="selection"),
        Block("p", (
            "Each family's best configuration at each (dataset, size). A tie is two or more candidates within one "
            "validation row of the top (1 / validation rows): the highest mean selection score (cross-validated or "
            "validation) is chosen and the others are named beside it (the choice among them is within one row's "
            "noise). Selection regret is the "
            "best test score among the candidates minus the chosen one's: what choosing on validation rows cost "
            "on the test rows. It is a diagnostic only and never used to choose."
        )),
        _table(("family", "choices", "with a tie", "mean regret", "median regret", "largest regret"), rows,
               anchor="regret-table"),
    ]
    tied = sel[sel["tied"] != ""]
    if not tied.empty:
        blocks.append(_table(
            ("dataset", "n_train", "family", "chosen (highest score)", "tied with it", "regret"),
            [(r.dataset, r.n_train, r.family, r.chosen, r.tied, f"{r.regret:.3f}") for r in tied.itertuples()],
            anchor="ties-table", summary=f"Ties: {_plural(len(tied), 'choice')}",
        ))
    return blocks


def _selection_note(ok: pd.DataFrame) -> str:
    basis = analysis.selection_basis(ok)
    cv = analysis.selection_column(ok) == "val_score_cv"
    if basis == "validation":
        return ("Every best configuration here was chosen on " + ("cross-validated scores of the training rows."
                                                                   if cv else "validation scores."))
    if basis == "partly":
        return ("Some cells of this run lack a validation score. Where a choice involved one of "
                "them, it fell back to test scores, as before validation scores existed.")
    return ("This run's cells carry no validation score (a table from before they existed). "
            "Every best configuration therefore fell back to being chosen on test scores, "
            "which favours the family with more configurations.")


def _summary_rows(ok: pd.DataFrame, devices: bool = True) -> list[tuple]:
    rows = []
    if ok.empty:
        return rows
    largest = ok.groupby("dataset")["n_train"].transform("max") == ok["n_train"]
    at = ok[largest]
    chosen = set()
    for (dataset, _fam), g in at.groupby(["dataset", "family"], sort=True):
        b = analysis.best(g)
        if b is not None:
            chosen.add((dataset, b.label))
    for (dataset, family, config), g in at.groupby(["dataset", "family", "config"], sort=True):
        row = (
            dataset, int(g["n_train"].iloc[0]), family, config + (" *" if (dataset, config) in chosen else ""),
            analysis.fmt_spread(g["score"]),
            analysis.fmt_spread(g["val_score"]).split(" (")[0] if "val_score" in g else "n/a",
            analysis.fmt_spread(g["train_score"]).split(" (")[0],
            _num(g["fit_time_s"].mean(), ".3g"), _num(g["predict_latency_ms"].mean(), ".3g"),
            _num(g["peak_memory_mb"].mean(), ".3g"), analysis.fmt_count(float(g["n_params"].median())),
        )
        if devices:
            row += (", ".join(sorted(g["device"].fillna("cpu").astype(str).unique())) if "device" in g else "cpu",)
        rows.append(row)
    return rows


def _one_device(ok: pd.DataFrame) -> str | None:
    """The device every finished cell ran on, or None when they differ."""
    devs = set(ok["device"].fillna("cpu").astype(str)) if "device" in ok.columns else {"cpu"}
    return devs.pop() if len(devs) == 1 else None


def _num(x: float, spec: str) -> str:
    return "n/a" if x is None or not np.isfinite(x) else format(x, spec)


def _win_rows(rec: pd.DataFrame) -> list[tuple]:
    rows = []
    for (modality, n), g in rec.groupby(["modality", "n_train"], sort=True):
        rows.append((
            modality, int(n), len(g), int((g["winner"] == "deep").sum()),
            int((g["winner"] == "classical").sum()), int((g["winner"] == "tie").sum()),
            f"{analysis.win_rate(g):.0%}", ", ".join(sorted(g["dataset"].unique())),
        ))
    return rows


def _failed_rows(df: pd.DataFrame, cores: int | None = None) -> list[tuple]:
    if df.empty:
        return []
    bad = df[df["status"] != "ok"].sort_values(["dataset", "model", "features", "n_train", "seed"])
    rows = []
    for _, r in bad.iterrows():
        info = "" if pd.isna(r["info"]) else str(r["info"])
        first = first_line(info) or "(no error text)"
        rows.append((r["dataset"], r["model"], r["features"], int(r["n_train"]), int(r["seed"]),
                     analysis.status_label(r, cores), first[:400]))
    return rows


def _failed_note(rows: list[tuple]) -> str:
    loaded = sum(1 for r in rows if str(r[5]).startswith("timeout (load"))
    if not loaded:
        return ""
    return (f"{_plural(loaded, 'timeout')} came under a wall-time limit while the load average exceeded the "
            "machine's cores: the cell may be healthy and the machine busy. `bench run SUITE --resume DIR "
            "--retry-timeouts` on a quieter machine reruns them; `limit = \"cpu\"` in the suite counts CPU "
            "seconds, which load does not inflate.")


def _tree_state(git: dict) -> str:
    """Whether the code that ran was the commit's: environment.json's git.dirty and git.untracked."""
    dirty, untracked = git.get("dirty"), git.get("untracked")
    if not git.get("commit"):
        return "unknown"
    if dirty is None:
        return "unknown (git could not compare it; the commit was read from the repository's files)"
    state = "uncommitted changes to tracked files" if dirty else "clean: tracked files as committed"
    if untracked:
        state += f"; {_plural(int(untracked), 'untracked file')}"
    return state


def _provenance(env: dict | None, df: pd.DataFrame) -> list[Block]:
    if env is None:
        return [Block("p", "environment.json is missing from the run folder: hardware, versions and commit are unknown.")]
    cpu = env.get("cpu") or {}
    git = env.get("git") or {}
    threads = env.get("threads") or {}
    suite = env.get("suite") or {}
    libs = env.get("libraries") or {}
    gpus = env.get("gpu") or []
    rows = [
        ("date of the run", env.get("created", "unknown")),
        ("suite", f"{suite.get('name', 'unknown')} ({suite.get('path', '?')}, sha256 {str(suite.get('sha256', '?'))[:12]})"),
        ("commit", git.get("commit") or "unknown: the run recorded none"),
        ("working tree", _tree_state(git)),
        ("host", env.get("host", "unknown")),
        ("CPU", f"{cpu.get('model', 'unknown')}; {cpu.get('cores_physical', '?')} physical / {cpu.get('cores_logical', '?')} logical cores"),
        ("memory", f"{env.get('memory_gb', '?')} GB"),
        ("GPU", ", ".join(f"{g.get('name')} ({g.get('memory_gb')} GB)" for g in gpus) or "none"),
        ("OS", env.get("os", "unknown")),
        ("Python", env.get("python", "unknown")),
        ("threads", f"{threads.get('per_cell', '?')} per cell, {threads.get('jobs', '?')} cell(s) at once"),
        ("thread variables", ", ".join(f"{k}={v}" for k, v in sorted((threads.get("env") or {}).items())) or "none"),
    ]
    rows += [(f"{lib}", str(v)) for lib, v in sorted(libs.items())]
    if not df.empty and "device" in df:
        devices = sorted(str(d) for d in df["device"].dropna().unique())
        rows.append(("devices used by cells", ", ".join(devices) or "unknown"))
    blocks = [_table(("", "value"), rows, anchor="provenance")]
    if suite.get("content"):
        blocks.append(Block("p", "The suite as run:"))
        blocks.append(Block("pre", str(suite["content"])))
    return blocks


def _run_line(df: pd.DataFrame, env: dict | None, planned: int | None) -> str:
    date = (env or {}).get("created", "unknown date")
    if df.empty:
        return f"Run of {date}: no cells."
    n_fail = int((df["status"] != "ok").sum())
    return (
        f"Run of {date}: "
        + (f"{planned} cells planned, {planned - len(df)} of them not run (an interrupted run); " if planned and planned > len(df) else "")
        + f"{len(df)} cells, {len(df) - n_fail} ok, {n_fail} failed. "
        f"{df['dataset'].nunique()} datasets ({', '.join(sorted(df['modality'].astype(str).unique()))}), "
        f"{df['model'].nunique()} models ({', '.join(sorted(df['family'].astype(str).unique()))}), "
        f"feature variants {', '.join(sorted(df['features'].astype(str).unique()))}, "
        f"training sizes {', '.join(str(n) for n in sorted(df['n_train'].unique()))}, "
        f"{seeds_text(df)}."
    )


def seeds_text(df: pd.DataFrame) -> str:
    """How many seeds ran, counted per (dataset, training size): "3 seeds" when every size ran as many,
    else where fewer ran ("1–3 seeds per training size (1 seed on fashion_mnist from 10,000 training rows,
    letter at 5,000; 3 at every other size)"), as a suite's `one_seed_from` leaves its largest sizes."""
    per = df.groupby(["dataset", "n_train"], observed=True)["seed"].nunique()
    per = per[per > 0]
    if per.empty:
        return "no seeds"
    top, low = int(per.max()), int(per.min())
    if low == top:
        return _plural(top, "seed")
    parts = []
    for k, fewer in per[per < top].groupby(per[per < top]):
        items = []
        for ds, g in fewer.groupby(level="dataset", observed=True):
            ns = sorted(int(n) for n in g.index.get_level_values("n_train"))
            sizes = sorted(int(n) for n in per.loc[ds].index)
            rows = "" if items else " training rows"
            if len(ns) > 1 and ns == sizes[sizes.index(ns[0]):]:
                items.append(f"{ds} from {ns[0]:,}{rows}")
            else:
                items.append(f"{ds} at {_and([f'{n:,}' for n in ns])}{rows}")
        parts.append(f"{_plural(int(k), 'seed')} on " + ", ".join(items))
    return f"{low}–{top} seeds per training size (" + "; ".join(parts) + f"; {top} at every other size)"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def build_blocks(
    df: pd.DataFrame,
    env: dict | None,
    figures: dict[str, list[plots.Figure]],
    table: list[claims.Verdict] | None = None,
    planned: int | None = None,
    further: list[claims.Verdict] | None = None,
    ms: Measurements | None = None,
) -> list[Block]:
    ms = Measurements(df, analysis.cores_of(env)) if ms is None else ms
    ok, cores = ms.ok, ms.cores
    table = claims.table_verdicts(ms) if table is None else table
    further = claims.further_verdicts(ms) if further is None else further
    suite = ((env or {}).get("suite") or {}).get("name") or "unknown suite"
    blocks = [
        _h(1, f"bench report: {suite}"),
        _h(2, "The answer", anchor="answer"),
        Block("list", "In short:", items=tuple(answer(ms, table, env)), cls="answer"),
        *[_figure(f) for f in figures.get("headline", [])],
        Block("p", _run_line(df, env, planned), cls="small"),
        _h(2, "The comparison table, measured", anchor="comparison"),
        Block("p", (
            "The documents' comparison of classical machine learning and deep learning (source document 002, "
            "section 1.3), row by row. Each row has a verdict: supported, refuted, mixed (evidence both "
            "ways), inconclusive (within noise) or not measurable. Below the table, each row has its "
            "picture, how sure the verdict is, its evidence and its rule. The rules are one module per "
            f"claim in bench/report/claims/, at version {claims.RULES_VERSION}. They were first written "
            "before any result was seen and have been revised since, after the reference results were "
            "seen; docs/rules-changelog.md lists each revision, its reason, and the reference verdicts "
            "before and after it. " + SOURCES_NOTE
        )),
        *_verdict_section(table, True, figures),
        _h(2, "Further claims of the documents", anchor="further"),
        *_verdict_section(further, False, figures),
        _h(2, "How the rules decide", anchor="conventions"),
        Block("p", f"Conventions of every rule: {claims.CONVENTIONS}"),
        Block("p", claims.CHANGES),
        Block("p", _selection_note(ok)),
        *_selection_blocks(ok),
        *_tuning_blocks(ok),
        *_statistics(ms, figures.get("ranks", [])),
    ]
    blocks += external.blocks(df)
    blocks.append(_h(2, "Per-dataset detail", anchor="detail"))
    for key, title in (
        ("learning_curves", "Learning curves"), ("score_vs_time", "Score against fit time"),
        ("costs", "Fit time and peak memory by configuration"),
    ):
        figs = figures.get(key, [])
        blocks.append(_h(3, title, anchor=key.replace("_", "-")))
        if figs:
            blocks.append(_details(f"{title}: {_plural(len(figs), 'figure')}", [_figure(f) for f in figs]))
        else:
            blocks.append(Block("p", "Not measurable with this run (no finished cells of both families)."))
    wins = _win_rows(ms.wins)
    blocks.append(_h(3, "Win rates by modality and training size"))
    if wins:
        blocks.append(_table(("modality", "n_train", "comparisons", "deep wins", "classical wins", "ties", "deep win rate", "datasets"), wins, anchor="win-rates"))
    else:
        blocks.append(Block("p", "Not measurable with this run: no (dataset, size) has finished deep and classical cells."))
    reach = analysis.size_to_reach(ok) if not ok.empty else pd.DataFrame()
    blocks.append(_h(3, "Training rows to reach 95% of a configuration's own best score"))
    if reach.empty:
        blocks.append(Block("p", "Not measurable with this run: no configuration ran at two or more sizes."))
    else:
        blocks.append(_table(
            ("dataset", "family", "configuration", "n_train"),
            [(r.dataset, r.family, r.config, int(r.n_reach)) for r in reach.sort_values(["dataset", "family", "config"]).itertuples()],
            anchor="size-to-reach",
        ))
    blocks.append(_h(3, "Results at each dataset's largest training size", anchor="results"))
    device = _one_device(ok) if not ok.empty else None
    blocks.append(Block("p", (
        "Test score: mean ± standard deviation over seeds of each configuration; `bench run`'s terminal summary "
        "prints the same mean. * marks each family's configuration chosen on validation among all its "
        "configurations at that size; where the families' candidate or trial counts differ, the verdicts that set "
        "deep against classical, their tables and the headline compare a named pairing's best instead (see the answer)."
        + (f" Every cell ran on the {'CPU' if device == 'cpu' else device}." if device else "")
    )))
    header = ("dataset", "n_train", "family", "configuration", "test score", "validation score", "train score",
              "fit s", "predict ms/row", "peak MB", "params") + (() if device else ("device",))
    blocks.append(_table(header, _summary_rows(ok, devices=device is None), anchor="results-table"))
    failed = _failed_rows(df, cores)
    blocks.append(_h(2, f"Failed cells ({len(failed)})", anchor="failed"))
    if _failed_note(failed):
        blocks.append(Block("p", _failed_note(failed)))
    if failed:
        blocks.append(_table(("dataset", "model", "features", "n_train", "seed", "status", "error"), failed, anchor="failed-table"))
    else:
        blocks.append(Block("p", "None: every cell finished."))
    blocks.append(_h(2, "Provenance", anchor="provenance-section"))
    blocks += _provenance(env, df)
    return blocks
