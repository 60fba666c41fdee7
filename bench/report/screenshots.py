"""Screenshots of a built report.html in headless Chromium, to look at it as a reader would.

    python -m bench.report.screenshots results/reference/report.html OUT_DIR [--section ID ...]

writes OUT_DIR/first-screen.png (the top of the page at 1,400 × 1,000 px) and, for each
`--section` (an element id such as `claim-model_complexity`; default: the first claim of
the comparison table), OUT_DIR/section-ID.png showing the page from that element down.
The report itself is not changed: a copy gets a script that hides what comes before the
section and opens the collapsed parts (so `--section learning-curves` or `--section
score-vs-time` shows the first per-dataset figures). Needs Debian's `chromium` (or chromium-browser, google-chrome) on the PATH.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
WIDTH, HEIGHT = 1400, 1000
DEFAULT_SECTIONS = ("claim-feature_engineering",)


def chromium() -> str | None:
    """The headless browser to use, or None when none is installed."""
    return next((shutil.which(n) for n in BROWSERS if shutil.which(n)), None)


def _run(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--hide-scrollbars", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--no-default-browser-check", f"--user-data-dir={profile}",
        "--virtual-time-budget=10000", *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def _from_section(page: str, section: str) -> str:
    script = (
        "<script>window.addEventListener('DOMContentLoaded', function () {"
        f"var el = document.getElementById({json.dumps(section)}); if (!el) return;"
        "while (el.parentElement && el.parentElement !== document.body) { el = el.parentElement; }"
        "for (var n = el.previousElementSibling; n; n = n.previousElementSibling) { n.style.display = 'none'; }"
        # Collapsed figures and tables after the section open, so a screenshot shows them.
        "var d = document.querySelectorAll('details'); for (var i = 0; i < d.length; i++) { d[i].open = true; }"
        "});</script>"
    )
    return page.replace("</head>", script + "</head>", 1)


def shoot(html: str | Path, out: str | Path, section: str | None = None, width: int = WIDTH, height: int = HEIGHT) -> Path:
    """A screenshot of the report's first screen, or of the page from element `section` down."""
    browser = chromium()
    if browser is None:
        raise RuntimeError("no headless Chromium found (install Debian's chromium package)")
    html, out = Path(html), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        text = html.read_text(encoding="utf-8")
        page.write_text(_from_section(text, section) if section else text, encoding="utf-8")
        done = _run(browser, Path(tmp) / "profile", f"--window-size={width},{height}", f"--screenshot={out}", page.as_uri())
    if not out.exists():
        raise RuntimeError(f"{html}: Chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-500:]}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.report.screenshots", description=__doc__.splitlines()[0])
    ap.add_argument("html", help="a built report.html")
    ap.add_argument("out_dir", help="folder for the PNG screenshots")
    ap.add_argument("--section", action="append", help="an element id to show from (repeatable)")
    args = ap.parse_args(argv)
    try:
        paths = [shoot(args.html, Path(args.out_dir) / "first-screen.png")]
        for section in args.section or DEFAULT_SECTIONS:
            paths.append(shoot(args.html, Path(args.out_dir) / f"section-{section}.png", section))
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
