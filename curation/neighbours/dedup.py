"""Near-duplicate groups from the k-NN graph (SemDeDup-style) and exact duplicates by content hash.

Near duplicates: the connected components of the graph restricted to edges with cosine >= ``threshold``
(plus edges between examples with the same embedded text, so copies are grouped even beyond k). Each group keeps
one representative: the member with the largest sum of in-group edge similarities (most central), ties to the
lowest row_id. Exact duplicates: examples with the same ``content_hash``; the representative is the lowest row_id.

Scores written (see :data:`curation.neighbours.graph.SCORE_DOCS`): ``neardup_group`` / ``neardup_size`` /
``neardup_rep`` keyed ``name(model=..)`` (+ ``k``, ``threshold`` when not default) and ``exactdup_group`` /
``exactdup_size`` / ``exactdup_rep`` (no model). A group id is the row_id of the group's representative; NaN for
singletons.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.neighbours.graph import DEFAULT_K, DEFAULT_MODEL, KnnGraph, put_row_scores, require_graph, score_key

if TYPE_CHECKING:
    from curation.store import Workspace

DEFAULT_THRESHOLD = 0.95


def components_from_edges(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(n,) int64 component label per node of the undirected graph with the given edges (scipy, O(n + e))."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    A = sp.coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n)).tocsr()
    _, labels = connected_components(A, directed=True, connection="weak")
    return labels.astype(np.int64)


def group_table(labels: np.ndarray, row_ids: np.ndarray, centrality: np.ndarray | None = None) -> pd.DataFrame:
    """Per row: group (representative row_id, NaN for singletons), size, is_rep (1.0/0.0).

    labels: (n,) component labels. centrality: (n,) higher = better representative (default: none, so the lowest
    row_id wins).
    """
    n = len(labels)
    cent = np.zeros(n) if centrality is None else np.asarray(centrality, dtype=np.float64)
    size = np.bincount(labels)[labels]
    # representative per label: max centrality, then min row_id
    order = np.lexsort((row_ids, -cent, labels))
    first = np.ones(n, dtype=bool)
    first[1:] = labels[order][1:] != labels[order][:-1]
    rep_of_label = np.empty(labels.max() + 1, dtype=np.int64)
    rep_of_label[labels[order][first]] = row_ids[order][first]
    rep_row = rep_of_label[labels]
    group = np.where(size > 1, rep_row, np.nan).astype(np.float64)
    return pd.DataFrame({"row_id": row_ids, "group": group, "size": size.astype(np.float64),
                         "is_rep": (rep_row == row_ids).astype(np.float64)})


def near_duplicate_groups(graph: KnnGraph, *, threshold: float = DEFAULT_THRESHOLD,
                          same_text: np.ndarray | None = None) -> pd.DataFrame:
    """Near-duplicate groups of a graph: columns row_id, group, size, is_rep (see :func:`group_table`).

    threshold: cosine in (0, 1]; an edge i–j joins a group when sim >= threshold. same_text: optional (n,) labels
    (e.g. text hash codes); rows with equal labels are joined too. O(n·k).
    """
    if not 0.0 < threshold <= 1.0:
        raise CurationError(f"near-duplicate threshold must be in (0, 1]; got {threshold}")
    n, k = graph.idx.shape
    mask = graph.sim >= np.float32(threshold) - np.float32(1e-6)
    src = np.repeat(np.arange(n), k)[mask.ravel()]
    dst = graph.idx.ravel()[mask.ravel()]
    if same_text is not None:
        codes = pd.factorize(pd.Series(same_text))[0]
        order = np.argsort(codes, kind="stable")
        c = codes[order]
        link = c[1:] == c[:-1]
        src = np.concatenate([src, order[1:][link]])
        dst = np.concatenate([dst, order[:-1][link]])
    labels = components_from_edges(n, src, dst)
    # centrality: sum of in-group edge similarities (both directions)
    cent = np.zeros(n)
    in_group = labels[np.repeat(np.arange(n), k)] == labels[graph.idx.ravel()]
    w = (graph.sim.ravel().astype(np.float64) * (mask.ravel() & in_group))
    np.add.at(cent, np.repeat(np.arange(n), k), w)
    np.add.at(cent, graph.idx.ravel(), w)
    return group_table(labels, graph.row_ids, cent)


def exact_duplicate_groups(row_ids: np.ndarray, content_hashes: np.ndarray) -> pd.DataFrame:
    """Exact-duplicate groups by content hash: columns row_id, group, size, is_rep (lowest row_id kept)."""
    labels = pd.factorize(pd.Series(content_hashes))[0].astype(np.int64)
    return group_table(labels, np.asarray(row_ids, dtype=np.int64))


def near_duplicates(ws: Workspace, *, model: str = DEFAULT_MODEL, k: int = DEFAULT_K,
                    threshold: float = DEFAULT_THRESHOLD, method: str = "auto") -> dict[str, str]:
    """Find and store near-duplicate groups. Returns {"neardup_group": key, "neardup_size": key, "neardup_rep": key}."""
    g = require_graph(ws, model=model, k=k, method=method)
    ids = ws.id_map()
    th = ids.set_index("row_id").loc[g.row_ids, "text_hash"].to_numpy()
    tbl = near_duplicate_groups(g, threshold=threshold, same_text=th)
    extra = {"k": k} if k != DEFAULT_K else {}
    if threshold != DEFAULT_THRESHOLD:
        extra["threshold"] = threshold
    params = {"k": k, "threshold": threshold, "fingerprint": g.fingerprint}
    return {name: put_row_scores(ws, score_key(name, model=model, **extra), g.row_ids, tbl[col].to_numpy(),
                                 params=params)
            for name, col in (("neardup_group", "group"), ("neardup_size", "size"), ("neardup_rep", "is_rep"))}


def exact_duplicates(ws: Workspace) -> dict[str, str]:
    """Find and store exact-duplicate groups by content hash (all examples, no embeddings needed)."""
    ids = ws.id_map()
    if ids.empty:
        raise CurationError(f"workspace {ws.path} has no examples; ingest a dataset first")
    tbl = exact_duplicate_groups(ids["row_id"].to_numpy(), ids["content_hash"].to_numpy())
    return {name: put_row_scores(ws, score_key(name, model=None), tbl["row_id"].to_numpy(), tbl[col].to_numpy(),
                                 params={"by": "content_hash"})
            for name, col in (("exactdup_group", "group"), ("exactdup_size", "size"), ("exactdup_rep", "is_rep"))}


def duplicate_groups(ws: Workspace, *, model: str = DEFAULT_MODEL, k: int = DEFAULT_K,
                     threshold: float = DEFAULT_THRESHOLD, exact: bool = False) -> pd.DataFrame:
    """Stored groups for display: row_id, example_id, group, size, is_rep for rows in groups of size >= 2,
    ordered by group size (desc), group, then representative first. exact=True reads the content-hash groups."""
    if exact:
        keys = [score_key(n, model=None) for n in ("exactdup_group", "exactdup_size", "exactdup_rep")]
    else:
        extra = {"k": k} if k != DEFAULT_K else {}
        if threshold != DEFAULT_THRESHOLD:
            extra["threshold"] = threshold
        keys = [score_key(n, model=model, **extra) for n in ("neardup_group", "neardup_size", "neardup_rep")]
    if not set(keys) <= set(ws.score_defs()["key"]):
        raise CurationError(f"no duplicate groups stored under {keys[0]!r}; run `python -m curation dedup` first")
    df = ws.scores(keys).rename(columns=dict(zip(keys, ("group", "size", "is_rep"))))
    df = df[df["size"] > 1]
    return df.sort_values(["size", "group", "is_rep", "row_id"], ascending=[False, True, False, True]
                          ).reset_index(drop=True)
