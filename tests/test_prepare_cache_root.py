"""The split cache is the one the caller passes: the environment names none (settings are explicit)."""

from bench.execution import prepare as prep
from bench.suite import parse, plan


def _cell():
    suite = parse("[suite]\nseeds = [0]\ntrain_sizes = [60]\n[datasets.wine]\n[models.logistic_regression]\n", "s.toml")
    return plan(suite)[0][0]


def test_a_cache_folder_in_the_environment_is_not_used(tmp_path, monkeypatch):
    env_cache, passed = tmp_path / "from-env", tmp_path / "passed"
    env_cache.mkdir()
    monkeypatch.setenv(prep.CACHE_ENV, str(env_cache))
    assert prep.cache_root(None) is None and prep.cache_root("") is None
    assert prep.cache_root(passed) == passed
    prep.prepare(_cell())
    assert list(env_cache.iterdir()) == []
    prep.prepare(_cell(), passed)
    assert [p.name.startswith("split-") for p in passed.iterdir()].count(True) == 1
