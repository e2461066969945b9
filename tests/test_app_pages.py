"""AppTest smoke and interaction tests of every dashboard page, each page file run on its own (st.navigation is not
involved) against a small real workspace: the tiny demo, analysed (graph, density, duplicates, clusters, PCA),
scored with the heuristics and ranked by two methods."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.app_support import app_page  # noqa: E402

pytestmark = pytest.mark.slow  # the module's workspace is analysed, scored and ranked once (~40 s on 2 quiet cores)

TIMEOUT = 120
HOSTILE = "<script>alert('x')</script> <b>bold</b> **not bold**"


@pytest.fixture(scope="module")
def app_ws(tiny_ws, tmp_path_factory: pytest.TempPathFactory):
    """tiny_ws copied, analysed (PCA map, no UMAP to keep it fast), scored and ranked; plus one hostile example."""
    import torch

    from curation.embedding.embed import DEFAULT_MODEL, embed_workspace
    from curation.workflows.analyze import analyze
    from curation.ingest.run import ingest_file
    from curation.scorers import run_scorers
    from curation.select import run_selection
    from curation.store import Workspace

    torch.set_num_threads(1)
    d = tmp_path_factory.mktemp("appws")
    dst = d / "app.duckdb"
    shutil.copy(tiny_ws.path, dst)
    ws = Workspace(dst)
    src = d / "hostile.jsonl"
    src.write_text(json.dumps({"prompt": HOSTILE, "response": HOSTILE}) + "\n")
    ingest_file(ws, src, name="hostile")
    embed_workspace(ws, DEFAULT_MODEL)
    analyze(ws, model=DEFAULT_MODEL, steps=("graph", "density", "uniqueness", "dedup", "clusters", "pca"))
    run_scorers(ws, ["heuristics"])
    run_selection(ws, "random", {}, seed=0, model=DEFAULT_MODEL)
    run_selection(ws, "facility", {}, seed=0, model=DEFAULT_MODEL)
    return ws


@pytest.fixture
def app_ws_copy(app_ws, tmp_path: Path):
    from curation.store import Workspace

    dst = tmp_path / "copy.duckdb"
    shutil.copy(app_ws.path, dst)
    return Workspace(dst)


PAGE_FILES = {"inspect": "inspector"}  # page name → file in pages/ (pages/inspect.py would shadow the stdlib)


def page(name: str, ws, **state) -> AppTest:
    return app_page(PAGE_FILES.get(name, name), ws, timeout=TIMEOUT, **state)


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def all_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.code] + [t.value for t in at.text]
    parts += [c.value for c in at.caption] + [w.value for w in at.warning] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


# ---------------------------------------------------------------------------------------------- smoke, every page
@pytest.mark.parametrize("name", ["data", "map", "scores", "select", "balance", "inspect", "export"])
def test_page_renders_without_error(app_ws, name: str) -> None:
    at = page(name, app_ws)
    no_errors(at)
    assert at.title and at.title[0].value.lower() == name


@pytest.mark.parametrize("name", ["map", "scores", "select", "balance", "inspect", "export"])
def test_pages_on_an_empty_workspace_say_what_to_do(tmp_ws, name: str) -> None:
    at = page(name, tmp_ws)
    assert not at.exception, [e.value for e in at.exception]
    msg = all_text(at).lower()
    assert any(w in msg for w in ("no map yet", "no scores yet", "no examples yet", "nothing embedded",
                                  "no subset yet", "add a dataset")), msg[:500]


def test_data_page_shows_summary_and_datasets(app_ws) -> None:
    at = page("data", app_ws)
    no_errors(at)
    labels = {m.label: m.value for m in at.metric}
    assert labels["Examples"] == f"{app_ws.n_examples():,}"
    assert at.dataframe[0].value["name"].tolist() == ["demo_sft", "demo_pref", "hostile"]


def test_data_page_previews_a_file_mapping(app_ws, tmp_path: Path) -> None:
    f = app_ws.path.parent / "new.jsonl"  # inside the workspace roots (the workspace's folder)
    f.write_text('{"instruction": "Say hi", "input": "", "output": "hi"}\n' * 3)
    at = page("data", app_ws)
    at.text_input(key="data:src_path").input(str(f)).run()
    no_errors(at)
    assert any("alpaca" in s.value for s in at.success)


# ---------------------------------------------------------------------------------------------- select: budget
def test_budget_change_slices_the_ranking_prefix(app_ws) -> None:
    from curation.select import apply_constraints

    at = page("select", app_ws)
    no_errors(at)
    key = at.session_state["ranking_key"]
    ranking = app_ws.ranking(key)
    at.slider(key="select:budget:pct").set_value(25.0).run()
    no_errors(at)
    n = len(ranking.order)
    want = apply_constraints(ranking, budget_rows=int(round(0.25 * n)))
    assert at.session_state["budget_rows"] == len(want)
    assert at.metric[0].value == f"{len(want):,}"
    at.segmented_control(key="select:unit_w").set_value("rows").run()
    at.slider(key="select:budget:rows").set_value(40).run()
    no_errors(at)
    assert at.session_state["budget_rows"] == 40


def test_quota_and_compare_tabs(app_ws) -> None:
    at = page("select", app_ws)
    at.selectbox(key="select:quota_w").set_value("balanced").run()
    no_errors(at)
    assert at.session_state["class_quota"] == "balanced"
    # tabs are lazy: only the open one is computed (a budget step must not pay for the others)
    assert not any(m.label == "Jaccard" for m in at.metric)
    at.session_state["select:tab"] = "Compare rankings"
    at.run()
    no_errors(at)
    assert any(m.label == "Jaccard" for m in at.metric)  # two rankings stored → the comparison renders


def test_include_pin_enters_the_subset(app_ws_copy) -> None:
    ws = app_ws_copy
    at = page("select", ws, budget_unit="rows", budget_value=10.0)
    key = at.session_state["ranking_key"]
    last = int(ws.ranking(key).order[-1])  # ranked last: outside a budget of 10
    eid = ws.example(last)["example_id"]
    ws.add_decisions([eid], "include", who="tester")
    at.run()
    no_errors(at)
    from curation.select import apply_constraints

    sel = apply_constraints(ws.ranking(key), pins_include=[last], budget_rows=10)
    assert last in sel and at.session_state["budget_rows"] == 10


# ---------------------------------------------------------------------------------------------- map: selection → pins
def test_map_selection_injected_then_pinned(app_ws_copy) -> None:
    ws = app_ws_copy
    rows = ws.row_ids()[:5].tolist()
    at = page("map", ws, map_selection=rows)
    no_errors(at)
    assert any("Selected on the map: 5" in h.value for h in at.subheader)
    at.button(key="map:include").click().run()
    no_errors(at)
    pins = ws.pins()
    assert sorted(pins.loc[pins["pin"] == "include", "row_id"].tolist()) == sorted(rows)
    assert set(ws.decisions()["who"]) == {"tester"}
    at.button(key="map:exclude").click().run()
    pins = ws.pins()
    assert set(pins["pin"]) == {"exclude"} and len(pins) == 5
    at.text_input(key="map:tag").input("off-topic").run()
    at.button(key="map:tag_btn").click().run()
    assert set(ws.tags()["tag"]) == {"off-topic"}


def test_map_colour_options_render(app_ws) -> None:
    at = page("map", app_ws)
    for colour in at.selectbox(key="map:colour").options:
        at.selectbox(key="map:colour").set_value(colour).run()
        no_errors(at)


def _scatter_args(at) -> dict:
    """The JSON arguments of the map renderer as sent to the browser (bytes arguments aside)."""
    comp = at.get("component_instance")
    assert comp, "the map renderer was not drawn"
    inst = comp[0].proto
    return {"json": json.loads(inst.json_args), "bytes": {a.key: a.bytes for a in inst.special_args}}


def test_map_sends_only_what_it_draws(app_ws) -> None:
    """float32 x/y and one byte of colour a point; no dataset text at all until the pointer rests on a point."""
    at = page("map", app_ws)
    no_errors(at)
    args = _scatter_args(at)
    n = len(app_ws.projection(app_ws.projection_defs()["key"].iloc[-1])[0])
    assert len(args["bytes"]["xy"]) == 8 * n and len(args["bytes"]["codes"]) == n
    assert args["json"]["hover"] is None
    assert "alert(" not in json.dumps(args["json"])  # no example text (cluster names are keywords)


def test_map_hover_text_on_demand_is_plain_text(app_ws) -> None:
    """A hover event brings the point's text (the browser sets it with textContent, so it stays literal)."""
    from curation.store import Workspace

    ws = Workspace(app_ws.path)
    at = page("map", ws)
    data_id = _scatter_args(at)["json"]["data_id"]
    rows = at.session_state["map_selection"] if "map_selection" in at.session_state else []
    assert rows == []
    rid = int(ws.examples(["row_id"], dataset="hostile")["row_id"].iloc[0])
    key = ws.projection_defs()["key"].iloc[-1]
    pos = int(np.flatnonzero(ws.projection(key)[0] == rid)[0])
    at.session_state["map:scatter"] = {"seq": 1, "dataId": data_id, "kind": "hover", "pos": pos}
    at.run()
    no_errors(at)
    hover = _scatter_args(at)["json"]["hover"]
    assert hover["pos"] == pos and "<script>alert('x')</script>" in hover["text"]


