"""Class balance: tables, divergence, chi-square and alerts (curation/diagnostics/classes.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from curation.diagnostics.classes import (MISSING_LABEL, OTHER_LABEL, chi2_test, class_alerts, class_table,
                                          encode_labels, js_divergence)


def test_encode_labels_orders_by_count_and_handles_missing() -> None:
    codes, names = encode_labels(["b", "a", "b", None, float("nan"), "", 3.0, "b", "b"])
    assert names[0] == "b"
    assert MISSING_LABEL in names and "3" in names
    assert [names[c] for c in codes] == ["b", "a", "b", MISSING_LABEL, MISSING_LABEL, MISSING_LABEL, "3", "b",
                                          "b"]
    assert encode_labels(pd.Series(["x", pd.NA, None], dtype="string"))[1] == ["(none)", "x"]
    codes, names = encode_labels([f"c{i % 7}" for i in range(70)] + ["rare"], max_classes=4)
    assert len(names) == 4 and OTHER_LABEL in names


def test_js_divergence_known_values() -> None:
    from scipy.spatial.distance import jensenshannon

    assert js_divergence([10, 10], [5, 5]) == pytest.approx(0.0)
    assert js_divergence([10, 0], [0, 10]) == pytest.approx(1.0)
    p, q = np.array([5.0, 3, 2]), np.array([1.0, 1, 8])
    assert js_divergence(p, q) == pytest.approx(jensenshannon(p, q, base=2) ** 2)
    assert np.isnan(js_divergence([1, 2], [0, 0]))


def test_chi2_matches_scipy() -> None:
    from scipy.stats import chisquare

    pool, sub = np.array([500, 300, 200]), np.array([40, 30, 30])
    stat, p = chi2_test(pool, sub)
    ref = chisquare(sub, 100 * pool / pool.sum())
    assert stat == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)
    assert chi2_test(pool, 0.2 * pool)[1] == pytest.approx(1.0)


def test_alerts_for_dropped_and_underkept_classes() -> None:
    names = ["x", "y", "z", "tiny"]
    pool = np.array([500, 300, 200, 3])
    sub = np.array([100, 60, 0, 0])  # 20% overall, z dropped; tiny is below the size floor
    t = class_table(names, pool, sub)
    assert t["retention"].tolist()[:3] == [0.2, 0.2, 0.0]
    alerts = class_alerts(t)
    assert len(alerts) == 1 and "drops class 'z' entirely" in alerts[0]
    sub = np.array([100, 60, 8, 0])  # z kept at 4% against ~17% overall
    alerts = class_alerts(class_table(names, pool, sub))
    assert len(alerts) == 1 and "keeps 4% of class 'z'" in alerts[0] and "overall" in alerts[0]
    assert class_alerts(class_table(names, pool, np.array([50, 30, 20, 0]))) == []


def test_alerts_are_capped_and_small_dropped_classes_still_count() -> None:
    names = [f"c{i}" for i in range(20)] + ["big"]
    pool = np.array([20] * 20 + [10_000])
    sub = np.array([0] * 20 + [5_000])  # twenty 0.2% classes dropped
    alerts = class_alerts(class_table(names, pool, sub), max_alerts=5)
    assert len(alerts) == 6 and all("drops class" in a for a in alerts[:5]) and "15 more" in alerts[5]
