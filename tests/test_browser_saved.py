"""Saved subsets end to end in headless Chromium: build a subset on Select and save it, restart the server, reopen it
on the Map page (same count), save a second version, and compare the two versions on Balance.

Reuses the small embedded workspace of the unit tests (a PCA map and a random ranking added), so it costs one
server start twice and a few page loads. Screenshots go to tests/screenshots/ (git-ignored).
"""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser_support import (BROWSER_MARKS, SHOTS, StreamlitServer, chromium_page, metric_value, open_page, poll,
                             shot, wait_idle)

ROOT = Path(__file__).resolve().parent.parent
NAME = "browser <b>cut & 'q'"

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def small_ws(tiny_ws, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny embedded workspace with a PCA map and a random ranking (no neighbour graph needed)."""
    import torch

    from curation.neighbours.projection import pca_projection
    from curation.select import run_selection
    from curation.store import Workspace

    torch.set_num_threads(1)
    dst = tmp_path_factory.mktemp("saved_e2e") / "small.duckdb"
    shutil.copy(tiny_ws.path, dst)
    ws = Workspace(dst)
    pca_projection(ws)
    run_selection(ws, "random", {}, seed=0)
    return dst


@pytest.fixture(scope="module")
def server(small_ws: Path) -> Iterator[StreamlitServer]:
    with StreamlitServer(small_ws) as s:
        yield s


@pytest.fixture(scope="module")
def page(server: StreamlitServer):
    with chromium_page(width=1440, height=1800) as pg:
        yield pg


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label``."""
    cb = page.get_by_role("combobox", name=label, exact=True)
    cb.click()
    cb.fill(option)  # filters the list (long lists are drawn lazily)
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def test_save_restart_reopen_and_compare(page, server: StreamlitServer, small_ws: Path) -> None:
    from curation.subsets import saved as ss
    from curation.store import Workspace

    ws = Workspace(small_ws)

    # ---- Select: the default budget (10%), saved under a name with markup in it
    open_page(page, server.url, "select")
    n1 = int(metric_value(page, "Selected").replace(",", ""))
    page.get_by_role("button", name="Save as…").click()
    pop = page.get_by_test_id("stPopoverBody")
    pop.get_by_role("textbox", name="Name", exact=True).fill(NAME)
    pop.get_by_role("textbox", name="Note (optional)").fill("<i>first cut</i>")
    pop.get_by_role("textbox", name="Note (optional)").press("Enter")
    pop.get_by_role("button", name="Save", exact=True).click()
    wait_idle(page)
    page.get_by_text("Saved browser").first.wait_for()
    v1 = ss.load(ws, NAME)
    assert (v1.version, v1.n_rows, v1.who, v1.note) == (1, n1, "e2e", "<i>first cut</i>")
    main = page.locator('[data-testid="stMain"]')
    assert main.locator("b", has_text="cut").count() == 0 and main.locator("i", has_text="first cut").count() == 0
    assert main.get_by_text("<b>cut & 'q'", exact=False).count() >= 1  # the name is shown as typed, as text
    shot(page, "20_saved_select")

    # ---- restart the server: nothing of the subset lived in the old process
    server.restart()
    open_page(page, server.url, "map")
    choose(page, "Colour by", f"saved subset: {v1.ref}")
    cap = poll(lambda: page.get_by_text(f"{n1:,} rows selected").first.inner_text())
    assert cap and v1.ref in cap
    shot(page, "21_saved_map_after_restart")

    # ---- Select: open version 1 in a fresh session, raise the budget, save version 2
    open_page(page, server.url, "select")
    choose(page, "Saved subset", v1.ref)
    assert int(metric_value(page, "Selected").replace(",", "")) == n1
    slider = page.get_by_role("slider").first
    slider.focus()
    for _ in range(10):
        slider.press("ArrowRight")
    assert poll(lambda: int(metric_value(page, "Selected").replace(",", "")) > n1)
    wait_idle(page)
    page.get_by_text("Changed since").first.wait_for()
    page.get_by_role("button", name="Save version 2").click()
    wait_idle(page)
    v2 = poll(lambda: ss.load(ws, NAME) if ss.load(ws, NAME).version == 2 else None)
    assert v2 and v2.n_rows > n1
    n2 = int(metric_value(page, "Selected").replace(",", ""))
    assert n2 == v2.n_rows

    # ---- Balance: version 2 against version 1, side by side
    open_page(page, server.url, "balance")  # a new browser session: nothing is open, so pick both sides
    choose(page, "Subset", v2.ref)
    choose(page, "Compare with", v1.ref)
    page.get_by_text("Report cards side by side").first.wait_for()
    wait_idle(page)
    shot(page, "22_saved_balance_compare")
    page.locator('[data-testid="stMain"]').hover()
    page.mouse.wheel(0, 2000)  # the app scrolls inside its main area
    shot(page, "23_saved_balance_rows")
    d = ss.diff(ws, v1, v2)
    assert len(d.added) == n2 - n1 and len(d.removed) == 0
    # shown as the change from the version compared with (v1) to the subset picked (v2)
    assert metric_value(page, "Added") == f"{len(d.added):,}" and metric_value(page, "Removed") == "0"

    # ---- Inspect: why a row is in version 2 and not in version 1
    added_id = str(d.added.iloc[0]["example_id"])
    open_page(page, server.url, "inspect")
    page.get_by_label("…or example id").fill(added_id)
    page.get_by_label("…or example id").press("Enter")
    wait_idle(page)
    page.get_by_text("the budget changed").first.wait_for()
    assert "budget 10% → 15%" in page.get_by_text("the budget changed").first.inner_text()
    page.locator('[data-testid="stMain"]').hover()
    page.mouse.wheel(0, 3000)  # the app scrolls inside its main area
    shot(page, "24_saved_inspect_why")

    # ---- Export version 1 by name: the manifest records it
    open_page(page, server.url, "export")
    choose(page, "What to export", v1.ref)
    page.get_by_role("textbox", name="File name").fill("saved_v1")
    page.get_by_role("textbox", name="File name").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Export", exact=True).click()
    wait_idle(page)
    page.get_by_text("Exported").first.wait_for()
    shot(page, "25_saved_export")
    import json

    m = json.loads((ws.export_dir / "saved_v1.jsonl.manifest.json").read_text())
    assert (m["subset"]["name"], m["subset"]["version"], m["selection"]["n_subset"]) == (NAME, 1, n1)

    # ---- the datasheet of version 2 exported after version 1: history and what changed, all as text
    from curation.export import export_subset

    res = export_subset(ws, subset=v2.ref, name="saved_v2", who="e2e")
    page.goto(res.datasheet_path.resolve().as_uri())
    page.get_by_role("heading", name="Saved subset").scroll_into_view_if_needed()
    assert page.get_by_text("Changes since the previous export (version 1").count() == 1
    assert page.locator("b", has_text="cut").count() == 0
    page.screenshot(path=str(SHOTS / "26_saved_datasheet.png"))
    assert page.dialogs == []  # type: ignore[attr-defined]
