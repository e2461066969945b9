"""Short ranking ids (``facility-2``): assigned when stored, accepted wherever a ranking key is, with unique prefixes
and bare method names."""
from __future__ import annotations

import json

import numpy as np
import pytest

from curation.core.errors import CurationError
from curation.core.ranking import Ranking
from curation.store import Workspace


def _put(ws: Workspace, key: str) -> None:
    ws.put_ranking(Ranking(order=np.arange(10, dtype=np.int64), gains=np.zeros(10), method=key))


def _ws(tmp_path) -> Workspace:
    ws = Workspace(tmp_path / "w.duckdb")
    for key in ("facility(data=aa,k=15,seed=0)", "random(data=aa,seed=0)", "facility(data=aa,k=15,seed=1)"):
        _put(ws, key)
    return ws


def test_short_ids_assigned_per_method_and_stable(tmp_path) -> None:
    ws = _ws(tmp_path)
    df = ws.rankings()
    assert dict(zip(df["key"], df["short_id"])) == {"facility(data=aa,k=15,seed=0)": "facility-1",
                                                    "random(data=aa,seed=0)": "random-1",
                                                    "facility(data=aa,k=15,seed=1)": "facility-2"}
    _put(ws, "facility(data=aa,k=15,seed=0)")  # storing again keeps the id
    ws.delete_ranking("facility(data=aa,k=15,seed=1)")
    _put(ws, "facility(data=aa,k=15,seed=2)")  # a deleted id is not reused
    df = ws.rankings()
    assert set(df["short_id"]) == {"facility-1", "random-1", "facility-3"}


def test_references_accepted(tmp_path) -> None:
    ws = _ws(tmp_path)
    assert ws.ranking("facility-2").method == "facility(data=aa,k=15,seed=1)"
    assert ws.ranking("random").method == "random(data=aa,seed=0)"  # the only ranking of its method
    assert ws.ranking("rand").method == "random(data=aa,seed=0)"  # unique prefix
    assert ws.ranking("facility(data=aa,k=15,seed=1").method == "facility(data=aa,k=15,seed=1)"
    assert ws.ranking("random(data=aa,seed=0)").method == "random(data=aa,seed=0)"
    assert ws.ranking("kcenter") is None
    with pytest.raises(CurationError, match=r"facility-1.*facility-2"):
        ws.ranking("facility")
    assert ws.ranking_key("facility-1") == "facility(data=aa,k=15,seed=0)"
    with pytest.raises(CurationError, match="random-1"):
        ws.ranking_key("nope")


def test_old_workspace_gets_short_ids(tmp_path) -> None:
    import duckdb

    ws = _ws(tmp_path)
    with duckdb.connect(str(ws.path)) as con:  # as a workspace of the previous schema had it
        con.execute("alter table rankings drop column short_id")
        con.execute("update meta set value = '3' where key = 'schema_version'")
    ws2 = Workspace(ws.path)
    df = ws2.rankings()
    assert sorted(df["short_id"]) == ["facility-1", "facility-2", "random-1"]
    _put(ws2, "random(data=bb,seed=0)")
    assert "random-2" in set(ws2.rankings()["short_id"])


def test_cli_lists_and_takes_short_ids(tmp_path, capsys) -> None:
    from curation.cli import main
    from curation.ingest.run import ingest_file

    src = tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"question {i}", "response": f"answer {i}"}) + "\n"
                           for i in range(30)), encoding="utf-8")
    w = str(tmp_path / "c.duckdb")
    ingest_file(Workspace(w), src, name="d")
    assert main(["-w", w, "select", "random"]) == 0
    assert main(["-w", w, "rankings"]) == 0
    out = capsys.readouterr().out
    assert "random-1" in out
    assert main(["-w", w, "export", "--ranking", "random", "--budget", "5", "--name", "e", "--no-datasheet"]) == 0
    m = json.loads((Workspace(w).export_dir / "e.jsonl.manifest.json").read_text(encoding="utf-8"))
    assert m["selection"]["ranking"]["key"].startswith("random(")
    assert m["selection"]["ranking"]["short_id"] == "random-1"
