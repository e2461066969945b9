"""Projections: PCA is exact and deterministic; UMAP uses the stored graph, is seeded and reproducible, and is reused
while rows are unchanged; latest_projection prefers UMAP."""
from __future__ import annotations

import json

import numpy as np
import pytest

from curation.core.errors import CurationError
from curation.neighbours.graph import DEFAULT_MODEL, load_graph
from curation.neighbours.projection import (
    latest_projection, load_projection, pca_2d, pca_projection, projection_frame, umap_projection,
)
from test_graph import clustered, fill_workspace


def test_pca_2d_matches_svd():
    X = clustered(300, d=20)
    P = pca_2d(X, chunk=64)
    Xc = X - X.mean(axis=0)
    _, _, Vt = np.linalg.svd(Xc.astype(np.float64), full_matrices=False)
    ref = Xc @ Vt[:2].T
    for j in range(2):
        assert abs(abs(np.corrcoef(P[:, j], ref[:, j])[0, 1]) - 1) < 1e-5
    np.testing.assert_array_equal(P, pca_2d(X))


def test_projections_in_workspace(tmp_ws):
    assert latest_projection(tmp_ws) is None
    X = clustered(160, d=16, centres=3, noise=0.2)
    row_ids = fill_workspace(tmp_ws, X)
    pkey = pca_projection(tmp_ws)
    assert pkey == f"pca(model={DEFAULT_MODEL})" and latest_projection(tmp_ws) == pkey
    calls = []
    ukey = umap_projection(tmp_ws, k=10, n_neighbors=10, seed=3, n_epochs=60,
                           progress=lambda d, t: calls.append(d))
    assert ukey == f"umap(model={DEFAULT_MODEL},n_epochs=60,n_neighbors=10,seed=3)" and calls[-1] == 1
    assert load_graph(tmp_ws, k=10) is not None  # the graph it was fed is stored
    ids, xy = load_projection(tmp_ws, ukey)
    np.testing.assert_array_equal(ids, row_ids)
    assert xy.shape == (160, 2) and np.isfinite(xy).all()
    assert latest_projection(tmp_ws) == ukey and latest_projection(tmp_ws, model="other") is None
    # reused while rows are unchanged (no recomputation: same creation time)
    created = tmp_ws.projection_defs().set_index("key").loc[ukey, "created_at"]
    assert umap_projection(tmp_ws, k=10, n_neighbors=10, seed=3, n_epochs=60) == ukey
    assert tmp_ws.projection_defs().set_index("key").loc[ukey, "created_at"] == created
    # reproducible: recomputing with the same seed gives the same map
    tmp_ws.put_projection(ukey, ids, xy * 0, method="umap", model=DEFAULT_MODEL, params={})
    umap_projection(tmp_ws, k=10, n_neighbors=10, seed=3, n_epochs=60)
    np.testing.assert_allclose(load_projection(tmp_ws, ukey)[1], xy, atol=1e-5)
    assert list(projection_frame(tmp_ws, ukey).columns) == ["row_id", "x", "y"]
    with pytest.raises(CurationError, match="project"):
        load_projection(tmp_ws, "umap:nothing")
    with pytest.raises(CurationError, match="neighbours per row"):
        from curation.neighbours.projection import umap_layout
        g = load_graph(tmp_ws, k=10)
        umap_layout(X, g.idx, g.sim, n_neighbors=20)


def _labelled(n: int, d: int = 24, centres: int = 4, noise: float = 0.3, seed: int = 0):
    rng = np.random.default_rng(seed)
    lab = rng.integers(0, centres, n)
    X = rng.standard_normal((centres, d))[lab] + noise * rng.standard_normal((n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32), lab


def _label_agreement(xy: np.ndarray, lab: np.ndarray, k: int = 10) -> float:
    """Share of each point's k nearest 2-D neighbours with its own cluster label."""
    from scipy.spatial import cKDTree

    _, nb = cKDTree(xy).query(xy, k + 1)
    return float(np.mean(lab[nb[:, 1:]] == lab[:, None]))


@pytest.mark.parametrize("init", ["spectral", "pca"])
def test_umap_start_layouts_keep_clusters_apart(init):
    from curation.neighbours.graph import knn
    from curation.neighbours.projection import umap_layout

    X, lab = _labelled(600)
    idx, sim = knn(X, 10, method="exact")
    xy = umap_layout(X, idx, sim, n_neighbors=10, seed=0, n_epochs=60, init=init)
    assert xy.shape == (600, 2) and np.isfinite(xy).all()
    assert _label_agreement(xy, lab) > 0.95
    np.testing.assert_array_equal(xy, umap_layout(X, idx, sim, n_neighbors=10, seed=0, n_epochs=60, init=init))


def test_umap_init_and_parallel_options(tmp_ws):
    from curation.neighbours.projection import default_epochs, resolve_init

    assert resolve_init(20_000) == "spectral" and resolve_init(20_001) == "pca"
    assert resolve_init(10, "pca") == "pca"
    assert default_epochs(100_000) is None and default_epochs(1_000_000) == 100
    X, lab = _labelled(200)
    fill_workspace(tmp_ws, X)
    key = umap_projection(tmp_ws, k=10, n_neighbors=10, n_epochs=40, init="pca")
    assert key == f"umap(init=pca,model={DEFAULT_MODEL},n_epochs=40,n_neighbors=10)"
    params = tmp_ws.projection_defs().set_index("key").loc[key, "params"]
    params = json.loads(params) if isinstance(params, str) else params
    assert params["init"] == "pca" and params["seed"] == 0 and params["parallel"] is False
    pkey = umap_projection(tmp_ws, k=10, n_neighbors=10, n_epochs=40, seed=5, parallel=True)
    assert pkey == f"umap(model={DEFAULT_MODEL},n_epochs=40,n_neighbors=10,parallel=1)"
    assert _label_agreement(load_projection(tmp_ws, pkey)[1], lab) > 0.95
    with pytest.raises(CurationError, match="unknown UMAP init 'tsne'"):
        umap_projection(tmp_ws, k=10, init="tsne")
