"""Density, inverse-propensity weights, uniqueness and outliers, per example.

* :func:`lsh_density` — the kernel-density sketch of Sachdeva et al. 2024 ("How to Train Data-Efficient LLMs",
  Density sampling; after Coleman & Shrivastava's RACE sketch): R rows of K concatenated p-stable (Gaussian)
  hashes ``floor((a·x + b) / w)`` (Datar et al. 2004) folded into B buckets; the score of x is the average over
  rows of the count of examples in x's bucket, divided by n. It estimates a kernel sum whose kernel is the
  collision probability p(‖x − y‖)^K, so no neighbour search is needed: O(n·d·R·K) time, O(n·R) memory.
* :func:`knn_density` — a Gaussian kernel density over the k-NN graph.
* :func:`uniqueness` — cosine distance to the k-th neighbour; :func:`outlier_flags` — robust z-score > z.

Workspace functions store them as scores (keys from :func:`curation.neighbours.graph.score_key`, meanings in
:data:`curation.neighbours.graph.SCORE_DOCS`): ``density_lsh``, ``density_knn``, ``density_ipw``, ``uniqueness``,
``outlier``, each ``name(model=..)`` plus non-default parameters.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from curation.core.errors import CurationError
from curation.neighbours.graph import (
    DEFAULT_K, DEFAULT_MODEL, KnnGraph, fingerprint, put_row_scores, require_graph, score_key,
)

if TYPE_CHECKING:
    from curation.store import Workspace

LSH_DEFAULTS = {"n_rows": 64, "n_hashes": 4, "n_buckets": 1 << 15, "width": 1.0}


def lsh_density(X: np.ndarray, *, n_rows: int = 64, n_hashes: int = 4, n_buckets: int = 1 << 15,
                width: float = 1.0, seed: int = 0, chunk: int = 16384) -> np.ndarray:
    """LSH kernel-density sketch score per row (Sachdeva et al. 2024).

    X: (n, d) float32, L2-normalised. n_rows: R independent hash rows (averaged; more = less variance).
    n_hashes: K p-stable hashes concatenated per row (more = narrower kernel). n_buckets: B <= 65536 buckets per
    row. width: w, the hash bin width in L2 units (chord distance; larger = wider kernel).
    Returns (n,) float64 in [1/n, 1]: mean over rows of |bucket(x)| / n (x itself included); higher = denser.
    Cost: O(n·d·R·K) flops in chunks of ``chunk`` rows; memory O(n·R) uint16 + O(R·B) counts.
    """
    X = np.asarray(X)
    if X.ndim != 2 or len(X) == 0:
        raise CurationError(f"lsh_density: X must be a non-empty (n, d) matrix; got shape {X.shape}")
    if not 1 <= n_buckets <= 65536:
        raise CurationError(f"lsh_density: n_buckets must be in [1, 65536]; got {n_buckets}")
    if n_rows < 1 or n_hashes < 1 or width <= 0:
        raise CurationError(f"lsh_density: need n_rows >= 1, n_hashes >= 1, width > 0; got "
                            f"{n_rows}, {n_hashes}, {width}")
    n, d = X.shape
    R, K, B = int(n_rows), int(n_hashes), int(n_buckets)
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((d, R * K)).astype(np.float32) / np.float32(width)
    b = rng.uniform(0.0, 1.0, size=R * K).astype(np.float32)
    mult = rng.integers(1, 1 << 30, size=K, dtype=np.int64) * 2 + 1  # odd multipliers (universal hashing)
    buckets = np.empty((n, R), dtype=np.uint16)
    for s in range(0, n, chunk):
        P = np.asarray(X[s:s + chunk], dtype=np.float32) @ A
        P += b
        H = np.floor(P).astype(np.int64).reshape(-1, R, K)
        buckets[s:s + chunk] = np.mod((H * mult).sum(axis=2), B).astype(np.uint16)
    offsets = (np.arange(R, dtype=np.int64) * B)[None, :]
    flat = buckets.astype(np.int64) + offsets if n * R <= 1 << 24 else None
    if flat is not None:
        counts = np.bincount(flat.ravel(), minlength=R * B)
        return counts[flat].mean(axis=1) / n
    counts = np.zeros(R * B, dtype=np.int64)
    for s in range(0, n, chunk):
        counts += np.bincount((buckets[s:s + chunk].astype(np.int64) + offsets).ravel(), minlength=R * B)
    out = np.empty(n, dtype=np.float64)
    for s in range(0, n, chunk):
        out[s:s + chunk] = counts[buckets[s:s + chunk].astype(np.int64) + offsets].mean(axis=1) / n
    return out


def inverse_propensity(density: np.ndarray) -> np.ndarray:
    """Density-sampling weights 1/density normalised to mean 1 (NaN stays NaN). (n,) float64, > 0."""
    dens = np.asarray(density, dtype=np.float64)
    w = 1.0 / np.maximum(dens, np.finfo(np.float64).tiny)
    m = np.nanmean(w)
    return w / m if np.isfinite(m) and m > 0 else w


def knn_density(graph: KnnGraph | np.ndarray, *, bandwidth: float | None = None) -> np.ndarray:
    """Gaussian kernel density from neighbour similarities: mean_j exp(-d_ij² / 2h²) with d² = 2 - 2·sim.

    graph: a KnnGraph or its (n, k) sim matrix. bandwidth h: default the median distance to the k-th neighbour.
    Returns (n,) float64 in (0, 1]; higher = denser. O(n·k).
    """
    sim = graph.sim if isinstance(graph, KnnGraph) else np.asarray(graph)
    d2 = np.maximum(0.0, 2.0 - 2.0 * sim.astype(np.float64))
    h = bandwidth if bandwidth is not None else float(np.median(np.sqrt(d2[:, -1])))
    h = max(h, 1e-6)
    return np.exp(-d2 / (2.0 * h * h)).mean(axis=1)


def uniqueness(graph: KnnGraph | np.ndarray) -> np.ndarray:
    """Cosine distance to the k-th nearest neighbour, (n,) float64 in [0, 2]; higher = more novel."""
    sim = graph.sim if isinstance(graph, KnnGraph) else np.asarray(graph)
    return 1.0 - sim[:, -1].astype(np.float64)


def outlier_flags(values: np.ndarray, *, z: float = 3.0) -> tuple[np.ndarray, float]:
    """(flags (n,) float64 in {0, 1}, threshold): 1 where value > median + z·1.4826·MAD (robust z-score)."""
    v = np.asarray(values, dtype=np.float64)
    med = float(np.median(v))
    mad = float(np.median(np.abs(v - med))) * 1.4826
    thr = med + z * max(mad, 1e-12)
    return (v > thr).astype(np.float64), thr


# ---------------------------------------------------------------------------------------------- workspace
def density_scores(ws: Workspace, *, model: str = DEFAULT_MODEL, k: int = DEFAULT_K, seed: int = 0,
                   n_rows: int = 64, n_hashes: int = 4, n_buckets: int = 1 << 15, width: float = 1.0,
                   method: str = "auto") -> dict[str, str]:
    """Compute and store ``density_lsh``, ``density_knn`` (needs the graph; built if missing) and ``density_ipw``.

    Returns {"density_lsh": key, "density_knn": key, "density_ipw": key}.
    """
    row_ids, X = ws.embeddings(model)
    if len(row_ids) == 0:
        raise CurationError(f"no embeddings for model {model!r}; run `python -m curation embed` first")
    lsh_p = {"n_rows": n_rows, "n_hashes": n_hashes, "n_buckets": n_buckets, "width": width}
    nondefault = {p: v for p, v in lsh_p.items() if LSH_DEFAULTS[p] != v}
    if seed:
        nondefault["seed"] = seed
    fp = fingerprint(row_ids, X)
    dens = lsh_density(X, seed=seed, **lsh_p)
    del X
    keys = {}
    params = {**lsh_p, "seed": seed, "fingerprint": fp}
    keys["density_lsh"] = put_row_scores(ws, score_key("density_lsh", model=model, **nondefault), row_ids, dens,
                                         params=params)
    keys["density_ipw"] = put_row_scores(ws, score_key("density_ipw", model=model, **nondefault), row_ids,
                                         inverse_propensity(dens), params=params)
    g = require_graph(ws, model=model, k=k, method=method, seed=seed)
    kk = {"k": k} if k != DEFAULT_K else {}
    keys["density_knn"] = put_row_scores(ws, score_key("density_knn", model=model, **kk), g.row_ids,
                                         knn_density(g), params={"k": k, "fingerprint": g.fingerprint})
    return keys


def uniqueness_scores(ws: Workspace, *, model: str = DEFAULT_MODEL, k: int = DEFAULT_K, z: float = 3.0,
                      method: str = "auto") -> dict[str, str]:
    """Compute and store ``uniqueness`` and ``outlier`` from the graph. Returns {"uniqueness": key, "outlier": key}."""
    g = require_graph(ws, model=model, k=k, method=method)
    u = uniqueness(g)
    flags, thr = outlier_flags(u, z=z)
    kk = {"k": k} if k != DEFAULT_K else {}
    zz = {"z": z} if z != 3.0 else {}
    return {
        "uniqueness": put_row_scores(ws, score_key("uniqueness", model=model, **kk), g.row_ids, u,
                                     params={"k": k, "fingerprint": g.fingerprint}),
        "outlier": put_row_scores(ws, score_key("outlier", model=model, **kk, **zz), g.row_ids, flags,
                                  params={"k": k, "z": z, "threshold": thr, "fingerprint": g.fingerprint}),
    }
