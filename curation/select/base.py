"""The selector contract: every method returns a full ranking, so any budget is a prefix.

A :class:`Selector` works on positions ``0..n-1`` of one pool (the rows of an ``(n, d)`` embedding matrix, of a
score array, of a neighbour graph) and returns a :class:`~curation.store.Ranking` of **row ids** (``row_ids[pos]``),
best first, with each pick's marginal gain. ``rank(max_k=k)`` always equals ``rank()`` cut after ``k``: no method
looks at the budget, so the budget slider only slices a prefix.

Pins (the curator's decisions) enter as positions: ``include`` rows come first (in the order given), ``exclude``
rows never appear. Stateless methods (random, top-k, density, ISA) keep their order for the rest; stateful ones
(facility location, k-center, DEITA) treat the included rows as already selected, so what follows is conditioned
on them, and drop excluded rows from the ground set as well (a pruned example no longer needs covering).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from curation.core.errors import CurationError
from curation.core.keys import canonical, make_key
from curation.core.progress import Progress
from curation.core.ranking import Ranking

SELECTORS: dict[str, type[Selector]] = {}
"""Method name → selector class. Filled by :func:`register` as the method modules are imported."""


def register(cls: type[Selector]) -> type[Selector]:
    """Class decorator adding a selector to :data:`SELECTORS` under ``cls.name``."""
    if cls.name in SELECTORS and SELECTORS[cls.name] is not cls:
        raise CurationError(f"two selectors are named {cls.name!r}: {SELECTORS[cls.name]} and {cls}")
    SELECTORS[cls.name] = cls
    return cls


def graph_arrays(graph: Any) -> tuple[np.ndarray, np.ndarray]:
    """(idx (n, k) int64 positions, sim (n, k) float64) from a KnnGraph-like object or an ``(idx, sim)`` tuple."""
    if isinstance(graph, tuple) and len(graph) == 2:
        idx, sim = graph
    elif hasattr(graph, "idx") and hasattr(graph, "sim"):
        idx, sim = graph.idx, graph.sim
    else:
        raise CurationError(f"graph: expected a KnnGraph (with .idx and .sim) or an (idx, sim) tuple, got "
                            f"{type(graph).__name__}; build one with curation.neighbours.graph.build_graph")
    idx = np.asarray(idx, dtype=np.int64)
    sim = np.asarray(sim, dtype=np.float64)
    if idx.ndim != 2 or idx.shape != sim.shape:
        raise CurationError(f"graph: idx {idx.shape} and sim {sim.shape} must be two (n, k) arrays of one shape")
    return idx, sim


def as_positions(pos: Any, n: int, what: str) -> np.ndarray:
    """Validate an array of positions in ``[0, n)``; duplicates are dropped keeping the first occurrence."""
    if pos is None:
        return np.zeros(0, dtype=np.int64)
    p = np.asarray(pos, dtype=np.int64).ravel()
    if p.size and (p.min() < 0 or p.max() >= n):
        bad = p[(p < 0) | (p >= n)][:3].tolist()
        raise CurationError(f"{what}: positions {bad} are outside 0..{n - 1}; pass positions into this pool "
                            "(map row ids with np.searchsorted(row_ids, ids))")
    _, first = np.unique(p, return_index=True)
    return p[np.sort(first)]


@dataclass
class Pool:
    """What a selector gets: everything is indexed by position ``0..n-1``.

    X: (n, d) float32 L2-normalised embeddings or None. graph: KnnGraph-like (idx/sim on positions) or None.
    scores: (n,) or (n, m) float64 per-example numbers (quality scores, density) or None; NaN = not applicable.
    weights: (n,) float64 >= 0 per-example quality weights (facility location) or None.
    include / exclude: (p,) int64 positions of pins. context: method-specific extra arrays (targets, seen set).
    """

    n: int
    X: np.ndarray | None = None
    graph: Any = None
    scores: np.ndarray | None = None
    weights: np.ndarray | None = None
    include: np.ndarray | None = None
    exclude: np.ndarray | None = None
    context: dict[str, Any] | None = None
    progress: Progress | None = None


class Selector:
    """Base class. Subclasses set ``name``, ``needs`` and implement :meth:`_order`.

    Parameters are the keyword-only arguments of ``__init__``, stored as attributes of the same name (all with
    defaults, all JSON-able; validated in ``__init__``); :meth:`params` returns every one of them, defaults
    included, so the key of a ranking names everything it depends on.

    needs: what :func:`curation.select.run_selection` must load: any of ``"X"`` (embeddings), ``"graph"``
    (neighbour graph), ``"scores"`` (score columns named by the params), ``"texts"`` (prompts and responses);
    :meth:`wants_graph` / :meth:`wants_X` refine it for the configured parameters (e.g. a dense kernel needs X,
    not the graph).
    stateful: True when the method conditions on included pins itself (otherwise the base class moves include
    pins to the front and removes exclude pins from an unchanged order).
    """

    name: ClassVar[str] = ""
    needs: ClassVar[tuple[str, ...]] = ()
    stateful: ClassVar[bool] = False
    gains_meaning: ClassVar[str] = "none"
    description: ClassVar[str] = ""

    # ------------------------------------------------------------------ parameters and keys
    def params(self) -> dict[str, Any]:
        """Every parameter of this selector, defaults included (JSON-able)."""
        sig = inspect.signature(type(self).__init__)
        return {p.name: canonical(getattr(self, p.name)) for p in sig.parameters.values()
                if p.kind is p.KEYWORD_ONLY}

    def key(self, seed: int = 0, **extra: Any) -> str:
        """The ranking key: name, all parameters, extra inputs (model, data digest) and the seed."""
        return make_key(self.name, {**self.params(), **extra}, seed=int(seed))

    def wants_graph(self) -> bool:
        """True when :func:`run_selection` should load the neighbour graph for this configuration."""
        return "graph" in self.needs

    def wants_X(self) -> bool:
        return "X" in self.needs

    # ------------------------------------------------------------------ ranking
    def rank(self, X: np.ndarray | None = None, *, graph: Any = None, scores: np.ndarray | None = None,
             weights: np.ndarray | None = None, row_ids: np.ndarray | None = None,
             include: np.ndarray | None = None, exclude: np.ndarray | None = None,
             context: dict[str, Any] | None = None, max_k: int | None = None, seed: int = 0,
             progress: Progress | None = None, n: int | None = None) -> Ranking:
        """Rank the pool. Every array is indexed by position; the result holds ``row_ids[pos]`` (positions when
        ``row_ids`` is None), best first, at most ``max_k`` long (default: every non-excluded row).

        X: (n, d) float32 L2-normalised. graph: KnnGraph-like with idx/sim (n, k) on positions.
        scores: (n,) or (n, m). weights: (n,) >= 0. include/exclude: positions of pins. seed: the only randomness.
        """
        if n is None:
            for a in (X, scores, weights, row_ids):
                if a is not None:
                    n = len(a)
                    break
            else:
                if graph is not None:
                    n = len(graph_arrays(graph)[0])
        if n is None:
            raise CurationError(f"method {self.name!r}: nothing to rank; pass X, scores or graph")
        for nm, a in (("X", X), ("scores", scores), ("weights", weights), ("row_ids", row_ids)):
            if a is not None and len(a) != n:
                raise CurationError(f"method {self.name!r}: {nm} has {len(a)} rows but the pool has {n}")
        if "X" in self.needs and self.wants_X() and X is None:
            raise CurationError(f"method {self.name!r} needs embeddings X (n, d); embed the workspace first")
        if "scores" in self.needs and scores is None:
            raise CurationError(f"method {self.name!r} needs a score array; compute scores first")
        inc = as_positions(include, n, "include pins")
        exc = as_positions(exclude, n, "exclude pins")
        if inc.size and exc.size and np.intersect1d(inc, exc).size:
            both = np.intersect1d(inc, exc)[:3].tolist()
            raise CurationError(f"positions {both} are pinned both include and exclude; unpin one of them")
        n_avail = n - exc.size
        k = n_avail if max_k is None else max(0, min(int(max_k), n_avail))
        if X is not None:
            X = np.ascontiguousarray(X, dtype=np.float32)
        pool = Pool(n=n, X=X, graph=graph, scores=None if scores is None else np.asarray(scores, dtype=np.float64),
                    weights=None if weights is None else np.asarray(weights, dtype=np.float64),
                    include=inc, exclude=exc, context=context or {}, progress=progress)
        if self.stateful:
            order, gains = self._order(pool, k, seed)
        else:
            order, gains = self._order(pool, n, seed)
            order, gains = apply_pins_stateless(order, gains, inc, exc, n)
        order = np.asarray(order, dtype=np.int64)[:k]
        gains = np.asarray(gains, dtype=np.float64)[:k]
        ids = order if row_ids is None else np.asarray(row_ids, dtype=np.int64)[order]
        return Ranking(order=ids, gains=gains, method=self.key(seed))

    def _order(self, pool: Pool, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions (>= k,) best first, gains) — the first ``k`` of the full order."""
        raise NotImplementedError


