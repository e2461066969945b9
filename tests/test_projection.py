"""Projections: PCA is exact and deterministic; UMAP uses the stored graph, is seeded and reproducible, and is reused
while rows are unchanged; latest_projection prefers UMAP."""
from __future__ import annotations

import numpy as np
import pytest

from curation.errors import CurationError
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
    assert pkey == f"pca:{DEFAULT_MODEL}" and latest_projection(tmp_ws) == pkey
    calls = []
    ukey = umap_projection(tmp_ws, k=10, n_neighbors=10, seed=3, n_epochs=60,
                           progress=lambda d, t: calls.append(d))
    assert ukey == f"umap:{DEFAULT_MODEL}:n_epochs=60:n_neighbors=10:seed=3" and calls[-1] == 1
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
