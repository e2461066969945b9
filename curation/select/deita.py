"""Score-first, diversity-aware selection (DEITA, Liu et al. 2024, "What makes good data for alignment").

Walk the examples by a quality score, best first; accept one unless its cosine similarity to an already accepted
example exceeds ``threshold`` (DEITA's Repr Filter). The accepted ones form the ranking's head, in score order;
the skipped ones follow, also in score order, so every budget is a prefix and a budget larger than the diverse
set takes the best of the redundant ones next.

Similarity check: on the symmetrised neighbour graph (default, O(n·k)): exact whenever every pair above the
threshold is a graph edge, which holds for an exact kNN graph unless a row has more than k neighbours above the
threshold (then some of those are accepted together). ``exact=True`` compares against every accepted example
(O(n·|accepted|·d); small pools).
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from curation.core.errors import CurationError
from curation.select.base import Pool, Selector, check_range, register
from curation.select.topk import combine_scores, order_desc


def deita_exact(X: np.ndarray, order: np.ndarray, threshold: float, chosen: np.ndarray) -> np.ndarray:
    """Plain-numpy reference: accepted positions walking ``order``. chosen (n,) bool pre-set pins. O(n·m·d)."""
    acc: list[int] = []
    V = np.empty((len(X), X.shape[1]), dtype=np.float64)   # accepted vectors, pins first
    m = 0
    for i in np.flatnonzero(chosen):
        V[m] = X[i]
        m += 1
    for j in order:
        if chosen[j]:
            continue
        if m and float((V[:m] @ X[j]).max()) > threshold:
            continue
        acc.append(int(j))
        V[m] = X[j]
        m += 1
    return np.array(acc, dtype=np.int64)


@register
class DeitaSelector(Selector):
    """DEITA-style: best score first, skipping near-duplicates of accepted ones. score / scores as in top-k.

    threshold: cosine similarity above which a candidate counts as redundant (DEITA: 0.9). k: graph neighbours
    when the graph is built here. exact: compare with every accepted example instead of graph neighbours.
    Gains = the (combined) score; skipped examples (after the diverse head) have theirs too.
    """

    name: ClassVar[str] = "deita"
    needs: ClassVar[tuple[str, ...]] = ("scores", "graph")
    stateful: ClassVar[bool] = True
    gains_meaning: ClassVar[str] = "the score (combined, higher is better)"
    description: ClassVar[str] = "DEITA: by quality score, skipping examples too similar to one already taken"

    def __init__(self, *, score: str | None = None, scores: dict[str, float] | None = None,
                 threshold: float = 0.9, k: int = 15, exact: bool = False, normalize: str = "rank") -> None:
        self.score, self.scores = score, dict(scores) if scores else None
        self.threshold, self.k, self.exact, self.normalize = float(threshold), int(k), bool(exact), normalize
        check_range(self.name, "threshold", threshold, 0.0, 1.0)
        check_range(self.name, "k", k, 1, None)
        if score is not None and scores is not None:
            raise CurationError("method 'deita': pass either score=KEY or scores={KEY: WEIGHT, ...}, not both")

    def score_keys(self) -> list[str]:
        if self.scores:
            return list(self.scores)
        return [self.score] if self.score else []

    def wants_graph(self) -> bool:
        return not self.exact

    def wants_X(self) -> bool:
        return self.exact

    def _order(self, pool: Pool, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        S = pool.scores
        hib = (pool.context or {}).get("higher_is_better")
        if S.ndim == 1 or S.shape[1] == 1:
            comb = S.reshape(-1) * (1.0 if hib is None or bool(np.ravel(hib)[0]) else -1.0)
        else:
            w = list(self.scores.values()) if self.scores and len(self.scores) == S.shape[1] else None
            comb = combine_scores(S, weights=w, higher_is_better=hib, normalize=self.normalize)
        n = pool.n
        byscore = order_desc(comb)
        drop = np.zeros(n, dtype=bool)
        drop[pool.exclude] = True
        drop[pool.include] = True
        cand = byscore[~drop[byscore]]
        chosen = np.zeros(n, dtype=bool)
        chosen[pool.include] = True
        if self.exact:
            if pool.X is None:
                raise CurationError("method 'deita' with exact=true needs embeddings X")
            acc = deita_exact(pool.X, cand, self.threshold, chosen)
        else:
            from curation.select import _kernels as K
            from curation.neighbours.graph import knn
            from curation.select._sparse import coverage_matrix

            if pool.graph is None:
                if pool.X is None:
                    raise CurationError("method 'deita' needs a neighbour graph or embeddings X to build one")
                graph = knn(pool.X, self.k)
            else:
                graph = pool.graph
            S_ = coverage_matrix(graph, n)
            out, m = K.deita_filter(cand, np.asarray(S_.indptr, np.int64), np.asarray(S_.indices, np.int64),
                                    S_.data, self.threshold, chosen, len(cand))
            acc = out[:m]
        skipped_mask = np.ones(n, dtype=bool)
        skipped_mask[acc] = False
        skipped = cand[skipped_mask[cand]]
        order = np.concatenate([pool.include, acc, skipped]).astype(np.int64)
        return order, comb[order]
