"""The Bradley-Terry fit is scikit-learn's L2 logistic regression without intercept on the symmetric pair data:
pinned against LogisticRegression on the same rows, for several regularisation strengths."""
from __future__ import annotations

import numpy as np
import pytest

from curation.scorers.learned import _fit_bt


@pytest.mark.parametrize("C", [0.01, 0.3, 10.0])
def test_bradley_terry_fit_equals_sklearn_logistic_regression_on_symmetric_pairs(C: float) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(7)
    n, d = 400, 12
    w_true = rng.normal(size=d)
    D = rng.normal(size=(n, d))                         # f(chosen) - f(rejected), before the label noise
    flip = rng.random(n) > 1.0 / (1.0 + np.exp(-D @ w_true))
    D[flip] *= -1.0                                     # pairs where the 'chosen' side lost under the true model
    ours = _fit_bt(D, C)
    X = np.vstack([D, -D])
    y = np.r_[np.ones(n), np.zeros(n)]
    ref = LogisticRegression(C=C, fit_intercept=False, tol=1e-10, max_iter=10_000).fit(X, y).coef_.ravel()
    assert np.linalg.norm(ours - ref) <= 1e-4 * max(1.0, np.linalg.norm(ref)), (ours, ref)
    # and the fit is not trivial: it recovers the direction of the true weights
    assert float(ours @ w_true) / (np.linalg.norm(ours) * np.linalg.norm(w_true)) > 0.8


def test_bradley_terry_fit_shrinks_towards_a_centre() -> None:
    """With ``centre`` the penalty is 0.5·|w − centre|²: a tiny C returns the centre, not zero."""
    rng = np.random.default_rng(0)
    D = rng.normal(size=(50, 4))
    centre = np.array([1.0, -2.0, 0.5, 3.0])
    assert np.allclose(_fit_bt(D, 1e-9, centre=centre), centre, atol=1e-6)
    assert np.allclose(_fit_bt(D, 1e-9), 0.0, atol=1e-6)
