"""Contract of every selector: prefix consistency, determinism under a seed, pins, keys, registry."""
from __future__ import annotations

import numpy as np
import pytest

from curation.core.errors import CurationError
from curation.select import SELECTORS, get_selector
from curation.neighbours.graph import exact_knn


def blobs(n: int = 160, d: int = 16, centers: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    C = rng.normal(size=(centers, d))
    X = C[rng.integers(centers, size=n)] + 0.8 * rng.normal(size=(n, d))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


X = blobs()
N = len(X)
G = exact_knn(X, 10)
S1 = np.random.default_rng(1).random(N)
S1[::17] = np.nan
ROW_IDS = np.arange(1000, 1000 + N, dtype=np.int64)
CASES = [
    ("random", {}),
    ("topk", {"score": "q"}),
    ("density", {"density": "d"}),
    ("isa", {}),
    ("isa", {"normalize": True}),
    ("facility", {}),
    ("facility", {"optimizer": "stochastic", "sample_size": 16}),
    ("facility", {"kernel": "dense"}),
    ("facility_mi", {"target_k": 20}),
    ("facility_cg", {}),
    ("deita", {"score": "q", "threshold": 0.7}),
    ("kcenter", {}),
]


def _rank(name: str, params: dict, *, seed: int = 0, max_k: int | None = None, **kw):
    sel = get_selector(name, **params)
    scores = np.abs(S1) + 0.01 if name == "density" else S1
    return sel.rank(X, graph=G, scores=scores, row_ids=ROW_IDS, seed=seed, max_k=max_k,
                    context={"targets": X[:4], "seen": X[-6:]}, **kw)


def test_every_method_is_registered_and_tested() -> None:
    assert {c[0] for c in CASES} | {"utility"} == set(SELECTORS)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_full_ranking_is_a_permutation_of_row_ids(name: str, params: dict) -> None:
    r = _rank(name, params)
    assert len(r.order) == N == len(r.gains)
    assert np.array_equal(np.sort(r.order), ROW_IDS)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_prefix_consistency(name: str, params: dict) -> None:
    full = _rank(name, params, seed=3)
    for k in (1, 7, 50):
        part = _rank(name, params, seed=3, max_k=k)
        assert np.array_equal(part.order, full.order[:k])
        assert np.allclose(part.gains, full.gains[:k], equal_nan=True)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_deterministic_under_a_seed(name: str, params: dict) -> None:
    a, b = _rank(name, params, seed=5), _rank(name, params, seed=5)
    assert np.array_equal(a.order, b.order)
    assert a.method == b.method and "seed=5" in a.method


@pytest.mark.parametrize(("name", "params"), CASES)
def test_pins_include_first_exclude_never(name: str, params: dict) -> None:
    inc = np.array([40, 3, 99])
    exc = np.array([0, 1, 2, 50, 120])
    r = _rank(name, params, seed=2, include=inc, exclude=exc)
    assert np.array_equal(r.order[:3], ROW_IDS[inc])
    assert not np.isin(ROW_IDS[exc], r.order).any()
    assert len(r.order) == N - len(exc)
    part = _rank(name, params, seed=2, include=inc, exclude=exc, max_k=10)
    assert np.array_equal(part.order, r.order[:10])


def test_seeds_change_random_orders() -> None:
    assert not np.array_equal(_rank("random", {}, seed=0).order, _rank("random", {}, seed=1).order)
    assert not np.array_equal(_rank("kcenter", {}, seed=0).order, _rank("kcenter", {}, seed=1).order)


def test_key_names_every_parameter_and_seed() -> None:
    sel = get_selector("facility", optimizer="naive")
    key = sel.key(7, model="m")
    assert key.startswith("facility(") and "optimizer=naive" in key and "k=15" in key and key.endswith("seed=7)")
    assert sel.key(7, model="m") == get_selector("facility", optimizer="naive").key(7, model="m")
    assert sel.key(7) != sel.key(8)


def test_unknown_method_and_parameter_are_explained() -> None:
    with pytest.raises(CurationError, match="unknown selection method"):
        get_selector("nope")
    with pytest.raises(CurationError, match="unknown parameter"):
        get_selector("facility", optimiser="lazy")
    with pytest.raises(CurationError, match="not one of"):
        get_selector("facility", optimizer="fast")


def test_conflicting_pins_and_bad_positions_raise() -> None:
    with pytest.raises(CurationError, match="both include and exclude"):
        _rank("random", {}, include=[1], exclude=[1])
    with pytest.raises(CurationError, match="outside"):
        _rank("random", {}, include=[N + 5])
