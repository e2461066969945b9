"""Clusters of the embedding space with short keyword names, so a curator can talk about regions of the map.

* Clustering: k-means on the L2-normalised embeddings (spherical-ish k-means; scikit-learn ``KMeans`` up to
  50k rows, ``MiniBatchKMeans`` above), seeded. Default number of clusters: ``clip(round(sqrt(n / 4)), 2, 50)``.
* Names: class-based TF-IDF (BERTopic's c-TF-IDF): all texts of a cluster form one document; a term's weight is
  ``tf(term, cluster) · log(1 + A / f(term))`` with A the mean number of words per cluster and f the term's total
  frequency. The top terms name the cluster. At most ``max_docs_per_cluster`` texts per cluster are read.

Stored: the score ``cluster(model=..)`` (+ ``n_clusters``/``seed`` when given; id 0..C-1, NaN for rows
without an embedding) and the artifact ``labels:<score key>`` read by :func:`cluster_labels`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.neighbours.graph import DEFAULT_MODEL, fingerprint, put_row_scores, score_key

if TYPE_CHECKING:
    from curation.store import Workspace

TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]{2,}\b"  # words of 3+ letters


def default_n_clusters(n: int) -> int:
    """``clip(round(sqrt(n / 4)), 2, 50)``, and never more than n."""
    return int(min(n, np.clip(round(np.sqrt(n / 4)), 2, 50)))


def kmeans(X: np.ndarray, n_clusters: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(labels (n,) int64 in 0..C-1 ordered by decreasing cluster size, centroids (C, d) float32).

    X: (n, d) float32. KMeans (n_init=3) up to 50k rows, MiniBatchKMeans (batch 4096) above. O(n·C·d·iters).
    BLAS runs single-threaded here: k-means makes thousands of small products, and OpenBLAS threads that spin
    between them cost 5x the CPU (20-26 s instead of 4 s at 100k rows on a busy 2-core machine; same labels).
    """
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from threadpoolctl import threadpool_limits

    n = len(X)
    if not 1 <= n_clusters <= n:
        raise CurationError(f"n_clusters must be in [1, {n}] for {n} embedded examples; got {n_clusters}")
    if n <= 50_000:
        km = KMeans(n_clusters=n_clusters, n_init=3, random_state=seed)
    else:
        km = MiniBatchKMeans(n_clusters=n_clusters, n_init=3, batch_size=4096, random_state=seed)
    with threadpool_limits(limits=1, user_api="blas"):
        labels = km.fit_predict(X)
    sizes = np.bincount(labels, minlength=n_clusters)
    order = np.argsort(-sizes, kind="stable")
    remap = np.empty(n_clusters, dtype=np.int64)
    remap[order] = np.arange(n_clusters)
    return remap[labels], np.asarray(km.cluster_centers_, dtype=np.float32)[order]