def test_map_box_event_selects_rows_then_pins(app_ws_copy) -> None:
    """A box drawn in the browser comes back as geometry; the page turns it into row ids and pins them."""
    ws = app_ws_copy
    at = page("map", ws)
    data_id = _scatter_args(at)["json"]["data_id"]
    row_ids, xy = ws.projection(ws.projection_defs()["key"].iloc[-1])
    x0, x1 = np.quantile(xy[:, 0], [0.2, 0.6])
    y0, y1 = np.quantile(xy[:, 1], [0.2, 0.6])
    xy32 = xy.astype(np.float32)
    inside = (xy32[:, 0] >= np.float32(x0)) & (xy32[:, 0] <= np.float32(x1)) & (xy32[:, 1] >= np.float32(y0)) \
        & (xy32[:, 1] <= np.float32(y1))
    assert inside.sum() > 0
    at.session_state["map:scatter"] = {"seq": 7, "dataId": data_id, "kind": "box", "box": [x0, y0, x1, y1]}
    at.run()
    no_errors(at)
    assert at.session_state["map_selection"] == sorted(row_ids[inside].tolist())
    assert any(f"Selected on the map: {int(inside.sum())}" in h.value for h in at.subheader)
    at.button(key="map:include").click().run()
    pins = ws.pins()
    assert sorted(pins["row_id"].tolist()) == sorted(row_ids[inside].tolist())
    # a rerun (any widget) keeps the selection
    at.run()
    assert at.session_state["map_selection"] == sorted(row_ids[inside].tolist())


