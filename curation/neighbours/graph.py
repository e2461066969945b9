"""One k-nearest-neighbour graph per embedding model, computed once and reused by every consumer.

The graph feeds density (:mod:`.density`), uniqueness and outliers, near-duplicate groups (:mod:`.dedup`),
clusters (:mod:`.clusters`) and the UMAP map (:mod:`.projection`); :mod:`curation.workflows.analyze` runs them
all. This module imports none of them.

Methods (``knn(..., method=...)``)
----------------------------------
``"exact"``       brute force: faiss ``IndexFlatIP`` (BLAS matmul + heap selection), numpy fallback. O(n²·d) time.
``"nndescent"``   pynndescent NN-descent (the library umap-learn uses), built with 2k candidates and truncated to
                  k: recall@15 ≈ 0.995 on 12k real MiniLM vectors. numba compiles it once per process (~20 s).
``"faiss-hnsw"``  faiss HNSW (M=16, efConstruction=64, efSearch=max(96, 4k)); recall@15 ≈ 0.995 on the same
                  vectors, about 2x slower than nndescent on 2 cores, no compilation.
``"auto"``        ``"exact"`` up to :data:`EXACT_MAX_ROWS` rows, else :data:`APPROX_DEFAULT`. The choice was
                  benchmarked on 2 cores (``benchmarks/bench_graph.py``, RESULTS.md).

Storage
-------
``ws.put_graph(graph_key(model, k), ...)`` with neighbour *row ids*; :func:`load_graph` turns them back into
positions. The graph's params hold a ``fingerprint`` of (row ids, vectors), so :func:`build_graph` reuses a stored
graph only when the embedded rows are exactly the same.

Score keys
----------
Every per-example score derived from the graph is keyed ``name(model=..)`` plus any non-default parameter
(``name(k=30,model=..,threshold=0.9)``), see :func:`curation.core.keys.score_key`. The full list, with direction and
meaning, is in :data:`SCORE_DOCS`.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from curation.core.errors import CurationError
from curation.core.keys import DEFAULT_MODEL, fingerprint, graph_key, key_name
from curation.core.keys import score_key as score_key  # re-exported: the key of every score below
from curation.core.progress import Progress, report_job

if TYPE_CHECKING:
    import scipy.sparse

    from curation.store import Workspace


DEFAULT_K = 15
EXACT_MAX_ROWS = 20_000
"""Below or at this many rows ``method="auto"`` uses exact search (a few seconds on 2 cores)."""
APPROX_DEFAULT = "nndescent"
"""Approximate method used by ``"auto"`` above :data:`EXACT_MAX_ROWS` (see bench_graph in RESULTS.md)."""
METHODS = ("auto", "exact", "nndescent", "faiss-hnsw")

# name -> (higher_is_better, meaning). Keys are ``score_key(name, model=..., **non_default_params)``.
SCORE_DOCS: dict[str, tuple[bool | None, str]] = {
    "density_lsh": (False, "kernel density from an LSH sketch (Sachdeva et al. 2024, p-stable hashes): average "
                           "fraction of all examples sharing this example's bucket, in (0, 1]; high = crowded region"),
    "density_knn": (False, "k-NN Gaussian kernel density: mean exp(-d²/2h²) over the k neighbours (d = chord "
                           "distance, h = median k-th neighbour distance), in (0, 1]; high = crowded region"),
    "density_ipw": (True, "inverse-propensity weight 1/density_lsh, normalised to mean 1: the sampling weight of "
                          "density sampling; high = rare region, picked more often"),
    "uniqueness": (True, "cosine distance to the k-th nearest neighbour, in [0, 2]; high = novel / isolated"),
    "outlier": (False, "1 when uniqueness > median + 3·1.4826·MAD of uniqueness (robust z > 3), else 0"),
    "neardup_group": (None, "near-duplicate group (connected component of cosine >= threshold edges): the row_id "
                            "of the group's representative; NaN when the example has no near duplicate"),
    "neardup_size": (False, "number of examples in the near-duplicate group (1 = no near duplicate)"),
    "neardup_rep": (True, "1 for the example kept from its near-duplicate group (or a singleton), 0 for a "
                          "redundant copy"),
    "exactdup_group": (None, "exact-duplicate group by content hash: the row_id of the first example with this "
                             "content; NaN when the content is unique"),
    "exactdup_size": (False, "number of examples with identical content (1 = unique)"),
    "exactdup_rep": (True, "1 for the first example (lowest row_id) with its content, 0 for a later copy"),
    "cluster": (None, "cluster id 0..C-1 (k-means on embeddings); names in "
                      "curation.neighbours.clusters.cluster_labels"),
}


@dataclass(frozen=True)
class KnnGraph:
    """A cosine k-NN graph.

    row_ids: (n,) int64 sorted row ids. idx: (n, k) int64 POSITIONS into row_ids (never the row itself; -1 for a
    neighbour outside the pool when the graph was restricted to a sub-pool, with sim 0).
    sim: (n, k) float32 cosine similarity, each row sorted by decreasing similarity.
    The one graph type: stored graphs (:func:`load_graph`), a selection's pool graph and the selectors' inputs.
    """

    row_ids: np.ndarray
    idx: np.ndarray
    sim: np.ndarray
    model: str = DEFAULT_MODEL
    key: str = ""
    params: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(len(self.row_ids))

    @property
    def k(self) -> int:
        return int(self.idx.shape[1]) if self.idx.ndim == 2 else 0

    @property
    def fingerprint(self) -> str:
        return str(self.params.get("fingerprint", ""))

    def neighbour_row_ids(self) -> np.ndarray:
        """(n, k) int64 row ids of the neighbours."""
        return self.row_ids[self.idx]


# ---------------------------------------------------------------------------------------------- pure search
def _check_matrix(X: np.ndarray, k: int) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2:
        raise CurationError(f"knn: X must be an (n, d) matrix; got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.floating):
        raise CurationError(f"knn: X must hold floats; got dtype {X.dtype}")
    n = len(X)
    if k < 1:
        raise CurationError(f"knn: k must be >= 1; got {k}")
    if n <= k:
        raise CurationError(f"knn: k={k} neighbours need at least {k + 1} rows; found {n}; pass a smaller k")
    X = np.ascontiguousarray(X, dtype=np.float32)
    if not np.all(np.isfinite(X)):
        raise CurationError("knn: X contains NaN or inf; re-embed the affected examples")
    return X


def resolve_method(n: int, method: str = "auto") -> str:
    """The concrete method ``"auto"`` stands for at ``n`` rows (other names are validated and returned)."""
    if method not in METHODS:
        raise CurationError(f"unknown k-NN method {method!r}; use one of {list(METHODS)}")
    if method == "auto":
        return "exact" if n <= EXACT_MAX_ROWS else APPROX_DEFAULT
    return method


def _drop_self(I: np.ndarray, D: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """From (n, k+1) candidate lists that usually contain the query, keep k non-self entries sorted by sim desc.

    Entries equal to the query position and invalid ids (-1) are pushed past the end; ties keep their order.
    """
    n = len(I)
    self_pos = np.arange(n)[:, None]
    bad = (I == self_pos) | (I < 0)
    D = np.where(bad, -np.inf, D).astype(np.float32)
    order = np.argsort(-D, axis=1, kind="stable")[:, :k]
    idx = np.take_along_axis(I, order, axis=1).astype(np.int64)
    sim = np.take_along_axis(D, order, axis=1)
    if np.isneginf(sim).any():  # happens only when a search returned fewer than k real neighbours
        raise CurationError("knn: the approximate search returned fewer than k neighbours for some rows; "
                            "use method='exact' or a smaller k")
    return idx, sim


def exact_knn(X: np.ndarray, k: int, *, block_bytes: int = 1 << 27) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine k nearest neighbours, self excluded, in numpy: the one exact search written here (the selectors'
    and tests' reference; the graph's ``exact`` method runs it when faiss's flat index is missing). X: (n, d),
    L2-normalised; k above n - 1 is lowered to n - 1.

    Returns (idx (n, k) int64 positions, sim (n, k) float32), most similar first, ties to the lower position.
    Blocked X @ X.T with argpartition: O(n²·d) time, about ``block_bytes`` of scratch memory."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    n = len(X)
    k = min(k, n - 1)
    idx = np.empty((n, k), dtype=np.int64)
    sim = np.empty((n, k), dtype=np.float32)
    bs = int(max(1, min(n, block_bytes // (4 * max(n, 1)))))
    for s in range(0, n, bs):
        e = min(n, s + bs)
        S = X[s:e] @ X.T
        S[np.arange(e - s), np.arange(s, e)] = -np.inf
        part = np.argpartition(-S, k - 1, axis=1)[:, :k] if k < n else np.argsort(-S, axis=1)[:, :k]
        ps = np.take_along_axis(S, part, axis=1)
        order = np.lexsort((part, -ps), axis=1)
        idx[s:e] = np.take_along_axis(part, order, axis=1)
        sim[s:e] = np.take_along_axis(ps, order, axis=1)
    return idx, sim


def _knn_faiss_flat(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    import faiss

    index = faiss.IndexFlatIP(X.shape[1])
    index.add(X)
    D, I = index.search(X, k + 1)
    return _drop_self(I, D, k)


def _knn_hnsw(X: np.ndarray, k: int, *, M: int = 16, ef_construction: int = 64,
              ef_search: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    import faiss

    index = faiss.IndexHNSWFlat(X.shape[1], M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.add(X)
    index.hnsw.efSearch = ef_search or max(96, 4 * k)
    D, I = index.search(X, k + 1)
    return _drop_self(I, D, k)


def _knn_nndescent(X: np.ndarray, k: int, *, seed: int = 0,
                   n_candidates: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    from pynndescent import NNDescent

    # Building with more neighbours than needed and truncating raises recall at modest cost.
    kk = max(k + 1, n_candidates or 2 * k)
    kk = min(kk, len(X) - 1)
    index = NNDescent(X, metric="cosine", n_neighbors=kk, random_state=seed, n_jobs=-1, low_memory=True,
                      compressed=True, verbose=False)
    I, dist = index.neighbor_graph
    return _drop_self(I.astype(np.int64), (1.0 - dist).astype(np.float32), k)


def knn(X: np.ndarray, k: int, *, method: str = "auto", seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cosine k nearest neighbours of every row among the other rows.

    X: (n, d) float32, L2-normalised (cosine = dot product). k: 1 <= k < n.
    Returns idx (n, k) int64 positions (the row itself is never included) and sim (n, k) float32 cosine
    similarity, each row sorted by decreasing similarity. method: see :data:`METHODS` and the module docstring.
    Cost: exact O(n²·d) time, O(n·k) memory plus a 128 MB block; approximate ≈ O(n·log n·d).
    """
    X = _check_matrix(X, k)
    m = resolve_method(len(X), method)
    if m == "exact":
        try:
            import faiss  # noqa: F401
        except ImportError:  # pragma: no cover - faiss-cpu is a requirement
            return exact_knn(X, k)
        return _knn_faiss_flat(X, k)
    if m == "faiss-hnsw":
        return _knn_hnsw(X, k)
    return _knn_nndescent(X, k, seed=seed)


