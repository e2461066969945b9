"""Streamlit entry point: the router. Pages live in pages/ and stay thin views over curation/."""
from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Curation dashboard", page_icon=":material/filter_alt:", layout="wide")

PAGES = [
    st.Page("pages/data.py", title="Data", icon=":material/database:", default=True),
]

st.navigation(PAGES).run()
