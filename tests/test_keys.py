"""The one result-key format (curation/core/keys.py) and the migration that rewrites keys of older workspaces."""
from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest

from curation.core.errors import CurationError
from curation.core.keys import (
    format_value, graph_key, key_name, key_param, legacy_key, make_key, parse_key, score_key, short_hash,
)
from curation.core.ranking import Ranking
from curation.store import SCHEMA_VERSION, Workspace

M = "sentence-transformers/all-MiniLM-L6-v2"


def test_one_format_for_every_producer() -> None:
    from curation.scorers import get_scorer
    from curation.select import get_selector

    assert make_key("response_length") == "response_length"
    assert make_key("x", {"b": 2, "a": 1.0, "none": None}) == "x(a=1.0,b=2)"
    assert make_key("x", {"z": 1, "seed": 3}) == make_key("x", {"z": 1}, seed=3) == "x(z=1,seed=3)"  # seed last
    assert score_key("density_knn", model=M, k=30) == f"density_knn(k=30,model={M})"
    assert score_key("exactdup_size", model=None) == "exactdup_size"
    assert graph_key(M, 8) == f"knn(k=8,model={M})"
    # rankings and scorers go through the same builder
    sel = get_selector("topk", score=score_key("uniqueness", model=M, k=30))
    assert sel.key(0, data="ab") == f"topk(data=ab,normalize=rank,score=uniqueness(k=30,model={M}),seed=0)"
    assert get_scorer("response_length").key() == "response_length"


def test_values_are_hashed_one_way() -> None:
    long = "x" * 49
    assert format_value("x" * 48) == "x" * 48
    assert format_value(long) == "h" + short_hash(long)
    assert format_value("two words") == "h" + short_hash("two words")            # unsafe characters
    assert format_value({"b": 1, "a": 2}) == "h" + short_hash('{"a":2,"b":1}')    # lists and dicts: JSON text
    assert format_value(f"cluster(model={M},n_clusters=20)") == f"cluster(model={M},n_clusters=20)"  # a key


def test_parse_round_trip_and_names() -> None:
    key = make_key("topk", {"score": score_key("uniqueness", model=M, k=30), "normalize": "rank"}, seed=1)
    name, params, suffix = parse_key(key + "@rejected")
    assert (name, suffix) == ("topk", "@rejected")
    assert params == {"normalize": "rank", "score": f"uniqueness(k=30,model={M})", "seed": "1"}
    assert make_key(name, params) == key
    assert key_name(key) == "topk" and key_name("ext:my score") == "ext:my score"
    assert key_name("pref_head(train=ab)@rejected") == "pref_head"
    assert key_param(key, "normalize") == "rank" and key_param(key, "k") is None
    with pytest.raises(CurationError, match="name\\(param=value"):
        parse_key("x(a,b)")
    with pytest.raises(CurationError, match="result name"):
        make_key("bad name")


@pytest.mark.parametrize(("old", "new"), [
    (f"density_knn:{M}:k=10", f"density_knn(k=10,model={M})"),
    (f"cluster:{M}:n_clusters=20:seed=3", f"cluster(model={M},n_clusters=20,seed=3)"),
    (f"knn:{M}:k=15", f"knn(k=15,model={M})"),
    (f"umap:{M}", f"umap(model={M})"),
    ("exactdup_size", "exactdup_size"),
    ("askllm(v=2,template=sha1-0123456789)", "askllm(template=h0123456789,v=2)"),
    ("pref_head(train=31a81c1ba4)@rejected", "pref_head(train=31a81c1ba4)@rejected"),
    ("ext:judge.score", "ext:judge.score"),
    ("not a key(x=1)", "not a key(x=1)"),                  # someone else's text: left alone
    ("random(data=aa,seed=0)", "random(data=aa,seed=0)"),
    (f"topk(data=aa,score=density_knn:{M}:k=10,seed=0)", f"topk(data=aa,score=density_knn(k=10,model={M}),seed=0)"),
])
def test_legacy_keys_map_to_the_format_once(old: str, new: str) -> None:
    assert legacy_key(old) == new
    assert legacy_key(new) == new


