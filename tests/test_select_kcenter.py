"""k-center greedy: the graph-accelerated kernel equals the dense one and a plain-numpy farthest-first."""
from __future__ import annotations

import numpy as np
import pytest

from curation.select import get_selector
from curation.neighbours.graph import exact_knn


def blobs(n: int = 150, d: int = 10, centers: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    C = rng.normal(size=(centers, d))
    X = C[rng.integers(centers, size=n)] + 0.6 * rng.normal(size=(n, d))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


def numpy_kcenter(X: np.ndarray, first: int, k: int) -> np.ndarray:
    D = 1.0 - X.astype(np.float64) @ X.T.astype(np.float64)
    dist = np.full(len(X), np.inf)
    order = [first]
    for _ in range(k - 1):
        dist = np.minimum(dist, D[order[-1]])
        dist[order] = -1
        order.append(int(np.argmax(dist)))
    return np.array(order)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_graph_kernel_equals_dense_and_numpy(seed: int) -> None:
    X = blobs(seed=seed)
    g = exact_knn(X, 8)
    a = get_selector("kcenter").rank(X, graph=g, seed=seed)
    b = get_selector("kcenter", use_graph=False).rank(X, seed=seed)
    assert np.array_equal(a.order, b.order)
    assert np.allclose(a.gains, b.gains, equal_nan=True, atol=1e-5)
    ref = numpy_kcenter(X, int(a.order[0]), 60)
    assert np.array_equal(a.order[:60], ref)


def test_covering_radius_decreases() -> None:
    X = blobs(seed=3)
    r = get_selector("kcenter").rank(X, graph=exact_knn(X, 8))
    assert np.isnan(r.gains[0])
    assert np.all(np.diff(r.gains[1:]) <= 1e-6)
    # radius of the first k picks really is the max distance of any point to them
    k = 20
    D = 1 - X @ X[r.order[:k]].T
    assert np.isclose(D.min(axis=1).max(), r.gains[k], atol=1e-5)
