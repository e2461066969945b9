"""Streamlit-only helpers shared by the pages: the workspace handle, cached loaders, session keys, widget groups,
the background-job runner and safe text rendering.

Rules kept here so every page follows them:

* The DuckDB workspace is the only state that must survive a restart; ``st.session_state`` holds view state only
  (which ranking is shown, the budget, the map selection, the example being inspected).
* Cached loaders take the workspace path and :meth:`Workspace.data_stamp` as arguments, so anything computed in the
  workspace (by this server, another session or the CLI) invalidates them at the next rerun. Decisions (pins, tags,
  notes) are never cached: they are read fresh (one small query).
* Dataset text is never rendered as HTML: :func:`show_text` uses ``st.code``/``st.text``; tables go through
  ``st.dataframe``; plotly hover text and annotations go through :func:`escape_hover` (``html.escape``).
"""
from __future__ import annotations

import html
import importlib
import inspect
import json
import os
import re
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from curation.errors import CurationError
from curation.store import Ranking, Workspace, default_workspace_path
from curation.subset import Subset, SubsetSpec, resolve
from curation.subset import pin_arrays as subset_pin_arrays

# ---------------------------------------------------------------------------------------------- session keys
K_WORKSPACE = "workspace_path"     # str: workspace file chosen on the Data page
K_CURATOR = "curator"              # str: name recorded with every decision
K_RANKING = "ranking_key"          # str: the ranking shown on Select / Map / Balance / Export
K_BUDGET = "budget_rows"           # int: rows in the current subset (the prefix length after constraints)
K_BUDGET_UNIT = "budget_unit"      # "rows" | "%" | "tokens"
K_BUDGET_VALUE = "budget_value"    # float: the budget in its unit
K_QUOTA = "class_quota"            # dict[class, max share in 0..1] or None
K_MAP_SELECTION = "map_selection"  # list[int]: row ids selected on the map (box / lasso / click)
K_INSPECT = "inspect_row"          # int: row id opened on the Inspect page
K_SCORE_FILTER = "score_filter"    # str: SQL condition typed on the Scores page

MAX_MAP_POINTS = 50_000
"""Beyond this many points the map is downsampled (stratified; pinned and selected points always kept)."""

DEFAULT_MODEL_FALLBACK = "sentence-transformers/all-MiniLM-L6-v2"


def default_model() -> str:
    try:
        from curation.embed import DEFAULT_MODEL
        return DEFAULT_MODEL
    except ImportError:  # pragma: no cover - partial checkout
        return DEFAULT_MODEL_FALLBACK


# ---------------------------------------------------------------------------------------------- workspace
def workspace_path() -> Path:
    """The workspace of this session: chosen on the Data page, else $CURATION_WORKSPACE or the default."""
    p = st.session_state.get(K_WORKSPACE)
    return Path(p) if p else default_workspace_path()


@st.cache_resource(show_spinner=False)
def _workspace(path: str) -> Workspace:
    return Workspace(path)


def workspace() -> Workspace:
    """The Workspace handle (it opens a DuckDB connection per operation, so it is safe across sessions/threads)."""
    try:
        return _workspace(str(Path(workspace_path()).expanduser().resolve()))
    except CurationError as exc:
        st.error(str(exc))
        st.stop()
        raise  # pragma: no cover - st.stop raises


def curator() -> str:
    """Name recorded with every decision of this session."""
    name = st.session_state.get(K_CURATOR)
    if isinstance(name, str) and name.strip():
        return name.strip()
    return os.environ.get("CURATION_USER") or os.environ.get("USER") or "curator"


def stamp(ws: Workspace) -> str:
    """The workspace's data stamp (cache key for every loader below)."""
    return ws.data_stamp()


def sidebar() -> None:
    """Workspace and curator name, shown on every page (called by app.py)."""
    with st.sidebar:
        p = workspace_path()
        st.caption("Workspace")
        st.code(str(p), language=None, wrap_lines=True)
        if K_CURATOR not in st.session_state:
            st.session_state[K_CURATOR] = curator()
        st.text_input("Curator name", key=K_CURATOR, help="Recorded with every pin, tag and note you make.")


