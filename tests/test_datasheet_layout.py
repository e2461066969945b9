"""Datasheet layout: one class table, the near-duplicate section lists its rows with the kept example each
duplicates, and no table is wider than the screen or the printed page (checked in real Chromium)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from curation.store import Workspace

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def sheet(tiny_ws, tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, str, dict]:
    import json

    from curation.export import export_subset
    from curation.select import run_selection
    from curation.workflows.analyze import analyze

    dst = tmp_path_factory.mktemp("sheet") / "s.duckdb"
    shutil.copy(tiny_ws.path, dst)
    ws = Workspace(dst)
    analyze(ws, steps=("graph", "dedup"))
    r = run_selection(ws, "random", {}, seed=0)
    res = export_subset(ws, ranking_key=r.method, budget_rows=150, name="sheet")
    return ws, res.datasheet_path.read_text(encoding="utf-8"), json.loads(res.manifest_path.read_text())


def test_class_table_once(sheet) -> None:
    _, html, _ = sheet
    assert html.count("Class balance</h") == 1  # the datasheet's class section; the report card does not repeat it
    assert html.count(">pool share<") == 1


def _section(html: str, title_start: str) -> str:
    i = html.index(f"<h3>{title_start}")
    j = html.find("<h3>", i + 4)
    return html[i:j if j > 0 else len(html)]


def test_near_duplicate_section_lists_its_rows(sheet) -> None:
    ws, html, manifest = sheet
    sec = _section(html, "near duplicate of a kept example")
    n = int(re.search(r"— (\d+)", sec).group(1))
    rows = re.findall(r"<tr><td>(.*?)</td>", sec)
    assert n >= 1
    assert len(rows) == n or f"first {len(rows)} of {n}" in sec, (n, len(rows))
    kept = set(manifest["example_ids"])
    named = re.findall(r"near duplicate of (\S+?) \(kept\)", sec)
    assert len(named) == len(rows) and set(named) <= kept


def _widths(html: str, *, media: str, width: int) -> dict:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.emulate_media(media=media)
            page.set_content(html)
            return page.evaluate("""() => {
                const W = document.documentElement.clientWidth;
                const over = [...document.querySelectorAll('table, svg, .wrap')]
                    .filter(e => e.getBoundingClientRect().right > W + 1 || e.scrollWidth > e.clientWidth + 1)
                    .map(e => e.tagName + ':' + Math.round(e.getBoundingClientRect().right) + '/' + e.scrollWidth);
                return {page: document.documentElement.scrollWidth, W: W, over: over};
            }""")
        finally:
            browser.close()


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed")
@pytest.mark.parametrize(("media", "width"), [("print", 718), ("screen", 1100), ("screen", 760)])
def test_nothing_is_cut_off(sheet, media: str, width: int) -> None:
    """718 px = an A4 page's printable width (190 mm at 96 dpi)."""
    _, html, _ = sheet
    w = _widths(html, media=media, width=width)
    assert w["page"] <= w["W"] + 1 and not w["over"], w
