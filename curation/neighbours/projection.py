"""2-D maps of the embeddings: UMAP fed the stored k-NN graph, and a quick PCA for first sight.

UMAP (umap-learn) receives the graph's neighbours as ``precomputed_knn`` (the row itself first, then its
``n_neighbors - 1`` nearest), so it runs no second neighbour search; with a seed it is single-threaded and
reproducible (``parallel=True``: all cores, not reproducible). Its start layout is UMAP's spectral embedding up to
:data:`SPECTRAL_MAX_ROWS` rows and the data's first two principal components above (``init="auto"``): the spectral
start (an eigen-solve of the graph Laplacian) cost 91 s of CPU at 100k rows, two thirds of the whole map, and the
PCA start ~1 s, at the same neighbourhood preservation (bench_umap in benchmarks/RESULTS.md). Epochs: UMAP's own
default (500 up to 10k rows, 200 above) up to :data:`LARGE_ROWS` rows, :data:`LARGE_EPOCHS` above.

Keys: ``umap(model=..)`` and ``pca(model=..)`` plus any non-default parameter (``n_neighbors=30``,
``min_dist=0.3``, ``seed=1``, ``n_epochs=200``, ``init=spectral``, ``parallel=1``). Each projection's params hold
the fingerprint of the rows it was computed from; a call with unchanged rows and parameters returns the stored key
without recomputing.
"""
from __future__ import annotations

import json
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.neighbours.graph import DEFAULT_K, DEFAULT_MODEL, Progress, fingerprint, require_graph, score_key

if TYPE_CHECKING:
    from curation.store import Workspace


SPECTRAL_MAX_ROWS = 20_000
"""``init="auto"`` starts from UMAP's spectral layout up to this many rows, from PCA above."""
LARGE_ROWS = 250_000
LARGE_EPOCHS = 100
"""``n_epochs=None``: UMAP's default up to :data:`LARGE_ROWS` rows, this many above (the layout's cost is linear in
epochs; 1M rows at 200 epochs would take most of the 30-minute budget of a 2-core machine)."""
INITS = ("auto", "spectral", "pca")


def resolve_init(n: int, init: str = "auto") -> str:
    """The start layout ``init`` stands for at ``n`` rows: ``"spectral"`` or ``"pca"``."""
    if init not in INITS:
        raise CurationError(f"unknown UMAP init {init!r}; use one of {list(INITS)}")
    if init == "auto":
        return "spectral" if n <= SPECTRAL_MAX_ROWS else "pca"
    return init


def default_epochs(n: int) -> int | None:
    """Epochs for ``n_epochs=None``: None (UMAP's default: 500 / 200) up to :data:`LARGE_ROWS`, else LARGE_EPOCHS."""
    return None if n <= LARGE_ROWS else LARGE_EPOCHS


def _stored_params(ws: Workspace, key: str) -> dict | None:
    df = ws.projection_defs()
    if df.empty or key not in set(df["key"]):
        return None
    p = df.loc[df["key"] == key, "params"].iloc[0]
    return dict(json.loads(p) if isinstance(p, str) else (p or {}))


def pca_2d(X: np.ndarray, *, chunk: int = 65536) -> np.ndarray:
    """First two principal components of X (n, d): (n, 2) float32, deterministic signs. O(n·d² / chunk) + O(d³)."""
    X = np.asarray(X)
    n, d = X.shape
    mean = X.mean(axis=0, dtype=np.float64)
    cov = np.zeros((d, d), dtype=np.float64)
    for s in range(0, n, chunk):
        B = X[s:s + chunk].astype(np.float64) - mean
        cov += B.T @ B
    w, V = np.linalg.eigh(cov)
    comps = V[:, ::-1][:, :2]
    comps = comps * np.where(comps[np.argmax(np.abs(comps), axis=0), [0, 1]] < 0, -1.0, 1.0)
    out = np.empty((n, 2), dtype=np.float32)
    for s in range(0, n, chunk):
        out[s:s + chunk] = (X[s:s + chunk].astype(np.float64) - mean) @ comps
    return out


