"""Imported once by the worker server, so each cell's process starts with these ready."""

import numpy  # noqa: F401
import pandas  # noqa: F401
import sklearn.ensemble  # noqa: F401
import sklearn.linear_model  # noqa: F401
import sklearn.metrics  # noqa: F401
import sklearn.neighbors  # noqa: F401
import sklearn.svm  # noqa: F401
import sklearn.tree  # noqa: F401
import xgboost  # noqa: F401

import bench.registry

bench.registry.load_plugins()

# Objects that exist now are shared by every forked worker; freezing them keeps the
# worker's gc.collect() from walking (and copying) them before each measurement.
import gc  # noqa: E402

gc.collect()
gc.freeze()
