"""Spectral balance (Kaushik et al., 2024, "Balanced Data, Imbalanced Spectra"): per class, the eigenvalue spectrum
of the covariance of its embeddings, and summary metrics of that spectrum.

Everything here works from additive *sufficient statistics* of a set of rows, per class:
``n`` (count), ``s1 = Σ x`` and ``s2 = Σ x xᵀ``. Statistics of a union are sums and of a difference are
differences, so a subset's statistics are updated from the previous subset's by the rows that changed, or taken
as pool minus complement, whichever touches fewer rows (see :class:`~curation.diagnostics.report.ReportContext`).

Rows are assumed L2-normalised (‖x‖ = 1), which makes the Ledoit–Wolf shrinkage computable from ``(n, s1, s2)``
alone (:func:`ledoit_wolf_from_stats`): the covariance is never formed from rows.

Metrics of a spectrum λ₁ ≥ … ≥ λ_d ≥ 0 (all read the same, shrunk spectrum):

* **effective rank** ``exp(H(p))`` with ``p = λ / Σλ`` (Roy & Vetterli 2007). 1 = one direction, d = isotropic.
* **participation ratio** ``(Σλ)² / Σλ²``. Same range, weights large eigenvalues more.
* **top-k share** ``Σ_{i≤k} λᵢ / Σλ``. In (0, 1]; high = variance concentrated in few directions.
* **decay slope**: least-squares slope of ``log λᵢ`` against ``log i`` over ``i = 1 … min(fit_k, n - 1, d)``.
  Negative; steeper (more negative) = faster power-law decay = fewer effective directions.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

CHUNK_ROWS = 8192  # rows per float32 GEMM block; blocks are accumulated in float64


@dataclass
class ClassStats:
    """Additive statistics of a set of L2-normalised rows split into ``G`` groups (classes).

    n: (G,) int64 counts. s1: (G, d) float64 sums. s2: (G, d, d) float64 sums of outer products (symmetric).
    Memory O(G·d²) (384-d: 1.2 MB per group).
    """

    n: np.ndarray
    s1: np.ndarray
    s2: np.ndarray

    @classmethod
    def zeros(cls, groups: int, d: int) -> ClassStats:
        return cls(np.zeros(groups, dtype=np.int64), np.zeros((groups, d), dtype=np.float64),
                   np.zeros((groups, d, d), dtype=np.float64))

    def copy(self) -> ClassStats:
        return ClassStats(self.n.copy(), self.s1.copy(), self.s2.copy())

    def total(self) -> tuple[int, np.ndarray, np.ndarray]:
        """(n, s1 (d,), s2 (d, d)) summed over all groups."""
        return int(self.n.sum()), self.s1.sum(axis=0), self.s2.sum(axis=0)

    def add_rows(self, X: np.ndarray, positions: np.ndarray, groups: np.ndarray, *, sign: int = 1) -> set[int]:
        """Add (sign=+1) or remove (sign=-1) the rows ``X[positions]`` whose groups are ``groups[positions]``.

        X: (n, d) float32. positions: (m,) int64 row positions. Cost O(m·d²) flops (float32 GEMM in blocks of
        :data:`CHUNK_ROWS`, summed in float64). Returns the set of groups that changed.
        """
        positions = np.asarray(positions, dtype=np.int64)
        if len(positions) == 0:
            return set()
        g = groups[positions]
        order = np.argsort(g, kind="stable")
        positions, g = positions[order], g[order]
        bounds = np.flatnonzero(np.diff(g)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(g)]])
        changed: set[int] = set()
        for a, b in zip(starts, ends):
            c = int(g[a])
            changed.add(c)
            self.n[c] += sign * (b - a)
            for lo in range(a, b, CHUNK_ROWS):
                rows = X[positions[lo:min(b, lo + CHUNK_ROWS)]]
                gram = rows.T @ rows
                s1 = rows.sum(axis=0, dtype=np.float64)
                if sign > 0:
                    self.s2[c] += gram
                    self.s1[c] += s1
                else:
                    self.s2[c] -= gram
                    self.s1[c] -= s1
        return changed


def covariance_from_stats(n: int, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """Maximum-likelihood covariance ``s2/n - m mᵀ`` (d, d) float64 of n ≥ 1 rows, symmetrised."""
    m = s1 / n
    S = s2 / n - np.outer(m, m)
    return (S + S.T) * 0.5


def ledoit_wolf_from_stats(n: int, s1: np.ndarray, S: np.ndarray) -> float:
    """Ledoit–Wolf shrinkage intensity α ∈ [0, 1] (as ``sklearn.covariance.ledoit_wolf_shrinkage``) for n
    L2-normalised rows with sum s1 and ML covariance S. O(d²).

    Needs Σᵢ‖xᵢ - m‖⁴, which for unit rows is ``n c² - 4 c n‖m‖² + 4 (mᵀ s2 m)`` with ``c = 1 + ‖m‖²`` and
    ``mᵀ s2 m = n (mᵀ S m + ‖m‖⁴)``.
    """
    d = S.shape[0]
    if n < 2:
        return 1.0
    m = s1 / n
    mm = float(m @ m)
    c = 1.0 + mm
    ms2m = n * (float(m @ S @ m) + mm * mm)
    sum_c4 = n * c * c - 4.0 * c * n * mm + 4.0 * ms2m
    fro2 = float(np.sum(S * S))
    mu = float(np.trace(S)) / d
    beta = (sum_c4 / n - fro2) / (d * n)
    delta = (fro2 - d * mu * mu) / d
    if delta <= 0:
        return 1.0
    beta = min(max(beta, 0.0), delta)
    return beta / delta


def shrunk_eigenvalues(n: int, s1: np.ndarray, s2: np.ndarray, *, shrinkage: str = "ledoit-wolf") -> np.ndarray:
    """Eigenvalues (d,) float64, descending and ≥ 0, of the (shrunk) covariance of n rows.

    shrinkage: "ledoit-wolf" (default; ``(1-α) S + α·tr(S)/d·I``, which keeps classes with fewer rows than
    dimensions comparable) or "none". One d×d symmetric eigensolve (~4 ms at d = 384, single-threaded).
    """
    S = covariance_from_stats(n, s1, s2)
    lam = _eigvalsh(S)
    lam = np.clip(lam[::-1], 0.0, None)
    if shrinkage == "ledoit-wolf":
        a = ledoit_wolf_from_stats(n, s1, S)
        mu = float(np.trace(S)) / S.shape[0]
        lam = (1.0 - a) * lam + a * mu
    elif shrinkage != "none":
        from curation.core.errors import CurationError

        raise CurationError(f"unknown shrinkage {shrinkage!r}; use 'ledoit-wolf' or 'none'")
    return lam


_controller_lock = threading.Lock()
_controller = None


@contextlib.contextmanager
def single_blas_thread() -> Iterator[None]:
    """Run the block with BLAS/LAPACK on one thread. Small (d ≤ ~1000) eigensolves are several times faster that
    way, and on a busy machine multi-threaded OpenBLAS can be 50× slower than single-threaded for them."""
    global _controller
    if _controller is None:
        import scipy.linalg  # noqa: F401
        from threadpoolctl import ThreadpoolController

        with _controller_lock:
            if _controller is None:
                _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield


def _eigvalsh(S: np.ndarray) -> np.ndarray:
    """Ascending eigenvalues of a symmetric matrix; float32 divide-and-conquer, faster than float64 and accurate
    to ~1e-6 of the largest eigenvalue, which is far below what the metrics resolve."""
    from scipy.linalg import eigh

    return eigh(S.astype(np.float32), eigvals_only=True, driver="evd", check_finite=False).astype(np.float64)


def effective_rank(lam: np.ndarray) -> float:
    """exp of the Shannon entropy of ``lam / Σ lam``; NaN for an all-zero spectrum. Range [1, len(lam)]."""
    lam = np.asarray(lam, dtype=np.float64)
    tot = lam.sum()
    if not tot > 0:
        return float("nan")
    p = lam[lam > 0] / tot
    return float(np.exp(-np.sum(p * np.log(p))))


def participation_ratio(lam: np.ndarray) -> float:
    """(Σλ)² / Σλ²; NaN for an all-zero spectrum. Range [1, len(lam)]. Needs no eigensolve: (tr S)² / ‖S‖_F²."""
    lam = np.asarray(lam, dtype=np.float64)
    s2 = float(np.sum(lam * lam))
    return float(lam.sum() ** 2 / s2) if s2 > 0 else float("nan")


def top_k_share(lam: np.ndarray, k: int) -> float:
    """Share of the total variance in the k largest eigenvalues (lam descending). Range (0, 1]."""
    tot = float(np.sum(lam))
    return float(np.sum(lam[:k]) / tot) if tot > 0 else float("nan")


def decay_slope(lam: np.ndarray, *, n_rows: int, fit_k: int = 50) -> float:
    """Slope of log λᵢ vs log i, i = 1 … min(fit_k, n_rows - 1, d), lam descending. NaN with < 3 points."""
    m = min(fit_k, n_rows - 1, len(lam))
    if m < 3:
        return float("nan")
    y = np.asarray(lam[:m], dtype=np.float64)
    if np.any(y <= 0):
        m = int(np.argmax(y <= 0))
        if m < 3:
            return float("nan")
        y = y[:m]
    x = np.log(np.arange(1, m + 1, dtype=np.float64))
    ly = np.log(y)
    xc = x - x.mean()
    return float(np.dot(xc, ly - ly.mean()) / np.dot(xc, xc))


def spectrum_metrics(lam: np.ndarray, *, n_rows: int, top_k: int = 10, fit_k: int = 50) -> dict[str, float]:
    """The four metrics of one spectrum (see the module docstring)."""
    return {"effective_rank": effective_rank(lam), "participation_ratio": participation_ratio(lam),
            "top_k_share": top_k_share(lam, top_k), "decay_slope": decay_slope(lam, n_rows=n_rows, fit_k=fit_k)}


NAN_METRICS = {"effective_rank": float("nan"), "participation_ratio": float("nan"), "top_k_share": float("nan"),
               "decay_slope": float("nan")}


def vendi_from_second_moment(n: int, s2: np.ndarray) -> float:
    """Vendi score (Friedman & Dieng 2023) of n unit rows with cosine kernel K = X Xᵀ, from s2 = Xᵀ X.

    The nonzero eigenvalues of K/n equal those of s2/n, so this is exp(entropy) of the spectrum of the
    *uncentered* second moment: one d×d eigensolve instead of an n×n one. Range [1, min(n, d)]; NaN for n = 0.
    """
    if n <= 0:
        return float("nan")
    M = s2 / n
    lam = np.clip(_eigvalsh((M + M.T) * 0.5), 0.0, None)
    return effective_rank(lam)


def spread(values: np.ndarray) -> dict[str, float]:
    """Spread of a per-class metric across classes (NaNs ignored): max/min ratio and coefficient of variation
    (std/mean, population std). Both NaN with fewer than two classes."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return {"n_classes": int(len(v)), "max_min_ratio": float("nan"), "cv": float("nan"),
                "min": float(v.min()) if len(v) else float("nan"), "max": float(v.max()) if len(v) else float("nan")}
    return {"n_classes": int(len(v)), "max_min_ratio": float(v.max() / v.min()) if v.min() > 0 else float("inf"),
            "cv": float(v.std() / v.mean()) if v.mean() != 0 else float("nan"),
            "min": float(v.min()), "max": float(v.max())}


