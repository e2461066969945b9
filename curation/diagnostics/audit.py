"""The bias audit: every slice column's shares in a subset against its pool (or two subsets against each other),
with a significance test, a false-discovery correction and an alert only when a shift is both real and material.

A **slice** is any per-example categorical column (see the slice contract in README.md):

* the examples' ``dataset`` and ``label`` columns, and every stored ``group`` column with few enough codes
  (k-means clusters, language, length bucket; code names from the artifact ``labels:<key>`` when stored);
* every stored ``flag`` column (0/1: refusal, PII present, identity-group mention, outlier, ...), and the 0/1
  heuristic scores (``refusal``, ``ai_disclaimer``); a slice scorer (``slice = True``) stores one of these kinds, so
  the stored kind alone decides (the scorer registry is not imported);
* every risk score whose stored params carry ``"threshold": t`` (``value >= t`` = "flagged");
* cross-slices: harmful-request/toxicity x identity group, refusal x dataset, language x quality tercile
  (quality = the score the subset's ranking uses, else ``pref_head_default`` when stored).

For each slice and category: counts and shares in the reference (the pool, or subset A) and in the subset, the
share difference (in [-1, 1]) and ratio (subset / reference), a two-proportion z test and, per slice, a chi-square
test of the whole mix. Against the pool the subset is tested against **the rest of the pool** (the rows it left
out; the two groups are disjoint, so the test is exact in its assumptions and p equals scipy's
``chi2_contingency(correction=False)`` on the 2x2 table); two subsets are tested as two samples (an approximation
when they overlap). The p-values of every tested category of every slice are corrected together with
Benjamini-Hochberg (q). A category **alerts** when ``q < alpha`` and the shift is **material**: ``|difference| >=
min_diff`` (default 3 points) or the ratio is outside ``[ratio_low, ratio_high]`` (default [0.8, 1.25]) with
``|difference| >= ratio_min_diff`` (default 1 point, so that 0.1% -> 0.2% is not an alert). For a binary slice
only its flagged category is tested (the other is its complement); "(n/a)" (not applicable) is shown, never tested.

Cost: :meth:`AuditContext.build` reads each slice column once and stores int32 codes aligned with the workspace's
rows (O(n) per slice). :meth:`AuditContext.audit` is then, per subset of k rows, one gather of positions and one
``bincount`` per slice (O(k) each) plus vectorised statistics over all categories: about 10-20 ms at 100k rows and
30 slices (benchmarks/RESULTS.md). Attribution (:func:`attribute`) resolves the subset's spec once per step.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.core.keys import key_name

NA = "(n/a)"
BINARY_SCORES = ("refusal", "ai_disclaimer")
"""0/1 heuristic scores (kind "score") that the audit treats as flags."""
SKIP_GROUPS = ("neardup_group", "exactdup_group")
"""Group columns that are ids of near-duplicate groups, not categories."""


@dataclass(frozen=True)
class AuditParams:
    """Alert thresholds and caps (all settable in the UI and the CLI).

    alpha: Benjamini-Hochberg false-discovery level (q < alpha is significant). min_diff: a share difference at
    least this large (in [0, 1]; 0.03 = 3 points) is material. ratio_low / ratio_high: a share ratio outside this
    range is material when the difference is at least ratio_min_diff. max_categories: a categorical slice keeps its
    most common categories in the pool and merges the rest into "(other)". bottom: the fraction of the pool that is
    "the bottom of a score" in score fairness (0.1 = the lowest 10%). quality_bins: quantile bins of the quality
    score in the language x quality cross-slice.
    """

    alpha: float = 0.05
    min_diff: float = 0.03
    ratio_low: float = 0.8
    ratio_high: float = 1.25
    ratio_min_diff: float = 0.01
    max_categories: int = 40
    bottom: float = 0.1
    quality_bins: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise CurationError(f"audit alpha must be in (0, 1), got {self.alpha}")
        if not 0 <= self.min_diff <= 1 or not 0 <= self.ratio_min_diff <= 1:
            raise CurationError(f"audit min_diff / ratio_min_diff must be in [0, 1] (0.03 = 3 points), got "
                                f"{self.min_diff} / {self.ratio_min_diff}")
        if not 0 < self.ratio_low <= 1 <= self.ratio_high:
            raise CurationError(f"audit ratio range must satisfy 0 < low <= 1 <= high, got [{self.ratio_low}, "
                                f"{self.ratio_high}]")
        if not 0 < self.bottom < 1:
            raise CurationError(f"audit bottom must be a fraction in (0, 1), got {self.bottom}")


# ---------------------------------------------------------------------------------------------------- statistics
def two_proportion_p(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray) -> tuple[np.ndarray,
                                                                                                np.ndarray]:
    """(z, two-sided p) of the pooled two-proportion z test, vectorised: x1 of n1 against x2 of n2.

    z > 0 when x1/n1 > x2/n2. p equals scipy's ``chi2_contingency([[x1, n1-x1], [x2, n2-x2]], correction=False)``
    (z² is that chi-square). Degenerate tables (an empty group, or a pooled share of 0 or 1) get z = 0, p = 1.
    """
    from scipy.special import ndtr

    x1, n1, x2, n2 = (np.asarray(a, dtype=np.float64) for a in (x1, n1, x2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = (x1 + x2) / (n1 + n2)
        se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
        z = (x1 / n1 - x2 / n2) / se
    ok = (n1 > 0) & (n2 > 0) & (se > 0) & np.isfinite(z)
    z = np.where(ok, z, 0.0)
    return z, np.where(ok, 2.0 * ndtr(-np.abs(z)), 1.0)


def chi2_mix_p(counts_a: np.ndarray, counts_b: np.ndarray) -> tuple[float, int, float]:
    """(chi-square, dof, p) of the 2 x C contingency table (categories with no row in either are dropped); equals
    scipy's ``chi2_contingency(correction=False)`` for C > 2 (for C = 2 scipy applies no correction either here)."""
    from scipy.special import chdtrc

    a, b = np.asarray(counts_a, np.float64), np.asarray(counts_b, np.float64)
    keep = (a + b) > 0
    a, b = a[keep], b[keep]
    if len(a) < 2 or a.sum() == 0 or b.sum() == 0:
        return 0.0, 0, 1.0
    tot = a.sum() + b.sum()
    col = a + b
    ea, eb = col * a.sum() / tot, col * b.sum() / tot
    stat = float(((a - ea) ** 2 / ea).sum() + ((b - eb) ** 2 / eb).sum())
    dof = len(a) - 1
    return stat, dof, float(chdtrc(dof, stat))


