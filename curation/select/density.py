"""Density sampling (Sachdeva et al. 2024, "How to Train Data-Efficient LLMs"): inverse-propensity sampling.

Each example is drawn with probability proportional to w_i = density_i^(-power) (power=1: inverse propensity, so
sparse regions are up-weighted and the sample covers the space; power<0 samples dense regions more). To make the
sample an order, every row gets the seeded Efraimidis–Spirakis key u_i^(1/w_i) (u_i ~ U(0,1)) and rows are sorted by
key, descending: the first k of that order are exactly a weighted sample without replacement of size k, for every
k at once. Computed in log space (log u / w) so tiny weights do not underflow. O(n log n).

The density array comes from ``curation.neighbours.density`` (any positive score where higher = denser); ``log=True``
says the
array holds log densities. Rows with NaN or non-positive density (when not log) go last, in random order.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from curation.core.errors import CurationError
from curation.select.base import Pool, Selector, check_range, register


def es_keys(weights: np.ndarray, seed: int) -> np.ndarray:
    """Efraimidis–Spirakis log-keys log(u)/w (n,), higher first; -inf where w <= 0 or NaN. u from the seed."""
    w = np.asarray(weights, dtype=np.float64)
    u = np.random.default_rng(seed).random(len(w))
    u = np.maximum(u, np.finfo(np.float64).tiny)
    with np.errstate(divide="ignore", invalid="ignore"):
        key = np.log(u) / w
    return np.where(np.isfinite(w) & (w > 0), key, -np.inf)


def sampling_weights(density: np.ndarray, *, power: float = 1.0, log: bool = False) -> np.ndarray:
    """w = density^(-power) (n,), scaled so max w = 1; NaN where density is missing or invalid."""
    d = np.asarray(density, dtype=np.float64)
    if log:
        lw = -power * d
    else:
        if (d[~np.isnan(d)] < 0).any():
            raise CurationError("density sampling: the density array has negative values; if it holds log "
                                "densities pass log=true, else rescale it to positive values")
        with np.errstate(divide="ignore", invalid="ignore"):
            lw = np.where(d > 0, -power * np.log(np.where(d > 0, d, 1.0)), np.nan)
    lw = np.where(np.isfinite(lw), lw, np.nan)
    if np.isnan(lw).all():
        return lw
    return np.exp(lw - np.nanmax(lw))


@register
class DensitySelector(Selector):
    """Inverse-propensity sampling by density (seeded, prefix-consistent). density: score key of the density
    column (loaded by run_selection; default: the most recent score whose name starts with "density").
    power: w = density^-power. log: the column holds log densities. Gains = the sampling weight w (max 1)."""

    name: ClassVar[str] = "density"
    needs: ClassVar[tuple[str, ...]] = ("scores",)
    gains_meaning: ClassVar[str] = "sampling weight density^-power (max 1)"
    description: ClassVar[str] = "Density sampling: inverse-propensity sample that covers sparse regions"

    def __init__(self, *, density: str | None = None, power: float = 1.0, log: bool = False) -> None:
        self.density, self.power, self.log = density, float(power), bool(log)
        check_range(self.name, "power", power, -10, 10)

    def score_keys(self) -> list[str]:
        return [self.density] if self.density else []

    def _order(self, pool: Pool, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        d = np.asarray(pool.scores, dtype=np.float64)
        if d.ndim == 2:
            d = d[:, 0]
        w = sampling_weights(d, power=self.power, log=self.log)
        key = es_keys(np.nan_to_num(w, nan=0.0), seed)
        # invalid rows (key -inf) last in a seeded random order: tie-break by a second uniform
        tie = np.random.default_rng([seed, 1]).random(len(d))
        order = np.lexsort((tie, -key))
        return order, w[order]
