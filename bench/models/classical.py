"""Classical models: scikit-learn estimators and XGBoost, one factory each, with its search space.

The spaces follow the random-search spaces of the tabular benchmarks (Grinsztajn et al. 2022,
TabZilla) on the hyperparameters that matter most, with ensemble sizes left to the suite:
more trees or rounds cost time and rarely hurt, so they are not a choice worth a trial.
"""

from __future__ import annotations

import lazy_loader

from bench.models.core import ModelContext, model

# Imported at first use: listing the registry (`bench list`) needs neither.
stats = lazy_loader.load("scipy.stats", suppress_warning=True)  # its warning would precede every error line


def _by_task(ctx: ModelContext, classifier, regressor):
    return classifier if ctx.task == "classification" else regressor


@model(
    "logistic_regression", family="classical", tasks=("classification",), tags=("linear",),
    search=lambda ctx: {"C": stats.loguniform(1e-3, 1e2)},
)
def logistic_regression(ctx: ModelContext):
    """L2-regularised logistic regression (lbfgs)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000, random_state=ctx.seed)


@model("linear_regression", family="classical", tasks=("regression",), tags=("linear",))
def linear_regression(ctx: ModelContext):
    """Ordinary least squares."""
    from sklearn.linear_model import LinearRegression

    return LinearRegression(n_jobs=ctx.threads)


@model("ridge", family="classical", tasks=("regression",), tags=("linear",), search=lambda ctx: {"alpha": stats.loguniform(1e-3, 1e3)})
def ridge(ctx: ModelContext):
    """Least squares with an L2 penalty."""
    from sklearn.linear_model import Ridge

    return Ridge(alpha=1.0, random_state=ctx.seed)


def _svm_space(ctx: ModelContext) -> dict:
    space = {"C": stats.loguniform(1e-2, 1e3), "gamma": stats.loguniform(1e-4, 1.0)}
    return space if ctx.task == "classification" else {**space, "epsilon": stats.loguniform(1e-3, 1.0)}


@model("svm", family="classical", tags=("kernel",), search=_svm_space)
def svm(ctx: ModelContext):
    """Support vector machine with an RBF kernel (SVC / SVR); probabilities off, as by default."""
    from sklearn.svm import SVC, SVR

    if ctx.task == "classification":
        return SVC(kernel="rbf", random_state=ctx.seed)
    return SVR(kernel="rbf")


_TREE_SPACE = {
    "max_depth": [None, 2, 3, 4, 6, 8, 12, 16],
    "min_samples_leaf": [1, 2, 4, 8, 16, 32],
    "max_features": [None, "sqrt", 0.5],
}


@model("decision_tree", family="classical", tags=("tree",), search=_TREE_SPACE)
def decision_tree(ctx: ModelContext):
    """A single CART tree, grown until leaves are pure (scikit-learn's default)."""
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    return _by_task(ctx, DecisionTreeClassifier, DecisionTreeRegressor)(random_state=ctx.seed)


@model(
    "random_forest", family="classical", tags=("tree", "ensemble"),
    search={
        "max_depth": [None, 4, 8, 16],
        "min_samples_leaf": [1, 2, 4, 8],
        "max_features": ["sqrt", "log2", 0.5, 1.0],
        "bootstrap": [True, False],
    },
)
def random_forest(ctx: ModelContext):
    """100 CART trees on bootstrap samples."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = _by_task(ctx, RandomForestClassifier, RandomForestRegressor)
    return cls(n_estimators=100, n_jobs=ctx.threads, random_state=ctx.seed)


@model(
    "knn", family="classical", tags=("neighbours",),
    search={"n_neighbors": [1, 3, 5, 7, 9, 15, 25], "weights": ["uniform", "distance"], "p": [1, 2]},
)
def knn(ctx: ModelContext):
    """k-nearest neighbours (k=5, Euclidean)."""
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    return _by_task(ctx, KNeighborsClassifier, KNeighborsRegressor)(n_neighbors=5, n_jobs=ctx.threads)


@model(
    "xgboost", family="classical", tags=("tree", "ensemble", "boosting"),
    search=lambda ctx: {
        "learning_rate": stats.loguniform(1e-2, 0.3),
        "max_depth": stats.randint(2, 9),
        "subsample": stats.uniform(0.5, 0.5),
        "colsample_bytree": stats.uniform(0.5, 0.5),
        "min_child_weight": stats.loguniform(1.0, 20.0),
        "reg_lambda": stats.loguniform(1e-2, 10.0),
    },
)
def xgboost(ctx: ModelContext):
    """Gradient-boosted trees (XGBoost, histogram method)."""
    import xgboost as xgb

    from bench.models.xgb_labels import XGBClassifierAnyLabels

    cls = _by_task(ctx, XGBClassifierAnyLabels, xgb.XGBRegressor)
    return cls(
        n_estimators=200,
        learning_rate=0.1,
        max_depth=6,
        tree_method="hist",
        n_jobs=ctx.threads,
        random_state=ctx.seed,
        verbosity=0,
    )