def pca_projection(ws: Workspace, *, model: str = DEFAULT_MODEL, progress: Progress | None = None) -> str:
    """Compute (or reuse) the PCA map of ``model``'s embeddings; returns the key ``pca(model=..)``. ~1 s / 100k rows."""
    key = score_key("pca", model=model)
    row_ids, X = ws.embeddings(model)
    if len(row_ids) < 2:
        raise CurationError(f"a projection needs at least 2 embedded examples for {model!r}; found {len(row_ids)}; "
                            "run `python -m curation embed` first")
    fp = fingerprint(row_ids, X)
    stored = _stored_params(ws, key)
    if stored is None or stored.get("fingerprint") != fp:
        if progress:
            progress(0, 1)
        ws.put_projection(key, row_ids, pca_2d(X), method="pca", model=model, params={"fingerprint": fp})
    if progress:
        progress(1, 1)
    return key


def umap_layout(X: np.ndarray, idx: np.ndarray, sim: np.ndarray, *, n_neighbors: int = 15, min_dist: float = 0.1,
                seed: int = 0, n_epochs: int | None = None, init: str = "auto",
                parallel: bool = False) -> np.ndarray:
    """UMAP of X (n, d) from a precomputed graph (idx (n, k) positions without self, sim (n, k) cosine).

    Uses the first n_neighbors - 1 neighbours (k must be >= n_neighbors - 1). init: ``"auto"`` (spectral up to
    :data:`SPECTRAL_MAX_ROWS` rows, else PCA), ``"spectral"`` or ``"pca"``. n_epochs None: :func:`default_epochs`.
    parallel: optimise on all cores, without a seed (not reproducible). Returns (n, 2) float32.
    """
    import umap

    n, k = idx.shape
    if n_neighbors < 2 or n_neighbors - 1 > k:
        raise CurationError(f"UMAP n_neighbors={n_neighbors} needs a graph with at least {n_neighbors - 1} "
                            f"neighbours per row; the graph has k={k}; build it with --k {n_neighbors - 1}")
    knn_i = np.concatenate([np.arange(n, dtype=np.int64)[:, None], idx[:, :n_neighbors - 1]], axis=1)
    knn_d = np.concatenate([np.zeros((n, 1), dtype=np.float32),
                            np.clip(1.0 - sim[:, :n_neighbors - 1], 0.0, 2.0).astype(np.float32)], axis=1)
    start = pca_2d(X) if resolve_init(n, init) == "pca" else "spectral"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")
        warnings.filterwarnings("ignore", message=".*n_jobs value.*")
        warnings.filterwarnings("ignore", message=".*random_state.*")
        reducer = umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, metric="cosine",
                            random_state=None if parallel else seed, n_jobs=-1 if parallel else 1,
                            n_epochs=n_epochs if n_epochs is not None else default_epochs(n), init=start,
                            precomputed_knn=(knn_i, knn_d), verbose=False)
        return np.asarray(reducer.fit_transform(X), dtype=np.float32)


