"""Deep learning needs a lot of data and compute; classical ML learns from smaller datasets (rows 3 and 6 together)."""

from __future__ import annotations

from bench.report.claims.base import Measurements, Result, claim
from bench.report.claims.compute_requirement import compute_requirement
from bench.report.claims.data_requirement import data_requirement

RULE = """
The conjunction of two rows of the comparison table: supported when both the data
requirement and the compute requirement rows are supported, refuted when both are refuted,
not measurable when either is, inconclusive when either is, mixed otherwise.
"""


@claim(
    "data_and_compute", order=7, aspect="Data and compute (seed 000, §1)",
    deep="deep learning usually needs a lot of data and compute, while classical machine learning "
    "can learn from smaller datasets", rule=RULE,
)
def data_and_compute(ms: Measurements) -> Result:
    a, b = ms.result(data_requirement), ms.result(compute_requirement)  # the two rows' results, measured once per table
    evidence = [
        {"row": "Data requirement", "verdict": a.verdict, "why": a.reason},
        {"row": "Compute requirement", "verdict": b.verdict, "why": b.reason},
    ]
    if "not measurable" in (a.verdict, b.verdict):
        which = "data requirement" if a.verdict == "not measurable" else "compute requirement"
        return Result("not measurable", f"not measurable with this run: {which} row is not measurable", evidence)
    if "inconclusive" in (a.verdict, b.verdict):
        verdict = "inconclusive"
    else:
        verdict = a.verdict if a.verdict == b.verdict and a.verdict in ("supported", "refuted") else "mixed"
    return Result(verdict, f"data requirement {a.verdict}, compute requirement {b.verdict}", evidence)
