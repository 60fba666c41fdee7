"""The verdicts' statistics on synthetic tables with known answers (issue 23): intervals that count
the test rows (kept predictions or the scores' fallback), ties on small validation sets, the
cross-validated choice, a pool's expected best (a diagnostic no rule reads since rules version 4),
hybrids as a family, the Bayesian signed-rank test."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import synthetic

from bench.report import analysis, claims, paired, stats
from bench.report.measurements import Measurements

CL = ("classical", "logistic_regression", "raw", {})
DEEP = ("deep", "mlp", "raw", {})
IMG = {"img": ("image", "classification")}
OFFICIAL = {"ucr": ("sequence", "classification", ("official_split", "real"))}


def all_verdicts(df: pd.DataFrame, predictions=None) -> dict[str, str]:
    ms = Measurements(df, predictions=predictions)
    return {v.key: v.verdict for v in claims.table_verdicts(ms) + claims.further_verdicts(ms)}


# --------------------------------------------------------------- intervals without predictions


def test_one_seed_on_many_test_rows_gets_a_decided_interval_from_its_scores():
    # Fashion-MNIST at 60,000 images: CNN 0.923 against random forest 0.876 on 10,000 test images.
    d = paired.from_scores([0.923], [0.876], [10_000], "classification", shared_rows=True)
    assert d.diff == pytest.approx(0.047)
    assert 0.03 < d.lo < d.hi < 0.065  # binomial SE of the difference about 0.0036, unpaired
    assert "one seed" in d.method and d.basis == "scores"


def test_a_deterministic_model_on_a_fixed_split_never_gets_a_zero_width_interval():
    # ArrowHead's case: the same two scores on every seed, 2 of 175 rows apart.
    d = paired.from_scores([0.7, 0.7, 0.7], [0.7 - 2 / 175] * 3, [175] * 3, "classification", shared_rows=True)
    assert d.hi - d.lo > 0.1 and d.lo < 0 < d.hi
    perfect = paired.from_scores([1.0], [1.0], [50], "classification", shared_rows=False)
    assert perfect.lo < 0 < perfect.hi  # a perfect score on 50 rows is not certain either
    r2 = paired.from_scores([1.0], [1.0], [50], "regression", shared_rows=False)
    assert r2.lo < 0 < r2.hi


def test_split_per_seed_takes_the_larger_of_the_seeds_spread_and_the_test_rows_variance():
    rows = paired.from_scores([0.80, 0.80, 0.80], [0.70, 0.70, 0.70], [200] * 3, "classification", shared_rows=False)
    assert "test rows' variance" in rows.method and rows.lo < 0.1 < rows.hi
    spread = paired.from_scores([0.9, 0.6, 0.95], [0.7, 0.7, 0.7], [10**6] * 3, "classification", shared_rows=False)
    assert "their spread," in spread.method and spread.df == pytest.approx(2, abs=0.01)


def test_the_scores_fallback_covers_at_least_95_percent():
    # Binomial test sets with a known difference of 0.05, one seed, unpaired fallback: conservative.
    rng = np.random.default_rng(3)
    n, hits = 300, 0
    for _ in range(400):
        a, b = rng.binomial(n, 0.80) / n, rng.binomial(n, 0.75) / n
        d = paired.from_scores([a], [b], [n], "classification", shared_rows=False)
        hits += d.lo <= 0.05 <= d.hi
    assert hits / 400 >= 0.93


def test_combine_adds_the_variances_of_two_sizes_differences():
    a = paired.from_scores([0.9], [0.8], [1000], "classification", shared_rows=False)
    b = paired.from_scores([0.85], [0.8], [1000], "classification", shared_rows=False)
    g = paired.combine(a, b)
    assert g.diff == pytest.approx(0.05)
    assert g.se == pytest.approx(math.hypot(a.se, b.se))


# --------------------------------------------------------------- with kept predictions


def _with_predictions(df: pd.DataFrame, accuracy: dict[str, float], n: int = 400):
    """Predictions per row whose accuracy is the model's, on rows shared by seed; the table's
    scores set to match."""
    store = {}
    for i, row in df.iterrows():
        rng = np.random.default_rng(int(row["seed"]) * 1000 + 7)
        y = rng.integers(0, 2, n)
        u = rng.random(n)  # rows hard for every model alike: predictions are correlated
        pred = np.where(u < accuracy[row["model"]], y, 1 - y)
        store[row["key"]] = (y, pred)
        df.loc[i, ["score", "val_score", "accuracy"]] = float((pred == y).mean())
    df["n_test"] = n
    return df, lambda row: store.get(row["key"])


def test_kept_predictions_give_a_paired_interval_narrower_than_the_fallback():
    df = synthetic.grid(lambda r: 0.8, datasets=IMG, models={"lr": CL, "mlp": DEEP}, sizes=(256,))
    df, pred = _with_predictions(df, {"lr": 0.80, "mlp": 0.85})
    with_p = Measurements(df, predictions=pred).comparisons["difference"].iloc[0]
    without = Measurements(df).comparisons["difference"].iloc[0]
    assert with_p.basis == "predictions" and without.basis == "scores"
    assert with_p.diff == pytest.approx(without.diff)
    assert with_p.hi - with_p.lo < without.hi - without.lo  # the rows both get right add nothing


def test_one_missing_prediction_falls_back_to_the_scores_for_that_comparison():
    df = synthetic.grid(lambda r: 0.8, datasets=IMG, models={"lr": CL, "mlp": DEEP}, sizes=(256,))
    df, pred = _with_predictions(df, {"lr": 0.80, "mlp": 0.85})
    missing = df["key"].iloc[0]
    d = Measurements(df, predictions=lambda r: None if r["key"] == missing else pred(r)).comparisons["difference"].iloc[0]
    assert d.basis == "scores"


def test_an_official_split_is_compared_as_one_test_set_shared_by_the_seeds():
    df = synthetic.grid(lambda r: 0.8, datasets=OFFICIAL, models={"lr": CL, "mlp": DEEP}, sizes=(64,))
    assert analysis.shared_rows(analysis.ok_rows(df))
    d = Measurements(df.assign(n_test=175)).comparisons["difference"].iloc[0]
    assert "shared" in d.method and d.lo < 0 < d.hi


# --------------------------------------------------------------- ties, cross-validation, regret


def _tie_table(order: int = 1) -> pd.DataFrame:
    # Ten validation rows: svm and ridge tie (0.80 and 0.75 are within 1/10); svm is dearer to fit
    # and worse on test. The deep side has two configurations as well: equal terms, best against best.
    models = {
        "svm": ("classical", "svm", "raw", {}), "ridge": ("classical", "logistic_regression", "raw", {}),
        "mlp": DEEP, "mlp_wide": ("deep", "mlp", "raw", {"d_hidden": 1024}),
    }
    vals = {"svm": (0.80, 0.55, 9.0), "ridge": (0.75, 0.80, 0.1), "mlp": (0.70, 0.70, 2.0), "mlp_wide": (0.5, 0.5, 2.0)}

    def score(r):
        v, s, cost = vals[r["model"]]
        return {"val_score": v, "score": s, "fit_cpu_s": cost, "n_validation": 10}

    df = synthetic.grid(score, datasets={"tab": ("tabular", "classification")}, models=models, sizes=(50, 200))
    return df.assign(n_test=10**6).iloc[::order].reset_index(drop=True)


def test_a_tie_on_a_small_validation_set_is_reported_and_the_higher_validation_score_chosen():
    # Rules version 8: svm (validation 0.80, dearer) and ridge (0.75) are within one of ten
    # validation rows: svm, the higher, is chosen and ridge named as tied; no cost enters.
    ok = analysis.ok_rows(_tie_table())
    b = analysis.best(ok[ok["n_train"] == 50], family="classical")
    assert b.label == "svm" and b.tied == ("ridge",)
    assert b.regret == pytest.approx(0.25)  # ridge's 0.80 on test: what choosing on ten rows cost
    # Apart by more than a row: nothing is tied.
    far = ok.assign(val_score=np.where(ok["model"] == "svm", 0.99, ok["val_score"]))
    chosen = analysis.best(far[far["n_train"] == 50], family="classical")
    assert chosen.label == "svm" and chosen.tied == () and chosen.regret == pytest.approx(0.25)


def test_only_an_exact_tie_goes_to_the_cheaper_fit_then_the_label():
    ok = analysis.ok_rows(_tie_table())
    equal = ok.assign(val_score=np.where(ok["model"] == "svm", 0.75, ok["val_score"]))
    b = analysis.best(equal[equal["n_train"] == 50], family="classical")
    assert b.label == "ridge" and b.tied == ("svm",)  # ridge fits in 0.1 s, svm in 9 s
    same_cost = equal.assign(fit_cpu_s=1.0)
    assert analysis.best(same_cost[same_cost["n_train"] == 50], family="classical").label == "ridge"  # the label


def test_reversing_the_row_order_changes_no_verdict_and_no_choice():
    forward, backward = _tie_table(1), _tie_table(-1)
    assert all_verdicts(forward) == all_verdicts(backward)
    sel = [analysis.selections(analysis.ok_rows(t)).sort_values(["dataset", "n_train", "family"]).reset_index(drop=True)
           for t in (forward, backward)]
    pd.testing.assert_frame_equal(sel[0], sel[1])


def test_the_cross_validated_score_chooses_where_the_table_has_it():
    ok = analysis.ok_rows(_tie_table())
    cv = ok.assign(val_score_cv=np.where(ok["model"] == "svm", 0.95, 0.6))
    b = analysis.best(cv[cv["n_train"] == 200], family="classical")
    assert (b.label, b.chosen_on) == ("svm", "cross-validation")
    assert analysis.best(ok[ok["n_train"] == 200], family="classical").chosen_on == "validation"


def test_the_report_lists_ties_and_regret():
    from bench.report import sections

    blocks = sections._selection_blocks(analysis.ok_rows(_tie_table()))
    text = " ".join(str(b) for b in blocks)
    assert "Ties and selection regret" in text and "svm" in text and "highest mean selection score" in text


# --------------------------------------------------------------- pools (a diagnostic), hybrids


def test_a_pool_is_the_exact_expected_best_over_random_equal_size_subsets():
    rng = np.random.default_rng(4)
    labels = [f"m{i}" for i in range(6)]
    vals, tests = dict(zip(labels, rng.random(6), strict=True)), dict(zip(labels, rng.random(6), strict=True))
    models = {m: ("classical", "logistic_regression", "raw", {"C": i}) for i, m in enumerate(labels)}
    df = synthetic.grid(lambda r: {"val_score": vals[r["model"]], "score": tests[r["model"]]}, datasets=IMG, models=models,
                        sizes=(64,), seeds=(0,))
    ok = analysis.ok_rows(df)
    for m in (1, 2, 3, 5):
        subsets = list(itertools.combinations(labels, m))
        brute = np.mean([tests[max(s, key=lambda c: vals[c])] for s in subsets])
        regret = np.mean([max(tests[c] for c in s) - tests[max(s, key=lambda c: vals[c])] for s in subsets])
        p = analysis.pool(ok, m)
        assert float(p.scores.iloc[0]) == pytest.approx(brute)
        assert p.regret == pytest.approx(regret)
        assert sum(w for _, w in p.weights) == pytest.approx(1.0)
    assert analysis.pool(ok, 6).label == analysis.best(ok).label


def test_hybrids_are_a_family_of_their_own():
    models = {"lr": CL, "mlp": DEEP, "cnn_xgb": ("deep", "cnn_xgboost", "raw", {}, ("hybrid", "convolutional", "boosting"))}
    df = synthetic.grid(lambda r: {"lr": 0.7, "mlp": 0.75, "cnn_xgb": 0.99}[r["model"]], datasets=IMG, models=models,
                        sizes=(64,)).assign(n_test=10**6)
    ms = Measurements(df)
    assert set(ms.ok["family"]) == {"classical", "deep", "hybrid"}
    assert set(ms.ok.loc[ms.ok["family"] == "hybrid", "declared_family"]) == {"deep"}
    assert set(ms.wins["deep"]) == {"mlp"}  # the hybrid, best on test, is not "deep"


# --------------------------------------------------------------- across datasets


def test_the_bayesian_signed_rank_test_reads_direction_and_rope_and_is_reproducible():
    ahead = stats.signed_rank([0.05, 0.08, 0.04, 0.1, 0.06, 0.07], 0.01)
    assert ahead.above > 0.95 and ahead == stats.signed_rank([0.05, 0.08, 0.04, 0.1, 0.06, 0.07], 0.01)
    level = stats.signed_rank([0.001, -0.002, 0.0, 0.003, -0.001, 0.002], 0.01)
    assert level.within > 0.95
    behind = stats.signed_rank([-0.05, -0.08, -0.04, -0.1, -0.06], 0.01)
    assert behind.below > 0.9
    assert stats.signed_rank([0.5], 0.01) is None


def test_application_scenarios_says_how_it_decided():
    tab, img = {"tab": ("tabular", "classification")}, {f"img{i}": ("image", "classification") for i in range(6)}
    tabs = {f"tab{i}": v for i, v in enumerate([tab["tab"]] * 6)}

    def score(r):
        deep = r["family"] == "deep"
        if r["modality"] == "tabular":
            return 0.8 if not deep else 0.8
        return 0.9 if deep else 0.7

    # The largest size is large (at least 10,000 training rows): prediction 2 is about large data.
    df = synthetic.grid(score, datasets={**tabs, **img}, models={"lr": CL, "mlp": DEEP}, sizes=(64, 10_000)).assign(n_test=10**5)
    v = next(x for x in claims.table_verdicts(Measurements(df)) if x.key == "application_scenarios")
    assert v.verdict == "supported"
    assert "Bayesian signed-rank" in v.certainty and "P(within" in v.certainty


# --------------------------------------------------------------- train/test gaps


def test_a_gap_change_counts_the_rows_behind_its_four_scores():
    def score(r):  # the gap shrinks from 0.15 to 0.05, identically on every seed
        return {"score": 0.80, "train_score": 0.95} if r["n_train"] == 64 else {"score": 0.85, "train_score": 0.90}

    from bench.report.claims.common import gap_change

    for n_test, decided in ((20, False), (200, True), (10**6, True)):
        df = synthetic.grid(score, datasets=IMG, models={"lr": CL}, sizes=(64, 1024)).assign(n_test=n_test)
        d = gap_change(analysis.ok_rows(df), "img", ("lr", 64), ("lr", 1024))
        assert d.diff == pytest.approx(0.10)
        assert d.hi - d.lo > 0  # three identical seeds: no zero-width interval
        assert (d.lo > 0.01) == decided, (n_test, d.lo)  # 20 test rows per seed: within noise
