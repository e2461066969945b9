"""The k-NN graph: exact search equals a plain-numpy reference, approximate search has high recall, the stored graph
round-trips (positions, not row ids) and is reused only while the embedded rows are unchanged."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from curation.core.errors import CurationError
from curation.core.keys import key_name, key_param
from curation.neighbours.graph import (
    DEFAULT_MODEL, KnnGraph, exact_knn, build_graph, graph_key, knn, load_graph, recall_at_k, resolve_method,
    score_key, to_csr,
)
from curation.workflows.analyze import analyze


def clustered(n: int, d: int = 32, centres: int = 8, noise: float = 0.35, seed: int = 0) -> np.ndarray:
    """(n, d) float32 L2-normalised vectors around ``centres`` random directions."""
    rng = np.random.default_rng(seed)
    C = rng.standard_normal((centres, d))
    X = C[rng.integers(0, centres, n)] + noise * rng.standard_normal((n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32)


def fill_workspace(ws, X: np.ndarray, texts: list[str] | None = None, *, dataset: str = "synthetic",
                   model: str = DEFAULT_MODEL) -> np.ndarray:
    """Add len(X) examples with the given vectors as their embeddings; returns the row ids."""
    n = len(X)
    texts = texts or [f"synthetic example number {i}" for i in range(n)]
    th = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
    rows = pd.DataFrame({
        "example_id": [f"{dataset}-{i}" for i in range(n)], "dataset": dataset, "source_line": np.arange(n),
        "kind": "sft", "prompt": texts, "response": ["ok"] * n, "chosen": None, "rejected": None,
        "messages": None, "label": None, "embed_text": texts, "text_hash": th, "content_hash": th,
        "n_tokens": 3, "record": [json.dumps({"i": i}) for i in range(n)]})
    ws.add_examples({"name": dataset, "source": "test", "shape": "sft", "kind": "sft"}, rows)
    uniq = dict(zip(th, range(n)))
    ws.put_embeddings(model, list(uniq), X[list(uniq.values())])
    return ws.row_ids()


def brute(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    S = X @ X.T
    np.fill_diagonal(S, -np.inf)
    idx = np.argsort(-S, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(S, idx, axis=1)


def test_exact_search_breaks_ties_by_lower_position():
    """Rows 0-3 are one vector: their neighbours are the other three, lowest position first, whatever the block
    size (the selectors' small pools rely on this order being deterministic)."""
    X = clustered(40)
    X[1:4] = X[0]
    for bb in (1 << 27, 4 * 40 * 3):
        idx, sim = exact_knn(X, 3, block_bytes=bb)
        assert [idx[i].tolist() for i in range(4)] == [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]]
        np.testing.assert_allclose(sim[:4], 1.0, atol=1e-6)


def test_exact_matches_numpy_reference_and_excludes_self():
    X = clustered(300)
    ref_i, ref_s = brute(X, 10)
    for idx, sim in (knn(X, 10, method="exact"), exact_knn(X, 10, block_bytes=4096 * 64)):
        assert idx.shape == (300, 10) and idx.dtype == np.int64 and sim.dtype == np.float32
        assert not (idx == np.arange(300)[:, None]).any()
        np.testing.assert_allclose(sim, ref_s, atol=1e-5)
        assert np.all(np.diff(sim, axis=1) <= 1e-6)  # sorted by decreasing similarity
        assert recall_at_k(idx, ref_i, ref_s, sim) == 1.0


def test_self_excluded_with_exact_duplicates():
    X = clustered(100)
    X[10] = X[20] = X[30]
    for method in ("exact", "faiss-hnsw"):
        idx, sim = knn(X, 5, method=method)
        assert not (idx == np.arange(100)[:, None]).any()
        assert set(idx[10][:2]) == {20, 30} and np.allclose(sim[10][:2], 1.0, atol=1e-5)


