"""Two report cards side by side: one row per figure (size, class drift, class shares, spectral balance per class,
coverage, diversity, quality and preference means), the values for A and B, the change, and whether it differs.

Used by the Balance page to compare two subsets (two versions of a saved subset, two names, or a version and the
unsaved draft) drawn from the same pool.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from curation.diagnostics.report import ReportCard

COLUMNS = ("section", "figure", "a", "b", "change", "differs")


def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return f if np.isfinite(f) else float("nan")


def compare_cards(a: ReportCard, b: ReportCard, *, rtol: float = 1e-9) -> pd.DataFrame:
    """DataFrame(section, figure, a, b, change = b - a, differs) of two cards of the same pool.

    ``differs`` is True where the values differ by more than ``rtol`` (relative) or only one side has a value.
    Classes and score keys present in either card each get a row. O(classes + scores).
    """
    rows: list[tuple[str, str, float, float]] = []

    def add(section: str, figure: str, va: Any, vb: Any) -> None:
        rows.append((section, figure, _num(va), _num(vb)))

    add("size", "rows", a.n_subset, b.n_subset)
    add("class balance", "class drift (JS divergence)", a.js_divergence, b.js_divergence)
    add("class balance", "chi-square p-value", a.chi2_p, b.chi2_p)
    ca = a.classes.set_index("label") if len(a.classes) else pd.DataFrame()
    cb = b.classes.set_index("label") if len(b.classes) else pd.DataFrame()
    for lab in list(dict.fromkeys([*ca.index.tolist(), *cb.index.tolist()])):
        add("class share", str(lab), ca["subset_share"].get(lab) if len(ca) else None,
            cb["subset_share"].get(lab) if len(cb) else None)
    sa = a.spectral.set_index("label") if isinstance(a.spectral, pd.DataFrame) and len(a.spectral) else None
    sb = b.spectral.set_index("label") if isinstance(b.spectral, pd.DataFrame) and len(b.spectral) else None
    labs = list(dict.fromkeys([*(sa.index.tolist() if sa is not None else []),
                               *(sb.index.tolist() if sb is not None else [])]))
    for lab in labs:
        va = sa["subset_effective_rank"].get(lab) if sa is not None and "subset_effective_rank" in sa else None
        vb = sb["subset_effective_rank"].get(lab) if sb is not None and "subset_effective_rank" in sb else None
        add("spectral balance (effective rank)", str(lab), va, vb)
    cov_a, cov_b = a.coverage or {}, b.coverage or {}
    for key, name in (("mean_distance", "mean distance to the nearest selected (lower is better)"),
                      ("p95_distance", "95th percentile distance"), ("facility_location", "facility location"),
                      ("vendi_subset", "Vendi diversity of the subset")):
        if key in cov_a or key in cov_b:
            add("coverage and diversity", name, cov_a.get(key), cov_b.get(key))
    qa = a.quality.set_index("key") if isinstance(a.quality, pd.DataFrame) and len(a.quality) else None
    qb = b.quality.set_index("key") if isinstance(b.quality, pd.DataFrame) and len(b.quality) else None
    keys = list(dict.fromkeys([*(qa.index.tolist() if qa is not None else []),
                               *(qb.index.tolist() if qb is not None else [])]))
    for k in keys:
        add("quality (subset mean)", str(k), qa["subset_mean"].get(k) if qa is not None else None,
            qb["subset_mean"].get(k) if qb is not None else None)
    pa = (a.preference or {}).get("summary")
    pb = (b.preference or {}).get("summary")
    if isinstance(pa, pd.DataFrame) or isinstance(pb, pd.DataFrame):
        ma = pa.set_index("metric")["subset"] if isinstance(pa, pd.DataFrame) else pd.Series(dtype=float)
        mb = pb.set_index("metric")["subset"] if isinstance(pb, pd.DataFrame) else pd.Series(dtype=float)
        for m in list(dict.fromkeys([*ma.index.tolist(), *mb.index.tolist()])):
            add("preference pairs (subset)", str(m), ma.get(m), mb.get(m))
    df = pd.DataFrame(rows, columns=["section", "figure", "a", "b"])
    df["change"] = df["b"] - df["a"]
    both_nan = df["a"].isna() & df["b"].isna()
    one_nan = df["a"].isna() ^ df["b"].isna()
    scale = np.maximum(np.abs(df["a"].fillna(0)), np.abs(df["b"].fillna(0)))
    df["differs"] = one_nan | (~both_nan & (np.abs(df["change"].fillna(0)) > rtol * np.maximum(scale, 1e-12)))
    return df[list(COLUMNS)]
