"""Write the example data of `bench advise`: a customer table as found in the wild, images, sequences.

    python examples/make_examples.py          # writes examples/customers.csv, shapes.npz, mnist1d.npz

Deterministic: the same files on every machine. The table has what real exports have: headers
with spaces and slashes, text labels, categorical columns, about 5% blank cells in three
columns, an ID column, a constant column and a free-text column.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def customers(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """Churn of a telecom's customers: thresholds and interactions, as trees like them."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 73, n)
    contract = rng.choice(["month-to-month", "one year", "two year"], n, p=[0.55, 0.25, 0.2])
    plan = rng.choice(["basic", "standard", "premium", "family"], n, p=[0.35, 0.3, 0.2, 0.15])
    region = rng.choice(["north", "south", "east", "west", "central"], n)
    base = {"basic": 25.0, "standard": 55.0, "premium": 90.0, "family": 70.0}
    charge = np.array([base[p] for p in plan]) + rng.normal(0, 8, n)
    calls = rng.poisson(1.2 + 1.5 * (plan == "basic"), n)
    data_gb = rng.lognormal(2.0, 0.8, n)
    logit = (
        -0.8
        + 1.6 * (contract == "month-to-month") - 1.2 * (contract == "two year")
        - 0.045 * tenure
        + 0.9 * (calls >= 3) + 0.6 * (calls >= 3) * (contract == "month-to-month")
        + 1.1 * ((charge > 80) & (tenure < 12))
        + 0.5 * (region == "south")
        - 0.4 * (data_gb > 15)
    )
    churned = rng.random(n) < 1 / (1 + np.exp(-3 * logit))  # x3: the columns decide most labels
    words = ["slow", "line", "billing", "moved", "price", "router", "happy", "support", "outage", "family"]
    notes = [f"{rng.choice(words)} {rng.choice(words)} #{rng.integers(10000)}" for _ in range(n)]
    frame = pd.DataFrame({
        "Customer ID": [f"C{i:05d}" for i in rng.permutation(n)],
        "Tenure (months)": tenure.astype(float),
        "Monthly charge $/mo": charge.round(2),
        "Plan type": plan,
        "Region/Zone": region,
        "Support calls (90 days)": calls,
        "Contract": contract,
        "Data used (GB)": data_gb.round(1),
        "Country": "NL",
        "Signup note": notes,
        "Churned?": np.where(churned, "yes", "no"),
    })
    for col in ("Tenure (months)", "Monthly charge $/mo", "Region/Zone"):
        frame.loc[rng.random(n) < 0.05, col] = np.nan
    return frame


def main(out: Path = HERE) -> list[Path]:
    sys.path.insert(0, str(HERE.parent))
    from bench.datasets.images import synthetic_images
    from bench.datasets.mnist1d import make

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "customers.csv", out / "shapes.npz", out / "mnist1d.npz"]
    customers().to_csv(paths[0], index=False)
    shapes = synthetic_images(n_samples=1500, image_size=16)
    np.savez_compressed(paths[1], X=shapes.X.reshape(-1, 16, 16), y=shapes.y)
    X, y = make(n_samples=2000, seed=42)
    np.savez_compressed(paths[2], X=X.astype(np.float32), y=y)
    return paths


if __name__ == "__main__":
    for path in main():
        print(f"{path} ({path.stat().st_size / 1024:.0f} KB)")
