"""A saved subset named by a short ranking id (``random-1``) stores the full key, a stored spec that still holds a
short id is migrated, and opening either the way the pages do (the stored ranking passed in) works."""
from __future__ import annotations

import json

import duckdb
import pytest

from curation.cli import main
from curation.ingest.run import ingest_file
from curation.store import SCHEMA_VERSION, Workspace
from curation.subsets.saved import load, save
from curation.subsets.spec import SubsetSpec, resolve


@pytest.fixture
def ws(tmp_path) -> Workspace:
    src = tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"question {i}", "response": f"answer {i}"}) + "\n"
                           for i in range(40)), encoding="utf-8")
    w = Workspace(tmp_path / "w.duckdb")
    ingest_file(w, src, name="d")
    assert main(["-w", str(w.path), "select", "random"]) == 0
    return w


def _open_like_a_page(ws: Workspace, ref: str):
    """What Select, Balance and Export do: load the saved spec, read its ranking, resolve with it passed in."""
    saved = load(ws, ref)
    ranking = ws.ranking(saved.spec.ranking)
    return resolve(ws, saved.spec, ranking=ranking)


def test_saving_with_a_short_id_stores_the_full_key(ws):
    key = ws.ranking_key("random-1")
    v = save(ws, "demo-cut", SubsetSpec(ranking="random-1", budget=10, unit="%"), who="t")
    assert v.spec.ranking == key and load(ws, "demo-cut").spec.ranking == key
    assert len(_open_like_a_page(ws, "demo-cut")) == 4


def test_a_short_id_passed_with_its_ranking_resolves(ws):
    spec = SubsetSpec(ranking="random-1", budget=5)
    sub = resolve(ws, spec, ranking=ws.ranking("random-1"))
    assert len(sub) == 5 and sub.spec.ranking == ws.ranking_key("random-1")


def test_a_stored_spec_with_a_short_id_is_migrated(ws):
    key = ws.ranking_key("random-1")
    save(ws, "old-cut", SubsetSpec(ranking=key, budget=10, unit="%"), who="t")
    with duckdb.connect(str(ws.path)) as con:  # as version 5 stored it when saved with a short id
        (text,) = con.execute("select spec from saved_subsets where name = 'old-cut'").fetchall()[0]
        spec = json.loads(text)
        spec["ranking"] = "random-1"
        con.execute("update saved_subsets set spec = ? where name = 'old-cut'", [json.dumps(spec)])
        con.execute("update meta set value = '5' where key = 'schema_version'")
    ws2 = Workspace(ws.path)
    assert ws2.schema_version() == SCHEMA_VERSION
    assert load(ws2, "old-cut").spec.ranking == key
    assert len(_open_like_a_page(ws2, "old-cut")) == 4


def test_cli_save_with_a_short_id_then_export_and_explain(ws, capsys):
    w = str(ws.path)
    assert main(["-w", w, "subset", "save", "demo-cut", "--ranking", "random-1", "--budget-pct", "10"]) == 0
    assert main(["-w", w, "subset", "show", "demo-cut"]) == 0
    assert ws.ranking_key("random-1") in capsys.readouterr().out
    assert main(["-w", w, "export", "--subset", "demo-cut", "--name", "cut", "--no-datasheet"]) == 0
    assert "wrote 4 rows" in capsys.readouterr().out
