"""Coverage of the pool by a selection: for each pool example, the cosine similarity to its nearest selected one.

From it: mean and 95th-percentile cosine distance (``1 - similarity``) pool → nearest selected, and the
facility-location value ``Σ_pool max_{s∈S} sim`` (reported per pool row, so 1.0 = every pool row is selected or
has an identical selected twin).

Exact over all pool rows costs O(n·k·d) per selection, far too slow to follow a budget slider at 100k rows, so
:class:`CoverageIndex` works on a fixed seeded sample of pool rows (all rows when the pool is small) and answers
in three steps, each exact for the sample:

1. precomputed once: each sampled row's ``top_l`` nearest pool rows, best first. The first selected one among
   them *is* its nearest selected row: one boolean gather, O(m·L).
2. rows with none of their ``top_l`` neighbours selected (small or region-avoiding selections) reuse the previous
   selection's answer when its nearest row is still selected, comparing only with the rows added since:
   O(r·|added|·d). This is what makes moving a budget slider cheap.
3. the rest are searched by brute force against the selection: O(r·k·d).
"""
from __future__ import annotations

import threading

import numpy as np

BRUTE_CHUNK = 16384


class CoverageIndex:
    """Nearest-selected similarities for a fixed sample of pool rows.

    X: (n, d) float32, L2-normalised (kept by reference, not copied). sample: rows sampled (all when n ≤ sample).
    top_l: neighbours kept per sampled row. Build cost O(m·n·d) flops + O(m·n) partial sorts (100k × 384,
    m = 1024: ~2–3 s on 2 cores); memory O(m·L).
    """

    def __init__(self, X: np.ndarray, *, sample: int = 1024, top_l: int = 256, seed: int = 0) -> None:
        n = len(X)
        self.X = X
        self.n = n
        m = min(n, int(sample))
        rng = np.random.default_rng(seed)
        self.rows = np.arange(n, dtype=np.int64) if m == n else np.sort(rng.choice(n, m, replace=False))
        self.exact = m == n
        L = min(int(top_l), n)
        self.nbr = np.zeros((m, L), dtype=np.int64)
        self.nsim = np.zeros((m, L), dtype=np.float32)
        block = 128
        for a in range(0, m, block):
            S = X[self.rows[a:a + block]] @ X.T
            if L < n:
                idx = np.argpartition(-S, L - 1, axis=1)[:, :L]
            else:
                idx = np.broadcast_to(np.arange(n), S.shape).copy()
            sims = np.take_along_axis(S, idx, axis=1)
            o = np.argsort(-sims, axis=1, kind="stable")
            self.nbr[a:a + block] = np.take_along_axis(idx, o, axis=1)
            self.nsim[a:a + block] = np.take_along_axis(sims, o, axis=1)
        self._lock = threading.Lock()
        self._mask: np.ndarray | None = None
        self._best: np.ndarray | None = None
        self._arg: np.ndarray | None = None

    def nearest(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For selection ``mask`` ((n,) bool), (best similarity (m,) float32, position of the nearest selected
        pool row (m,) int64) for each sampled row; NaN / -1 when nothing is selected. Thread-safe."""
        with self._lock:
            best, arg = self._nearest(mask)
            self._mask, self._best, self._arg = mask.copy(), best, arg
            return best.copy(), arg.copy()

    def _nearest(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = len(self.rows)
        k = int(mask.sum())
        best = np.full(m, np.nan, dtype=np.float32)
        arg = np.full(m, -1, dtype=np.int64)
        if k == 0:
            return best, arg
        hit = mask[self.nbr]
        found = hit.any(axis=1)
        j = hit.argmax(axis=1)
        ii = np.flatnonzero(found)
        best[ii] = self.nsim[ii, j[ii]]
        arg[ii] = self.nbr[ii, j[ii]]
        todo = np.flatnonzero(~found)
        if len(todo) == 0:
            return best, arg
        brute = todo
        if self._mask is not None:
            prev_arg = self._arg[todo]
            still = (prev_arg >= 0) & mask[np.maximum(prev_arg, 0)]
            added = np.flatnonzero(mask & ~self._mask)
            r_still = int(still.sum())
            if r_still and r_still * len(added) + (len(todo) - r_still) * k < len(todo) * k:
                rows_s = todo[still]
                best[rows_s] = self._best[rows_s]
                arg[rows_s] = self._arg[rows_s]
                if len(added):
                    self._update(rows_s, added, best, arg)
                brute = todo[~still]
        if len(brute):
            sel = np.flatnonzero(mask)
            self._update(brute, sel, best, arg, full_mask=mask if 3 * k > self.n else None)
        return best, arg

    def _update(self, rows: np.ndarray, cand: np.ndarray, best: np.ndarray, arg: np.ndarray,
                full_mask: np.ndarray | None = None) -> None:
        """best[rows] = max(best[rows], max sim to X[cand]) (NaN counts as -inf), arg likewise. O(|rows|·|cand|·d)."""
        Q = self.X[self.rows[rows]]
        cur = np.where(np.isnan(best[rows]), -np.inf, best[rows]).astype(np.float32)
        cur_arg = arg[rows].copy()
        if full_mask is not None:  # most rows selected: one pass over X, masked, beats gathering the selection
            for a in range(0, self.n, BRUTE_CHUNK):
                S = Q @ self.X[a:a + BRUTE_CHUNK].T
                S[:, ~full_mask[a:a + BRUTE_CHUNK]] = -np.inf
                j = S.argmax(axis=1)
                v = S[np.arange(len(rows)), j]
                better = v > cur
                cur[better] = v[better]
                cur_arg[better] = a + j[better]
        else:
            for a in range(0, len(cand), BRUTE_CHUNK):
                c = cand[a:a + BRUTE_CHUNK]
                S = Q @ self.X[c].T
                j = S.argmax(axis=1)
                v = S[np.arange(len(rows)), j]
                better = v > cur
                cur[better] = v[better]
                cur_arg[better] = c[j[better]]
        best[rows] = cur
        arg[rows] = cur_arg


def coverage_summary(best_sim: np.ndarray, *, n_pool: int, exact: bool) -> dict[str, float | int | bool]:
    """Summaries of nearest-selected similarities (m,) of sampled pool rows.

    mean_distance, p95_distance: cosine distance 1 - sim (0 = covered; 1 = orthogonal), lower is better.
    facility_location: mean over pool rows of the max similarity to the selection (higher is better, ≤ 1);
    facility_location_total: the same summed over the pool (n_pool × mean), the usual submodular objective."""
    b = np.asarray(best_sim, dtype=np.float64)
    if len(b) == 0 or np.all(np.isnan(b)):
        nan = float("nan")
        return {"mean_distance": nan, "p95_distance": nan, "max_distance": nan, "facility_location": nan,
                "facility_location_total": nan, "n_sample": int(len(b)), "exact": exact}
    dist = 1.0 - b
    fl = float(np.mean(b))
    return {"mean_distance": float(np.mean(dist)), "p95_distance": float(np.quantile(dist, 0.95)),
            "max_distance": float(np.max(dist)), "facility_location": fl, "facility_location_total": fl * n_pool,
            "n_sample": int(len(b)), "exact": exact}


def random_baseline_distance(nsim: np.ndarray, *, n: int, k: int, max_tail: float = 0.05) -> float:
    """Expected mean cosine distance pool → nearest selected for a *uniformly random* subset of k of n rows,
    from the sampled rows' top-L similarity lists nsim (m, L), best first.

    P(the first selected neighbour is the j-th) = k/(n-j) · Π_{i<j} (n-k-i)/(n-i) (0-based j). The probability
    left beyond rank L (where similarities are unknown) is charged at the L-th similarity, which makes the
    baseline slightly optimistic; when that mass exceeds ``max_tail`` the baseline is NaN (too uncertain).
    O(m·L). A selection whose mean distance is well above this covers the pool worse than chance.
    """
    m, L = nsim.shape
    if k <= 0 or m == 0 or L == 0:
        return float("nan")
    if k >= n:
        return 0.0
    j = np.arange(L, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.clip((n - k - j) / (n - j), 0.0, 1.0)
        surv = np.concatenate([[1.0], np.cumprod(step)[:-1]])
        p = surv * np.clip(k / (n - j), 0.0, 1.0)
    tail = max(0.0, 1.0 - float(p.sum()))
    if tail > max_tail:
        return float("nan")
    exp_sim = nsim.astype(np.float64) @ p + tail * nsim[:, -1].astype(np.float64)
    return float(np.mean(1.0 - exp_sim))
