"""Search by meaning: cosine similarity between a query's embedding (or the mean of some rows' embeddings) and the
stored vectors of the workspace's model, by an exhaustive inner-product scan (the vectors are L2-normalised).

The scan runs over the vectors held as 16-bit floats (faiss IndexScalarQuantizer QT_fp16): half the memory of
float32 (0.73 GB at 1M x 384) and ~1.5x faster per query than the exact float32 scan (IndexFlatIP), with the same
top 50 and cosines within ~1e-4 of it. It is exhaustive, not an approximate index: no row is missed. A threshold
search asks for the top k and widens k (x8) until the k-th row falls below the threshold; faiss's own range search
over fp16 codes has no fast path (~10x slower). Measured in benchmarks/bench_meaning.py.

Cost: the vectors are read once per process and data change (~0.6 s per 100k rows of 384-d vectors); a query is
one embedding (~10-30 ms on a CPU once the model is loaded) plus one scan (~70-80 ms at 1M rows on one quiet core).
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from curation.core.errors import CurationError
from curation.core.keys import DEFAULT_MODEL, model_key

_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str], tuple[tuple, np.ndarray, Any]] = {}   # (path, model) -> (stamp, row_ids, faiss index)
_SIGNED: dict[tuple[str, str], tuple] = {}   # (path, model) -> the workspace file's signature when last checked


def build_index(X: np.ndarray) -> Any:  # faiss.Index
    """The exhaustive inner-product index over (n, d) vectors, held as 16-bit floats (see the module docstring)."""
    import faiss

    index = faiss.IndexScalarQuantizer(X.shape[1], faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    index.add(np.ascontiguousarray(X, dtype=np.float32))   # fp16 codes need no training
    return index


def scan(index: Any, q: np.ndarray, k: int, threshold: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(cosines (1, m), positions (1, m)) of the best rows for the (1, d) query ``q``, best first: the top ``k``
    (at least 1); with ``threshold``, every row at or above it instead (asked as a top k widened x8 from
    max(k, 1024) until the k-th row falls below it)."""
    n = index.ntotal
    if threshold is None:
        return index.search(q, max(min(k, n), 1))
    k = min(n, max(k, 1024))
    while True:
        D, idx = index.search(q, k)
        if k >= n or D[0, -1] < threshold:
            break
        k = min(n, k * 8)
    hit = D[0] >= threshold
    return D[:, hit], idx[:, hit]


def vector_index(ws: Any, model: str = DEFAULT_MODEL) -> tuple[np.ndarray, Any]:  # Workspace
    """(row ids (n,) int64 ascending, :func:`build_index` over their vectors) of ``model``'s stored embeddings,
    cached per process until examples or embeddings change (an unchanged workspace file costs a stat, no query).
    CurationError when nothing is embedded under that model."""
    from curation.search.words import file_signature

    mk = model_key(model)
    key = (str(ws.path), mk)
    sig = file_signature(ws)
    with _LOCK:
        got = _CACHE.get(key)
        if got is not None and _SIGNED.get(key) == sig:
            return got[1], got[2]       # the workspace file has not changed since the last check: no query at all
    with ws.connect():
        stamp = (ws.search_fingerprint(), ws.count_embeddings(mk))
        with _LOCK:
            got = _CACHE.get(key)
            if got is not None and got[0] == stamp:
                _SIGNED[key] = sig
                return got[1], got[2]
        rows, X = ws.embeddings(mk)
    if not len(rows):
        raise CurationError(f"no example is embedded with {mk} in {ws.path}; run `python -m curation embed` "
                            "(or Analyze on the Data page) before searching by meaning")
    index = build_index(X)
    del X
    rows = np.asarray(rows, dtype=np.int64)
    with _LOCK:
        _CACHE[key] = (stamp, rows, index)
        _SIGNED[key] = sig
    return rows, index


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
    rows, index = vector_index(ws, model)
    q = np.ascontiguousarray(np.asarray(q, dtype=np.float32).reshape(1, -1))
    if q.shape[1] != index.d:
        raise CurationError(f"query vector has {q.shape[1]} dimensions but {model_key(model)} has {index.d}")
    excl = np.asarray(exclude, dtype=np.int64)
    n = index.ntotal
    k = min(n, (n if limit is None else int(limit)) + len(excl))
    D, idx = scan(index, q, k if threshold is None or limit is not None else 0, threshold)
    keep = idx[0] >= 0
    got, sims = rows[idx[0][keep]], D[0][keep].astype(np.float64)
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
    rows, index = vector_index(ws, model)
    pos = np.searchsorted(rows, seeds).clip(0, max(len(rows) - 1, 0))
    ok = rows[pos] == seeds
    if not ok.any():
        raise CurationError(f"none of rows {seeds[:5].tolist()} is embedded with {model_key(model)}; run "
                            "`python -m curation embed` first")
    q = np.vstack([index.reconstruct(int(p)) for p in pos[ok]]).astype(np.float64).mean(axis=0)
    q /= max(float(np.linalg.norm(q)), 1e-12)
    return nearest(ws, q, model=model, limit=limit, threshold=threshold,
                   exclude=() if include_seeds else seeds[ok])