# ---------------------------------------------------------------------------------------------- inspect
def test_inspect_shows_hostile_text_literally_and_pins(app_ws_copy) -> None:
    ws = app_ws_copy
    rid = int(ws.examples(["row_id"], dataset="hostile")["row_id"].iloc[0])
    at = page("inspect", ws, inspect_row=rid)
    no_errors(at)
    codes = [c.value for c in at.code]
    assert any("<script>alert('x')</script>" in c for c in codes)
    assert not any("<script>" in m.value for m in at.markdown)
    at.button(key="inspect:include").click().run()
    no_errors(at)
    eid = ws.example(rid)["example_id"]
    assert ws.pins().set_index("example_id").loc[eid, "pin"] == "include"
    at.text_input(key="inspect:tag").input("<b>tag</b>").run()
    at.button(key="inspect:tag_btn").click().run()
    assert "<b>tag</b>" in ws.tags()["tag"].tolist()
    at.button(key="inspect:undo").click().run()
    assert "<b>tag</b>" not in ws.tags()["tag"].tolist()
    assert any("Why selected" in h.value for h in at.subheader)


def test_inspect_explains_selection(app_ws) -> None:
    at = page("inspect", app_ws, budget_unit="rows", budget_value=20.0)
    no_errors(at)
    txt = " ".join(s.value for s in at.success) + " ".join(w.value for w in at.warning)
    assert "Selected by" in txt or "Dropped by" in txt


