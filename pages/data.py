"""Data page: the workspace's datasets and counts."""
from __future__ import annotations

import streamlit as st

from pages.ui import workspace

ws = workspace()
st.title("Data")
st.caption(f"Workspace `{ws.path}`")
summary = ws.summary()
c = st.columns(4)
c[0].metric("Examples", f"{summary['examples']:,}")
c[1].metric("Datasets", summary["datasets"])
c[2].metric("Embedded", ", ".join(f"{n:,}" for n in summary["embedding_models"].values()) or "0")
c[3].metric("Decisions", summary["decisions"])
ds = ws.datasets()
if ds.empty:
    st.info("No dataset yet. Add one with `python -m curation ingest FILE`.")
else:
    st.dataframe(ds[["name", "kind", "shape", "n_rows", "source", "ingested_at"]], hide_index=True,
                 use_container_width=True)
