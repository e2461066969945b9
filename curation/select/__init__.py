"""Selection engine: every method returns a ranking (row ids best first, with each pick's gain), so any budget is
a prefix and the budget slider never recomputes.

Methods (:data:`SELECTORS`): ``random``, ``topk``, ``density``, ``isa``, ``facility``, ``facility_mi``,
``facility_cg``, ``deita``, ``kcenter``, ``utility``. Entry points:

* :func:`run_selection` (workspace in, stored :class:`~curation.store.Ranking` out) and :func:`get_selector`
  (``selector.rank(X, graph=..., scores=...)`` on plain arrays);
* :func:`apply_constraints` — pins, per-class quotas and row/token budgets on top of a ranking (milliseconds);
* :func:`explain` — why a row is in or out; :func:`advisor` — where extra data stops paying.

Importing this package is cheap (numpy only); numba kernels compile on first use and are cached on disk.
"""
from __future__ import annotations

from curation.select.base import SELECTORS, Selector, get_selector, register
from curation.select import (
    random, topk, density, isa, facility, kcenter, deita, utility,  # noqa: F401
)
from curation.select.advisor import AdvisorResult, advisor, fit_plateau
from curation.select.constraints import apply_constraints
from curation.select.explain import explain, nearest_selected
from curation.select.run import run_selection
from curation.core.ranking import Ranking

__all__ = [
    "SELECTORS", "Selector", "Ranking", "get_selector", "register", "run_selection", "apply_constraints",
    "explain", "nearest_selected", "advisor", "AdvisorResult", "fit_plateau",
]
