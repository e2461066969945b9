"""Coverage index: nearest selected row for sampled pool rows (curation/diagnostics/coverage.py)."""
from __future__ import annotations

import numpy as np
import pytest

from curation.diagnostics.coverage import CoverageIndex, coverage_summary, random_baseline_distance


def _data(n: int = 600, d: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((6, d))
    X = centers[rng.integers(0, 6, n)] + 0.5 * rng.standard_normal((n, d))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


def _brute(X: np.ndarray, rows: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return (X[rows] @ X[mask].T).max(axis=1)


def test_nearest_equals_brute_force_over_a_sequence_of_selections() -> None:
    X = _data()
    n = len(X)
    idx = CoverageIndex(X, sample=200, top_l=16, seed=1)
    assert len(idx.rows) == 200 and not idx.exact
    rng = np.random.default_rng(2)
    order = rng.permutation(n)
    region = np.argsort(X[:, 0])  # a selection that avoids one side of the space
    masks = []
    for k in (5, 50, 300, 310, 290, 40, 600, 1):  # growing, shrinking, jumping: all cache paths
        m = np.zeros(n, dtype=bool)
        m[order[:k]] = True
        masks.append(m)
    for k in (100, 250, 120):
        m = np.zeros(n, dtype=bool)
        m[region[:k]] = True
        masks.append(m)
    for m in masks:
        best, arg = idx.nearest(m)
        np.testing.assert_allclose(best, _brute(X, idx.rows, m), atol=1e-5)
        assert np.all(m[arg])
        np.testing.assert_allclose(best, np.einsum("ij,ij->i", X[idx.rows], X[arg]), atol=1e-5)


def test_empty_selection_and_small_pool_is_exact() -> None:
    X = _data(n=80)
    idx = CoverageIndex(X, sample=1024, top_l=8)
    assert idx.exact and len(idx.rows) == 80
    best, arg = idx.nearest(np.zeros(80, dtype=bool))
    assert np.all(np.isnan(best)) and np.all(arg == -1)
    assert np.isnan(coverage_summary(best, n_pool=80, exact=True)["mean_distance"])
    full = np.ones(80, dtype=bool)
    s = coverage_summary(idx.nearest(full)[0], n_pool=80, exact=True)
    assert s["mean_distance"] == pytest.approx(0.0, abs=1e-5)
    assert s["facility_location"] == pytest.approx(1.0, abs=1e-5)
    assert s["facility_location_total"] == pytest.approx(80.0, abs=1e-3)


def test_random_baseline_matches_monte_carlo() -> None:
    X = _data(n=400, seed=3)
    idx = CoverageIndex(X, sample=400, top_l=400)  # full neighbour lists: the baseline is exact
    rng = np.random.default_rng(4)
    for k in (5, 40):
        sims = []
        for _ in range(300):
            m = np.zeros(400, dtype=bool)
            m[rng.choice(400, k, replace=False)] = True
            sims.append(np.mean(1.0 - _brute(X, idx.rows, m)))
        expected = random_baseline_distance(idx.nsim, n=400, k=k)
        assert expected == pytest.approx(np.mean(sims), rel=0.05)
    assert random_baseline_distance(idx.nsim, n=400, k=400) == 0.0
    short = CoverageIndex(X, sample=50, top_l=4)
    assert np.isnan(random_baseline_distance(short.nsim, n=400, k=2))  # mass beyond top-4: too uncertain
