"""The report: built from saved results only, deterministic, escaped, complete."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from synthetic import grid

from bench.__main__ import main
from bench.report import render

MODELS = {
    "logistic_regression": ("classical", "logistic_regression", "raw", {}),
    "logistic_regression_hog": ("classical", "logistic_regression", "engineered", {}),
    "mlp": ("deep", "mlp", "raw", {}),
    "cnn": ("deep", "cnn", "raw", {}),
}
DATASETS = {"tab": ("tabular", "classification"), "img": ("image", "classification")}
ENV = {
    "created": "2026-11-20T12:00:00+0000",
    "host": "testhost",
    "cpu": {"model": "Test CPU", "cores_logical": 2, "cores_physical": 1},
    "memory_gb": 4.0,
    "gpu": [],
    "os": "Linux",
    "python": "3.11.0",
    "libraries": {"numpy": "2.0", "torch": "2.13.0"},
    "threads": {"per_cell": 2, "jobs": 1, "env": {"OMP_NUM_THREADS": "2"}},
    "git": {"commit": "abc123", "dirty": False},
    "suite": {"name": "synthetic", "path": "suites/x.toml", "sha256": "0" * 64, "content": "[suite]\nname = 'synthetic'\n"},
}


def score(row):
    base = {"logistic_regression": 0.7, "logistic_regression_hog": 0.85, "mlp": 0.8, "cnn": 0.9}[row["model"]]
    out = {"score": base + 0.01 * row["seed"] + 0.02 * (row["n_train"] == 1024)}
    if row["model"] == "cnn":
        out["n_params"] = 2000.0
    if row["dataset"] == "img" and row["model"] == "mlp" and row["seed"] == 2 and row["n_train"] == 64:
        out.update(status="timeout", score=None, info="TimeoutError: cell exceeded 60 s\nmore text")
    return out


def write_run(path: Path, df, env=ENV) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path / "results.parquet", index=False)
    if env is not None:
        (path / "environment.json").write_text(json.dumps(env))
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return write_run(tmp_path_factory.mktemp("run"), grid(score, datasets=DATASETS, models=MODELS))


@pytest.fixture(scope="module")
def built(run_dir):
    return render.build(run_dir)


def test_report_writes_markdown_html_and_figures(built, run_dir):
    assert built.markdown == run_dir / "report.md" and built.markdown.exists()
    assert built.html.exists()
    names = sorted(p.name for p in built.figures)
    assert {"headline.png", "win-rate.png", "costs-by-model.png", "claim-model-complexity.png"} <= set(names)
    assert sum(n.startswith("learning-curve-") for n in names) == 2
    assert sum(n.startswith("score-vs-time-") for n in names) == 2
    md = built.markdown.read_text()
    for name in names:
        assert f"(figures/{name})" in md


def test_comparison_table_has_six_rows_with_a_verdict_each(built):
    md = built.markdown.read_text()
    table = md.split("| Aspect |")[1].split("\n\n")[0].strip().splitlines()[2:]
    assert len(table) == 6
    for row, aspect in zip(table, ("Feature engineering", "Model complexity", "Data requirement",
                                   "Algorithmic innovation", "Application scenarios", "Compute requirement"), strict=True):
        assert row.startswith(f"| {aspect}")
        assert re.search(r"\| (supported|refuted|mixed|inconclusive|not measurable) \|", row)
    # The claims' Chinese wording sits on a second line of each cell, not inline.
    assert "| Algorithmic innovation<br>算法创新 | little<br>算法创新较少 | much<br>算法创新较多 | not measurable |" in md
    assert [v.verdict for v in built.table][1] == "supported"  # deep models are larger here


def test_rules_and_evidence_are_printed(built):
    md = built.markdown.read_text()
    assert md.count("Rule (version ") >= 6 + 7
    assert "before any result was seen" not in md.replace("first written before any result was seen", "")
    assert "revised since, after the reference results were seen" in md and "docs/rules-changelog.md" in md
    assert "± " in md and "seeds)" in md  # spreads across seeds


def test_failed_cells_are_listed_with_their_error(built):
    md = built.markdown.read_text()
    assert "## Failed cells (1)" in md
    assert "| img | mlp | raw | 64 | 2 | timeout | TimeoutError: cell exceeded 60 s |" in md


def test_provenance_comes_from_environment_json(built):
    md = built.markdown.read_text()
    for text in ("2026-11-20T12:00:00+0000", "abc123", "Test CPU", "2 per cell", "torch | 2.13.0"):
        assert text in md


def test_html_is_self_contained(built):
    page = built.html.read_text()
    assert page.count('src="data:image/png;base64,') == len(built.figures)
    assert not re.search(r'(src|href)="(?!data:|#)', page)  # no external assets
    assert '<table id="comparison-table">' in page


def test_report_is_rebuilt_from_rows_when_parquet_is_missing(tmp_path):
    df = grid(score, datasets={"tab": DATASETS["tab"]}, models=MODELS, sizes=(64, 256), seeds=(0,))
    run = tmp_path / "run"
    run.mkdir()
    with open(run / "rows.jsonl", "w") as fh:
        for row in df.to_dict("records"):
            fh.write(json.dumps({k: (None if v is None or v != v else v) for k, v in row.items()}, default=str) + "\n")
    report = render.build(run)
    assert "environment.json is missing" in report.markdown.read_text()


def test_every_string_from_the_data_is_escaped(tmp_path):
    evil = "<script>alert(1)</script>"
    df = grid(
        lambda r: {"score": 0.8, "info": None},
        datasets={evil: ("image", "classification"), "a|b*c $x^2$": ("tabular", "classification")},
        models={"<img src=x onerror=alert(2)>": ("classical", "knn", "raw", {}), "mlp": MODELS["mlp"]},
        sizes=(64, 128), seeds=(0, 1),
    )
    df.loc[0, "status"] = "error"
    df.loc[0, "info"] = "ValueError: <b>bold</b> & friends"
    env = {**ENV, "host": "<i>host</i>", "suite": {**ENV["suite"], "content": "name = '</pre><script>x</script>'"}}
    report = render.build(write_run(tmp_path / "run", df, env))
    page = report.html.read_text()
    scripts = re.findall(r"<script", page, flags=re.I)
    assert scripts == []
    assert "<img src=x" not in page and "<b>bold" not in page and "<i>host" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    md = report.markdown.read_text()
    assert evil not in md and "<img src=x" not in md and "<b>bold" not in md
    assert "a\\|b\\*c $x^2$" in md


def test_report_of_a_run_without_deep_models_says_not_measurable(tmp_path):
    df = grid(lambda r: 0.8, models={"lr": MODELS["logistic_regression"]})
    report = render.build(write_run(tmp_path / "run", df))
    assert [v.verdict for v in report.table] == ["not measurable"] * 6
    assert "not measurable with this run" in report.markdown.read_text()


def test_cli_report_rebuilds_a_byte_identical_report(run_dir, built, tmp_path, capsys):
    assert main(["report", str(run_dir), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Model complexity (模型复杂度): supported" in out
    assert (tmp_path / "report.md").read_bytes() == built.markdown.read_bytes()
    assert (tmp_path / "report.html").read_bytes() == built.html.read_bytes()
    again = sorted((tmp_path / "figures").glob("*.png"))
    assert [p.name for p in again] == sorted(p.name for p in built.figures)
    for a, b in zip(sorted(built.figures), again, strict=True):
        assert a.read_bytes() == b.read_bytes()


def test_cli_report_of_a_folder_without_results_fails_cleanly(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "no results.parquet" in capsys.readouterr().err


def test_report_of_a_run_where_every_cell_failed(tmp_path):
    df = grid(lambda r: {"score": None, "status": "error", "info": "RuntimeError: boom"}, sizes=(64,), seeds=(0,))
    report = render.build(write_run(tmp_path / "run", df))
    md = report.markdown.read_text()
    assert [v.verdict for v in report.table] == ["not measurable"] * 6
    assert report.figures == [] and f"## Failed cells ({len(df)})" in md and "RuntimeError: boom" in md


# --------------------------------------------------------------- read in two minutes


def section(md: str, heading: str) -> str:
    """The Markdown from a heading to the next heading of the same or a higher level."""
    level = heading.split(" ")[0]
    start = md.index(heading + "\n")
    rest = md[start + len(heading):]
    ends = [m.start() for m in re.finditer(r"\n#{1," + str(len(level)) + "} ", rest)]
    return heading + (rest[: ends[0]] if ends else rest)


def test_the_answer_comes_first_with_the_headline_figure(built):
    md = built.markdown.read_text()
    headings = re.findall(r"^## (.+)$", md, flags=re.M)
    assert headings[0] == "The answer"
    answer = section(md, "## The answer")
    assert "(figures/headline.png)" in answer
    assert "the best deep model is ahead on" in answer and "95% interval" in answer
    assert "fit CPU time" in answer and "Verdicts on the documents' six rows" in answer


def test_each_claim_has_its_picture_verdict_certainty_evidence_and_rule_in_its_own_section(built):
    md = built.markdown.read_text()
    claim = section(md, "### Model complexity (模型复杂度): supported")
    assert "(figures/claim-model-complexity.png)" in claim
    assert "Verdict: supported." in claim
    assert "How sure:" in claim and "Rule (version 3):" in claim
    assert "| dataset | n_train | deep larger |" in claim
    data = section(md, "### Data requirement (数据量需求): " + next(v.verdict for v in built.table if v.key == "data_requirement"))
    assert "headline figure" in data and "95% intervals per dataset counting the test rows" in data


def test_a_verdict_says_which_cells_failed_and_whether_they_could_change_it(built):
    md = built.markdown.read_text()
    assert "Missing cells: 1 timeout cell(s): img/mlp/raw/n=64/seed 2 (timeout)." in md
    assert "Whatever their scores, the verdict stays" in md or "the verdict could be" in md


def test_long_tables_are_collapsed_in_html_and_complete_in_markdown(built):
    page, md = built.html.read_text(), built.markdown.read_text()
    results = section(md, "### Results at each dataset's largest training size")
    n_rows = results.count("\n| ") - 1  # less the header
    assert n_rows > 6
    assert f'<details><summary>Table: {n_rows} rows</summary><table id="results-table">' in page
    assert '<table id="comparison-table">' in page  # the six rows stay open
    assert "<details><summary>Learning curves: 2 figures</summary>" in page


def test_html_declares_font_fallbacks_for_the_chinese_glosses(built):
    page = built.html.read_text()
    assert "Noto Sans CJK SC" in page and "Microsoft YaHei" in page and "sans-serif" in page


def test_figure_text_without_a_cjk_font_drops_glyphs_rather_than_drawing_boxes(monkeypatch):
    from bench.report import plots

    monkeypatch.setattr(plots, "_fallback_font", lambda: None)
    assert plots.plain("Feature engineering (特征工程)") == "Feature engineering"
    assert plots.plain("数据 set $x$") == "?? set \\$x\\$"
    assert plots.plain("n=1,200\nwine") == "n=1,200\nwine"


def test_a_rebuild_in_another_process_is_byte_identical(run_dir, built, tmp_path):
    import os
    import subprocess
    import sys

    for seed in ("1", "2"):  # string hashing (set order) differs between these processes
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-m", "bench", "report", str(run_dir), "--out", str(out)],
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert (out / "report.html").read_bytes() == built.html.read_bytes()
        for fig in built.figures:
            assert (out / "figures" / fig.name).read_bytes() == fig.read_bytes(), fig.name


def test_a_font_matplotlib_cannot_find_is_not_logged_to_the_terminal(caplog):
    """An advise run printed some 40 `findfont: Font family [...] not found` lines among its answer."""
    import logging

    import matplotlib.pyplot as plt

    from bench.report import plots  # noqa: F401  (quiets matplotlib's font manager on import)

    caplog.set_level(logging.WARNING)
    fig, ax = plt.subplots()
    ax.set_title("x", fontfamily="No Such Font Anywhere")
    fig.canvas.draw()
    plt.close(fig)
    assert not [r for r in caplog.records if r.name.startswith("matplotlib.font_manager")]
