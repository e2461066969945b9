"""AppTest checks of the dashboard's frame and Data page (issue 24): the Data page's workspace and file boxes stay
inside the workspace roots, every page shows jobs running in any process, the embedding estimate comes from the
workspace's own measured rate, saved subsets have their own page, and Select shows a ranking named by short id."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.app_support import app_page  # noqa: E402

TIMEOUT = 120


def page(name: str, ws, **state) -> AppTest:
    return app_page(name, ws, timeout=TIMEOUT, **state)


def app(ws, monkeypatch) -> AppTest:
    """app.py (navigation, sidebar) on ``ws``, opened on its default page (Data)."""
    monkeypatch.setenv("CURATION_WORKSPACE", str(ws.path))
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()


def errors(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.error]


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def small_ws(tmp_ws, tmp_path: Path):
    """A workspace with 12 SFT examples (not embedded)."""
    from curation.ingest.run import ingest_file

    src = tmp_path / "ws_src.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"Question {i}: what is {i} + {i}?", "response": f"{2 * i}"})
                           + "\n" for i in range(12)))
    ingest_file(tmp_ws, src, name="small")
    return tmp_ws


# ---------------------------------------------------------------------------------------------- 13: paths
def test_open_create_refuses_a_path_outside_the_roots(small_ws, tmp_path_factory, monkeypatch) -> None:
    monkeypatch.delenv("CURATION_DATA_ROOT", raising=False)
    outside = tmp_path_factory.mktemp("elsewhere") / "made" / "x.duckdb"
    at = page("data", small_ws)
    at.text_input(key="data:ws_path").input(str(outside)).run()
    at.button(key="data:open_ws").click().run()
    no_exception(at)
    assert any("outside the folders" in e and "CURATION_DATA_ROOT" in e for e in errors(at)), errors(at)
    assert not outside.parent.exists()  # no folder, no file
    assert at.session_state["workspace_path"] == str(small_ws.path)
    inside = small_ws.path.parent / "second.duckdb"  # the folder of the workspace in use
    at.text_input(key="data:ws_path").input(str(inside)).run()
    at.button(key="data:open_ws").click().run()
    no_exception(at)
    assert inside.exists() and at.session_state["workspace_path"] == str(inside.resolve())


def test_the_file_box_reads_only_inside_the_roots(small_ws, tmp_path_factory, monkeypatch) -> None:
    secret = tmp_path_factory.mktemp("secret") / "private.jsonl"
    secret.write_text(json.dumps({"prompt": "TOP SECRET prompt", "response": "TOP SECRET reply"}) + "\n")
    monkeypatch.delenv("CURATION_DATA_ROOT", raising=False)
    at = page("data", small_ws)
    at.text_input(key="data:src_path").input(str(secret)).run()
    no_exception(at)
    assert any("outside the folders" in e for e in errors(at)), errors(at)
    shown = "\n".join(str(d.value) for d in at.dataframe)
    assert "TOP SECRET" not in shown and not _has(at, "data:ingest")  # no preview, nothing to add
    # the same file is read once its folder is a root
    monkeypatch.setenv("CURATION_DATA_ROOT", str(secret.parent))
    at.run()
    no_exception(at)
    assert not errors(at), errors(at)
    assert any("TOP SECRET" in str(d.value) for d in at.dataframe)


def _has(at: AppTest, key: str) -> bool:
    try:
        at.button(key=key)
        return True
    except KeyError:
        return False


# ---------------------------------------------------------------------------------------------- 4: jobs
def _other_process_job(ws, key: str = "embed:other-model", kind: str = "embed") -> None:
    """A running job row as another process (the CLI) writes it."""
    ws.set_job(key, kind=kind, status="running", done=120, total=3130, params={"model": "m"}, message="embedding")


def test_the_sidebar_shows_jobs_running_in_another_process(small_ws, monkeypatch) -> None:
    _other_process_job(small_ws)
    small_ws.set_job("score:old", kind="score", status="done", done=5, total=5)
    at = app(small_ws, monkeypatch)
    no_exception(at)
    bars = [p.proto.text for p in at.sidebar.get("progress")]
    assert any("other\\-model" in t and "120 / 3,130" in t and "another process" in t for t in bars), bars
    assert not any("score:old" in t for t in bars)  # done: not running
    # (AppTest drops the sidebar after switch_page; tests/test_browser_ui.py checks another page in a browser)


def test_a_stale_running_row_is_not_shown(small_ws) -> None:
    from curation.core.progress import running_jobs

    _other_process_job(small_ws)
    assert running_jobs(small_ws)["key"].tolist() == ["embed:other-model"]
    assert running_jobs(small_ws, within_s=-1).empty  # updated longer ago than allowed: left out


def test_data_page_warns_of_a_running_embedding_and_holds_its_button(small_ws) -> None:
    _other_process_job(small_ws)
    at = page("data", small_ws)
    no_exception(at)
    assert any("An embedding job is running (another process)" in w.value for w in at.warning)
    assert at.button(key="data:run_embed").disabled


def test_embed_estimate_comes_from_the_measured_rate(small_ws) -> None:
    from curation.embedding.embed import DEFAULT_MODEL, embed_workspace, measured_rate

    at = page("data", small_ws)
    assert "No embedding speed measured" in "\n".join(c.value for c in at.caption)
    assert "40–80" not in "\n".join(c.value for c in at.caption)
    embed_workspace(small_ws, DEFAULT_MODEL, limit=6)
    r = measured_rate(small_ws, DEFAULT_MODEL)
    assert r is not None and r["texts"] == 6 and not r["running"] and r["rate"] > 0
    embed_workspace(small_ws, DEFAULT_MODEL, limit=0)  # a run that encodes nothing keeps the measurement
    assert measured_rate(small_ws, DEFAULT_MODEL)["texts"] == 6
    at.run()
    cap = "\n".join(c.value for c in at.caption)
    assert f"Measured here: {r['rate']:.1f} texts/s" in cap and "6 new examples take about" in cap, cap


def test_a_running_job_rate_is_the_texts_since_it_started(small_ws) -> None:
    from curation.embedding.embed import DEFAULT_MODEL, measured_rate
    from curation.core.keys import model_key

    small_ws.set_job(f"embed:{model_key(DEFAULT_MODEL)}", kind="embed", status="running", done=300, total=1000,
                     params={"started": 1000.0, "from": 100, "at": 1040.0, "device": "cpu"})
    r = measured_rate(small_ws, DEFAULT_MODEL)
    assert r == {"rate": 5.0, "texts": 200, "seconds": 40.0, "running": True, "device": "cpu"}


# ---------------------------------------------------------------------------------------------- 7: saved page
@pytest.fixture
def ranked_ws(tiny_ws_copy):
    from curation.select import run_selection
    from curation.subsets import saved as ss
    from curation.subsets.spec import SubsetSpec

    rnd = run_selection(tiny_ws_copy, "random", {}, seed=0).method
    run_selection(tiny_ws_copy, "random", {}, seed=1)
    ss.save(tiny_ws_copy, "cut <b>", SubsetSpec(ranking=rnd, budget=20.0, unit="%"), who="tester", note="first")
    ss.save(tiny_ws_copy, "cut <b>", SubsetSpec(ranking=rnd, budget=30.0, unit="%"), who="tester")
    return tiny_ws_copy


def test_saved_subsets_have_a_page_in_the_navigation(ranked_ws, monkeypatch) -> None:
    at = app(ranked_ws, monkeypatch)
    no_exception(at)
    at.switch_page("pages/subsets.py").run()
    no_exception(at)
    assert at.title[0].value == "Saved subsets"
    assert at.dataframe[0].value["name"].tolist() == ["cut <b>"]
    assert at.selectbox(key="subsets:ref").value == "cut <b>@2"
    assert any(m.label == "Added" for m in at.metric)  # compared with version 1
    assert not at.error


def test_saved_page_opens_a_version_on_select(ranked_ws) -> None:
    at = page("subsets", ranked_ws)
    no_exception(at)
    at.selectbox(key="subsets:ref").set_value("cut <b>@1").run()
    at.button(key="subsets:open").click().run()
    no_exception(at)
    assert at.session_state["open_subset"] == "cut <b>@1"
    assert at.session_state["budget_value"] == 20.0


def test_saved_page_on_a_workspace_without_any(small_ws) -> None:
    at = page("subsets", small_ws)
    no_exception(at)
    assert "No saved subset yet" in "\n".join(i.value for i in at.info)


def test_select_shows_a_ranking_named_by_its_short_id(ranked_ws) -> None:
    r = ranked_ws.rankings()
    first_key, first_short = str(r.iloc[0]["key"]), str(r.iloc[0]["short_id"])
    at = page("select", ranked_ws, ranking_key=first_short)
    no_exception(at)
    assert at.selectbox(key="select:ranking_w").value == first_key
