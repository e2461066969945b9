"""The Search page end to end in headless Chromium: a words search shows its hits with the match marked, a bulk
"pin exclude" shows its preview, is applied and undone in one step, the search is saved as a column, and the Map
highlights it (the rest greyed). Screenshots (git-ignored):
tests/screenshots/search_results.png (with the bulk preview), search_map.png.

Reuses the small embedded demo workspace of the unit tests with a PCA map added."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser_support import BROWSER_MARKS, StreamlitServer, chromium_page, map_frame, open_page, poll, shot, wait_idle

pytestmark = BROWSER_MARKS
QUERY = "health OR travel"


@pytest.fixture(scope="module")
def small_ws(tiny_ws, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from curation.neighbours.projection import pca_projection
    from curation.store import Workspace

    torch.set_num_threads(1)
    dst = tmp_path_factory.mktemp("search_e2e") / "small.duckdb"
    shutil.copy(tiny_ws.path, dst)
    pca_projection(Workspace(dst))
    return dst


@pytest.fixture(scope="module")
def server(small_ws: Path) -> Iterator[StreamlitServer]:
    with StreamlitServer(small_ws) as s:
        yield s


@pytest.fixture(scope="module")
def page(server: StreamlitServer):
    with chromium_page(width=1440, height=1600) as pg:
        yield pg


def test_search_results_bulk_exclude_undo_and_map(page, server, small_ws):
    from curation.search import search
    from curation.store import Workspace

    ws = Workspace(small_ws)
    n = search(ws, QUERY, limit=0).n_matches
    assert n > 3
    open_page(page, server.url, "search")
    box = page.get_by_role("textbox", name="Query", exact=True)
    box.fill(QUERY)
    box.press("Enter")
    wait_idle(page)
    assert poll(lambda: page.get_by_text(f"{n} matching rows").count() > 0)
    marks = page.locator("table.srch mark")
    assert marks.count() >= min(n, 50) and marks.first.inner_text().lower() in ("health", "travel")
    assert page.get_by_text(f"changes {n} of {n} rows").count() > 0                     # the preview
    shot(page, "search_results")
    page.get_by_role("button", name=f"Pin exclude {n} rows").click()
    wait_idle(page)
    assert poll(lambda: page.get_by_text(f"Recorded {n} exclude decisions").count() > 0)
    pins = ws.pins()
    assert (pins["pin"] == "exclude").sum() == n
    assert page.get_by_text(f"changes 0 of {n} rows").count() > 0                       # nothing left to change
    page.get_by_role("button", name=f"Undo last bulk action ({n})").click()
    wait_idle(page)
    assert poll(lambda: page.get_by_text("Undone:").count() > 0)
    assert len(ws.pins()) == 0
    name_box = page.get_by_label("Save as (a column: Map colour, Select quota, Balance, audit, Export filter)")
    name_box.fill("travel_talk")
    name_box.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Save search").click()
    wait_idle(page)
    assert poll(lambda: page.get_by_text("rows flagged in column").count() > 0)
    rows, vals = ws.score_column("search:travel_talk")
    assert int(vals.sum()) == n

    open_page(page, server.url, "map")
    cb = page.get_by_role("combobox", name="Colour by", exact=True)
    cb.click()
    cb.fill("search: travel_talk")
    page.get_by_role("option", name="search: travel_talk", exact=True).click()
    wait_idle(page)
    assert poll(lambda: page.get_by_text(f"Saved search travel_talk: {n} rows match").count() > 0)
    map_frame(page)
    shot(page, "search_map")
