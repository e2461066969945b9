"""explain: gain when picked for selected rows, nearest selected neighbour for dropped ones."""
from __future__ import annotations

import numpy as np

from curation.select import apply_constraints, explain, get_selector, nearest_selected
from curation.neighbours.graph import exact_knn


def blobs(n: int = 100, d: int = 8, seed: int = 0) -> np.ndarray:
    X = np.random.default_rng(seed).normal(size=(n, d))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


X = blobs()
IDS = np.arange(500, 600, dtype=np.int64)


def test_selected_and_dropped_explanations() -> None:
    r = get_selector("facility").rank(X, graph=exact_knn(X, 8), row_ids=IDS)
    sel = apply_constraints(r, budget_rows=10)
    e = explain((IDS, X), r, sel, int(r.order[3]))
    assert e["selected"] and e["rank"] == 4 and np.isclose(e["gain"], r.gains[3])  # ranks are 1-based
    assert "rank 4," in e["reason"] and "gain" in e["reason"] and e["covered"] is None
    dropped = int(r.order[50])
    d = explain((IDS, X), r, sel, dropped)
    assert not d["selected"] and d["nearest_selected"] in set(sel.tolist())
    sims = X[dropped - 500] @ X[sel - 500].T
    assert np.isclose(d["similarity"], sims.max(), atol=1e-6)
    assert d["nearest_selected"] == int(sel[np.argmax(sims)])


def test_nearest_selected_vectorised_matches_loop() -> None:
    sel = IDS[::7]
    q = IDS[:30]
    nb, s = nearest_selected(IDS, X, sel, q)
    for i, row in enumerate(q):
        others = [x for x in sel if x != row]
        sims = X[row - 500] @ X[np.array(others) - 500].T
        assert nb[i] == others[int(np.argmax(sims))] and np.isclose(s[i], sims.max(), atol=1e-6)


def test_ranks_are_one_based_for_dropped_rows_too() -> None:
    r = get_selector("facility").rank(X, graph=exact_knn(X, 8), row_ids=IDS)
    sel = apply_constraints(r, budget_rows=10)
    d = explain((IDS, X), r, sel, int(r.order[50]))
    assert d["rank"] == 51 and "ranked 51," in d["reason"]
    assert explain((IDS, X), r, sel, int(r.order[0]))["rank"] == 1


def test_covered_only_above_the_stated_similarity() -> None:
    from curation.select.explain import COVERED_SIMILARITY

    # rows 0 and 1 nearly identical, row 2 orthogonal to both
    V = np.array([[1, 0, 0], [0.99, 0.141, 0], [0, 0, 1]], dtype=np.float32)
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    ids = np.array([10, 11, 12], dtype=np.int64)
    from curation.core.ranking import Ranking

    r = Ranking(order=ids, gains=np.zeros(3), method="fixed(seed=0)")
    sel = ids[:1]
    near = explain((ids, V), r, sel, 11)
    far = explain((ids, V), r, sel, 12)
    assert near["covered"] and f"covered by row 10 (similarity 0.990 ≥ {COVERED_SIMILARITY:.2f})" in near["reason"]
    assert not far["covered"] and "not covered" in far["reason"] and "covered by" not in far["reason"]
    assert f"below {COVERED_SIMILARITY:.2f}" in far["reason"]
    assert far["covered_at"] == COVERED_SIMILARITY
    assert explain((ids, V), r, sel, 11, covered_at=0.999)["covered"] is False
