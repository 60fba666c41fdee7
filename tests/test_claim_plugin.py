"""A claim added from a plugin module: the worked example of docs/adding-a-claim.md, rendered."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from synthetic import grid

from bench.report import claims

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "adding-a-claim.md"
MODELS = {
    "lr": ("classical", "logistic_regression", "raw", {}),
    "xgb": ("classical", "xgboost", "raw", {}, ("boosting", "tree")),
    "mlp": ("deep", "mlp", "raw", {}),
}
DATASETS = {"tab": ("tabular", "classification"), "tab2": ("tabular", "classification")}


def _example() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", PAGE.read_text(encoding="utf-8"), flags=re.M | re.S)
    assert len(blocks) == 1, "docs/adding-a-claim.md shows one plugin module"
    return blocks[0]


def test_the_documented_plugin_claim_has_its_verdict_figure_and_rule_in_the_rendered_report(tmp_path):
    (tmp_path / "my_claims.py").write_text(_example(), encoding="utf-8")
    run = tmp_path / "run"
    run.mkdir()
    scores = {"lr": 0.8, "xgb": 0.9, "mlp": 0.85}  # boosting ahead on both tables: supported
    grid(lambda r: scores[r["model"]] + 0.003 * r["seed"], datasets=DATASETS, models=MODELS).to_parquet(
        run / "results.parquet", index=False)
    out = tmp_path / "report"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "report", str(run), "--plugin", "my_claims", "--out", str(out)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    md = (out / "report.md").read_text(encoding="utf-8")
    section = md.split("### Boosting on tabular data (my claim): supported\n")[1].split("\n### ")[0]
    assert "Verdict: supported. Of 2 datasets, 2 support" in section
    assert "(figures/claim-boosting-on-tables.png)" in section and (out / "figures" / "claim-boosting-on-tables.png").exists()
    assert "| tab | 1024 | xgb 0.903 | lr 0.803 |" in section  # the evidence table
    assert "Rule (version 1): On every tabular dataset with a classical model tagged" in section
    assert "| Boosting on tabular data (my claim) | gradient boosting is the strongest" in md  # the further-claims table
    assert "Boosting on tabular data (my claim): supported</h3>" in (out / "report.html").read_text(encoding="utf-8")


def test_a_plugin_cannot_replace_a_built_in_claim():
    before = [c.key for c in claims.FURTHER]
    with pytest.raises(ValueError, match="registered twice"):
        claims.claim("hybrid", aspect="mine", deep="mine", rule="a rule of my own")(lambda ok: None)
    with pytest.raises(ValueError, match="section"):
        claims.claim("mine", aspect="mine", deep="mine", rule="a rule of my own", section="appendix")
    assert [c.key for c in claims.FURTHER] == before and "mine" not in claims.CLAIMS
