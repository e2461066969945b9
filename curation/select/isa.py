"""ISA, information sampling for alignment (Khera et al. 2024): rank by each example's share of the dataset entropy.

Steps: reduce the embeddings (PCA to ``dims``), fit a 2-component Gaussian mixture (seeded), take each example's
log-likelihood l_i, min-max scale it to l'_i in [0, 1], set p_i = exp(l'_i) and H = -Σ p_i log p_i. An example's
score is the entropy lost when it is left out, D_i = H - H_(-i); rank by D_i, largest first.

* ``normalize=False`` (as published): p is not renormalised, so D_i = -p_i log p_i = -l'_i e^(l'_i), which is
  largest for the *least* likely examples: outliers and rare regions come first.
* ``normalize=True``: p_i = e^(l'_i) / Σ_j e^(l'_j) is a distribution and H_(-i) renormalises over the rest:
  D_i = -p_i (H + log p_i) / (1 - p_i) - log(1 - p_i). To first order D_i ∝ p_i (1 + KL - log(n p_i)), which
  peaks at typical likelihood: it demotes both outliers and the densest examples.

Cost: PCA O(n·d·dims) + EM O(n·dims²·iterations) — a few seconds at 100k rows.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from curation.core.errors import CurationError
from curation.select.base import Pool, Selector, check_range, register


def isa_loglik(X: np.ndarray, *, dims: int = 16, components: int = 2, seed: int = 0,
               max_fit: int = 50_000) -> np.ndarray:
    """(n,) log-likelihood of each row under a seeded GMM on PCA-reduced X (fit on at most max_fit rows)."""
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    if n < max(components, 2) + 1:
        raise CurationError(f"ISA needs more than {components + 1} examples, got {n}")
    rng = np.random.default_rng(seed)
    fit = rng.choice(n, max_fit, replace=False) if n > max_fit else np.arange(n)
    # one BLAS thread: these are thin matrices where threads only add sync cost (15-40x slower on a busy 2-core
    # machine), and single-threaded BLAS makes the result bit-reproducible
    with threadpool_limits(limits=1):
        Z = X
        if dims and dims < X.shape[1]:
            dims = min(dims, len(fit) - 1)
            pca = PCA(n_components=dims, random_state=seed).fit(X[fit])
            Z = pca.transform(X)
        gmm = GaussianMixture(n_components=components, covariance_type="full", random_state=seed, reg_covar=1e-5)
        gmm.fit(Z[fit])
        return gmm.score_samples(Z)


def entropy_drop(loglik: np.ndarray, *, normalize: bool = False) -> np.ndarray:
    """D_i = H - H_(-i) (n,) from per-example log-likelihoods (see the module docstring). O(n)."""
    l = np.asarray(loglik, dtype=np.float64)
    lo, hi = np.min(l), np.max(l)
    lp = (l - lo) / (hi - lo) if hi > lo else np.zeros_like(l)
    if not normalize:
        return -np.exp(lp) * lp
    logp = lp - (np.log(np.sum(np.exp(lp - lp.max()))) + lp.max())
    p = np.exp(logp)
    H = -np.sum(p * logp)
    return -p * (H + logp) / (1.0 - p) - np.log1p(-p)


@register
class ISASelector(Selector):
    """ISA (Khera et al.): entropy contribution under a 2-component GMM. dims: PCA dimensions (0 = none).
    normalize: renormalise p (see module docstring). Gains = D_i, the entropy lost when the example is left out."""

    name: ClassVar[str] = "isa"
    needs: ClassVar[tuple[str, ...]] = ("X",)
    gains_meaning: ClassVar[str] = "entropy lost when the example is left out"
    description: ClassVar[str] = "ISA: information sampling by GMM entropy (Khera et al.)"

    def __init__(self, *, dims: int = 16, components: int = 2, normalize: bool = False,
                 max_fit: int = 50_000) -> None:
        self.dims, self.components, self.normalize = int(dims), int(components), bool(normalize)
        self.max_fit = int(max_fit)
        check_range(self.name, "dims", dims, 0, None)
        check_range(self.name, "components", components, 1, 64)
        check_range(self.name, "max_fit", max_fit, 10, None)

    def _order(self, pool: Pool, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        ll = isa_loglik(pool.X, dims=self.dims, components=self.components, seed=seed, max_fit=self.max_fit)
        D = entropy_drop(ll, normalize=self.normalize)
        order = np.lexsort((np.arange(len(D)), -D))
        return order, D[order]
