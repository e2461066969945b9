"""``python -m curation prove`` on a small real workspace: HH-RLHF pairs (../shared/datasets, skipped when absent),
embedded with the packaged MiniLM, ranked by a heuristic; reward heads trained on prefixes, random subsets and the
pool; the curve stored, read back by the advisor's downstream fit and by an export's datasheet."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from curation.core.errors import CurationError

N_PAIRS = 80          # 240 texts to embed (~15 s of MiniLM on one core), trainings of < 70 pairs


@pytest.fixture(scope="module")
def pref_ws(tmp_path_factory: pytest.TempPathFactory, shared_datasets: Path):
    """A workspace of the first N_PAIRS helpful-base test pairs (real data), a top-k ranking by reply length."""
    src = shared_datasets / "hh-rlhf" / "helpful-base.test.jsonl.gz"
    if not src.is_file():
        pytest.skip(f"{src} is absent (real datasets are only beside the project in CI/dev)")
    from curation.ingest.run import ingest_file
    from curation.scorers.run import run_scorer
    from curation.select import run_selection
    from curation.store import Workspace

    d = tmp_path_factory.mktemp("prove")
    f = d / "hh.jsonl"
    with gzip.open(src, "rt", encoding="utf-8") as fh, f.open("w", encoding="utf-8") as out:
        for i, line in enumerate(fh):
            if i == N_PAIRS:
                break
            out.write(line)
    ws = Workspace(d / "ws.duckdb")
    ingest_file(ws, f, name="hh")
    run_scorer(ws, "response_length")
    key = ws.score_defs()["key"].iloc[0]
    r = run_selection(ws, "topk", {"score": key})
    return ws, r.method


@pytest.fixture(scope="module")
def proved(pref_ws):
    """The CLI run: prove --ranking topk-1 at 20%, 50% and 100% with two random seeds."""
    from curation.cli import main

    ws, key = pref_ws
    rc = main(["--workspace", str(ws.path), "prove", "--ranking", "topk-1", "--budgets", "0.2", "0.5", "1.0",
               "--seeds", "0", "1", "--holdout", "0.25"])
    assert rc == 0
    return ws, key


def test_prove_stores_the_curve_with_the_random_band_and_the_pool(proved, capsys) -> None:
    from curation.workflows.prove import stored

    ws, key = proved
    res = stored(ws, key)
    assert res is not None and res.kind == "ranking" and res.source == key
    assert res.n_train + res.n_held <= N_PAIRS and res.n_held >= 10 and res.n_train >= 20
    kinds = [p["kind"] for p in res.points]
    assert kinds.count("pool") == 1 and kinds.count("subset") == 3 and kinds.count("random") == 6
    for p in res.points:
        assert 0.0 <= p["accuracy"] <= 1.0 and 0.0 <= p["agree_pool"] <= 1.0
    t = res.table()
    assert t["budget"].tolist() == [0.2, 0.5, 1.0]
    assert t["rows"].tolist() == sorted(t["rows"].tolist()) and t["rows"].iloc[-1] == res.n_train
    assert (t["seeds"] == 2).all() and np.isfinite(t["random_accuracy_sd"]).all()
    # at 100% the ranking's prefix is the pool in another order: the same head, so the same preferences
    last = t.iloc[-1]
    assert last["agree_pool"] >= 0.95
    assert abs(last["accuracy"] - last["pool_accuracy"]) <= 0.05
    assert "agrees with one trained on the pool on" in res.sentence()


def test_prove_prints_the_table(pref_ws, capsys) -> None:
    from curation.cli import main
    from curation.select import run_selection

    ws, _ = pref_ws
    run_selection(ws, "random", {}, seed=7)           # its own ranking: the topk curve stays as `proved` left it
    rc = main(["--workspace", str(ws.path), "prove", "--ranking", "random-1", "--budgets", "0.3", "--seeds", "3",
               "--holdout", "0.25"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "30%" in out and "agrees with one trained on the pool" in out and "stored as workspace artifact" in out


def test_downstream_fit_and_datasheet_line(proved) -> None:
    from curation.export.writer import export_subset
    from curation.workflows.prove import downstream_fit, stored

    ws, key = proved
    res = stored(ws, key)
    fit = downstream_fit(res, n_pool=N_PAIRS, metric="agree_pool")
    assert fit.metric == "agreement with the pool's reward head"
    assert list(fit.budgets) == [16, 40, 80]          # shares 0.2, 0.5, 1.0 (the pool) × 80 rows
    assert 0 <= fit.plateau_budget <= N_PAIRS
    ex = export_subset(ws, ranking_key=key, budget_rows=40, name="proved", who="test")
    html = Path(ex.datasheet_path).read_text(encoding="utf-8")
    assert "Proof by training" in html and "agrees with one trained on the pool on" in html
    assert f"{res.n_held:,} held-out pairs" in html


def test_prove_a_saved_subset_has_one_budget(pref_ws) -> None:
    from curation.subsets import saved
    from curation.subsets.spec import SubsetSpec
    from curation.workflows.prove import downstream_fit, prove

    ws, key = pref_ws
    saved.save(ws, "short-replies", SubsetSpec(ranking=key, budget=30, unit="rows"), who="test")
    res = prove(ws, subset="short-replies", seeds=(0,), holdout=0.25)
    assert res.kind == "saved" and res.source == "short-replies@1"
    sub = [p for p in res.points if p["kind"] == "subset"]
    assert len(sub) == 1 and sub[0]["rows"] <= 30
    with pytest.raises(CurationError, match="at least 3"):
        downstream_fit(res, n_pool=N_PAIRS)


def test_prove_refuses_what_it_cannot_measure(pref_ws, tmp_ws) -> None:
    from curation.workflows.prove import prove

    ws, _ = pref_ws
    with pytest.raises(CurationError, match="exactly one of"):
        prove(ws, store=False)
    with pytest.raises(CurationError, match="shares of the training pairs"):
        prove(ws, ranking="topk-1", budgets=(10,), store=False)
    with pytest.raises(CurationError, match="and 10 held out"):
        prove(ws, ranking="topk-1", holdout=0.01, store=False)
    # an instruction dataset has no preference pairs
    from curation.ingest.run import ingest_file
    from curation.select import run_selection

    f = Path(tmp_ws.path).parent / "sft.jsonl"
    f.write_text("".join(json.dumps({"prompt": f"q{i}", "response": f"a{i}"}) + "\n" for i in range(30)))
    ingest_file(tmp_ws, f, name="sft")
    run_selection(tmp_ws, "random", {})
    with pytest.raises(CurationError, match="preference pairs"):
        prove(tmp_ws, ranking="random-1", store=False)


def test_advise_points_recovers_a_plateau() -> None:
    from curation.select.advisor import advise_points, plateau

    x = np.array([50, 100, 300, 1000, 50, 100], dtype=float)
    y = plateau(x, 0.65, 0.50, 0.01)
    fit = advise_points(x, y, n=1000, metric="accuracy")
    assert list(fit.budgets) == [50, 100, 300, 1000]          # repeated budgets averaged
    assert fit.r == pytest.approx(0.65, abs=1e-3) and fit.b == pytest.approx(0.01, rel=1e-2)
    assert fit.plateau_budget == int(np.ceil(np.log(20) / 0.01))
    with pytest.raises(CurationError, match="at least 3"):
        advise_points([10, 20], [0.5, 0.6], n=100)


def test_select_page_draws_the_downstream_curve(proved) -> None:
    """The Select page's budget advisor shows the stored curve, its plateau budget and the datasheet sentence; a
    ranking without one says how to measure it."""
    from streamlit.testing.v1 import AppTest

    from curation.select import run_selection

    ws, key = proved
    fresh = run_selection(ws, "random", {}, seed=11).method          # a ranking nobody measured
    root = Path(__file__).resolve().parent.parent

    def run(ranking: str) -> AppTest:
        at = AppTest.from_file(str(root / "pages" / "select.py"), default_timeout=180)
        at.session_state["workspace_path"] = str(ws.path)
        at.session_state["curator"] = "tester"
        at.session_state["ranking_key"] = ranking
        at.session_state["select:tab"] = "Budget advisor"
        return at.run()

    at = run(key)
    assert not at.exception, [e.value for e in at.exception]
    text = "\n".join(str(x.value) for x in [*at.markdown, *at.caption])
    assert "Downstream: does a prefix train as well as the pool?" in text
    assert "held-out pairs (prompts never trained on)" in text and "Budget advice:" in text
    assert "agrees with one trained on the pool on" in text
    at = run(fresh)
    assert not at.exception, [e.value for e in at.exception]
    text = "\n".join(str(x.value) for x in [*at.markdown, *at.caption])
    assert "Not measured for this ranking" in text and "prove --ranking random-" in text
