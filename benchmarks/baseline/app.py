"""The dashboard's Map and Select pages as they were before the WebGL renderer (Plotly Scattergl of a 50k stratified
sample, hover text for every drawn point sent up front) — served by bench_browser.py as the side-by-side baseline."""
from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pages import widgets  # noqa: E402

st.set_page_config(page_title="Curation dashboard (baseline)", layout="wide")
HERE = Path(__file__).resolve().parent
page = st.navigation([st.Page(str(ROOT / "pages" / "data.py"), title="Data", default=True),
                      st.Page(str(HERE / "map_plotly.py"), title="Map", url_path="map"),
                      st.Page(str(HERE / "select_before.py"), title="Select", url_path="select")])
widgets.sidebar()
page.run()