# ---------------------------------------------------------------------------------------------- scores, balance
def test_scores_filter_and_threshold(app_ws_copy) -> None:
    ws = app_ws_copy
    at = page("scores", ws)
    no_errors(at)
    at.text_input(key="score_filter").input("label = 'coding'").run()
    no_errors(at)
    df = at.dataframe[0].value
    assert len(df) > 0 and set(df["label"]) == {"coding"}
    at.text_input(key="score_filter").input("1=1; drop table examples").run()
    assert at.error  # refused, workspace untouched
    assert ws.n_examples() > 0
    # the filter can name the text, which the table does not hold: same rows as a brute-force scan
    ex = ws.examples(["row_id", "prompt", "response", "label"])
    lab = ex["label"]
    want = ex[ex["response"].fillna("").str.contains("the", case=False) & lab.notna() & (lab != "coding")]
    at.text_input(key="score_filter").input("response ilike '%the%' and label <> 'coding'").run()
    no_errors(at)
    got = at.dataframe[0].value
    assert 0 < len(want) <= 2000 and set(got["row_id"]) == set(want["row_id"]), (len(got), len(want))


def test_scores_page_shows_validity_and_learned_scorer_errors(app_ws_copy) -> None:
    ws = app_ws_copy
    at = page("scores", ws)
    no_errors(at)
    at.selectbox(key="scores:key").select("response_length").run()
    assert any("near chance" in w.value for w in at.warning)          # a heuristic used as quality: warned
    at.button(key="scores:train_curator").click().run()                # a background job: the page stays usable
    from pages import jobs

    jobs.threads()[f"{ws.path}::ui:train_curator"].join(timeout=TIMEOUT)
    at.run()                                                           # no pins yet: the reason, nothing written
    assert any("at least one kept and one dropped" in e.value for e in at.error)
    assert not [k for k in ws.score_defs()["key"] if k.startswith("curator_model")]


def proposed(at: AppTest):
    """The Scores page's table of proposed rows (the one with a p_keep column)."""
    return next(d.value for d in at.dataframe if "p_keep" in d.value.columns)


def test_scores_page_curator_loop_proposes_unpinned_rows(app_ws_copy) -> None:
    """Pin a few rows, train from the page (a background job), and the page lists the rows the model is least sure
    about: none of them pinned, least sure first; the new curator_model score becomes selectable."""
    ws = app_ws_copy
    ex = ws.examples(columns=["example_id", "label"])
    labels = ex["label"].value_counts().index.tolist()
    keep = ex.loc[ex["label"] == labels[0], "example_id"].tolist()[:6]
    drop = ex.loc[ex["label"] == labels[1], "example_id"].tolist()[:6]
    ws.add_decisions(keep, "include", who="tester")
    ws.add_decisions(drop, "exclude", who="tester")
    at = page("scores", ws)
    no_errors(at)
    at.button(key="scores:train_curator").click().run()
    from pages import jobs

    jobs.threads()[f"{ws.path}::ui:train_curator"].join(timeout=TIMEOUT)
    at.run()
    no_errors(at)
    assert any(m.value.startswith("Judge these next") for m in at.markdown), all_text(at)
    prop = proposed(at)
    assert len(prop) == 20 and not set(prop["example_id"]) & set(keep + drop)
    sure = np.abs(prop["p_keep"].to_numpy(float) - 0.5)
    assert np.all(np.diff(sure) >= -1e-12)                        # least sure first
    key = next(k for k in ws.score_defs()["key"] if k.startswith("curator_model"))
    assert any(o.startswith(key) for o in at.selectbox(key="scores:key").options)
    ws.add_decisions([prop["example_id"].iloc[0]], "include", who="tester")   # judge one: the next run retrains
    at.button(key="scores:train_curator").click().run()
    jobs.threads()[f"{ws.path}::ui:train_curator"].join(timeout=TIMEOUT)
    at.run()
    no_errors(at)
    keys = [k for k in ws.score_defs()["key"] if k.startswith("curator_model")]
    assert len(keys) == 2                                          # new labels, new key
    assert prop["example_id"].iloc[0] not in set(proposed(at)["example_id"])


def test_balance_report_card(app_ws) -> None:
    at = page("balance", app_ws, budget_unit="%", budget_value=20.0)
    no_errors(at)
    labels = [m.label for m in at.metric]
    assert "Class drift (JS)" in labels and "Subset rows" in labels
    r = app_ws.rankings().iloc[-1]  # the draft uses the newest ranking: the caption names it by its short id
    cap = next(c.value for c in at.caption if c.value.startswith("Subset **draft**"))
    assert f"`{r['short_id']}`" in cap and r["key"] not in cap, cap
    p = float(next(m.value for m in at.metric if m.label == "χ² p-value"))
    if any(s.value.startswith("No alert") for s in at.success):  # "no alert" never beside a significant test
        assert p >= 0.001, p