@dataclass
class SizeBaseline:
    """Expected metrics of a uniformly random subset of m rows of a group, for any m.

    Spectral estimates depend on the number of rows (with fewer rows than dimensions the Ledoit–Wolf estimate
    leans towards isotropy), so a subset is compared with a random subset *of its own size*, not with the full
    pool. Values are measured on a geometric grid of sizes (mean of a few seeded draws each) and interpolated
    linearly in log m; the largest size is the whole group. log_sizes: (s,) ascending. values: metric → (s,).
    """

    log_sizes: np.ndarray
    values: dict[str, np.ndarray]

    def at(self, m: int) -> dict[str, float]:
        if m < 1 or len(self.log_sizes) == 0:
            return {k: float("nan") for k in self.values}
        x = float(np.log(m))
        return {k: float(np.interp(x, self.log_sizes, v)) for k, v in self.values.items()}


def baseline_sizes(n_rows: int, *, min_rows: int, d: int, cap_mult: int = 8) -> list[int]:
    """Sizes to measure a random-subset baseline at: min_rows·2^j below min(n_rows, cap_mult·d), then the cap
    (when n_rows exceeds it) and n_rows itself."""
    cap = cap_mult * d
    out, m = [], max(2, min_rows)
    while m < min(n_rows, cap):
        out.append(m)
        m *= 2
    if n_rows > cap:
        out.append(cap)
    out.append(n_rows)
    return sorted(set(out))
