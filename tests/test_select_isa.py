"""ISA: entropy-drop formula equals brute-force leave-one-out; published variant ranks low likelihood first."""
from __future__ import annotations

import numpy as np

from curation.select import get_selector
from curation.select.isa import entropy_drop, isa_loglik


def brute(ll: np.ndarray, normalize: bool) -> np.ndarray:
    lp = (ll - ll.min()) / (ll.max() - ll.min())
    p = np.exp(lp)
    if normalize:
        p = p / p.sum()

    def H(q: np.ndarray) -> float:
        if normalize:
            q = q / q.sum()
        return float(-(q * np.log(q)).sum())

    full = H(p)
    return np.array([full - H(np.delete(p, i)) for i in range(len(p))])


def test_entropy_drop_equals_leave_one_out() -> None:
    ll = np.random.default_rng(0).normal(size=50) * 3
    for norm in (False, True):
        assert np.allclose(entropy_drop(ll, normalize=norm), brute(ll, norm), atol=1e-10)


def test_published_variant_ranks_low_likelihood_first() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 8))
    X[:5] += 6  # outliers
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    r = get_selector("isa", dims=0).rank(X)
    ll = isa_loglik(X, dims=0)
    assert np.array_equal(r.order, np.lexsort((np.arange(200), ll)))   # ascending likelihood
    rn = get_selector("isa", dims=0, normalize=True).rank(X)
    assert not np.array_equal(rn.order, r.order)