# ---------------------------------------------------------------------------------------------- export
def test_export_writes_the_subset(app_ws_copy) -> None:
    ws = app_ws_copy
    at = page("export", ws, budget_unit="rows", budget_value=30.0)
    no_errors(at)
    at.text_input(key="export:name").input("ui_test").run()
    at.button(key="export:go").click().run()
    no_errors(at)
    ex = ws.exports()
    assert len(ex) == 1 and int(ex.iloc[0]["n_rows"]) == 30
    assert Path(ex.iloc[0]["path"]).is_file()


# ---------------------------------------------------------------------------------------------- helpers
def test_downsample_keeps_pinned_and_every_stratum() -> None:
    from curation.neighbours.projection import downsample

    rng = np.random.default_rng(0)
    strata = rng.choice(["a", "b", "c", "rare"], size=10_000, p=[0.5, 0.3, 0.1999, 0.0001])
    keep = np.zeros(10_000, dtype=bool)
    keep[rng.choice(10_000, 50, replace=False)] = True
    pos = downsample(strata, max_points=1_000, keep=keep, seed=0)
    assert len(pos) <= 1_000 and np.all(np.diff(pos) > 0)
    assert set(np.flatnonzero(keep)) <= set(pos.tolist())
    assert set(strata[pos]) == set(strata)
    assert np.array_equal(downsample(strata[:500], max_points=1_000), np.arange(500))


def test_escape_hover_makes_tags_literal() -> None:
    from pages.formatting import escape_hover

    s = escape_hover(HOSTILE * 3, max_chars=80)
    assert "<script>" not in s and "&lt;script&gt;" in s
    assert s.replace("<br>", "").count("<") == 0


def test_background_job_records_progress_and_result(tmp_ws) -> None:
    """The job runner used by the Data/Select/Export pages: progress and result land in the workspace."""
    from pages import jobs

    seen = []

    def work(prog) -> str:
        for i in range(3):
            prog(i + 1, 3)
            seen.append(i)
        return "key-123"

    assert jobs.start_job(tmp_ws, "ui:test", "test", work)
    t = jobs.threads()[f"{tmp_ws.path}::ui:test"]
    t.join(timeout=30)
    j = tmp_ws.job("ui:test")
    assert j["status"] == "done" and seen == [0, 1, 2]
    assert jobs.job_result(tmp_ws, "ui:test") == "key-123"

    def boom(prog) -> None:
        from curation.core.errors import CurationError

        raise CurationError("no embeddings; run embed first")

    jobs.start_job(tmp_ws, "ui:fail", "test", boom)
    jobs.threads()[f"{tmp_ws.path}::ui:fail"].join(timeout=30)
    j = tmp_ws.job("ui:fail")
    assert j["status"] == "failed" and "run embed first" in j["message"]


def test_select_page_shows_short_ranking_ids(app_ws) -> None:
    at = page("select", app_ws)
    no_errors(at)
    box = at.selectbox(key="select:ranking_w")
    shown = [box.format_func(o) if callable(getattr(box, "format_func", None)) else o for o in box.options]
    assert any(s.startswith("facility-1") for s in shown), shown
    assert any(s.startswith("random-1") for s in shown), shown


def test_select_page_advisor_shows_the_fit_in_words(app_ws) -> None:
    at = page("select", app_ws)
    no_errors(at)
    at.session_state["select:tab"] = "Budget advisor"  # tabs are lazy: open the advisor's
    at.run()
    no_errors(at)
    text = all_text(at)
    assert "90% of the way to the plateau" in text and "Fitted value at a budget of" in text


# ---------------------------------------------------------------------------------------------- saved subsets
ODD_NAME = "<img src=x onerror=alert(1)> **v** 'q'"


