"""Quality-score distributions of a subset against its pool, one row per score key.

Each score column is sorted once (:class:`QualityIndex`); a subset's sorted values are then a boolean gather of
that order, so quantiles cost O(n) per key and no sort per budget.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
_QNAMES = ("q10", "q25", "median", "q75", "q90")


def _summary(v: np.ndarray) -> dict[str, float]:
    """count, mean, std and the :data:`QUANTILES` of sorted values v (numpy's linear interpolation)."""
    n = len(v)
    if n == 0:
        return {"n": 0, "mean": np.nan, "std": np.nan, **{q: np.nan for q in _QNAMES}}
    h = (n - 1) * np.asarray(QUANTILES)
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    qs = v[lo] + (h - lo) * (v[hi] - v[lo])
    return {"n": n, "mean": float(v.mean()), "std": float(v.std()), **dict(zip(_QNAMES, map(float, qs)))}


class QualityIndex:
    """Sorted score columns of a pool.

    values: (n, K) float64 aligned with the pool rows (NaN = not applicable, left out). keys: K score keys.
    higher_is_better: key → True / False / None (unknown direction). Build O(K·n log n); memory O(K·n).
    """

    def __init__(self, values: np.ndarray, keys: list[str], higher_is_better: dict[str, bool | None]) -> None:
        self.keys = list(keys)
        self.direction = {k: higher_is_better.get(k) for k in self.keys}
        self.orders: list[np.ndarray] = []
        self.sorted_values: list[np.ndarray] = []
        self.pool: list[dict[str, float]] = []
        for j in range(len(self.keys)):
            col = np.asarray(values[:, j], dtype=np.float64)
            valid = np.flatnonzero(np.isfinite(col))
            o = valid[np.argsort(col[valid], kind="stable")]
            self.orders.append(o)
            self.sorted_values.append(col[o])
            self.pool.append(_summary(col[o]))

    def table(self, mask: np.ndarray) -> pd.DataFrame:
        """One row per key: key, higher_is_better, pool_* and subset_* (n, mean, q10, q25, median, q75, q90),
        mean_change (subset - pool) and effect (mean_change / pool std; sign flipped for lower-is-better keys,
        so positive = the subset is better). O(K·n)."""
        rows = []
        for j, key in enumerate(self.keys):
            sub = _summary(self.sorted_values[j][mask[self.orders[j]]])
            pool = self.pool[j]
            change = sub["mean"] - pool["mean"]
            hib = self.direction[key]
            sign = 1.0 if hib in (True, None) else -1.0
            effect = sign * change / pool["std"] if pool["std"] and np.isfinite(pool["std"]) and pool["std"] > 0 \
                else np.nan
            row = {"key": key, "higher_is_better": hib}
            row.update({f"pool_{k}": v for k, v in pool.items() if k != "std"})
            row.update({f"subset_{k}": v for k, v in sub.items() if k != "std"})
            row["mean_change"] = change
            row["effect"] = effect if hib is not None else np.nan
            rows.append(row)
        cols = ["key", "higher_is_better"] + [f"{p}_{k}" for p in ("pool", "subset") for k in ("n", "mean", *_QNAMES)] \
            + ["mean_change", "effect"]
        return pd.DataFrame(rows, columns=cols)


def quality_alerts(table: pd.DataFrame, *, worse_effect: float = -0.25) -> list[str]:
    """Keys with a known direction where the subset's mean is worse than the pool's by more than
    ``|worse_effect|`` pool standard deviations."""
    out = []
    for r in table.itertuples(index=False):
        if r.higher_is_better is None or not np.isfinite(r.effect) or r.subset_n == 0:
            continue
        if r.effect <= worse_effect:
            word = "lower" if r.higher_is_better else "higher"
            out.append(f"the selection's mean {r.key} is worse than the pool's: {r.subset_mean:.3g} vs "
                       f"{r.pool_mean:.3g} ({word} is worse; {abs(r.effect):.2f} pool standard deviations)")
    return out


def mean_shift(scores: pd.DataFrame, directions: dict[str, bool | None], pool_ids: np.ndarray,
               subset_ids: np.ndarray) -> pd.DataFrame:
    """Mean of each directional score in the pool and in the subset: score, higher_is_better, pool mean, subset
    mean, change (subset − pool). scores: row_id plus one column per key; directions: key → higher_is_better
    (keys with None, or with no finite value in the pool, are left out). O(n) per key."""
    idx = pd.Index(scores["row_id"].to_numpy())
    pos_pool = idx.get_indexer(np.asarray(pool_ids))
    pos_sub = idx.get_indexer(np.asarray(subset_ids))
    pos_pool, pos_sub = pos_pool[pos_pool >= 0], pos_sub[pos_sub >= 0]
    rows = []
    for key, hib in directions.items():
        if hib is None or key not in scores.columns:
            continue
        col = scores[key].to_numpy(np.float64)
        a, s = col[pos_pool], col[pos_sub]
        if not np.isfinite(a).any():
            continue
        pm = float(np.nanmean(a))
        sm = float(np.nanmean(s)) if np.isfinite(s).any() else float("nan")
        rows.append({"score": key, "higher_is_better": bool(hib), "pool mean": pm, "subset mean": sm,
                     "change": sm - pm})
    return pd.DataFrame(rows, columns=["score", "higher_is_better", "pool mean", "subset mean", "change"])
