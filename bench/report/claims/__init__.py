"""The verdict rules: one module per claim, each turning a results table into a verdict.

Each rule's text sits next to it so the report prints exactly the rule the code applies,
with its version (`Claim.version`; the set of rules as a whole is `RULES_VERSION`). The
rules were first written before any result was seen and have since been revised after
results were seen, each revision recorded with its reason and the reference verdicts
before and after in docs/rules-changelog.md. A rule reads only the finished cells (the
`bench.results.frame` schema, status `ok`), and answers `supported`, `refuted`, `mixed`
(evidence both ways), `inconclusive` (differences within noise) or `not measurable` (with
the reason), with a table of evidence (one row per dataset or comparison), a line saying
how sure it is, and the data its figure draws. The measurements (best configurations,
pairing, win records, gaps, cost ratios, intervals) live in `bench.report.analysis` and
`bench.report.stats`; the per-dataset loop most rules share is `common`. A rule receives
the table's `Measurements` (`bench.report.measurements`), built once per report, which
measures each claim once.

A claim is one module that registers itself with the `claim` decorator (`base`). Every
module of this package other than `base` and `common` is a claim and is imported here, so
adding a claim is adding a file; a plugin module (`--plugin`, BENCH_PLUGINS) registers
one the same way (docs/adding-a-claim.md): `bench report` loads the plugins before it
builds the report, which imports no plugin or registry itself.

The conventions every rule shares are printed once in the report (`CONVENTIONS`); what
changed in them, and why, is `CHANGES` (in full: docs/rules-changelog.md).
"""

from __future__ import annotations

import importlib
import pkgutil

import pandas as pd

from bench.report.analysis import MARGIN, ok_rows
from bench.report.claims.base import (
    CLAIMS,
    FURTHER,
    TABLE,
    VERDICTS,
    Claim,
    Result,
    Verdict,
    claim,
    evaluate,
    forest,
)
from bench.report.measurements import Measurements, measured

__all__ = [
    "CHANGES", "CLAIMS", "CONVENTIONS", "RULES_VERSION", "FURTHER", "MARGIN", "TABLE", "VERDICTS", "Claim", "Measurements", "Result",
    "Verdict", "claim", "evaluate", "forest", "further_verdicts", "ok_rows", "table_verdicts",
]

RULES_VERSION = 8  # raised with every entry of docs/rules-changelog.md

CONVENTIONS = (
    "Only cells with status ok count. A configuration is a (model, feature variant, tuning) "
    "triple. Models tagged hybrid (a network's features fed to a classical model) are a third "
    "family, neither deep nor classical. The best configuration of a family at a (dataset, "
    "training size) is chosen by its mean cross-validated score on the training rows where the "
    "table has one, else by its mean validation score (a validation part carved from the "
    "training rows), among the configurations that ran on every seed (tuned configurations compete "
    "as configurations of their model wherever they ran on every seed of their size; one run on "
    "fewer seeds would be a mean over fewer seeds, which favours luck); its test score is what is "
    "reported. The highest mean score is chosen; configurations within one validation row of it "
    "(1 / validation rows) are reported as tied with it (the choice among them is within one row's "
    "noise), and only exactly equal scores go to the cheaper fit (median fit CPU seconds, search "
    "included), then the label. Deep and classical are compared on equal "
    "terms: best against best where both families had as many candidate configurations and as "
    "many trials in all (a default configuration counts one trial, a tuned one its search's); "
    "elsewhere the pairing practitioners recognise for the modality: a tree ensemble (random "
    "forest, XGBoost, LightGBM, CatBoost) against an MLP or TabM on tables, a classical model on "
    "engineered features (HOG + SVM and the others) against a CNN on images (without engineered "
    "features, the SVM on raw pixels), a series-feature classifier (engineered statistics or "
    "MiniRocket) against a CNN or ResNet on sequences (without them, nearest neighbours on the raw "
    "series), "
    "engineered text features (a bag of words, TF-IDF) against a network over the words on text; "
    "a dataset and size with neither is not compared, and the claims that read it say so. Other "
    "sides a rule names (engineered against raw input on the same classical models, CNN against "
    "MLP, a hybrid against its parts) are set best against best. Selection "
    "regret (the best test score among the candidates minus the chosen one's) is shown as a "
    "diagnostic and never used to choose. "
    f"A difference counts only beyond a margin of {MARGIN} in score (accuracy or R²), and only "
    "when its 95% interval lies beyond it: an interval that straddles a threshold is within "
    "noise. Every interval of a score difference on one dataset counts the test set's sampling "
    "error as well as the seeds': from the kept test predictions, paired row by row (seeds with "
    "their own splits: the seeds' differences, their spread or, where larger, their test rows' own "
    "variance, Welch-Satterthwaite t; one test set shared by the seeds: "
    "rows crossed with seeds, Welch-Satterthwaite; one seed: the test rows alone, with McNemar's "
    "exact test), and where a run folder kept no predictions, from the scores and test-row "
    "counts (binomial variance for accuracy, a delta method for R², the two sides added as if "
    "independent, which is conservative, combined with the seeds' spread). One seed still has an "
    "interval, and no interval has zero width. Each claim says which method its intervals used. "
    "One dataset's outcome is supports, refutes, mixed (one prediction holds, the other fails) "
    "or inconclusive (within noise). A claim tested on several datasets is supported when at "
    "least two thirds support it and none refutes it, refuted when at least two thirds refute it "
    "and none supports it, mixed when the evidence points both ways, and inconclusive otherwise; "
    "across datasets the Bayesian signed-rank test (baycomp) with a region of practical "
    "equivalence of ± the margin is reported beside it, and decides the application-scenarios "
    "row. Train/test gaps count the rows behind their four scores the same way (from the scores). "
    "A rule about large data counts a dataset as large from an absolute size, at least 10,000 "
    "training rows (per modality, stated in the rule); where no dataset reaches it, that part of "
    "the rule is not measurable. Models that store their training data (KNN's rows, a kernel "
    "SVM's support vectors) are reported as storing so many rows, not counted as learned "
    "parameters. Where the table records it, each claim names the cells it read that a cap cut "
    "short: deep training stopped at its epoch cap with validation loss still falling, a "
    "hyperparameter search cut by its time cap. "
    "Cost ratios, which carry no test-row error, keep bootstrap intervals over datasets and then "
    "seeds. Models and datasets are chosen by their tags (convolutional, fully_connected, "
    "recurrent, hybrid, tree, ensemble, engineered_features; long_range, official_split), not by name."
)

