"""Top-k by a score, or by a weighted combination of scores.

Each score column is oriented so that higher is better (``higher_is_better`` per column), normalised
(``normalize``: "rank" → percentile in [0, 1], "zscore", or "none"), combined with the weights, and sorted
descending; ties keep position order (stable), NaN (not applicable) goes last. O(n·m + n log n).
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from curation.core.errors import CurationError
from curation.select.base import Pool, Selector, check_choice, register


def combine_scores(scores: np.ndarray, *, weights: list[float] | None = None,
                   higher_is_better: list[bool] | None = None, normalize: str = "rank") -> np.ndarray:
    """(n,) combined score, higher = better; NaN where every column is NaN.

    scores: (n,) or (n, m) float. A row with some NaN columns gets the weighted mean of the others.
    """
    S = np.asarray(scores, dtype=np.float64)
    if S.ndim == 1:
        S = S[:, None]
    n, m = S.shape
    w = np.ones(m) if weights is None else np.asarray(weights, dtype=np.float64)
    hib = np.ones(m, dtype=bool) if higher_is_better is None else np.asarray(higher_is_better, dtype=bool)
    if len(w) != m or len(hib) != m:
        raise CurationError(f"top-k: {m} score column(s) but {len(w)} weight(s) and {len(hib)} direction(s)")
    Z = np.where(hib, S, -S)
    if normalize == "rank":
        Z = np.column_stack([percentile_rank(Z[:, c]) for c in range(m)])
    elif normalize == "zscore":
        mu = np.nanmean(Z, axis=0)
        sd = np.nanstd(Z, axis=0)
        Z = (Z - mu) / np.where(sd > 0, sd, 1.0)
    elif normalize != "none":
        raise CurationError(f"top-k: normalize={normalize!r} is not one of ['rank', 'zscore', 'none']")
    valid = ~np.isnan(Z)
    wsum = (valid * np.abs(w)).sum(axis=1)
    tot = np.nansum(Z * w, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        comb = np.where(wsum > 0, tot / np.where(wsum > 0, wsum, 1.0), np.nan)
    return comb if m > 1 else np.where(valid[:, 0], Z[:, 0], np.nan)


def percentile_rank(v: np.ndarray) -> np.ndarray:
    """Average-tie rank of each non-NaN value scaled to [0, 1] (NaN stays NaN). O(n log n)."""
    v = np.asarray(v, dtype=np.float64)
    out = np.full(len(v), np.nan)
    ok = ~np.isnan(v)
    vals = v[ok]
    if not len(vals):
        return out
    o = np.argsort(vals, kind="stable")
    sv = vals[o]
    starts = np.r_[0, np.flatnonzero(np.diff(sv)) + 1]
    ends = np.r_[starts[1:], len(sv)]
    r = np.empty(len(sv))
    r[o] = np.repeat((starts + ends - 1) / 2.0, ends - starts)
    out[ok] = r / max(len(sv) - 1, 1)
    return out


def order_desc(values: np.ndarray) -> np.ndarray:
    """Positions sorted by value descending, ties by position, NaN last. O(n log n)."""
    v = np.asarray(values, dtype=np.float64)
    key = np.where(np.isnan(v), np.inf, -v)
    return np.argsort(key, kind="stable")


@register
class TopKSelector(Selector):
    """Best-scored first. score: one score key, or scores: {key: weight} for a weighted combination.

    Directions come from the workspace's score definitions (run_selection passes them); normalize applies to
    combinations ("rank" percentiles by default, so scores on different scales mix fairly). Gains = the
    (combined) score.
    """

    name: ClassVar[str] = "topk"
    needs: ClassVar[tuple[str, ...]] = ("scores",)
    gains_meaning: ClassVar[str] = "the score (combined, higher is better)"
    description: ClassVar[str] = "Top-k by a quality score or a weighted combination of scores"

    def __init__(self, *, score: str | None = None, scores: dict[str, float] | None = None,
                 normalize: str = "rank") -> None:
        self.score, self.scores, self.normalize = score, dict(scores) if scores else None, normalize
        check_choice(self.name, "normalize", normalize, ("rank", "zscore", "none"))
        if score is not None and scores is not None:
            raise CurationError("method 'topk': pass either score=KEY or scores={KEY: WEIGHT, ...}, not both")

    def score_keys(self) -> list[str]:
        if self.scores:
            return list(self.scores)
        return [self.score] if self.score else []

    def _order(self, pool: Pool, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        S = pool.scores
        ctx = pool.context or {}
        m = 1 if S.ndim == 1 else S.shape[1]
        w = list(self.scores.values()) if self.scores and len(self.scores) == m else None
        hib = ctx.get("higher_is_better")
        if m == 1:  # normalising one column is monotone: rank by the raw (oriented) score, report it as gain
            comb = np.asarray(S, dtype=np.float64).reshape(-1)
            if hib is not None and not bool(np.ravel(hib)[0]):
                comb = -comb
        else:
            comb = combine_scores(S, weights=w, higher_is_better=hib, normalize=self.normalize)
        order = order_desc(comb)
        return order, comb[order]
