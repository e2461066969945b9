"""Similarity structures shared by the selectors: the symmetrised coverage matrix of a kNN graph, a dense kernel
for small pools, and chunked pool-vs-set similarity (targets, seen sets). The k-NN search itself is
:func:`curation.neighbours.graph.knn` (exact: :func:`curation.neighbours.graph.exact_knn`).

All matrices here are on positions. Similarities are cosine similarities of L2-normalised vectors, clipped at 0
(facility location needs non-negative similarities; a negative one means "does not cover").
"""
from __future__ import annotations

from typing import Any

import numpy as np

from curation.core.errors import CurationError
from curation.select.base import graph_arrays

DENSE_MAX = 4000
"""Largest pool for which a dense n x n kernel is allowed (128 MB of float64)."""

_CHUNK_BYTES = 64 << 20


def coverage_matrix(graph: Any, n: int | None = None):
    """Symmetrised sparse similarity S (n, n) scipy CSR float64 from a kNN graph, with S_ii = 1.

    S_ij = max(sim(i->j), sim(j->i)) over the edges present in either direction, clipped at 0 (zeros dropped),
    self-edges and ``-1`` padding in ``idx`` ignored. Row j lists the points j covers. O(n·k log(n·k)) time,
    O(n·k) memory.
    """
    import scipy.sparse as sp

    idx, sim = graph_arrays(graph)
    n0, k = idx.shape
    if n is not None and n != n0:
        raise CurationError(f"neighbour graph has {n0} rows but the pool has {n}; rebuild the graph for this pool")
    if idx.size and idx.max() >= n0:
        raise CurationError(f"neighbour graph: neighbour position {int(idx.max())} >= n={n0}; the graph must hold "
                            "positions 0..n-1, not row ids")
    rows = np.repeat(np.arange(n0, dtype=np.int64), k)
    cols = idx.ravel()
    vals = sim.ravel()
    ok = (cols >= 0) & (cols != rows) & (vals > 0) & np.isfinite(vals)
    rows, cols, vals = rows[ok], cols[ok], vals[ok]
    m = n0
    A = sp.csr_matrix((vals, (rows, cols)), shape=(m, m))
    if A.nnz == len(vals):  # no neighbour listed twice in a row (true for any kNN graph): scipy's C max
        S = (A.maximum(A.T) + sp.identity(m, format="csr")).tocsr()
        S.sort_indices()
        return sp.csr_matrix((S.data.astype(np.float64), S.indices.astype(np.int64),
                              S.indptr.astype(np.int64)), shape=(m, m))
    # general case: both directions plus the diagonal, duplicates keep the max similarity
    r = np.concatenate([rows, cols, np.arange(m)])
    c = np.concatenate([cols, rows, np.arange(m)])
    v = np.concatenate([vals, vals, np.ones(m)])
    key = r * m + c
    o = np.argsort(key, kind="stable")
    key, v = key[o], v[o]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    v = np.maximum.reduceat(v, starts)
    key = key[starts]
    r, c = key // m, key % m
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=m), out=indptr[1:])
    return sp.csr_matrix((v.astype(np.float64), c.astype(np.int64), indptr), shape=(m, m))


def dense_coverage_matrix(X: np.ndarray):
    """S = max(X Xᵀ, 0) as CSR (zeros dropped), diagonal 1. For pools up to :data:`DENSE_MAX` rows: O(n²)."""
    import scipy.sparse as sp

    n = len(X)
    if n > DENSE_MAX:
        raise CurationError(f"a dense kernel for {n} rows needs {n * n * 8 / 1e9:.1f} GB; use kernel='sparse' "
                            f"(the neighbour graph) above {DENSE_MAX} rows")
    S = (X.astype(np.float64) @ X.astype(np.float64).T)
    np.fill_diagonal(S, 1.0)
    np.maximum(S, 0.0, out=S)
    S = np.maximum(S, S.T)
    return sp.csr_matrix(S)


def max_sim_to_set(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """For each row of X (n, d), max cosine similarity to any row of Y (m, d). O(n·m·d), chunked."""
    out = np.full(len(X), -np.inf, dtype=np.float64)
    if len(Y) == 0:
        return out
    step = max(1, _CHUNK_BYTES // (4 * max(len(Y), 1)))
    for s in range(0, len(X), step):
        out[s:s + step] = (X[s:s + step] @ Y.T).max(axis=1)
    return out


def target_coverage(X: np.ndarray, Y: np.ndarray, k: int):
    """Sparse (n, m) CSR: for each target row y_t of Y, its k most similar pool rows, with similarity clipped at 0.

    Row j lists the targets pool example j covers (FL mutual information). k >= n gives the exact dense kernel.
    O(m·n·d) time, chunked over targets.
    """
    import scipy.sparse as sp

    n, m = len(X), len(Y)
    k = min(k, n)
    rows, cols, vals = [], [], []
    step = max(1, _CHUNK_BYTES // (4 * max(n, 1)))
    for s in range(0, m, step):
        S = Y[s:s + step] @ X.T
        if k < n:
            part = np.argpartition(-S, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(n), S.shape)
        ps = np.take_along_axis(S, part, axis=1)
        t = np.repeat(np.arange(s, s + S.shape[0]), part.shape[1])
        rows.append(part.ravel())
        cols.append(t)
        vals.append(ps.ravel().astype(np.float64))
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    v = np.concatenate(vals) if vals else np.zeros(0)
    ok = v > 0
    M = sp.csr_matrix((v[ok], (r[ok], c[ok])), shape=(n, m))
    M.sort_indices()
    return M