def test_select_saves_opens_and_resaves_a_subset(app_ws_copy) -> None:
    from curation.subsets import saved as ss

    ws = app_ws_copy
    at = page("select", ws, budget_unit="rows", budget_value=30.0)
    no_errors(at)
    at.text_input(key="saved:new_name").input(ODD_NAME)
    at.text_input(key="saved:new_note").input("<b>first</b>")
    at.button(key="saved:save_as").click().run()
    no_errors(at)
    v1 = ss.load(ws, ODD_NAME)
    assert (v1.version, v1.n_rows, v1.who, v1.note) == (1, 30, "tester", "<b>first</b>")
    assert at.session_state["open_subset"] == v1.ref
    text = all_text(at) + " ".join(s.value for s in at.success)
    assert "Saved" in text and "<img" not in text.replace("\\<img", "")  # shown escaped
    # a pin made after saving: the version keeps its rows, the page offers a new version with the decision
    rows1 = ss.resolve_saved(ws, v1).row_ids
    outside = int(np.setdiff1d(ws.row_ids(), rows1)[0])
    ws.add_decisions([ws.example(outside)["example_id"]], "include", who="other", why="late")
    at.run()
    no_errors(at)
    assert any("pin decision(s) were made after" in w.value for w in at.warning)
    at.button(key="saved:resave").click().run()
    no_errors(at)
    v2 = ss.load(ws, ODD_NAME)
    assert v2.version == 2 and outside in ss.resolve_saved(ws, v2).row_ids
    assert np.array_equal(ss.resolve_saved(ws, f"{ODD_NAME}@1").row_ids, rows1)
    assert at.session_state["open_subset"] == v2.ref
    # change the budget and save: version 3; opening version 1 brings its budget back
    at.slider(key="select:budget:rows").set_value(45).run()
    assert any("Changed since" in c.value for c in at.caption)
    at.button(key="saved:save").click().run()
    no_errors(at)
    assert ss.load(ws, ODD_NAME).version == 3 and ss.load(ws, ODD_NAME).n_rows == 45  # the late pin counts
    at.selectbox(key="saved:open_w").set_value(v1.ref).run()
    no_errors(at)
    assert at.session_state["open_subset"] == v1.ref and at.session_state["budget_value"] == 30.0
    assert at.slider(key="select:budget:rows").value == 30
    # a bad name is refused with the reason, nothing saved
    at.text_input(key="saved:new_name").input("a/b")
    at.button(key="saved:save_as").click().run()
    assert any("may not contain" in e.value for e in at.error)
    assert sorted(set(ws.saved_subsets()["name"])) == [ODD_NAME]


def test_saved_subsets_on_map_balance_inspect_and_export(app_ws_copy) -> None:
    from curation.subsets import saved as ss
    from curation.subsets.spec import SubsetSpec

    ws = app_ws_copy
    key = ws.rankings().iloc[-1]["key"]
    v1 = ss.save(ws, ODD_NAME, SubsetSpec(ranking=key, budget=40), who="ann")
    rows1 = ss.resolve_saved(ws, v1).row_ids
    ws.add_decisions([ws.example(int(rows1[0]))["example_id"]], "exclude", who="bob", why="dup")
    v2 = ss.save(ws, ODD_NAME, SubsetSpec(ranking=key, budget=50), who="bob")
    at = page("map", ws)
    at.selectbox(key="map:colour").set_value(f"saved subset: {v2.ref}").run()
    no_errors(at)
    assert any("50 rows selected" in c.value for c in at.caption)
    at = page("balance", ws, open_subset=v2.ref)
    no_errors(at)
    assert at.selectbox(key="balance:subset").value == v2.ref
    at.selectbox(key="balance:compare").set_value(v1.ref).run()
    no_errors(at)
    labels = [m.label for m in at.metric]
    assert "Added" in labels and "Removed" in labels
    assert len(at.dataframe) >= 2  # the side-by-side figures and the added/removed rows
    at = page("inspect", ws, inspect_row=int(rows1[0]), open_subset=v2.ref)
    no_errors(at)
    assert at.selectbox(key="inspect:saved_a").value == v1.ref
    msg = " ".join(w.value for w in at.warning)
    assert "a pin on this row" in msg and "bob" in msg
    at = page("export", ws, open_subset=v1.ref)
    no_errors(at)
    at.text_input(key="export:name").input("saved_v1").run()
    at.button(key="export:go").click().run()
    no_errors(at)
    m = json.loads(Path(ws.export_dir / "saved_v1.jsonl.manifest.json").read_text())
    assert m["subset"]["version"] == 1 and m["selection"]["n_subset"] == 40
