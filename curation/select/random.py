"""Seeded random order: the baseline every data-selection paper found hard to beat.

The full permutation is drawn once from ``np.random.default_rng(seed)``, so any budget is a uniform random
subset and a larger budget extends a smaller one. O(n).
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from curation.select.base import Pool, Selector, register


@register
class RandomSelector(Selector):
    """Uniform random order (seeded). Gains are NaN (no objective)."""

    name: ClassVar[str] = "random"
    needs: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = "Random (seeded): the baseline"

    def __init__(self) -> None:
        pass

    def _order(self, pool: Pool, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        order = np.random.default_rng(seed).permutation(pool.n)
        return order, np.full(pool.n, np.nan)
