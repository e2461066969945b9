"""Pure numpy helpers of the map renderer (no Streamlit): colour codes, palettes and the evaluation of a selection
geometry (box, lasso polygon, one point, a cluster) against the float32 coordinates the browser draws."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

MISSING = 255
"""Colour code of a point without a value (drawn grey)."""
MAX_CATEGORIES = 254
"""Categorical colourings keep the most frequent categories; the rest share one 'other' code."""

PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#EECA3B", "#B279A2", "#FF9DA6", "#9D755D",
           "#BAB0AC", "#1F77B4", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22",
           "#17BECF", "#AEC7E8", "#FFBB78", "#98DF8A", "#FF9896", "#C5B0D5", "#C49C94", "#F7B6D2", "#DBDB8D",
           "#9EDAE5"]
FIXED = {"include": "#2CA02C", "exclude": "#D62728", "none": "#C7C7C7", "selected": "#1F77B4",
         "dropped": "#D0D0D0", "pool": "#4C78A8", "other": "#9A9A9A", "n/a": "#C7C7C7", "(none)": "#C7C7C7"}
GREY = "#C7C7C7"
# viridis, 256 steps (matplotlib's, sampled at 11 stops and interpolated linearly)
_VIRIDIS = ["#440154", "#482475", "#414487", "#355F8D", "#2A788E", "#21918C", "#22A884", "#44BF70", "#7AD151",
            "#BDDF26", "#FDE725"]


def ramp(stops: Sequence[str] = _VIRIDIS, n: int = 255) -> list[str]:
    """``n`` colours interpolated along ``stops`` (hex)."""
    rgb = np.array([[int(s[i:i + 2], 16) for i in (1, 3, 5)] for s in stops], dtype=float)
    t = np.linspace(0, len(stops) - 1, n)
    lo = np.floor(t).astype(int).clip(0, len(stops) - 2)
    f = (t - lo)[:, None]
    c = np.rint(rgb[lo] * (1 - f) + rgb[lo + 1] * f).astype(int)
    return ["#%02X%02X%02X" % tuple(v) for v in c]


def categorical_codes(values: pd.Series | np.ndarray, *, order: Sequence[str] | None = None,
                      colours: dict[str, str] | None = None) -> tuple[np.ndarray, list[str], list[dict]]:
    """(uint8 codes, 256-entry palette, legend) for a categorical colouring. Categories are ordered by size (or by
    ``order``); beyond :data:`MAX_CATEGORIES` the smallest share the code of 'other'. Missing values get their own
    grey category '(none)'. Legend entries: {code, name, colour, count}."""
    s = pd.Series(np.asarray(values, dtype=object)).where(lambda v: v.notna(), "(none)").astype(str)
    counts = s.value_counts()
    cats = [c for c in (order or []) if c in counts.index] + [c for c in counts.index if c not in set(order or [])]
    other = None
    if len(cats) > MAX_CATEGORIES:
        cats, other = cats[:MAX_CATEGORIES - 1], "other"
    colours = colours or {}
    palette = [GREY] * 256
    legend = []
    k = 0
    for code, c in enumerate(cats):
        col = colours.get(c) or FIXED.get(c)
        if col is None:
            col = PALETTE[k % len(PALETTE)]
            k += 1
        palette[code] = col
        legend.append({"code": code, "name": c, "colour": col, "count": int(counts[c])})
    idx = pd.Index(cats).get_indexer(s)
    if other is not None:
        code = len(cats)
        palette[code] = FIXED["other"]
        legend.append({"code": code, "name": "other", "colour": FIXED["other"], "count": int((idx < 0).sum())})
        idx = np.where(idx < 0, code, idx)
    return idx.astype(np.uint8), palette, legend


def integer_codes(ids: np.ndarray, names: dict[int, str]) -> tuple[np.ndarray, list[str], list[dict]]:
    """Like :func:`categorical_codes` for integer categories (cluster ids; negative = none), without building a
    string per point: O(n) with a lookup table. Legend names come from ``names`` ("<id> · <name>")."""
    ids = np.asarray(ids, dtype=np.int64)
    shift = ids.min() if len(ids) and ids.min() < 0 else 0
    counts = np.bincount(ids - shift) if len(ids) else np.zeros(0, dtype=np.int64)
    present = [int(v) + int(shift) for v in np.flatnonzero(counts)]
    present.sort(key=lambda v: (v < 0, -counts[v - shift], v))
    table = np.full(len(counts), MISSING, dtype=np.int64)
    palette = [GREY] * 256
    legend = []
    k = 0
    for v in present:
        if v < 0:
            code, name, col = MISSING, "n/a", GREY
        elif k < MAX_CATEGORIES:
            code, name, col = k, f"{v} · {names.get(v, '')}".rstrip(" ·"), PALETTE[k % len(PALETTE)]
            k += 1
        else:
            code, name, col = MAX_CATEGORIES, "other", FIXED["other"]
        table[v - shift] = code
        palette[code] = col
        if name == "other" and legend and legend[-1]["name"] == "other":
            legend[-1]["count"] += int(counts[v - shift])
        else:
            legend.append({"code": int(code), "name": name, "colour": col, "count": int(counts[v - shift])})
    codes = table[ids - shift].astype(np.uint8) if len(ids) else np.zeros(0, dtype=np.uint8)
    return codes, palette, legend


def numeric_codes(values: np.ndarray) -> tuple[np.ndarray, list[str], dict]:
    """(uint8 codes 0..254, NaN → :data:`MISSING`; the viridis palette; {lo_v, hi_v, missing}) for a score.
    The range is the 1st..99th percentile, so a few extreme values do not flatten the colours."""
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    codes = np.full(len(v), MISSING, dtype=np.uint8)
    lo = hi = 0.0
    if ok.any():
        lo, hi = (float(x) for x in np.percentile(v[ok], [1, 99]))
        if hi <= lo:
            lo, hi = float(v[ok].min()), float(v[ok].max())
        span = hi - lo if hi > lo else 1.0
        codes[ok] = np.clip(np.floor((v[ok] - lo) / span * 255), 0, 254).astype(np.uint8)
    palette = ramp() + [GREY]
    return codes, palette, {"lo_v": lo, "hi_v": hi, "missing": int((~ok).sum())}


def points_in_box(xy: np.ndarray, box: Sequence[float]) -> np.ndarray:
    """Positions of the points inside ``box`` = (x0, y0, x1, y1), edges included (what the browser highlights)."""
    x0, y0, x1, y1 = (np.float32(b) for b in box)
    x, y = xy[:, 0], xy[:, 1]
    return np.flatnonzero((x >= min(x0, x1)) & (x <= max(x0, x1)) & (y >= min(y0, y1)) & (y <= max(y0, y1)))


def points_in_polygon(xy: np.ndarray, poly: Sequence[Sequence[float]]) -> np.ndarray:
    """Positions of the points inside the polygon (even-odd rule, the same test the browser runs). Bounding box
    first, then one vectorised pass per edge over the candidates."""
    p = np.asarray(poly, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < 3 or p.shape[1] != 2 or not np.isfinite(p).all():
        return np.zeros(0, dtype=np.int64)
    cand = points_in_box(xy, (p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()))
    x = xy[cand, 0].astype(np.float64)
    y = xy[cand, 1].astype(np.float64)
    inside = np.zeros(len(cand), dtype=bool)
    j = len(p) - 1
    for i in range(len(p)):
        xi, yi, xj, yj = p[i, 0], p[i, 1], p[j, 0], p[j, 1]
        if yi != yj:
            crosses = (yi > y) != (yj > y)
            xint = (xj - xi) * (y - yi) / (yj - yi) + xi
            inside ^= crosses & (x < xint)
        j = i
    return cand[inside]


def selection_positions(event: dict, xy: np.ndarray, cluster_of: np.ndarray | None = None) -> np.ndarray | None:
    """The positions selected by a browser event, or None for an event that does not change the selection
    (hover). Kinds: box {box}, lasso {poly}, point {pos}, cluster {cluster} (``cluster_of``: the cluster id of
    every position), clear."""
    kind = event.get("kind")
    if kind == "box":
        return points_in_box(xy, event["box"])
    if kind == "lasso":
        return points_in_polygon(xy, event["poly"])
    if kind == "point":
        pos = int(event["pos"])
        return np.array([pos], dtype=np.int64) if 0 <= pos < len(xy) else np.zeros(0, dtype=np.int64)
    if kind == "cluster" and cluster_of is not None:
        return np.flatnonzero(np.asarray(cluster_of) == int(event["cluster"]))
    if kind == "clear":
        return np.zeros(0, dtype=np.int64)
    return None
