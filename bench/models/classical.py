"""Classical models: scikit-learn estimators and XGBoost, one factory each."""

from __future__ import annotations

from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.svm import SVC, SVR
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from bench.models import ModelContext, model


def _by_task(ctx: ModelContext, classifier, regressor):
    return classifier if ctx.task == "classification" else regressor


@model("logistic_regression", family="classical", tasks=("classification",), tags=("linear",))
def logistic_regression(ctx: ModelContext):
    """L2-regularised logistic regression (lbfgs)."""
    return LogisticRegression(max_iter=1000, random_state=ctx.seed)


@model("linear_regression", family="classical", tasks=("regression",), tags=("linear",))
def linear_regression(ctx: ModelContext):
    """Ordinary least squares."""
    return LinearRegression(n_jobs=ctx.threads)


@model("ridge", family="classical", tasks=("regression",), tags=("linear",))
def ridge(ctx: ModelContext):
    """Least squares with an L2 penalty."""
    return Ridge(alpha=1.0, random_state=ctx.seed)


@model("svm", family="classical", tags=("kernel",))
def svm(ctx: ModelContext):
    """Support vector machine with an RBF kernel (SVC / SVR); probabilities off, as by default."""
    if ctx.task == "classification":
        return SVC(kernel="rbf", random_state=ctx.seed)
    return SVR(kernel="rbf")


@model("decision_tree", family="classical", tags=("tree",))
def decision_tree(ctx: ModelContext):
    """A single CART tree, grown until leaves are pure (scikit-learn's default)."""
    return _by_task(ctx, DecisionTreeClassifier, DecisionTreeRegressor)(random_state=ctx.seed)


@model("random_forest", family="classical", tags=("tree", "ensemble"))
def random_forest(ctx: ModelContext):
    """100 CART trees on bootstrap samples."""
    cls = _by_task(ctx, RandomForestClassifier, RandomForestRegressor)
    return cls(n_estimators=100, n_jobs=ctx.threads, random_state=ctx.seed)


@model("knn", family="classical", tags=("neighbours",))
def knn(ctx: ModelContext):
    """k-nearest neighbours (k=5, Euclidean)."""
    return _by_task(ctx, KNeighborsClassifier, KNeighborsRegressor)(n_neighbors=5, n_jobs=ctx.threads)


@model("xgboost", family="classical", tags=("tree", "ensemble", "boosting"))
def xgboost(ctx: ModelContext):
    """Gradient-boosted trees (XGBoost, histogram method)."""
    import xgboost as xgb

    cls = _by_task(ctx, xgb.XGBClassifier, xgb.XGBRegressor)
    return cls(
        n_estimators=200,
        learning_rate=0.1,
        max_depth=6,
        tree_method="hist",
        n_jobs=ctx.threads,
        random_state=ctx.seed,
        verbosity=0,
    )
