"""Models registry: one decorated function per model, returning an unfitted estimator.

The function receives a `ModelContext` (task, data shape, seed, thread budget, device) and
returns a scikit-learn estimator; the suite's hyperparameters are applied with
`set_params`, so the estimator's own parameter names are the suite's keys. `search=` declares
the model's hyperparameter search space next to its factory (bench.tuning runs the search).
"""

# The registry's machinery lives in bench.models.core, which the built-in models import, so no
# module of this package imports the package itself; this module re-exports it.
# Built-in models register themselves on import (boosting and tabular_deep: LightGBM, CatBoost,
# TabM; ridge_cv: MiniRocket features' classifier; text_models: TF-IDF, Transformer).
from bench.models import boosting, classical, deep, hybrid, ridge_cv, tabular_deep, text_models  # noqa: E402,F401
from bench.models.core import (  # noqa: F401
    FAMILIES,
    MODALITIES,
    MODELS,
    TASKS,
    ModelContext,
    ModelEntry,
    Registry,
    SearchSpace,
    __all__,  # noqa: F401
    build,
    check_needs,
    check_tags,
    first_line,
    lazy_attributes,
    model,
)
