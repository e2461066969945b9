"""`info` shows label counts and content duplicated across datasets; ingest reports such duplicates; `select` says
when it reused a stored ranking."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from curation.store import Workspace

ROOT = Path(__file__).resolve().parent.parent


def _file(path: Path, n: int, *, label: bool = True) -> Path:
    rows = [{"prompt": f"question number {i}", "response": f"answer number {i}"} | (
        {"category": ["alpha", "beta", "beta"][i % 3]} if label else {}) for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def dup_ws(tmp_path: Path) -> Workspace:
    from curation.ingest.run import ingest_file

    ws = Workspace(tmp_path / "w.duckdb")
    ingest_file(ws, _file(tmp_path / "first.jsonl", 9), name="first", mapping={"label": "category"})
    return ws


def test_ingest_reports_content_already_in_another_dataset(dup_ws: Workspace, tmp_path: Path) -> None:
    from curation.ingest.run import ingest_file

    rep = ingest_file(dup_ws, tmp_path / "first.jsonl", name="again", mapping={"label": "category"})
    assert rep.n_inserted == 9  # kept: they are real rows of another dataset
    assert rep.duplicates == {"first": 9}
    assert "9 rows duplicate content already in dataset first" in rep.summary()
    fresh = ingest_file(dup_ws, _file(tmp_path / "other.jsonl", 3, label=False), name="other")
    assert fresh.duplicates == {"first": 3, "again": 3}  # same prompt/response text, no label: same content
    s = dup_ws.summary()
    assert {(d["dataset"], d["duplicates_of"], d["n"]) for d in s["duplicate_content"]} == {
        ("again", "first", 9), ("other", "again", 3), ("other", "first", 3)}


def test_info_shows_labels_and_duplicates(dup_ws: Workspace, tmp_path: Path, capsys) -> None:
    from curation.cli import main
    from curation.ingest.run import ingest_file

    ingest_file(dup_ws, _file(tmp_path / "nolabel.jsonl", 9, label=False), name="again")  # same text, no labels
    assert main(["-w", str(dup_ws.path), "info"]) == 0
    out = capsys.readouterr().out
    assert "labels     beta 6, alpha 3; 9 examples without a label" in out
    assert "again: 9 sft" in out and "9 duplicate content of first (kept)" in out
    assert main(["-w", str(dup_ws.path), "info", "--json"]) == 0
    js = json.loads(capsys.readouterr().out)
    assert js["labels"] == {"beta": 6, "alpha": 3} and js["unlabelled"] == 9
    assert js["duplicate_content"] == [{"dataset": "again", "duplicates_of": "first", "n": 9}]


def test_info_without_labels_says_so(tmp_path: Path, capsys) -> None:
    from curation.cli import main
    from curation.ingest.run import ingest_file

    ws = Workspace(tmp_path / "n.duckdb")
    ingest_file(ws, _file(tmp_path / "n.jsonl", 4, label=False), name="n")
    assert main(["-w", str(ws.path), "info"]) == 0
    assert "labels     none (the report card groups by embedding clusters)" in capsys.readouterr().out


def test_select_says_when_the_ranking_was_reused(dup_ws: Workspace, capsys) -> None:
    from curation.cli import main

    w = str(dup_ws.path)
    assert main(["-w", w, "select", "random"]) == 0
    first = capsys.readouterr().out
    assert "computed" in first and "reused" not in first
    assert main(["-w", w, "select", "random"]) == 0
    second = capsys.readouterr().out
    assert "reused the stored ranking random-1" in second and "--force" in second
    assert main(["-w", w, "select", "random", "--force"]) == 0
    assert "computed" in capsys.readouterr().out


def test_data_page_shows_duplicate_content(dup_ws: Workspace, tmp_path: Path) -> None:
    from tests.app_support import app_page

    from curation.ingest.run import ingest_file

    ingest_file(dup_ws, _file(tmp_path / "nolabel.jsonl", 9, label=False), name="again")
    sys.path.insert(0, str(ROOT))
    at = app_page("data", dup_ws)
    assert not at.exception, [e.value for e in at.exception]
    df = at.dataframe[0].value
    assert "duplicates of other datasets" in df.columns
    row = df[df["name"] == "again"].iloc[0]
    assert row["duplicates of other datasets"] == "9 of first"
