"""Search by meaning: cosine similarity between a query's embedding (or the mean of some rows' embeddings) and the
stored vectors of the workspace's model, by an exact scan (the vectors are L2-normalised, so the cosine is the
inner product): one BLAS matrix-vector product over every row, then a partial sort for the top k, or a comparison
for a threshold (the Search page's default).

Chosen by benchmarks/bench_meaning.py over faiss: IndexFlatIP (shipped first) scans a single query on one thread;
its 16-bit IndexScalarQuantizer halves the memory and scans a top k faster on one core, but a threshold search
over it is either faiss's slow range_search or repeated top-k scans. The BLAS product uses both cores, costs the
same for a top k and a threshold, and is exact.

Cost: the vectors are read once per process and data change (~0.6 s per 100k rows of 384-d vectors) and kept as
float32 (1.5 GB at 1M x 384); a query is one embedding (~10-30 ms on a CPU once the model is loaded) plus one
scan (~50-60 ms at 1M rows on two quiet cores).
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from curation.core.errors import CurationError
from curation.core.keys import DEFAULT_MODEL, model_key
from curation.store import file_token

_LOCK = threading.Lock()
# (path, model) -> (data stamp, the workspace file's token when last checked, row ids, X)
_CACHE: dict[tuple[str, str], tuple[tuple, tuple | None, np.ndarray, np.ndarray]] = {}


def scan(X: np.ndarray, q: np.ndarray, k: int, threshold: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(cosines (m,), positions (m,)) of the best rows of ``X`` (n, d) for the unit query ``q`` (d,), best first:
    the top ``k`` (at least 1), or with ``threshold`` every row at or above it."""
    sims = X @ q                                   # one BLAS matrix-vector product: every row's cosine
    n = len(sims)
    if threshold is None:
        k = max(min(int(k), n), 1)
        idx = np.argpartition(-sims, k - 1)[:k] if k < n else np.arange(n)
    else:
        idx = np.flatnonzero(sims >= float(threshold))
    idx = idx[np.argsort(-sims[idx], kind="stable")]
    return sims[idx], idx


def vector_index(ws: Any, model: str = DEFAULT_MODEL) -> tuple[np.ndarray, np.ndarray]:  # Workspace
    """(row ids (n,) int64 ascending, their vectors (n, d) float32 C-contiguous) of ``model``'s stored embeddings,
    cached per process until examples or embeddings change (an unchanged workspace file costs a stat, no query).
    CurationError when nothing is embedded under that model."""
    mk = model_key(model)
    key = (str(ws.path), mk)
    sig = file_token(ws.path)          # None right after a write: not trusted, checked below
    with _LOCK:
        got = _CACHE.get(key)
        if got is not None and sig is not None and got[1] == sig:
            return got[2], got[3]       # the workspace file has not changed since the last check: no query at all
    with ws.connect():
        stamp = (ws.search_fingerprint(), ws.count_embeddings(mk))
        with _LOCK:
            got = _CACHE.get(key)
            if got is not None and got[0] == stamp:
                _CACHE[key] = (stamp, sig, got[2], got[3])
                return got[2], got[3]
        rows, X = ws.embeddings(mk)
    if not len(rows):
        raise CurationError(f"no example is embedded with {mk} in {ws.path}; run `python -m curation embed` "
                            "(or Analyze on the Data page) before searching by meaning")
    X = np.ascontiguousarray(X, dtype=np.float32)
    rows = np.asarray(rows, dtype=np.int64)
    with _LOCK:
        _CACHE[key] = (stamp, sig, rows, X)
    return rows, X


def embed_query(text: str, model: str = DEFAULT_MODEL) -> np.ndarray:
    """(d,) float32, L2-normalised embedding of ``text`` with ``model`` (loaded once per process)."""
    from curation.embedding.embed import encode_texts

    if not (text or "").strip():
        raise CurationError("the search query is empty; describe what you are looking for in a few words")
    return encode_texts([text], model_key(model))[0]


def nearest(ws: Any, q: np.ndarray, *, model: str = DEFAULT_MODEL, limit: int | None = 50,
            exclude: Sequence[int] | np.ndarray = (), threshold: float | None = None
            ) -> tuple[np.ndarray, np.ndarray, int]:  # Workspace
    """(row ids, cosines, number of matches) of the rows closest to unit vector ``q`` (d,), best first, without
    ``exclude``. ``threshold``: only rows with cosine >= threshold count and are returned (then ``limit`` None gives
    all of them); without it every embedded row matches and ``limit`` (default 50) caps the list."""
    rows, X = vector_index(ws, model)
    q = np.asarray(q, dtype=np.float32).reshape(-1)
    if q.shape[0] != X.shape[1]:
        raise CurationError(f"query vector has {q.shape[0]} dimensions but {model_key(model)} has {X.shape[1]}")
    excl = np.asarray(exclude, dtype=np.int64)
    n = len(X)
    sims, idx = scan(X, q, min(n, (n if limit is None else int(limit)) + len(excl)), threshold)
    got, sims = rows[idx], sims.astype(np.float64)
    if len(excl):
        m = ~np.isin(got, excl)
        got, sims = got[m], sims[m]
    total = len(got) if threshold is not None else n - int(np.isin(excl, rows).sum())
    if limit is not None:
        got, sims = got[: int(limit)], sims[: int(limit)]
    return got, sims, int(total)


def meaning_search(ws: Any, query: str, *, model: str = DEFAULT_MODEL, limit: int | None = 50,
                   threshold: float | None = None) -> tuple[np.ndarray, np.ndarray, int]:  # Workspace
    """Rows closest in meaning to ``query`` (see :func:`nearest`)."""
    vector_index(ws, model)                # the clear "embed first" error before loading the model
    return nearest(ws, embed_query(query, model), model=model, limit=limit, threshold=threshold)


def more_like_this(ws: Any, row_ids: Sequence[int] | np.ndarray, *, model: str = DEFAULT_MODEL,
                   limit: int | None = 50, threshold: float | None = None, include_seeds: bool = False
                   ) -> tuple[np.ndarray, np.ndarray, int]:  # Workspace
    """Rows closest to the mean direction of ``row_ids``' vectors (one row, a selection or the pinned rows), the
    seeds themselves left out unless ``include_seeds``. CurationError when no seed row is embedded."""
    seeds = np.unique(np.asarray(row_ids, dtype=np.int64))
    if not len(seeds):
        raise CurationError("more like this needs at least one row: select rows, pin some, or give a row id")
    rows, X = vector_index(ws, model)
    pos = np.searchsorted(rows, seeds).clip(0, max(len(rows) - 1, 0))
    ok = rows[pos] == seeds
    if not ok.any():
        raise CurationError(f"none of rows {seeds[:5].tolist()} is embedded with {model_key(model)}; run "
                            "`python -m curation embed` first")
    q = X[pos[ok]].astype(np.float64).mean(axis=0)
    q /= max(float(np.linalg.norm(q)), 1e-12)
    return nearest(ws, q, model=model, limit=limit, threshold=threshold,
                   exclude=() if include_seeds else seeds[ok])
