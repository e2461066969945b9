"""Clusters: k-means recovers planted groups, c-TF-IDF names them with their distinctive words, labels are stored."""
from __future__ import annotations

import numpy as np
import pytest

from curation.neighbours.clusters import cluster, cluster_labels, ctfidf_keywords, default_n_clusters, kmeans
from curation.core.errors import CurationError
from curation.neighbours.graph import DEFAULT_MODEL
from test_graph import fill_workspace

TOPICS = {
    0: "python function code list loop variable",
    1: "recipe oven bake flour sugar butter",
    2: "flight hotel passport travel beach museum",
}


def topic_texts(labels: np.ndarray, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    for i, c in enumerate(labels):
        words = TOPICS[int(c)].split()
        out.append(" ".join(rng.choice(words, 6)) + f" the and common filler example {i}")
    return out


def test_default_n_clusters():
    assert default_n_clusters(400) == 10 and default_n_clusters(10**6) == 50 and default_n_clusters(3) == 2
    assert default_n_clusters(1) == 1


def test_kmeans_recovers_planted_groups_and_orders_by_size():
    rng = np.random.default_rng(0)
    C = rng.standard_normal((3, 16)) * 3
    truth = np.repeat([0, 1, 2], [60, 30, 10])
    X = (C[truth] + 0.2 * rng.standard_normal((100, 16))).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    labels, cents = kmeans(X, 3, seed=0)
    assert cents.shape == (3, 16)
    assert np.bincount(labels).tolist() == [60, 30, 10]  # relabelled by decreasing size
    for t in range(3):
        assert len(set(labels[truth == t])) == 1
    np.testing.assert_array_equal(labels, kmeans(X, 3, seed=0)[0])
    with pytest.raises(CurationError, match="n_clusters"):
        kmeans(X, 0)


def test_ctfidf_keywords_pick_distinctive_words():
    labels = np.repeat([0, 1, 2], 20)
    words = ctfidf_keywords(topic_texts(labels), labels, top=4)
    for c, kws in enumerate(words):
        assert set(kws) <= set(TOPICS[c].split()), kws
        assert "filler" not in kws and "common" not in kws


def test_cluster_stores_ids_and_labels(tmp_ws):
    truth = np.repeat([0, 1, 2], [40, 30, 20])
    rng = np.random.default_rng(1)
    C = rng.standard_normal((3, 24)) * 3
    X = (C[truth] + 0.3 * rng.standard_normal((90, 24))).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    fill_workspace(tmp_ws, X, topic_texts(truth))
    key = cluster(tmp_ws, n_clusters=3)["cluster"]
    assert key == f"cluster(model={DEFAULT_MODEL},n_clusters=3)"
    ids = tmp_ws.scores([key])[key].to_numpy()
    assert sorted(np.unique(ids).tolist()) == [0, 1, 2]
    df = cluster_labels(tmp_ws, n_clusters=3)
    assert df["size"].tolist() == [40, 30, 20] and list(df.columns[:4]) == ["cluster", "size", "label", "keywords"]
    for c in range(3):
        assert set(df["keywords"][c]) <= set(TOPICS[c].split())
        assert len(df["central_row_ids"][c]) == 3
    with pytest.raises(CurationError, match="cluster"):
        cluster_labels(tmp_ws, n_clusters=4)


def test_demo_clusters_match_categories(request):
    """On the tiny demo (8 categories) clusters are mostly pure in category."""
    pytest.importorskip("curation.demo")
    ws = request.getfixturevalue("tiny_ws_copy")
    key = cluster(ws, n_clusters=8)["cluster"]
    df = ws.scores([key]).merge(ws.examples(["row_id", "label"]), on="row_id")
    df = df[df["label"].notna()]
    purity = df.groupby(key)["label"].agg(lambda s: s.value_counts().iloc[0]).sum() / len(df)
    names = cluster_labels(ws, key=key)
    print(f"demo cluster purity {purity:.3f}; labels: {names['label'].tolist()}")
    assert purity > 0.5  # chance level is the largest category share, about 0.3
