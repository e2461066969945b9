"""Facility location and its DELIFT variants, with apricot's split: what is optimised vs how.

Gain functions (what), each compiled to one sparse :class:`CoverageProblem`:

* :func:`facility_location` — f(A) = Σ_i max_{j∈A} q_j·s_ij over the pool (representativeness); s from the
  symmetrised neighbour graph (default) or a dense kernel for small pools; q_j optional quality weights in [0, ∞).
* :func:`facility_location_mi` — FL mutual information toward a target set T (a task's dev set, a query):
  I(A; T) = Σ_{t∈T} max_{j∈A} s_tj + η Σ_{j∈A} max_{t∈T} s_tj (submodlib's FLMI, as used by DELIFT). Each target
  keeps its ``target_k`` most similar pool rows; the second (modular) term is exact.
* :func:`facility_location_cg` — FL conditional gain away from a seen set P (data the model already saw):
  f(A | P) = Σ_i max(max_{j∈A} s_ij − ν max_{p∈P} s_ip, 0): the pool starts "covered" by P.

Optimisers (how), all exact greedy up to their own rule and all returning the full order:

* ``naive`` — evaluates every candidate each step. O(n · nnz). The reference; small pools only.
* ``lazy`` — Minoux's accelerated greedy with a heap of stale upper bounds. Same picks as naive (ties → lower
  position in both), typically a few gain evaluations per pick. The default.
* ``stochastic`` — Mirzasoleiman et al.'s stochastic greedy: the best of ``sample_size`` random remaining
  candidates each step (seeded; prefix-consistent because the draws do not depend on the budget). It evaluates
  ``sample_size`` gains per pick, so on the sparse graph it is slower than lazy greedy (which needs only a few);
  it pays off on dense kernels where lazy bounds go stale.

Cost of the default (sparse graph, lazy): building the coverage matrix O(n·k log), ranking O(nnz · evals) —
about a second for 100k rows and k = 10.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from curation.core.errors import CurationError
from curation.select.base import Pool, Selector, check_choice, check_range, register

OPTIMIZERS = ("lazy", "naive", "stochastic")
_BLOCK = 1024


@dataclass
class CoverageProblem:
    """Sparse coverage objective: candidate j covers items ``indices[indptr[j]:indptr[j+1]]`` with ``data``.

    indptr: (nc+1,) int64; indices: (nnz,) int64 items in 0..m-1; data: (nnz,) float64 >= 0;
    cur0: (m,) float64 initial coverage (+inf removes an item from the ground set); modular: (nc,) float64.
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    cur0: np.ndarray
    modular: np.ndarray

    @property
    def n_candidates(self) -> int:
        return len(self.indptr) - 1

    @classmethod
    def from_csr(cls, C: Any, *, cur0: np.ndarray | None = None, modular: np.ndarray | None = None,
                 weights: np.ndarray | None = None) -> CoverageProblem:
        """From a scipy CSR (candidates x items). weights (nc,) >= 0 multiply each candidate's row."""
        C = C.tocsr()
        nc, m = C.shape
        data = np.asarray(C.data, dtype=np.float64).copy()
        indptr = np.asarray(C.indptr, dtype=np.int64)
        if weights is not None:
            w = np.asarray(weights, dtype=np.float64)
            if len(w) != nc or not np.all(np.isfinite(w)) or (w < 0).any():
                raise CurationError(f"quality weights: need {nc} finite values >= 0, got {len(w)} "
                                    f"(min {np.nanmin(w) if len(w) else 'n/a'}); rescale the score to [0, 1]")
            data *= np.repeat(w, np.diff(indptr))
        return cls(indptr=indptr, indices=np.asarray(C.indices, dtype=np.int64), data=data,
                   cur0=np.zeros(m) if cur0 is None else np.asarray(cur0, dtype=np.float64).copy(),
                   modular=np.zeros(nc) if modular is None else np.asarray(modular, dtype=np.float64).copy())

    def objective(self, selected: np.ndarray) -> float:
        """f(selected) − f(∅) (coverage added over cur0, plus the modular terms). O(sum of row lengths)."""
        from curation.select import _kernels as K

        sel = np.asarray(selected, dtype=np.int64)
        cur = self.cur0.copy()
        curve = K.coverage_curve(sel, self.indptr, self.indices, self.data, cur)
        return float((curve[-1] if len(curve) else 0.0) + self.modular[sel].sum())


