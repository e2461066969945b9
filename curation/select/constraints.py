"""Budgets and constraints applied on top of any ranking: pins, per-class quotas, rows or tokens.

:func:`apply_constraints` turns a ranking into the selected row ids for one budget. It never re-ranks: include
pins come first, exclude pins are removed, and every class takes the best of its own rows in ranking order, so
moving the budget slider costs a few vectorised passes over the order (about a millisecond per 100k rows).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from curation.core.errors import CurationError
from curation.core.ranking import Ranking

_NONE = "(none)"


def _lookup(values: Any, ids: np.ndarray, what: str, *, numeric: bool) -> np.ndarray:
    """values (pd.Series indexed by row id, Mapping row id → value, or (row_ids, values) tuple) at ``ids``."""
    import pandas as pd

    if isinstance(values, tuple) and len(values) == 2:
        values = pd.Series(np.asarray(values[1]), index=np.asarray(values[0], dtype=np.int64))
    elif isinstance(values, Mapping):
        values = pd.Series(values)
    if not isinstance(values, pd.Series):
        raise CurationError(f"{what}: expected a pandas Series indexed by row_id, a dict or a (row_ids, values) "
                            f"tuple, got {type(values).__name__}")
    idx = values.index.to_numpy()
    if idx.dtype.kind not in "iu":
        raise CurationError(f"{what}: the index must be integer row ids, got dtype {idx.dtype}")
    if numeric:
        vals = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        vals = values.to_numpy(dtype=object)
    hi = int(max(idx.max(initial=-1), ids.max(initial=-1))) + 1
    pos = np.full(hi, -1, dtype=np.int64)
    pos[idx.astype(np.int64)] = np.arange(len(idx))
    p = pos[ids]
    if numeric:
        out = np.where(p >= 0, vals[np.maximum(p, 0)] if len(vals) else np.nan, np.nan)
        return out.astype(np.float64)
    out = np.empty(len(ids), dtype=object)
    out[:] = None
    has = p >= 0
    out[has] = vals[p[has]]
    return out


_CODES_CACHE: dict[int, tuple[Any, np.ndarray, np.ndarray, list[str]]] = {}


def label_codes(labels: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(row_ids (m,) int64, codes (m,) int64 with -1 = no label, class names) from a Series indexed by row id, a
    dict, or a (row_ids, labels) tuple. The last Series seen is cached by identity (the budget slider passes the
    same object on every move), so repeated calls cost nothing; a categorical Series needs no factorising."""
    import pandas as pd

    hit = _CODES_CACHE.get(id(labels))
    if hit is not None and hit[0] is labels:
        return hit[1], hit[2], hit[3]
    if isinstance(labels, tuple) and len(labels) == 2:
        ser = pd.Series(np.asarray(labels[1], dtype=object), index=np.asarray(labels[0], dtype=np.int64))
    elif isinstance(labels, Mapping):
        ser = pd.Series(labels, dtype=object)
    elif isinstance(labels, pd.Series):
        ser = labels
    else:
        raise CurationError(f"labels: expected a pandas Series indexed by row_id, a dict or a (row_ids, labels) "
                            f"tuple, got {type(labels).__name__}")
    idx = ser.index.to_numpy()
    if len(idx) and idx.dtype.kind not in "iu":
        raise CurationError(f"labels: the index must be integer row ids, got dtype {idx.dtype}")
    if isinstance(ser.dtype, pd.CategoricalDtype):
        codes = ser.cat.codes.to_numpy().astype(np.int64)
        names = [str(c) for c in ser.cat.categories]
    else:
        codes, uniq = pd.factorize(ser, use_na_sentinel=True)
        codes = codes.astype(np.int64)
        names = [str(c) for c in uniq]
    out = (idx.astype(np.int64), codes, names)
    _CODES_CACHE.clear()
    _CODES_CACHE[id(labels)] = (labels, *out)
    return out