def header(title: str, caption: str | None = None) -> Workspace:
    """Consistent page header: title, optional caption, and the workspace handle."""
    ws = workspace()
    st.title(title)
    if caption:
        st.caption(caption)
    return ws


# ---------------------------------------------------------------------------------------------- engine access
def engine(module: str, *names: str, what: str, how: str) -> tuple[Any, ...] | None:
    """Import ``names`` from ``module``; when the module (or a name) is not in this checkout, show a plain
    message saying what is missing and how to compute it, and return None."""
    try:
        mod = importlib.import_module(module)
        return tuple(getattr(mod, n) for n in names)
    except (ImportError, AttributeError) as exc:
        st.warning(f"**{what}** is not available in this checkout (`{module}`: {exc}). {how}",
                   icon=":material/construction:")
        return None


def try_import(module: str, *names: str) -> tuple[Any, ...] | None:
    """Like :func:`engine` but silent: None when missing."""
    try:
        mod = importlib.import_module(module)
        return tuple(getattr(mod, n) for n in names)
    except (ImportError, AttributeError):
        return None


def run_engine(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
    """Call an engine function; a CurationError is shown with st.error and stops the page."""
    try:
        return fn(*args, **kwargs)
    except CurationError as exc:
        st.error(str(exc))
        st.stop()


def link(page: str, label: str, *, icon: str | None = None) -> None:
    """A link to another page; a plain caption when the page is not in the navigation (a page run on its own)."""
    try:
        st.page_link(page, label=label, icon=icon)
    except Exception:  # noqa: BLE001 - StreamlitPageNotFoundError outside st.navigation
        st.caption(f"{label}: open the {Path(page).stem.capitalize()} page.")


def go_to(page: str) -> None:
    """Switch page (no-op outside st.navigation, e.g. a page run on its own in a test)."""
    try:
        st.switch_page(page)
    except Exception as exc:  # noqa: BLE001
        if type(exc).__name__ in ("RerunException", "StopException"):
            raise
        st.caption(f"Open the {Path(page).stem.capitalize()} page.")


# ---------------------------------------------------------------------------------------------- cached loaders
@st.cache_data(show_spinner=False, max_entries=8)
def load_meta(path: str, data_stamp: str) -> pd.DataFrame:
    """row_id, example_id, dataset, kind, label, n_tokens of every example (no text), by row_id."""
    return _workspace(path).examples(["row_id", "example_id", "dataset", "kind", "label", "n_tokens"])


@st.cache_data(show_spinner=False, max_entries=4)
def load_excerpts(path: str, data_stamp: str, max_chars: int = 160) -> pd.Series:
    """Excerpt (raw text) per row_id, indexed by row_id."""
    df = _workspace(path).excerpts(max_chars=max_chars)
    return df.set_index("row_id")["excerpt"]


@st.cache_data(show_spinner=False, max_entries=4)
def load_hover(path: str, data_stamp: str) -> pd.Series:
    """Hover text per row_id: the excerpt truncated, HTML-escaped and wrapped (see :func:`escape_hover`)."""
    exc = load_excerpts(path, data_stamp)
    return pd.Series([escape_hover(t) for t in exc.to_numpy()], index=exc.index)


@st.cache_data(show_spinner=False, max_entries=8)
def load_score_defs(path: str, data_stamp: str) -> pd.DataFrame:
    return _workspace(path).score_defs()


@st.cache_data(show_spinner=False, max_entries=16)
def load_scores(path: str, data_stamp: str, keys: tuple[str, ...]) -> pd.DataFrame:
    """Wide score table: row_id, example_id and one column per key."""
    return _workspace(path).scores(list(keys))


@st.cache_data(show_spinner=False, max_entries=8)
def load_projection(path: str, data_stamp: str, key: str) -> pd.DataFrame:
    row_ids, xy = _workspace(path).projection(key)
    return pd.DataFrame({"row_id": row_ids, "x": xy[:, 0], "y": xy[:, 1]})


@st.cache_data(show_spinner=False, max_entries=8)
def load_rankings(path: str, data_stamp: str) -> pd.DataFrame:
    return _workspace(path).rankings()


@st.cache_data(show_spinner=False, max_entries=16)
def load_ranking(path: str, data_stamp: str, key: str) -> Ranking | None:
    return _workspace(path).ranking(key)


@st.cache_resource(show_spinner=False, max_entries=4)
def load_graph(path: str, data_stamp: str, model: str, k: int = 15) -> Any:  # noqa: ANN401 - KnnGraph | None
    got = try_import("curation.graph", "load_graph")
    if got is None:
        return None
    try:
        return got[0](_workspace(path), model=model, k=k)
    except CurationError:
        return None


@st.cache_data(show_spinner=False, max_entries=8)
def load_cluster_labels(path: str, data_stamp: str, key: str) -> pd.DataFrame | None:
    got = try_import("curation.clusters", "cluster_labels")
    if got is None:
        return None
    try:
        return got[0](_workspace(path), key=key)
    except CurationError:
        return None


def latest_projection_key(ws: Workspace) -> str | None:
    got = try_import("curation.projection", "latest_projection")
    if got is not None:
        return got[0](ws)
    df = ws.projection_defs()
    return None if df.empty else str(df.iloc[-1]["key"])


def pins_frame(ws: Workspace) -> pd.DataFrame:
    """Current pins, read fresh (never cached)."""
    return ws.pins()


def pin_arrays(ws: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """(include row ids, exclude row ids) of the current pins as int64 arrays, read fresh."""
    return subset_pin_arrays(ws)


def score_key_of(defs: pd.DataFrame, name: str) -> str | None:
    """The first stored score key whose name (the part before ':') is ``name``."""
    if defs.empty:
        return None
    hit = defs[defs["key"].str.split(":").str[0] == name]
    return None if hit.empty else str(hit.iloc[0]["key"])


# ---------------------------------------------------------------------------------------------- text safety
def escape_hover(text: object, *, max_chars: int = 160, width: int = 60) -> str:
    """Dataset text made safe for plotly hover/annotations: truncated, HTML-escaped (so ``<script>`` shows
    literally), wrapped with ``<br>`` every ``width`` characters (the only markup we add)."""
    s = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    s = " ".join(s.split())
    if len(s) > max_chars:
        s = s[: max_chars - 1] + "…"
    lines = [s[i:i + width] for i in range(0, len(s), width)] or [""]
    return "<br>".join(html.escape(line, quote=True) for line in lines)


def show_text(label: str, text: object, *, height: int | None = None) -> None:
    """A block of dataset text shown literally (monospace, wrapped): never interpreted as HTML or markdown."""
    st.caption(label)
    s = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    if not s:
        st.text("(empty)")
        return
    st.code(s, language=None, wrap_lines=True, height=height if height else "content")


def md_escape(text: object) -> str:
    """Text safe inside st.markdown / st.warning / widget labels: every ASCII punctuation character is
    backslash-escaped (CommonMark), so no markdown, link or HTML tag is formed; it displays literally."""
    s = "" if text is None else str(text)
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", s)


def direction(v: object) -> bool | None:
    """A score's higher_is_better as True / False / None (NULL, NaN and numpy bools handled)."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return bool(v)


def direction_text(v: object) -> str:
    d = direction(v)
    return "higher is better" if d is True else "lower is better" if d is False else "no direction"


# ---------------------------------------------------------------------------------------------- formatting
def fmt_int(n: float | int | None) -> str:
    return "—" if n is None or (isinstance(n, float) and np.isnan(n)) else f"{int(n):,}"


def fmt_num(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "—"
    return f"{x:,.{digits}g}" if abs(x) < 1e4 else f"{x:,.0f}"


def fmt_pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{100 * x:.{digits}f}%"


# ---------------------------------------------------------------------------------------------- downsampling
def downsample(strata: np.ndarray, *, max_points: int = MAX_MAP_POINTS, keep: np.ndarray | None = None,
               seed: int = 0) -> np.ndarray:
    """Positions (sorted) of at most ``max(max_points, keep.sum())`` points: every ``keep`` point, plus a
    stratified sample of the rest (each stratum proportional to its size, at least one point per stratum while
    room is left). strata: (n,) labels (any hashable); keep: (n,) bool. O(n log n)."""
    n = len(strata)
    keep = np.zeros(n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    if n <= max_points:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    kept = np.flatnonzero(keep)
    room = max(0, max_points - len(kept))
    rest = np.flatnonzero(~keep)
    codes = pd.factorize(pd.Series(np.asarray(strata, dtype=object)[rest]))[0]
    sizes = np.bincount(codes) if len(codes) else np.zeros(0, dtype=np.int64)
    quota = np.floor(sizes * (room / max(len(rest), 1))).astype(np.int64)
    quota = np.minimum(np.maximum(quota, (sizes > 0).astype(np.int64)), sizes)
    while quota.sum() > room and quota.max() > 0:  # the "at least one" floor may overshoot the room
        quota[np.argmax(quota)] -= 1
    pri = rng.random(len(rest))
    order = np.lexsort((pri, codes))
    c_sorted = codes[order]
    starts = np.searchsorted(c_sorted, np.arange(len(sizes)))
    rank_in = np.arange(len(order)) - starts[c_sorted]
    take = rest[order[rank_in < quota[c_sorted]]]
    return np.sort(np.concatenate([kept, take]))


def selection_row_ids(points: list[dict], rows_by_trace: list[list[int]]) -> list[int]:
    """Row ids of the points of a plotly selection event (sorted, unique): each point's ``customdata[0]`` when
    present, else its (curve_number, point_index) looked up in the row ids of the traces as drawn."""
    ids: set[int] = set()
    for p in points:
        cd = p.get("customdata")
        if isinstance(cd, (list, tuple)) and len(cd) and isinstance(cd[0], (int, float)):
            cd = cd[0]
        if isinstance(cd, (int, float)) and not isinstance(cd, bool):
            ids.add(int(cd))
            continue
        c, i = p.get("curve_number"), p.get("point_index", p.get("point_number"))
        if c is not None and i is not None and 0 <= c < len(rows_by_trace) and 0 <= i < len(rows_by_trace[c]):
            ids.add(int(rows_by_trace[c][i]))
    return sorted(ids)


# ---------------------------------------------------------------------------------------------- budget
BUDGET_UNITS = ("rows", "%", "tokens")
QUOTA_MODES = ("none", "proportional", "balanced", "custom")


@st.cache_data(show_spinner=False, max_entries=4)
def label_token_series(path: str, data_stamp: str) -> tuple[pd.Series, pd.Series]:
    """(labels, n_tokens) as pd.Series indexed by row_id: what :func:`curation.subset.resolve` would read for the
    label column "label" (cached by the workspace's data stamp, so a budget change reads nothing)."""
    meta = load_meta(path, data_stamp)
    idx = meta["row_id"].to_numpy()
    return (pd.Series(meta["label"].to_numpy(object), index=idx),
            pd.Series(meta["n_tokens"].fillna(0).to_numpy(np.float64), index=idx))


def budget_state() -> dict:
    """The current subset's parameters (view state): ranking key, unit, value, quota."""
    return {"ranking": st.session_state.get(K_RANKING), "unit": st.session_state.get(K_BUDGET_UNIT, "%"),
            "value": st.session_state.get(K_BUDGET_VALUE, 10.0), "quota": st.session_state.get(K_QUOTA)}


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
    return SubsetSpec(ranking=key, budget=b["value"], unit=b["unit"], quota=b["quota"] or None)


def resolve_spec(ws: Workspace, spec: SubsetSpec) -> Subset:
    """:func:`curation.subset.resolve` with the cached ranking, labels and token counts of this workspace."""
    P, S = str(ws.path), stamp(ws)
    ranking = load_ranking(P, S, spec.ranking) if spec.ranking else None
    if spec.ranking and ranking is None:
        raise CurationError(f"no ranking {spec.ranking!r} in workspace {ws.path}; compute one on the Select page")
    labels, toks = label_token_series(P, S)
    plain = spec.label_column == "label" and spec.datasets is None
    return resolve(ws, spec, ranking=ranking, labels=labels if plain else None, n_tokens=toks)


def current_subset(ws: Workspace, *, ranking_key: str | None = None) -> tuple[Ranking, np.ndarray] | None:
    """(ranking, selected row ids) of :func:`current_spec` (pins applied), or None when no ranking exists."""
    spec = current_spec(ws, ranking_key=ranking_key)
    if spec is None:
        return None
    try:
        sub = resolve_spec(ws, spec)
    except CurationError as exc_:
        st.error(str(exc_))
        return None
    return sub.ranking, sub.row_ids


def require_subset(ws: Workspace) -> tuple[Ranking, np.ndarray]:
    """current_subset, or an empty state pointing to the Select page (and the page stops there)."""
    sub = current_subset(ws)
    if sub is None:
        st.info("No subset yet — compute a ranking and choose a budget on the Select page.", icon=":material/info:")
        link("pages/select.py", "Go to Select", icon=":material/checklist:")
        st.stop()
    return sub

def by_row_id(meta: pd.DataFrame, column: str, fill: Any = None) -> np.ndarray:  # noqa: ANN401
    """A dense array indexed by row_id (length max(row_id)+1) of ``meta[column]``."""
    n = int(meta["row_id"].max()) + 1 if len(meta) else 0
    if meta[column].dtype.kind in "iuf":
        out = np.full(n, np.nan if fill is None else fill, dtype=np.float64)
    else:
        out = np.full(n, fill, dtype=object)
    out[meta["row_id"].to_numpy()] = meta[column].to_numpy()
    return out


# ---------------------------------------------------------------------------------------------- widget groups
def describe_param_widgets(cls: type, prefix: str, *, score_keys: list[str],
                           skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """One widget per keyword-only parameter of ``cls.__init__`` (checkbox / number / text / score picker),
    keyed ``{prefix}:{param}``. Returns the parameters that differ from their defaults."""
    out: dict[str, Any] = {}
    sig = inspect.signature(cls.__init__)
    params = [p for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY and p.name not in skip]
    if not params:
        st.caption("This method has no parameters.")
        return out
    cols = st.columns(min(3, len(params)))
    for i, p in enumerate(params):
        d = p.default
        key = f"{prefix}:{p.name}"
        with cols[i % len(cols)]:
            if p.name in ("score", "density") or p.name.endswith("_score") or p.name == "quality":
                opts = ["(default)"] + score_keys
                v = st.selectbox(p.name, opts, key=key, help=f"A stored score key (default: {d!r})")
                if v != "(default)":
                    out[p.name] = v
                continue
            if isinstance(d, bool):
                v = st.checkbox(p.name, value=d, key=key)
            elif isinstance(d, int):
                v = int(st.number_input(p.name, value=d, step=1, key=key))
            elif isinstance(d, float):
                v = float(st.number_input(p.name, value=d, format="%.4g", key=key))
            elif isinstance(d, str) or d is None:
                txt = st.text_input(p.name, value="" if d is None else d, key=key,
                                    help="Leave empty for the default." if d is None else None)
                v = (txt or None) if d is None else txt
            else:
                txt = st.text_input(p.name, value=json.dumps(d), key=key, help="JSON value")
                try:
                    v = json.loads(txt)
                except ValueError:
                    st.error(f"{p.name}: not valid JSON")
                    v = d
            if v != d:
                out[p.name] = v
    return out


# ---------------------------------------------------------------------------------------------- background jobs
class _Throttle:
    """Write progress to the workspace at most every ``every`` seconds (and always at the end)."""

    def __init__(self, ws: Workspace, key: str, kind: str, every: float = 0.5) -> None:
        self.ws, self.key, self.kind, self.every = ws, key, kind, every
        self.last = 0.0
        self.stage = ""

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < self.every and done < total:
            return
        self.last = now
        self.ws.set_job(self.key, kind=self.kind, status="running", done=int(done), total=int(total),
                        message=self.stage)

    def factory(self, stage: str) -> Callable[[int, int], None]:
        """For engine functions taking ``progress(desc) -> callback`` (run_scorers, demo builder)."""
        self.stage = stage
        self.last = 0.0
        return self


@st.cache_resource(show_spinner=False)
def _threads() -> dict[str, threading.Thread]:
    return {}


def job_running(ws: Workspace, key: str) -> bool:
    t = _threads().get(f"{ws.path}::{key}")
    return t is not None and t.is_alive()


def start_job(ws: Workspace, key: str, kind: str, fn: Callable[[_Throttle], Any]) -> bool:  # noqa: ANN401
    """Run ``fn(progress)`` in a background thread of this server, recording status in the workspace job ``key``
    (so a progress bar survives a page change and shows in any session). Returns False when already running."""
    reg = _threads()
    rk = f"{ws.path}::{key}"
    if rk in reg and reg[rk].is_alive():
        return False
    prog = _Throttle(ws, key, kind)

    def body() -> None:
        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:  # pragma: no cover
            pass
        try:
            ws.set_job(key, kind=kind, status="running", message="starting")
            result = fn(prog)
            j = ws.job(key) or {}
            ws.set_job(key, kind=kind, status="done", done=int(j.get("total") or 1), total=int(j.get("total") or 1),
                       message="done", params={"result": result if isinstance(result, (str, int, float)) else None})
        except Exception as exc:  # noqa: BLE001 - shown to the user on the page
            msg = str(exc) if isinstance(exc, CurationError) else f"{type(exc).__name__}: {exc}"
            try:
                ws.set_job(key, kind=kind, status="failed", message=msg[:1000])
            except Exception:  # noqa: BLE001
                traceback.print_exc()

    t = threading.Thread(target=body, name=f"curation-job-{key}", daemon=True)
    reg[rk] = t
    t.start()
    return True


def job_result(ws: Workspace, key: str) -> Any:  # noqa: ANN401
    """What the job's function returned (a str/number), once it is done; else None."""
    j = ws.job(key)
    if not j or j.get("status") != "done":
        return None
    p = j.get("params")
    p = json.loads(p) if isinstance(p, str) else (p or {})
    return p.get("result")


def job_status(ws: Workspace, key: str) -> dict | None:
    """The job row; ``here`` tells whether a thread of this server runs it (a "running" job without one was
    started by another process, e.g. the CLI, or interrupted by a server restart)."""
    j = ws.job(key)
    if j is None:
        return None
    j["here"] = job_running(ws, key)
    return j


def render_job(ws: Workspace, key: str, label: str) -> str | None:
    """Progress bar / result line of one UI job. Returns its status (None when never started)."""
    j = job_status(ws, key)
    if j is None:
        return None
    status = j.get("status")
    done, total = int(j.get("done") or 0), int(j.get("total") or 0)
    msg = str(j.get("message") or "")
    if status == "running":
        frac = min(1.0, done / total) if total else 0.0
        where = "" if j["here"] else " (not run by this server: another process, or interrupted by a restart)"
        st.progress(frac, text=f"{label}: {msg + ' — ' if msg else ''}{fmt_int(done)} / {fmt_int(total)}{where}")
    elif status == "done":
        st.success(f"{label}: done", icon=":material/check_circle:")
    elif status == "failed":
        st.error(f"{label} failed: {msg}")
    elif status == "interrupted":
        st.warning(f"{label} was interrupted; start it again (finished batches are kept).")
    return status


def any_job_running(ws: Workspace, keys: list[str]) -> bool:
    return any(job_running(ws, k) for k in keys)