def bh_qvalues(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q), same order as ``p``; equals scipy.stats.false_discovery_control
    (method "bh"). O(m log m)."""
    p = np.asarray(p, dtype=np.float64)
    m = len(p)
    if m == 0:
        return p.copy()
    o = np.argsort(p, kind="stable")
    q = p[o] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(q[::-1])[::-1]
    out = np.empty(m)
    out[o] = np.clip(q, 0.0, 1.0)
    return out


# ---------------------------------------------------------------------------------------------------- slices
@dataclass
class Slice:
    """One categorical column over the context's rows.

    codes: (n,) int32 in [0, len(categories)); categories: names (the last may be "(n/a)"); tested: (C,) bool,
    which categories get a test (binary slices: the flagged one; never "(n/a)"); form: "categorical", "binary",
    "risk" or "cross"; role: "harm", "identity", "language", "refusal", "dataset", "quality" or "" (what the
    cross-slices are built from); key: the column (score key, "dataset", "label") or "A x B" for a cross.
    """

    name: str
    key: str
    form: str
    categories: list[str]
    codes: np.ndarray
    tested: np.ndarray
    role: str = ""
    note: str = ""

    @property
    def n_categories(self) -> int:
        return len(self.categories)


def _role(name: str, key: str) -> str:
    low = f"{name} {key}".lower()
    if "identity" in low:
        return "identity"
    if "harm" in low or "toxic" in low or "unsafe" in low:
        return "harm"
    if "lang" in low:
        return "language"
    if "refusal" in low:
        return "refusal"
    return ""


def _categorical(values: Sequence[Any] | np.ndarray, max_categories: int, *, names: Mapping[Any, str] | None = None
                 ) -> tuple[np.ndarray, list[str]]:
    """(codes int32, category names) with the most common first; missing → "(n/a)" (last); the rarest beyond
    ``max_categories`` merged into "(other)". Float codes (a group column) are named by ``names`` (code → name).
    Vectorised: O(n log n)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "fiu":
        v = arr.astype(np.float64)
        ok = ~np.isnan(v)
        uniq, inv = np.unique(v[ok], return_inverse=True)
        raw = np.full(len(v), -1, dtype=np.int64)
        raw[ok] = inv

        def nm(u: float) -> str:
            key = int(u) if float(u).is_integer() else u
            return names.get(key, str(key)) if names is not None else str(key)
        labels = [nm(u) for u in uniq]
    else:
        ser = pd.Series(arr, dtype=object)
        raw, uniq = pd.factorize(ser, use_na_sentinel=True)
        raw = raw.astype(np.int64)
        labels = [str(u) for u in uniq]
    # merge codes that share a name, order by count (most common first)
    uniq_names, to_name = np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True) \
        if labels else (np.zeros(0, dtype=str), np.zeros(0, dtype=np.int64))
    by_name = np.where(raw >= 0, to_name[np.maximum(raw, 0)] if len(labels) else -1, -1)
    cnt = np.bincount(by_name[by_name >= 0], minlength=len(uniq_names))
    order = np.argsort(-cnt, kind="stable")
    cats = [str(uniq_names[i]) for i in order]
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = np.where(by_name >= 0, rank[np.maximum(by_name, 0)] if len(order) else 0, -1)
    if len(cats) > max_categories:
        codes = np.where(codes >= max_categories - 1, max_categories - 1, codes)
        cats = cats[: max_categories - 1] + ["(other)"]
    has_na = bool((codes < 0).any())
    codes = np.where(codes < 0, len(cats), codes).astype(np.int32)
    return codes, cats + ([NA] if has_na else [])


def _binary(flagged: np.ndarray, valid: np.ndarray, yes: str = "yes", no: str = "no") -> tuple[np.ndarray, list[str]]:
    codes = np.where(valid, np.where(flagged, 0, 1), 2).astype(np.int32)
    cats = [yes, no] + ([NA] if (~valid).any() else [])
    return codes, cats


