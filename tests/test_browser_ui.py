"""What a person sees in the browser (headless Chromium through Playwright): opening a saved subset on Select puts
its ranking, budget and quota into the widgets as drawn, not only into the server's state.

One small workspace (the tiny embedded demo, a PCA map, two rankings, a saved subset) and one server for the module.
Screenshots go to tests/screenshots/ (git-ignored).
"""
from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser_support import (BROWSER_MARKS, StreamlitServer, chromium_page, map_frame, metric_value, open_page,
                             poll, shot, wait_idle)

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def ui_ws(tiny_ws, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny_ws analysed (clusters, a PCA map), a random then a facility ranking (the newest: Select opens with
    it) and the saved subset ``rnd`` (random ranking, 25 %, proportional quota)."""
    import torch

    from curation.workflows.analyze import analyze
    from curation.select import run_selection
    from curation.store import Workspace
    from curation.subsets import saved as ss
    from curation.subsets.spec import SubsetSpec

    torch.set_num_threads(1)
    dst = tmp_path_factory.mktemp("ui_e2e") / "ui.duckdb"
    shutil.copy(tiny_ws.path, dst)
    ws = Workspace(dst)
    analyze(ws, steps=("graph", "density", "uniqueness", "dedup", "clusters", "pca"))  # clusters: map labels
    rnd = run_selection(ws, "random", {}, seed=0).method
    run_selection(ws, "facility", {}, seed=0)
    ss.save(ws, "rnd", SubsetSpec(ranking=rnd, budget=25.0, unit="%", quota="proportional"), who="test")
    return dst


@pytest.fixture(scope="module")
def server(ui_ws: Path) -> Iterator[str]:
    with StreamlitServer(ui_ws) as s:
        yield s.url


@pytest.fixture(scope="module")
def page(server: str):
    with chromium_page(width=1280, height=800) as pg:
        yield pg


def shown_value(page, label: str) -> str:
    """The text a selectbox labelled ``label`` shows (its current choice, as drawn in its input box)."""
    return page.get_by_role("combobox", name=label, exact=True).input_value().strip()


def choose(page, label: str, option: str) -> None:
    cb = page.get_by_role("combobox", name=label, exact=True)
    cb.click()
    cb.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def test_opening_a_saved_subset_shows_its_spec_in_the_widgets(page, server: str, ui_ws: Path) -> None:
    from curation.store import Workspace
    from curation.subsets import saved as ss

    ws = Workspace(ui_ws)
    v = ss.load(ws, "rnd")
    short = dict(zip(ws.rankings()["key"], ws.rankings()["short_id"]))
    open_page(page, server, "select")
    assert shown_value(page, "Ranking").startswith(short[ws.rankings()["key"].iloc[-1]])  # the newest: facility
    choose(page, "Saved subset", v.ref)
    page.get_by_text(f"Same ranking, budget and quota as {v.ref}").first.wait_for()
    assert shown_value(page, "Ranking").startswith(str(short[v.spec.ranking]))
    assert shown_value(page, "Class quotas") == "proportional"
    slider = page.get_by_role("slider", name="Budget (% of the pool)")
    assert float(slider.input_value()) == 25.0 and slider.get_attribute("aria-valuetext") == "25.0%"
    n = int(metric_value(page, "Selected").replace(",", ""))
    assert n == v.n_rows
    shot(page, "30_select_saved_open")


def test_a_job_running_in_another_process_shows_on_every_page(page, server: str, ui_ws: Path) -> None:
    from curation.store import Workspace

    ws = Workspace(ui_ws)
    ws.set_job("score:cli-job", kind="score", status="running", done=40, total=400, message="heuristics")
    try:
        for path in ("scores", "map", "subsets"):
            open_page(page, server, path)
            side = page.get_by_test_id("stSidebar")
            side.get_by_text("Running now").wait_for()
            text = side.inner_text()
            assert "score:cli-job: heuristics — 40 / 400 (another process" in text, text
        shot(page, "31_sidebar_running_job")
    finally:
        ws.set_job("score:cli-job", kind="score", status="done", done=400, total=400)


def test_map_cluster_names_do_not_overlap(page, server: str) -> None:
    open_page(page, server, "map")
    frame = map_frame(page)
    assert poll(lambda: frame.locator(".lab").count() >= 2), "no cluster names drawn"
    time.sleep(1.0)
    rects = frame.evaluate("() => [...document.querySelectorAll('.lab')].map(e => { const r = "
                           "e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })")
    width = frame.evaluate("() => document.getElementById('wrap').clientWidth")
    for i, a in enumerate(rects):
        assert a[0] >= 0 and a[2] <= width + 0.5, (a, width)  # inside the frame
        for b in rects[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], ("names overlap", a, b)
    shot(page, "32_map_labels_1280")
