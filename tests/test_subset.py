"""The subset contract: SubsetSpec round-trips, pins as of a decision-log position, and one spec (pins, a token
budget and a class quota) resolved through every path gives the same rows: the engine, the CLI (select, explain,
report), export, and the dashboard's current subset (the function the Map colouring and the Balance page use)."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from curation.core.errors import CurationError
from curation.subsets.spec import SubsetSpec, decision_position, resolve

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def test_spec_round_trips_and_validates() -> None:
    s = SubsetSpec(ranking="random(seed=0)", budget=2000, unit="tokens",
                   quota={"max": {"b": 3}, "min": {"a": "2"}}, datasets=["y", "x", "y"], pins_as_of=7)
    assert s.quota == {"min": {"a": 2}, "max": {"b": 3}}
    assert s.datasets == ("x", "y")
    assert SubsetSpec.from_dict(s.to_dict()) == s
    assert SubsetSpec.from_json(s.to_json()) == s
    assert json.loads(s.to_json())["version"] == 1
    assert hash(SubsetSpec.from_json(s.to_json())) == hash(s)
    assert SubsetSpec(quota='{"min": {"a": 2}}').quota == {"min": {"a": 2}, "max": {}}
    assert SubsetSpec(budget=10, unit="%").budget_kwargs(200) == {"budget_rows": 20, "budget_tokens": None}
    for bad in ({"unit": "bytes"}, {"budget": -1}, {"budget": 101, "unit": "%"}, {"quota": "even"},
                {"quota": {"most": {}}}, {"pins_as_of": -2}, {"label_column": ""}):
        with pytest.raises(CurationError):
            SubsetSpec(**bad)
    with pytest.raises(CurationError, match="unknown"):
        SubsetSpec.from_dict({"ranking": None, "budgett": 3})


def test_pins_as_of_a_decision_position(tiny_ws_copy) -> None:
    ws = tiny_ws_copy
    ids = ws.id_map()
    first, second = ids["example_id"].iloc[-1], ids["example_id"].iloc[-2]
    ws.add_decisions([first], "include", who="t")
    pos = decision_position(ws)
    ws.add_decisions([second], "include", who="t")
    ws.add_decisions([first], "exclude", who="t")
    r_first, r_second = (int(ids.set_index("example_id").loc[e, "row_id"]) for e in (first, second))
    now = resolve(ws, SubsetSpec(budget=5))
    then = resolve(ws, SubsetSpec(budget=5, pins_as_of=pos))
    assert r_second in now.row_ids and r_first not in now.row_ids and r_first in now.exclude
    assert r_first in then.row_ids and r_second not in then.row_ids and not len(then.exclude)
    assert then.reasons([r_first, r_second]).tolist() == ["include_pin", "budget"]
    assert now.stages()["selected"] == 5


@pytest.fixture(scope="module")
def ranked_ws(tiny_ws, tmp_path_factory: pytest.TempPathFactory):
    """tiny_ws copied, mapped (PCA), ranked (random, no graph needed) and pinned: two include pins ranked last, two
    exclude pins
    ranked first."""
    from curation.neighbours.projection import pca_projection
    from curation.select import run_selection
    from curation.store import Workspace

    dst = tmp_path_factory.mktemp("subset") / "ws.duckdb"
    shutil.copy(tiny_ws.path, dst)
    ws = Workspace(dst)
    pca_projection(ws)  # a map, for the Map page's colouring
    r = run_selection(ws, "random", {}, seed=3)
    eid = ws.id_map().set_index("row_id")["example_id"]
    ws.add_decisions([eid[int(x)] for x in r.order[-2:]], "include", who="t", why="keep")
    ws.add_decisions([eid[int(x)] for x in r.order[:2]], "exclude", who="t", why="drop")
    return ws, r.method


def test_one_spec_same_rows_on_every_path(ranked_ws, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from streamlit.testing.v1 import AppTest

    from curation.cli import main
    from curation.cli.report import selected_ids_from_args
    from curation.export import export_subset, load_manifest, subset_row_ids

    ws, key = ranked_ws
    spec = SubsetSpec(ranking=key, budget=6000, unit="tokens", quota="balanced")
    engine = resolve(ws, spec).row_ids
    order = ws.ranking(key).order
    assert len(engine) and set(order[-2:].tolist()) <= set(engine.tolist())  # include pins beyond the budget
    assert not set(order[:2].tolist()) & set(engine.tolist())  # exclude pins ranked first, yet out
    eid = ws.id_map().set_index("row_id")["example_id"]
    want_ids = [eid[int(r)] for r in engine]

    # export: keyword form, spec form, and the manifest of the written file
    assert subset_row_ids(ws, ranking_key=key, budget_tokens=6000, quota="balanced").tolist() == engine.tolist()
    res = export_subset(ws, spec, name="same_rows", datasheet=False)
    man = load_manifest(res.manifest_path)
    assert sorted(man["example_ids"]) == sorted(want_ids)
    assert SubsetSpec.from_dict(man["selection"]["spec"]) == spec

    # CLI select (prints the ids in subset order), report (same rows as the report's subset)
    out = tmp_path / "ids.txt"
    assert main(["--workspace", str(ws.path), "select", "random", "--seed", "3", "--budget-tokens", "6000",
                 "--quota", "balanced", "--out", str(out)]) == 0
    assert out.read_text().split() == want_ids
    import argparse

    args = argparse.Namespace(ranking=key, budget=None, budget_tokens=6000, quota="balanced", ids=None,
                              label_column="label")
    assert selected_ids_from_args(args, ws).tolist() == engine.tolist()
    capsys.readouterr()

    # the dashboard: state.current_subset is what the Map colouring, Balance, Export and Inspect pages call
    def script() -> None:
        import streamlit as st

        from pages import state

        ws_ = state.workspace()
        _, rows = state.current_subset(ws_)
        st.session_state["rows"] = [int(x) for x in rows]

    at = AppTest.from_function(script, default_timeout=120)
    state = {"workspace_path": str(ws.path), "ranking_key": key, "budget_unit": "tokens", "budget_value": 6000.0,
             "class_quota": "balanced"}
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["rows"] == engine.tolist()

    # the Map page's "selection (current subset)" colouring says how many rows it coloured
    at = AppTest.from_file(str(ROOT / "pages" / "map.py"), default_timeout=120)
    for k, v in state.items():
        at.session_state[k] = v
    at.session_state["map:colour"] = "selection (current subset)"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"Subset of {len(engine):,} from" in c.value for c in at.caption), [c.value for c in at.caption]

    # the Balance page audits the same rows
    at = AppTest.from_file(str(ROOT / "pages" / "balance.py"), default_timeout=120)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f": {len(engine):,} rows from ranking" in c.value for c in at.caption), [c.value for c in at.caption]