def apply_pins_stateless(order: np.ndarray, gains: np.ndarray, inc: np.ndarray, exc: np.ndarray,
                         n: int) -> tuple[np.ndarray, np.ndarray]:
    """Move include pins to the front (given order, their own gains kept) and drop exclude pins. O(n)."""
    if not inc.size and not exc.size:
        return order, gains
    drop = np.zeros(n, dtype=bool)
    drop[inc] = True
    drop[exc] = True
    keep = ~drop[order]
    pos_of = np.full(n, -1, dtype=np.int64)
    pos_of[order] = np.arange(len(order))
    inc_g = np.array([gains[pos_of[i]] if pos_of[i] >= 0 else np.nan for i in inc], dtype=np.float64)
    return np.concatenate([inc, order[keep]]), np.concatenate([inc_g, gains[keep]])


def get_selector(name: str, **params: Any) -> Selector:
    """An instance of the selector registered as ``name`` with ``params`` (unknown ones are refused)."""
    import curation.select  # noqa: F401

    if name not in SELECTORS:
        raise CurationError(f"unknown selection method {name!r}; methods are {sorted(SELECTORS)}")
    cls = SELECTORS[name]
    known = [p.name for p in inspect.signature(cls.__init__).parameters.values() if p.kind is p.KEYWORD_ONLY]
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise CurationError(f"method {name!r}: unknown parameter(s) {unknown}; its parameters are {known}")
    return cls(**params)


def check_choice(method: str, param: str, value: Any, choices: tuple[Any, ...]) -> None:
    if value not in choices:
        raise CurationError(f"method {method!r}: {param}={value!r} is not one of {list(choices)}")


def check_range(method: str, param: str, value: float, lo: float | None = None, hi: float | None = None) -> None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise CurationError(f"method {method!r}: {param}={value!r} is not a number") from None
    if (lo is not None and v < lo) or (hi is not None and v > hi) or np.isnan(v):
        raise CurationError(f"method {method!r}: {param}={value!r} is outside [{lo}, {hi}]")
