"""k-center greedy (Gonzalez 1985; Sener & Savarese's core-set): pure coverage of the embedding space.

Each pick is the example farthest (cosine distance 1 - <x_i, x_j>) from every example already picked, so a prefix
of size k minimises (within a factor 2) the largest distance from any example to its nearest pick. The first
center is drawn from the seed (or is the first include pin). Gains = that farthest distance when picked (NaN for
the first pick: infinitely far from the empty set).

The full order of n examples is O(n²·d) done naively. With the neighbour graph, a point whose nearest center is
closer than its k-th neighbour can only be improved by one of its neighbours, so after that moment it is updated
along graph edges only; the dense work shrinks to the still-uncovered points. Exact for an exact kNN graph.
Even so the uncovered set shrinks slowly (about n/k picks are needed before every point has a center among its
neighbours), so by default only the first ``exact_head`` = 1000 picks are exact farthest-first; after that the
order follows graph edges only (a point's distance is then an upper bound). ``exact_head=0`` means all exact.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from curation.core.errors import CurationError
from curation.select.base import Pool, Selector, check_range, graph_arrays, register


@register
class KCenterSelector(Selector):
    """k-center greedy on cosine distance. k: graph neighbours when the graph is built here; use_graph: use the
    neighbour graph to skip dense updates of covered points (same order for an exact graph). exact_head: picks
    made with exact distances; later picks follow graph edges only (0 = all exact; ignored without a graph)."""

    name: ClassVar[str] = "kcenter"
    needs: ClassVar[tuple[str, ...]] = ("X", "graph")
    stateful: ClassVar[bool] = True
    gains_meaning: ClassVar[str] = "cosine distance to the nearest earlier pick (covering radius; decreasing)"
    description: ClassVar[str] = "k-center greedy: farthest-first traversal for pure coverage"

    def __init__(self, *, use_graph: bool = True, k: int = 15, exact_head: int = 1000) -> None:
        self.use_graph, self.k, self.exact_head = bool(use_graph), int(k), int(exact_head)
        check_range(self.name, "k", k, 1, None)
        check_range(self.name, "exact_head", exact_head, 0, None)

    def wants_graph(self) -> bool:
        return self.use_graph

    def _order(self, pool: Pool, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        from curation.select import _kernels as K

        X = pool.X
        if X is None:
            raise CurationError("method 'kcenter' needs embeddings X")
        n = pool.n
        avail = np.ones(n, dtype=bool)
        avail[pool.exclude] = False
        dist = np.full(n, np.inf)
        covered_r = np.full(n, -np.inf)
        indptr = np.zeros(n + 1, dtype=np.int64)
        indices = np.zeros(0, dtype=np.int64)
        data = np.zeros(0, dtype=np.float64)
        if self.use_graph:
            from curation.neighbours.graph import knn
            from curation.select._sparse import coverage_matrix

            graph = pool.graph if pool.graph is not None else knn(X, self.k)
            idx, sim = graph_arrays(graph)
            valid = idx >= 0
            # distance to the farthest listed neighbour; rows with no neighbours stay "never covered"
            kth = np.where(valid.any(axis=1), 1.0 - np.where(valid, sim, np.inf).min(axis=1), -np.inf)
            if np.isfinite(kth).any():
                covered_r = np.where(np.isfinite(kth), kth, -np.inf)
            S = coverage_matrix(graph, n)
            indptr, indices, data = (np.asarray(S.indptr, np.int64), np.asarray(S.indices, np.int64),
                                     np.asarray(S.data, np.float64))
        forced = pool.include
        if not forced.size and k > 0:
            cand = np.flatnonzero(avail)
            forced = cand[np.random.default_rng(seed).integers(len(cand))][None] if len(cand) else forced
        order = np.empty(k, dtype=np.int64)
        gains = np.empty(k, dtype=np.float64)
        m = K.kcenter_greedy(np.ascontiguousarray(X, dtype=np.float32), forced.astype(np.int64), dist, avail,
                             covered_r, indptr, indices, data, k,
                             n if (not self.use_graph or self.exact_head == 0) else self.exact_head, order,
                             gains)
        gains = gains[:m]
        gains[~np.isfinite(gains)] = np.nan
        return order[:m], gains