def recall_at_k(approx_idx: np.ndarray, exact_idx: np.ndarray, exact_sim: np.ndarray | None = None,
                approx_sim: np.ndarray | None = None) -> float:
    """Mean fraction of the exact k neighbours found by the approximate search, in [0, 1].

    With sims given, a neighbour tied in similarity with the exact k-th one counts as found (exact duplicates).
    """
    n, k = exact_idx.shape
    hits = 0
    for a, e in zip(approx_idx, exact_idx):
        hits += len(np.intersect1d(a, e, assume_unique=False))
    if exact_sim is not None and approx_sim is not None:
        # count approximate neighbours that are not in the exact list but are as close as the exact k-th
        extra = 0
        kth = exact_sim[:, -1]
        for i in range(n):
            miss = ~np.isin(approx_idx[i], exact_idx[i])
            extra += int(np.sum(approx_sim[i][miss] >= kth[i] - 1e-6))
        hits = min(hits + extra, n * k)
    return hits / float(n * k)


def to_csr(graph: KnnGraph) -> scipy.sparse.csr_matrix:
    """The graph as an (n, n) scipy CSR matrix of cosine similarities (row i holds i's k neighbours)."""
    import scipy.sparse as sp

    n, k = graph.idx.shape
    return sp.csr_matrix((graph.sim.ravel().astype(np.float32), graph.idx.ravel(),
                          np.arange(0, n * k + 1, k, dtype=np.int64)), shape=(n, n))


