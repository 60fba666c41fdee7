"""Ranks per modality: the configurations and datasets a critical-difference diagram ranks, and those it leaves out.

Ranks compare configurations on the same datasets, so each modality gets its own block: the
datasets of that modality (each at its largest size) by the configurations that ran on all of
them. A dataset whose largest size ran few configurations would shrink the block for every other
dataset; it is left out when that ranks more (configuration, dataset) pairs, as long as two
datasets stay. Everything left out is named with its reason, under the diagram and the table,
which show the same ranks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from bench.registry import MODALITIES
from bench.report import stats


@dataclass(frozen=True)
class ModalityRanks:
    modality: str
    scores: pd.DataFrame  # datasets × configurations ranked (mean test score at each dataset's largest size)
    friedman: stats.Friedman | None  # None: fewer than 3 configurations or 2 datasets
    families: dict[str, str]  # configuration -> family
    left_configs: dict[str, str] = field(default_factory=dict)  # configuration -> why it is not ranked
    left_datasets: dict[str, str] = field(default_factory=dict)  # dataset -> why it is not ranked

    def ranks(self) -> pd.Series:
        """Average rank (1 = best) per ranked configuration, best first: the diagram's numbers."""
        if self.scores.empty:
            return pd.Series(dtype="float64")
        r = self.scores.rank(axis=1, ascending=False, method="average").mean(axis=0)
        return r.sort_values(kind="stable")

    def left_out_text(self) -> str:
        parts = [f"{d} ({why})" for d, why in self.left_datasets.items()]
        parts += [f"{c} ({why})" for c, why in self.left_configs.items()]
        return "Left out: " + "; ".join(parts) + "." if parts else "Nothing left out: every configuration ran on every dataset."


def _covered(block: pd.DataFrame) -> int:
    return int(block.notna().all(axis=0).sum()) * block.shape[0]


def modality_ranks(ok: pd.DataFrame) -> list[ModalityRanks]:
    """One `ModalityRanks` per modality of `ok` (finished cells), in the report's modality order."""
    if ok.empty:
        return []

    fams = {str(c): str(f) for c, f in ok.groupby("config")["family"].first().items()}
    mods = [m for m in MODALITIES if m in set(ok["modality"].astype(str))]
    mods += sorted(set(ok["modality"].astype(str)) - set(mods))
    out = []
    for mod in mods:
        sub = ok[ok["modality"].astype(str) == mod]
        block = stats.block_scores(sub)
        left_d: dict[str, str] = {}
        while block.shape[0] > 2:
            base = _covered(block)
            trials = sorted(((_covered(block.drop(index=d)), str(d)) for d in block.index), key=lambda t: (-t[0], t[1]))
            gain, drop = trials[0]
            if gain <= base:
                break
            n_here = int(block.loc[drop].notna().sum())
            left_d[drop] = (f"only {n_here} configurations ran at its largest size; without it "
                            f"{int(block.drop(index=drop).notna().all(axis=0).sum())} configurations are ranked, "
                            f"with it {int(block.notna().all(axis=0).sum())}")
            block = block.drop(index=drop)
        complete = block.loc[:, block.notna().all(axis=0)]
        n = block.shape[0]
        left_c = {}
        task_of = ({str(d): str(t) for d, t in sub.groupby("dataset")["task"].first().items()}
                   if "task" in sub.columns else {})
        for c in block.columns:
            if c not in complete.columns:
                ran = [str(d) for d in block.index if pd.notna(block.loc[d, c])]
                why = (f"ran on {len(ran)} of the {n} datasets ranked: {', '.join(ran)}" if ran
                       else "ran only on datasets left out")
                kinds = {task_of.get(d) for d in ran}
                if len(kinds) == 1 and None not in kinds:
                    k = kinds.pop()
                    if ran == [str(d) for d in block.index if task_of.get(str(d)) == k]:
                        why += f", every {k} dataset: a {k} model"
                left_c[str(c)] = why
        test = stats.friedman(complete)
        out.append(ModalityRanks(mod, complete, test, {c: fams.get(str(c), "") for c in complete.columns}, left_c, left_d))
    return out
