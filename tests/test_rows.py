"""RowIndex: positions of row ids in a fixed order and values carried into it, against a dict-based brute force."""
from __future__ import annotations

import numpy as np

from curation.core.rows import RowIndex


def test_positions_and_align_match_a_brute_force() -> None:
    rng = np.random.default_rng(3)
    order = rng.permutation(np.arange(0, 3000, 3))           # row ids with gaps, in a shuffled drawing order
    index = RowIndex(order)
    where = {int(r): i for i, r in enumerate(order)}
    rows = rng.integers(-5, 3100, size=800)                  # some on the map, some not
    want = [where[int(r)] for r in rows if int(r) in where]
    assert index.positions(rows).tolist() == want
    vals = rng.normal(size=len(rows))
    got = index.align(rows, vals)
    brute = np.full(len(order), np.nan)
    for r, v in zip(rows, vals):
        if int(r) in where:
            brute[where[int(r)]] = v
    assert np.array_equal(np.isnan(got), np.isnan(brute)) and np.allclose(got[~np.isnan(got)], brute[~np.isnan(brute)])
    labels = index.align(order[:5], np.array(["a", "b", "c", "d", "e"], dtype=object), fill=None)
    assert labels[:5].tolist() == ["a", "b", "c", "d", "e"] and labels[5] is None


def test_empty_inputs() -> None:
    assert RowIndex([]).positions([1, 2]).tolist() == []
    assert RowIndex([4, 2]).positions([]).tolist() == []
    assert np.isnan(RowIndex([4, 2]).align([], np.zeros(0))).all()
