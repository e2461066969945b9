"""Streamlit entry point: the router. Pages live in pages/ and stay thin views over curation/ (pages/__init__.py
keeps Streamlit's automatic page discovery from taking over a server's first request).

Run: ``CURATION_WORKSPACE=data/workspace.duckdb streamlit run app.py`` (binds 127.0.0.1, see .streamlit/config.toml).
"""
from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # `pages` and `curation` import from the project root
    sys.path.insert(0, str(ROOT))

from pages import jobs, widgets  # noqa: E402
from pages.build_status import demo_build_progress  # noqa: E402

st.set_page_config(page_title="Curation dashboard", page_icon=":material/filter_alt:", layout="wide")

PAGES = {
    "Workspace": [
        st.Page("pages/data.py", title="Data", icon=":material/database:", default=True),
    ],
    "Explore": [
        st.Page("pages/map.py", title="Map", icon=":material/scatter_plot:"),
        st.Page("pages/scores.py", title="Scores", icon=":material/leaderboard:"),
        st.Page("pages/inspector.py", title="Inspect", icon=":material/search:", url_path="inspect"),
        st.Page("pages/search.py", title="Search", icon=":material/manage_search:", url_path="search"),
    ],
    "Curate": [
        st.Page("pages/select.py", title="Select", icon=":material/checklist:"),
        st.Page("pages/balance.py", title="Balance", icon=":material/balance:"),
        st.Page("pages/subsets.py", title="Saved subsets", icon=":material/bookmarks:", url_path="subsets"),
        st.Page("pages/export.py", title="Export", icon=":material/download:"),
    ],
}

page = st.navigation(PAGES)
widgets.sidebar()
demo_build_progress()
jobs.sidebar_jobs()
page.run()
