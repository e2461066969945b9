"""Session state and cached workspace reads shared by the pages: the session keys, the workspace handle, the
curator's name, cached loaders and the current subset.

* The DuckDB workspace is the only state that must survive a restart; ``st.session_state`` holds view state only
  (which ranking is shown, the budget, the map selection, the example being inspected).
* Cached loaders take the workspace path and :meth:`Workspace.data_stamp` as arguments, so anything computed in the
  workspace (by this server, another session or the CLI) invalidates them at the next rerun. The data stamp and the
  pins are reused while the workspace file is unchanged (:func:`by_file_token`: a ``stat``, no query), so any write
  (a pin from another page, session or the CLI) shows at the next rerun.
* The current subset is a :class:`curation.subsets.spec.SubsetSpec` built from the Select page's view state and resolved
  by :func:`curation.subsets.spec.resolve`, like everywhere else.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from curation.neighbours.clusters import cluster_labels
from curation.neighbours.dedup import duplicate_groups
from curation.embedding.embed import DEFAULT_MODEL
from curation.core.errors import CurationError
from curation.core.keys import key_name
from curation.core.paths import ENV as _ROOT_ENV, data_roots as _data_roots
from curation.store import file_token
from curation.neighbours.graph import KnnGraph, load_graph as _load_graph_engine
from curation.neighbours.projection import latest_projection, projection_frame
from curation.core.ranking import Ranking
from curation.store import Workspace, default_workspace_path
from curation.subsets.spec import Subset, SubsetSpec, resolve
from curation.subsets.spec import pin_arrays as _pin_arrays
from pages.formatting import escape_hover

# ---------------------------------------------------------------------------------------------- session keys
K_WORKSPACE = "workspace_path"     # str: workspace file chosen on the Data page
K_CURATOR = "curator"              # str: name recorded with every decision
K_RANKING = "ranking_key"          # str: the ranking shown on Select / Map / Balance / Export
K_BUDGET = "budget_rows"           # int: rows in the current subset (after pins, quotas and the budget)
K_BUDGET_UNIT = "budget_unit"      # "rows" | "%" | "tokens"
K_BUDGET_VALUE = "budget_value"    # float: the budget in its unit
K_QUOTA = "class_quota"            # None, "proportional", "balanced" or {"min": {...}, "max": {...}}
K_MAP_SELECTION = "map_selection"  # list[int]: row ids selected on the map (box / lasso / click)
K_INSPECT = "inspect_row"          # int: row id opened on the Inspect page
K_SCORE_FILTER = "score_filter"    # str: SQL condition typed on the Scores page
K_OPEN_SUBSET = "open_subset"      # str "NAME@VERSION": the saved subset open on Select (None: the unsaved draft)
K_QUOTA_COLUMN = "quota_column"    # str: the column the class quota is over ("label", "dataset" or any slice key)

BUDGET_UNITS = ("rows", "%", "tokens")
QUOTA_MODES = ("none", "proportional", "balanced", "custom")
MODEL = DEFAULT_MODEL
"""The embedding model the pages show (the engine's default)."""


# ---------------------------------------------------------------------------------------------- workspace
def workspace_path() -> Path:
    """The workspace of this session: chosen on the Data page, else $CURATION_WORKSPACE or the default."""
    p = st.session_state.get(K_WORKSPACE)
    return Path(p) if p else default_workspace_path()


@st.cache_resource(show_spinner=False)
def workspace_at(path: str) -> Workspace:
    """The Workspace handle of ``path`` (an absolute path), shared by every session of this server. It opens a
    DuckDB connection per operation, so it is safe across sessions and threads. Raises CurationError."""
    return Workspace(path)


def workspace() -> Workspace:
    """The Workspace of this session; an unusable file is shown with st.error and the page stops."""
    try:
        return workspace_at(str(Path(workspace_path()).expanduser().resolve()))
    except CurationError as exc:
        st.error(str(exc))
        st.stop()
        raise  # pragma: no cover - st.stop raises


def data_roots() -> list[Path]:
    """The folders a browser user may open, create or read files in (:func:`curation.core.paths.data_roots`):
    ``$CURATION_DATA_ROOT``, else the project's data/ and the folders of the server's and this session's
    workspaces."""
    roots = _data_roots(default_workspace_path())
    if not os.environ.get(_ROOT_ENV, "").strip():
        here = Path(os.path.realpath(Path(workspace_path()).expanduser().parent))
        if here not in roots:
            roots.append(here)
    return roots


def curator() -> str:
    """Name recorded with every decision of this session."""
    name = st.session_state.get(K_CURATOR)
    if isinstance(name, str) and name.strip():
        return name.strip()
    return os.environ.get("CURATION_USER") or os.environ.get("USER") or "curator"


_BY_TOKEN: dict[tuple[str, str], tuple[tuple, Any]] = {}
_BY_TOKEN_LOCK = threading.Lock()


def by_file_token(path: str, what: str, compute: Callable[[], Any]) -> Any:
    """``compute()``, reused while the workspace file is unchanged (:func:`file_token`): a budget step or a rerun
    reads pins and the data stamp without opening the database. The value must be treated as read-only."""
    tok = file_token(path)
    if tok is not None:
        with _BY_TOKEN_LOCK:
            hit = _BY_TOKEN.get((path, what))
        if hit is not None and hit[0] == tok:
            return hit[1]
    val = compute()
    if tok is not None and file_token(path) == tok:  # nothing was written while it was read
        with _BY_TOKEN_LOCK:
            if len(_BY_TOKEN) > 64:
                _BY_TOKEN.clear()
            _BY_TOKEN[(path, what)] = (tok, val)
    return val


def stamp(ws: Workspace) -> str:
    """The workspace's data stamp (cache key for every loader below); read again only when the file changed."""
    return by_file_token(str(ws.path), "data_stamp", ws.data_stamp)


# ---------------------------------------------------------------------------------------------- cached loaders
@st.cache_data(show_spinner=False, max_entries=8)
def load_meta(path: str, data_stamp: str) -> pd.DataFrame:
    """row_id, example_id, dataset, kind, label, n_tokens of every example (no text), by row_id."""
    return workspace_at(path).examples(["row_id", "example_id", "dataset", "kind", "label", "n_tokens"])


@st.cache_data(show_spinner=False, max_entries=4)
def load_excerpts(path: str, data_stamp: str, max_chars: int = 160) -> pd.Series:
    """Excerpt (raw text) per row_id, indexed by row_id."""
    df = workspace_at(path).excerpts(max_chars=max_chars)
    return df.set_index("row_id")["excerpt"]


@st.cache_data(show_spinner=False, max_entries=4)
def load_hover(path: str, data_stamp: str) -> pd.Series:
    """Hover text per row_id: the excerpt truncated, HTML-escaped and wrapped (see :func:`escape_hover`)."""
    exc = load_excerpts(path, data_stamp)
    return pd.Series([escape_hover(t) for t in exc.to_numpy()], index=exc.index)


@st.cache_data(show_spinner=False, max_entries=8)
def load_score_defs(path: str, data_stamp: str) -> pd.DataFrame:
    return workspace_at(path).score_defs()


@st.cache_data(show_spinner=False, max_entries=16)
def load_scores(path: str, data_stamp: str, keys: tuple[str, ...]) -> pd.DataFrame:
    """Wide score table: row_id, example_id and one column per key."""
    return workspace_at(path).scores(list(keys))


@st.cache_data(show_spinner=False, max_entries=8)
def load_projection(path: str, data_stamp: str, key: str) -> pd.DataFrame:
    """row_id, x, y of a stored projection."""
    return projection_frame(workspace_at(path), key)


@st.cache_data(show_spinner=False, max_entries=8)
def load_rankings(path: str, data_stamp: str) -> pd.DataFrame:
    return workspace_at(path).rankings()


@st.cache_data(show_spinner=False, max_entries=16)
def load_ranking(path: str, data_stamp: str, key: str) -> Ranking | None:
    return workspace_at(path).ranking(key)


@st.cache_resource(show_spinner=False, max_entries=4)
def load_graph(path: str, data_stamp: str, model: str, k: int = 15) -> KnnGraph | None:
    """The stored neighbour graph of ``model``, or None when none is built."""
    try:
        return _load_graph_engine(workspace_at(path), model=model, k=k)
    except CurationError:
        return None


@st.cache_data(show_spinner=False, max_entries=8)
def load_cluster_labels(path: str, data_stamp: str, key: str) -> pd.DataFrame | None:
    try:
        return cluster_labels(workspace_at(path), key=key)
    except CurationError:
        return None


@st.cache_data(show_spinner=False, max_entries=4)
def load_duplicate_groups(path: str, data_stamp: str, exact: bool) -> pd.DataFrame | None:
    """:func:`curation.neighbours.dedup.duplicate_groups` (row_id, example_id, group, size, is_rep), or None when the
    duplicates were not computed."""
    try:
        return duplicate_groups(workspace_at(path), model=MODEL, exact=exact)
    except CurationError:
        return None


@st.cache_resource(show_spinner=False, max_entries=4)
def label_token_series(path: str, data_stamp: str) -> tuple[pd.Series, pd.Series]:
    """(labels, n_tokens) as pd.Series indexed by row_id: what :func:`curation.subsets.spec.resolve` would read for the
    label column "label" (cached by the workspace's data stamp, so a budget change reads nothing). Shared, not
    copied (a budget step at 1M rows would spend tens of ms unpickling them and rebuilding the index): read-only."""
    meta = load_meta(path, data_stamp)
    idx = meta["row_id"].to_numpy()
    return (pd.Series(meta["label"].to_numpy(object), index=idx),
            pd.Series(meta["n_tokens"].fillna(0).to_numpy(np.float64), index=idx))


def latest_projection_key(ws: Workspace) -> str | None:
    return latest_projection(ws)


def pins_frame(ws: Workspace) -> pd.DataFrame:
    """Current pins (a copy): read again whenever the workspace file changed (:func:`by_file_token`)."""
    return by_file_token(str(ws.path), "pins_frame", ws.pins).copy()


def pin_arrays(ws: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """(include row ids, exclude row ids) of the current pins as read-only int64 arrays: read again whenever the
    workspace file changed (:func:`by_file_token`), so a pin written anywhere shows at the next rerun."""
    def read() -> tuple[np.ndarray, np.ndarray]:
        inc, exc = _pin_arrays(ws)
        inc.setflags(write=False)
        exc.setflags(write=False)
        return inc, exc
    return by_file_token(str(ws.path), "pin_arrays", read)


def score_key_of(defs: pd.DataFrame, name: str) -> str | None:
    """The first stored score key whose name (:func:`curation.core.keys.key_name`) is ``name``."""
    if defs.empty:
        return None
    hit = defs[defs["key"].map(key_name) == name]
    return None if hit.empty else str(hit.iloc[0]["key"])


# ---------------------------------------------------------------------------------------------- the current subset
def budget_state() -> dict:
    """The current subset's parameters (view state): ranking key, unit, value, quota."""
    return {"ranking": st.session_state.get(K_RANKING), "unit": st.session_state.get(K_BUDGET_UNIT, "%"),
            "value": st.session_state.get(K_BUDGET_VALUE, 10.0), "quota": st.session_state.get(K_QUOTA),
            "quota_column": st.session_state.get(K_QUOTA_COLUMN) or "label"}


def current_spec(ws: Workspace, *, ranking_key: str | None = None) -> SubsetSpec | None:
    """The SubsetSpec chosen on the Select page (ranking, budget, quota; current pins), or None when no ranking
    exists. Uses the newest stored ranking when none is chosen."""
    b = budget_state()
    key = ranking_key or b["ranking"]
    if not key:
        r = load_rankings(str(ws.path), stamp(ws))
        if r.empty:
            return None
        key = str(r.iloc[-1]["key"])
    return SubsetSpec(ranking=key, budget=b["value"], unit=b["unit"], quota=b["quota"] or None,
                      label_column=b["quota_column"] if b["quota"] else "label")


def resolve_spec(ws: Workspace, spec: SubsetSpec) -> Subset:
    """:func:`curation.subsets.spec.resolve` with the cached ranking, labels and token counts of this workspace."""
    P, S = str(ws.path), stamp(ws)
    ranking = load_ranking(P, S, spec.ranking) if spec.ranking else None
    if spec.ranking and ranking is None:
        raise CurationError(f"no ranking {spec.ranking!r} in workspace {ws.path}; compute one on the Select page")
    labels, toks = label_token_series(P, S)
    plain = spec.label_column == "label" and spec.datasets is None
    if spec.label_column != "label" and spec.datasets is None and spec.quota is not None:
        labels, plain = column_labels(P, S, spec.label_column), True   # a quota over a slice column
    pins = pin_arrays(ws) if spec.pins_as_of is None else None
    return resolve(ws, spec, ranking=ranking, labels=labels if plain else None, n_tokens=toks, pins=pins)


@st.cache_resource(show_spinner=False, max_entries=8)
def column_labels(path: str, data_stamp: str, column: str) -> pd.Series:
    """Class per row id of any quota column (an examples column, a slice or score key, a record key), as
    :func:`curation.subsets.spec.label_series` reads it (a risk score: "flagged" / "not flagged"). Read-only."""
    from curation.subsets.spec import label_series

    ws = workspace_at(path)
    return label_series(ws, load_meta(path, data_stamp), column)


@st.cache_resource(show_spinner="Reading the slice columns (once per workspace state)…", max_entries=4)
def load_audit_context(path: str, data_stamp: str, score_keys: tuple[str, ...] = ()) -> Any:
    """:class:`curation.diagnostics.audit.AuditContext` of the workspace (every slice column coded once), with the
    quality ``score_keys`` loaded for score fairness. Shared, read-only."""
    from curation.diagnostics.audit import AuditContext

    return AuditContext.build(workspace_at(path), score_keys=list(score_keys))


def current_subset(ws: Workspace, *, ranking_key: str | None = None) -> tuple[Ranking, np.ndarray] | None:
    """(ranking, selected row ids) of :func:`current_spec` (pins applied), or None when no ranking exists (an
    unusable spec is shown with st.error)."""
    spec = current_spec(ws, ranking_key=ranking_key)
    if spec is None:
        return None
    try:
        sub = resolve_spec(ws, spec)
    except CurationError as exc:
        st.error(str(exc))
        return None
    return sub.ranking, sub.row_ids
