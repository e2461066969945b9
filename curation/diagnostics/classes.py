"""Class balance of a subset against its pool: counts, shares, retention, Jensen–Shannon divergence, chi-square.

All functions take per-class count vectors (cheap to get with ``np.bincount`` of integer class codes), so one
report costs O(k) for a subset of k rows plus O(C) for C classes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MISSING_LABEL = "(none)"
OTHER_LABEL = "(other)"


def encode_labels(labels: np.ndarray | pd.Series | list, *, max_classes: int = 200) -> tuple[np.ndarray, list[str]]:
    """Labels (n,) of any type → (codes (n,) int32, class names). Missing values (None, NaN, "") become
    :data:`MISSING_LABEL`; integral floats print as integers ("3.0" → "3", for cluster ids stored as scores).
    Classes are ordered by pool count, largest first (ties by name); beyond ``max_classes`` the rarest are merged
    into :data:`OTHER_LABEL`. O(n log n)."""
    s = pd.Series(np.asarray(labels, dtype=object) if not isinstance(labels, pd.Series) else labels.to_numpy(object))
    s = s.map(_label_text)
    counts = s.value_counts(sort=False)
    order = sorted(counts.index, key=lambda k: (-int(counts[k]), str(k)))
    if len(order) > max_classes:
        keep = set(order[: max_classes - 1])
        s = s.where(s.isin(keep), OTHER_LABEL)
        counts = s.value_counts(sort=False)
        order = sorted(counts.index, key=lambda k: (-int(counts[k]), str(k)))
    names = [str(k) for k in order]
    lookup = {k: i for i, k in enumerate(names)}
    codes = s.map(lookup).to_numpy(dtype=np.int32)
    return codes, names


def _label_text(v: object) -> str:
    if v is None or v is pd.NA or v is pd.NaT:
        return MISSING_LABEL
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return MISSING_LABEL
        return str(int(v)) if float(v).is_integer() else str(v)
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v)).lower()
    t = str(v)
    return t if t.strip() else MISSING_LABEL


def class_table(names: list[str], pool_counts: np.ndarray, subset_counts: np.ndarray) -> pd.DataFrame:
    """label, pool_count, pool_share, subset_count, subset_share, retention (= subset_count / pool_count, the share
    of the class that the selection keeps), one row per class in the order of ``names``."""
    pool_counts = np.asarray(pool_counts, dtype=np.int64)
    subset_counts = np.asarray(subset_counts, dtype=np.int64)
    n, k = int(pool_counts.sum()), int(subset_counts.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame({
            "label": names,
            "pool_count": pool_counts,
            "pool_share": pool_counts / n if n else np.full(len(names), np.nan),
            "subset_count": subset_counts,
            "subset_share": subset_counts / k if k else np.full(len(names), np.nan),
            "retention": np.where(pool_counts > 0, subset_counts / np.maximum(pool_counts, 1), np.nan),
        })


def js_divergence(p_counts: np.ndarray, q_counts: np.ndarray) -> float:
    """Jensen–Shannon divergence (base 2, so in [0, 1]) between two count vectors' distributions.

    0 = same class mix; 1 = disjoint supports. NaN when either is empty. Note: scipy's
    ``jensenshannon`` returns the *distance*, the square root of this."""
    p = np.asarray(p_counts, dtype=np.float64)
    q = np.asarray(q_counts, dtype=np.float64)
    if p.sum() <= 0 or q.sum() <= 0:
        return float("nan")
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return max(0.0, 0.5 * kl(p) + 0.5 * kl(q))


def chi2_test(pool_counts: np.ndarray, subset_counts: np.ndarray) -> tuple[float, float]:
    """Pearson chi-square goodness of fit of the subset's class counts to the pool's shares.

    Expected counts ``k · pool_share`` over classes present in the pool, C - 1 degrees of freedom. Returns
    (statistic, p-value); a small p-value says the class mix differs from the pool more than a random subset of
    the same size would (an approximation: the subset is drawn without replacement from the pool, which makes
    the test conservative). (NaN, NaN) with fewer than two classes or an empty subset."""
    from scipy.special import chdtrc  # chi-square survival function; much lighter to import than scipy.stats

    pool = np.asarray(pool_counts, dtype=np.float64)
    sub = np.asarray(subset_counts, dtype=np.float64)
    keep = pool > 0
    pool, sub = pool[keep], sub[keep]
    k = sub.sum()
    if len(pool) < 2 or k <= 0:
        return float("nan"), float("nan")
    exp = k * pool / pool.sum()
    stat = float(np.sum((sub - exp) ** 2 / exp))
    return stat, float(chdtrc(len(pool) - 1, stat))


def class_alerts(table: pd.DataFrame, *, what: str = "class", min_pool_count: int = 10, min_pool_share: float = 0.01,
                 low: float = 0.5, high: float = 2.0, max_alerts: int = 8) -> list[str]:
    """Plain-language alerts for classes whose retention is far from the overall retention.

    A class with ≥ ``min_pool_count`` rows is flagged when the selection drops it entirely; one that also has
    ≥ ``min_pool_share`` of the pool when the selection keeps < ``low`` × or > ``high`` × the overall retention.
    Worst first, at most ``max_alerts`` (then a count of the rest)."""
    n, k = int(table["pool_count"].sum()), int(table["subset_count"].sum())
    if n == 0 or k == 0:
        return []
    overall = k / n
    t = table[table["pool_count"] >= min_pool_count]
    out: list[tuple[float, str]] = []
    for r in t.itertuples(index=False):
        ratio = r.retention / overall
        if r.subset_count > 0 and r.pool_share < min_pool_share:
            continue
        if r.subset_count == 0:
            out.append((0.0, f"this selection drops {what} {r.label!r} entirely ({r.pool_count} examples, "
                             f"{_pct(r.pool_share)} of the pool)"))
        elif ratio < low:
            out.append((ratio, f"this selection keeps {_pct(r.retention)} of {what} {r.label!r} against "
                               f"{_pct(overall)} overall ({r.subset_count} of {r.pool_count}); its share falls from "
                               f"{_pct(r.pool_share)} to {_pct(r.subset_share)}"))
        elif ratio > high and r.retention < 1.0:
            out.append((1.0 / ratio, f"this selection keeps {_pct(r.retention)} of {what} {r.label!r} against "
                                     f"{_pct(overall)} overall; its share grows from {_pct(r.pool_share)} to "
                                     f"{_pct(r.subset_share)}"))
    out.sort(key=lambda x: x[0])
    msgs = [m for _, m in out]
    if len(msgs) > max_alerts:
        msgs = msgs[:max_alerts] + [f"... and {len(msgs) - max_alerts} more {what} alert(s) of the same kind"]
    return msgs


def _pct(x: float) -> str:
    """A share as a short percentage: 0.04 → '4%', 0.0042 → '0.42%'."""
    if not np.isfinite(x):
        return "n/a"
    v = 100.0 * x
    if v == 0 or v >= 10:
        return f"{v:.0f}%"
    if v >= 1:
        return f"{v:.1f}%".replace(".0%", "%")
    return f"{v:.2g}%"
