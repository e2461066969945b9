"""``select topk score=NAME`` accepts a score's bare name when it names exactly one stored key; several keys of that
name are an error listing them."""
from __future__ import annotations

import json

import numpy as np
import pytest

from curation.cli import main
from curation.core.errors import CurationError
from curation.ingest.run import ingest_file
from curation.select import run_selection
from curation.store import Workspace


@pytest.fixture
def ws(tmp_path) -> Workspace:
    src = tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"question {i}", "response": f"answer {i}"}) + "\n"
                           for i in range(20)), encoding="utf-8")
    w = Workspace(tmp_path / "w.duckdb")
    ingest_file(w, src, name="d")
    ids = w.id_map().sort_values("row_id")["example_id"].tolist()
    w.put_scores("pref_head_default(v=3)", ids, np.arange(20, dtype=float), name="pref_head_default",
                 higher_is_better=True)
    return w


def test_a_bare_score_name_names_its_one_stored_key(ws):
    r = run_selection(ws, "topk", {"score": "pref_head_default"})
    assert "pref_head_default(v=3)" in r.method
    assert len(r.order) == 20
    top = ws.id_map().set_index("row_id").loc[int(r.order[0]), "example_id"]
    assert top == ws.id_map().sort_values("row_id")["example_id"].iloc[-1]   # the highest score first


def test_an_ambiguous_bare_name_lists_the_candidates(ws):
    ids = ws.id_map()["example_id"].tolist()
    ws.put_scores("pref_head_default(v=4)", ids, np.zeros(20), name="pref_head_default")
    with pytest.raises(CurationError, match=r"names 2 stored scores.*pref_head_default\(v=3\).*\(v=4\)"):
        run_selection(ws, "topk", {"score": "pref_head_default"})


def test_cli_select_topk_with_a_bare_name(ws, capsys):
    assert main(["-w", str(ws.path), "select", "topk", "score=pref_head_default", "--budget", "3"]) == 0
    assert "pref_head_default(v=3)" in capsys.readouterr().out


def test_the_rejected_companion_does_not_make_the_bare_name_ambiguous(ws):
    """A preference workspace stores the head's score of the chosen reply and, apart, of the rejected one: the bare
    name is the row's score (the issue's own command), the suffix names the companion."""
    from curation.select.run import full_score_key

    ids = ws.id_map()["example_id"].tolist()
    ws.put_scores("pref_head_default(v=3)@rejected", ids, -np.arange(20, dtype=float), name="pref_head_default")
    assert full_score_key(ws, "pref_head_default") == "pref_head_default(v=3)"
    assert full_score_key(ws, "pref_head_default@rejected") == "pref_head_default(v=3)@rejected"
    r = run_selection(ws, "topk", {"score": "pref_head_default"})
    assert "pref_head_default(v=3)" in r.method and "@rejected" not in r.method
