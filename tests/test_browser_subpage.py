"""A bookmarked sub-page opened first on a freshly started server gets the app's layout (the st.navigation sidebar),
not Streamlit's automatic page list. Headless Chromium via Playwright; skips when /usr/bin/chromium is absent."""
from __future__ import annotations

from pathlib import Path

import pytest

from browser_support import BROWSER_MARKS, StreamlitServer, chromium_page

ROOT = Path(__file__).resolve().parent.parent
pytestmark = BROWSER_MARKS


@pytest.fixture
def fresh_server(tmp_path: Path):
    """A new `streamlit run app.py` process on an empty workspace that no browser has talked to yet."""
    from curation.store import Workspace

    ws = tmp_path / "empty.duckdb"
    Workspace(ws)
    with StreamlitServer(ws) as server:
        yield server.url


@pytest.mark.parametrize("path", ["map", "inspect"])
def test_sub_page_first_request_gets_the_app_layout(fresh_server: str, path: str) -> None:
    with chromium_page(width=1280, height=900) as page:
        page.goto(f"{fresh_server}/{path}")
        page.wait_for_selector('[data-testid="stSidebarNav"]')
        page.wait_for_selector('h1')
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        # the navigation of app.py: its sections and titles, none of the module files
        for want in ("Workspace", "Explore", "Curate", "Data", "Map", "Inspect", "Select", "Export"):
            assert want in nav, nav
        for raw in ("app", "ui", "state", "widgets", "jobs", "formatting", "inspector"):
            assert raw not in nav.split(), nav
        # the app's layout: the sidebar built by app.py (workspace and curator name) around the page
        page.get_by_text("Curator name").wait_for()
        assert page.locator("h1").first.inner_text().strip().lower() == path
        assert page.locator('[data-testid="stException"]').count() == 0