def facility_location(S: Any, *, weights: np.ndarray | None = None) -> CoverageProblem:
    """FL on a square similarity CSR S (n, n), s_ij >= 0, S_ii = 1. weights: per-candidate quality q_j."""
    return CoverageProblem.from_csr(S, weights=weights)


def facility_location_mi(C: Any, max_sim: np.ndarray, *, eta: float = 1.0,
                         weights: np.ndarray | None = None) -> CoverageProblem:
    """FL-MI: C (n, m) CSR pool x targets (row j: the targets j covers); max_sim (n,) max similarity of each pool
    row to any target (the modular term is η·max(max_sim, 0))."""
    mod = eta * np.maximum(np.nan_to_num(np.asarray(max_sim, dtype=np.float64), neginf=0.0), 0.0)
    if weights is not None:
        mod = mod * np.asarray(weights, dtype=np.float64)
    return CoverageProblem.from_csr(C, modular=mod, weights=weights)


def facility_location_cg(S: Any, seen_sim: np.ndarray, *, nu: float = 1.0,
                         weights: np.ndarray | None = None) -> CoverageProblem:
    """FL-CG: S (n, n) pool similarity; seen_sim (n,) max similarity of each pool row to the seen set."""
    cur0 = nu * np.maximum(np.nan_to_num(np.asarray(seen_sim, dtype=np.float64), neginf=0.0), 0.0)
    return CoverageProblem.from_csr(S, cur0=cur0, weights=weights)


