"""Streamlit widgets shared by the pages: the sidebar and page header, links between pages, literal text blocks,
the empty state of the subset pages, the selector-parameter widgets and the map's selection events."""
from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from curation.core.ranking import Ranking
from curation.store import Workspace
from pages.state import K_CURATOR, current_subset, curator, load_meta, workspace, workspace_path


# ---------------------------------------------------------------------------------------------- page frame
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


def link(page: str, label: str, *, icon: str | None = None) -> None:
    """A link to another page; a plain caption when the page is not in the navigation (a page run on its own)."""
    try:
        st.page_link(page, label=label, icon=icon)
    except Exception:  # StreamlitPageNotFoundError outside st.navigation
        st.caption(f"{label}: open the {Path(page).stem.capitalize()} page.")


def go_to(page: str) -> None:
    """Switch page (no-op outside st.navigation, e.g. a page run on its own in a test)."""
    try:
        st.switch_page(page)
    except Exception as exc:
        if type(exc).__name__ in ("RerunException", "StopException"):
            raise
        st.caption(f"Open the {Path(page).stem.capitalize()} page.")


def require_examples(path: str, data_stamp: str) -> pd.DataFrame:
    """load_meta, or an empty state pointing to the Data page (and the page stops there)."""
    meta = load_meta(path, data_stamp)
    if meta.empty:
        st.info("No examples yet — add a dataset on the Data page.", icon=":material/info:")
        st.stop()
    return meta


def require_subset(ws: Workspace) -> tuple[Ranking, np.ndarray]:
    """current_subset, or an empty state pointing to the Select page (and the page stops there)."""
    sub = current_subset(ws)
    if sub is None:
        st.info("No subset yet — compute a ranking and choose a budget on the Select page.", icon=":material/info:")
        link("pages/select.py", "Go to Select", icon=":material/checklist:")
        st.stop()
    return sub


def show_in_browser(key: str, value: Any, options: Any = None) -> None:
    """Give the keyed widget ``key`` the value ``value`` through session state when it has none (its first run,
    or after :func:`pages.saved.load_into_draft` cleared it), so that the browser draws it too. A keyed widget
    keeps its identity when only its default (``index=`` / ``value=``) changes, and the browser then goes on
    showing its previous choice while the server uses the new default; a value set through session state is
    sent to the browser. ``options``: when given, a value outside them is left to the widget's default."""
    if key in st.session_state:
        return
    if options is not None and value not in list(options):
        return
    st.session_state[key] = value


# ---------------------------------------------------------------------------------------------- text
def show_text(label: str, text: object, *, height: int | None = None) -> None:
    """A block of dataset text shown literally (monospace, wrapped): never interpreted as HTML or markdown."""
    st.caption(label)
    s = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    if not s:
        st.text("(empty)")
        return
    st.code(s, language=None, wrap_lines=True, height=height if height else "content")


# ---------------------------------------------------------------------------------------------- inputs
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
