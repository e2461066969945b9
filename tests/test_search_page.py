"""The Search page (Streamlit AppTest, no browser): empty states, escaped dataset text with the match marked, a clear
error for a bad pattern, meaning search (with and without vectors), saving, and stepping through hits in Inspect."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_support import app_page

from curation.search import search
from curation.store import Workspace

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 240


def page(file: str, ws: Workspace, **state) -> AppTest:
    return app_page(file, ws, timeout=TIMEOUT, **state)


def htmls(at: AppTest) -> str:
    return "\n".join(str(getattr(e, "proto", e)) for e in at.get("html"))


@pytest.fixture
def ws(tiny_ws, tmp_path: Path) -> Workspace:
    dst = tmp_path / "ws.duckdb"
    shutil.copy(tiny_ws.path, dst)
    w = Workspace(dst)
    # one record whose text is markup: the page must show it as text
    src = tmp_path / "evil.jsonl"
    src.write_text(json.dumps({"instruction": "Render <script>alert('x')</script> travel", "output": "<b>no</b>"})
                   + "\n")
    from curation.ingest.run import ingest_file

    ingest_file(w, src, name="evil")
    return w


def test_empty_workspace_says_what_to_do(tmp_ws):
    at = page("search", tmp_ws)
    assert not at.exception
    assert any("add a dataset" in i.value.lower() for i in at.info)


def test_results_escaped_and_marked_bad_pattern_and_inspect(ws):
    at = page("search", ws)
    assert not at.exception and not at.error
    at.text_input(key="search:q").set_value("travel").run()
    assert not at.exception and not at.error
    n = search(ws, "travel", limit=0).n_matches
    assert at.subheader[0].value == f"{n} matching rows"
    body = htmls(at)
    assert "&lt;script&gt;" in body and "<script>" not in body and "<mark>travel</mark>" in body
    assert at.session_state["search:hits"] == search(ws, "travel", limit=None).row_ids.tolist()
    # a bad regular expression: one clear error
    at.selectbox(key="search:mode").set_value("pattern").run()
    at.checkbox(key="search:regex").check().run()
    at.text_input(key="search:q").set_value("(travel").run()
    assert at.error and "not a valid regular expression" in at.error[0].value
    # step through the hits in Inspect
    hits = search(ws, "travel", limit=None).row_ids.tolist()
    insp = page("inspector", ws, **{"inspect:hits": hits, "inspect_row": hits[0]})
    assert not insp.exception
    assert any(f"Search hit 1 of {len(hits)}" in c.value for c in insp.caption)
    insp.button(key="inspect:hit1").click().run()
    assert insp.session_state["inspect_row"] == hits[1]


def test_meaning_and_save(ws):
    at = page("search", ws)
    at.selectbox(key="search:mode").set_value("meaning").run()
    at.number_input(key="search:thr").set_value(0.2).run()
    at.text_input(key="search:q").set_value("how to stay healthy while travelling").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.subheader[0].value.endswith("matching rows")
    at.text_input(key="search:name").set_value("healthy_travel").run()
    at.button(key="search:save").click().run()
    assert not at.exception and not at.error
    assert "search:healthy_travel" in set(ws.score_defs()["key"])
    assert any(r == "healthy_travel" for r in at.dataframe[0].value["name"])


def test_concept_from_hits(ws):
    at = page("search", ws)
    at.text_input(key="search:q").set_value("travel").run()
    at.text_input(key="search:concept").set_value("trips").run()
    at.button(key="search:c_pos").click().run()
    at.button(key="search:c_train").click().run()
    n = search(ws, "travel", limit=0).n_matches
    assert at.error and f"found {n} positive and 0 negative" in at.error[0].value
    at.text_input(key="search:q").set_value("code").run()
    at.button(key="search:c_neg").click().run()
    at.button(key="search:c_train").click().run()
    assert not at.error and "CV accuracy" in at.success[0].value
    assert any(k.startswith("concept(concept=trips") for k in ws.score_defs()["key"])