def umap_projection(ws: Workspace, *, model: str = DEFAULT_MODEL, k: int = DEFAULT_K, n_neighbors: int = 15,
                    min_dist: float = 0.1, seed: int = 0, n_epochs: int | None = None, init: str = "auto",
                    parallel: bool = False, progress: Progress | None = None) -> str:
    """Compute (or reuse) the UMAP map from the stored graph (built when missing, with k >= n_neighbors - 1).

    Returns the key ``umap(model=..)`` (+ non-default parameters). Seeded, so reproducible, unless ``parallel``
    (all cores, no seed). Cost on one core: ~25 s of CPU per 100k rows (PCA start, 200 epochs; no neighbour
    search), see :func:`umap_layout`.
    """
    resolve_init(0, init)  # validate before any work
    extra = {"n_neighbors": n_neighbors if n_neighbors != 15 else None,
             "min_dist": min_dist if min_dist != 0.1 else None, "seed": None if parallel else (seed or None),
             "n_epochs": n_epochs, "init": None if init == "auto" else init, "parallel": 1 if parallel else None}
    key = score_key("umap", model=model, **extra)
    g = require_graph(ws, model=model, k=max(k, n_neighbors - 1))
    stored = _stored_params(ws, key)
    if stored is not None and stored.get("fingerprint") == g.fingerprint:
        if progress:
            progress(1, 1)
        return key
    if progress:
        progress(0, 1)
    row_ids, X = ws.embeddings(model)
    if not np.array_equal(row_ids, g.row_ids):  # pragma: no cover - require_graph just rebuilt it
        raise CurationError(f"the graph of {model!r} does not match its embeddings; rebuild with `graph --force`")
    nn = min(n_neighbors, len(row_ids) - 1)
    xy = umap_layout(X, g.idx, g.sim, n_neighbors=nn, min_dist=min_dist, seed=seed, n_epochs=n_epochs, init=init,
                     parallel=parallel)
    ws.put_projection(key, row_ids, xy, method="umap", model=model,
                      params={"n_neighbors": nn, "min_dist": min_dist, "seed": None if parallel else seed,
                              "n_epochs": n_epochs if n_epochs is not None else default_epochs(len(row_ids)),
                              "init": resolve_init(len(row_ids), init), "parallel": parallel,
                              "graph": g.key, "fingerprint": g.fingerprint})
    if progress:
        progress(1, 1)
    return key


def load_projection(ws: Workspace, key: str) -> tuple[np.ndarray, np.ndarray]:
    """(row_ids (n,) int64, xy (n, 2) float32) ordered by row_id. Raises CurationError when missing."""
    row_ids, xy = ws.projection(key)
    if len(row_ids) == 0:
        raise CurationError(f"no projection {key!r} in {ws.path}; run `python -m curation project` "
                            "(or `analyze`) first")
    return row_ids, xy


def latest_projection(ws: Workspace, *, model: str | None = None) -> str | None:
    """The newest UMAP projection's key (of ``model`` when given), else the newest PCA one, else None."""
    df = ws.projection_defs()
    if df.empty:
        return None
    if model is not None:
        df = df[df["model"] == model]
    for method in ("umap", "pca"):
        sub = df[df["method"] == method]
        if not sub.empty:
            return str(sub.sort_values("created_at").iloc[-1]["key"])
    return None


def projection_frame(ws: Workspace, key: str) -> pd.DataFrame:
    """row_id, x, y of a stored projection (a convenience for pages)."""
    row_ids, xy = load_projection(ws, key)
    return pd.DataFrame({"row_id": row_ids, "x": xy[:, 0], "y": xy[:, 1]})


def downsample(strata: np.ndarray, *, max_points: int, keep: np.ndarray | None = None,
               seed: int = 0) -> np.ndarray:
    """Positions (sorted) of at most ``max(max_points, keep.sum())`` points: every ``keep`` point, plus a
    stratified sample of the rest (each stratum proportional to its size, at least one point per stratum while
    room is left). strata: (n,) labels (any hashable); keep: (n,) bool. O(n log n)."""
    n = len(strata)
    keep = np.zeros(n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    if n <= max_points:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    kept = np.flatnonzero(keep)
    room = max(0, max_points - len(kept))
    rest = np.flatnonzero(~keep)
    codes = pd.factorize(pd.Series(np.asarray(strata, dtype=object)[rest]))[0]
    sizes = np.bincount(codes) if len(codes) else np.zeros(0, dtype=np.int64)
    quota = np.floor(sizes * (room / max(len(rest), 1))).astype(np.int64)
    quota = np.minimum(np.maximum(quota, (sizes > 0).astype(np.int64)), sizes)
    while quota.sum() > room and quota.max() > 0:  # the "at least one" floor may overshoot the room
        quota[np.argmax(quota)] -= 1
    pri = rng.random(len(rest))
    order = np.lexsort((pri, codes))
    c_sorted = codes[order]
    starts = np.searchsorted(c_sorted, np.arange(len(sizes)))
    rank_in = np.arange(len(order)) - starts[c_sorted]
    take = rest[order[rank_in < quota[c_sorted]]]
    return np.sort(np.concatenate([kept, take]))