def make_slice(name: str, values: Sequence[Any] | np.ndarray, *, form: str = "categorical", key: str | None = None,
               threshold: float | None = None, names: Mapping[Any, str] | None = None, role: str | None = None,
               max_categories: int = 40, note: str = "") -> Slice:
    """A :class:`Slice` from raw values (n,): categorical (any values; None/NaN = n/a), binary (0/1 floats, NaN =
    n/a) or risk (probabilities; ``>= threshold`` = flagged)."""
    key = key or name
    role = _role(name, key) if role is None else role
    if form == "categorical":
        codes, cats = _categorical(values, max_categories, names=names)
        tested = np.array([c != NA for c in cats], dtype=bool)
    elif form in ("binary", "risk"):
        v = np.asarray(values, dtype=np.float64)
        valid = ~np.isnan(v)
        if form == "risk":
            if threshold is None:
                raise CurationError(f"slice {name!r}: a risk score needs its threshold (params['threshold'])")
            flagged = v >= float(threshold)
            codes, cats = _binary(flagged, valid, f"flagged (>= {float(threshold):g})", "not flagged")
        else:
            codes, cats = _binary(v > 0.5, valid)
        tested = np.array([True] + [False] * (len(cats) - 1))
    else:
        raise CurationError(f"slice {name!r}: form {form!r} is not categorical, binary or risk")
    return Slice(name=name, key=key, form=form, categories=cats, codes=codes, tested=tested, role=role, note=note)


