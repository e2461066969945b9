"""The result of every selection method: an order of examples, best first."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Ranking:
    """An ordering of examples, best first; any budget k is the prefix ``order[:k]``.

    order: (m,) int64 row ids. gains: (m,) float64 marginal gain when each was added (NaN where a method has none).
    method: the selector key, including every parameter and the seed.
    """

    order: np.ndarray
    gains: np.ndarray
    method: str

    def top(self, k: int) -> np.ndarray:
        return self.order[:k]
