"""Search by meaning: cosine similarity between a query's embedding (or the mean of some rows' embeddings) and the
stored vectors of the workspace's model, by exact inner product (faiss IndexFlatIP; the vectors are L2-normalised).

Cost: the vectors are read once per process and data change (~0.6 s per 100k rows of 384-d vectors) and kept with
their faiss index (1.5 GB at 1M x 384); a query is one embedding (~10-30 ms on a CPU once the model is loaded) plus
one flat scan (~50-150 ms at 1M rows on one core).
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


def vector_index(ws: Any, model: str = DEFAULT_MODEL) -> tuple[np.ndarray, Any]:  # Workspace
    """(row ids (n,) int64, faiss IndexFlatIP over their vectors) of ``model``'s stored embeddings, cached per
    process until examples or embeddings change. CurationError when nothing is embedded under that model."""
    import faiss

    mk = model_key(model)
    with ws.connect():
        stamp = (ws.search_fingerprint(), ws.count_embeddings(mk))
        key = (str(ws.path), mk)
        with _LOCK:
            got = _CACHE.get(key)
            if got is not None and got[0] == stamp:
                return got[1], got[2]
        rows, X = ws.embeddings(mk)
    if not len(rows):
        raise CurationError(f"no example is embedded with {mk} in {ws.path}; run `python -m curation embed` "
                            "(or Analyze on the Data page) before searching by meaning")
    index = faiss.IndexFlatIP(X.shape[1])
    index.add(np.ascontiguousarray(X, dtype=np.float32))
    with _LOCK:
        _CACHE[key] = (stamp, rows, index)
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
    if threshold is None:
        k = min(n, (n if limit is None else int(limit)) + len(excl))
        D, idx = index.search(q, max(k, 1))
    else:
        lims, D, idx = index.range_search(q, float(threshold))
        order = np.argsort(-D, kind="stable")
        D, idx = D[order][None, :], idx[order][None, :]
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
    X = np.vstack([index.reconstruct(int(p)) for p in pos[ok]])
    q = X.mean(axis=0)
    q /= max(float(np.linalg.norm(q)), 1e-12)
    return nearest(ws, q, model=model, limit=limit, threshold=threshold,
                   exclude=() if include_seeds else seeds[ok])
