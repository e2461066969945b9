"""`python -m curation search ...` and `decide --search NAME ACTION` on Dolly 3k (skipped without ../shared)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.cli import main
from curation.ingest.run import ingest_file
from curation.search import search
from curation.store import Workspace


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory: pytest.TempPathFactory, shared_datasets: Path) -> Path:
    p = tmp_path_factory.mktemp("search_cli") / "ws.duckdb"
    ingest_file(Workspace(p), shared_datasets / "dolly-3k-alpagasus" / "dolly_3k.jsonl.gz")
    return p


def run(ws_path: Path, capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["--workspace", str(ws_path), *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_search_json_and_text(ws_path, capsys):
    ws = Workspace(ws_path)
    rc, out, _ = run(ws_path, capsys, "search", "python", "--limit", "3", "--json")
    got = json.loads(out)
    want = search(ws, "python", limit=3)
    assert rc == 0 and got["n_matches"] == want.n_matches > 3
    assert [r["row_id"] for r in got["results"]] == want.row_ids.tolist()
    assert all("[" in r["snippet"].lower() and "python" in r["snippet"].lower() for r in got["results"])
    rc, out, _ = run(ws_path, capsys, "search", "united", "states", "--mode", "pattern", "--field", "response")
    n = search(ws, "united states", mode="pattern", field="response", limit=0).n_matches
    assert rc == 0 and out.splitlines()[0].endswith(f"{n:,} matching rows (pattern, field response)")


def test_bad_regex_is_one_line_error(ws_path, capsys):
    rc, _, err = run(ws_path, capsys, "search", "(unclosed", "--mode", "pattern", "--regex")
    assert rc == 1 and err.startswith("error: pattern '(unclosed' is not a valid regular expression")
    assert len(err.strip().splitlines()) == 1


def test_save_decide_and_undo(ws_path, capsys):
    ws = Workspace(ws_path)
    rc, out, _ = run(ws_path, capsys, "search", "save", "sorry_rows", "sorry", "--field", "response")
    n = search(ws, "sorry", field="response", limit=0).n_matches
    assert rc == 0 and f"{n:,} matching rows" in out and n > 0
    rc, out, _ = run(ws_path, capsys, "search", "list", "--json")
    assert json.loads(out)[0]["name"] == "sorry_rows" and json.loads(out)[0]["n_matches"] == n
    rc, out, _ = run(ws_path, capsys, "decide", "--search", "sorry_rows", "exclude", "--dry-run")
    assert rc == 0 and f"exclude changes {n:,}" in out and len(ws.pins()) == 0
    rc, out, _ = run(ws_path, capsys, "decide", "--search", "sorry_rows", "exclude", "--who", "me")
    assert rc == 0 and (ws.pins()["pin"] == "exclude").sum() == n
    rc, out, _ = run(ws_path, capsys, "search", "undo", "--who", "me")
    assert rc == 0 and len(ws.pins()) == 0
    rc, _, err = run(ws_path, capsys, "decide", "--search", "nope", "exclude")
    assert rc == 1 and "no saved search named 'nope'" in err
    rc, out, _ = run(ws_path, capsys, "decide", "include", ws.examples(["example_id"])["example_id"][0], "--who", "me")
    assert rc == 0 and len(ws.pins()) == 1                 # decide without --search works as before
    rc, out, _ = run(ws_path, capsys, "search", "delete", "sorry_rows")
    assert rc == 0 and "search:sorry_rows" not in set(ws.score_defs()["key"])
