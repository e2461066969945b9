"""End-to-end test in headless Chromium: `streamlit run app.py` on a small demo workspace, driven by Playwright.

Opens every page, moves the budget, box-selects points on the map and pins them (checked in the workspace's
decision log), exports, and proves that dataset text with <script>/<b> tags is shown as text. Screenshots of every
page go to tests/screenshots/ (git-ignored). Skips cleanly when Chromium (/usr/bin/chromium) or Playwright is absent.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from browser_support import BROWSER_MARKS, ROOT, StreamlitServer, chromium_page, map_frame, metric_value
from browser_support import open_page, poll, shot, wait_idle

HOSTILE = "<script>alert('pwned')</script> <b>bold</b> <img src=x onerror=alert(1)>"

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo workspace (400 SFT + 60 preference pairs, analysed, scored, ranked) plus one hostile example."""
    import json

    d = tmp_path_factory.mktemp("e2e")
    ws = d / "demo.duckdb"
    prebuilt = os.environ.get("CURATION_E2E_WORKSPACE")  # a workspace this fixture built before (dev loop)
    if prebuilt:
        shutil.copy(prebuilt, ws)
        return ws
    src = d / "hostile.jsonl"
    src.write_text(json.dumps({"prompt": "Hostile " + HOSTILE, "response": HOSTILE}) + "\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    py = sys.executable
    subprocess.run([py, "-m", "curation", "--workspace", str(ws), "ingest", str(src), "--name", "hostile"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    cli = [py, "-m", "curation", "--workspace", str(ws)]
    demo = subprocess.run(cli + ["demo", "--n-sft", "400", "--n-pref", "60"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    # the steps after the analysis again, each idempotent (so a demo builder that stops early still gives the
    # workspace this test needs)
    for step in (["score", "heuristics", "--quiet"], ["select", "random"], ["select", "facility"]):
        r = subprocess.run(cli + step, cwd=ROOT, env=env, capture_output=True, text=True)
        assert r.returncode == 0, (step, r.stderr[-2000:], demo.stderr[-2000:])
    return ws


@pytest.fixture(scope="module")
def server(demo_ws: Path):
    with StreamlitServer(demo_ws) as s:
        yield s.url


@pytest.fixture(scope="module")
def browser_page(server: str):
    with chromium_page(width=1440, height=1000) as page:
        yield page


def test_end_to_end(browser_page, server: str, demo_ws: Path) -> None:
    from curation.store import Workspace

    page = browser_page
    ws = Workspace(demo_ws)

    # ---- Data
    open_page(page, server, "")
    page.get_by_role("heading", name="Data", exact=True).wait_for()
    assert metric_value(page, "Examples") == f"{ws.n_examples():,}"
    shot(page, "01_data")

    # ---- Select: move the budget with the keyboard on the slider
    open_page(page, server, "select")
    before = metric_value(page, "Selected")
    slider = page.get_by_role("slider").first
    slider.focus()
    for _ in range(10):
        slider.press("ArrowRight")
    n0 = int(before.replace(",", ""))
    after = poll(lambda: (v := int(metric_value(page, "Selected").replace(",", ""))) > n0 and v)
    assert after, (before, metric_value(page, "Selected"))
    wait_idle(page)
    shot(page, "02_select")

    # ---- Map: box-select the middle of the plot (WebGL renderer, in its iframe) and pin the points
    open_page(page, server, "map")
    frame = map_frame(page)
    canvas = frame.locator("#gl").bounding_box()
    assert canvas is not None
    x0, y0 = canvas["x"] + canvas["width"] * 0.2, canvas["y"] + canvas["height"] * 0.2
    x1, y1 = canvas["x"] + canvas["width"] * 0.8, canvas["y"] + canvas["height"] * 0.8
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
    heading = page.get_by_role("heading", name="Selected on the map")
    n_sel = poll(lambda: int(heading.inner_text().rsplit(":", 1)[1].strip().replace(",", "")))
    assert n_sel and n_sel > 0, heading.inner_text()
    wait_idle(page)
    assert frame.evaluate("() => document.body.dataset.selected") == str(n_sel)  # drawn as selected
    shot(page, "03_map_selected")
    page.get_by_role("button", name="Pin include").click()
    assert poll(lambda: (ws.pins()["pin"] == "include").sum() == n_sel)
    page.get_by_text(f"Pinned {n_sel:,} examples to always include").wait_for()
    wait_idle(page)
    assert set(ws.decisions()["who"]) == {"e2e"}
    assert frame.evaluate("() => document.body.dataset.selected") == str(n_sel)  # the selection survived the rerun
    shot(page, "04_map_pinned")

    # ---- Scores, Balance
    open_page(page, server, "scores")
    page.get_by_role("heading", name="Scores", exact=True).wait_for()
    shot(page, "05_scores")
    open_page(page, server, "balance")
    page.get_by_role("heading", name="Balance", exact=True).wait_for()
    shot(page, "06_balance")

    # ---- Inspect the hostile example: its tags are text, nothing runs
    hostile_id = ws.examples(["example_id"], dataset="hostile")["example_id"].iloc[0]
    open_page(page, server, "inspect")
    page.get_by_label("…or example id").fill(hostile_id)
    page.get_by_label("…or example id").press("Enter")
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    assert main.get_by_text("<script>alert('pwned')</script>", exact=False).count() >= 2  # prompt and response
    assert main.locator("b", has_text="bold").count() == 0
    assert main.locator('img[src="x"]').count() == 0
    shot(page, "07_inspect_hostile")

    # ---- Map hover of the hostile point: its text arrives on demand and shows literally in the tooltip
    open_page(page, server, "map")
    frame = map_frame(page)
    rid = int(ws.examples(["row_id"], dataset="hostile")["row_id"].iloc[0])
    row_ids, xy = ws.projection(ws.projection_defs()["key"].iloc[-1])
    hx, hy = (float(v) for v in xy[list(row_ids).index(rid)])
    px, py = frame.evaluate(f"() => dataToPixel({hx}, {hy})")
    canvas = frame.locator("#gl").bounding_box()
    page.mouse.move(canvas["x"] + px + 3, canvas["y"] + py + 3)
    page.mouse.move(canvas["x"] + px, canvas["y"] + py, steps=2)
    tip = frame.locator("#tip")
    assert poll(lambda: "pwned" in tip.inner_text(), timeout=30), tip.inner_text()
    assert "<script>alert('pwned')</script>" in tip.inner_text()  # shown as text ...
    assert "&lt;script&gt;" in tip.inner_html() and tip.locator("b, img, script").count() == 0  # ... never as HTML
    shot(page, "08_map")

    # ---- Export
    open_page(page, server, "export")
    page.get_by_role("textbox", name="File name").fill("e2e_subset")
    page.get_by_role("textbox", name="File name").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Export", exact=True).click()
    wait_idle(page)
    page.get_by_text("Exported").first.wait_for()
    ex = ws.exports()
    assert len(ex) == 1 and Path(ex.iloc[0]["path"]).is_file()
    shot(page, "09_export")

    assert page.dialogs == []  # no alert() ever ran  # type: ignore[attr-defined]


def test_screenshots_folder_is_git_ignored() -> None:
    assert "tests/screenshots/" in (ROOT / ".gitignore").read_text()

