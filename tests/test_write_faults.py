"""Faults while writing results (disk full, folder made read-only): nothing recorded is lost, --resume finishes.

Two levels: a fault injected at the one call that appends a row (runs everywhere), and a real
small tmpfs filled up or remounted read-only in the middle of a run of the command line (where
this machine lets an unprivileged mount namespace mount one: `unshare -rm`).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from bench import results
from bench.errors import RunError
from bench.execution import runner
from bench.suite import parse

QUICK = """
[suite]
name = "faults"
seeds = [0, 1, 2]
train_sizes = [40]
threads = 1
time_limit_s = 120
[datasets.wine]
[models.constant]
model = "test_constant"
[models.tree]
model = "decision_tree"
"""


def _row(key: str) -> dict:
    return {"key": key, "dataset": "d", "status": "ok", "n_train": 1, "n_test": 1, "seed": 0, "threads": 1, "jobs": 1,
            "info": "naïve ünïcode"}


def _disk_full_after(n_ok: int, real=results._write):
    """os.write that succeeds for `n_ok` rows, then writes half of the next one and fails with ENOSPC."""
    calls = {"n": 0}

    def write(fd, data):
        calls["n"] += 1
        if calls["n"] <= n_ok:
            return real(fd, data)
        real(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    return write


def test_a_row_that_cannot_be_written_leaves_the_rows_file_as_it_was(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "_write", _disk_full_after(2))
    store = results.ResultsStore(tmp_path)
    try:
        store.append(_row("a"))
        store.append(_row("b"))
        before = (tmp_path / results.ROWS_FILE).read_bytes()
        with pytest.raises(RunError) as info:
            store.append(_row("c"))
    finally:
        store.close()
    message = str(info.value)
    assert "\n" not in message and "No space left on device" in message
    assert "the 2 rows recorded before are kept" in message and f"--resume {tmp_path}" in message
    assert (tmp_path / results.ROWS_FILE).read_bytes() == before  # the torn half-row is cut away
    assert [r["key"] for r in results.read_rows(tmp_path)] == ["a", "b"]
    assert list(results.load(tmp_path)["key"]) == ["a", "b"]


def test_tables_that_cannot_be_rewritten_are_removed_so_every_recorded_row_stays_readable(tmp_path, monkeypatch):
    store = results.ResultsStore(tmp_path)
    try:
        store.append(_row("a"))

        def full(path, content):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(results, "atomic_write", full)
        with pytest.raises(RunError, match="cannot write results.parquet and results.csv: No space left"):
            store.append(_row("b"))
    finally:
        store.close()
    # rows.jsonl holds b; a results.parquet without it would hide it from `load`.
    assert not (tmp_path / "results.parquet").exists() and not (tmp_path / "results.csv").exists()
    assert list(results.load(tmp_path)["key"]) == ["a", "b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", results.ROWS_FILE]  # no temporary files left


def test_a_run_stopped_by_a_full_disk_loses_no_row_and_resume_completes_it(tmp_path, monkeypatch):
    suite = parse(QUICK, "faults.toml")
    reference = runner.run(suite, tmp_path / "reference", progress=False).table
    monkeypatch.setattr(results, "_write", _disk_full_after(3))
    with pytest.raises(RunError, match="No space left on device.*--resume"):
        runner.run(suite, tmp_path / "run", progress=False)
    kept = results.load(tmp_path / "run")
    assert len(kept) == 3 and kept["key"].is_unique
    monkeypatch.undo()  # space is back
    final = runner.run(suite, tmp_path / "run", resume=True, progress=False)
    assert final.n_run == len(reference) - 3
    cols = ["status", "score", "n_params"]
    pd.testing.assert_frame_equal(final.table.set_index("key").sort_index()[cols],
                                  reference.set_index("key").sort_index()[cols])


def test_an_out_folder_that_cannot_be_created_is_refused_in_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(RunError, match="cannot write results into this folder"):
        results.ResultsStore(blocker / "run")


def _can_mount_tmpfs(where) -> str | None:
    if not shutil.which("unshare") or not shutil.which("mount"):
        return "no unshare or mount command"
    probe = subprocess.run(["unshare", "-rm", "mount", "-t", "tmpfs", "-o", "size=1m", "none", str(where)],
                           capture_output=True, text=True)
    return None if probe.returncode == 0 else f"cannot mount a tmpfs here: {probe.stderr.strip()}"


SLEEPY = """
[suite]
name = "tmpfs"
seeds = [0, 1, 2, 3, 4, 5]
train_sizes = [40]
threads = 1
time_limit_s = 120
[datasets.wine]
[models.nap]
model = "test_sleep"
seconds = 2.0
"""

# Runs inside `unshare -rm` (a private mount namespace): a 32 MB tmpfs holds the run folder.
# Once rows.jsonl has 2 rows, the run is paused (SIGSTOP) while the tmpfs is filled up or
# the folder made read-only, then let go: whatever it writes next fails. The folder is copied out, the
# space given back, the run resumed, and the folder copied out again for the test to read.
DRIVER = r"""
set -u
mount -t tmpfs -o size=32m none "$MNT"
"$PY" -m bench run "$SUITE" --out "$MNT/run" --no-progress >"$OUT/first.out" 2>"$OUT/first.err" &
pid=$!
while [ "$(cat "$MNT/run/rows.jsonl" 2>/dev/null | wc -l)" -lt 2 ] && kill -0 $pid 2>/dev/null; do sleep 0.05; done
kill -STOP $pid
if [ "$FAULT" = full ]; then
    cat /dev/zero > "$MNT/filler" 2>/dev/null
