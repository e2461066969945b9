"""Spectral metrics and the sufficient-statistics covariance path (curation/diagnostics/spectral.py)."""
from __future__ import annotations

import numpy as np
import pytest

from curation.diagnostics import spectral as sp


def _unit(X: np.ndarray) -> np.ndarray:
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


def test_metrics_known_answers() -> None:
    flat = np.ones(8)
    assert sp.effective_rank(flat) == pytest.approx(8.0)
    assert sp.participation_ratio(flat) == pytest.approx(8.0)
    assert sp.top_k_share(flat, 2) == pytest.approx(0.25)
    one = np.array([5.0, 0, 0, 0])
    assert sp.effective_rank(one) == pytest.approx(1.0)
    assert sp.participation_ratio(one) == pytest.approx(1.0)
    assert sp.top_k_share(one, 1) == pytest.approx(1.0)
    power = np.arange(1, 101, dtype=float) ** -1.5
    assert sp.decay_slope(power, n_rows=1000, fit_k=50) == pytest.approx(-1.5)
    assert np.isnan(sp.decay_slope(power, n_rows=3, fit_k=50))  # fewer than 3 usable eigenvalues
    assert np.isnan(sp.effective_rank(np.zeros(4)))
    # effective rank ≤ participation ratio bound check on a random spectrum: 1 ≤ PR ≤ erank ≤ d
    lam = np.sort(np.random.default_rng(0).random(20))[::-1]
    assert 1 <= sp.participation_ratio(lam) <= sp.effective_rank(lam) <= 20


def test_stats_are_additive_and_match_rows() -> None:
    rng = np.random.default_rng(1)
    X = _unit(rng.standard_normal((300, 12)))
    groups = rng.integers(0, 3, 300)
    all_ = sp.ClassStats.zeros(3, 12)
    all_.add_rows(X, np.arange(300), groups)
    part = sp.ClassStats.zeros(3, 12)
    part.add_rows(X, np.arange(150), groups)
    part.add_rows(X, np.arange(150, 300), groups)
    part.add_rows(X, np.arange(100, 200), groups, sign=-1)
    part.add_rows(X, np.arange(100, 200), groups)
    for g in range(3):
        rows = X[groups == g].astype(np.float64)
        assert all_.n[g] == len(rows)
        np.testing.assert_allclose(all_.s2[g], rows.T @ rows, atol=1e-5)
        np.testing.assert_allclose(part.s2[g], all_.s2[g], atol=1e-5)
        S = sp.covariance_from_stats(len(rows), all_.s1[g], all_.s2[g])
        np.testing.assert_allclose(S, np.cov(rows.T, bias=True), atol=1e-6)


@pytest.mark.parametrize("n,d", [(40, 16), (8, 32), (600, 6)])
def test_ledoit_wolf_from_stats_matches_sklearn(n: int, d: int) -> None:
    from sklearn.covariance import ledoit_wolf

    rng = np.random.default_rng(n)
    X = _unit(rng.standard_normal((n, d)) * np.linspace(0.3, 2.0, d) + 0.4)
    st = sp.ClassStats.zeros(1, d)
    st.add_rows(X, np.arange(n), np.zeros(n, dtype=np.int64))
    lam = sp.shrunk_eigenvalues(n, st.s1[0], st.s2[0])
    ref = np.sort(np.linalg.eigvalsh(ledoit_wolf(X.astype(np.float64))[0]))[::-1]
    np.testing.assert_allclose(lam, ref, atol=1e-6)
    assert np.all(np.diff(lam) <= 1e-12)  # descending


def test_shrinkage_keeps_small_classes_full_rank() -> None:
    rng = np.random.default_rng(2)
    X = _unit(rng.standard_normal((10, 64)))  # fewer rows than dimensions
    st = sp.ClassStats.zeros(1, 64)
    st.add_rows(X, np.arange(10), np.zeros(10, dtype=np.int64))
    raw = sp.shrunk_eigenvalues(10, st.s1[0], st.s2[0], shrinkage="none")
    lw = sp.shrunk_eigenvalues(10, st.s1[0], st.s2[0])
    assert np.sum(raw > 1e-5) <= 9  # rank ≤ n - 1 (up to float32 solver noise)
    assert np.all(lw > 0)
    assert sp.effective_rank(lw) > sp.effective_rank(raw)


def test_vendi_from_second_moment_matches_kernel() -> None:
    rng = np.random.default_rng(3)
    X = _unit(rng.standard_normal((50, 8))).astype(np.float64)
    K = X @ X.T / 50
    ref = sp.effective_rank(np.clip(np.linalg.eigvalsh(K), 0, None))
    assert sp.vendi_from_second_moment(50, X.T @ X) == pytest.approx(ref, rel=1e-5)
    same = np.repeat(X[:1], 20, axis=0)
    assert sp.vendi_from_second_moment(20, same.T @ same) == pytest.approx(1.0, abs=1e-4)  # all identical → 1


def test_spread() -> None:
    s = sp.spread(np.array([2.0, 8.0, np.nan]))
    assert s["max_min_ratio"] == pytest.approx(4.0)
    assert s["cv"] == pytest.approx(0.6)
    assert s["n_classes"] == 2
    assert np.isnan(sp.spread(np.array([3.0]))["cv"])
