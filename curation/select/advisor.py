"""Budget advisor: how much data is enough? Follow a coverage (or any proxy) metric along a ranking, fit Khera et
al.'s exponential plateau R(x) = r - (r - a) e^(-b x), and report where extra data stops paying.

The plateau budget is the x where R has covered ``fraction`` (default 95 %) of its rise from a to r:
x* = ln(1 / (1 - fraction)) / b. The default metric is the mean coverage of the pool by the prefix, on the
neighbour graph (the facility-location objective divided by n, in [0, 1]): computed for every prefix at once in
O(nnz). Any other metric (a proxy model's score at budget k, say) can be passed as a callable.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from curation.core.errors import CurationError
from curation.core.ranking import Ranking


@dataclass
class AdvisorResult:
    """budgets (m,) rows; values (m,) metric; fitted r (plateau), a (value at 0), b (rate per row);
    plateau_budget: rows where R reaches ``fraction`` of its rise; n: pool size; metric: name."""

    budgets: np.ndarray
    values: np.ndarray
    r: float
    a: float
    b: float
    plateau_budget: int
    fraction: float
    n: int
    metric: str

    def predict(self, x: np.ndarray | float) -> np.ndarray:
        return plateau(np.asarray(x, dtype=np.float64), self.r, self.a, self.b)

    def budget_for(self, fraction: float) -> int:
        """Rows at which the fitted curve has covered ``fraction`` of its rise from a to r (capped at the ranking
        length): ceil(ln(1 / (1 - fraction)) / b)."""
        if not 0 < fraction < 1:
            raise CurationError(f"budget advisor: fraction must be in (0, 1), got {fraction}")
        m = int(self.budgets.max()) if len(self.budgets) else self.n
        if self.b <= 0:
            return 0
        return int(min(np.ceil(np.log(1.0 / (1.0 - fraction)) / self.b), m))

    def coverage_at(self, budget: int) -> float:
        """The fitted curve's value at ``budget`` rows."""
        return float(self.predict(float(budget)))

    def describe(self, budget: int | None = None) -> list[str]:
        """The fit in plain sentences (for the CLI and the Select page): what the metric is, where it starts and
        levels off, the value at ``budget`` (when given) and the budgets for 90 % and 95 % of the rise."""
        m = int(self.budgets.max()) if len(self.budgets) else self.n
        what = ("coverage = the mean similarity of each pool example to its most similar selected example on the "
                "neighbour graph (0 = nothing near it selected, 1 = itself selected)" if self.metric == "coverage"
                else f"metric: {self.metric}")
        rise = self.r - self.a
        lines = [what + ".",
                 f"Along this ranking it rises from {self.a:.3f} and levels off at about {self.r:.3f} "
                 "(the plateau): past that, more rows add little."]
        if budget is not None:
            v = self.coverage_at(budget)
            share = (v - self.a) / rise if rise > 0 else 1.0
            lines.append(f"Fitted value at a budget of {budget:,} rows ({budget / max(m, 1):.1%} of {m:,}): "
                         f"{self.metric} "
                         f"{v:.3f}, {share:.0%} of the way to the plateau.")
        b90, b95 = self.budget_for(0.90), self.budget_for(0.95)
        lines.append(f"The curve gets 90% of the way to the plateau at {b90:,} rows ({b90 / max(m, 1):.1%}) and "
                     f"95% at {b95:,} rows ({b95 / max(m, 1):.1%}).")
        return lines

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["budgets"] = self.budgets.tolist()
        d["values"] = self.values.tolist()
        return d


def plateau(x: np.ndarray, r: float, a: float, b: float) -> np.ndarray:
    """R(x) = r - (r - a) e^(-b x)."""
    return r - (r - a) * np.exp(-b * x)


