"""Meaning search against a float64 brute force over the stored vectors: the same top rows (up to float32 rounding
ties), the same cosines, every row above a threshold and no other, and "more like this" as the seeds' mean."""
from __future__ import annotations

import json

import numpy as np

from curation.embedding.embed import embed_workspace
from curation.ingest.run import ingest_file
from curation.search.meaning import more_like_this, nearest
from curation.store import Workspace

MODEL = "hash/words-384"


def _ws(tmp_path) -> Workspace:
    rng = np.random.default_rng(0)
    topics = [["tea", "kettle", "leaves", "brew"], ["python", "list", "loop", "function"],
              ["bike", "chain", "gear", "wheel"], ["tax", "income", "refund", "form"]]
    rows = []
    for i in range(600):
        t = topics[i % 4]
        words = list(rng.choice(t, 6)) + list(rng.choice(["the", "a", "how", "why", "good", "fast"], 4))
        rows.append({"prompt": " ".join(words) + f" {i}", "response": " ".join(rng.choice(t, 5))})
    src = tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ws = Workspace(tmp_path / "w.duckdb")
    ingest_file(ws, src, name="d")
    embed_workspace(ws, MODEL)
    return ws


def _exact(ws: Workspace) -> tuple[np.ndarray, np.ndarray]:
    rows, X = ws.embeddings(MODEL)
    return np.asarray(rows, dtype=np.int64), np.asarray(X, dtype=np.float64)


def test_top_rows_and_threshold_equal_an_exact_scan(tmp_path):
    ws = _ws(tmp_path)
    rows, X = _exact(ws)
    rng = np.random.default_rng(1)
    for q in X[rng.choice(len(X), 5, replace=False)]:
        exact = X @ q
        got, sims, total = nearest(ws, q, model=MODEL, limit=20)
        assert total == len(rows)
        want = exact[np.searchsorted(rows, got)]
        assert np.abs(sims - want).max() < 1e-5                     # the cosines are the exact ones
        kth = np.sort(exact)[::-1][19]
        assert (want >= kth - 1e-5).all()                           # no row left out of the top 20 but ties
        got_t, sims_t, n_t = nearest(ws, q, model=MODEL, limit=None, threshold=0.5)
        above = set(rows[exact >= 0.5 + 1e-5].tolist())
        maybe = set(rows[exact >= 0.5 - 1e-5].tolist())
        assert above <= set(got_t.tolist()) <= maybe and n_t == len(got_t)
        assert (np.diff(sims_t) <= 1e-9).all()                     # best first


def test_more_like_this_uses_the_mean_direction_of_its_seeds(tmp_path):
    ws = _ws(tmp_path)
    rows, X = _exact(ws)
    seeds = rows[[3, 7, 11]]
    q = X[[3, 7, 11]].mean(axis=0)
    q /= np.linalg.norm(q)
    exact = X @ q
    exact[[3, 7, 11]] = -np.inf                                     # the seeds are left out
    got, sims, _ = more_like_this(ws, seeds, model=MODEL, limit=10)
    assert not set(got.tolist()) & set(seeds.tolist())
    kth = np.sort(exact)[::-1][9]
    assert (exact[np.searchsorted(rows, got)] >= kth - 1e-5).all()
