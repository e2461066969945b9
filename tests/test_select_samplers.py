"""Random, top-k and density sampling (Efraimidis–Spirakis keys)."""
from __future__ import annotations

import numpy as np
import pytest

from curation.core.errors import CurationError
from curation.select import get_selector
from curation.select.density import es_keys, sampling_weights
from curation.select.topk import combine_scores


def test_topk_orders_by_score_nan_last_ties_stable() -> None:
    s = np.array([0.5, np.nan, 0.9, 0.5, 0.1])
    r = get_selector("topk").rank(scores=s)
    assert r.order.tolist() == [2, 0, 3, 4, 1]
    r2 = get_selector("topk").rank(scores=s, context={"higher_is_better": [False]})
    assert r2.order.tolist() == [4, 0, 3, 2, 1]


def test_combination_weights_and_directions() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.random(100), rng.random(100)
    comb = combine_scores(np.column_stack([a, b]), weights=[1.0, 0.0], normalize="none")
    assert np.allclose(comb, a)
    comb2 = combine_scores(np.column_stack([a, b]), weights=[1, 1], higher_is_better=[True, False],
                           normalize="none")
    assert np.allclose(comb2, (a - b) / 2)
    r = get_selector("topk", scores={"a": 1.0, "b": 1.0}).rank(scores=np.column_stack([a, a]))
    assert np.array_equal(r.order, np.argsort(-a, kind="stable"))


def test_es_keys_sample_proportional_to_weight() -> None:
    w = np.array([1.0, 2.0, 4.0, 8.0])
    firsts = np.array([np.argmax(es_keys(w, s)) for s in range(4000)])
    freq = np.bincount(firsts, minlength=4) / 4000
    assert np.allclose(freq, w / w.sum(), atol=0.03)


def test_density_sampling_prefers_sparse_regions() -> None:
    dens = np.r_[np.full(500, 10.0), np.full(500, 1.0)]  # second half 10x rarer-region weight
    r = get_selector("density").rank(scores=dens, seed=0)
    top = r.order[:100]
    assert (top >= 500).mean() > 0.8
    assert np.isclose(r.gains.max(), 1.0)


def test_density_invalid_values() -> None:
    d = np.array([1.0, np.nan, 0.0, 2.0])
    r = get_selector("density").rank(scores=d, seed=1)
    assert set(r.order[-2:].tolist()) == {1, 2}
    with pytest.raises(CurationError, match="log=true"):
        sampling_weights(np.array([-1.0, 2.0]))
    assert np.allclose(sampling_weights(np.log([1.0, 2.0]), log=True), [1.0, 0.5])


def test_random_is_a_seeded_permutation() -> None:
    r = get_selector("random").rank(n=50, seed=4)
    assert np.array_equal(r.order, np.random.default_rng(4).permutation(50))
    assert np.isnan(r.gains).all()
