"""Exports count (and warn about) rows whose reply is empty: the result, the manifest, the datasheet and the CLI say
it; ``drop_empty`` / ``--drop-empty`` leaves them out."""
from __future__ import annotations

import json

import pytest

from curation.cli import main
from curation.export import export_subset
from curation.ingest.run import ingest_file
from curation.store import Workspace

PAIRS = [{"prompt": f"question {i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(5)]
PAIRS[1]["chosen"] = ""
PAIRS[3]["rejected"] = "   "


@pytest.fixture
def ws(tmp_path) -> Workspace:
    src = tmp_path / "pairs.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in PAIRS), encoding="utf-8")
    w = Workspace(tmp_path / "w.duckdb")
    ingest_file(w, src, name="pairs")
    return w


@pytest.mark.parametrize("style", ["dpo", "dpo_text", "original"])
def test_empty_replies_are_counted_in_the_result_manifest_and_datasheet(ws, style):
    res = export_subset(ws, style=style, name=f"all_{style}")
    assert res.n_rows == 5 and res.n_empty_replies == 2 and res.dropped_empty == 0
    m = json.loads(res.manifest_path.read_text())
    assert m["export"]["empty_replies"]["n"] == 2 and m["export"]["empty_replies"]["dropped"] is False
    assert len(m["export"]["empty_replies"]["example_ids"]) == 2
    html = res.datasheet_path.read_text()
    assert "empty replies" in html and "2 rows (kept" in html


def test_drop_empty_leaves_them_out(ws):
    res = export_subset(ws, style="dpo", name="clean", drop_empty=True)
    assert res.n_rows == 3 and res.dropped_empty == 2
    rows = [json.loads(x) for x in res.path.read_text().splitlines()]
    assert all(r["chosen"][0]["content"].strip() and r["rejected"][0]["content"].strip() for r in rows)
    m = json.loads(res.manifest_path.read_text())
    assert m["export"]["empty_replies"]["dropped"] is True and m["export"]["n_rows"] == 3


def test_cli_warns_and_drops(ws, capsys):
    w = str(ws.path)
    assert main(["-w", w, "export", "--style", "dpo", "--name", "a", "--no-datasheet"]) == 0
    out = capsys.readouterr()
    assert "2 rows have an empty reply" in out.out + out.err and "--drop-empty" in out.out + out.err
    assert main(["-w", w, "export", "--style", "dpo", "--name", "b", "--no-datasheet", "--drop-empty"]) == 0
    assert "wrote 3 rows" in capsys.readouterr().out


def test_export_page_warns_and_its_checkbox_drops(ws):
    from tests.app_support import app_page

    from curation.select import run_selection

    run_selection(ws, "random", {}, seed=0)           # the Select page's draft needs a ranking
    # the Select page's draft: every row, in ingest order
    at = app_page("export", ws, budget_unit="rows", budget_value=5.0)
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.selectbox(key="export:style").select("dpo")
    at.text_input(key="export:name").input("kept").run()
    at.button(key="export:go").click().run()
    assert any("2 exported rows have an empty reply" in w.value for w in at.warning), [w.value for w in at.warning]
    at.checkbox(key="export:drop_empty").check()
    at.text_input(key="export:name").input("dropped").run()
    at.button(key="export:go").click().run()
    assert not at.error, [e.value for e in at.error]
    assert any("Left out 2 rows with an empty reply" in i.value for i in at.info), [i.value for i in at.info]
    assert not any("empty reply" in w.value for w in at.warning)
    assert len((ws.export_dir / "dropped.jsonl").read_text().splitlines()) == 3
    assert len((ws.export_dir / "kept.jsonl").read_text().splitlines()) == 5
