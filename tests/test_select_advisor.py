"""Budget advisor: the plateau fit recovers known parameters; coverage along a ranking is monotone."""
from __future__ import annotations

import numpy as np

from curation.select import advisor, fit_plateau, get_selector
from curation.select._sparse import exact_knn
from curation.select.advisor import plateau


def test_fit_recovers_parameters() -> None:
    x = np.linspace(0, 5000, 60)
    y = plateau(x, 0.9, 0.2, 1e-3) + np.random.default_rng(0).normal(scale=1e-3, size=60)
    r, a, b = fit_plateau(x, y)
    assert abs(r - 0.9) < 0.01 and abs(a - 0.2) < 0.01 and abs(b - 1e-3) / 1e-3 < 0.05


def test_coverage_advisor_on_facility_ranking() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 8))
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    g = exact_knn(X, 10)
    r = get_selector("facility").rank(X, graph=g)
    res = advisor(r, graph=g)
    assert np.all(np.diff(res.values) >= -1e-12) and res.values[-1] <= 1.0 + 1e-9
    assert 0 < res.plateau_budget <= 300
    assert np.isclose(res.predict(0.0), res.a)
    # a callable proxy metric works too
    res2 = advisor(r, metric=lambda sel: 1 - np.exp(-len(sel) / 50), budgets=np.arange(1, 300, 10))
    assert abs(res2.plateau_budget - np.log(20) * 50) < 5
