"""Streamlit-only helpers shared by the pages: the workspace handle, cached loaders, session keys."""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from curation.errors import CurationError
from curation.store import Workspace, default_workspace_path


def workspace_path() -> Path:
    """The workspace of this session: chosen on the Data page, else $CURATION_WORKSPACE or the default."""
    p = st.session_state.get("workspace_path")
    return Path(p) if p else default_workspace_path()


@st.cache_resource(show_spinner=False)
def _workspace(path: str) -> Workspace:
    return Workspace(path)


def workspace() -> Workspace:
    """The Workspace handle (it opens a DuckDB connection per operation, so it is safe across sessions)."""
    try:
        return _workspace(str(workspace_path()))
    except CurationError as exc:
        st.error(str(exc))
        st.stop()


def curator() -> str:
    """Name recorded with every decision of this session."""
    return st.session_state.get("curator") or os.environ.get("CURATION_USER") or os.environ.get("USER") or "curator"
