"""The answer's words say what its numbers show (issue 26): "level" only where a difference's whole
95% interval lies inside ±margin, "ahead but not surely by more than" where it excludes zero without
clearing the margin, "undecided" where it includes zero and reaches past the margin; the counts agree
with the per-dataset words; the cost names only the two families of its ratio; the run line says where
fewer seeds ran; a comparison on one seed says its interval counts the test rows only."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from synthetic import grid

from bench.report import answer_sentences, sections
from bench.report.measurements import Measurements

MODELS = {"random_forest": ("classical", "random_forest", "raw", {}), "mlp": ("deep", "mlp", "raw", {})}
ENV = {"cpu": {"model": "Test CPU 9000"}}

# dataset -> (deep minus classical, test rows): the interval's width comes from the test rows (scores only,
# every seed's difference the same), so each lands in one standing. Accuracies near 0.8.
CASES = {
    "t_cl": (-0.1, 5000),  # -0.100 [-0.110, -0.090]: classical ahead beyond the margin
    "t_deep": (0.1, 5000),  # +0.100 [+0.092, +0.108]: deep ahead beyond the margin
    "t_level": (0.0, 100_000),  # +0.000 [-0.002, +0.002]: wholly inside ±0.01
    "t_small": (0.005, 400_000),  # +0.005 [+0.004, +0.006]: inside ±0.01, zero excluded
    "t_undecided": (0.03, 200),  # zero included, reaching past the margin
    "t_unsure": (0.02, 2000),  # +0.020 [+0.006, +0.034]: zero excluded, the margin not cleared
    "t_unsure2": (-0.02, 2000),  # the same, classical's way
}
STANDINGS = {"t_cl": "classical", "t_deep": "deep", "t_level": "level", "t_small": "deep_small",
             "t_undecided": "undecided", "t_unsure": "deep_unsure", "t_unsure2": "classical_unsure"}


def _table(cases: dict[str, tuple[float, int]], **kw) -> pd.DataFrame:
    def score(row):
        diff, n_test = cases[row["dataset"]]
        return {"n_test": n_test, "score": 0.8 + 0.002 * row["seed"] + (diff if row["family"] == "deep" else 0.0)}

    return grid(score, datasets={k: ("tabular", "classification") for k in cases}, models=MODELS, **kw)


@pytest.fixture(scope="module")
def ms():
    return Measurements(_table(CASES, sizes=(1024,)))


def _figures(ms: Measurements) -> dict[str, str]:
    return {r.dataset: r.difference.text() for r in ms.comparisons.itertuples()}


def test_each_interval_gets_the_standing_its_bounds_give(ms):
    got = {r.dataset: answer_sentences.standing(r.difference) for r in ms.comparisons.itertuples()}
    assert got == STANDINGS
    fig = _figures(ms)
    assert fig["t_unsure"] == "+0.020 [+0.006, +0.034]" and fig["t_level"] == "+0.000 [-0.002, +0.002]"
    lo, hi = (float(x) for x in fig["t_undecided"].split("[")[1].rstrip("]").split(", "))
    assert lo < 0 < 0.01 < hi  # the undecided case: zero inside, the margin reached past


def test_the_sentence_calls_level_only_what_lies_inside_the_margin_and_prints_the_others_figures(ms):
    (sentence,) = answer_sentences.modality_sentences(ms.comparisons, ms.ok)
    fig = _figures(ms)
    per = sentence.split("per dataset at its largest size: ")[1].split("; the lead")[0]
    assert per == (
        "deep ahead on t_deep; classical ahead on t_cl; "
        f"deep ahead but not surely by more than 0.01 on t_unsure ({fig['t_unsure']}); "
        f"classical ahead but not surely by more than 0.01 on t_unsure2 ({fig['t_unsure2']}); "
        f"deep ahead by less than the 0.01 margin on t_small ({fig['t_small']}); "
        f"level within ±0.01 on t_level ({fig['t_level']}); "
        f"undecided on t_undecided ({fig['t_undecided']})"
    )
    assert len(re.findall(r"\blevel\b", sentence)) == 1  # the word, not the dataset t_level


def test_the_count_sentence_agrees_with_the_per_dataset_words(ms):
    said = answer_sentences.answer(ms, [], ENV)
    largest = next(s for s in said if s.startswith("At each dataset's largest training size"))
    assert largest == (
        "At each dataset's largest training size, the best deep model is ahead on 1 of 7 datasets and behind on 1 "
        "(each by more than 0.01, judged by a 95% interval that counts the test rows); on the other 5 neither is "
        "surely ahead by more than 0.01: the interval lies within ±0.01 on 2, one side is ahead but not surely by "
        "more than 0.01 on 2 (t_unsure, t_unsure2), undecided on 1 (the interval includes zero and reaches past the "
        "margin)."
    )
    # The modality sentence names the same one dataset with deep ahead and the same one with classical ahead.
    (sentence,) = answer_sentences.modality_sentences(ms.comparisons, ms.ok)
    assert "deep ahead on t_deep;" in sentence and "classical ahead on t_cl;" in sentence


def test_one_dataset_says_how_its_interval_stands():
    heads = {
        "t_small": "neither family wins (deep is ahead by less than the 0.01 margin): deep minus classical",
        "t_unsure": "neither family wins clearly (deep is ahead, but not surely by more than 0.01): deep minus classical",
        "t_unsure2": ("neither family wins clearly (classical is ahead, but not surely by more than 0.01): deep minus "
                      "classical"),
        "t_level": "neither family wins (the two are within ±0.01): deep minus classical",
        "t_undecided": "not decided: deep minus classical",
        "t_deep": "deep wins: deep minus classical",
    }
    for name, head in heads.items():
        one = Measurements(_table({name: CASES[name]}, sizes=(1024,)))
        (sentence,) = answer_sentences.modality_sentences(one.comparisons)
        fig = _figures(one)[name]
        assert f"{head} {fig} (95% interval; counting the test rows and the seeds)" in sentence, name
        assert ("(the interval includes zero and reaches past the ±0.01 margin)" in sentence) == (name == "t_undecided")
        assert not re.search(r"\blevel\b", sentence)  # the word, not the dataset t_level


def test_a_change_of_standing_with_size_prints_the_undecided_sizes_figures():
    def score(row):
        diff, n_test = (0.03, 200) if row["n_train"] < 1024 else (0.1, 5000)
        return {"n_test": n_test, "score": 0.8 + 0.002 * row["seed"] + (diff if row["family"] == "deep" else 0.0)}

    ms = Measurements(grid(score, datasets={"grow": ("tabular", "classification")}, models=MODELS))
    fig = {int(r.n_train): r.difference.text() for r in ms.comparisons.itertuples()}
    assert answer_sentences.lead_changes(ms.comparisons) == {
        "grow": f"undecided at 64–256 ({fig[64]} at 64; {fig[256]} at 256), deep ahead at 1,024"}


def test_a_one_seed_comparison_says_its_interval_counts_the_test_rows_only():
    one = Measurements(_table({"t_deep": CASES["t_deep"]}, sizes=(1024,), seeds=(0,)))
    (sentence,) = answer_sentences.modality_sentences(one.comparisons)
    fig = _figures(one)["t_deep"]
    assert f"deep wins: deep minus classical {fig} (95% interval; one seed: the interval counts the test rows only)" in sentence
    # Several datasets, one of them on one seed at its largest size: the note sits by that dataset only.
    table = pd.concat([_table({"t_deep": CASES["t_deep"]}, sizes=(1024,), seeds=(0,)),
                       _table({"t_cl": CASES["t_cl"]}, sizes=(1024,))], ignore_index=True)
    many = Measurements(table)
    (sentence,) = answer_sentences.modality_sentences(many.comparisons)
    assert ("per dataset at its largest size: deep ahead on t_deep (one seed: the interval counts the test rows only); "
            "classical ahead on t_cl;") in sentence
    assert sentence.count("one seed") == 1


def test_the_cost_names_only_the_two_families_of_its_ratio():
    models = {**MODELS, "cnn_boost": ("deep", "cnn", "raw", {}, {"hybrid", "convolutional", "boosting"})}
    ms = Measurements(grid(lambda r: {"n_test": 5000, "score": 0.8}, datasets={"t": ("tabular", "classification")},
                           models=models))
    assert set(ms.ok["family"].astype(str)) == {"classical", "deep", "hybrid"}
    assert answer_sentences.hardware_text(ms.ok, ENV) == "both families on this run's CPU, Test CPU 9000"
    cost = next(s for s in answer_sentences.answer(ms, [], ENV) if s.startswith("The cost"))
    assert cost.endswith("(both families on this run's CPU, Test CPU 9000).") and "3 families" not in cost
    # Different devices: only deep's and classical's are named.
    gpu = ms.ok.assign(device=ms.ok["family"].map({"deep": "cuda:0", "classical": "cpu", "hybrid": "cuda:1"}))
    assert answer_sentences.hardware_text(gpu, ENV) == "classical on cpu; deep on cuda:0"


def test_the_run_line_says_where_fewer_seeds_ran():
    three = _table({"a": CASES["t_deep"], "b": CASES["t_cl"], "c": CASES["t_level"]})
    assert sections.seeds_text(three) == "3 seeds"
    # As a suite's one_seed_from leaves them: a from 256 rows (its two largest sizes), b at its largest size only,
    # c at its smallest only (not a "from"), on one seed; every other size on three.
    keep = ((three["dataset"] == "a") & (three["n_train"] >= 256)) | ((three["dataset"] == "b") & (three["n_train"] == 1024)) | (
        (three["dataset"] == "c") & (three["n_train"] == 64))
    table = three[~keep | (three["seed"] == 0)]
    text = sections.seeds_text(table)
    assert text == ("1–3 seeds per training size (1 seed on a from 256 training rows, b at 1,024, c at 64; "
                    "3 at every other size)")
    assert sections._run_line(table, ENV, None).endswith(f"training sizes 64, 256, 1024, {text}.")
    # Two seeds at one size of a: counted apart from the one-seed sizes.
    two = three[~((three["dataset"] == "a") & (three["n_train"] == 1024) & (three["seed"] == 2))]
    two = two[~((two["dataset"] == "b") & (two["n_train"] == 64) & (two["seed"] > 0))]
    assert sections.seeds_text(two) == ("1–3 seeds per training size (1 seed on b at 64 training rows; "
                                        "2 seeds on a at 1,024 training rows; 3 at every other size)")


def test_within_the_margin_across_datasets_is_not_said_while_one_dataset_reaches_past_it():
    """The test across datasets reads each dataset's difference as exact: four datasets level to the
    third decimal make it say "within ±0.01" with near certainty, while a fifth dataset's own interval
    (+0.005 on 200 test rows) reaches far past the margin. The sentence names that dataset."""
    cases = {f"t_level{i}": (0.0, 100_000) for i in range(4)} | {"t_wide": (0.005, 200)}
    (sentence,) = answer_sentences.modality_sentences(Measurements(_table(cases, sizes=(1024,))).comparisons)
    assert "P(within ±0.01) 1.00" in sentence or "P(within ±0.01) 0.9" in sentence
    assert "neither family wins clearly (within ±0.01 across datasets, but t_wide's own interval reaches past the margin)" in sentence
    assert "neither family wins (the two are within" not in sentence
    level = {k: v for k, v in cases.items() if k != "t_wide"}
    (sentence,) = answer_sentences.modality_sentences(Measurements(_table(level, sizes=(1024,))).comparisons)
    assert "neither family wins (the two are within ±0.01)" in sentence
