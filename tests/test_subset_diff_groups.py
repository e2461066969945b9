"""``subset diff`` on unlabelled data groups the class shift by the report's groups (the stored embedding clusters,
else the dataset) instead of one "(none)" class."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from curation.cli import main
from curation.core.ranking import Ranking
from curation.store import Workspace
from curation.subsets import saved as ss
from curation.subsets.spec import SubsetSpec

N = 40


def _rows(dataset: str) -> pd.DataFrame:
    return pd.DataFrame({
        "example_id": [f"{dataset}/{i}" for i in range(N)], "dataset": dataset, "source_line": range(1, N + 1),
        "kind": "preference", "prompt": [f"p{i}" for i in range(N)], "response": None,
        "chosen": [f"c{i}" for i in range(N)], "rejected": [f"r{i}" for i in range(N)], "messages": None,
        "label": None, "embed_text": [f"t{dataset}{i}" for i in range(N)],
        "text_hash": [f"h{dataset}{i}" for i in range(N)], "content_hash": [f"c{dataset}{i}" for i in range(N)],
        "n_tokens": 10, "record": ['{"x": 1}'] * N})


@pytest.fixture
def ws(tmp_path) -> Workspace:
    w = Workspace(tmp_path / "w.duckdb")
    for d in ("harmless", "helpful"):
        w.add_examples({"name": d, "source": "mem", "shape": "dpo", "kind": "preference"}, _rows(d))
    # rows of "helpful" (row ids 40..79) first, then "harmless"
    w.put_ranking(Ranking(order=np.r_[np.arange(N, 2 * N), np.arange(N)].astype(np.int64), gains=np.zeros(2 * N),
                          method="order(seed=0)"))
    ss.save(w, "cut", SubsetSpec(ranking="order(seed=0)", budget=30), who="t")
    ss.save(w, "cut", SubsetSpec(ranking="order(seed=0)", budget=60), who="t")
    return w


def test_diff_groups_unlabelled_rows_by_dataset(ws):
    d = ss.diff(ws, ss.load(ws, "cut@1"), ss.load(ws, "cut@2"))
    assert "(none)" not in set(d.classes["class"])
    got = dict(zip(d.classes["class"], d.classes["change"]))
    assert got == {"harmless": 20, "helpful": 10}
    assert d.groups == "dataset"


def test_diff_groups_unlabelled_rows_by_stored_clusters(ws):
    ids = ws.id_map().sort_values("row_id")["example_id"].tolist()
    ws.put_scores("cluster(model=m,n_clusters=3)", ids, np.arange(2 * N) % 3, name="cluster")
    d = ss.diff(ws, ss.load(ws, "cut@1"), ss.load(ws, "cut@2"))
    assert d.groups == "cluster(model=m,n_clusters=3)"
    assert set(d.classes["class"]) == {"cluster 0", "cluster 1", "cluster 2"}
    assert int(d.classes["change"].sum()) == 30


def test_cli_diff_shows_the_groups(ws, capsys):
    assert main(["-w", str(ws.path), "subset", "diff", "cut@1", "cut@2"]) == 0
    out = capsys.readouterr().out
    table = out.split("class counts", 1)[1].split("added", 1)[0]
    assert "(none)" not in table and "harmless" in table and "by dataset" in table
