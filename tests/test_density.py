"""Density: the LSH sketch tracks true kernel density, weights invert it, uniqueness/outliers follow the graph."""
from __future__ import annotations

import numpy as np
import pytest

from curation.neighbours.density import (
    density_scores, inverse_propensity, knn_density, lsh_density, outlier_flags, uniqueness, uniqueness_scores,
)
from curation.core.errors import CurationError
from curation.neighbours.graph import DEFAULT_MODEL, KnnGraph, knn, score_key
from test_graph import clustered, fill_workspace


def two_blobs(n_dense: int = 400, n_sparse: int = 100, d: int = 32, seed: int = 0) -> np.ndarray:
    """A tight blob (first n_dense rows) and points spread over the sphere (last n_sparse rows)."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal(d)
    dense = c + 0.15 * np.linalg.norm(c) * rng.standard_normal((n_dense, d)) / np.sqrt(d)
    sparse = rng.standard_normal((n_sparse, d))
    X = np.vstack([dense, sparse])
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


def test_lsh_density_separates_dense_from_sparse_and_is_seeded():
    X = two_blobs()
    dens = lsh_density(X, seed=0)
    assert dens.shape == (500,) and np.all(dens >= 1 / 500) and np.all(dens <= 1)
    assert np.median(dens[:400]) > 5 * np.median(dens[400:])
    np.testing.assert_array_equal(dens, lsh_density(X, seed=0))
    # the chunked path (large n·R) gives the same numbers as the one-shot path
    np.testing.assert_allclose(lsh_density(X, seed=0, chunk=37), dens)


def test_lsh_density_correlates_with_exact_kernel_density():
    X = clustered(600, d=32, centres=6, noise=0.6)
    dens = lsh_density(X, n_rows=128, seed=1)
    d2 = np.maximum(0, 2 - 2 * X @ X.T)
    kde = np.exp(-d2 / 0.5).mean(axis=1)
    rho = np.corrcoef(np.argsort(np.argsort(dens)), np.argsort(np.argsort(kde)))[0, 1]
    assert rho > 0.8


def test_lsh_density_validates():
    with pytest.raises(CurationError, match="n_buckets"):
        lsh_density(two_blobs(), n_buckets=1 << 17)
    with pytest.raises(CurationError, match="non-empty"):
        lsh_density(np.zeros((0, 4), dtype=np.float32))


def test_inverse_propensity_and_knn_density():
    w = inverse_propensity(np.array([0.5, 0.25, 0.125]))
    assert np.isclose(w.mean(), 1.0) and w[2] == 4 * w[0]
    X = two_blobs()
    idx, sim = knn(X, 10)
    kd = knn_density(sim)
    assert np.all((kd > 0) & (kd <= 1))
    assert np.median(kd[:400]) > np.median(kd[400:])
    u = uniqueness(KnnGraph(row_ids=np.arange(500), idx=idx, sim=sim))
    np.testing.assert_allclose(u, 1 - sim[:, -1])
    assert np.median(u[400:]) > np.median(u[:400])


def test_outlier_flags():
    v = np.r_[np.random.default_rng(0).normal(0.3, 0.01, 200), 0.9]
    flags, thr = outlier_flags(v)
    assert flags[-1] == 1 and flags[:-1].sum() <= 2 and 0.3 < thr < 0.9


def test_density_and_uniqueness_scores_in_workspace(tmp_ws):
    X = two_blobs(150, 50)
    fill_workspace(tmp_ws, X)
    keys = density_scores(tmp_ws, k=8)
    keys.update(uniqueness_scores(tmp_ws, k=8))
    assert keys["density_lsh"] == score_key("density_lsh", model=DEFAULT_MODEL) == f"density_lsh(model={DEFAULT_MODEL})"
    assert keys["uniqueness"] == f"uniqueness(k=8,model={DEFAULT_MODEL})"
    df = tmp_ws.scores(list(keys.values()))
    assert df[list(keys.values())].notna().all().all()
    assert df[keys["density_lsh"]][:150].median() > df[keys["density_lsh"]][150:].median()
    assert df[keys["uniqueness"]][150:].median() > df[keys["uniqueness"]][:150].median()
    assert np.isclose(df[keys["density_ipw"]].mean(), 1.0)
    defs = tmp_ws.score_defs().set_index("key")
    assert not defs.loc[keys["density_lsh"], "higher_is_better"]
    assert defs.loc[keys["uniqueness"], "higher_is_better"]
    assert "sketch" in defs.loc[keys["density_lsh"], "description"]
