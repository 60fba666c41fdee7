"""environment.json's git record (bench.measure._git_commit) and the report's provenance rows (issue 24).

Both reference runs recorded `git.commit: null`: git refuses a repository another user owns
("detected dubious ownership") and answers nothing, and a machine may have no git at all. The
commit is now read with `safe.directory` for the repository, else from the git directory's files.
"""

from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest

from bench import measure
from bench.report.sections import _provenance

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")


def _run(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    _run(root, "init", "-q")
    _run(root, "config", "user.email", "t@example.org")
    _run(root, "config", "user.name", "t")
    (root / "a.py").write_text("x = 1\n")
    (root / ".gitignore").write_text("results/\n")
    _run(root, "add", "a.py", ".gitignore")
    _run(root, "commit", "-q", "-m", "first")
    return root


def test_a_clean_checkout_records_its_commit_and_a_clean_tree(repo):
    got = measure._git_commit(str(repo))
    assert got == {"commit": _run(repo, "rev-parse", "HEAD"), "dirty": False, "untracked": 0, "source": "git"}


def test_changed_tracked_files_are_dirty_and_untracked_ones_are_counted_apart(repo):
    (repo / "new.py").write_text("y = 2\n")
    (repo / "results").mkdir()
    (repo / "results" / "rows.jsonl").write_text("{}\n")  # ignored: not counted
    got = measure._git_commit(str(repo))
    assert (got["dirty"], got["untracked"]) == (False, 1)
    (repo / "a.py").write_text("x = 2\n")
    got = measure._git_commit(str(repo))
    assert (got["dirty"], got["untracked"]) == (True, 1)


def test_recording_leaves_the_index_alone(repo):
    index = repo / ".git" / "index"
    before = index.stat().st_mtime_ns
    (repo / "a.py").write_text("x = 3\n")
    measure._git_commit(str(repo))
    assert index.stat().st_mtime_ns == before  # GIT_OPTIONAL_LOCKS=0: status refreshes nothing


def _git_refuses(monkeypatch):
    """What git answers in a repository another user owns: nothing on stdout, exit status 128."""
    def refuse(root, *args):
        return subprocess.CompletedProcess(["git", *args], 128, "", "fatal: detected dubious ownership in repository")
    monkeypatch.setattr(measure, "_git", refuse)


def test_a_repository_git_refuses_still_gives_its_commit_from_the_files(repo, monkeypatch):
    head = _run(repo, "rev-parse", "HEAD")
    _git_refuses(monkeypatch)
    assert measure._git_commit(str(repo)) == {"commit": head, "dirty": None, "untracked": None, "source": "files"}


def test_without_git_the_commit_comes_from_packed_refs_and_a_detached_head(repo, monkeypatch):
    head = _run(repo, "rev-parse", "HEAD")
    _run(repo, "pack-refs", "--all")  # the branch's loose ref moves into packed-refs
    def missing(root, *args):
        raise FileNotFoundError("git")
    monkeypatch.setattr(measure, "_git", missing)
    assert measure._git_commit(str(repo))["commit"] == head
    (repo / ".git" / "HEAD").write_text(head + "\n")
    assert measure._git_commit(str(repo))["commit"] == head


def test_a_worktree_reads_its_commit_through_its_git_file(repo, tmp_path, monkeypatch):
    tree = tmp_path / "tree"
    _run(repo, "worktree", "add", "-q", "-b", "side", str(tree))
    (tree / "b.py").write_text("z = 1\n")
    _run(tree, "add", "b.py")
    _run(tree, "commit", "-q", "-m", "side")
    head = _run(tree, "rev-parse", "HEAD")
    assert measure._git_commit(str(tree))["commit"] == head
    _git_refuses(monkeypatch)
    assert measure._git_commit(str(tree))["commit"] == head


def test_outside_a_repository_everything_is_unknown(tmp_path):
    assert measure._git_commit(str(tmp_path)) == {"commit": None, "dirty": None, "untracked": None, "source": None}


def test_this_checkout_records_a_commit():
    got = measure.environment()["git"]
    assert got["commit"] and got["source"] in ("git", "files")


def _rows(git: dict) -> dict:
    blocks = _provenance({"git": git}, pd.DataFrame())
    return dict(blocks[0].items)


@pytest.mark.parametrize("git, commit, tree", [
    ({"commit": "abc", "dirty": False, "untracked": 0}, "abc", "clean: tracked files as committed"),
    ({"commit": "abc", "dirty": True, "untracked": 2}, "abc", "uncommitted changes to tracked files; 2 untracked files"),
    ({"commit": "abc", "dirty": None, "source": "files"}, "abc", "unknown (git could not compare it; the commit was read from the repository's files)"),
    ({"commit": None, "dirty": None}, "unknown: the run recorded none", "unknown"),
], ids=["clean", "dirty", "read from files", "none"])
def test_the_report_shows_the_commit_and_whether_the_tree_was_clean(git, commit, tree):
    rows = _rows(git)
    assert (rows["commit"], rows["working tree"]) == (commit, tree)
