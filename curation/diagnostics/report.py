"""The report card: a subset against its pool, fast enough to recompute on every budget change.

:class:`ReportContext` holds everything that does not depend on the subset: embeddings, class codes, the pool's
per-class covariance statistics and spectra, the k-NN probe, the coverage index, sorted score columns and
preference features. :meth:`ReportContext.report` then costs, for a subset of k of n rows:

* class balance: O(k) (a bincount);
* spectral balance: the per-class statistics are updated from the previous report's by the rows that changed,
  or taken as pool minus complement, whichever touches fewer rows (O(min(|Δ|, k, n-k)·d²) flops), then one d×d
  eigensolve per changed class (~4 ms at d = 384);
* coverage: O(m·L) for m sampled pool rows (see :mod:`curation.diagnostics.coverage`);
* quality and preference: O(n) masked gathers.

At 100k rows × 384 dims and 8 classes a budget change costs ~85 ms of CPU time, dominated by the ten 384×384
eigensolves (benchmarks/RESULTS.md); an arbitrary new subset (nothing reusable) costs up to a few hundred ms.
"""
from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from curation.diagnostics import spectral as sp
from curation.diagnostics.classes import _pct, chi2_test, class_alerts, class_table, encode_labels, js_divergence
from curation.diagnostics.coverage import CoverageIndex, coverage_summary, random_baseline_distance
from curation.diagnostics.preference import PreferenceIndex, preference_alerts, preference_features
from curation.diagnostics.probe import knn_probe
from curation.diagnostics.quality import QualityIndex, quality_alerts
from curation.embedding.embed import DEFAULT_MODEL
from curation.store.columns import column_choices, column_values
from curation.core.errors import CurationError

ALL_LABEL = "(all)"
MAX_INCREMENTAL_UPDATES = 64  # refresh the subset statistics from scratch after this many incremental updates
SMALL_BUILD_VALUES = 20_000 * 384  # embeddings smaller than this are built with single-threaded BLAS


@dataclass(frozen=True)
class ReportParams:
    """Tunables of a report context (all have defaults; they are part of what a cached context depends on).

    seed: sampling seed (coverage and probe samples). coverage_sample / coverage_top_l: pool rows sampled for
    coverage and neighbours kept per sampled row. probe_k / probe_sample: k-NN probe. top_k: eigenvalues in
    ``top_k_share``. fit_k: eigenvalues in the decay-slope fit. shrinkage: "ledoit-wolf" or "none".
    max_spectral_classes: spectra for at most this many classes (largest first; an eigensolve per class per
    report). spectral_min_rows: fewer rows than this in pool or subset → NaN metrics. max_classes: rarer labels
    are merged into "(other)". Alert thresholds: retention_low / retention_high (× overall retention),
    js_alert (Jensen-Shannon divergence of the class mix), chi2_alpha (chi-square p-value below which the class mix
    differs beyond chance; both rules alert, so "no alert" never sits beside a significant test), rank_drop (relative
    effective-rank drop), cv_growth (absolute growth of the across-class CV),
    vendi_drop (subset/pool Vendi ratio), coverage_vs_random (mean distance / random baseline).
    """

    seed: int = 0
    coverage_sample: int = 1024
    coverage_top_l: int = 256
    probe_k: int = 10
    probe_sample: int = 3000
    top_k: int = 10
    fit_k: int = 50
    shrinkage: str = "ledoit-wolf"
    max_spectral_classes: int = 24
    spectral_min_rows: int = 10
    max_classes: int = 200
    retention_low: float = 0.5
    retention_high: float = 2.0
    js_alert: float = 0.05
    chi2_alpha: float = 0.001
    rank_drop: float = 0.25
    cv_growth: float = 0.05
    vendi_drop: float = 0.75
    coverage_vs_random: float = 1.2


