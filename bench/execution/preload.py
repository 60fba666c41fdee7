"""Imported once by each worker server, so each cell's process starts with these ready.

The server for cells that may use torch imports bench.execution.preload_torch first.
"""

import numpy  # noqa: F401
import pandas  # noqa: F401
import sklearn.ensemble  # noqa: F401
import sklearn.linear_model  # noqa: F401
import sklearn.metrics  # noqa: F401
import sklearn.neighbors  # noqa: F401
import sklearn.svm  # noqa: F401
import sklearn.tree  # noqa: F401
import xgboost  # noqa: F401

import bench.plugins

bench.plugins.load_plugins()

# First calls fill per-process caches (scikit-learn's dataframe-plugin lookup scans the
# installed packages' entry points, ~0.1 s); made once here, every worker inherits them.
def _warm_up() -> None:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from bench.execution.cell import scores

    X = StandardScaler().fit_transform(np.arange(8.0).reshape(4, 2))
    y = np.array([0, 1, 0, 1])
    scores("classification", LogisticRegression().fit(X, y), X, y)
    scores("regression", LogisticRegression().fit(X, y), X, y.astype(float))


_warm_up()

# Made after every library is loaded, so forked workers find them without rescanning.
from bench.execution.cell import threadpools  # noqa: E402
from bench.measure import host_info  # noqa: E402

threadpools()
host_info()

# Objects that exist now are shared by every forked worker; freezing them keeps the
# worker's gc.collect() from walking (and copying) them before each measurement.
import gc  # noqa: E402

gc.collect()
gc.freeze()
