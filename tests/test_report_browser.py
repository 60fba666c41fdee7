"""report.html in a real browser (headless Chromium): the table is there, every figure loads."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from synthetic import grid

from bench.report import render

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (.ci/run installs Debian's chromium package)",
)

# Injected into a copy of the report (the report itself carries no script): it records
# every alert() an injected payload might fire, then, once the page has loaded, writes
# what it sees into the DOM that --dump-dom prints.
PROBE_HEAD = "<script>window.__alerts = 0; window.alert = function () { window.__alerts += 1; };</script>"
PROBE_BODY = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.querySelectorAll('img.report-figure'));
  var loaded = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0 && i.naturalHeight > 0; });
  var rows = document.querySelectorAll('#comparison-table tr');
  var verdicts = Array.prototype.map.call(document.querySelectorAll('#comparison-table td.verdict'),
                                          function (td) { return td.textContent; });
  var names = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; })
                  .map(function (i) { return i.getAttribute('data-name'); });
  var shrunk = imgs.filter(function (i) { return i.getBoundingClientRect().width < 0.9 * i.naturalWidth; });
  var details = document.querySelectorAll('details');
  var open = Array.prototype.filter.call(details, function (d) { return d.open; });
  var out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({images: imgs.length, loaded: loaded.length, rows: rows.length,
                                    verdicts: verdicts, alerts: window.__alerts,
                                    overflow: document.documentElement.scrollWidth - window.innerWidth,
                                    shrunk: shrunk.length, details: details.length, open: open.length,
                                    answer: !!document.getElementById('answer'), names: names,
                                    first: (document.querySelector('ul.answer li') || {}).textContent || ''});
  document.body.appendChild(out);
});
</script>"""

MODELS = {
    "logistic_regression": ("classical", "logistic_regression", "raw", {}),
    "mlp": ("deep", "mlp", "raw", {}),
}
EVIL = "<script>alert(1)</script>"


def probe(html_path, tmp_path) -> dict:
    page = html_path.read_text(encoding="utf-8")
    page = page.replace("<head>", "<head>" + PROBE_HEAD, 1).replace("</body>", PROBE_BODY + "</body>", 1)
    probed = tmp_path / "probed.html"
    probed.write_text(page, encoding="utf-8")
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--no-default-browser-check", f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000", "--window-size=1400,1000", "--dump-dom", probed.as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    match = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert match, f"no probe output from Chromium (exit {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def test_report_opens_in_chromium_with_table_and_every_figure(tmp_path):
    df = grid(
        lambda r: 0.7 + 0.1 * (r["family"] == "deep") + 0.01 * r["seed"],
        datasets={EVIL: ("image", "classification"), "tab": ("tabular", "classification")},
        models=MODELS, sizes=(64, 256), seeds=(0, 1),
    )
    run = tmp_path / "run"
    run.mkdir()
    df.to_parquet(run / "results.parquet", index=False)
    report = render.build(run)
    seen = probe(report.html, tmp_path)
    assert seen["images"] == len(report.figures) > 0
    assert seen["loaded"] == seen["images"], seen
    assert seen["rows"] == 7  # header + the documents' six rows
    assert len(seen["verdicts"]) == 6
    assert set(seen["verdicts"]) <= {"supported", "refuted", "mixed", "inconclusive", "not measurable"}
    assert seen["alerts"] == 0  # the dataset named <script>alert(1)</script> stayed text
    # Readable at 1,400 px: nothing wider than the window, figures shown at (near) their own size,
    # the answer first, long tables and per-dataset figures collapsed.
    assert seen["overflow"] <= 0 and seen["shrunk"] == 0, seen
    assert seen["answer"] and seen["details"] > 0 and seen["open"] == 0
    # The figures issue 26 changed load: learning curves, score against time, a ranks diagram per modality;
    # the first screen opens with a modality's answer sentence.
    names = set(seen["names"])
    for prefix in ("learning-curve-", "score-vs-time-"):
        assert sum(n.startswith(prefix) for n in names) == 2, names
    assert seen["first"].startswith(("Tabular data (", "Image data (")), seen["first"]


def test_screenshots_of_the_first_screen_and_a_claim_show_something(tmp_path):
    from matplotlib.image import imread

    from bench.report import screenshots

    df = grid(lambda r: 0.7 + 0.1 * (r["family"] == "deep") + 0.01 * r["seed"],
              datasets={"img": ("image", "classification"), "tab": ("tabular", "classification")},
              models=MODELS, sizes=(64, 256), seeds=(0, 1))
    run = tmp_path / "run"
    run.mkdir()
    df.to_parquet(run / "results.parquet", index=False)
    report = render.build(run)
    assert screenshots.main([str(report.html), str(tmp_path / "shots"), "--section", "claim-compute_requirement"]) == 0
    for name in ("first-screen.png", "section-claim-compute_requirement.png"):
        pixels = imread(tmp_path / "shots" / name)
        assert pixels.shape[:2] == (1000, 1400)
        assert pixels.std() > 0.05, f"{name} is blank"