def ctfidf_keywords(texts: list[str] | pd.Series, labels: np.ndarray, *, top: int = 6,
                    n_clusters: int | None = None) -> list[list[str]]:
    """Top ``top`` c-TF-IDF terms per cluster label 0..C-1 (an empty list for a cluster without usable words)."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import CountVectorizer

    labels = np.asarray(labels, dtype=np.int64)
    C = int(n_clusters if n_clusters is not None else labels.max() + 1)
    texts = [t if isinstance(t, str) else "" for t in texts]
    vec = CountVectorizer(stop_words="english", token_pattern=TOKEN_PATTERN, lowercase=True,
                          min_df=2 if len(texts) >= 50 else 1, max_features=100_000)
    try:
        counts = vec.fit_transform(texts)
    except ValueError:  # empty vocabulary
        return [[] for _ in range(C)]
    member = sp.csr_matrix((np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(C, len(labels)))
    tf = (member @ counts).astype(np.float64).tocsr()  # (C, V) term counts per cluster
    words_per_cluster = np.asarray(tf.sum(axis=1)).ravel()
    A = max(words_per_cluster.mean(), 1.0)
    f = np.asarray(tf.sum(axis=0)).ravel()
    idf = np.log1p(A / np.maximum(f, 1.0))
    tf = sp.diags(1.0 / np.maximum(words_per_cluster, 1.0)) @ tf
    W = (tf @ sp.diags(idf)).tocsr()
    vocab = np.asarray(vec.get_feature_names_out())
    out = []
    for c in range(C):
        row = W.getrow(c)
        if row.nnz == 0:
            out.append([])
            continue
        best = row.indices[np.argsort(-row.data, kind="stable")[:top]]
        out.append(vocab[best].tolist())
    return out


def _cluster_key(model: str, n_clusters: int | None, seed: int) -> str:
    return score_key("cluster", model=model, n_clusters=n_clusters, seed=seed or None)


def cluster(ws: Workspace, *, model: str = DEFAULT_MODEL, n_clusters: int | None = None, seed: int = 0,
            top_words: int = 6, max_docs_per_cluster: int = 1000) -> dict[str, str]:
    """Cluster the embeddings of ``model``, name the clusters, store both. Returns {"cluster": score key}.

    n_clusters: None = :func:`default_n_clusters`. Labels are stored as the artifact ``labels:<key>``.
    """
    row_ids, X = ws.embeddings(model)
    if len(row_ids) < 2:
        raise CurationError(f"clustering needs at least 2 embedded examples for {model!r}; found {len(row_ids)}")
    C = n_clusters or default_n_clusters(len(row_ids))
    labels, centroids = kmeans(X, C, seed=seed)
    fp = fingerprint(row_ids, X)
    # representative texts per cluster: the ones closest to the centroid (up to max_docs_per_cluster)
    sims = np.einsum("ij,ij->i", X, centroids[labels])
    del X
    pick = []
    for c in range(C):
        members = np.flatnonzero(labels == c)
        pick.append(members[np.argsort(-sims[members], kind="stable")[:max_docs_per_cluster]])
    pick_pos = np.sort(np.concatenate(pick))
    texts = ws.examples(["row_id", "embed_text"], row_ids=row_ids[pick_pos])["embed_text"].tolist()
    words = ctfidf_keywords(texts, labels[pick_pos], top=top_words, n_clusters=C)
    sizes = np.bincount(labels, minlength=C)
    key = _cluster_key(model, n_clusters, seed)
    put_row_scores(ws, key, row_ids, labels.astype(np.float64),
                   params={"n_clusters": C, "seed": seed, "method": "kmeans", "fingerprint": fp})
    examples = []
    for c in range(C):
        members = np.flatnonzero(labels == c)
        examples.append(row_ids[members[np.argsort(-sims[members], kind="stable")[:3]]].tolist())
    ws.put_artifact(f"labels:{key}", {
        "key": key, "model": model, "n_clusters": C, "seed": seed, "fingerprint": fp, "clusters": [
            {"cluster": c, "size": int(sizes[c]), "keywords": words[c],
             "label": " · ".join(words[c][:3]) if words[c] else f"cluster {c}",
             "central_row_ids": examples[c]} for c in range(C)]})
    return {"cluster": key}


def cluster_labels(ws: Workspace, *, model: str = DEFAULT_MODEL, n_clusters: int | None = None, seed: int = 0,
                   key: str | None = None) -> pd.DataFrame:
    """One row per cluster: cluster (int), size, label (top 3 keywords), keywords (list), central_row_ids (list).

    Reads what :func:`cluster` stored for the same (model, n_clusters, seed) or under the score ``key``.
    """
    key = key or _cluster_key(model, n_clusters, seed)
    obj = ws.artifact(f"labels:{key}")
    if obj is None:
        raise CurationError(f"no cluster labels stored for {key!r} in {ws.path}; run `python -m curation cluster` "
                            "(or `analyze`) first")
    return pd.DataFrame(obj["clusters"], columns=["cluster", "size", "label", "keywords", "central_row_ids"])
