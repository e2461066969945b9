"""The map's cluster names never overlap (pages/scatter/frontend/index.html, placeLabels): the renderer's page
opened on its own in headless Chromium, given names whose anchors crowd the frame's right edge, where a name is
pushed back inside the frame; every name drawn must then be clear of every other and inside the frame."""
from __future__ import annotations

from pathlib import Path

from browser_support import BROWSER_MARKS, chromium_page

pytestmark = BROWSER_MARKS
HTML = Path(__file__).resolve().parent.parent / "pages" / "scatter" / "frontend" / "index.html"

RECTS = """() => { placeLabels(); return [...document.querySelectorAll('.lab')].map(e => {
  const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, e.textContent]; }); }"""


def _overlaps(a: list, b: list) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def test_names_pushed_inside_the_frame_do_not_cover_others() -> None:
    with chromium_page(width=800, height=400) as page:
        page.goto(HTML.as_uri())
        w = page.evaluate("() => wrap.clientWidth")
        assert w > 300
        # data units are pixels (k = 1, centred): x = px - w/2, y = h/2 - py
        labels = [
            {"x": w / 2 - 5, "y": 0, "text": "a rather long cluster name at the edge", "id": 0},   # pushed left
            {"x": w / 2 - 180, "y": 0, "text": "neighbour name", "id": 1},  # clear of A's first place only
            {"x": w / 2 - 60, "y": 0, "text": "third one", "id": 2},
            {"x": -w / 2 + 3, "y": 100, "text": "left edge name, long enough", "id": 3},
            {"x": -w / 2 + 180, "y": 100, "text": "beside the left one", "id": 4},
        ]
        page.evaluate("""(labels) => { S.height = 300; S.view = {cx: 0, cy: 0, k: 1}; S.showLabels = true;
                                       S.labels = labels; }""", labels)
        rects = page.evaluate(RECTS)
        assert len(rects) >= 4, rects
        for i, a in enumerate(rects):
            assert a[0] >= 0 and a[2] <= w + 0.5, ("outside the frame", a, w)
            for b in rects[i + 1:]:
                assert not _overlaps(a, b), ("names overlap", a, b)
        assert rects[0][4] == labels[0]["text"]  # the biggest cluster's name is always drawn
