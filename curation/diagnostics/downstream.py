"""The downstream curve of a subset as stored by ``python -m curation prove`` (:mod:`curation.workflows.prove`
trains and stores it; the Select page and the export datasheet read it here): reward-head accuracy and agreement
with the pool's head at each budget, against random subsets of the same size."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

ARTIFACT_PREFIX = "prove:"


@dataclass
class ProveResult:
    """A downstream curve. points: one dict per trained subset (budget share, rows, kind "subset" / "random" /
    "pool", seed, accuracy, agree_pool); the summary per budget is :meth:`table`."""

    source: str                 # ranking key or saved subset NAME@VERSION
    kind: str                   # "ranking" or "saved"
    n_train: int
    n_held: int
    holdout: float
    points: list[dict] = field(default_factory=list)
    model: str = ""
    created_at: str = ""
    cpu_s: float = 0.0

    def table(self) -> pd.DataFrame:
        """One row per budget: budget, rows, subset accuracy / agreement with the pool head, random mean and
        standard deviation of both over seeds, the pool's accuracy."""
        p = pd.DataFrame(self.points)
        pool = p[p["kind"] == "pool"]
        pool_acc = float(pool["accuracy"].iloc[0]) if len(pool) else math.nan
        rows = []
        for b, g in p[p["kind"] != "pool"].groupby("budget", sort=True):
            s, r = g[g["kind"] == "subset"], g[g["kind"] == "random"]
            rows.append({"budget": float(b), "rows": int(g["rows"].iloc[0]),
                         "accuracy": float(s["accuracy"].mean()) if len(s) else math.nan,
                         "agree_pool": float(s["agree_pool"].mean()) if len(s) else math.nan,
                         "random_accuracy": float(r["accuracy"].mean()) if len(r) else math.nan,
                         "random_accuracy_sd": float(r["accuracy"].std(ddof=1)) if len(r) > 1 else math.nan,
                         "random_agree_pool": float(r["agree_pool"].mean()) if len(r) else math.nan,
                         "random_agree_pool_sd": float(r["agree_pool"].std(ddof=1)) if len(r) > 1 else math.nan,
                         "pool_accuracy": pool_acc, "seeds": int(len(r))})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProveResult:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def sentence(self, budget: float | None = None) -> str:
        """The datasheet's line: how the subset's head agrees with the pool's, at ``budget`` (a share; the
        measured budget closest to it) or the largest measured one."""
        t = self.table()
        if not len(t):
            return ""
        row = t.iloc[int(np.argmin(np.abs(t["budget"] - budget)))] if budget is not None else t.iloc[-1]
        rnd = ("" if not np.isfinite(row["random_agree_pool"]) else
               f"; random subsets of the same size: {row['random_agree_pool']:.1%}"
               + (f" ± {row['random_agree_pool_sd']:.1%}" if np.isfinite(row["random_agree_pool_sd"]) else "")
               + f" over {int(row['seeds'])} seeds")
        return (f"A reward head trained on this subset ({int(row['rows']):,} training pairs, {row['budget']:.0%} of "
                f"{self.n_train:,}) agrees with one trained on the pool on {row['agree_pool']:.1%} of "
                f"{self.n_held:,} held-out pairs{rnd}. Its accuracy against the human labels: {row['accuracy']:.1%} "
                f"(pool: {row['pool_accuracy']:.1%}; 50% = chance).")


def artifact_key(source: str) -> str:
    return f"{ARTIFACT_PREFIX}{source}"


def stored(ws: Any, source: str) -> ProveResult | None:
    """The stored curve of a ranking key or saved subset ref, or None."""
    d = ws.artifact(artifact_key(source))
    return ProveResult.from_dict(d) if isinstance(d, dict) else None


