"""Workspace store: schema/migrations, decisions log, concurrency (threads and a second process), lock errors."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from curation.core.errors import CurationError, WorkspaceLocked
from curation.core.ranking import Ranking
from curation.store import SCHEMA_VERSION, Workspace


def _rows(n: int, dataset: str = "d") -> pd.DataFrame:
    return pd.DataFrame({
        "example_id": [f"{dataset}/{i}" for i in range(n)], "dataset": dataset, "source_line": range(1, n + 1),
        "kind": "sft", "prompt": [f"p{i}" for i in range(n)], "response": [f"r{i}" for i in range(n)],
        "chosen": None, "rejected": None, "messages": None, "label": [f"c{i % 3}" for i in range(n)],
        "embed_text": [f"t{i}" for i in range(n)], "text_hash": [f"h{i}" for i in range(n)],
        "content_hash": [f"c{i}" for i in range(n)], "n_tokens": [5] * n, "record": ['{"x": 1}'] * n})


def _ws_with_rows(path: Path, n: int = 10) -> Workspace:
    ws = Workspace(path)
    ws.add_examples({"name": "d", "source": "mem", "shape": "alpaca", "kind": "sft"}, _rows(n))
    return ws


def test_schema_version_and_reopen(tmp_path):
    ws = _ws_with_rows(tmp_path / "w.duckdb")
    assert ws.schema_version() == SCHEMA_VERSION
    ws2 = Workspace(tmp_path / "w.duckdb", create=False)
    assert ws2.n_examples() == 10


def test_newer_schema_is_refused(tmp_path):
    import duckdb

    ws = Workspace(tmp_path / "w.duckdb")
    con = duckdb.connect(str(ws.path))
    con.execute("update meta set value = ? where key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    con.close()
    with pytest.raises(CurationError, match="newer than this code"):
        Workspace(tmp_path / "w.duckdb")


def test_missing_workspace_without_create(tmp_path):
    with pytest.raises(CurationError, match="does not exist"):
        Workspace(tmp_path / "nope.duckdb", create=False)


def test_row_ids_are_dense_and_stable_across_datasets(tmp_path):
    ws = _ws_with_rows(tmp_path / "w.duckdb", 5)
    ws.add_examples({"name": "e", "source": "mem"}, _rows(3, "e"))
    assert list(ws.row_ids()) == list(range(8))
    ws.remove_dataset("d")
    assert list(ws.row_ids()) == [5, 6, 7]
    ws.add_examples({"name": "d", "source": "mem"}, _rows(2, "d"))
    assert list(ws.row_ids()) == [5, 6, 7, 8, 9]


def test_embeddings_roundtrip_by_text_hash(tmp_path):
    ws = _ws_with_rows(tmp_path / "w.duckdb", 4)
    X = np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32)
    ws.put_embeddings("m", [f"h{i}" for i in range(4)], X)
    rows, Y = ws.embeddings("m")
    assert list(rows) == [0, 1, 2, 3] and np.array_equal(X, Y)
    assert ws.missing_text_hashes("m").empty and len(ws.missing_text_hashes("other")) == 4


def test_scores_graph_projection_ranking_roundtrip(tmp_path):
    ws = _ws_with_rows(tmp_path / "w.duckdb", 3)
    ws.put_scores("len", ["d/0", "d/1", "d/2"], np.array([1.0, np.nan, 3.0]), higher_is_better=True)
    s = ws.scores(["len"])
    assert s["len"].iloc[0] == 1.0 and np.isnan(s["len"].iloc[1])
    idx = np.array([[1, 2], [0, 2], [0, 1]])
    sim = np.array([[0.9, 0.1], [0.9, 0.5], [0.1, 0.5]], dtype=np.float32)
    ws.put_graph("g", np.arange(3), idx, sim, model="m")
    r, i2, s2 = ws.graph("g")
    assert np.array_equal(i2, idx) and np.allclose(s2, sim)
    ws.put_projection("p", np.arange(3), np.ones((3, 2)), method="pca", model="m")
    assert ws.projection("p")[1].shape == (3, 2)
    ws.put_ranking(Ranking(np.array([2, 0, 1]), np.array([3.0, 2.0, np.nan]), "random(seed=1)"))
    rk = ws.ranking("random(seed=1)")
    assert list(rk.order) == [2, 0, 1] and np.isnan(rk.gains[2]) and list(rk.top(2)) == [2, 0]


def test_decisions_log_pins_tags_undo(tmp_path):
    ws = _ws_with_rows(tmp_path / "w.duckdb", 3)
    [a] = ws.add_decisions(["d/0"], "include", who="ann", why="great")
    ws.add_decisions(["d/1"], "exclude", who="bob")
    ws.add_decisions(["d/0", "d/1"], "tag", who="bob", value="check")
    ws.add_decisions(["d/2"], "note", who="ann", value="odd wording")
    pins = ws.pins().set_index("example_id")["pin"].to_dict()
    assert pins == {"d/0": "include", "d/1": "exclude"}
    assert set(ws.tags()["example_id"]) == {"d/0", "d/1"}
    ws.undo_decision(a, who="ann")
    assert ws.pins().set_index("example_id")["pin"].to_dict() == {"d/1": "exclude"}
    log = ws.decisions()
    assert list(log["who"]) == ["ann", "bob", "bob", "bob", "ann", "ann"] and log["id"].is_monotonic_increasing
    with pytest.raises(CurationError, match="no example with id 'd/99'"):
        ws.add_decisions(["d/99"], "include", who="ann")
    with pytest.raises(CurationError, match="unknown decision action"):
        ws.add_decisions(["d/0"], "pin", who="ann")


def test_concurrent_threads_lose_no_decision(tmp_path):
    ws = _ws_with_rows(tmp_path / "w.duckdb", 20)
    errors: list[Exception] = []

    def curator(name: str) -> None:
        try:
            for i in range(20):
                ws.add_decisions([f"d/{i}"], "include" if i % 2 else "exclude", who=name)
                ws.add_decisions([f"d/{i}"], "tag", who=name, value=name)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=curator, args=(f"c{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(ws.decisions()) == 4 * 20 * 2


def test_other_process_holding_the_lock_gives_clear_error(tmp_path):
    ws = _ws_with_rows(tmp_path / "w.duckdb", 2)
    holder = textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(ws.path)!r})
        print("locked", flush=True)
        time.sleep(30)
    """)
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        blocked = Workspace.__new__(Workspace)
        blocked.path, blocked.lock_timeout = ws.path, 0.5
        blocked._local = threading.local()
        with pytest.raises(WorkspaceLocked, match=r"is locked by .*one process write a file at a time"):
            blocked.n_examples()
    finally:
        proc.kill()
        proc.wait()
    assert ws.n_examples() == 2  # usable again once the other process let go


