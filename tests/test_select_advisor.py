"""Budget advisor: the plateau fit recovers known parameters; coverage along a ranking is monotone."""
from __future__ import annotations

import numpy as np

from curation.select import advisor, fit_plateau, get_selector
from curation.neighbours.graph import exact_knn
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


def _facility_result():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 8))
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    g = exact_knn(X, 10)
    return advisor(get_selector("facility").rank(X, graph=g), graph=g)


def test_budget_for_and_coverage_at() -> None:
    res = _facility_result()
    assert res.budget_for(0.90) == int(min(np.ceil(np.log(10) / res.b), 300))
    assert res.budget_for(0.90) <= res.budget_for(0.95) == res.plateau_budget
    assert np.isclose(res.coverage_at(40), res.predict(40.0))


def test_describe_in_words() -> None:
    res = _facility_result()
    lines = res.describe(budget=40)
    text = "\n".join(lines)
    assert "r=" not in text and "rate b" not in text
    assert "at a budget of 40 rows" in text and f"{res.coverage_at(40):.3f}" in text
    assert f"90% of the way to the plateau at {res.budget_for(0.9):,} rows" in text
    assert f"95% at {res.budget_for(0.95):,} rows" in text
    assert "mean similarity" in text  # what coverage means
    assert "at a budget of" not in "\n".join(res.describe())  # without a budget: no budget sentence


def test_cli_advise_speaks_plainly(tiny_ws_copy, capsys) -> None:
    from curation.cli import main

    w = str(tiny_ws_copy.path)
    assert main(["-w", w, "graph"]) == 0
    assert main(["-w", w, "select", "facility"]) == 0
    capsys.readouterr()
    assert main(["-w", w, "advise", "facility", "--budget", "50"]) == 0
    out = capsys.readouterr().out
    assert "r=0." not in out and "at a budget of 50 rows" in out and "90% of the way to the plateau" in out