# ---------------------------------------------------------------------------------------------- workspace
def embeddings_of(ws: Workspace, model: str) -> tuple[np.ndarray, np.ndarray]:
    row_ids, X = ws.embeddings(model)
    if len(row_ids) == 0:
        raise CurationError(
            f"no embeddings for model {model!r} in {ws.path}; run `python -m curation embed --model {model}` first")
    return row_ids, X


def stored_graph_params(ws: Workspace, key: str) -> dict | None:
    df = ws.graphs()
    if df.empty or key not in set(df["key"]):
        return None
    p = df.loc[df["key"] == key, "params"].iloc[0]
    if isinstance(p, str):
        p = json.loads(p)
    return dict(p or {})


def put_row_scores(ws: Workspace, key: str, row_ids: np.ndarray, values: np.ndarray, *,
                   params: dict | None = None) -> str:
    """Store one float per row id under ``key`` with its :data:`SCORE_DOCS` entry (direction, description)."""
    name = key_name(key)
    higher, desc = SCORE_DOCS.get(name, (None, ""))
    ids = ws.id_map()
    pos = np.searchsorted(ids["row_id"].to_numpy(), row_ids)
    ws.put_scores(key, ids["example_id"].to_numpy()[pos].tolist(), np.asarray(values, dtype=np.float64),
                  name=name, higher_is_better=higher, params=params or {}, description=desc)
    return key


