"""Row-id alignment: where given row ids sit in a fixed order (a map's drawing order, a ranking), and a column's
values carried into that order. Every view that lines up per-row arrays uses this instead of its own searchsorted."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class RowIndex:
    """Positions of row ids in the order ``row_ids`` gives them.

    row_ids: (n,) int64 distinct row ids. Build O(n log n); each lookup O(m log n); memory 2 int64 arrays of n.
    """

    def __init__(self, row_ids: Sequence[int] | np.ndarray) -> None:
        self.row_ids = np.asarray(row_ids, dtype=np.int64)
        self._order = np.argsort(self.row_ids, kind="stable")
        self._sorted = self.row_ids[self._order]

    def __len__(self) -> int:
        return len(self.row_ids)

    def _lookup(self, rows: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions of the rows found, mask (m,) of which of ``rows`` were found)."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows) or not len(self._sorted):
            return np.zeros(0, dtype=np.int64), np.zeros(len(rows), dtype=bool)
        i = np.searchsorted(self._sorted, rows).clip(0, len(self._sorted) - 1)
        ok = self._sorted[i] == rows
        return self._order[i[ok]], ok

    def positions(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """(k,) int64 positions of the given row ids in this order; ids not in the index are dropped."""
        return self._lookup(rows)[0]

    def align(self, rows: Sequence[int] | np.ndarray, values: Sequence[Any] | np.ndarray, *,
              fill: Any = np.nan) -> np.ndarray:
        """(n,) values of ``rows`` carried into this order; ``fill`` where a row has no value. Float output for
        a numeric ``values`` with a NaN fill, object output otherwise."""
        values = np.asarray(values)
        numeric = values.dtype.kind in "fiub" and isinstance(fill, float)
        out = np.full(len(self), fill, dtype=np.float64 if numeric else object)
        pos, ok = self._lookup(rows)
        out[pos] = values[ok]
        return out
