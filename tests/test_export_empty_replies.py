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
