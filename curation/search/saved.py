"""Saved searches: a query saved by name becomes a flag column (1 = matches, 0 = does not, NaN = not applicable:
a meaning search over a row without a vector) under the key ``search:NAME``, stored like any score through
:func:`curation.scorers.run_scorer`, so the Map, Select quotas, Balance, the audit and Export filters take it as a
slice. Saved searches re-run after every ingest (:func:`refresh_saved_searches`)."""
from __future__ import annotations

import re
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.scorers.base import Scorer
from curation.search.engine import SearchSpec, matching_rows
from curation.store.search import SAVED_SEARCH_PREFIX

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def search_key(name: str) -> str:
    """The flag column key of saved search ``name``: ``search:NAME``."""
    return SAVED_SEARCH_PREFIX + name


class SearchSlice(Scorer):
    """The flag column of one saved search: 1 where a row matches, 0 where not, NaN where not applicable."""

    name = "search"
    slice: ClassVar[bool] = True
    higher_is_better = False
    corpus_level = True              # a match is decided by one search over the whole workspace
    description = "saved search: 1 where the row matches the saved query, 0 where not"
    defaults = {"search_name": "", "spec": None}

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._rows: np.ndarray | None = None
        self._embedded: np.ndarray | None = None

    @property
    def spec(self) -> SearchSpec:
        return SearchSpec.from_dict(self.params["spec"] or {})

    def key(self) -> str:
        return search_key(str(self.params["search_name"]))

    def key_params(self) -> dict[str, str]:
        return {}

    def record(self) -> dict[str, Any]:
        return {"search": self.params["search_name"], **self.spec.as_dict(),
                "n_matches": int(len(self._rows)) if self._rows is not None else None}

    def bind(self, ws: Any) -> None:
        spec = self.spec.check()
        self._rows = matching_rows(ws, spec)
        if spec.mode == "meaning":
            from curation.search.meaning import vector_index

            self._embedded = np.sort(vector_index(ws, spec.model)[0])

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        if self._rows is None:
            raise CurationError("a saved search must be bound to a workspace first (run it with save_search)")
        rid = batch["row_id"].to_numpy(dtype=np.int64)
        out = np.isin(rid, self._rows).astype(np.float64)
        if self._embedded is not None:
            out[~np.isin(rid, self._embedded)] = np.nan
        return out


def save_search(ws: Any, name: str, spec: SearchSpec, *, progress: Any = None) -> dict[str, Any]:  # Workspace
    """Save ``spec`` under ``name`` (replacing a search of that name) and compute its flag column. Returns
    {"name", "key", "n_matches", "spec"}. A meaning search needs a threshold (a row matches when its cosine is at
    least that)."""
    from curation.scorers.run import run_scorer

    if not _NAME.match(name or ""):
        raise CurationError(f"search name {name!r} must be 1-64 letters, digits, '_', '-' or '.', starting with a "
                            "letter or digit")
    spec.check()
    if spec.mode == "meaning" and spec.threshold is None:
        raise CurationError("a saved meaning search needs --threshold (minimum cosine for a match, e.g. 0.5)")
    sc = SearchSlice(search_name=name, spec=spec.as_dict())
    ws.delete_saved_search(name)           # the previous query's column must not keep stale rows
    ws.put_artifact(search_key(name), {"name": name, **spec.as_dict()})
    run_scorer(ws, sc, progress=progress)
    n = 0 if sc._rows is None else int(len(sc._rows))
    return {"name": name, "key": sc.key(), "n_matches": n, "spec": spec.as_dict()}


def saved_searches(ws: Any) -> pd.DataFrame:  # Workspace
    """name, key, query, mode, field, regex, case_sensitive, threshold, n_matches (rows flagged now), by name."""
    specs = ws.saved_search_specs()
    rows = []
    defs = ws.score_defs()
    have = set(defs["key"]) if len(defs) else set()
    for name, s in specs.items():
        key = search_key(name)
        n = None
        if key in have:
            _, vals = ws.score_column(key)
            n = int(np.nansum(vals))
        rows.append({"name": name, "key": key, **SearchSpec.from_dict(s).as_dict(), "n_matches": n})
    return pd.DataFrame(rows, columns=["name", "key", "query", "mode", "field", "regex", "case_sensitive",
                                       "threshold", "model", "n_matches"])


def saved_search(ws: Any, name: str) -> SearchSpec:  # Workspace
    spec = ws.saved_search_specs().get(name)
    if spec is None:
        names = list(ws.saved_search_specs())
        raise CurationError(f"no saved search named {name!r}; saved searches are {names or 'none'} (save one with "
                            "`python -m curation search save NAME QUERY`)")
    return SearchSpec.from_dict(spec)


def refresh_saved_searches(ws: Any, *, progress: Any = None) -> list[str]:  # Workspace
    """Re-run every saved search (after data was added); returns their keys."""
    from curation.scorers.run import run_scorer

    keys = []
    for name, s in ws.saved_search_specs().items():
        sc = SearchSlice(search_name=name, spec={k: v for k, v in s.items() if k != "name"})
        keys.append(run_scorer(ws, sc, progress=progress))
    return keys


def after_ingest(ws: Any) -> None:  # Workspace
    """Called by ingest when rows were added: extend the full-text index (when the workspace has one) and re-run
    the saved searches so their columns cover the new rows."""
    from curation.search.words import sync_if_built

    sync_if_built(ws)
    if ws.saved_search_specs():
        refresh_saved_searches(ws)
