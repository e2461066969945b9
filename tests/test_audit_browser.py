"""The Balance page's bias audit in a real browser (Playwright, headless Chromium, `streamlit run app.py`): the audit
section renders its alerts with their cause, the slice table and the pool-vs-subset bars; the one-click quota fix
clears the dataset alert. Screenshots go to tests/screenshots/ (git-ignored); look at them."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.browser_support import BROWSER_MARKS, SHOTS, StreamlitServer, chromium_page, open_page, poll, wait_idle

pytestmark = BROWSER_MARKS

RISK = "harmful_request(part=prompt)"


@pytest.fixture(scope="module")
def audit_ws(tiny_ws, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny embedded demo with a ranking that puts every preference pair last (the newest ranking, so the
    draft uses it), a refusal flag and a harmful-request risk score that is high on the pairs."""
    from curation.core.ranking import Ranking
    from curation.store import Workspace

    dst = tmp_path_factory.mktemp("audit_e2e") / "audit.duckdb"
    shutil.copy(tiny_ws.path, dst)
    ws = Workspace(dst)
    ex = ws.examples(["row_id", "example_id", "dataset"])
    ids = ex["row_id"].to_numpy(np.int64)
    pref = (ex["dataset"] == "demo_pref").to_numpy()
    rng = np.random.default_rng(0)
    order = np.r_[rng.permutation(ids[~pref]), rng.permutation(ids[pref])]
    ws.put_ranking(Ranking(order=order, gains=np.zeros(len(order)), method="custom(name=pairs_last)"))
    ws.put_scores("refusal", ex["example_id"].tolist(), (rng.random(len(ids)) < 0.1).astype(float),
                  higher_is_better=False)
    ws.put_scores(RISK, ex["example_id"].tolist(), np.where(pref, rng.uniform(0.6, 1, len(ids)),
                                                            rng.uniform(0, 0.4, len(ids))),
                  name="harmful_request", higher_is_better=False, params={"threshold": 0.5})
    return dst


@pytest.fixture(scope="module")
def server(audit_ws: Path) -> Iterator[StreamlitServer]:
    with StreamlitServer(audit_ws) as s:
        yield s


def test_balance_audit_in_the_browser(server: StreamlitServer) -> None:
    with chromium_page(width=1440, height=2400) as page:
        open_page(page, server.url, "balance")
        head = page.get_by_text("Bias audit: every slice")
        head.scroll_into_view_if_needed()
        main = page.locator('[data-testid="stMain"]')

        def shown(cond) -> str | None:
            t = main.inner_text()
            return t if cond(t) else None

        text = poll(lambda: shown(lambda t: "under-represented" in t), timeout=120)
        assert "dataset = demo_pref is under-represented" in text
        assert "Cause:" in text and "ranking" in text
        assert f"{RISK} = flagged" in text
        assert "<" not in page.get_by_text("Cause:").first.inner_text()  # plain text, no markup leaks
        head.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "audit_balance.png"), full_page=True)
        page.get_by_role("tab", name="Bars").click()
        poll(lambda: page.locator(".js-plotly-plot").count() >= 2, timeout=60)  # the class mix and the audit bars
        page.get_by_role("tab", name="Bars").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "audit_balance_bars.png"))
        # the one-click fix: a proportional quota by dataset on the draft
        page.get_by_role("button", name="Proportional quota by dataset").click()
        wait_idle(page)
        text = poll(lambda: shown(lambda t: "Proportional quota by dataset" not in t
                                  or "demo_pref is under-represented" not in t), timeout=120)
        assert "dataset = demo_pref is under-represented" not in text
        page.get_by_text("Bias audit: every slice").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "audit_balance_fixed.png"), full_page=True)


def test_audit_slice_table_fits_at_1280(server: StreamlitServer) -> None:
    """At 1280x800 the slices-by-severity table shows every column without a horizontal scroll bar."""
    with chromium_page(width=1280, height=800) as page:
        open_page(page, server.url, "balance")
        page.get_by_text("Bias audit: every slice").scroll_into_view_if_needed()
        grid = page.locator('[data-testid="stDataFrame"]:visible', has_text="category").first
        poll(lambda: grid.locator("canvas").count() > 0, timeout=60)
        grid.scroll_into_view_if_needed()
        wait_idle(page)
        sizes = grid.evaluate("e => { const s = e.querySelector('.dvn-scroller'); "
                              "return s ? [s.scrollWidth, s.clientWidth] : null; }")
        assert sizes is not None, "the grid's scroller was not found"
        page.screenshot(path=str(SHOTS / "audit_table_1280.png"))
        assert sizes[0] <= sizes[1] + 1, f"the audit table scrolls sideways at 1280 px: {sizes}"
