"""Streamlit entry point: the router. Pages live in views/ (not pages/: a pages/ folder
beside the entry point switches Streamlit to its automatic page discovery) and stay thin views over curation/.

Run: ``CURATION_WORKSPACE=data/workspace.duckdb streamlit run app.py`` (binds 127.0.0.1, see .streamlit/config.toml).
"""
from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # `views` and `curation` import from the project root
    sys.path.insert(0, str(ROOT))

from views import widgets  # noqa: E402
from views.build_status import demo_build_progress  # noqa: E402

st.set_page_config(page_title="Curation dashboard", page_icon=":material/filter_alt:", layout="wide")

PAGES = {
    "Workspace": [
        st.Page("views/data.py", title="Data", icon=":material/database:", default=True),
    ],
    "Explore": [
        st.Page("views/map.py", title="Map", icon=":material/scatter_plot:"),
        st.Page("views/scores.py", title="Scores", icon=":material/leaderboard:"),
        st.Page("views/inspector.py", title="Inspect", icon=":material/search:", url_path="inspect"),
    ],
    "Curate": [
        st.Page("views/select.py", title="Select", icon=":material/checklist:"),
        st.Page("views/balance.py", title="Balance", icon=":material/balance:"),
        st.Page("views/export.py", title="Export", icon=":material/download:"),
    ],
}

page = st.navigation(PAGES)
widgets.sidebar()
demo_build_progress()
page.run()
