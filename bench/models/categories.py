"""Categorical columns for the models that take them natively (LightGBM, CatBoost, TabM).

The harness one-hot encodes a table's text columns for every model but those tagged
`native_categories` (bench.execution.prepare): those get each categorical column as ordinal
codes (0..k-1; -1, `MISSING`, for a missing value or one the training rows never held) and
`categorical_features` naming the code columns. Fitted directly, they also take a pandas
DataFrame (its non-numeric columns are the categories). `CategoryCodes` learns, from the
training rows only, one code per value of each categorical column (0..k-1, in sorted order);
a missing value (NaN, None, or MISSING in a numeric code column), or a value the training
rows never held, reads as missing (`MISSING`). Numeric columns pass through as float.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MISSING = -1  # the code of a missing or unseen category


def _is_frame(X) -> bool:
    return hasattr(X, "columns") and hasattr(X, "iloc")


class CategoryCodes:
    """Which columns are categories, and each one's values -> codes, learned from training rows."""

    def __init__(self, categorical_features: Sequence[int] | None = ()):
        self.requested = tuple(categorical_features or ())

    def fit(self, X) -> CategoryCodes:
        if _is_frame(X):
            import pandas as pd

            self.n_features = X.shape[1]
            frame_cats = [i for i, c in enumerate(X.columns) if not pd.api.types.is_numeric_dtype(X[c])]
            self.columns = tuple(sorted(set(frame_cats) | set(self.requested)))
        else:
            self.n_features = np.shape(X)[1]
            self.columns = tuple(sorted(set(self.requested)))
        for i in self.columns:
            if not 0 <= i < self.n_features:
                raise ValueError(f"categorical_features: column {i} is outside the {self.n_features} columns of X")
        self.levels = [self._levels(self._column(X, i)) for i in self.columns]
        return self

    @property
    def cardinalities(self) -> list[int]:
        """Distinct training values of each categorical column (codes 0..k-1)."""
        return [len(levels) for levels in self.levels]

    @property
    def numeric(self) -> list[int]:
        cats = set(self.columns)
        return [i for i in range(self.n_features) if i not in cats]

    @staticmethod
    def _column(X, i: int) -> np.ndarray:
        return np.asarray(X.iloc[:, i], dtype=object) if _is_frame(X) else np.asarray(X)[:, i]

    @staticmethod
    def _missing(values: np.ndarray) -> np.ndarray:
        """NaN or None; in a column of numeric codes, MISSING too (the harness's code for missing or unseen)."""
        import pandas as pd

        missing = np.asarray(pd.isna(values), dtype=bool)
        if values.dtype.kind in "fiu":
            missing |= values == MISSING
        return missing

    def _levels(self, values: np.ndarray) -> np.ndarray:
        present = values[~self._missing(values)]
        if present.dtype == object:
            present = present.astype(str)
        return np.unique(present)

    def codes(self, X) -> np.ndarray:
        """(n, n_categorical) int64 codes; MISSING for a missing or unseen value."""
        if np.shape(X)[1] != self.n_features:
            raise ValueError(f"X has {np.shape(X)[1]} columns; the model was fitted on {self.n_features}")
        out = np.full((len(X), len(self.columns)), MISSING, dtype=np.int64)
        for j, (i, levels) in enumerate(zip(self.columns, self.levels, strict=True)):
            values = self._column(X, i)
            ok = ~self._missing(values)
            keys = values[ok].astype(str) if levels.dtype.kind in "UO" else values[ok].astype(levels.dtype)
            pos = np.searchsorted(levels, keys)
            pos = np.minimum(pos, max(len(levels) - 1, 0))
            found = np.zeros(len(keys), dtype=bool) if len(levels) == 0 else levels[pos] == keys
            col = np.full(len(keys), MISSING, dtype=np.int64)
            col[found] = pos[found]
            out[ok, j] = col
        return out

    def numbers(self, X) -> np.ndarray:
        """(n, n_numeric) float64 of the other columns (NaN where missing)."""
        cols = self.numeric
        if _is_frame(X):
            return X.iloc[:, cols].to_numpy(dtype=np.float64, na_value=np.nan)
        return np.asarray(X, dtype=np.float64)[:, cols]
