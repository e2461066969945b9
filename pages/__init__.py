"""The dashboard's pages and their Streamlit-only helpers (app.py routes to them with st.navigation).

A ``pages/`` folder beside the entry point makes Streamlit 1.6x start every server in its older automatic page
discovery: until app.py has called ``st.navigation`` once, the first request for a sub-page URL (``/map``) runs that
page file on its own, with the folder's raw file list as the sidebar. Every page imports this package first, so the
guard below turns such a first run into a rerun of app.py, which then routes to the same URL with the app's layout.
``tests/test_browser_subpage.py`` opens sub-pages first on a fresh server to hold this in place.
"""
from __future__ import annotations

from streamlit.runtime.pages_manager import PagesManager

if PagesManager.uses_pages_directory:
    import streamlit as st
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.util import calc_hash

    PagesManager.uses_pages_directory = False  # what st.navigation sets on its first call
    _ctx = get_script_run_ctx()
    if _ctx is not None:
        # Rerun towards the URL the browser asked for: st.Page hashes are calc_hash(url_path), and the automatic
        # discovery knows only file names (inspector.py serves /inspect), so its own page choice may be wrong.
        _name = _ctx.pages_manager.intended_page_name or ""
        _ctx.pages_manager.set_current_page_script_hash(calc_hash(_name) if _name else "")
    st.rerun()