def build_graph(ws: Workspace, *, model: str = DEFAULT_MODEL, k: int = DEFAULT_K, method: str = "auto",
                seed: int = 0, progress: Progress | None = None, force: bool = False) -> str:
    """Build (or reuse) the cosine k-NN graph over ``ws.embeddings(model)`` and return its key.

    A stored graph under :func:`graph_key` is reused when its fingerprint (same row ids, same vectors) matches,
    unless ``force``. Progress: ``progress(0, 1)`` then ``progress(1, 1)``; the job ``graph:{key}`` records the
    state. Cost: see :func:`knn`; storing ≈ 1 s per 100k rows.
    """
    key = graph_key(model, k)
    row_ids, X = embeddings_of(ws, model)
    fp = fingerprint(row_ids, X)
    stored = stored_graph_params(ws, key)
    if not force and stored is not None and stored.get("fingerprint") == fp:
        if progress:
            progress(1, 1)
        return key
    m = resolve_method(len(row_ids), method)
    job = f"graph:{key}"
    report_job(ws, job, kind="graph", status="running", done=0, total=len(row_ids), params={"method": m, "k": k})
    if progress:
        progress(0, 1)
    t0 = time.perf_counter()
    try:
        idx, sim = knn(X, k, method=m, seed=seed)
    except Exception as exc:
        report_job(ws, job, kind="graph", status="failed", done=0, total=len(row_ids), message=str(exc)[:500])
        raise
    secs = time.perf_counter() - t0
    ws.put_graph(key, row_ids, row_ids[idx], sim, model=model,
                 params={"k": k, "method": m, "seed": seed, "fingerprint": fp, "seconds": round(secs, 3)})
    report_job(ws, job, kind="graph", status="done", done=len(row_ids), total=len(row_ids),
               params={"method": m, "k": k, "fingerprint": fp}, message=f"{m} in {secs:.1f} s")
    if progress:
        progress(1, 1)
    return key


def load_graph(ws: Workspace, *, model: str = DEFAULT_MODEL, k: int = DEFAULT_K) -> KnnGraph | None:
    """The stored graph of ``model`` with ``k`` neighbours (neighbours as positions), or None when missing."""
    key = graph_key(model, k)
    got = ws.graph(key)
    if got is None:
        return None
    row_ids, nbr, sim = got
    pos = np.searchsorted(row_ids, nbr)
    pos = np.clip(pos, 0, len(row_ids) - 1)
    if not np.array_equal(row_ids[pos], nbr):
        raise CurationError(f"graph {key!r} in {ws.path} points at rows that are no longer there; rebuild it with "
                            "`python -m curation graph --force`")
    return KnnGraph(row_ids=row_ids, idx=pos.astype(np.int64), sim=sim.astype(np.float32), model=model, key=key,
                    params=stored_graph_params(ws, key) or {})


def require_graph(ws: Workspace, *, model: str = DEFAULT_MODEL, k: int = DEFAULT_K,
                  method: str = "auto", seed: int = 0, progress: Progress | None = None) -> KnnGraph:
    """:func:`build_graph` (a no-op when up to date) then :func:`load_graph`."""
    build_graph(ws, model=model, k=k, method=method, seed=seed, progress=progress)
    g = load_graph(ws, model=model, k=k)
    assert g is not None
    return g