def fit_plateau(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares (r, a, b) of R(x) = r - (r - a) e^(-b x), b > 0. x, y: (m,) with m >= 3."""
    from scipy.optimize import curve_fit

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3:
        raise CurationError(f"budget advisor: need at least 3 finite points to fit the plateau, got {len(x)}")
    scale = max(float(x.max()), 1.0)
    xs = x / scale
    r0, a0 = float(y.max()), float(y[np.argmin(x)])
    rise = r0 - a0
    if rise <= 0:
        return float(y.mean()), float(y.mean()), 0.0
    reach = np.flatnonzero(y >= a0 + 0.632 * rise)
    b0 = 1.0 / max(float(xs[reach[0]]) if reach.size else 0.5, 1e-3)
    try:
        (r, a, bs), _ = curve_fit(plateau, xs, y, p0=[r0, a0, b0],
                                  bounds=([-np.inf, -np.inf, 1e-9], [np.inf, np.inf, np.inf]), maxfev=20000)
    except (RuntimeError, ValueError) as exc:
        raise CurationError(f"budget advisor: the plateau fit did not converge ({exc}); the metric may not "
                            "saturate along this ranking") from exc
    return float(r), float(a), float(bs / scale)


def coverage_along(order_pos: np.ndarray, S: Any) -> np.ndarray:
    """Mean coverage of the pool after each prefix of ``order_pos`` (positions into S): (m,) in [0, 1].

    S: (n, n) CSR similarity with S_ii = 1 (row j = what j covers). O(nnz)."""
    from curation.select import _kernels as K

    n = S.shape[0]
    cur = np.zeros(n)
    curve = K.coverage_curve(np.asarray(order_pos, dtype=np.int64), np.asarray(S.indptr, np.int64),
                             np.asarray(S.indices, np.int64), np.asarray(S.data, np.float64), cur)
    return curve / max(n, 1)


def advisor(ranking: Ranking, *, graph: Any = None, row_ids: np.ndarray | None = None,
            metric: Callable[[np.ndarray], float] | None = None, budgets: np.ndarray | None = None,
            fraction: float = 0.95, n_points: int = 40, metric_name: str | None = None) -> AdvisorResult:
    """Evaluate a metric along ``ranking`` and fit the plateau.

    graph: KnnGraph-like (idx/sim on positions of ``row_ids``; ``graph.row_ids`` used when row_ids is None) for the
    default coverage metric. metric: callable(selected_row_ids) -> float evaluated at each budget instead.
    budgets: rows to evaluate (default ``n_points`` spaced log-linearly from 1 to the ranking length).
    """
    if not 0 < fraction < 1:
        raise CurationError(f"budget advisor: fraction must be in (0, 1), got {fraction}")
    order = np.asarray(ranking.order, dtype=np.int64)
    m = len(order)
    if m < 3:
        raise CurationError(f"budget advisor: the ranking has {m} rows; need at least 3")
    if budgets is None:
        b = np.unique(np.round(np.concatenate([np.geomspace(1, m, n_points // 2),
                                               np.linspace(1, m, n_points - n_points // 2)])).astype(np.int64))
    else:
        b = np.unique(np.clip(np.asarray(budgets, dtype=np.int64), 0, m))
    if metric is not None:
        vals = np.array([float(metric(order[:k])) for k in b])
        name = metric_name or getattr(metric, "__name__", "metric")
        n = m
    else:
        if graph is None:
            raise CurationError("budget advisor: pass graph= (the neighbour graph) for the coverage metric, or a "
                                "metric callable")
        from curation.select._sparse import coverage_matrix

        rid = row_ids if row_ids is not None else getattr(graph, "row_ids", None)
        S = coverage_matrix(graph)
        n = S.shape[0]
        if rid is None:
            pos = order
        else:
            rid = np.asarray(rid, dtype=np.int64)
            o = np.argsort(rid, kind="stable")
            p = np.minimum(np.searchsorted(rid[o], order), n - 1)
            known = rid[o][p] == order
            pos = o[p][known]
        curve = coverage_along(pos, S)
        curve = np.concatenate([[0.0], curve, np.full(max(0, m - len(curve)), curve[-1] if len(curve) else 0.0)])
        vals = curve[np.minimum(b, len(curve) - 1)]
        name = metric_name or "coverage"
    r, a, bb = fit_plateau(b.astype(np.float64), vals)
    xstar = np.log(1.0 / (1.0 - fraction)) / bb if bb > 0 else 0.0
    return AdvisorResult(budgets=b, values=vals, r=r, a=a, b=bb, plateau_budget=int(min(np.ceil(xstar), m)),
                         fraction=float(fraction), n=int(n), metric=name)


def advise_points(budgets: np.ndarray | list[float], values: np.ndarray | list[float], *, n: int,
                  fraction: float = 0.95, metric: str = "downstream") -> AdvisorResult:
    """Fit the plateau to a metric measured at a few budgets (a downstream one, e.g. a reward head's held-out
    accuracy after training on each prefix: :mod:`curation.workflows.prove`), instead of evaluating a callable.

    budgets: (m,) rows (m >= 3 distinct budgets, the pool's size may be one of them); values: (m,) the metric at
    each (higher = better; repeated budgets, e.g. one value per seed, are averaged); n: the pool size the budgets
    are rows of. The plateau budget is where the fitted curve has covered ``fraction`` of its rise, as for
    coverage. Cost: one least-squares fit, milliseconds.
    """
    if not 0 < fraction < 1:
        raise CurationError(f"budget advisor: fraction must be in (0, 1), got {fraction}")
    x = np.asarray(budgets, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    if x.shape != y.shape:
        raise CurationError(f"budget advisor: {len(x)} budgets but {len(y)} values")
    ok = np.isfinite(x) & np.isfinite(y)
    ux = np.unique(x[ok])
    uy = np.array([y[ok][x[ok] == v].mean() for v in ux])
    if len(ux) < 3:
        raise CurationError(f"budget advisor: the downstream metric was measured at {len(ux)} distinct budget(s); "
                            "the plateau fit needs at least 3 (e.g. prove --budgets 0.05 0.1 0.3 gives 4 with the "
                            "pool)")
    import warnings

    from scipy.optimize import OptimizeWarning

    with warnings.catch_warnings():          # 3 points for 3 parameters: no covariance, the fit itself is exact
        warnings.simplefilter("ignore", OptimizeWarning)
        r, a, b = fit_plateau(ux, uy)
    xstar = np.log(1.0 / (1.0 - fraction)) / b if b > 0 else 0.0
    return AdvisorResult(budgets=ux.astype(np.int64), values=uy, r=r, a=a, b=b,
                         plateau_budget=int(min(np.ceil(xstar), max(n, 1))), fraction=float(fraction), n=int(n),
                         metric=metric)
