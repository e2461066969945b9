"""The subset contract: what "the current subset" means, written once.

A :class:`SubsetSpec` names a subset without listing its rows: a stored ranking (or every row in ingest order), a
budget in rows, percent of the pool or tokens, an optional per-class quota over a label column, an optional
restriction to some datasets, and the pins as of a position in the decision log (``None`` = the current pins).
:func:`resolve` turns a spec into row ids; every page, the CLI (``select``, ``explain``, ``report``, ``export``),
the datasheet and ``reproduce`` go through it, so the same spec gives the same rows everywhere. Nothing else calls
:func:`curation.select.constraints.apply_constraints`.

Resolution, in order (each stage is one vectorised pass; a budget change costs about a millisecond per 100k rows):

1. pool: the ranking's order (or every row id), restricted to ``datasets``;
2. pins: the include/exclude pins in force at ``pins_as_of``, restricted to the pool; include pins come first and
   are kept even beyond the budget, exclude pins are removed;
3. budget and quota: the best rows in ranking order, per class when a quota is set, until the budget is spent.

A spec is frozen and serialisable (:meth:`SubsetSpec.to_dict` / :meth:`SubsetSpec.from_dict`, JSON-safe), so it
can be stored in a workspace or a manifest and resolved again later.
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from curation.store.columns import column_values
from curation.core.errors import CurationError
from curation.core.ranking import Ranking
from curation.store import Workspace

BUDGET_UNITS = ("rows", "%", "tokens")
QUOTA_MODES = ("proportional", "balanced")
SPEC_VERSION = 1


def _canonical_quota(quota: Any) -> str | dict | None:
    """None, "proportional", "balanced" or {"min": {class: rows}, "max": {class: rows}} (sorted, int rows)."""
    if quota is None or quota == "" or quota == "none":
        return None
    if isinstance(quota, str):
        if quota.lstrip().startswith("{"):
            try:
                quota = json.loads(quota)
            except json.JSONDecodeError as exc:
                raise CurationError(f"quota {quota!r} is not valid JSON ({exc}); use proportional, balanced or "
                                    "'{\"min\": {\"math\": 50}, \"max\": {\"chat\": 200}}'") from exc
        elif quota in QUOTA_MODES:
            return quota
        else:
            raise CurationError(f"quota {quota!r} is not one of {list(QUOTA_MODES)} or a JSON min/max object")
    if not isinstance(quota, Mapping):
        raise CurationError(f"quota must be None, a string or a dict, got {type(quota).__name__}")
    bad = set(quota) - {"min", "max", "min_share"}
    if bad:
        raise CurationError(f"quota keys {sorted(bad)} unknown; use {{'min': {{class: rows}}, 'max': {{class: rows}}, "
                            "'min_share': {class: share or 'pool'}}")
    out: dict[str, Any] = {}
    if quota.get("min_share"):
        out["min_share"] = _canonical_min_share(quota["min_share"])
    for side in ("min", "max"):
        part = quota.get(side) or {}
        if not isinstance(part, Mapping):
            raise CurationError(f"quota[{side!r}] must map class → rows, got {type(part).__name__}")
        clean = {}
        for c, v in part.items():
            try:
                n = int(v)
            except (TypeError, ValueError) as exc:
                raise CurationError(f"quota[{side!r}][{c!r}] = {v!r} is not a whole number of rows") from exc
            if n < 0:
                raise CurationError(f"quota[{side!r}][{c!r}] = {n} is negative")
            clean[str(c)] = n
        out[side] = dict(sorted(clean.items()))
    return out


def _canonical_min_share(part: Any) -> dict[str, float | str]:
    """{class: share in [0, 1] or "pool"} (sorted): the subset keeps at least that share of its budget in the class
    ("pool" = the class's share of the pool), a minimum-share constraint."""
    if not isinstance(part, Mapping):
        raise CurationError(f"quota['min_share'] must map class → share (0-1) or 'pool', got {type(part).__name__}")
    clean: dict[str, float | str] = {}
    for c, v in part.items():
        if v == "pool":
            clean[str(c)] = "pool"
            continue
        try:
            f = float(v)
        except (TypeError, ValueError) as exc:
            raise CurationError(f"quota['min_share'][{c!r}] = {v!r} is neither a share in [0, 1] nor 'pool'") from exc
        if not 0 <= f <= 1:
            raise CurationError(f"quota['min_share'][{c!r}] = {f} is not a share in [0, 1] (0.2 = 20%)")
        clean[str(c)] = f
    return dict(sorted(clean.items()))


@dataclass(frozen=True)
class SubsetSpec:
    """A subset named by how it is chosen (see the module docstring).

    ranking: a stored ranking key; None = every row in ingest order. budget: in ``unit``; None = no budget (every
    row that survives the pins). unit: "rows", "%" (of the pool after the dataset restriction) or "tokens".
    quota: None, "proportional", "balanced" or {"min": {class: rows}, "max": {class: rows}, "min_share": {class:
    share or "pool"}} over ``label_column`` (an examples column, a score key, e.g. any slice column, or a key of the
    original record; a risk score with a stored ``threshold`` gives the classes "flagged" / "not flagged").
    datasets: restrict the pool to these.
    pins_as_of: the decision-log id whose pins apply (pins decided later are ignored); None = the current pins.
    """

    ranking: str | None = None
    budget: float | None = None
    unit: str = "rows"
    quota: str | dict | None = None
    label_column: str = "label"
    datasets: tuple[str, ...] | None = None
    pins_as_of: int | None = None

    def __post_init__(self) -> None:
        if self.unit not in BUDGET_UNITS:
            raise CurationError(f"budget unit {self.unit!r} is not one of {list(BUDGET_UNITS)}")
        if self.budget is not None:
            try:
                b = float(self.budget)
            except (TypeError, ValueError) as exc:
                raise CurationError(f"budget {self.budget!r} is not a number") from exc
            if not np.isfinite(b) or b < 0:
                raise CurationError(f"budget must be a number >= 0, got {self.budget!r}")
            if self.unit == "%" and b > 100:
                raise CurationError(f"a budget in % must be between 0 and 100, got {b}")
            object.__setattr__(self, "budget", int(b) if self.unit != "%" and b == int(b) else b)
        object.__setattr__(self, "quota", _canonical_quota(self.quota))
        if self.datasets is not None:
            ds = [self.datasets] if isinstance(self.datasets, str) else list(self.datasets)
            object.__setattr__(self, "datasets", tuple(sorted(dict.fromkeys(str(d) for d in ds))) or None)
        if self.pins_as_of is not None:
            if isinstance(self.pins_as_of, bool) or int(self.pins_as_of) != self.pins_as_of or self.pins_as_of < 0:
                raise CurationError(f"pins_as_of must be a decision id >= 0 or None, got {self.pins_as_of!r}")
            object.__setattr__(self, "pins_as_of", int(self.pins_as_of))
        if not isinstance(self.label_column, str) or not self.label_column:
            raise CurationError(f"label_column must be a non-empty string, got {self.label_column!r}")

    def __hash__(self) -> int:
        return hash(self.to_json())

    # ---------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (with a ``version``); :meth:`from_dict` reads it back to an equal spec."""
        d = asdict(self)
        d["datasets"] = list(self.datasets) if self.datasets is not None else None
        return {"version": SPEC_VERSION, **d}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SubsetSpec:
        if not isinstance(d, Mapping):
            raise CurationError(f"a subset spec must be a JSON object, got {type(d).__name__}")
        d = dict(d)
        version = d.pop("version", SPEC_VERSION)
        if version != SPEC_VERSION:
            raise CurationError(f"subset spec version {version!r} is not supported (this project reads version "
                                f"{SPEC_VERSION})")
        known = {f.name for f in fields(cls)}
        bad = sorted(set(d) - known)
        if bad:
            raise CurationError(f"subset spec field(s) {bad} unknown; fields are {sorted(known)}")
        if d.get("datasets") is not None:
            d["datasets"] = tuple(d["datasets"])
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> SubsetSpec:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise CurationError(f"subset spec is not valid JSON: {exc}") from exc

    @classmethod
    def from_budget(cls, ranking: str | None, *, budget_rows: int | None = None, budget_tokens: int | None = None,
                    **kw: Any) -> SubsetSpec:
        """A spec from the engine's older keyword style (``budget_rows`` or ``budget_tokens``, at most one)."""
        if budget_rows is not None and budget_tokens is not None:
            raise CurationError("pass either a row budget or a token budget, not both")
        if budget_tokens is not None:
            return cls(ranking=ranking, budget=budget_tokens, unit="tokens", **kw)
        return cls(ranking=ranking, budget=budget_rows, unit="rows", **kw)

    def replace(self, **changes: Any) -> SubsetSpec:
        return replace(self, **changes)

    def budget_kwargs(self, n_pool: int) -> dict[str, int | None]:
        """``budget_rows`` / ``budget_tokens`` for a pool of ``n_pool`` rows (a % budget rounds to rows)."""
        if self.budget is None:
            return {"budget_rows": None, "budget_tokens": None}
        if self.unit == "tokens":
            return {"budget_rows": None, "budget_tokens": int(self.budget)}
        if self.unit == "%":
            return {"budget_rows": int(round(float(self.budget) / 100.0 * n_pool)), "budget_tokens": None}
        return {"budget_rows": int(self.budget), "budget_tokens": None}

    def describe(self) -> str:
        """One line for people: ranking, budget, quota, datasets, pins."""
        what = f"ranking {self.ranking}" if self.ranking else "every row in ingest order"
        if self.budget is None:
            b = "no budget"
        elif self.unit == "%":
            b = f"{self.budget:g}% of the pool"
        else:
            b = f"{int(self.budget):,} {self.unit}"
        q = "" if self.quota is None else f", quota {self.quota if isinstance(self.quota, str) else 'custom'}"
        ds = f", datasets {', '.join(self.datasets)}" if self.datasets else ""
        pins = "current pins" if self.pins_as_of is None else f"pins as of decision #{self.pins_as_of}"
        return f"{what}, {b}{q}{ds}, {pins}"


@dataclass(frozen=True)
class Subset:
    """What :func:`resolve` returns. row_ids: (k,) int64, include pins first, then ranking order.

    ranking: the ranking used (the identity order for ``spec.ranking=None``); pool: (n,) int64 the ranked pool after
    the dataset restriction; include / exclude: the pins applied (include pins are kept even when the ranking does
    not hold them, e.g. a row without an embedding); budget_rows /
    budget_tokens: the budget in rows or tokens as applied.
    """

    spec: SubsetSpec
    row_ids: np.ndarray
    ranking: Ranking
    pool: np.ndarray
    include: np.ndarray
    exclude: np.ndarray
    budget_rows: int | None = None
    budget_tokens: int | None = None

    def __len__(self) -> int:
        return len(self.row_ids)

    @property
    def n_pool(self) -> int:
        return len(self.pool)

    def stages(self) -> dict[str, int]:
        """Rows at each stage: pool, removed by exclude pins, kept by include pins, selected, left out by the
        budget or a class quota."""
        n_exc = int(np.isin(self.exclude, self.pool).sum())
        return {"pool": self.n_pool, "exclude_pins": n_exc, "include_pins": len(self.include),
                "selected": len(self.row_ids),
                "budget_or_quota": self.n_pool - n_exc - int(np.isin(self.row_ids, self.pool).sum())}

    def reasons(self, row_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Per row id, why it is in or out: "include_pin", "selected", "exclude_pin", "budget" (beyond the budget
        cut or over a class quota) or "not_in_pool" (another dataset, or not in the ranking). O(n + m)."""
        ids = np.asarray(row_ids, dtype=np.int64)
        out = np.full(len(ids), "not_in_pool", dtype=object)
        out[np.isin(ids, self.pool)] = "budget"
        out[np.isin(ids, self.exclude) & (out == "budget")] = "exclude_pin"
        out[np.isin(ids, self.row_ids)] = "selected"
        out[np.isin(ids, self.include)] = "include_pin"
        return out


# ---------------------------------------------------------------------------------------------------- workspace reads
def decision_position(ws: Workspace) -> int:
    """The id of the newest decision (0 when none): ``pins_as_of`` that freezes the current pins."""
    d = ws.decisions()
    return int(d["id"].max()) if len(d) else 0


def pin_arrays(ws: Workspace, as_of: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(include row ids in decision order, exclude row ids sorted) as int64 arrays, as of decision ``as_of``."""
    p = ws.pins(as_of=as_of)
    inc = p.loc[p["pin"] == "include", "row_id"].to_numpy(dtype=np.int64)
    exc = np.sort(p.loc[p["pin"] == "exclude", "row_id"].to_numpy(dtype=np.int64))
    return inc, exc


def pool_frame(ws: Workspace, datasets: Sequence[str] | None = None) -> pd.DataFrame:
    """row_id, example_id, dataset, kind, label, n_tokens of the pool (all rows, or those of ``datasets``)."""
    df = ws.examples(["row_id", "example_id", "dataset", "kind", "label", "n_tokens"])
    if datasets is not None:
        df = df[df["dataset"].isin(list(datasets))].reset_index(drop=True)
    return df


def label_series(ws: Workspace, pool: pd.DataFrame, label_column: str) -> pd.Series:
    """Class per row id of ``pool`` (object dtype, None where missing): the pool's own column when it has it, else
    :func:`curation.store.columns.column_values` (an examples column, a score key or a record key)."""
    ids = pool["row_id"].to_numpy(np.int64)
    if label_column in pool.columns:
        return pd.Series(pool[label_column].to_numpy(object), index=ids)
    s = column_values(ws, label_column, ids, what="label column")
    if s.dtype.kind == "f":  # a score key: keep the numbers as classes, NaN as no class
        t = _risk_threshold(ws, label_column)
        if t is not None:    # a risk slice: its operating threshold splits it in two classes
            v = s.to_numpy(np.float64)
            out = np.where(np.isnan(v), None, np.where(v >= t, FLAGGED, NOT_FLAGGED)).astype(object)
            return pd.Series(out, index=s.index)
        return s.astype(object).where(s.notna(), None)
    return s.astype(object)


FLAGGED, NOT_FLAGGED = "flagged", "not flagged"
"""The two classes of a risk score (a score whose params carry its operating ``threshold``) used as a label column."""


def _risk_threshold(ws: Workspace, key: str) -> float | None:
    """The ``threshold`` in the stored params of score ``key`` (a risk slice), else None."""
    d = ws.score_defs()
    row = d[d["key"] == key] if len(d) else d
    if not len(row):
        return None
    try:
        p = json.loads(row["params"].iloc[0]) if isinstance(row["params"].iloc[0], str) else row["params"].iloc[0]
        return float(p["threshold"]) if isinstance(p, Mapping) and p.get("threshold") is not None else None
    except (TypeError, ValueError, KeyError):
        return None


def load_ranking(ws: Workspace, ranking_key: str | None) -> Ranking:
    """The stored ranking, or the identity order (every row id) when ``ranking_key`` is None."""
    if ranking_key is None:
        ids = ws.row_ids()
        return Ranking(order=ids, gains=np.full(len(ids), np.nan), method="(all rows, ingest order)")
    r = ws.ranking(ranking_key)
    if r is None:
        ws.ranking_key(ranking_key)  # raises the error that lists the rankings by short id
    return r


def check_datasets(ws: Workspace, datasets: Sequence[str] | None) -> None:
    if datasets is None:
        return
    have = set(ws.datasets()["name"])
    bad = [d for d in datasets if d not in have]
    if bad:
        raise CurationError(f"dataset(s) {bad} not in workspace {ws.path}; datasets are {sorted(have)}")


# ---------------------------------------------------------------------------------------------------- resolve
def resolve(ws: Workspace, spec: SubsetSpec, *, ranking: Ranking | None = None, labels: pd.Series | None = None,
            n_tokens: pd.Series | None = None, pins: tuple[np.ndarray, np.ndarray] | None = None) -> Subset:
    """The rows of ``spec`` in workspace ``ws`` (see the module docstring).

    The keyword arguments let a caller that already holds them (a dashboard page caching by the workspace's data
    stamp) skip reading them again: ``ranking`` (the stored ranking ``spec.ranking``), ``labels`` (class per row id
    of ``spec.label_column``), ``n_tokens`` (tokens per row id), ``pins`` (:func:`pin_arrays` at
    ``spec.pins_as_of``). They must be what the workspace holds; anything not given is read here.
    Cost: O(n) numpy plus O(n log n) with a quota, plus the reads (a few ms per 100k rows).
    """
    from curation.select.constraints import apply_constraints

    needs_pool = spec.datasets is not None or (spec.quota is not None and labels is None) or \
        (spec.unit == "tokens" and spec.budget is not None and n_tokens is None)
    # one connection for every read below; none at all when the caller passed everything (a budget step)
    reads = ranking is None or pins is None or needs_pool
    with ws.connect() if reads else contextlib.nullcontext():
        check_datasets(ws, spec.datasets)
        if ranking is None:
            ranking = load_ranking(ws, spec.ranking)
            if spec.ranking is not None and ranking.method != spec.ranking:  # a short id or prefix: keep the key
                spec = spec.replace(ranking=ranking.method)
        elif spec.ranking is not None and ranking.method != spec.ranking:
            if ws.ranking_key(spec.ranking, missing_ok=True) != ranking.method:  # not a short id of the same one
                raise CurationError(f"resolve: the ranking passed is {ranking.method!r}, the spec names "
                                    f"{spec.ranking!r}")
            spec = spec.replace(ranking=ranking.method)
        order = np.asarray(ranking.order, dtype=np.int64)
        inc, exc = pin_arrays(ws, spec.pins_as_of) if pins is None else (np.asarray(pins[0], np.int64),
                                                                          np.asarray(pins[1], np.int64))
        pool = None
        if needs_pool:
            pool = pool_frame(ws, spec.datasets)
        if spec.datasets is not None:
            keep = pool["row_id"].to_numpy(np.int64)
            order = order[np.isin(order, keep)]
            inc = inc[np.isin(inc, keep)]  # an include pin outside the ranking is still kept (as before)
            exc = exc[np.isin(exc, keep)]
        if spec.quota is not None and labels is None:
            labels = label_series(ws, pool, spec.label_column)
        budget = spec.budget_kwargs(len(order))
        if budget["budget_tokens"] is not None and n_tokens is None:
            n_tokens = pd.Series(pool["n_tokens"].to_numpy(np.float64, na_value=np.nan),
                                 index=pool["row_id"].to_numpy(np.int64))
    rows = apply_constraints(order, pins_include=inc, pins_exclude=exc,
                             labels=labels if spec.quota is not None else None, quota=spec.quota,
                             budget_rows=budget["budget_rows"], budget_tokens=budget["budget_tokens"],
                             n_tokens=n_tokens if budget["budget_tokens"] is not None else None)
    return Subset(spec=spec, row_ids=np.asarray(rows, dtype=np.int64), ranking=ranking, pool=order, include=inc,
                  exclude=exc, budget_rows=budget["budget_rows"], budget_tokens=budget["budget_tokens"])


def resolve_ids(ws: Workspace, spec: SubsetSpec, **preloaded: Any) -> np.ndarray:
    """``resolve(ws, spec, ...).row_ids``."""
    return resolve(ws, spec, **preloaded).row_ids
