"""The report card on constructed data with known answers, and the fast path against the plain reference
(curation/diagnostics/report.py, curation/diagnostics/reference.py)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from curation.diagnostics import ReportContext, ReportParams, format_card
from curation.diagnostics.reference import reference_report
from curation.core.errors import CurationError

D = 16


def _sphere(rng: np.random.Generator, n: int, dims: list[int]) -> np.ndarray:
    """n unit vectors uniform on the sphere of the coordinate subspace ``dims`` of R^D (covariance I/len(dims))."""
    X = np.zeros((n, D))
    X[:, dims] = rng.standard_normal((n, len(dims)))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def two_spectra() -> tuple[np.ndarray, np.ndarray]:
    """Two classes with equal counts and different spectra: 'wide' spans 8 directions, 'narrow' spans 2."""
    rng = np.random.default_rng(0)
    X = np.vstack([_sphere(rng, 1500, list(range(8))), _sphere(rng, 1500, [8, 9])]).astype(np.float32)
    labels = np.array(["wide"] * 1500 + ["narrow"] * 1500, dtype=object)
    return X, labels


@pytest.fixture(scope="module")
def ctx2(two_spectra: tuple[np.ndarray, np.ndarray]) -> ReportContext:
    X, labels = two_spectra
    return ReportContext.from_arrays(X, labels, row_ids=np.arange(len(X)) + 1000, coverage_sample=300)


def test_equal_counts_different_spectra(ctx2: ReportContext, two_spectra: tuple[np.ndarray, np.ndarray]) -> None:
    X, labels = two_spectra
    rng = np.random.default_rng(1)
    sel = rng.choice(len(X), 1200, replace=False) + 1000
    card = ctx2.report(sel)
    spec = card.spectral.set_index("label")
    assert spec.loc["wide", "pool_effective_rank"] == pytest.approx(8.0, rel=0.05)
    assert spec.loc["narrow", "pool_effective_rank"] == pytest.approx(2.0, rel=0.05)
    assert spec.loc["wide", "pool_participation_ratio"] == pytest.approx(8.0, rel=0.05)
    assert spec.loc["narrow", "pool_top_k_share"] == pytest.approx(1.0, abs=0.02)
    assert card.spectral_spread["pool"]["max_min_ratio"] == pytest.approx(4.0, rel=0.08)
    assert card.spectral_spread["pool"]["cv"] == pytest.approx(0.6, rel=0.08)  # |8-2|/2 / 5
    # a random subset keeps class balance and each class's spectrum
    assert card.js_divergence < 0.005
    assert card.chi2_p > 0.001
    assert abs(spec.loc["wide", "effective_rank_change"]) < 0.05
    assert not any("class" in a for a in card.alerts)
    # the classes occupy orthogonal subspaces: the k-NN probe separates them perfectly
    assert card.probe["accuracy"] == pytest.approx(1.0)
    # second moment ½·I₈/8 + ½·I₂/2: eigenvalues 8 × 1/16 and 2 × 1/4 → exp(½ ln 16 + ½ ln 4) = 8
    assert card.coverage["vendi_pool"] == pytest.approx(8.0, rel=0.03)


def test_subset_that_drops_a_class(ctx2: ReportContext) -> None:
    card = ctx2.report(np.arange(1000, 1000 + 1500)[::3])  # only 'wide' rows
    t = card.classes.set_index("label")
    assert t.loc["narrow", "subset_count"] == 0 and t.loc["narrow", "retention"] == 0
    assert t.loc["wide", "subset_share"] == 1.0
    assert card.js_divergence == pytest.approx(0.311, abs=0.01)  # JS = H(¾,¼) - ½·H(½,½) - ½·H(1,0) = 0.311
    assert card.chi2_p < 1e-10
    assert any("drops class 'narrow' entirely" in a for a in card.alerts)
    assert any("Jensen-Shannon" in a for a in card.alerts)
    assert np.isnan(card.spectral.set_index("label").loc["narrow", "subset_effective_rank"])
    # half the pool (one whole class) is far from every selected row: coverage worse than random
    assert card.coverage["p95_distance"] == pytest.approx(1.0, abs=0.05)
    assert any("worse than a random subset" in a for a in card.alerts)


def test_collapsed_class_is_flagged(ctx2: ReportContext, two_spectra: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = two_spectra
    wide = np.arange(1500)
    cone = wide[X[wide, 0] ** 2 + X[wide, 1] ** 2 > 0.6]  # 'wide' rows near one plane: fewer directions
    narrow = np.arange(1500, 3000)[::3]
    card = ctx2.report(np.concatenate([cone, narrow]) + 1000)
    row = card.spectral.set_index("label").loc["wide"]
    assert row["subset_effective_rank"] < 0.75 * row["pool_effective_rank"]
    assert any("class 'wide' spans fewer directions" in a for a in card.alerts)


@pytest.fixture(scope="module")
def mixed() -> dict:
    rng = np.random.default_rng(5)
    n, d = 900, 24
    labels = rng.choice(["a", "b", "c", "d", "e"], n, p=[0.4, 0.25, 0.2, 0.1, 0.05]).astype(object)
    centers = {c: rng.standard_normal(d) * 1.5 for c in "abcde"}
    scale = {"a": np.linspace(0.2, 2, d), "b": np.ones(d), "c": np.r_[np.ones(3) * 2, np.ones(d - 3) * 0.1],
             "d": np.linspace(2, 0.1, d), "e": np.ones(d)}
    X = np.stack([centers[c] + rng.standard_normal(d) * scale[c] for c in labels]).astype(np.float32)
    scores = pd.DataFrame({"q": rng.random(n), "len": np.where(rng.random(n) < 0.2, np.nan, rng.integers(1, 500, n))})
    ranking = rng.permutation(n)
    return {"X": X, "labels": labels, "scores": scores, "ranking": ranking}


def test_fast_report_equals_reference(mixed: dict) -> None:
    X, labels, scores = mixed["X"], mixed["labels"], mixed["scores"]
    P = ReportParams(coverage_sample=5000, probe_sample=5000)
    ctx = ReportContext.from_arrays(X, labels, scores=scores, score_directions={"q": True, "len": None}, params=P)
    for k in (30, 400, 700):
        sel = mixed["ranking"][:k]
        card = ctx.report(sel)
        ref = reference_report(X, labels, sel, scores=scores, params=P)
        cols = ["label", "pool_count", "subset_count"]
        pd.testing.assert_frame_equal(card.classes[cols], ref["classes"][cols], check_dtype=False)
        np.testing.assert_allclose(card.classes["retention"], ref["classes"]["retention"])
        assert card.js_divergence == pytest.approx(ref["js_divergence"], abs=1e-12)
        assert card.chi2 == pytest.approx(ref["chi2"]) and card.chi2_p == pytest.approx(ref["chi2_p"], abs=1e-12)
        fast = card.spectral.set_index("label")
        slow = ref["spectral"].set_index("label")
        assert list(fast.index) == list(slow.index)
        for col in slow.columns:
            np.testing.assert_allclose(fast[col].to_numpy(float), slow[col].to_numpy(float), rtol=2e-4, atol=2e-5,
                                       err_msg=f"k={k} {col}")
        assert card.coverage["vendi_subset"] == pytest.approx(ref["vendi_subset"], rel=1e-4)
        assert card.coverage["vendi_pool"] == pytest.approx(ref["vendi_pool"], rel=1e-4)
        assert card.coverage["exact"]
        for key in ("mean_distance", "p95_distance", "max_distance", "facility_location"):
            assert card.coverage[key] == pytest.approx(ref["coverage"][key], abs=1e-5)
        q = card.quality.set_index("key")
        rq = ref["quality"].set_index("key")
        for col in rq.columns:
            np.testing.assert_allclose(q[col].to_numpy(float), rq[col].to_numpy(float), rtol=1e-10)
        pd.testing.assert_frame_equal(card.probe["per_class"], ref["probe"]["per_class"])


def test_incremental_reports_equal_cold_reports(mixed: dict) -> None:
    X, labels = mixed["X"], mixed["labels"]
    warm = ReportContext.from_arrays(X, labels, coverage_sample=200, coverage_top_l=16)
    cold = ReportContext.from_arrays(X, labels, coverage_sample=200, coverage_top_l=16)
    r = mixed["ranking"]
    rng = np.random.default_rng(7)
    subsets = [r[:k] for k in (50, 60, 200, 190, 800, 805, 850, 10, 11)] + [rng.choice(900, 300, replace=False)]
    hows = []
    for sel in subsets:
        a = warm.report(sel)
        hows.append(a.notes[-1])
        cold._state = None  # forget the previous subset: statistics from scratch
        b = cold.report(sel)
        cols = [c for c in a.spectral.columns if c != "label"]
        np.testing.assert_allclose(a.spectral[cols].to_numpy(float), b.spectral[cols].to_numpy(float),
                                   rtol=1e-4, atol=1e-6)
        for key in ("mean_distance", "p95_distance", "facility_location", "vendi_subset"):
            assert a.coverage[key] == pytest.approx(b.coverage[key], rel=1e-5, abs=1e-6)
    assert sum("incremental" in h for h in hows) >= 4 and any("complement" in h for h in hows)


def test_to_dict_is_json_and_format(ctx2: ReportContext) -> None:
    card = ctx2.report(np.arange(1000, 1100))
    d = card.to_dict()
    text = json.dumps(d, allow_nan=False)  # strict JSON: NaN became null
    back = json.loads(text)
    assert back["n_subset"] == 100 and back["n_pool"] == 3000
    assert {"label", "pool_count", "pool_share", "subset_count", "subset_share", "retention"} <= set(back["classes"][0])
    assert back["alerts"] == card.alerts
    assert back["preference"] is None
    out = format_card(card)
    assert "alerts:" in out and "class balance" in out and "spectral balance" in out


def test_empty_selection_and_bad_ids(ctx2: ReportContext) -> None:
    card = ctx2.report(np.array([], dtype=np.int64))
    assert card.n_subset == 0 and "the selection is empty" in card.alerts
    assert np.isnan(card.coverage["mean_distance"])
    json.dumps(card.to_dict(), allow_nan=False)
    with pytest.raises(CurationError, match="not in the pool"):
        ctx2.report(np.array([0, 1, 2]))  # positions, not row ids (row ids start at 1000)
    with pytest.raises(CurationError, match="unknown report parameter"):
        ReportContext.from_arrays(np.eye(3), ["a", "b", "c"], coverage_smaple=3)
    with pytest.raises(CurationError, match="one per row"):
        ReportContext.from_arrays(np.eye(3), ["a", "b"])
    with pytest.raises(CurationError, match="all zeros"):
        ReportContext.from_arrays(np.zeros((3, 2)), ["a", "b", "c"])


def test_size_matched_baseline_removes_small_sample_bias(mixed: dict) -> None:
    X, labels = mixed["X"], mixed["labels"]
    ctx = ReportContext.from_arrays(X, labels, coverage_sample=100, probe_sample=100)
    full = ctx.report(np.arange(len(X))).spectral
    for m in ("effective_rank", "participation_ratio", "top_k_share", "decay_slope"):
        np.testing.assert_allclose(full[f"baseline_{m}"], full[f"pool_{m}"])  # the whole class is its own baseline
    np.testing.assert_allclose(full["effective_rank_change"], 0.0, atol=1e-6)
    rng = np.random.default_rng(11)
    vs_base, vs_pool = [], []
    for _ in range(24):  # random 12% subsets: classes of ~20-45 rows in 24 dims, where shrinkage inflates estimates
        spec = ctx.report(rng.choice(len(X), 108, replace=False)).spectral.set_index("label").loc[["a", "b", "c"]]
        vs_base.append(spec["effective_rank_change"].to_numpy())
        vs_pool.append((spec["subset_effective_rank"] / spec["pool_effective_rank"] - 1).to_numpy())
    assert abs(np.nanmean(vs_base)) < 0.05
    assert abs(np.nanmean(vs_pool)) > 2 * abs(np.nanmean(vs_base))


def test_class_mix_alert_agrees_with_the_chi_square_test(ctx2: ReportContext) -> None:
    wide, narrow = np.arange(1000, 2500), np.arange(2500, 4000)
    # 60/40 against a 50/50 pool on 1,500 rows: a small divergence, far beyond chance
    card = ctx2.report(np.concatenate([wide[:900], narrow[:600]]))
    assert card.js_divergence < ctx2.params.js_alert and card.chi2_p < ctx2.params.chi2_alpha
    assert any("beyond chance" in a and f"{card.chi2_p:.2g}" in a for a in card.alerts), card.alerts
    # 7 to 1 on 8 rows: a big divergence that a sample this small shows by chance often enough
    card = ctx2.report(np.concatenate([wide[:7], narrow[:1]]))
    assert card.js_divergence >= ctx2.params.js_alert and card.chi2_p >= ctx2.params.chi2_alpha
    assert any("Jensen-Shannon" in a and "not significant at this size" in a for a in card.alerts), card.alerts
    # a random subset: neither rule fires
    card = ctx2.report(np.random.default_rng(3).choice(np.arange(1000, 4000), 1200, replace=False))
    assert not any("class mix" in a for a in card.alerts), card.alerts