def optimize(problem: CoverageProblem, *, optimizer: str = "lazy", k: int | None = None,
             avail: np.ndarray | None = None, forced: np.ndarray | None = None, seed: int = 0,
             sample_size: int = 256, exclude_items: np.ndarray | None = None,
             progress: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Greedy maximisation. Returns (order (<= k,) candidate positions, gains (<= k,) marginal gains).

    avail: (nc,) bool candidates allowed (default all). forced: candidates picked first in the given order (pins),
    their gains recorded when added. exclude_items: items removed from the ground set. k: picks (default: all).
    """
    from curation.select import _kernels as K

    check_choice("facility", "optimizer", optimizer, OPTIMIZERS)
    nc = problem.n_candidates
    avail = np.ones(nc, dtype=bool) if avail is None else np.asarray(avail, dtype=bool).copy()
    forced = np.zeros(0, dtype=np.int64) if forced is None else np.asarray(forced, dtype=np.int64)
    cur = problem.cur0.copy()
    if exclude_items is not None and len(exclude_items):
        cur[np.asarray(exclude_items, dtype=np.int64)] = np.inf
    k = int(avail.sum()) if k is None else min(int(k), int(avail.sum()))
    order = np.empty(k, dtype=np.int64)
    gains = np.empty(k, dtype=np.float64)
    t = 0
    for j in forced:
        if t >= k:
            break
        gains[t] = K.fl_gain(j, problem.indptr, problem.indices, problem.data, cur, problem.modular)
        order[t] = j
        K.fl_pick(j, problem.indptr, problem.indices, problem.data, cur)
        avail[j] = False
        t += 1
    if t < k:
        args = (problem.indptr, problem.indices, problem.data, cur, problem.modular)
        if optimizer == "lazy":
            o, g = order[t:], gains[t:]
            t += K.fl_lazy(*args, avail, k - t, o, g)
        elif optimizer == "naive":
            o, g = order[t:], gains[t:]
            t += K.fl_naive(*args, avail, k - t, o, g)
        else:
            rng = np.random.default_rng(seed)
            remaining = np.flatnonzero(avail).astype(np.int64)
            n_rem = len(remaining)
            s = max(1, int(sample_size))
            while t < k and n_rem > 0:
                steps = min(_BLOCK, k - t)
                u = rng.random((_BLOCK, s))[:steps]   # draw a full block always: prefix-consistent stream
                n_rem = K.fl_stochastic_block(*args, remaining, n_rem, u, t, order, gains)
                t += steps
                if progress:
                    progress(t, k)
            t = min(t, k)
    return order[:t], gains[:t]


class _CoverageSelector(Selector):
    """Shared ranking logic: build a CoverageProblem from the pool, run the optimiser, handle pins."""

    stateful: ClassVar[bool] = True
    gains_meaning: ClassVar[str] = "marginal objective gain when picked (coverage units; decreasing)"

    optimizer: str
    sample_size: int

    def _validate_opt(self) -> None:
        check_choice(self.name, "optimizer", self.optimizer, OPTIMIZERS)
        check_range(self.name, "sample_size", self.sample_size, 1, None)

    def problem(self, pool: Pool) -> CoverageProblem:
        raise NotImplementedError

    def items_are_pool(self) -> bool:
        return True

    def _order(self, pool: Pool, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        prob = self.problem(pool)
        avail = np.ones(pool.n, dtype=bool)
        avail[pool.exclude] = False
        return optimize(prob, optimizer=self.optimizer, k=k, avail=avail, forced=pool.include, seed=seed,
                        sample_size=self.sample_size,
                        exclude_items=pool.exclude if self.items_are_pool() else None, progress=pool.progress)


def pool_similarity(pool: Pool, kernel: str, k: int, method: str):  # scipy CSR
    """The (n, n) coverage matrix of a pool: the given graph, a kNN graph built from X, or a dense kernel."""
    from curation.neighbours.graph import knn
    from curation.select._sparse import coverage_matrix, dense_coverage_matrix

    if kernel == "dense":
        if pool.X is None:
            raise CurationError(f"method {method!r}: kernel='dense' needs embeddings X")
        return dense_coverage_matrix(pool.X)
    if pool.graph is not None:
        return coverage_matrix(pool.graph, pool.n)
    if pool.X is None:
        raise CurationError(f"method {method!r} needs a neighbour graph or embeddings X to build one")
    return coverage_matrix(knn(pool.X, k), pool.n)


@register
class FacilityLocationSelector(_CoverageSelector):
    """Facility location (DELIFT with an embedding kernel): representative examples, greedy order.

    kernel: "sparse" (the kNN graph, default) or "dense" (all pairs; pools up to 4000 rows).
    k: neighbours per row when the graph is built here. optimizer: lazy | naive | stochastic.
    sample_size: candidates per step for stochastic greedy. weight_score: a score key whose values (>= 0) weight
    each candidate's coverage (prefer high quality); loaded by run_selection.
    """

    name: ClassVar[str] = "facility"
    needs: ClassVar[tuple[str, ...]] = ("X", "graph")
    description: ClassVar[str] = "Facility location: representative coverage of the pool (DELIFT, apricot)"

    def __init__(self, *, kernel: str = "sparse", k: int = 15, optimizer: str = "lazy", sample_size: int = 256,
                 weight_score: str | None = None) -> None:
        self.kernel, self.k, self.optimizer, self.sample_size = kernel, int(k), optimizer, int(sample_size)
        self.weight_score = weight_score
        check_choice(self.name, "kernel", kernel, ("sparse", "dense"))
        check_range(self.name, "k", k, 1, None)
        self._validate_opt()

    def wants_graph(self) -> bool:
        return self.kernel == "sparse"

    def wants_X(self) -> bool:
        return self.kernel == "dense"

    def problem(self, pool: Pool) -> CoverageProblem:
        return facility_location(pool_similarity(pool, self.kernel, self.k, self.name), weights=pool.weights)


@register
class FacilityLocationMISelector(_CoverageSelector):
    """FL mutual information toward a target set (DELIFT's task-specific selection).

    Targets come from ``context["targets"]`` ((m, d) L2-normalised), which run_selection fills from
    ``target_dataset`` (a dataset in the workspace; its rows leave the pool) or ``target_text`` (texts embedded
    with the same model). eta: weight of the modular relevance term. target_k: pool rows kept per target
    (>= n gives the exact dense kernel).
    """

    name: ClassVar[str] = "facility_mi"
    needs: ClassVar[tuple[str, ...]] = ("X",)
    description: ClassVar[str] = "FL mutual information: examples that resemble a target set (dev set, a query)"

    def __init__(self, *, target_dataset: str | None = None, target_text: str | list[str] | None = None,
                 eta: float = 1.0, target_k: int = 100, optimizer: str = "lazy", sample_size: int = 256) -> None:
        self.target_dataset, self.target_text = target_dataset, target_text
        self.eta, self.target_k = float(eta), int(target_k)
        self.optimizer, self.sample_size = optimizer, int(sample_size)
        check_range(self.name, "eta", eta, 0, None)
        check_range(self.name, "target_k", target_k, 1, None)
        self._validate_opt()

    def items_are_pool(self) -> bool:
        return False

    def problem(self, pool: Pool) -> CoverageProblem:
        from curation.select._sparse import max_sim_to_set, target_coverage

        Y = (pool.context or {}).get("targets")
        if Y is None or len(Y) == 0:
            raise CurationError("method 'facility_mi' needs a target set; pass target_dataset=NAME or "
                                "target_text='...' (or context={'targets': Y})")
        Y = np.ascontiguousarray(Y, dtype=np.float32)
        if pool.X is None or Y.shape[1] != pool.X.shape[1]:
            raise CurationError(f"facility_mi: targets have dimension {Y.shape[1]} but the pool embeddings "
                                f"{None if pool.X is None else pool.X.shape[1]}; embed both with the same model")
        C = target_coverage(pool.X, Y, self.target_k)
        return facility_location_mi(C, max_sim_to_set(pool.X, Y), eta=self.eta, weights=pool.weights)


@register
class FacilityLocationCGSelector(_CoverageSelector):
    """FL conditional gain away from a seen set (DELIFT's continual fine-tuning: skip what the model knows).

    The seen set comes from ``context["seen"]`` ((p, d) L2-normalised), filled by run_selection from
    ``seen_dataset`` (its rows leave the pool) or ``seen_text``. nu: how strongly the seen set counts as coverage.
    """

    name: ClassVar[str] = "facility_cg"
    needs: ClassVar[tuple[str, ...]] = ("X", "graph")
    description: ClassVar[str] = "FL conditional gain: representative examples unlike a set already seen"

    def __init__(self, *, seen_dataset: str | None = None, seen_text: str | list[str] | None = None,
                 nu: float = 1.0, kernel: str = "sparse", k: int = 15, optimizer: str = "lazy",
                 sample_size: int = 256) -> None:
        self.seen_dataset, self.seen_text, self.nu = seen_dataset, seen_text, float(nu)
        self.kernel, self.k, self.optimizer, self.sample_size = kernel, int(k), optimizer, int(sample_size)
        check_choice(self.name, "kernel", kernel, ("sparse", "dense"))
        check_range(self.name, "nu", nu, 0, None)
        check_range(self.name, "k", k, 1, None)
        self._validate_opt()

    def wants_graph(self) -> bool:
        return self.kernel == "sparse"

    def problem(self, pool: Pool) -> CoverageProblem:
        from curation.select._sparse import max_sim_to_set

        P = (pool.context or {}).get("seen")
        if P is None or len(P) == 0:
            raise CurationError("method 'facility_cg' needs a seen set; pass seen_dataset=NAME or seen_text='...' "
                                "(or context={'seen': P})")
        if pool.X is None:
            raise CurationError("method 'facility_cg' needs the pool embeddings X to compare with the seen set")
        S = pool_similarity(pool, self.kernel, self.k, self.name)
        seen = max_sim_to_set(pool.X, np.ascontiguousarray(P, dtype=np.float32))
        return facility_location_cg(S, seen, nu=self.nu, weights=pool.weights)
