"""The bias audit (curation/diagnostics/audit.py): statistics against scipy, the alert rule on the HH-RLHF
helpful:harmless mix (synthetic and real), attribution to the spec step, the slice quota and minimum-share fix,
and the CLI's JSON."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from curation.core.ranking import Ranking
from curation.diagnostics.audit import (
    AuditContext, AuditParams, audit_spec, bh_qvalues, chi2_mix_p, two_proportion_p,
)
from curation.ingest.run import ingest_file
from curation.store import Workspace
from curation.subsets.spec import SubsetSpec, resolve

N_HELP, N_HARM = 2354, 2312  # the HH-RLHF helpful-base + harmless-base test tranches: 4,666 pairs


def _shifted_subset(ds: np.ndarray, frac_helpful: float, k: int, rng: np.random.Generator) -> np.ndarray:
    h, m = np.flatnonzero(ds == "helpful-base"), np.flatnonzero(ds == "harmless-base")
    a = int(round(frac_helpful * k))
    return np.r_[rng.choice(h, a, replace=False), rng.choice(m, k - a, replace=False)]


# ---------------------------------------------------------------------------------------------------- statistics
def test_pvalues_equal_scipy_on_brute_force_recomputation() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    cols = {"dataset": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
            "language": rng.choice(["en", "de", "fr", None], n, p=[0.7, 0.1, 0.1, 0.1]),
            "refusal": np.where(rng.random(n) < 0.1, np.nan, (rng.random(n) < 0.2).astype(float)),
            "harm": rng.random(n), "identity(group=religion)": (rng.random(n) < 0.15).astype(float)}
    ctx = AuditContext.from_columns(np.arange(n) * 2 + 5, cols, forms={"refusal": "binary", "harm": "risk",
                                                                      "identity(group=religion)": "binary"},
                                    thresholds={"harm": 0.7}, roles={"dataset": "dataset"},
                                    quality=rng.normal(size=n))
    w = np.where(cols["dataset"] == "a", 2.0, 1.0) * np.where(cols["harm"] > 0.7, 0.5, 1.0)
    sub = rng.choice(n, 600, replace=False, p=w / w.sum()) * 2 + 5
    a = ctx.audit(sub)
    t = a.table[a.table["tested"]]
    assert len(t) >= 10
    crosses = set(t.loc[t["form"] == "cross", "slice"])  # the cross-slices that matter are built and tested
    assert crosses == {"harm x identity(group=religion)", "refusal x dataset", "language x quality"}, crosses
    assert set(t.loc[t["slice"] == "harm x identity(group=religion)", "category"]) == {"flagged (>= 0.7) · yes"}
    for r in t.itertuples():
        table = [[r.subset_count, a.n_subset - r.subset_count],
                 [r.ref_count - r.subset_count, (a.n_ref - a.n_subset) - (r.ref_count - r.subset_count)]]
        p = stats.chi2_contingency(np.array(table), correction=False).pvalue
        assert r.p == pytest.approx(p, rel=1e-9, abs=1e-300), (r.slice, r.category)
    q = stats.false_discovery_control(t["p"].to_numpy(), method="bh")
    np.testing.assert_allclose(np.sort(t["q"].to_numpy()), np.sort(q), rtol=1e-12)
    # one chi-square per slice: the subset against the rest of the pool over every category
    for s in ctx.slices:
        sc = np.bincount(s.codes[ctx.positions(sub)], minlength=s.n_categories)
        pc = np.bincount(s.codes, minlength=s.n_categories)
        tab = np.array([sc, pc - sc])
        tab = tab[:, tab.sum(0) > 0]
        if tab.shape[1] < 2:
            continue
        res = stats.chi2_contingency(tab, correction=False)
        got = a.slices.set_index("slice").loc[s.name]
        assert got["p"] == pytest.approx(res.pvalue, rel=1e-9, abs=1e-300)
        assert got["chi2"] == pytest.approx(res.statistic, rel=1e-9)
    # two subsets against each other: the two samples' 2x2 table
    other = rng.choice(n, 800, replace=False) * 2 + 5
    b = ctx.audit(sub, reference=other)
    for r in b.table[b.table["tested"]].head(8).itertuples():
        tab = np.array([[r.subset_count, b.n_subset - r.subset_count], [r.ref_count, b.n_ref - r.ref_count]])
        assert r.p == pytest.approx(stats.chi2_contingency(tab, correction=False).pvalue, rel=1e-9, abs=1e-300)


def test_helpers_agree_with_scipy_and_handle_degenerate_tables() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(50) ** 3
    np.testing.assert_allclose(bh_qvalues(p), stats.false_discovery_control(p), rtol=1e-12)
    z, pv = two_proportion_p(np.array([0, 5, 10]), np.array([0, 10, 10]), np.array([3, 0, 10]), np.array([5, 10, 10]))
    assert pv[0] == 1.0 and z[0] == 0.0          # an empty group
    assert pv[2] == 1.0                            # pooled share 1: nothing to test
    assert 0 < pv[1] < 0.05
    assert chi2_mix_p(np.array([5, 0]), np.array([7, 0]))[2] == 1.0


def test_alert_rule_needs_significant_and_material() -> None:
    rng = np.random.default_rng(1)
    n = 200_00
    ds = np.where(rng.random(n) < 0.5, "x", "y")
    ctx = AuditContext.from_columns(np.arange(n), {"d": ds})
    # huge subset, 1.5-point shift: significant but not material
    sub = _shifted_subset(np.where(ds == "x", "helpful-base", "harmless-base"), 0.515, 15_000, rng)
    a = ctx.audit(sub)
    assert a.table.loc[a.table["tested"], "q"].min() < 0.05 and not a.alerts
    # the same shift is material with a 1-point threshold; tightened alpha can still silence it
    assert ctx.audit(sub, params=AuditParams(min_diff=0.01)).alerts
    assert not ctx.audit(sub, params=AuditParams(min_diff=0.01, alpha=1e-12)).alerts


# ---------------------------------------------------------------------------------------------------- 57:43 vs 51:49
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_57_43_shift_alerts_and_51_49_does_not_synthetic(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ds = np.array(["helpful-base"] * N_HELP + ["harmless-base"] * N_HARM, dtype=object)
    refusal = (rng.random(len(ds)) < np.where(ds == "harmless-base", 0.2, 0.05)).astype(float)
    ctx = AuditContext.from_columns(np.arange(len(ds)), {"dataset": ds, "refusal": refusal},
                                    forms={"refusal": "binary"}, roles={"dataset": "dataset"})
    k = len(ds) // 10
    a = ctx.audit(_shifted_subset(ds, 0.57, k, rng))
    hit = a.table[a.table["alert"] & (a.table["slice"] == "dataset")]
    assert set(hit["category"]) == {"helpful-base", "harmless-base"}
    assert hit["p"].iloc[0] == pytest.approx(0.003, abs=0.0015)  # the issue's chi-square p at this size
    b = ctx.audit(_shifted_subset(ds, 0.51, k, rng))
    assert not b.table.loc[b.table["slice"] == "dataset", "alert"].any()


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _hh_like_ws(tmp_path: Path, n_help: int = 400, n_harm: int = 400) -> Workspace:
    """helpful-base / harmless-base datasets of prompt/response rows (synthetic text), no embeddings needed."""
    ws = Workspace(tmp_path / "hh.duckdb")
    ingest_file(ws, _jsonl(tmp_path / "helpful-base.jsonl",
                           [{"prompt": f"How do I bake bread number {i}?", "response": f"Knead the dough {i}."}
                            for i in range(n_help)]), name="helpful-base")
    ingest_file(ws, _jsonl(tmp_path / "harmless-base.jsonl",
                           [{"prompt": f"How can I hurt someone {i}?", "response": f"I can't help with that {i}."}
                            for i in range(n_harm)]), name="harmless-base")
    return ws


def _ranking(ws: Workspace, order: np.ndarray, name: str) -> str:
    r = Ranking(order=np.asarray(order, np.int64), gains=np.zeros(len(order)), method=f"custom(name={name})")
    ws.put_ranking(r)
    return r.method


def _biased_order(ds: np.ndarray, k: int, frac_helpful: float, rng: np.random.Generator) -> np.ndarray:
    """An order whose first k rows are frac_helpful helpful-base, the rest in random order."""
    head = _shifted_subset(ds, frac_helpful, k, rng)
    rest = np.setdiff1d(np.arange(len(ds)), head)
    return np.r_[head, rng.permutation(rest)]


def test_57_43_shift_on_real_hh_rlhf(tmp_path: Path, shared_datasets: Path) -> None:
    ws = Workspace(tmp_path / "hh.duckdb")
    for name in ("helpful-base", "harmless-base"):
        ingest_file(ws, shared_datasets / "hh-rlhf" / f"{name}.test.jsonl.gz", name=name)
    assert ws.n_examples() == N_HELP + N_HARM
    ex = ws.examples(["row_id", "dataset"])
    ds = ex["dataset"].to_numpy(object)
    rng = np.random.default_rng(0)
    k = (N_HELP + N_HARM) // 10
    rk57 = _ranking(ws, ex["row_id"].to_numpy()[_biased_order(ds, k, 0.57, rng)], "fl57")
    rk51 = _ranking(ws, ex["row_id"].to_numpy()[_biased_order(ds, k, 0.51, rng)], "fl51")
    a = audit_spec(ws, SubsetSpec(ranking=rk57, budget=k))
    hit = a.table[a.table["alert"] & (a.table["slice"] == "dataset")]
    assert set(hit["category"]) == {"helpful-base", "harmless-base"}
    assert a.attribution and {x["cause_step"] for x in a.attribution} == {"budget"}
    b = audit_spec(ws, SubsetSpec(ranking=rk51, budget=k))
    assert not b.table.loc[b.table["slice"] == "dataset", "alert"].any()
    # the gzipped source really is the two tranches (counts from the files themselves)
    with gzip.open(shared_datasets / "hh-rlhf" / "harmless-base.test.jsonl.gz", "rt") as f:
        assert sum(1 for _ in f) == N_HARM


# ---------------------------------------------------------------------------------------------------- attribution
def test_attribution_names_the_step(tmp_path: Path) -> None:
    ws = _hh_like_ws(tmp_path)
    ex = ws.examples(["row_id", "dataset"])
    ids, ds = ex["row_id"].to_numpy(np.int64), ex["dataset"].to_numpy(object)
    rng = np.random.default_rng(0)
    fair = _ranking(ws, ids[rng.permutation(len(ids))], "fair")
    biased = _ranking(ws, ids[_biased_order(ds, 200, 0.75, rng)], "biased")
    # 1. the ranking's cut at the budget
    a = audit_spec(ws, SubsetSpec(ranking=biased, budget=200))
    assert a.alerts and all(x["cause_step"] == "budget" for x in a.attribution)
    assert "ranking" in a.attribution[0]["cause"]
    # 2. exclude pins on harmless rows, under a fair ranking
    harm = ids[ds == "harmless-base"]
    fair_order = ws.ranking(fair).order
    top_harm = [int(r) for r in fair_order if r in set(harm.tolist())][:90]
    eid = ws.examples(["row_id", "example_id"]).set_index("row_id")["example_id"]
    ws.add_decisions(eid.loc[top_harm].tolist(), "exclude", who="alice", why="audit test")
    b = audit_spec(ws, SubsetSpec(ranking=fair, budget=200))
    assert b.alerts
    causes = {(x["slice"], x["category"]): x for x in b.attribution}
    x = causes[("dataset", "harmless-base")]
    assert x["cause_step"] == "pins" and "exclude pin" in x["cause"] and "alice" in x["cause"]
    # 3. a quota that forces the mix, against a spec without it (two subsets: the diff's step walk)
    spec_a = SubsetSpec(ranking=fair, budget=200, pins_as_of=0)
    spec_b = spec_a.replace(quota={"min": {"helpful-base": 160}}, label_column="dataset")
    c = audit_spec(ws, spec_b, reference=spec_a)
    assert c.alerts and all(x["cause_step"] == "quota" for x in c.attribution)


# ---------------------------------------------------------------------------------------------------- the fix
def test_slice_quota_restores_the_share(tmp_path: Path) -> None:
    ws = _hh_like_ws(tmp_path)
    ex = ws.examples(["row_id", "example_id", "dataset"])
    ids, ds = ex["row_id"].to_numpy(np.int64), ex["dataset"].to_numpy(object)
    rng = np.random.default_rng(2)
    biased = _ranking(ws, ids[_biased_order(ds, 200, 0.75, rng)], "biased")
    spec = SubsetSpec(ranking=biased, budget=200)
    assert audit_spec(ws, spec).alerts
    fixed = audit_spec(ws, spec.replace(quota="proportional", label_column="dataset"))
    assert not fixed.table.loc[fixed.table["slice"] == "dataset", "alert"].any()
    share = fixed.table.set_index(["slice", "category"]).loc[("dataset", "harmless-base")]
    assert abs(share["subset_share"] - share["ref_share"]) < 0.01
    # a risk slice (harmful-request probability with its threshold): the selection drops flagged rows ...
    risk = np.where(ds == "harmless-base", rng.uniform(0.4, 1.0, len(ds)), rng.uniform(0.0, 0.3, len(ds)))
    ws.put_scores("harmful_request(part=prompt)", ex["example_id"].tolist(), risk, name="harmful_request",
                  higher_is_better=False, params={"threshold": 0.5}, kind="score")
    a = audit_spec(ws, spec)
    row = a.table.set_index(["slice", "category"]).loc[("harmful_request(part=prompt)", "flagged (>= 0.5)")]
    assert row["alert"] and row["diff"] < 0
    # ... and "keep at least the pool's share of flagged rows" (a minimum-share constraint) brings it back
    keep = spec.replace(quota={"min_share": {"flagged": "pool"}}, label_column="harmful_request(part=prompt)")
    b = audit_spec(ws, keep)
    row = b.table.set_index(["slice", "category"]).loc[("harmful_request(part=prompt)", "flagged (>= 0.5)")]
    assert not row["alert"] and row["subset_share"] >= row["ref_share"] - 1e-9
    assert len(resolve(ws, keep).row_ids) == 200


def test_min_share_in_apply_constraints_rows_and_tokens() -> None:
    from curation.select.constraints import apply_constraints

    order = np.arange(100)
    labels = pd.Series(np.where(order < 70, "a", "b"), index=order)  # b is 30% of the pool, all ranked last
    got = apply_constraints(order, labels=labels, quota={"min_share": {"b": "pool"}}, budget_rows=20)
    assert len(got) == 20 and (labels[got] == "b").sum() == 6
    got = apply_constraints(order, labels=labels, quota={"min_share": {"b": 0.5}}, budget_rows=20)
    assert (labels[got] == "b").sum() == 10
    toks = pd.Series(np.full(100, 10.0), index=order)
    got = apply_constraints(order, labels=labels, quota={"min_share": {"b": 0.5}}, budget_tokens=200, n_tokens=toks)
    assert (labels[got] == "b").sum() == 10 and len(got) == 20


def test_spec_validates_min_share() -> None:
    from curation.core.errors import CurationError

    s = SubsetSpec(ranking=None, budget=10, quota={"min_share": {"flagged": "pool", "x": 0.2}})
    assert s.quota["min_share"] == {"flagged": "pool", "x": 0.2}
    assert SubsetSpec.from_json(s.to_json()) == s
    for bad in ({"min_share": {"x": 1.5}}, {"min_share": {"x": "half"}}, {"min_share": ["x"]}):
        with pytest.raises(CurationError):
            SubsetSpec(quota=bad)


# ---------------------------------------------------------------------------------------------------- fairness
def test_score_fairness_names_the_bottom_and_warns(tmp_path: Path) -> None:
    ws = _hh_like_ws(tmp_path)
    ex = ws.examples(["row_id", "example_id", "dataset"])
    ds = ex["dataset"].to_numpy(object)
    rng = np.random.default_rng(4)
    q = np.where(ds == "harmless-base", rng.normal(-1, 0.5, len(ds)), rng.normal(1, 0.5, len(ds)))
    ws.put_scores("quality_x", ex["example_id"].tolist(), q, higher_is_better=True)
    from curation.select import run_selection

    rk = run_selection(ws, "topk", {"score": "quality_x"}).method
    a = audit_spec(ws, SubsetSpec(ranking=rk, budget=300))
    f = [x for x in a.fairness if x["score"] == "quality_x"]
    assert f and f[0]["used_by_ranking"]
    assert "harmless-base" in f[0]["summary"] and "lowest 10%" in f[0]["summary"]
    assert any("removes dataset = harmless-base disproportionately" in w for w in a.warnings)


# ---------------------------------------------------------------------------------------------------- CLI
def test_cli_audit_json(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from curation.cli import main
    from curation.subsets.saved import save

    ws = _hh_like_ws(tmp_path)
    ex = ws.examples(["row_id", "dataset"])
    rng = np.random.default_rng(5)
    rk = _ranking(ws, ex["row_id"].to_numpy()[_biased_order(ex["dataset"].to_numpy(object), 200, 0.75, rng)], "b")
    save(ws, "skewed", SubsetSpec(ranking=rk, budget=200), who="tester")
    save(ws, "fair", SubsetSpec(ranking=rk, budget=200, quota="proportional", label_column="dataset"), who="tester")
    assert main(["--workspace", str(ws.path), "audit", "--subset", "skewed@1", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["mode"] == "pool" and d["n_subset"] == 200 and d["subset"] == "skewed@1"
    assert any("harmless-base is under-represented" in x for x in d["alerts"])
    assert d["attribution"][0]["cause_step"] == "budget"
    assert {"slice", "category", "ref_share", "subset_share", "q", "alert"} <= set(d["table"][0])
    assert main(["--workspace", str(ws.path), "audit", "--subset", "fair", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["alerts"] == []
    # against another subset, thresholds from the command line, text output
    assert main(["--workspace", str(ws.path), "audit", "--subset", "skewed", "--against", "fair",
                 "--min-diff", "50", "--ratio-low", "0.1", "--ratio-high", "10"]) == 0
    out = capsys.readouterr().out
    assert "against fair@1" in out and "no alert" in out
    assert main(["--workspace", str(ws.path), "audit", "--subset", "nope"]) == 1


# ---------------------------------------------------------------------------------------------------- datasheet
def test_datasheet_carries_the_audit(tmp_path: Path) -> None:
    from curation.export.writer import export_subset

    ws = _hh_like_ws(tmp_path)
    ex = ws.examples(["row_id", "dataset"])
    rng = np.random.default_rng(6)
    rk = _ranking(ws, ex["row_id"].to_numpy()[_biased_order(ex["dataset"].to_numpy(object), 200, 0.75, rng)], "d")
    res = export_subset(ws, SubsetSpec(ranking=rk, budget=200), name="skewed.jsonl")
    text = res.datasheet_path.read_text(encoding="utf-8")
    assert "<h2>Bias audit</h2>" in text
    part = text.split("<h2>Bias audit</h2>", 1)[1].split("<h2>", 1)[0]
    assert "alert(s)" in part and "dataset = harmless-base is under-represented" in part and "cause:" in part
    res = export_subset(ws, SubsetSpec(ranking=rk, budget=200, quota="proportional", label_column="dataset"),
                        name="fixed.jsonl")
    part = res.datasheet_path.read_text(encoding="utf-8").split("<h2>Bias audit</h2>", 1)[1].split("<h2>", 1)[0]
    assert "No slice moved" in part