def cross(a: Slice, b: Slice, *, max_categories: int = 60) -> Slice:
    """The cross-slice A x B: categories "a · b"; a cell is tested when both parts are tested categories."""
    nb = b.n_categories
    codes = a.codes.astype(np.int64) * nb + b.codes
    used = np.unique(codes)
    names = [f"{a.categories[c // nb]} · {b.categories[c % nb]}" for c in used]
    tested = np.array([bool(a.tested[c // nb] and b.tested[c % nb]) for c in used])
    remap = np.full(a.n_categories * nb, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    codes = remap[codes].astype(np.int32)
    if len(used) > max_categories:  # keep the tested cells, most common first, merge the rest
        cnt = np.bincount(codes, minlength=len(used))
        rank = np.argsort(-(cnt + tested * cnt.sum()), kind="stable")
        keep = rank[: max_categories - 1]
        new = np.full(len(used), max_categories - 1)
        new[keep] = np.arange(len(keep))
        codes = new[codes].astype(np.int32)
        names = [names[i] for i in keep] + ["(other)"]
        tested = np.r_[tested[keep], False]
    return Slice(name=f"{a.name} x {b.name}", key=f"{a.key} x {b.key}", form="cross", categories=names, codes=codes,
                 tested=tested, role="cross")


def quality_bins(values: np.ndarray, n_bins: int = 3) -> np.ndarray:
    """Quantile bin labels ("low", "mid", "high" for 3 bins; "q1".."qn" otherwise) of a score; None where NaN."""
    v = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(v)
    out = np.full(len(v), None, dtype=object)
    if ok.sum() < n_bins:
        return out
    edges = np.quantile(v[ok], np.linspace(0, 1, n_bins + 1)[1:-1])
    b = np.searchsorted(edges, v[ok], side="right")
    names = ["low", "mid", "high"] if n_bins == 3 else [f"q{i + 1}" for i in range(n_bins)]
    out[ok] = np.asarray(names, dtype=object)[b]
    return out


def default_crosses(slices: Sequence[Slice], *, quality: Slice | None = None) -> list[Slice]:
    """The cross-slices that matter for alignment data, from whatever slices exist: harm x identity group (each
    identity flag), refusal x dataset, language x quality tercile."""
    by = {r: [s for s in slices if s.role == r] for r in ("harm", "identity", "refusal", "dataset", "language")}
    out = []
    for h in by["harm"]:
        for g in by["identity"]:
            out.append(cross(h, g))
    for r in by["refusal"]:
        for d in by["dataset"]:
            if d.n_categories > 1:
                out.append(cross(r, d))
    if quality is not None:
        for lang in by["language"]:
            out.append(cross(lang, quality))
    return out


# ---------------------------------------------------------------------------------------------------- context
class AuditContext:
    """Slice codes aligned with a fixed set of rows (a workspace's rows); :meth:`audit` per subset.

    row_ids: (n,) int64 unique; slices: each with (n,) codes. Use :meth:`build` for a workspace or
    :meth:`from_columns` for plain arrays.
    """

    def __init__(self, row_ids: np.ndarray, slices: list[Slice], *, params: AuditParams | None = None,
                 scores: dict[str, np.ndarray] | None = None, score_directions: dict[str, bool | None] | None = None,
                 quality_key: str | None = None) -> None:
        self.row_ids = np.asarray(row_ids, dtype=np.int64)
        self.params = params or AuditParams()
        self.slices = [s for s in slices if s.n_categories > 0]
        for s in self.slices:
            if len(s.codes) != len(self.row_ids):
                raise CurationError(f"slice {s.name!r} has {len(s.codes)} codes for {len(self.row_ids)} rows")
        self.scores = dict(scores or {})
        self.score_directions = dict(score_directions or {})
        self.quality_key = quality_key
        hi = int(self.row_ids.max(initial=-1)) + 1
        self._pos = np.full(hi, -1, dtype=np.int64)
        self._pos[self.row_ids] = np.arange(len(self.row_ids))
        self._offsets = np.cumsum([0] + [s.n_categories for s in self.slices])
        self._all_pool: np.ndarray | None = None
        self._pool_cache: tuple[Any, np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_columns(cls, row_ids: Sequence[int] | np.ndarray, columns: Mapping[str, Any], *,
                     forms: Mapping[str, str] | None = None, thresholds: Mapping[str, float] | None = None,
                     roles: Mapping[str, str] | None = None, quality: np.ndarray | None = None,
                     crosses: bool = True, params: AuditParams | None = None, **kw: Any) -> AuditContext:
        """A context from arrays: columns name → (n,) values; forms name → "categorical" (default), "binary" or
        "risk" (with thresholds[name]); roles name → the role (default from the name). quality: (n,) a score for
        the language x quality cross-slice."""
        params = params or AuditParams()
        forms, thresholds, roles = dict(forms or {}), dict(thresholds or {}), dict(roles or {})
        slices = [make_slice(n, v, form=forms.get(n, "categorical"), threshold=thresholds.get(n),
                             role=roles.get(n), max_categories=params.max_categories) for n, v in columns.items()]
        q = None
        if quality is not None:
            q = make_slice("quality", quality_bins(quality, params.quality_bins), role="quality")
        if crosses:
            slices += default_crosses(slices, quality=q)
        return cls(row_ids, slices, params=params, **kw)

    @classmethod
    def build(cls, ws: Any, *, params: AuditParams | None = None, quality_key: str | None = None,
              score_keys: Sequence[str] = (), crosses: bool = True) -> AuditContext:
        """Every slice column stored in workspace ``ws`` (see the module docstring), over all its rows.

        quality_key: the score binned for the language x quality cross-slice (default: ``pref_head_default``
        when stored). score_keys: quality scores kept for :func:`score_fairness`. Cost: one read per column."""
        with ws.connect():  # one connection for every read
            return cls._build(ws, params or AuditParams(), quality_key, score_keys, crosses)

    @classmethod
    def _build(cls, ws: Any, params: AuditParams, quality_key: str | None, score_keys: Sequence[str],
               crosses: bool) -> AuditContext:
        ex = ws.examples(["row_id", "dataset", "label"])
        ids = ex["row_id"].to_numpy(np.int64)
        slices = [make_slice("dataset", ex["dataset"].to_numpy(object), role="dataset",
                             max_categories=params.max_categories)]
        if ex["label"].notna().any():
            slices.append(make_slice("label", ex["label"].to_numpy(object), max_categories=params.max_categories))
        defs = ws.score_defs()
        for d in slice_defs(defs):
            rid, val = ws.score_column(d["key"])
            v = pd.Series(val, index=rid).reindex(ids).to_numpy(np.float64)
            names = None
            if d["form"] == "categorical":
                lab = ws.artifact(f"labels:{d['key']}")
                if isinstance(lab, dict) and isinstance(lab.get("clusters"), list):
                    names = {int(c["cluster"]): str(c.get("label") or c["cluster"]) for c in lab["clusters"]}
            s = make_slice(d["name"], v, form=d["form"], key=d["key"], threshold=d.get("threshold"), names=names,
                           max_categories=params.max_categories)
            if d["form"] == "categorical" and s.n_categories > params.max_categories + 1 and names is None:
                continue  # ids, not categories
            slices.append(s)
        all_keys = set(defs["key"]) if len(defs) else set()
        if quality_key is None and len(defs):
            hit = defs[defs["name"] == "pref_head_default"]
            quality_key = str(hit["key"].iloc[0]) if len(hit) else None
        scores, dirs = {}, {}
        for k in dict.fromkeys([*(score_keys or ()), *([quality_key] if quality_key else [])]):
            if k not in all_keys:
                raise CurationError(f"audit: score {k!r} is not stored in {ws.path}; scores are "
                                    f"{sorted(all_keys)[:20]}")
            rid, val = ws.score_column(k)
            scores[k] = pd.Series(val, index=rid).reindex(ids).to_numpy(np.float64)
            hib = defs.loc[defs["key"] == k, "higher_is_better"].iloc[0]
            dirs[k] = None if hib is None or (isinstance(hib, float) and np.isnan(hib)) else bool(hib)
        q = None
        if quality_key:
            q = make_slice(f"quality ({key_name(quality_key)})", quality_bins(scores[quality_key],
                                                                              params.quality_bins), role="quality")
        if crosses:
            slices += default_crosses(slices, quality=q)
        return cls(ids, slices, params=params, scores=scores, score_directions=dirs, quality_key=quality_key)

    # ------------------------------------------------------------------ helpers
    def positions(self, row_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Positions (into this context's rows) of ``row_ids``; an id the context does not hold is an error."""
        ids = np.asarray(row_ids, dtype=np.int64)
        if not len(ids):
            return np.zeros(0, dtype=np.int64)
        if ids.min() < 0 or ids.max() >= len(self._pos) or (self._pos[ids] < 0).any():
            bad = ids[(ids < 0) | (ids >= len(self._pos))] if ids.max() >= len(self._pos) or ids.min() < 0 \
                else ids[self._pos[ids] < 0]
            raise CurationError(f"audit: row ids {bad[:3].tolist()} are not rows of this workspace; rebuild the "
                                "audit context after an ingest")
        return self._pos[ids]

    def counts(self, row_ids: Sequence[int] | np.ndarray | None = None, *, positions: np.ndarray | None = None
               ) -> np.ndarray:
        """(total categories,) int64: every slice's category counts over ``row_ids`` (None = all rows),
        concatenated in slice order. O(k) per slice."""
        if positions is None:
            positions = None if row_ids is None else self.positions(row_ids)
        parts = []
        for s in self.slices:
            c = s.codes if positions is None else s.codes[positions]
            parts.append(np.bincount(c, minlength=s.n_categories))
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    def _pool_counts(self, pool: np.ndarray | None) -> tuple[np.ndarray, int]:
        if pool is None:
            if self._all_pool is None:
                self._all_pool = self.counts()
            return self._all_pool, len(self.row_ids)
        hit = self._pool_cache
        if hit is not None and (hit[0] is pool or (len(hit[1]) == len(pool) and np.array_equal(hit[1], pool))):
            return hit[2], len(pool)
        c = self.counts(pool)
        self._pool_cache = (pool, np.asarray(pool).copy(), c)
        return c, len(pool)

    # ------------------------------------------------------------------ the audit
    def audit(self, subset: Sequence[int] | np.ndarray, *, pool: Sequence[int] | np.ndarray | None = None,
              reference: Sequence[int] | np.ndarray | None = None, params: AuditParams | None = None,
              labels: tuple[str, str] | None = None) -> Audit:
        """Audit ``subset`` (row ids) against ``pool`` (row ids; None = every row of the context), or against
        another subset ``reference`` (then the two are compared as samples). params: thresholds for this call
        (default: the context's). Returns an :class:`Audit`. Cost: O(k) per slice plus O(C log C) statistics."""
        params = params or self.params
        sub = np.asarray(subset, dtype=np.int64)
        sub_counts = self.counts(positions=self.positions(sub))
        k = len(sub)
        if reference is None:
            pool_arr = None if pool is None else np.asarray(pool, dtype=np.int64)
            ref_counts, n_ref = self._pool_counts(pool_arr)
            mode = "pool"
            # subset vs the rest of the pool (include pins outside the pool count in the pool here)
            x2, n2 = np.maximum(ref_counts - sub_counts, 0), max(n_ref - k, 0)
            x1, n1 = sub_counts, k
            names = labels or ("pool", "subset")
        else:
            ref = np.asarray(reference, dtype=np.int64)
            ref_counts, n_ref = self.counts(positions=self.positions(ref)), len(ref)
            mode = "subsets"
            x1, n1, x2, n2 = sub_counts, k, ref_counts, n_ref
            names = labels or ("A", "B")
        z, p = two_proportion_p(x1, np.full(len(x1), n1), x2, np.full(len(x2), n2))
        with np.errstate(invalid="ignore", divide="ignore"):
            ref_share = ref_counts / max(n_ref, 1)
            sub_share = sub_counts / max(k, 1)
            ratio = np.where(ref_share > 0, sub_share / np.where(ref_share > 0, ref_share, 1), np.nan)
        diff = sub_share - ref_share
        tested = np.concatenate([s.tested for s in self.slices]) if self.slices else np.zeros(0, bool)
        tested &= (ref_counts + sub_counts) > 0
        q = np.full(len(p), np.nan)
        q[tested] = bh_qvalues(p[tested])
        material = (np.abs(diff) >= params.min_diff - 1e-12) | (
            ((ratio < params.ratio_low) | (ratio > params.ratio_high) | ((ref_share == 0) & (sub_share > 0)))
            & (np.abs(diff) >= params.ratio_min_diff - 1e-12))
        alert = tested & (q < params.alpha) & material
        sl_name = np.repeat([s.name for s in self.slices], [s.n_categories for s in self.slices])
        sl_form = np.repeat([s.form for s in self.slices], [s.n_categories for s in self.slices])
        cats = [c for s in self.slices for c in s.categories]
        table = pd.DataFrame({
            "slice": sl_name, "category": cats, "form": sl_form, "ref_count": ref_counts,
            "ref_share": ref_share, "subset_count": sub_counts, "subset_share": sub_share,
            "diff": diff, "ratio": ratio, "z": z, "p": np.where(tested, p, np.nan), "q": q, "tested": tested,
            "material": material & tested, "alert": alert})
        # one chi-square per slice (the whole mix), BH across slices
        rows = []
        for i, s in enumerate(self.slices):
            a, b = self._offsets[i], self._offsets[i + 1]
            if mode == "pool":
                stat, dof, pv = chi2_mix_p(x1[a:b], x2[a:b])
            else:
                stat, dof, pv = chi2_mix_p(sub_counts[a:b], ref_counts[a:b])
            rows.append({"slice": s.name, "key": s.key, "form": s.form, "n_categories": s.n_categories,
                         "chi2": stat, "dof": dof, "p": pv, "max_abs_diff": float(np.abs(diff[a:b]).max(initial=0)),
                         "n_alerts": int(alert[a:b].sum()), "note": s.note})
        slices = pd.DataFrame(rows, columns=["slice", "key", "form", "n_categories", "chi2", "dof", "p",
                                             "max_abs_diff", "n_alerts", "note"])
        slices["q"] = bh_qvalues(slices["p"].to_numpy(np.float64)) if len(slices) else []
        slices = slices.sort_values(["n_alerts", "max_abs_diff"], ascending=[False, False]).reset_index(drop=True)
        table["severity"] = np.where(table["tested"], np.abs(table["z"]), 0.0)
        table = table.sort_values(["alert", "severity"], ascending=[False, False], kind="stable").reset_index(
            drop=True)
        out = Audit(mode=mode, ref_name=names[0], subset_name=names[1], n_ref=int(n_ref), n_subset=int(k),
                    table=table, slices=slices, params=params)
        out.alerts = [alert_text(r, out) for r in table[table["alert"]].itertuples()]
        return out


def display_name(key: str, taken: set[str] | None = None) -> str:
    """A slice's name for people: the key without its embedding-model parameter (``cluster(model=...)`` →
    ``cluster``, ``identity(group=gender)`` unchanged); the full key when that name is ``taken``."""
    import re

    short = re.sub(r"model=[^,)]*,?", "", key).replace(",)", ")").replace("()", "")
    return key if taken is not None and short in taken else short


def slice_defs(defs: pd.DataFrame) -> list[dict[str, Any]]:
    """The stored columns the audit reads as slices (one dict per column: key, name, form, threshold), from
    :meth:`Workspace.score_defs`; see the module docstring for the rules."""
    if defs is None or not len(defs):
        return []
    out: list[dict[str, Any]] = []
    taken = {"dataset", "label"}
    for r in defs.itertuples():
        kind = getattr(r, "kind", None) or "score"
        name = str(r.name) if isinstance(r.name, str) else key_name(r.key)
        try:
            params = json.loads(r.params) if isinstance(r.params, str) else dict(r.params or {})
        except (TypeError, ValueError):
            params = {}
        if kind == "group":
            if name in SKIP_GROUPS:
                continue
            out.append({"key": r.key, "form": "categorical"})
        elif kind == "flag":
            out.append({"key": r.key, "form": "binary"})
        elif isinstance(params, dict) and params.get("threshold") is not None:
            out.append({"key": r.key, "form": "risk", "threshold": float(params["threshold"])})
        elif name in BINARY_SCORES:
            out.append({"key": r.key, "form": "binary"})
        else:
            continue
        out[-1]["name"] = display_name(r.key, taken)
        taken.add(out[-1]["name"])
    return out


# ---------------------------------------------------------------------------------------------------- result
def _pct(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.1f}%"


def alert_text(r: Any, audit: Audit) -> str:
    """One alert sentence for a table row (namedtuple with the table's columns)."""
    verb = "over-represented" if r.diff > 0 else "under-represented"
    ratio = "" if not np.isfinite(r.ratio) else f", ratio {r.ratio:.2f}"
    return (f"{r.slice} = {r.category} is {verb}: {_pct(r.subset_share)} of the {audit.subset_name} against "
            f"{_pct(r.ref_share)} of the {audit.ref_name} ({100 * r.diff:+.1f} points{ratio}; q = {r.q:.2g})")


@dataclass
class Audit:
    """The audit of one subset. table: one row per (slice, category): ref_count, ref_share, subset_count,
    subset_share, diff (subset - reference share, in [-1, 1]), ratio, z, p, q (BH), tested, material, alert,
    severity (|z|); alerts first, then by severity. slices: one row per slice (chi-square of the whole mix, its
    BH q, the largest |diff|, number of alerts). alerts: sentences, most severe first. fairness / attribution:
    filled by :func:`score_fairness` and :func:`attribute` when asked."""

    mode: str
    ref_name: str
    subset_name: str
    n_ref: int
    n_subset: int
    table: pd.DataFrame
    slices: pd.DataFrame
    params: AuditParams
    alerts: list[str] = field(default_factory=list)
    fairness: list[dict] = field(default_factory=list)
    attribution: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self, *, max_rows: int | None = None) -> dict[str, Any]:
        """JSON-safe dict (NaN as null)."""
        from curation.diagnostics.report import _jsonable

        t = self.table if max_rows is None else self.table.head(max_rows)
        return _jsonable({"mode": self.mode, "reference": self.ref_name, "subset": self.subset_name,
                          "n_reference": self.n_ref, "n_subset": self.n_subset, "params": asdict(self.params),
                          "alerts": self.alerts, "warnings": self.warnings, "slices": self.slices, "table": t,
                          "fairness": self.fairness, "attribution": self.attribution})

    def text(self, *, show: int = 15) -> str:
        """The audit for a terminal: alerts with their cause, the most severe rows, fairness warnings."""
        p = self.params
        lines = [f"audit: {self.subset_name} ({self.n_subset:,} rows) against {self.ref_name} ({self.n_ref:,} rows); "
                 f"{len(self.slices)} slices, {int(self.table['tested'].sum())} tests, BH q < {p.alpha:g}, material "
                 f">= {100 * p.min_diff:g} points or ratio outside [{p.ratio_low:g}, {p.ratio_high:g}]"]
        if self.alerts:
            lines.append(f"alerts ({len(self.alerts)}):")
            causes = {(a["slice"], a["category"]): a for a in self.attribution}
            for r in self.table[self.table["alert"]].itertuples():
                lines.append(f"  ! {alert_text(r, self)}")
                a = causes.get((r.slice, r.category))
                if a:
                    lines.append(f"    cause: {a['cause']}")
        else:
            lines.append("no alert: no slice's share moved both significantly and materially")
        for w in self.warnings:
            lines.append(f"  warning: {w}")
        lines.append(f"{'slice':<28} {'category':<26} {self.ref_name:>8} {self.subset_name:>8} {'diff':>7} "
                     f"{'ratio':>6} {'q':>8}")
        for r in self.table[self.table["tested"]].head(show).itertuples():
            lines.append(f"{str(r.slice)[:28]:<28} {str(r.category)[:26]:<26} {_pct(r.ref_share):>8} "
                         f"{_pct(r.subset_share):>8} {100 * r.diff:>+6.1f}p {r.ratio:>6.2f} {r.q:>8.2g}")
        for f in self.fairness:
            lines.append(f"score fairness, {f['score']}: {f['summary']}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------- fairness
def score_fairness(ctx: AuditContext, audit: Audit, key: str, *, pool: Sequence[int] | np.ndarray | None = None,
                   subset: Sequence[int] | np.ndarray | None = None, used_by_ranking: bool = True) -> dict[str, Any]:
    """How a quality score treats each slice: per (slice, category) the score's mean and median, the category's
    share of the pool and of the pool's worst ``params.bottom`` by the score ("the lowest 10% by X is 91%
    harmless-base"), and a warning when the bottom over-represents a category materially, or when the subset
    (a selection by this score) leaves a category out disproportionately (an alert of ``audit`` that is an
    under-representation). Adds to ``audit.fairness`` / ``audit.warnings`` and returns the entry.
    Cost: O(n log n) for the bottom cut plus O(n) per slice."""
    if key not in ctx.scores:
        raise CurationError(f"score fairness: score {key!r} was not loaded into the audit context; build it with "
                            f"score_keys=[{key!r}]")
    params = audit.params
    v = ctx.scores[key]
    hib = ctx.score_directions.get(key)
    pos = np.arange(len(ctx.row_ids)) if pool is None else ctx.positions(pool)
    vals = v[pos]
    ok = ~np.isnan(vals)
    pos, vals = pos[ok], vals[ok]
    worst_first = np.argsort(vals if hib is not False else -vals, kind="stable")
    nb = max(1, int(round(params.bottom * len(vals))))
    bottom = pos[worst_first[:nb]]
    rows = []
    best: tuple[float, str] | None = None
    for s in ctx.slices:
        if s.form == "cross":
            continue
        c_pool = np.bincount(s.codes[pos], minlength=s.n_categories)
        c_bot = np.bincount(s.codes[bottom], minlength=s.n_categories)
        sums = np.bincount(s.codes[pos], weights=vals, minlength=s.n_categories)
        for c, name in enumerate(s.categories):
            if c_pool[c] == 0:
                continue
            sel = vals[s.codes[pos] == c]
            ps, bs = c_pool[c] / len(pos), c_bot[c] / nb
            rows.append({"slice": s.name, "category": name, "n": int(c_pool[c]), "mean": float(sums[c] / c_pool[c]),
                         "median": float(np.median(sel)), "pool_share": float(ps), "bottom_share": float(bs),
                         "bottom_ratio": float(bs / ps) if ps > 0 else float("nan"), "tested": bool(s.tested[c])})
            if s.tested[c] and (best is None or bs - ps > best[0]):
                best = (bs - ps, f"the lowest {params.bottom:.0%} by {key_name(key)} is {bs:.0%} {name} "
                                 f"({s.name}; {ps:.0%} of the pool)")
    table = pd.DataFrame(rows)
    summary = best[1] if best else "no slice to break the score down by"
    warns = []
    if len(table):
        hot = table[table["tested"] & (table["bottom_share"] - table["pool_share"] >= params.min_diff)
                    & (table["bottom_ratio"] >= 1.5)]
        hot = hot.assign(excess=hot["bottom_share"] - hot["pool_share"])
        for r in hot.sort_values("excess", ascending=False).head(3).itertuples():
            warns.append(f"the lowest {params.bottom:.0%} by {key_name(key)} is {r.bottom_share:.0%} {r.category} "
                         f"({r.slice}) against {r.pool_share:.0%} of the pool: a cut by this score removes it "
                         f"{r.bottom_ratio:.1f}x faster")
    if used_by_ranking and audit.mode == "pool":
        lost = audit.table[audit.table["alert"] & (audit.table["diff"] < 0)]
        for r in lost.head(3).itertuples():
            warns.append(f"the selection by {key_name(key)} removes {r.slice} = {r.category} disproportionately: "
                         f"{_pct(r.subset_share)} of the subset against {_pct(r.ref_share)} of the pool")
    entry = {"score": key, "higher_is_better": hib, "used_by_ranking": used_by_ranking, "bottom": params.bottom,
             "summary": summary, "warnings": warns, "table": table}
    audit.fairness.append(entry)
    audit.warnings.extend(warns)
    return entry


def ranking_score_keys(ws: Any, ranking_key: str | None) -> list[str]:
    """The score keys a stored ranking used (top-k scores, a facility weight score), from its stored params."""
    from curation.select import get_selector
    from curation.select.run import stored_selection

    got = stored_selection(ws, ranking_key)
    if got is None:
        return []
    try:
        sel = get_selector(got[0], **got[1])
    except (TypeError, ValueError, CurationError):
        return []
    keys = list(sel.score_keys()) if hasattr(sel, "score_keys") else []
    if getattr(sel, "weight_score", None):
        keys.append(sel.weight_score)
    have = set(ws.score_defs()["key"])
    return [k for k in dict.fromkeys(keys) if k in have]


# ---------------------------------------------------------------------------------------------------- attribution
ATTRIBUTION_STEPS = ("budget", "pins", "quota")
"""Against the pool, the spec is built up from the whole pool (no budget, no pins, no quota) in this order: the
budget step is the ranking's cut at the budget, then the pins at that budget, then the quota."""


def attribute(ws: Any, ctx: AuditContext, audit: Audit, spec: Any, *, reference: Any | None = None,
              max_alerts: int = 20) -> list[dict[str, Any]]:
    """Which step of the subset's spec caused each alert of ``audit``.

    Against the pool: the spec is walked from the whole pool through :data:`ATTRIBUTION_STEPS`; against a reference
    spec: from the reference to ``spec`` one part at a time, as the saved-subset diff does
    (:func:`curation.subsets.saved.diff`). At each step the category's share is measured; the step that moved it
    most in the direction of the alert is the cause. For a pins step the pins inside the category are counted
    (include / exclude, and who made them). Adds to ``audit.attribution`` and returns it. Cost: one resolution
    per step that differs."""
    from curation.subsets import saved
    from curation.subsets.spec import resolve

    spec = saved.freeze(ws, spec)
    if reference is None:
        base = spec.replace(budget=None, quota=None, pins_as_of=0)
        steps = [s for s in ATTRIBUTION_STEPS if saved._spec_value(base, s) != saved._spec_value(spec, s)]
    else:
        base = saved.freeze(ws, reference)
        steps = [s for s in saved._STEPS if saved._spec_value(base, s) != saved._spec_value(spec, s)]
    alerts = audit.table[audit.table["alert"]].head(max_alerts)
    if not len(alerts):
        audit.attribution = []
        return []
    chain = [base]
    for s in steps:
        chain.append(saved._apply_step(chain[-1], spec, s))
    subs = [resolve(ws, sp) for sp in chain]
    by_name = {s.name: s for s in ctx.slices}
    out = []
    for r in alerts.itertuples():
        s = by_name[r.slice]
        c = s.categories.index(r.category)
        shares = []
        for sub in subs:
            ids = sub.row_ids
            pos = ctx.positions(ids)
            shares.append(float((s.codes[pos] == c).sum() / max(len(ids), 1)))
        moves = []
        for j, st in enumerate(steps):
            moves.append({"step": st, "text": saved.step_text({"part": st, "a": saved._spec_value(chain[j], st),
                                                                "b": saved._spec_value(chain[j + 1], st)}),
                          "share_before": shares[j], "share_after": shares[j + 1],
                          "change": shares[j + 1] - shares[j]})
        sign = np.sign(r.diff) or 1.0
        cause = max(moves, key=lambda m: sign * m["change"]) if moves else None
        if cause is None or sign * cause["change"] <= 0:
            text = "no single step: the shift comes from the reference itself"
            step = None
        else:
            step = cause["step"]
            text = _cause_text(ws, ctx, s, c, cause, spec, subs[-1], reference is None)
        out.append({"slice": r.slice, "category": r.category, "diff": float(r.diff), "cause_step": step,
                    "cause": text, "steps": moves})
    audit.attribution = out
    return out


def _cause_text(ws: Any, ctx: AuditContext, s: Slice, c: int, m: dict, spec: Any, final: Any, vs_pool: bool) -> str:
    text = m["text"]
    text = text[len(m["step"]) + 1:] if text.startswith(m["step"] + " ") else text
    head = f"the {m['step']} step ({text}) moved {s.name} = {s.categories[c]} from {_pct(m['share_before'])} to " \
           f"{_pct(m['share_after'])}"
    if m["step"] == "budget" and vs_pool:
        what = "ingest order"
        if spec.ranking:
            r = ws.rankings()
            short = r.loc[r["key"] == spec.ranking, "short_id"]
            what = f"ranking {short.iloc[0] if len(short) and isinstance(short.iloc[0], str) else spec.ranking}"
        return f"{head}: the first rows of {what} at this budget (ranking x budget)"
    if m["step"] == "pins":
        p = ws.pins(as_of=spec.pins_as_of)
        if len(p):
            known = p[p["row_id"].isin(ctx.row_ids)]
            pos = ctx.positions(known["row_id"].to_numpy(np.int64))
            inside = known[s.codes[pos] == c]
            inc = inside[inside["pin"] == "include"]
            exc = inside[inside["pin"] == "exclude"]
            who = sorted({str(w) for w in inside["who"].dropna()})
            return (f"{head}: {len(inc):,} include pin(s) and {len(exc):,} exclude pin(s) in this category"
                    + (f" (by {', '.join(who[:3])})" if who else ""))
    return head


# ---------------------------------------------------------------------------------------------------- one call
def audit_spec(ws: Any, spec: Any, *, reference: Any | None = None, params: AuditParams | None = None,
               score_keys: Sequence[str] = (), ctx: AuditContext | None = None, attribution: bool = True,
               labels: tuple[str, str] | None = None) -> Audit:
    """The full audit of a subset spec (a :class:`~curation.subsets.spec.SubsetSpec` or a saved version): against
    the pool its ranking draws from (plus any include pins), or against ``reference`` (another spec or saved
    version); score fairness for every score the ranking uses plus ``score_keys``; attribution of every alert.

    ctx: a prepared :class:`AuditContext` (built here when None; must hold ``score_keys`` when given).
    Cost: the context build (one read per slice column) unless passed, a resolution per spec, one per attribution
    step, and O(n) per score for fairness."""
    from curation.subsets.saved import SavedSubset
    from curation.subsets.spec import resolve

    def as_spec(x: Any, default: str) -> tuple[Any, str]:
        return (x.spec, x.ref) if isinstance(x, SavedSubset) else (x, default)

    spec, name = as_spec(spec, "subset")
    used = ranking_score_keys(ws, ws.ranking_key(spec.ranking)) if spec.ranking else []
    keys = list(dict.fromkeys([*used, *score_keys]))
    if ctx is None:
        ctx = AuditContext.build(ws, params=params, score_keys=keys)
    params = params or ctx.params
    sub = resolve(ws, spec)
    if reference is None:
        pool = np.union1d(sub.pool, sub.include)
        out = ctx.audit(sub.row_ids, pool=pool, params=params, labels=labels or ("pool", name))
        ref_spec = None
    else:
        ref_spec, ref_name = as_spec(reference, "reference")
        ref = resolve(ws, ref_spec)
        out = ctx.audit(sub.row_ids, reference=ref.row_ids, params=params, labels=labels or (ref_name, name))
        pool = None
    for k in keys:
        if k in ctx.scores:
            score_fairness(ctx, out, k, pool=pool, used_by_ranking=k in used)
    if attribution and out.alerts:
        attribute(ws, ctx, out, sub.spec, reference=ref_spec)
    return out
