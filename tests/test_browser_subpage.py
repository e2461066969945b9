"""A bookmarked sub-page opened first on a freshly started server gets the app's layout (the st.navigation sidebar),
not Streamlit's automatic page list. Headless Chromium via Playwright; skips when /usr/bin/chromium is absent."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CURATION_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed "
                                 "(apt-get install chromium)")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def fresh_server(tmp_path: Path):
    """A new `streamlit run app.py` process on an empty workspace that no browser has talked to yet."""
    from curation.store import Workspace

    ws = tmp_path / "empty.duckdb"
    Workspace(ws)
    port = _free_port()
    env = {**os.environ, "CURATION_WORKSPACE": str(ws), "CURATION_USER": "e2e", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    log_path = tmp_path / "streamlit.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                 "--server.address", "127.0.0.1", "--server.headless", "true",
                                 "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            proc.terminate()
            pytest.fail("streamlit did not start: " + log_path.read_text()[-2000:])
        try:
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.parametrize("path", ["map", "inspect"])
def test_sub_page_first_request_gets_the_app_layout(fresh_server: str, path: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)
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
        finally:
            browser.close()