else  # a read-only bind mount over the folder: the run's open lock file would block a remount of the tmpfs
    mount --bind "$MNT/run" "$MNT/run" && mount -o remount,bind,ro "$MNT/run"
fi
kill -CONT $pid
wait $pid
echo $? > "$OUT/first.rc"
cp -a "$MNT/run" "$OUT/after-fault"
if [ "$FAULT" = full ]; then rm "$MNT/filler"; else umount "$MNT/run"; fi
"$PY" -m bench run "$SUITE" --resume "$MNT/run" --no-progress >"$OUT/second.out" 2>"$OUT/second.err"
echo $? > "$OUT/second.rc"
cp -a "$MNT/run" "$OUT/final"
"""


@pytest.mark.slow
@pytest.mark.parametrize("fault, reason", [("full", "No space left on device"), ("readonly", "Read-only file system")])
def test_a_tmpfs_filled_or_made_read_only_mid_run_loses_no_row_and_resume_finishes(
    tmp_path, write_suite, capsys, fault, reason
):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    why_not = _can_mount_tmpfs(mnt)
    if why_not:
        pytest.skip(why_not)
    out = tmp_path / "out"
    out.mkdir()
    script = tmp_path / "driver.sh"
    script.write_text(textwrap.dedent(DRIVER))
    env = {"MNT": str(mnt), "OUT": str(out), "PY": sys.executable, "SUITE": str(write_suite(SLEEPY)), "FAULT": fault}
    subprocess.run(["unshare", "-rm", "bash", str(script)], env={**os.environ, **env}, check=True)

    first_err = (out / "first.err").read_text()
    assert (out / "first.rc").read_text().strip() == "2", first_err
    assert "Traceback" not in first_err
    last = first_err.strip().splitlines()[-1]
    assert last.startswith("error: ") and reason in last and "--resume" in last, first_err
    with capsys.disabled():  # printed for the record
        print(f"\n{fault}: exit 2 after {len(results.read_rows(out / 'after-fault'))} of 6 rows: {last}")
    recorded = results.read_rows(out / "after-fault")
    assert 2 <= len(recorded) < 6  # the fault came mid-run, and every row written before it is readable
    assert list(results.load(out / "after-fault")["key"]) == [r["key"] for r in recorded]
    lines = (out / "after-fault" / results.ROWS_FILE).read_bytes().splitlines()
    assert [json.loads(line)["key"] for line in lines] == [r["key"] for r in recorded]  # no torn line

    assert (out / "second.rc").read_text().strip() == "0", (out / "second.err").read_text()
    final = results.load(out / "final")
    assert sorted(final["key"]) == sorted(f"wine|raw|40|{s}|nap" for s in range(6))
    assert (final["status"] == "ok").all(), final["info"].tolist()
    assert len(pd.read_csv(out / "final" / "results.csv")) == 6


def test_tables_left_behind_the_rows_file_are_not_trusted(tmp_path):
    store = results.ResultsStore(tmp_path)
    try:
        store.append(_row("a"))
    finally:
        store.close()
    # As when the tables could neither be rewritten nor removed (a folder made read-only).
    results._append_whole(tmp_path / results.ROWS_FILE, (json.dumps(_row("b")) + "\n").encode())
    assert list(results.load(tmp_path)["key"]) == ["a", "b"]
