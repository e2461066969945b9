"""DEITA score-first diversity filter: graph kernel = exact numpy check; threshold respected."""
from __future__ import annotations

import numpy as np
import pytest

from curation.select import get_selector
from curation.neighbours.graph import exact_knn


def blobs(n: int = 140, d: int = 8, centers: int = 5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    C = rng.normal(size=(centers, d))
    X = C[rng.integers(centers, size=n)] + 0.5 * rng.normal(size=(n, d))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.95])
def test_graph_filter_equals_exact_with_full_graph(threshold: float) -> None:
    X = blobs()
    q = np.random.default_rng(1).random(len(X))
    a = get_selector("deita", threshold=threshold).rank(X, graph=exact_knn(X, len(X) - 1), scores=q)
    b = get_selector("deita", threshold=threshold, exact=True).rank(X, scores=q)
    assert np.array_equal(a.order, b.order)


def test_head_is_diverse_and_score_ordered() -> None:
    X = blobs(seed=2)
    q = np.random.default_rng(2).random(len(X))
    t = 0.8
    r = get_selector("deita", threshold=t, exact=True).rank(X, scores=q)
    # the diverse head: walk until the first element too similar to an earlier one
    S = X @ X.T
    head = []
    for j in r.order:
        if head and S[j, head].max() > t:
            break
        head.append(int(j))
    assert len(head) < len(X)
    assert np.all(np.diff(q[head]) <= 0)
    rest = r.order[len(head):]
    assert all(S[j, head].max() > t for j in rest)        # every skipped row is redundant with the head
    assert np.all(np.diff(q[rest]) <= 0)


def test_lower_is_better_score_is_flipped() -> None:
    X = blobs(seed=3)
    q = np.random.default_rng(3).random(len(X))
    r = get_selector("deita", threshold=1.0).rank(X, graph=exact_knn(X, 5), scores=q,
                                                  context={"higher_is_better": [False]})
    assert np.array_equal(r.order, np.argsort(q, kind="stable"))