# nndescent is checked in benchmarks/bench_graph.py only: numba compiles it for minutes on a busy 2-core machine.
@pytest.mark.parametrize("method", ["faiss-hnsw"])
def test_approximate_recall(method):
    X = clustered(1500, d=48, centres=20)
    ex_i, ex_s = knn(X, 15, method="exact")
    idx, sim = knn(X, 15, method=method, seed=0)
    assert not (idx == np.arange(len(X))[:, None]).any()
    r = recall_at_k(idx, ex_i, ex_s, sim)
    print(f"recall@15 {method}: {r:.4f}")
    assert r >= 0.95


def test_knn_validates_input():
    with pytest.raises(CurationError, match="at least 6 rows"):
        knn(clustered(5), 5)
    with pytest.raises(CurationError, match="unknown k-NN method"):
        knn(clustered(50), 5, method="kd-tree")
    bad = clustered(20)
    bad[3, 0] = np.nan
    with pytest.raises(CurationError, match="NaN"):
        knn(bad, 3)
    assert resolve_method(100) == "exact" and resolve_method(10_000_000) != "exact"


def test_to_csr():
    X = clustered(60)
    idx, sim = knn(X, 4)
    g = KnnGraph(row_ids=np.arange(60) + 100, idx=idx, sim=sim)
    A = to_csr(g)
    assert A.shape == (60, 60) and A.nnz == 240
    np.testing.assert_allclose(A[7].toarray()[0, idx[7]], sim[7])


def test_build_store_load_and_reuse(tmp_ws):
    X = clustered(200)
    row_ids = fill_workspace(tmp_ws, X)
    key = build_graph(tmp_ws, k=8)
    assert key == graph_key(DEFAULT_MODEL, 8) == f"knn(k=8,model={DEFAULT_MODEL})"
    g = load_graph(tmp_ws, k=8)
    assert g is not None and g.k == 8 and g.n == 200
    np.testing.assert_array_equal(g.row_ids, row_ids)
    ref_i, ref_s = knn(X, 8, method="exact")
    np.testing.assert_array_equal(g.idx, ref_i)  # positions, not row ids
    np.testing.assert_allclose(g.sim, ref_s, atol=1e-6)
    assert load_graph(tmp_ws, k=9) is None
    created = tmp_ws.graphs()["created_at"].iloc[0]
    assert build_graph(tmp_ws, k=8) == key  # up to date: reused
    assert tmp_ws.graphs()["created_at"].iloc[0] == created
    # new rows change the fingerprint, so the graph is rebuilt over all rows
    fill_workspace(tmp_ws, clustered(20, seed=5), [f"another text {i}" for i in range(20)], dataset="more")
    build_graph(tmp_ws, k=8)
    g2 = load_graph(tmp_ws, k=8)
    assert g2.n == 220 and g2.fingerprint != g.fingerprint


def test_build_graph_needs_embeddings(tmp_ws):
    with pytest.raises(CurationError, match="no embeddings"):
        build_graph(tmp_ws)


@pytest.mark.slow
def test_analyze_runs_every_step_and_resumes(tmp_ws):
    X = clustered(150, centres=4)
    X[5] = X[6]  # an exact vector duplicate with a different text
    fill_workspace(tmp_ws, X)
    seen = []
    out = analyze(tmp_ws, k=10, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (7, 7) and out["skipped"] == []
    defs = set(tmp_ws.score_defs()["key"])
    for name in ("density_lsh", "density_knn", "density_ipw", "uniqueness", "outlier", "neardup_group",
                 "neardup_size", "neardup_rep", "cluster"):
        assert any(key_name(k) == name and key_param(k, "model") == DEFAULT_MODEL for k in defs), name
    assert score_key("exactdup_size", model=None) in defs
    assert {"umap", "pca"} <= set(tmp_ws.projection_defs()["method"])
    again = analyze(tmp_ws, k=10)
    assert set(again["skipped"]) == {"graph", "density", "uniqueness", "dedup", "clusters", "pca", "umap"}
    assert again["umap"] == out["umap"]
