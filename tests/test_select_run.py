"""run_selection on a real workspace (tiny demo, real embeddings) and the select/rankings/explain CLI."""
from __future__ import annotations

import numpy as np
import pytest

from curation.core.errors import CurationError
from curation.select import apply_constraints, run_selection


@pytest.fixture
def ws(tiny_ws_copy):
    w = tiny_ws_copy
    ids = w.id_map()
    rng = np.random.default_rng(0)
    w.put_scores("quality", ids["example_id"].tolist(), rng.random(len(ids)), higher_is_better=True)
    w.put_scores("density_lsh(model=test)", ids["example_id"].tolist(), rng.random(len(ids)) + 0.1,
                 higher_is_better=False)
    return w


def test_facility_ranking_is_stored_and_reused(ws) -> None:
    r1 = run_selection(ws, "facility", {}, seed=0)
    n_emb = len(ws.embeddings(r1.method.split("model=")[1].split(",")[0])[0])
    assert len(r1.order) == n_emb and len(np.unique(r1.order)) == n_emb
    r2 = run_selection(ws, "facility", {}, seed=0)
    assert r2.method == r1.method and np.array_equal(r1.order, r2.order)
    assert len(ws.rankings()) == 1
    r3 = run_selection(ws, "facility", {"optimizer": "stochastic"}, seed=0)
    assert r3.method != r1.method and len(ws.rankings()) == 2


@pytest.mark.parametrize(("method", "params"), [
    ("random", {}), ("topk", {"score": "quality"}), ("density", {}), ("deita", {"score": "quality"}),
    ("kcenter", {}), ("isa", {}), ("facility", {"weight_score": "quality"}),
])
def test_methods_run_on_a_workspace(ws, method: str, params: dict) -> None:
    r = run_selection(ws, method, params, seed=1)
    assert len(r.order) > 300 and len(np.unique(r.order)) == len(r.order)
    assert ws.ranking(r.method) is not None
    if method == "density":
        assert "density_key=density_lsh(model=test)" in r.method


def test_target_and_seen_sets(ws) -> None:
    pref = set(ws.examples(["row_id"], dataset="demo_pref")["row_id"].tolist())
    cg = run_selection(ws, "facility_cg", {"seen_dataset": "demo_pref"})
    assert not pref & set(cg.order.tolist())
    mi = run_selection(ws, "facility_mi", {"target_text": "a question about cooking"})
    assert len(mi.order) > 300
    with pytest.raises(CurationError, match="no such dataset"):
        run_selection(ws, "facility_cg", {"seen_dataset": "nope"})


def test_pins_join_the_key_and_condition_the_ranking(ws) -> None:
    base = run_selection(ws, "facility", {})
    ids = ws.id_map().set_index("row_id")["example_id"]
    inc, exc = int(base.order[-1]), int(base.order[0])
    ws.add_decisions([ids[inc]], "include", who="t")
    ws.add_decisions([ids[exc]], "exclude", who="t")
    r = run_selection(ws, "facility", {}, use_pins=True)
    assert r.method != base.method and "pins=" in r.method
    assert r.order[0] == inc and exc not in r.order
    sel = apply_constraints(r, pins_include=[inc], pins_exclude=[exc], budget_rows=5)
    assert sel[0] == inc and len(sel) == 5


def test_a_pool_graph_is_the_stored_graph_type(ws) -> None:
    """Restricting the stored graph to a smaller pool gives a KnnGraph on pool positions (-1: outside the pool)."""
    from curation.neighbours.graph import KnnGraph, build_graph, load_graph
    from curation.select.run import _subgraph

    build_graph(ws, k=8)
    g = load_graph(ws, k=8)
    pool = g.row_ids[::2]
    sub = _subgraph(g, pool)
    assert isinstance(sub, KnnGraph) and sub.model == g.model and np.array_equal(sub.row_ids, pool)
    inside = sub.idx >= 0
    np.testing.assert_array_equal(pool[sub.idx[inside]], g.row_ids[g.idx[::2][inside]])
    assert (sub.sim[~inside] == 0).all() and (~inside).any()


def test_missing_score_is_explained(ws) -> None:
    with pytest.raises(CurationError, match="not found"):
        run_selection(ws, "topk", {"score": "nope"})
    with pytest.raises(CurationError, match="needs score"):
        run_selection(ws, "topk", {})


def test_cli_select_rankings_explain(ws, capsys) -> None:
    from curation.cli import main

    p = str(ws.path)
    assert main(["--workspace", p, "select", "facility", "optimizer=lazy", "--budget", "5", "--quota",
                 "proportional"]) == 0
    out = capsys.readouterr().out
    assert "selected 5 rows" in out
    key = out.split("ranking ")[1].split(":")[0] if False else ws.rankings()["key"].iloc[0]
    assert main(["--workspace", p, "rankings"]) == 0
    row = int(ws.ranking(key).order[100])
    assert main(["--workspace", p, "explain", key, str(row), "--budget", "5"]) == 0
    assert "nearest_selected" in capsys.readouterr().out
    assert main(["--workspace", p, "advise", key]) == 0
    assert "plateau" in capsys.readouterr().out
