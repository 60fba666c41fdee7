"""Which training sizes get tuned cells: suite.tuning.sizes ("all", "largest", "smallest") and a
dataset's own tuning_sizes."""

from __future__ import annotations

import pytest

from bench.suite import SuiteError, parse, plan
from bench.tuning import sizes_to_tune, validation_rows


def _suite(tuning: str, datasets: str = "[datasets.breast_cancer]\n[datasets.diabetes]",
           sizes: str = "[15, 40, 120]", seeds: str = "[0, 1]") -> str:
    return f"""
[suite]
seeds = {seeds}
train_sizes = {sizes}
threads = 1
[suite.tuning]
trials = 3
{tuning}
{datasets}
[models.logistic_regression]
[models.ridge]
"""


def _tuned(text: str) -> dict[str, set[tuple[int, int]]]:
    """(size, seed) of the tuned cells, per dataset."""
    cells, _ = plan(parse(text, "tune.toml"))
    out: dict[str, set[tuple[int, int]]] = {}
    for c in cells:
        if c.tuning == "tuned":
            out.setdefault(c.dataset.label, set()).add((c.n_train, c.seed))
    return out


def test_sizes_to_tune_resolves_each_choice():
    sizes = (15, 40, 120)
    assert validation_rows(15, 0.2) == 0 and validation_rows(40, 0.2) > 0
    assert sizes_to_tune("all", sizes, 0.2) == (15, 40, 120)
    assert sizes_to_tune("largest", sizes, 0.2) == (120,)
    # The smallest size leaves no validation part: the smallest that does is tuned instead.
    assert sizes_to_tune("smallest", sizes, 0.2) == (40,)
    assert sizes_to_tune("smallest", (50, 500), 0.2) == (50,)
    # No size leaves one: the smallest is returned, and the plan skips it with its reason.
    assert sizes_to_tune("smallest", (12, 15), 0.2) == (12,)
    assert sizes_to_tune((40, 120), sizes, 0.2) == (40, 120)
    with pytest.raises(ValueError, match="all, largest, smallest"):
        sizes_to_tune("median", sizes, 0.2)


def test_smallest_tunes_each_datasets_smallest_tunable_size_on_every_seed():
    text = _suite('sizes = "smallest"', datasets="[datasets.breast_cancer]\n[datasets.diabetes]\ntrain_sizes = [60, 200]")
    tuned = _tuned(text)
    assert tuned["breast_cancer"] == {(40, 0), (40, 1)}
    assert tuned["diabetes"] == {(60, 0), (60, 1)}
    cells, skips = plan(parse(text, "tune.toml"))
    # Every size still has its default cells, and no skip is reported for the untuned 15 rows.
    assert {c.n_train for c in cells if c.tuning == "default" and c.dataset.label == "breast_cancer"} == {15, 40, 120}
    assert not any("no validation part" in s.reason for s in skips)


def test_largest_and_all_are_unchanged():
    assert _tuned(_suite('sizes = "largest"'))["breast_cancer"] == {(120, 0), (120, 1)}
    assert {n for n, _ in _tuned(_suite('sizes = "all"'))["breast_cancer"]} == {40, 120}


def test_a_dataset_overrides_the_suites_tuning_sizes():
    datasets = """[datasets.breast_cancer]
tuning_sizes = "largest"
[datasets.diabetes]
tuning_sizes = [40, "max"]
train_sizes = [40, 100, "max"]
[datasets.wine]
"""
    tuned = _tuned(_suite('sizes = "smallest"', datasets=datasets, seeds="[0]"))
    assert tuned["breast_cancer"] == {(120, 0)}
    suite = parse(_suite('sizes = "smallest"', datasets=datasets, seeds="[0]"), "tune.toml")
    diabetes = next(d for d in suite.datasets if d.label == "diabetes")
    n_pool = max(diabetes.train_sizes)
    assert diabetes.tuning_sizes == (40, n_pool)
    assert tuned["diabetes"] == {(40, 0), (n_pool, 0)}
    assert tuned["wine"] == {(40, 0)}  # no override: the suite's "smallest"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ('"middle"', "all, largest, smallest or a list"),
        ("3", "all, largest, smallest or a list"),
        ("[41]", "training sizes [15, 40, 120], got [41]"),
        ("[40, 40]", "distinct sizes"),
        ('["40"]', "expected integers"),
    ],
)
def test_a_bad_dataset_tuning_sizes_names_the_key(value, words):
    text = _suite('sizes = "all"', datasets=f"[datasets.breast_cancer]\ntuning_sizes = {value}")
    with pytest.raises(SuiteError) as info:
        parse(text, "tune.toml")
    msg = str(info.value)
    assert "[datasets.breast_cancer.tuning_sizes]" in msg and words in msg