@dataclass
class ReportCard:
    """A subset compared to its pool. Shares are in [0, 1]; see each field.

    classes: DataFrame(label, pool_count, pool_share, subset_count, subset_share, retention).
    js_divergence: Jensen–Shannon divergence of the class mix, base 2, in [0, 1] (0 = same mix).
    chi2, chi2_p: goodness of fit of subset counts to pool shares (small p = the mix differs beyond chance).
    spectral: DataFrame per class (plus an "(all)" row): pool_n, subset_n, and effective_rank,
      participation_ratio, top_k_share, decay_slope for the pool (``pool_*``), for a random subset of the class
      of the subset's size (``baseline_*``: spectral estimates depend on the row count) and for the subset
      (``subset_*``); effective_rank_change = subset / baseline - 1; probe_accuracy.
    spectral_spread: {"metric", "pool", "baseline", "subset"}: max/min ratio and coefficient of variation of the
      per-class effective rank across classes.
    probe: pool-level k-NN probe {"method", "k", "n_sample", "accuracy", "balanced_accuracy", "per_class",
      "spearman_effective_rank"} (computed once per context).
    coverage: mean_distance, p95_distance, max_distance (cosine, pool → nearest selected, lower is better),
      random_mean_distance (expected for a random subset of the same size), facility_location (mean max cosine
      similarity per pool row), facility_location_total, vendi_subset, vendi_random (a random subset of the same
      size), vendi_pool, n_sample, exact.
    quality: DataFrame per score key (pool vs subset n, mean, quantiles, mean_change, effect).
    preference: None without preference pairs, else {"summary", "types", "types_js_divergence"}.
    alerts: plain-language findings, most important first. notes: how figures were computed (samples, caps).
    """

    n_pool: int
    n_subset: int
    label_column: str
    model: str | None
    classes: pd.DataFrame
    js_divergence: float
    chi2: float
    chi2_p: float
    spectral: pd.DataFrame
    spectral_spread: dict
    probe: dict
    coverage: dict
    quality: pd.DataFrame
    preference: dict | None
    alerts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (DataFrames as lists of records, NaN/inf as None) for manifests and datasheets."""
        out = {
            "n_pool": self.n_pool, "n_subset": self.n_subset, "label_column": self.label_column, "model": self.model,
            "classes": self.classes, "js_divergence": self.js_divergence, "chi2": self.chi2, "chi2_p": self.chi2_p,
            "spectral": self.spectral, "spectral_spread": self.spectral_spread, "probe": self.probe,
            "coverage": self.coverage, "quality": self.quality, "preference": self.preference,
            "alerts": list(self.alerts), "notes": list(self.notes),
        }
        return _jsonable(out)

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), **kw)


def _jsonable(v: Any) -> Any:
    if isinstance(v, pd.DataFrame):
        return [_jsonable(r) for r in v.to_dict(orient="records")]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if np.isfinite(v) else None
    if v is None or isinstance(v, str):
        return v
    if v is pd.NA or v is pd.NaT:
        return None
    return str(v)


@dataclass
class _SubsetState:
    mask: np.ndarray
    stats: sp.ClassStats
    metrics: dict[int | str, Any]  # group → metrics; "all" → metrics of the whole subset; "vendi" → float
    n_updates: int = 0


class ReportContext:
    """Everything a report card needs that does not depend on the subset. Build once per (workspace state, model,
    label column); call :meth:`report` per subset. Thread-safe (reports are serialised by a lock).

    Use :meth:`build` for a workspace or :meth:`from_arrays` for plain arrays.
    """

    def __init__(self) -> None:  # use build() / from_arrays()
        self.params = ReportParams()
        self.model: str | None = None
        self.label_column = "label"
        self.label_notes: list[str] = []  # how the groups were chosen when they are not the label column
        self.unembedded_row_ids = np.zeros(0, dtype=np.int64)
        self.build_timings_ms: dict[str, float] = {}
        self._lock = threading.Lock()
        self._state: _SubsetState | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(cls, X: np.ndarray, labels: Sequence[object] | np.ndarray | pd.Series, *,
                    scores: pd.DataFrame | None = None, pref: pd.DataFrame | None = None,
                    row_ids: Sequence[int] | np.ndarray | None = None,
                    score_directions: dict[str, bool | None] | None = None, label_column: str = "label",
                    model: str | None = None, params: ReportParams | None = None, **param_overrides: Any
                    ) -> ReportContext:
        """A context from arrays, without a workspace.

        X: (n, d) embeddings; rows are L2-normalised here (a zero row is an error). labels: (n,) any values;
        missing → "(none)". scores: one numeric column per score key, either n rows in the order of X or with a
        ``row_id`` column (other rows NaN); ``example_id`` is ignored. pref: columns ``chosen``, ``rejected``
        (text; None on rows that are not pairs) and optional ``type``, in the order of X or with ``row_id``.
        row_ids: (n,) unique ints naming the rows (default 0..n-1); :meth:`report` takes these.
        score_directions: key → higher_is_better (True/False/None). params / param_overrides: see
        :class:`ReportParams`. Cost: O(n·d²) for the pool statistics, O(m·n·d) for the coverage index
        (m = coverage_sample), O(p²·d) for the probe (p = probe_sample): ~5 s at 100k × 384 on 2 cores.
        """
        arr = np.asarray(X)
        small = arr.ndim == 2 and arr.size < SMALL_BUILD_VALUES
        with sp.single_blas_thread() if small else contextlib.nullcontext():  # threads only pay on big GEMMs
            return cls._from_arrays(arr, labels, scores=scores, pref=pref, row_ids=row_ids,
                                    score_directions=score_directions, label_column=label_column, model=model,
                                    params=params, param_overrides=param_overrides)

    @classmethod
    def _from_arrays(cls, X: np.ndarray, labels: Sequence[object] | np.ndarray | pd.Series, *,
                     scores: pd.DataFrame | None, pref: pd.DataFrame | None,
                     row_ids: Sequence[int] | np.ndarray | None, score_directions: dict[str, bool | None] | None,
                     label_column: str, model: str | None, params: ReportParams | None,
                     param_overrides: dict[str, Any]) -> ReportContext:
        t0 = time.perf_counter()
        self = cls()
        P = params or ReportParams()
        if param_overrides:
            bad = [k for k in param_overrides if k not in ReportParams.__dataclass_fields__]
            if bad:
                raise CurationError(f"unknown report parameter(s) {bad}; known: "
                                    f"{list(ReportParams.__dataclass_fields__)}")
            P = ReportParams(**{**P.__dict__, **param_overrides})
        self.params = P
        self.model = model
        self.label_column = label_column
        X = np.asarray(X)
        if X.ndim != 2 or len(X) == 0:
            raise CurationError(f"embeddings must be a non-empty (n, d) array; got shape {X.shape}")
        X = np.ascontiguousarray(X, dtype=np.float32)
        if not np.all(np.isfinite(X)):
            raise CurationError("embeddings contain NaN or inf; re-embed the affected rows")
        norms = np.linalg.norm(X, axis=1)
        if np.any(norms == 0):
            raise CurationError(f"{int(np.sum(norms == 0))} embedding row(s) are all zeros; re-embed them")
        if not np.allclose(norms, 1.0, atol=1e-3):
            X = X / norms[:, None]
        n, d = X.shape
        self.X, self.n, self.d = X, n, d
        ids = np.arange(n, dtype=np.int64) if row_ids is None else np.asarray(row_ids, dtype=np.int64)
        if ids.shape != (n,):
            raise CurationError(f"row_ids has {len(ids)} entries for {n} embedding rows; pass one id per row")
        if len(np.unique(ids)) != n:
            raise CurationError("row_ids has duplicates; each row needs its own id")
        self.row_ids = ids
        self._sorter = np.argsort(ids, kind="stable")
        self._sorted_ids = ids[self._sorter]
        labels_arr = labels.to_numpy(object) if isinstance(labels, pd.Series) else np.asarray(labels, dtype=object)
        if labels_arr.shape != (n,):
            raise CurationError(f"labels has {len(labels_arr)} entries for {n} embedding rows; pass one per row")
        self.codes, self.names = encode_labels(labels_arr, max_classes=P.max_classes)
        C = len(self.names)
        self.pool_counts = np.bincount(self.codes, minlength=C)
        self.build_timings_ms["labels"] = _ms(t0)

        # spectral groups: the largest classes with enough rows get their own group; the rest share the last one
        t = time.perf_counter()
        spec = [c for c in range(C) if self.pool_counts[c] >= P.spectral_min_rows][: P.max_spectral_classes]
        self.spec_classes = spec
        self.group_of = np.full(C, len(spec), dtype=np.int64)
        self.group_of[spec] = np.arange(len(spec))
        self.row_group = self.group_of[self.codes]
        G = len(spec) + 1
        self.pool_stats = sp.ClassStats.zeros(G, d)
        self.pool_stats.add_rows(X, np.arange(n), self.row_group)
        self.build_timings_ms["pool_stats"] = _ms(t)
        t = time.perf_counter()
        with sp.single_blas_thread():
            tn, ts1, ts2 = self.pool_stats.total()
            jobs = [(int(self.pool_stats.n[g]), self.pool_stats.s1[g], self.pool_stats.s2[g]) for g in range(len(spec))]
            *per_class, self.pool_metrics_all, self.pool_vendi = self._spectra(jobs + [(tn, ts1, ts2)], vendi=ts2)
            self.pool_metrics = dict(enumerate(per_class))
            self.baselines = {g: self._baseline(np.flatnonzero(self.row_group == g), self.pool_metrics[g], seed=g)
                              for g in range(len(spec))}
            self.baseline_all = self._baseline(np.arange(n), {**self.pool_metrics_all, "vendi": self.pool_vendi},
                                               seed=len(spec), vendi=True)
        chi2_test(self.pool_counts, self.pool_counts)  # load scipy.special now, not in the first report
        self.build_timings_ms["pool_spectra"] = _ms(t)

        t = time.perf_counter()
        self.probe = knn_probe(X, self.codes, self.names, k=P.probe_k, sample=P.probe_sample, seed=P.seed)
        acc = self.probe["per_class"]["accuracy"].to_numpy()
        self.probe["spearman_effective_rank"] = _spearman(
            np.array([self.pool_metrics[g]["effective_rank"] for g in range(len(spec))]), acc[spec])
        self.build_timings_ms["probe"] = _ms(t)
        t = time.perf_counter()
        self.coverage_index = CoverageIndex(X, sample=P.coverage_sample, top_l=P.coverage_top_l, seed=P.seed)
        self.build_timings_ms["coverage_index"] = _ms(t)

        t = time.perf_counter()
        self.quality_index: QualityIndex | None = None
        if scores is not None:
            vals, keys = self._align_scores(scores)
            if keys:
                self.quality_index = QualityIndex(vals, keys, dict(score_directions or {}))
        self.preference_index: PreferenceIndex | None = None
        if pref is not None:
            feats = self._align_pref(pref)
            if feats["is_pair"].any():
                self.preference_index = PreferenceIndex(feats)
        self.build_timings_ms["quality_preference"] = _ms(t)
        self.build_timings_ms["total"] = _ms(t0)
        return self

    @classmethod
    def build(cls, ws: Any, *, model: str = DEFAULT_MODEL, label_column: str = "label",
              pref_type_column: str = "dataset", params: ReportParams | None = None,
              **param_overrides: Any) -> ReportContext:
        """A context for every embedded example of workspace ``ws`` under ``model``.

        label_column: a column of examples (default "label"), a score key (e.g. "cluster", stored by the graph
        module), or a key of the original record JSON (dotted for nested keys, e.g. "meta.source").
        pref_type_column: examples column or record key that tells preference tranches apart (default: dataset).
        Scores: every stored score key except the label one, with its direction. Examples without an embedding
        are not in the pool (a selection that includes them gets an alert). Cost: loading embeddings
        (~0.6 s / 100k rows) plus :meth:`from_arrays`.
        """
        from curation.embedding.embed import model_key

        key = model_key(model)
        with ws.connect():  # one connection for all the reads, released before the (slower) computing
            data = _read_workspace(ws, key, label_column, pref_type_column)
        ctx = cls.from_arrays(data["X"], data["labels"], scores=data["scores"], pref=data["pref"],
                              row_ids=data["row_ids"], score_directions=data["directions"],
                              label_column=data["label_key"] if data["label_note"] else label_column,
                              model=key, params=params, **param_overrides)
        ctx.unembedded_row_ids = data["unembedded"]
        if data["label_note"]:
            ctx.label_notes = [data["label_note"]]
        return ctx

    def _align(self, df: pd.DataFrame, what: str) -> pd.DataFrame:
        if "row_id" in df.columns:
            ids = df["row_id"].to_numpy(np.int64)
            if len(np.unique(ids)) != len(ids):
                raise CurationError(f"{what} has duplicate row_id values")
            return df.drop(columns=["row_id"]).set_index(ids).reindex(self.row_ids).reset_index(drop=True)
        if len(df) != self.n:
            raise CurationError(f"{what} has {len(df)} rows for {self.n} embedding rows; pass one row per embedding "
                                "row or a row_id column")
        return df.reset_index(drop=True)

    def _align_scores(self, scores: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        df = self._align(scores, "scores").drop(columns=["example_id"], errors="ignore")
        keys = [str(c) for c in df.columns]
        bad = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c]) and not df[c].isna().all()]
        if bad:
            raise CurationError(f"score column(s) {bad} are not numeric; scores must be floats (NaN = not applicable)")
        return df.to_numpy(dtype=np.float64, na_value=np.nan), keys

    def _align_pref(self, pref: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in ("chosen", "rejected") if c not in pref.columns]
        if missing:
            raise CurationError(f"pref is missing column(s) {missing}; it needs chosen, rejected and optionally type")
        df = self._align(pref, "pref")
        types = df["type"] if "type" in df.columns else None
        return preference_features(df["chosen"].to_numpy(object), df["rejected"].to_numpy(object),
                                   None if types is None else types.to_numpy(object))

    # ------------------------------------------------------------------ spectra
    def _metrics_of(self, n: int, s1: np.ndarray, s2: np.ndarray) -> dict[str, float]:
        P = self.params
        if n < P.spectral_min_rows:
            return dict(sp.NAN_METRICS)
        lam = sp.shrunk_eigenvalues(n, s1, s2, shrinkage=P.shrinkage)
        return sp.spectrum_metrics(lam, n_rows=n, top_k=P.top_k, fit_k=P.fit_k)

    def _baseline(self, positions: np.ndarray, full: dict[str, float], *, seed: int,
                  vendi: bool = False) -> sp.SizeBaseline:
        """Random-subset baseline of the rows ``positions`` (see :class:`~curation.diagnostics.spectral.SizeBaseline`):
        3 draws per size below 2·d rows, 1 above; O(Σ sizes · d²) flops plus one eigensolve per draw."""
        P = self.params
        rng = np.random.default_rng([P.seed, seed])
        sizes = sp.baseline_sizes(len(positions), min_rows=P.spectral_min_rows, d=self.d)
        jobs, owner = [], []
        for i, m in enumerate(sizes[:-1]):
            for _ in range(3 if m < 2 * self.d else 1):
                Xr = self.X[rng.choice(positions, m, replace=False)]
                jobs.append((m, Xr.sum(axis=0, dtype=np.float64), (Xr.T @ Xr).astype(np.float64)))
                owner.append(i)

        def task(j: tuple[int, np.ndarray, np.ndarray]) -> dict[str, float]:
            out = self._metrics_of(*j)
            if vendi:
                out["vendi"] = sp.vendi_from_second_moment(j[0], j[2])
            return out

        pool = _executor()
        res = [task(j) for j in jobs] if pool is None else list(pool.map(task, jobs))
        keys = list(full)
        values = {k: np.zeros(len(sizes)) for k in keys}
        for i in range(len(sizes) - 1):
            mine = [r for r, o in zip(res, owner) if o == i]
            for k in keys:
                values[k][i] = float(np.mean([r[k] for r in mine]))
        for k in keys:
            values[k][-1] = full[k]
        return sp.SizeBaseline(np.log(np.asarray(sizes, dtype=np.float64)), values)

    def _spectra(self, jobs: list[tuple[int, np.ndarray, np.ndarray]], *, vendi: np.ndarray) -> list:
        """Metrics of each (n, s1, s2) in ``jobs``, then the Vendi score of second moment ``vendi`` (over the last
        job's n). The eigensolves run in parallel threads (LAPACK releases the GIL; BLAS is single-threaded)."""
        n_last = jobs[-1][0] if jobs else 0
        tasks = [lambda j=j: self._metrics_of(*j) for j in jobs] + [lambda: sp.vendi_from_second_moment(n_last, vendi)]
        pool = _executor()
        if pool is None:
            return [t() for t in tasks]
        return [f.result() for f in [pool.submit(t) for t in tasks]]

    def _subset_stats(self, mask: np.ndarray, k: int) -> tuple[_SubsetState, set[int], str]:
        """Statistics of the selection, from the previous ones when that touches fewest rows."""
        n = self.n
        st = self._state
        direct = min(k, n - k)
        if st is not None and st.n_updates < MAX_INCREMENTAL_UPDATES:
            diff = mask ^ st.mask
            n_diff = int(diff.sum())
            if n_diff <= direct:
                added = np.flatnonzero(diff & mask)
                removed = np.flatnonzero(diff & st.mask)
                changed = st.stats.add_rows(self.X, added, self.row_group)
                changed |= st.stats.add_rows(self.X, removed, self.row_group, sign=-1)
                empty = st.stats.n == 0
                st.stats.s1[empty] = 0.0
                st.stats.s2[empty] = 0.0
                for g in changed | ({"all", "vendi"} if changed else set()):
                    st.metrics.pop(g, None)
                st.mask = mask
                st.n_updates += 1
                return st, changed, f"incremental ({n_diff} rows changed)"
        G = len(self.spec_classes) + 1
        if k <= n - k:
            stats = sp.ClassStats.zeros(G, self.d)
            stats.add_rows(self.X, np.flatnonzero(mask), self.row_group)
            how = f"direct ({k} rows)"
        else:
            stats = self.pool_stats.copy()
            stats.add_rows(self.X, np.flatnonzero(~mask), self.row_group, sign=-1)
            how = f"pool minus complement ({n - k} rows)"
        return _SubsetState(mask=mask, stats=stats, metrics={}), set(range(G)), how

    # ------------------------------------------------------------------ report
    def positions(self, selected_row_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Unique pool positions (sorted) of the given row ids. Raises on ids that are not in the pool, except
        ids of examples that have no embedding (see :attr:`unembedded_row_ids`), which are left out."""
        ids = np.unique(np.asarray(selected_row_ids, dtype=np.int64).ravel())
        j = np.searchsorted(self._sorted_ids, ids)
        j = np.minimum(j, self.n - 1)
        ok = self._sorted_ids[j] == ids
        if not ok.all():
            bad = ids[~ok]
            known = np.isin(bad, self.unembedded_row_ids)
            if not known.all():
                b = bad[~known]
                raise CurationError(
                    f"{len(b)} selected row id(s) are not in the pool of {self.n} rows (e.g. {b[:5].tolist()}); "
                    "pass row ids (examples.row_id), not positions or example ids")
        return np.sort(self._sorter[j[ok]])

    def report(self, selected_row_ids: Sequence[int] | np.ndarray) -> ReportCard:
        """The report card of the subset ``selected_row_ids`` (row ids, any order, duplicates ignored).

        Cost: see the module docstring; typically tens of ms at 100k rows when the previous report was a nearby
        budget. Thread-safe.
        """
        with self._lock, sp.single_blas_thread():  # the GEMMs and eigensolves here are small: one thread is faster
            return self._report(selected_row_ids)

    def _report(self, selected_row_ids: Sequence[int] | np.ndarray) -> ReportCard:
        P = self.params
        tm: dict[str, float] = {}
        t0 = t = time.perf_counter()
        ids_arr = np.asarray(selected_row_ids, dtype=np.int64).ravel()
        pos = self.positions(ids_arr)
        n_unembedded = int(len(np.unique(ids_arr)) - len(pos))
        k = len(pos)
        mask = np.zeros(self.n, dtype=bool)
        mask[pos] = True
        alerts: list[str] = []
        notes: list[str] = list(self.label_notes)
        if n_unembedded:
            alerts.append(f"{n_unembedded} selected example(s) have no embedding under {self.model} and are left out "
                          "of this report; run the embed command")
        if k == 0:
            alerts.append("the selection is empty")

        # classes
        sub_counts = np.bincount(self.codes[pos], minlength=len(self.names))
        classes = class_table(self.names, self.pool_counts, sub_counts)
        js = js_divergence(self.pool_counts, sub_counts)
        chi2, chi2_p = chi2_test(self.pool_counts, sub_counts)
        alerts += class_alerts(classes, what="class", low=P.retention_low, high=P.retention_high)
        big = bool(np.isfinite(js) and js >= P.js_alert)
        significant = bool(np.isfinite(chi2_p) and chi2_p < P.chi2_alpha)
        if big:
            alerts.append(f"the class mix differs from the pool's: Jensen-Shannon divergence {js:.3f} (alert at "
                          f"{P.js_alert:g}); chi-square p = {chi2_p:.2g}"
                          + ("" if significant else f", not significant at this size (alert below {P.chi2_alpha:g})"))
        elif significant:
            alerts.append(f"the class mix differs from the pool's beyond chance: chi-square p = {chi2_p:.2g} (alert "
                          f"below {P.chi2_alpha:g}), though by little: Jensen-Shannon divergence {js:.3f} (alert at "
                          f"{P.js_alert:g}); the per-class retention in the Classes table shows where")
        tm["classes"] = _ms(t)

        # spectra
        t = time.perf_counter()
        state, changed, how = self._subset_stats(mask, k)
        self._state = state
        tm["spectral_stats"] = _ms(t)
        t = time.perf_counter()
        spectral, spread_info, spec_alerts = self._spectral(state)
        alerts += spec_alerts
        tm["spectral_eig"] = _ms(t)

        # coverage
        t = time.perf_counter()
        best, _ = self.coverage_index.nearest(mask)
        cov = coverage_summary(best, n_pool=self.n, exact=self.coverage_index.exact)
        cov["random_mean_distance"] = random_baseline_distance(self.coverage_index.nsim, n=self.n, k=k)
        cov["vendi_subset"] = spread_info.pop("vendi_subset")
        cov["vendi_random"] = spread_info.pop("vendi_random")
        cov["vendi_pool"] = self.pool_vendi
        alerts += self._coverage_alerts(cov, k)
        if not cov["exact"]:
            notes.append(f"coverage is estimated on a seeded sample of {cov['n_sample']} pool rows")
        tm["coverage"] = _ms(t)

        # quality and preference
        t = time.perf_counter()
        quality = self.quality_index.table(mask) if self.quality_index is not None else pd.DataFrame(
            columns=["key", "higher_is_better"])
        if self.quality_index is not None:
            alerts += quality_alerts(quality)
        pref = None
        if self.preference_index is not None:
            pref = self.preference_index.report(mask)
            alerts += preference_alerts(pref)
        tm["quality_preference"] = _ms(t)

        skipped = len(self.names) - len(self.spec_classes)
        if skipped:
            notes.append(f"spectra cover the {len(self.spec_classes)} largest classes with at least "
                         f"{P.spectral_min_rows} rows; {skipped} smaller or further classes are only in the class "
                         "table")
        notes.append("spectral change compares each class in the subset with a random subset of that class of the "
                     "same size (spectral estimates depend on the row count)")
        notes.append(f"spectra: {P.shrinkage} shrinkage; subset statistics {how}")
        probe = dict(self.probe)
        tm["total"] = _ms(t0)
        return ReportCard(
            n_pool=self.n, n_subset=k, label_column=self.label_column, model=self.model, classes=classes,
            js_divergence=js, chi2=chi2, chi2_p=chi2_p, spectral=spectral, spectral_spread=spread_info, probe=probe,
            coverage=cov, quality=quality, preference=pref, alerts=alerts, notes=notes, timings_ms=tm)

    def _spectral(self, state: _SubsetState) -> tuple[pd.DataFrame, dict, list[str]]:
        P = self.params
        rows = []
        todo = [g for g in range(len(self.spec_classes)) if g not in state.metrics]
        tn = int(state.stats.n.sum())
        if todo or "all" not in state.metrics:
            _, ts1, ts2 = state.stats.total()
            jobs = [(int(state.stats.n[g]), state.stats.s1[g], state.stats.s2[g]) for g in todo] + [(tn, ts1, ts2)]
            *per_class, state.metrics["all"], state.metrics["vendi"] = self._spectra(jobs, vendi=ts2)
            state.metrics.update(zip(todo, per_class))
        sub_all, vendi = state.metrics["all"], state.metrics["vendi"]
        acc = self.probe["per_class"].set_index("label")["accuracy"]
        def base(bl: sp.SizeBaseline, m: int) -> dict[str, float]:
            return bl.at(m) if m >= P.spectral_min_rows else dict(sp.NAN_METRICS)

        for g, c in enumerate(self.spec_classes):
            m = int(state.stats.n[g])
            rows.append(self._spectral_row(self.names[c], int(self.pool_stats.n[g]), m, self.pool_metrics[g],
                                           base(self.baselines[g], m), state.metrics[g], float(acc.get(self.names[c]))))
        rows.append(self._spectral_row(ALL_LABEL, self.n, int(tn), self.pool_metrics_all, base(self.baseline_all, tn),
                                       sub_all, float(self.probe["accuracy"])))
        df = pd.DataFrame(rows)
        per_class = df[df["label"] != ALL_LABEL]
        pool_spread = sp.spread(per_class["pool_effective_rank"].to_numpy())
        sub_spread = sp.spread(per_class["subset_effective_rank"].to_numpy())
        base_spread = sp.spread(per_class["baseline_effective_rank"].to_numpy())
        info = {"metric": "effective_rank", "pool": pool_spread, "baseline": base_spread, "subset": sub_spread,
                "vendi_subset": vendi, "vendi_random": self.baseline_all.at(int(tn))["vendi"] if tn else float("nan")}
        alerts = []
        overall_acc = self.probe["accuracy"]
        drops = []
        for r in per_class.itertuples(index=False):
            ch = r.effective_rank_change
            if np.isfinite(ch) and ch <= -P.rank_drop:
                extra = ""
                if np.isfinite(r.probe_accuracy) and r.probe_accuracy < overall_acc - 0.1:
                    extra = (f"; it is already hard to tell apart in embedding space (k-NN probe accuracy "
                             f"{r.probe_accuracy:.0%} vs {overall_acc:.0%} overall)")
                drops.append((ch, f"class {r.label!r} spans fewer directions in the selection: effective rank "
                                  f"{r.subset_effective_rank:.1f} against {r.baseline_effective_rank:.1f} for a random "
                                  f"{r.subset_n} of its {r.pool_n} examples ({ch:+.0%}){extra}"))
        alerts += [m for _, m in sorted(drops)]
        bc, sc = base_spread["cv"], sub_spread["cv"]
        if np.isfinite(bc) and np.isfinite(sc) and sc - bc >= P.cv_growth:
            alerts.append(f"spectral imbalance across classes grows: the effective rank varies more between classes "
                          f"than in a random subset of the same class sizes (coefficient of variation {sc:.2f} vs "
                          f"{bc:.2f}; pool {pool_spread['cv']:.2f})")
        return df, info, alerts

    def _spectral_row(self, label: str, n_pool: int, n_sub: int, pm: dict[str, float], bm: dict[str, float],
                      sm: dict[str, float], acc: float) -> dict[str, Any]:
        row: dict[str, Any] = {"label": label, "pool_n": n_pool, "subset_n": n_sub}
        for key in ("effective_rank", "participation_ratio", "top_k_share", "decay_slope"):
            row[f"pool_{key}"] = pm[key]
            row[f"baseline_{key}"] = bm[key]
            row[f"subset_{key}"] = sm[key]
        pe, se = bm["effective_rank"], sm["effective_rank"]
        row["effective_rank_change"] = se / pe - 1.0 if np.isfinite(pe) and np.isfinite(se) and pe > 0 else np.nan
        row["probe_accuracy"] = acc
        return row

    def _coverage_alerts(self, cov: dict, k: int) -> list[str]:
        P = self.params
        out = []
        vs, vr = cov["vendi_subset"], cov["vendi_random"]
        if k >= 2 * P.spectral_min_rows and np.isfinite(vs) and np.isfinite(vr) and vs < P.vendi_drop * vr:
            out.append(f"the selection is less diverse than a random subset of the same size: Vendi score {vs:.1f} "
                       f"vs {vr:.1f} (pool {cov['vendi_pool']:.1f}; the effective number of distinct directions)")
        md, rd = cov["mean_distance"], cov["random_mean_distance"]
        if np.isfinite(md) and np.isfinite(rd) and rd > 0 and md > P.coverage_vs_random * rd:
            out.append(f"the selection covers the pool worse than a random subset of the same size would: mean "
                       f"distance to the nearest selected example {md:.3f} vs {rd:.3f} (p95 {cov['p95_distance']:.3f})")
        return out


_EXECUTOR: Any = None
_EXECUTOR_LOCK = threading.Lock()


def _executor() -> Any:
    """A shared thread pool for eigensolves (None on a single-core machine)."""
    global _EXECUTOR
    import os

    workers = min(8, os.cpu_count() or 1)
    if workers < 2:
        return None
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            from concurrent.futures import ThreadPoolExecutor

            _EXECUTOR = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="diagnostics-eig")
    return _EXECUTOR


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return float("nan")
    ra = pd.Series(a[ok]).rank().to_numpy()
    rb = pd.Series(b[ok]).rank().to_numpy()
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000.0, 3)


# ---------------------------------------------------------------------------------------------------- workspace
def _read_workspace(ws: Any, key: str, label_column: str, pref_type_column: str) -> dict[str, Any]:
    """Everything :meth:`ReportContext.build` reads from the workspace (embeddings, labels, scores, pairs)."""
    row_ids, X = ws.embeddings(key)
    if len(row_ids) == 0:
        raise CurationError(f"no example of workspace {ws.path} is embedded under model {key!r}; run "
                            f"`python -m curation embed --model {key}` first")
    defs = ws.score_defs()
    label_key = _score_key_for(defs, label_column, key)
    labels = _workspace_column(ws, label_key or label_column, row_ids, what="label column")
    label_note = None
    if labels.isna().all():
        if label_column != "label":
            raise CurationError(f"label column {label_column!r} is empty for all {len(row_ids)} embedded examples; "
                                f"pass another one ({column_choices(ws)})")
        # No labels (typical of preference data): the embedding clusters are the groups.
        label_key, labels, label_note = _cluster_groups(ws, defs, key, X, row_ids)
    # quality scores: every score and flag column but the label's (group ids are categorical, not a quality)
    keys = [r.key for r in defs.itertuples(index=False)
            if r.key != label_key and getattr(r, "kind", "score") in QUALITY_KINDS] if len(defs) else []
    scores = directions = None
    if keys:
        scores = ws.scores(keys).set_index("row_id").reindex(row_ids)[keys].reset_index()
        directions = {r.key: (None if r.higher_is_better is None or pd.isna(r.higher_is_better)
                              else bool(r.higher_is_better)) for r in defs.itertuples(index=False)}
    pref = None
    ex = ws.examples(["row_id", "kind", "chosen", "rejected"])
    ex = ex[ex["kind"] == "preference"]
    if len(ex):
        types = _workspace_column(ws, pref_type_column, ex["row_id"].to_numpy(np.int64),
                                  what="preference type column")
        pref = pd.DataFrame({"row_id": ex["row_id"].to_numpy(np.int64), "chosen": ex["chosen"].to_numpy(object),
                             "rejected": ex["rejected"].to_numpy(object), "type": types.to_numpy(object)})
    return {"X": X, "labels": labels, "scores": scores, "pref": pref, "row_ids": row_ids, "directions": directions,
            "unembedded": np.setdiff1d(ws.row_ids(), row_ids), "label_key": label_key, "label_note": label_note}


def _cluster_groups(ws: Any, defs: pd.DataFrame, model: str, X: np.ndarray,
                    row_ids: np.ndarray) -> tuple[str, pd.Series, str]:
    """(group column name, groups, note) when the examples have no labels: the stored clusters of ``model`` (the
    `cluster` or `analyze` command), else k-means clusters computed here (default count, seed 0, not stored)."""
    from curation.neighbours.clusters import default_n_clusters, kmeans

    key = _score_key_for(defs, "cluster", model)
    if key is not None:
        groups = _workspace_column(ws, key, row_ids, what="cluster column")
        if groups.notna().any():
            return key, groups, (f"no labels in this workspace: the groups are the embedding clusters {key!r} "
                                 "(pass --label-column to group by something else)")
    c = default_n_clusters(len(row_ids))
    codes, _ = kmeans(np.asarray(X, dtype=np.float32), c, seed=0)
    from curation.core.keys import score_key

    name = score_key("cluster", model=model, n_clusters=c)
    return name, pd.Series(codes.astype(np.float64)), (
        f"no labels in this workspace: the groups are {c} k-means clusters of the embeddings computed for this "
        "report (run `python -m curation cluster` to store and name them; --label-column to group by something "
        "else)")


CATEGORICAL_SCORES = ("cluster",)  # score names whose values are ids, not qualities
QUALITY_KINDS = ("score", "flag")  # stored column kinds the quality section averages (a flag's mean is a share)


def _score_key_for(defs: pd.DataFrame, column: str, model: str) -> str | None:
    """The score key that ``column`` names: itself when it is a key, else the newest key whose name is
    ``column`` (e.g. "cluster" → "cluster(model=<model>,n_clusters=20)"), preferring keys of ``model``. None if
    neither."""
    from curation.store import EXAMPLE_COLUMNS

    if column in EXAMPLE_COLUMNS or not len(defs):
        return None
    if column in set(defs["key"]):
        return column
    cand = defs[defs["name"] == column]
    if not len(cand):
        return None
    from curation.core.keys import format_value, key_param

    mine = cand[[key_param(k, "model") == format_value(model) for k in cand["key"]]]
    cand = mine if len(mine) else cand
    return str(cand.sort_values("created_at").iloc[-1]["key"])


def _workspace_column(ws: Any, column: str, row_ids: np.ndarray, *, what: str) -> pd.Series:
    """Values of ``column`` for ``row_ids`` (in that order, positional index):
    :func:`curation.store.columns.column_values`."""
    return column_values(ws, column, row_ids, what=what).reset_index(drop=True)


def format_card(card: ReportCard, *, max_rows: int = 30) -> str:
    """The card as plain text for a terminal: alerts first, then the tables."""
    def fmt(df: pd.DataFrame) -> str:
        if df is None or len(df) == 0:
            return "  (none)"
        d = df.head(max_rows).copy()
        for c in d.columns:
            if pd.api.types.is_float_dtype(d[c]):
                share = c.endswith("share") or c in ("retention",)
                d[c] = d[c].map(lambda v, s=share: "" if not np.isfinite(v) else (_pct(v) if s else f"{v:.4g}"))
        txt = d.to_string(index=False)
        return "\n".join("  " + ln for ln in txt.splitlines()) + (
            f"\n  ... {len(df) - max_rows} more rows" if len(df) > max_rows else "")

    lines = [f"report card: {card.n_subset} of {card.n_pool} examples ({_pct(card.n_subset / card.n_pool)}), "
             f"label column {card.label_column!r}, model {card.model}"]
    lines.append("\nalerts:")
    lines += [f"  ! {a}" for a in card.alerts] or ["  none"]
    lines.append(f"\nclass balance (JS divergence {card.js_divergence:.4f}, chi-square {card.chi2:.4g}, "
                 f"p = {card.chi2_p:.3g}):")
    lines.append(fmt(card.classes))
    lines.append("\nspectral balance (per-class embedding covariance spectra; erank_random = a random subset of the "
                 "class of the subset's size, erank_chg = subset vs that):")
    short = {"pool_n": "n_pool", "subset_n": "n_sub", "pool_effective_rank": "erank_pool",
             "baseline_effective_rank": "erank_random", "subset_effective_rank": "erank_sub",
             "effective_rank_change": "erank_chg",
             "pool_participation_ratio": "pr_pool", "subset_participation_ratio": "pr_sub",
             "pool_top_k_share": "topk_pool_share", "subset_top_k_share": "topk_sub_share",
             "pool_decay_slope": "slope_pool", "subset_decay_slope": "slope_sub", "probe_accuracy": "probe_acc"}
    lines.append(fmt(card.spectral[["label", *short]].rename(columns=short)))
    sp_, sb, ss = (card.spectral_spread[k] for k in ("pool", "baseline", "subset"))
    lines.append(f"  effective-rank spread across classes (pool / random subset / subset): max/min "
                 f"{sp_['max_min_ratio']:.3g} / {sb['max_min_ratio']:.3g} / {ss['max_min_ratio']:.3g}, CV "
                 f"{sp_['cv']:.3g} / {sb['cv']:.3g} / {ss['cv']:.3g}; k-NN probe accuracy "
                 f"{card.probe['accuracy']:.1%} (Spearman vs effective rank "
                 f"{card.probe.get('spearman_effective_rank', float('nan')):.2f})")
    c = card.coverage
    lines.append(f"\ncoverage: distance pool → nearest selected mean {c['mean_distance']:.4f} (random subset "
                 f"{c['random_mean_distance']:.4f}), p95 {c['p95_distance']:.4f}; facility location "
                 f"{c['facility_location']:.4f}/row; Vendi {c['vendi_subset']:.2f} (random subset "
                 f"{c['vendi_random']:.2f}, "
                 f"pool {c['vendi_pool']:.2f})")
    if len(card.quality):
        q = card.quality[["key", "pool_mean", "subset_mean", "pool_median", "subset_median", "mean_change", "effect"]]
        lines.append("\nquality scores:")
        lines.append(fmt(q))
    if card.preference is not None:
        lines.append("\npreference pairs:")
        lines.append(fmt(card.preference["summary"]))
        if len(card.preference["types"]) > 1:
            lines.append(fmt(card.preference["types"]))
    if card.notes:
        lines.append("\nnotes:")
        lines += [f"  - {x}" for x in card.notes]
    return "\n".join(lines)