CHANGES = (
    f"The rules are at version {RULES_VERSION}. They were first written before any result was "
    "seen; they have been revised since, after the reference results were seen, and each "
    "revision is listed with its reason and the reference verdicts before and after in "
    "docs/rules-changelog.md. Version 1 chose the best configuration on validation scores "
    "(before it, on test scores, which favoured the family with more configurations), let tuned "
    "and default configurations compete, and judged differences by bootstrap intervals over "
    "datasets and seeds. Version 2 (issue 23): intervals count the test rows (a deterministic "
    "model on a fixed split no longer gets a zero-width interval, one seed no longer means no "
    "interval), ties on small validation sets are reported and go to the cheaper fit instead of "
    "the first name in alphabetical order, families are compared from equal candidate counts, "
    "hybrids are a family of their own, train/test gaps' intervals count their scores' rows too, "
    "and the application-scenarios row is decided across datasets by the Bayesian signed-rank test. "
    "Version 3 (issue 23): \"large\" is an absolute size (at least 10,000 training rows) instead of "
    "each dataset's largest size, model complexity is judged dataset by dataset and combined like "
    "the other rows with KNN and kernel SVMs reported as storing their training data, CNN against "
    "MLP is judged on images and sequences with a parameter-matched MLP reported beside it, and "
    "cells cut short by an epoch or time cap are named under the claims that read them. "
    "Version 4 (issue 23): version 2's equal pools (the family with more candidates counted as "
    "its expected best over random subsets the other's size) made the classical side the mean of "
    "its configurations wherever one deep model ran, as on most tables; families are now compared "
    "best against best where their candidate and trial counts are equal, else by the modality's "
    "named pairing, and a model that builds its own features from raw text (TF-IDF) counts as "
    "engineered features, not as classical on raw input. Versions 5 and 6 (issue 23) pair "
    "default with default and tuned with tuned in the regularisation rule, and let the "
    "configurations decided on their own settle the more-data rule when they point one way beyond "
    "chance; version 7 (issue 28) makes a split per seed's interval never narrower than its test "
    "rows allow. Version 8 (issue 28): the highest validation score chooses; version 2's rule, "
    "which gave a tie within one validation row to the cheaper fit, chose a weaker configuration "
    "(logistic regression for random forest, an MLP for a CNN) and cost both families test score."
)

_NOT_CLAIMS = {"base", "common"}
for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _NOT_CLAIMS and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")


def table_verdicts(ms: Measurements | pd.DataFrame, ok: pd.DataFrame | None = None, cores: int | None = None) -> list[Verdict]:
    """The verdicts on the rows of the documents' comparison table, in order.

    `ms`: the table's `Measurements`; a results table (with its `ok_rows` and the run
    machine's `cores`, when known) is measured here, for this call only.
    """
    ms = measured(ms, cores, ok)
    return [evaluate(c, ms) for c in TABLE]


def further_verdicts(ms: Measurements | pd.DataFrame, ok: pd.DataFrame | None = None, cores: int | None = None) -> list[Verdict]:
    """The verdicts on the further claims, plugins' claims included (`ms`: as for `table_verdicts`)."""
    ms = measured(ms, cores, ok)
    return [evaluate(c, ms) for c in FURTHER]