def test_cli_waits_for_a_short_lock(tmp_path):
    """A CLI command waits while another process briefly holds the file (the app between two operations)."""
    ws = _ws_with_rows(tmp_path / "w.duckdb", 2)
    holder = textwrap.dedent(f"""
        import duckdb, time
        con = duckdb.connect({str(ws.path)!r})
        print("locked", flush=True)
        time.sleep(1.5)
        con.close()
        time.sleep(5)
    """)
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        out = subprocess.run([sys.executable, "-m", "curation", "--workspace", str(ws.path), "info"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "examples   2" in out.stdout
    finally:
        proc.kill()
        proc.wait()


def test_read_sql_refuses_writes(tmp_path):
    ws = _ws_with_rows(tmp_path / "w.duckdb", 2)
    assert int(ws.read_sql("select count(*) n from examples")["n"][0]) == 2
    for q in ("delete from examples", "select 1; delete from examples", "drop table examples"):
        with pytest.raises(CurationError, match="only a single SELECT"):
            ws.read_sql(q)
    assert ws.n_examples() == 2


def test_score_column_gives_row_ids_and_values_without_example_ids(tmp_path) -> None:
    import numpy as np
    import pandas as pd

    from curation.store import Workspace

    ws = Workspace(tmp_path / "w.duckdb")
    rows = pd.DataFrame({"example_id": ["d/a", "d/b", "d/c"], "dataset": "d", "source_line": [1, 2, 3],
                         "kind": "sft", "prompt": ["p"] * 3, "response": ["r"] * 3, "chosen": None, "rejected": None,
                         "messages": None, "label": None, "embed_text": ["a", "b", "c"], "text_hash": ["1", "2", "3"],
                         "content_hash": ["1", "2", "3"], "n_tokens": [1, 1, 1], "record": ["{}"] * 3})
    ws.add_examples({"name": "d", "kind": "sft"}, rows)
    ws.put_scores("q", ["d/c", "d/a"], np.array([3.0, 1.0]))
    r, v = ws.score_column("q")
    ids = ws.id_map().set_index("example_id")["row_id"]
    assert r.tolist() == sorted([ids["d/a"], ids["d/c"]]) and v.tolist() == [1.0, 3.0]
    assert [len(x) for x in ws.score_column("missing")] == [0, 0]
