"""Algorithmic innovation (row 4): a statement about research activity, never measurable here."""

from __future__ import annotations

from bench.report.claims.base import Measurements, Result, claim

RULE = """
None: this row is a statement about research activity (how many new algorithms each field
produces), not about how models behave on data, so no measurement of this benchmark bears
on it. It is always marked not measurable.
"""


@claim(
    "algorithmic_innovation", section="table", order=4, aspect="Algorithmic innovation (算法创新)",
    classical="little (算法创新较少)", deep="much (算法创新较多)", rule=RULE, cells=False,
)
def algorithmic_innovation(ms: Measurements) -> Result:
    return Result(
        "not measurable",
        "not measurable by this benchmark: it concerns the pace of research (papers, new "
        "methods), which no score, time or memory figure of fitted models can show",
    )
