"""apply_constraints: pins, quotas (proportional, balanced, min/max) and row/token budgets."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from curation.core.errors import CurationError
from curation.select import apply_constraints
from curation.core.ranking import Ranking

RNG = np.random.default_rng(0)
N = 400
IDS = np.arange(10, 10 + N, dtype=np.int64)
ORDER = RNG.permutation(IDS)
R = Ranking(order=ORDER, gains=np.zeros(N), method="t")
LABELS = pd.Series(RNG.choice(["a", "b", "c", "d"], p=[0.55, 0.25, 0.15, 0.05], size=N), index=IDS)
TOKENS = pd.Series(RNG.integers(10, 500, size=N), index=IDS)


def test_plain_budget_is_a_prefix() -> None:
    for k in (0, 1, 37, N, N + 10):
        assert np.array_equal(apply_constraints(R, budget_rows=k), ORDER[:k])
    assert np.array_equal(apply_constraints(R), ORDER)


def test_pins_include_first_and_exclude_removed() -> None:
    inc = [int(ORDER[-1]), int(ORDER[-2])]
    exc = [int(ORDER[0]), int(ORDER[5])]
    sel = apply_constraints(R, pins_include=inc, pins_exclude=exc, budget_rows=20)
    assert len(sel) == 20 and sel[:2].tolist() == inc
    assert not np.isin(exc, sel).any()
    rest = [x for x in ORDER if x not in exc and x not in inc][:18]
    assert sel[2:].tolist() == rest
    # include pins are kept beyond the budget
    assert len(apply_constraints(R, pins_include=inc, budget_rows=1)) == 2
    with pytest.raises(CurationError, match="both include and exclude"):
        apply_constraints(R, pins_include=[inc[0]], pins_exclude=[inc[0]], budget_rows=3)


def test_token_budget_takes_longest_fitting_prefix() -> None:
    sel = apply_constraints(R, budget_tokens=5000, n_tokens=TOKENS)
    cum = np.cumsum(TOKENS.loc[ORDER].to_numpy())
    k = int(np.searchsorted(cum, 5000, side="right"))
    assert np.array_equal(sel, ORDER[:k])
    with pytest.raises(CurationError, match="n_tokens"):
        apply_constraints(R, budget_tokens=10)


@pytest.mark.parametrize("k", [20, 100, 333])
def test_proportional_quota_keeps_pool_shares(k: int) -> None:
    sel = apply_constraints(R, labels=LABELS, quota="proportional", budget_rows=k)
    assert len(sel) == k
    got = LABELS.loc[sel].value_counts()
    want = LABELS.value_counts(normalize=True) * k
    for c in want.index:
        assert abs(got.get(c, 0) - want[c]) <= 1
    # within each class, the best-ranked rows are the ones taken
    pos = {int(x): i for i, x in enumerate(ORDER)}
    for c in want.index:
        taken = sorted(pos[int(x)] for x in sel if LABELS[x] == c)
        all_c = sorted(pos[int(x)] for x in IDS if LABELS[x] == c)
        assert taken == all_c[:len(taken)]


def test_balanced_quota_waterfills_small_classes() -> None:
    sel = apply_constraints(R, labels=LABELS, quota="balanced", budget_rows=160)
    got = LABELS.loc[sel].value_counts()
    n_d = int((LABELS == "d").sum())
    assert len(sel) == 160 and got["d"] == n_d < 40
    others = [got[c] for c in "abc"]
    assert max(others) - min(others) <= 1


def test_min_and_max_quota() -> None:
    sel = apply_constraints(R, labels=LABELS, quota={"min": {"d": 15}, "max": {"a": 10}}, budget_rows=60)
    got = LABELS.loc[sel].value_counts()
    assert len(sel) == 60 and got["d"] >= 15 and got.get("a", 0) <= 10


def test_quota_with_token_budget_and_pins() -> None:
    inc = [int(IDS[0])]
    sel = apply_constraints(R, labels=LABELS, quota="proportional", budget_tokens=20_000, n_tokens=TOKENS,
                            pins_include=inc)
    assert sel[0] == inc[0]
    assert TOKENS.loc[sel].sum() <= 20_000


def test_unlabelled_rows_form_their_own_class() -> None:
    lab = LABELS.copy()
    lab.iloc[:100] = None
    sel = apply_constraints(R, labels=lab, quota="balanced", budget_rows=50)
    assert len(sel) == 50
    assert lab.loc[sel].isna().sum() in (10, 11)