def _largest_remainder(total: int, shares: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Integer allotments summing to min(total, caps.sum()) ∝ shares, each <= cap (water-filling)."""
    alloc = np.zeros(len(shares), dtype=np.int64)
    left = min(int(total), int(caps.sum()))
    active = caps > 0
    while left > 0 and active.any():
        s = np.where(active, shares, 0.0)
        if s.sum() <= 0:
            s = active.astype(np.float64)
        ideal = left * s / s.sum()
        room = caps - alloc
        add = np.minimum(np.floor(ideal).astype(np.int64), room)
        rem = left - int(add.sum())
        if rem > 0:
            frac = np.where(active & (add < room), ideal - np.floor(ideal), -1.0)
            for c in np.argsort(-frac, kind="stable")[:rem]:
                if frac[c] >= 0 and add[c] < room[c]:
                    add[c] += 1
        if add.sum() == 0:
            break
        alloc += add
        left -= int(add.sum())
        active = alloc < caps
    return alloc


def _prefix_fit(cost: np.ndarray, budget: float) -> int:
    """Longest prefix whose total cost is <= budget."""
    return int(np.searchsorted(np.cumsum(cost), budget + 1e-9, side="right"))


def apply_constraints(ranking: Ranking | np.ndarray, *, pins_include: Any = None, pins_exclude: Any = None,
                      labels: Any = None, quota: str | dict | None = None, budget_rows: int | None = None,
                      budget_tokens: int | None = None, n_tokens: Any = None) -> np.ndarray:
    """Selected row ids (int64, include pins first, then ranking order) for one budget.

    ranking: a Ranking (or its order array of row ids). pins_include: row ids always selected (they count toward
    the budget and their class quota, and are kept even beyond the budget). pins_exclude: row ids never selected.
    labels: class per row id (pd.Series indexed by row_id, dict, or (row_ids, labels)); rows without one form the
    class "(none)". quota: None; "proportional" (each class keeps its share of the pool); "balanced" (equal shares,
    a class with too few rows gives its leftover to the others); or {"min": {class: rows}, "max": {class: rows},
    "min_share": {class: share in [0, 1] or "pool"}} (at least that share of the budget, in rows or tokens; "pool" =
    the class's share of the pool, e.g. "keep at least the pool's share of harmful-request prompts").
    budget_rows / budget_tokens: at most one; None = no budget (every remaining row). n_tokens: tokens per row id
    (same forms as labels; missing = 0), needed for budget_tokens, which takes the longest prefix that fits (per
    class with quotas). After the quotas, leftover budget goes to the best remaining rows in ranking order.
    Cost: O(n) numpy plus O(n log n) when quotas are used.
    """
    order = np.asarray(ranking.order if isinstance(ranking, Ranking) else ranking, dtype=np.int64)
    if budget_rows is not None and budget_tokens is not None:
        raise CurationError("pass either budget_rows or budget_tokens, not both")
    if budget_rows is not None and budget_rows < 0 or budget_tokens is not None and budget_tokens < 0:
        raise CurationError(f"budget must be >= 0, got rows={budget_rows} tokens={budget_tokens}")
    inc = np.asarray([] if pins_include is None else list(pins_include), dtype=np.int64)
    exc = np.asarray([] if pins_exclude is None else list(pins_exclude), dtype=np.int64)
    if inc.size:
        _, first = np.unique(inc, return_index=True)
        inc = inc[np.sort(first)]
    hi = int(max(order.max(initial=-1), inc.max(initial=-1), exc.max(initial=-1))) + 1
    drop = np.zeros(hi, dtype=bool)
    drop[exc] = True
    if inc.size and drop[inc].any():
        both = inc[drop[inc]][:3].tolist()
        raise CurationError(f"row ids {both} are pinned both include and exclude; unpin one of them")
    inc_mask = np.zeros(hi, dtype=bool)
    inc_mask[inc] = True
    rest = order[~(drop[order] | inc_mask[order])]
    if budget_tokens is not None:
        if n_tokens is None:
            raise CurationError("budget_tokens needs n_tokens (tokens per row id); run ingest with a tokenizer "
                                "or pass budget_rows")
        cost_inc = np.nan_to_num(_lookup(n_tokens, inc, "n_tokens", numeric=True))
        cost_rest = np.nan_to_num(_lookup(n_tokens, rest, "n_tokens", numeric=True))
        budget = float(budget_tokens)
    else:
        cost_inc = np.ones(len(inc))
        cost_rest = np.ones(len(rest))
        budget = float(budget_rows) if budget_rows is not None else float(len(inc) + len(rest))
    left = budget - cost_inc.sum()
    if quota is None or labels is None:
        if quota is not None and labels is None:
            raise CurationError(f"quota={quota!r} needs labels (a class per row); set the label column at ingest")
        k = _prefix_fit(cost_rest, left) if left > 0 else 0
        return np.concatenate([inc, rest[:k]])
    return np.concatenate([inc, _quota_select(rest, cost_rest, inc, cost_inc, labels, quota, left, budget)])


def _quota_select(rest: np.ndarray, cost: np.ndarray, inc: np.ndarray, cost_inc: np.ndarray, labels: Any,
                  quota: str | dict, left: float, budget: float) -> np.ndarray:
    lab_ids, lab_codes, names = label_codes(labels)
    hi = int(max(lab_ids.max(initial=-1), rest.max(initial=-1), inc.max(initial=-1))) + 1
    by_row = np.full(hi, -1, dtype=np.int64)
    by_row[lab_ids] = lab_codes
    none_code = len(names)
    classes = names + [_NONE]
    c_inc = by_row[inc]
    c_rest = by_row[rest]
    c_inc[c_inc < 0] = none_code
    c_rest[c_rest < 0] = none_code
    C = len(classes)
    used = np.bincount(c_inc, weights=cost_inc, minlength=C)
    avail_cost = np.bincount(c_rest, weights=cost, minlength=C)
    pool_cost = used + avail_cost
    integer = bool(np.all(cost == 1)) and bool(np.all(cost_inc == 1))
    if isinstance(quota, str):
        if quota == "proportional":
            shares = pool_cost / max(pool_cost.sum(), 1e-12)
        elif quota == "balanced":
            shares = np.where(pool_cost > 0, 1.0, 0.0)
        else:
            raise CurationError(f"quota={quota!r} is not one of 'proportional', 'balanced' or "
                                "{'min': {...}, 'max': {...}}")
        # each class's target of the whole budget (pins included), water-filled against what each class has
        if integer:
            target = _largest_remainder(int(round(budget)), shares, pool_cost.astype(np.int64)).astype(np.float64)
        else:
            target = _waterfill(budget, shares, pool_cost)
        allot = np.maximum(target - used, 0.0)
        maxc = None
    elif isinstance(quota, dict):
        bad = set(quota) - {"min", "max", "min_share"}
        if bad:
            raise CurationError(f"quota keys {sorted(bad)} unknown; use {{'min': {{class: rows}}, "
                                "'max': {class: rows}, 'min_share': {class: share or 'pool'}}")
        cls_index = {c: i for i, c in enumerate(classes)}
        allot = np.zeros(C)
        for c, v in (quota.get("min") or {}).items():
            if str(c) in cls_index:
                allot[cls_index[str(c)]] = max(float(v) - used[cls_index[str(c)]], 0.0)
        # a minimum share of the budget (rows or tokens; "pool" = the class's share of the pool) as rows
        for c, v in (quota.get("min_share") or {}).items():
            if str(c) not in cls_index:
                continue
            i = cls_index[str(c)]
            share = pool_cost[i] / max(pool_cost.sum(), 1e-12) if v == "pool" else float(v)
            need = share * budget - used[i]
            if need <= 0:
                continue
            if integer:
                rows = float(np.ceil(need - 1e-9))
            else:  # tokens: the class's best rows whose tokens reach the share
                seg_cost = cost[c_rest == i]
                rows = float(min(np.searchsorted(np.cumsum(seg_cost), need - 1e-9) + 1, len(seg_cost)))
            allot[i] = max(allot[i], rows)
        maxc = np.full(C, np.inf)
        for c, v in (quota.get("max") or {}).items():
            if str(c) in cls_index:
                maxc[cls_index[str(c)]] = float(v)
    else:
        raise CurationError(f"quota must be a string or a dict, got {type(quota).__name__}")
    # per-class prefix within its allotment (in ranking order)
    small = c_rest.astype(np.int16) if C < 32000 else c_rest    # 16-bit keys: numpy uses a radix sort
    o = np.argsort(small, kind="stable")
    sc = c_rest[o]
    starts = np.searchsorted(sc, np.arange(C), side="left")
    take = np.zeros(len(rest), dtype=bool)
    row_units = isinstance(quota, dict)
    for c in range(C):
        seg = o[starts[c]: (starts[c + 1] if c + 1 < C else len(o))]
        if not len(seg) or allot[c] <= 0:
            continue
        if row_units or integer:
            m = int(min(len(seg), np.floor(allot[c] + 1e-9)))
        else:
            m = _prefix_fit(cost[seg], allot[c])
        if row_units and maxc is not None:
            m = int(min(m, max(maxc[c] - np.count_nonzero(c_inc == c), 0)))
        take[seg[:m]] = True
    # keep within the budget: mins may exceed it, then trim from the worst-ranked
    chosen_cost = cost[take].sum()
    if chosen_cost > left:
        idx = np.flatnonzero(take)
        keep = _prefix_fit(cost[idx], max(left, 0.0))
        take[idx[keep:]] = False
        chosen_cost = cost[take].sum()
    # fill what is left with the best remaining rows in ranking order (respecting max per class)
    remaining = left - chosen_cost
    if remaining > 0:
        cand = np.flatnonzero(~take)
        if maxc is not None and np.isfinite(maxc).any():
            have = np.bincount(c_inc, minlength=C) + np.bincount(c_rest[take], minlength=C)
            room = maxc - have
            cc = c_rest[cand]
            # rank of each candidate within its class among candidates
            oo = np.argsort(cc, kind="stable")
            seg_start = np.searchsorted(cc[oo], cc[oo], side="left")
            within = np.empty(len(cand), dtype=np.int64)
            within[oo] = np.arange(len(cand)) - seg_start
            cand = cand[within < room[cc]]
        m = _prefix_fit(cost[cand], remaining)
        take[cand[:m]] = True
    return rest[take]


def _waterfill(total: float, shares: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Real-valued allotments ∝ shares, each <= cap, summing to min(total, caps.sum())."""
    alloc = np.zeros(len(shares))
    left = min(total, float(caps.sum()))
    active = caps > 0
    for _ in range(len(shares) + 1):
        if left <= 1e-9 or not active.any():
            break
        s = np.where(active, shares, 0.0)
        if s.sum() <= 0:
            s = active.astype(np.float64)
        add = np.minimum(left * s / s.sum(), caps - alloc)
        alloc += add
        left -= add.sum()
        active = alloc < caps - 1e-9
    return alloc
