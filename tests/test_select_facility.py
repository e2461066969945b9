"""Facility location: lazy = naive = plain-numpy greedy, sparse kernel = numpy reference, apricot parity."""
from __future__ import annotations

import numpy as np
import pytest

from curation.select import get_selector
from curation.neighbours.graph import exact_knn
from curation.select._sparse import coverage_matrix, dense_coverage_matrix, target_coverage
from curation.select.facility import (
    facility_location, facility_location_cg, facility_location_mi, optimize,
)


def blobs(n: int = 120, d: int = 12, centers: int = 5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    C = rng.normal(size=(centers, d))
    X = C[rng.integers(centers, size=n)] + 0.8 * rng.normal(size=(n, d))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


def numpy_greedy(S: np.ndarray, k: int, *, cur0: np.ndarray | None = None, modular: np.ndarray | None = None,
                 forced: list[int] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Reference: S (candidates, items) dense; gain_j = modular_j + Σ_i max(0, S_ji − cur_i)."""
    nc, m = S.shape
    cur = np.zeros(m) if cur0 is None else cur0.copy()
    mod = np.zeros(nc) if modular is None else modular
    left = np.ones(nc, bool)
    order, gains = [], []
    for t in range(k):
        g = np.maximum(S - cur, 0).sum(axis=1) + mod
        if t < len(forced):
            j = forced[t]
        else:
            g = np.where(left, g, -np.inf)
            j = int(np.argmax(g))
        order.append(j)
        gains.append(g[j])
        cur = np.maximum(cur, S[j])
        left[j] = False
    return np.array(order), np.array(gains)


def reference_coverage(idx: np.ndarray, sim: np.ndarray, n: int) -> np.ndarray:
    S = np.zeros((n, n))
    for i in range(n):
        for j, s in zip(idx[i], sim[i]):
            if j >= 0 and j != i and s > 0:
                S[i, j] = max(S[i, j], s)
                S[j, i] = max(S[j, i], s)
    np.fill_diagonal(S, 1.0)
    return S


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coverage_matrix_equals_numpy_reference(seed: int) -> None:
    X = blobs(seed=seed)
    idx, sim = exact_knn(X, 7)
    idx[3, -1] = -1  # padding is ignored
    got = coverage_matrix((idx, sim), len(X)).toarray()
    assert np.allclose(got, reference_coverage(idx, sim.astype(np.float64), len(X)))


def test_exact_knn_matches_brute_force() -> None:
    X = blobs(seed=4)
    idx, sim = exact_knn(X, 5)
    S = X @ X.T
    np.fill_diagonal(S, -np.inf)
    assert np.allclose(np.sort(S, axis=1)[:, ::-1][:, :5], sim, atol=1e-6)
    assert np.allclose(np.take_along_axis(S, idx, axis=1), sim, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("k", [4, 15])
def test_lazy_equals_naive_equals_numpy(seed: int, k: int) -> None:
    X = blobs(seed=seed)
    S = coverage_matrix(exact_knn(X, k), len(X))
    prob = facility_location(S)
    lo, lg = optimize(prob, optimizer="lazy")
    no, ng = optimize(prob, optimizer="naive")
    ro, rg = numpy_greedy(S.toarray(), len(X))
    assert np.array_equal(lo, no) and np.array_equal(lg, ng)
    assert np.array_equal(lo, ro)
    assert np.allclose(lg, rg)
    assert np.all(np.diff(lg) <= 1e-12)                 # submodular: gains never grow
    assert np.isclose(lg.sum(), prob.objective(lo))     # gains add up to the objective


def test_stochastic_with_full_sample_is_naive_greedy() -> None:
    X = blobs(seed=5)
    prob = facility_location(coverage_matrix(exact_knn(X, 8), len(X)))
    so, sg = optimize(prob, optimizer="stochastic", sample_size=10_000, seed=3)
    no, ng = optimize(prob, optimizer="naive")
    assert np.array_equal(so, no) and np.allclose(sg, ng)


def test_stochastic_is_close_to_greedy_and_seeded() -> None:
    X = blobs(n=200, seed=6)
    prob = facility_location(coverage_matrix(exact_knn(X, 8), len(X)))
    lo, _ = optimize(prob, optimizer="lazy", k=30)
    a, _ = optimize(prob, optimizer="stochastic", sample_size=40, k=30, seed=1)
    b, _ = optimize(prob, optimizer="stochastic", sample_size=40, k=30, seed=1)
    c, _ = optimize(prob, optimizer="stochastic", sample_size=40, k=30, seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert prob.objective(a) >= 0.9 * prob.objective(lo)


def test_dense_kernel_equals_numpy_and_full_graph() -> None:
    X = blobs(n=60, seed=7)
    D = dense_coverage_matrix(X)
    ref = np.maximum(X.astype(np.float64) @ X.T.astype(np.float64), 0)
    np.fill_diagonal(ref, 1)
    assert np.allclose(D.toarray(), ref, atol=1e-6)
    dense = get_selector("facility", kernel="dense").rank(X)
    full = get_selector("facility").rank(X, graph=exact_knn(X, len(X) - 1))
    ro, _ = numpy_greedy(ref, len(X))
    assert np.array_equal(dense.order, ro)
    assert np.array_equal(full.order[:20], ro[:20])


def test_quality_weights_scale_candidate_rows() -> None:
    X = blobs(seed=8)
    S = coverage_matrix(exact_knn(X, 6), len(X))
    w = np.random.default_rng(0).random(len(X))
    lo, lg = optimize(facility_location(S, weights=w), optimizer="lazy", k=25)
    ro, rg = numpy_greedy(S.toarray() * w[:, None], 25)
    assert np.array_equal(lo, ro) and np.allclose(lg, rg)


def test_mutual_information_matches_numpy_definition() -> None:
    X = blobs(n=80, seed=9)
    Y = blobs(n=5, seed=10)
    eta = 0.5
    C = target_coverage(X, Y, k=len(X))                    # exact: every pool row for every target
    ms = (X @ Y.T).max(axis=1)
    lo, lg = optimize(facility_location_mi(C, ms, eta=eta), optimizer="lazy", k=20)
    ref_S = np.maximum(X.astype(np.float64) @ Y.T.astype(np.float64), 0)
    ro, rg = numpy_greedy(ref_S, 20, modular=eta * np.maximum(ms, 0))
    assert np.array_equal(lo, ro) and np.allclose(lg, rg)
    # the examples most similar to each target come first
    first = set(lo[:5].tolist())
    assert len(first & set(np.argmax(X @ Y.T, axis=0).tolist())) >= 3


def test_conditional_gain_matches_numpy_definition() -> None:
    X = blobs(n=90, seed=11)
    P = blobs(n=6, seed=12)
    S = coverage_matrix(exact_knn(X, 10), len(X))
    seen = (X @ P.T).max(axis=1)
    lo, lg = optimize(facility_location_cg(S, seen, nu=0.8), optimizer="lazy", k=30)
    ro, rg = numpy_greedy(S.toarray(), 30, cur0=0.8 * np.maximum(seen, 0))
    assert np.array_equal(lo, ro) and np.allclose(lg, rg)


def test_pins_condition_the_greedy() -> None:
    X = blobs(seed=13)
    g = exact_knn(X, 8)
    S = coverage_matrix(g, len(X)).toarray()
    inc, exc = [7, 30], [0, 1]
    r = get_selector("facility").rank(X, graph=g, include=inc, exclude=exc, max_k=25)
    # reference: excluded rows leave candidates and ground set, included ones are picked first
    keep = np.setdiff1d(np.arange(len(X)), exc)
    Sk = S[np.ix_(keep, keep)]
    pos = {int(p): i for i, p in enumerate(keep)}
    ro, rg = numpy_greedy(Sk, 25, forced=[pos[i] for i in inc])
    assert np.array_equal(r.order, keep[ro]) and np.allclose(r.gains, rg)


def test_coverage_matrix_with_a_neighbour_listed_twice_keeps_the_max() -> None:
    idx = np.array([[1, 1, 2], [0, 2, 2], [0, 1, 0]])
    sim = np.array([[0.5, 0.7, 0.2], [0.6, 0.1, 0.3], [0.4, 0.9, 0.0]], dtype=np.float32)
    got = coverage_matrix((idx, sim), 3).toarray()
    want = np.array([[1.0, 0.7, 0.4], [0.7, 1.0, 0.9], [0.4, 0.9, 1.0]])
    assert np.allclose(got, want)