def _old_workspace(tmp_path) -> tuple[Workspace, dict[str, str]]:
    """A workspace holding results under the keys of schema version 4, written row by row as that version did."""
    src = tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps({"instruction": f"question {i}", "output": f"answer number {i}"}) + "\n"
                           for i in range(6)))
    from curation.ingest.run import ingest_file

    ws = Workspace(tmp_path / "old.duckdb")
    ingest_file(ws, src, name="d")
    ids = ws.id_map()
    eids, rids = ids["example_id"].tolist(), ids["row_id"].to_numpy()
    old = {"density": f"density_knn:{M}:k=10", "cluster": f"cluster:{M}", "graph": f"knn:{M}:k=10",
           "umap": f"umap:{M}:n_neighbors=11", "scorer": "askllm(v=2,template=sha1-0123456789)"}
    ws.put_scores(old["density"], eids, np.arange(6.0), name="density_knn", higher_is_better=False)
    ws.put_scores(old["cluster"], eids, np.arange(6.0) % 2, name="cluster", kind="group")
    ws.put_scores(old["scorer"], eids, np.linspace(0, 1, 6), name="askllm", higher_is_better=True)
    ws.put_artifact(f"labels:{old['cluster']}", {"key": old["cluster"], "clusters": []})
    nbr = np.stack([np.roll(rids, 1), np.roll(rids, 2)], axis=1)
    ws.put_graph(old["graph"], rids, nbr, np.ones(nbr.shape, np.float32), model=M, params={"k": 10})
    ws.put_projection(old["umap"], rids, np.zeros((6, 2)), method="umap", model=M,
                      params={"graph": old["graph"], "n_neighbors": 11})
    ws.set_job(f"graph:{old['graph']}", kind="graph", status="done", params={"result": old["graph"]})
    rkey = f"topk(data=aa,normalize=rank,score={old['density']},seed=0)"
    ws.put_ranking(Ranking(order=rids[::-1].copy(), gains=np.zeros(6), method=rkey),
                   params={"method": "topk", "params": {"normalize": "rank", "score": old["density"],
                                                        "scores": None}, "seed": 0, "data": "aa",
                           "use_pins": False})
    ws.save_subset("mine", {"ranking": rkey, "budget": 3, "unit": "rows", "label_column": old["cluster"]},
                   decision_pos=0, who="t")
    old["ranking"] = rkey
    con = duckdb.connect(str(ws.path))
    con.execute("update meta set value = '4' where key = 'schema_version'")
    con.close()
    return ws, old


def test_migration_rewrites_stored_keys_of_an_old_workspace(tmp_path) -> None:
    from curation.neighbours.graph import load_graph

    _, old = _old_workspace(tmp_path)
    ws = Workspace(tmp_path / "old.duckdb")     # opening migrates
    assert ws.schema_version() == SCHEMA_VERSION
    new_density = score_key("density_knn", model=M, k=10)
    new_cluster = score_key("cluster", model=M)
    new_scorer = "askllm(template=h0123456789,v=2)"
    keys = set(ws.score_defs()["key"])
    assert keys == {new_density, new_cluster, new_scorer}
    assert ws.scores([new_density])[new_density].tolist() == list(np.arange(6.0))
    assert load_graph(ws, model=M, k=10).idx.shape == (6, 2)                     # found under graph_key(M, 10)
    proj = ws.projection_defs()
    assert proj["key"].tolist() == [score_key("umap", model=M, n_neighbors=11)]
    assert json.loads(proj["params"].iloc[0])["graph"] == graph_key(M, 10)
    assert ws.job(f"graph:{graph_key(M, 10)}")["status"] == "done"
    assert ws.artifact(f"labels:{new_cluster}") == {"key": new_cluster, "clusters": []}
    new_rkey = make_key("topk", {"data": "aa", "normalize": "rank", "score": new_density}, seed=0)
    assert ws.rankings()["key"].tolist() == [new_rkey]
    stored = json.loads(ws.rankings()["params"].iloc[0])
    assert stored["params"]["score"] == new_density
    spec = json.loads(ws.saved_subsets()["spec"].iloc[0])
    assert spec["ranking"] == new_rkey and spec["label_column"] == new_cluster
    # idempotent: running the rewrite again (as a second open would) changes nothing
    from curation.store.schema import _rekey_results

    tables = ("score_defs", "scores", "rankings", "graphs", "projection_defs", "jobs", "artifacts", "saved_subsets")

    def dump() -> dict:
        with ws.connect() as con:
            return {t: con.execute(f"select * from {t} order by all").fetchall() for t in tables}

    before = dump()
    with ws.transaction() as con:
        _rekey_results(con)
    assert dump() == before
    assert Workspace(ws.path).schema_version() == SCHEMA_VERSION
    # a script that still names the old keys finds the results
    from curation.store.columns import column_values

    assert ws.ranking_key(old["ranking"]) == new_rkey
    assert column_values(ws, old["cluster"]).tolist() == (np.arange(6.0) % 2).tolist()
