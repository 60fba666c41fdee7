"""`bench advise`, step 5: the answer's caveats, what could make it wrong, one line each.

A small test part, few seeds, ill-behaved curves, failed or unrun cells, class imbalance,
different hardware, configurations chosen on test scores, a family with no finished cell.
"""

from __future__ import annotations

import math

from bench.advise.inspect import Profile, minority_share

SMALL_TEST = 300
IMBALANCE = 0.4  # the rarest class below this share of the commonest one: accuracy misleads


def caveats(df, ok, profile: Profile, best, curves, cross, not_started: int, n_seeds: int) -> list[str]:
    out = []
    if profile.n_test < SMALL_TEST:
        p = max(b.mean for b in best.values()) if best else 0.5
        se = math.sqrt(max(p * (1 - p), 0.01) / profile.n_test) if profile.task == "classification" else math.nan
        noise = f"; a difference below about {2 * se:.3f} is within its noise" if math.isfinite(se) else ""
        out.append(f"small test set: {profile.n_test} rows (one row moves accuracy by {1 / profile.n_test:.3f}){noise}; "
                   "the interval counts this noise as well as the seeds'")
    if 0 < n_seeds < 3:
        out.append(f"only {n_seeds} seed{'s' if n_seeds != 1 else ''}: the interval is rough")
    for g, c in curves.items():
        for p in c.problems:
            out.append(f"ill-behaved {g} curve: {p}")
    if not df.empty:
        bad = df[df["status"] != "ok"]
        if len(bad):
            parts = []
            for (model, status), g in bad.groupby(["model", "status"]):
                sizes = ", ".join(f"{n:,}" for n in sorted(g["n_train"].unique()))
                parts.append(f"{model} {status} x{len(g)} (at {sizes} rows)")
            fams = sorted(set(bad["family"].astype(str)))
            whose = f"the {fams[0]} answer is" if len(fams) == 1 else f"the {' and '.join(fams)} answers are"
            out.append(f"failed cells: {len(bad)} of {len(df)}: {'; '.join(parts)}; {whose} missing them")
    if not_started:
        out.append(f"{not_started} planned cell{'s' if not_started != 1 else ''} did not start before the budget ran out "
                   "(the last in the order that answers first: spare seeds and sizes, then searches); "
                   "complete them with the resume command")
    share = minority_share(profile)
    if profile.task == "classification" and profile.classes and share < IMBALANCE * profile.classes[0][1] / profile.n_rows and best:
        bal = []
        at = ok[ok["n_train"] == ok["n_train"].max()] if not ok.empty else ok
        for g, b in best.items():
            v = at[at["config"] == b.config]["balanced_accuracy"].mean()
            bal.append(f"{g} {v:.3f}")
        out.append(f"imbalanced classes (the rarest is {share:.0%} of the rows): accuracy rewards the common classes; "
                   f"balanced accuracy of the best: {', '.join(bal)}")
    if best:
        devices = {g: b.costs["device"] for g, b in best.items()}
        if any(str(d).startswith(("cuda", "mps")) for d in devices.values()):
            out.append("hardware differs: " + ", ".join(f"{g} ran on {d}" for g, d in devices.items())
                       + "; times compare different devices")
        if any(b.chosen_on == "test" for b in best.values()):  # not "validation" or "cross-validation"
            out.append("some configurations were chosen on test scores (cells without a validation part)")
    if "classical" not in best or "deep" not in best:
        missing = [f for f in ("classical", "deep") if f not in best]
        out.append(f"no finished {' or '.join(missing)} cell at the full size: the families cannot be compared")
    return out
