"""The computations every claim, figure and table of the report shares, one idea per module.

A results table (`bench.results.frame` schema) goes in; plain frames and numbers come out.
The claims (`bench.report.claims`) turn these into verdicts by their written rules; the
figures and the rendering import this package, never the rules. What a report measures
once per table (the finished cells, the win records, each claim's result) is kept by
`bench.report.measurements.Measurements`, not here: these functions remember nothing.

- `rows`: finished cells (`ok_rows`) labelled with their configuration; rows select models and datasets by tag
  (`has_tag`), never by name; the run machine's cores and a failed cell's status;
- `choosing`: the one place that picks a family's (or any subset's) best configuration
  (`best`: the highest cross-validated or validation score, ties within one row reported,
  selection regret kept as a diagnostic), a pool's expected best (`pool`: what a family's
  best would score from fewer candidates; version 3's rules compared pools, version 4's do not),
  and default against tuned;
- `comparison`: two choices compared on one dataset and size with an interval that counts
  the test rows (`compare`: paired predictions where kept, else the scores' fallback);
- `pairing`: deep against classical on equal terms (`family_sides`: best against best where
  both had equal candidate and trial counts, else the modality's named pairing, `PAIRINGS`),
  and which rows count as engineered features (`engineered`);
- `outcomes`: per-seed differences (`paired`) and their intervals to an outcome against
  the margin (`MARGIN`); how outcomes of several datasets combine (`two_thirds`,
  `two_part`, written once);
- `deep_vs_classical`: the win records (`win_records`) and per-size comparisons
  (`family_comparisons`), win rate, rows to reach 95% of a
  configuration's best, model sizes;
- `overfitting`: train/test gaps and the pairs of configurations that differ only in
  regularisation;
- `costs`: comparable hardware and the deep / classical cost ratios;
- `formatting`: the `fmt_*` formatters, the only functions here that return text.

Every public name is also importable from this package (`from bench.report import analysis
as an; an.best(...)`), which is how the claims read them.
"""

from bench.report.analysis.choosing import (
    SELECTION_COLUMNS,
    Best,
    best,
    candidates,
    default_vs_tuned,
    full_coverage,
    partial_configs,
    pool,
    ranking,
    selection_column,
    selections,
    tie_tolerance,
)
from bench.report.analysis.comparison import (
    Predictions,
    compare,
    interval,
    methods_text,
    outcome_of,
    shared_rows,
    short_method,
    side_of,
    task_of,
)
from bench.report.analysis.costs import (
    COST_FLOORS,
    SEARCH_COSTS,
    comparable_hardware,
    compute_ratios,
    device_kind,
    gmean,
    hardware,
    with_search_costs,
)
from bench.report.analysis.deep_vs_classical import (
    COMPARISON_COLUMNS,
    UNPAIRED_COLUMNS,
    WIN_COLUMNS,
    family_comparisons,
    model_sizes,
    size_to_reach,
    unpaired,
    win_rate,
    win_records,
)
from bench.report.analysis.formatting import (
    fmt_count,
    fmt_interval,
    fmt_ratio,
    fmt_score,
    fmt_signed,
    fmt_spread,
    fmt_tally,
)
from bench.report.analysis.outcomes import (
    MARGIN,
    OUTCOMES,
    many_units,
    outcome,
    paired,
    seed_interval,
    side,
    sign_test,
    two_part,
    two_thirds,
)
from bench.report.analysis.overfitting import (
    REGULARISERS,
    configuration_hyperparams,
    gaps,
    regularisation_pairs,
)
from bench.report.analysis.pairing import (
    ENGINEERED_TAG,
    PAIRINGS,
    Pairing,
    Sides,
    engineered,
    equal_terms,
    family_sides,
    pairing_text,
    trial_counts,
)
from bench.report.analysis.rows import (
    compared_sizes,
    config_label,
    cores_of,
    datasets,
    families,
    has_tag,
    largest_size,
    missing_families,
    ok_rows,
    parse_json,
    selection_basis,
    status_label,
    three_families,
)

__all__ = [
    "SELECTION_COLUMNS", "selections", "COMPARISON_COLUMNS", "UNPAIRED_COLUMNS", "Predictions", "compare", "family_comparisons", "unpaired",
    "ENGINEERED_TAG", "PAIRINGS", "Pairing", "Sides", "candidates", "engineered", "equal_terms", "family_sides", "pairing_text",
    "trial_counts", "interval", "methods_text", "outcome_of",
    "pool", "ranking", "selection_column", "shared_rows", "short_method", "side_of", "task_of", "tie_tolerance", "three_families",
    "COST_FLOORS", "MARGIN", "OUTCOMES", "REGULARISERS", "SEARCH_COSTS", "WIN_COLUMNS", "Best", "best",
    "comparable_hardware", "compared_sizes", "compute_ratios", "config_label", "configuration_hyperparams",
    "cores_of", "datasets", "default_vs_tuned", "device_kind", "families", "fmt_count",
    "fmt_interval", "fmt_ratio", "fmt_score", "fmt_signed", "fmt_spread", "fmt_tally", "full_coverage", "gaps",
    "gmean", "hardware", "has_tag", "largest_size", "missing_families", "model_sizes", "ok_rows", "outcome",
    "paired", "parse_json", "partial_configs", "regularisation_pairs", "seed_interval", "selection_basis", "side",
    "size_to_reach", "status_label", "two_part", "two_thirds", "many_units", "sign_test", "win_rate", "win_records", "with_search_costs",
]
