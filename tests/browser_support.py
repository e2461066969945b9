"""What every browser test shares: a `streamlit run app.py` server on a free port over a given workspace, a headless
Chromium page driven by Playwright, and the waits that make a test hold on a busy machine.

Browser test modules start their server and page in module fixtures::

    with StreamlitServer(ws_path) as server, chromium_page() as page:
        open_page(page, server.url, "map")
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CURATION_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "tests" / "screenshots"
# Without the background-networking flags Chromium's calls home are refused by a closed network, many at a time.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
# Seconds a server may take to answer its health check: generous, a busy 2-core machine takes tens of seconds.
START_TIMEOUT = float(os.environ.get("CURATION_TEST_SERVER_TIMEOUT", "180"))

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason=f"{CHROMIUM} not installed (apt-get install chromium)")
BROWSER_MARKS = [pytest.mark.browser, pytest.mark.slow, needs_chromium]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StreamlitServer:
    """``streamlit run app.py`` on a free 127.0.0.1 port over ``workspace``; :meth:`restart` starts a fresh
    process. ``env`` adds variables to the server's environment. Its log lies beside the workspace."""

    def __init__(self, workspace: Path, *, env: dict[str, str] | None = None) -> None:
        self.workspace = Path(workspace)
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.log_path = self.workspace.parent / "streamlit.log"
        self.start()

    def start(self) -> None:
        port = free_port()
        env = {**os.environ, "CURATION_WORKSPACE": str(self.workspace), "CURATION_USER": "e2e",
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
               **self.extra_env}
        self.log_path = self.workspace.parent / f"streamlit-{port}.log"
        self._log = open(self.log_path, "w")  # closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
             "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=5).read() == b"ok":
                    return
            except OSError:
                time.sleep(0.5)
        self.stop()
        pytest.fail("streamlit did not start: " + self.log_path.read_text()[-2000:])

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None
            self._log.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> StreamlitServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@contextmanager
def chromium_page(*, width: int = 1440, height: int = 1000, timeout_ms: int = 60_000) -> Iterator[Any]:
    """A Playwright page in headless Chromium (dialogs dismissed and kept in ``page.dialogs``)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(timeout_ms)
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.dialogs = dialogs  # type: ignore[attr-defined]
            yield page
        finally:
            browser.close()


def wait_idle(page: Any, timeout: float = 120.0) -> None:
    """Wait until the app has finished rendering: no skeleton, spinner, stale element or running indicator, and
    the main area's element count unchanged for ~1.5 s. Fails on any exception box."""
    page.wait_for_selector('[data-testid="stApp"]')
    busy = ('[data-testid="stSkeleton"], [data-testid="stSpinner"], [data-stale="true"], '
            '[data-testid="stStatusWidget"]')
    deadline = time.time() + timeout
    last, stable = -1, 0
    while time.time() < deadline and stable < 3:
        time.sleep(0.5)
        n = page.locator('[data-testid="stMain"] *').count()
        if page.locator(busy).count() == 0 and n == last and n > 0:
            stable += 1
        else:
            stable = 0
        last = n
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]').first.inner_text()


def open_page(page: Any, server: str, path: str) -> None:
    page.goto(f"{server}/{path}")
    wait_idle(page)


def poll(fn: Callable[[], Any], *, timeout: float = 60.0) -> Any:
    """fn() until it returns something truthy (reruns finish asynchronously, fragments without a status widget)."""
    deadline = time.time() + timeout
    while True:
        try:
            got = fn()
        except Exception:  # element not there yet
            got = None
        if got or time.time() > deadline:
            return got
        time.sleep(0.5)


def shot(page: Any, name: str) -> Path:
    """Full-page screenshot (tests/screenshots/NAME.png, git-ignored) once the visible data grids are drawn (each
    has its canvases; one grid draws two, so grids are counted, not canvases)."""
    grids = page.locator('[data-testid="stDataFrame"]:visible')   # a grid in a hidden tab is never drawn
    poll(lambda: grids.count() == grids.filter(has=page.locator("canvas")).count() or None, timeout=20)
    time.sleep(2.0)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def metric_value(page: Any, label: str) -> str:
    m = page.locator('[data-testid="stMetric"]', has_text=label).first
    return m.locator('[data-testid="stMetricValue"]').inner_text().strip()


def map_frame(page: Any) -> Any:
    """The map renderer's iframe (a Playwright Frame), once its points are drawn."""
    el = page.locator('iframe[title*="curation_scatter"]')
    el.wait_for()
    frame = el.element_handle().content_frame()
    assert poll(lambda: int(frame.evaluate("() => document.body.dataset.drawn || 0")) > 0, timeout=60)
    return frame
