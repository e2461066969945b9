"""Datasheet: a self-contained HTML account of an export; dataset text is always escaped."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from curation.export.datasheet import REASONS, drop_reasons, svg_bars, svg_paired_bars, svg_scatter
from curation.export import export_subset, load_manifest, subset_row_ids
from curation.ingest.run import ingest_file
from curation.store import Workspace

XSS = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def _hostile_ws(tmp_path: Path, *, embed: bool) -> Workspace:
    """24 Alpaca records (3 exact duplicates) whose text, labels and ids carry HTML/script payloads."""
    recs = []
    for i in range(24):
        recs.append({"id": f"r{i}" if i != 5 else f"r{i}{XSS}",
                     "instruction": f"Question {i % 21} about topic {i % 21} {XSS if i % 4 == 0 else ''}",
                     "input": "", "output": f"Answer {i % 21} <img src=x onerror=alert(2)> & more",
                     "category": XSS if i % 3 == 0 else f"cat{i % 2}"})
    src = tmp_path / "hostile.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    ws = Workspace(tmp_path / "hostile.duckdb")
    ingest_file(ws, src, name="hostile")
    if embed:
        from curation.embedding.embed import DEFAULT_MODEL, embed_workspace

        embed_workspace(ws, DEFAULT_MODEL)
    return ws


def _assert_safe(html_text: str) -> None:
    assert XSS not in html_text
    assert "<script" not in html_text.lower()
    assert not re.search(r"<img\b", html_text, re.IGNORECASE)


def test_dataset_text_is_escaped_everywhere(tmp_path: Path) -> None:
    from curation.neighbours.dedup import exact_duplicates
    from curation.select import run_selection

    ws = _hostile_ws(tmp_path, embed=True)
    exact_duplicates(ws)
    key = run_selection(ws, "random", {}, seed=0).method
    eids = ws.examples(["example_id"])["example_id"].tolist()
    ws.add_decisions(eids[:1], "include", who=f"eve{XSS}", why=XSS)
    ws.add_decisions(eids[1:2], "exclude", who="mallory", why=f"bad {XSS}")
    ws.add_decisions(eids[2:3], "note", who="eve", value=f"note {XSS}")
    ws.add_decisions(eids[2:3], "tag", who="eve", value=f"tag{XSS}")
    res = export_subset(ws, ranking_key=key, budget_rows=10, name="xss", who=XSS, note=f"curator {XSS}")
    text = res.datasheet_path.read_text(encoding="utf-8")
    _assert_safe(text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # shown, as text
    assert "Diagnostics report card" in text and "Report card unavailable" not in text
    # the data file itself is the dataset verbatim (not HTML): the payload survives unchanged
    assert XSS in res.path.read_text(encoding="utf-8")


def test_datasheet_is_self_contained_and_has_its_sections(tiny_ws_copy: Workspace) -> None:
    from curation.select import run_selection

    ws = tiny_ws_copy
    key = run_selection(ws, "random", {}, seed=1).method
    ids = ws.examples(["example_id"])["example_id"].tolist()
    ws.add_decisions(ids[10:13], "exclude", who="bob", why="off-topic")
    ws.add_decisions(ids[20:21], "note", who="carol", value="great example")
    res = export_subset(ws, ranking_key=key, budget_rows=100, style="messages", name="sheet", note="v1")
    text = res.datasheet_path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    for section in ("Export", "Selection", "Class balance", "Diagnostics report card", "What was dropped and why",
                    "Pins (3)", "Notes (1)", "Sources", "great example", "off-topic", res.sha256):
        assert section in text, section
    # no external resource, no script: opens offline anywhere
    assert "<script" not in text and "<link" not in text and not re.search(r"\bsrc=", text)
    assert "<svg" in text
    m = load_manifest(res.manifest_path)
    assert m["export"]["datasheet"] == res.datasheet_path.name


def test_drop_reasons_partition_the_pool(tiny_ws_copy: Workspace) -> None:
    from curation.neighbours.dedup import exact_duplicates
    from curation.select import run_selection

    ws = tiny_ws_copy
    exact_duplicates(ws)
    key = run_selection(ws, "random", {}, seed=3).method
    order = ws.ranking(key).order
    ids = ws.examples(["row_id", "example_id"]).set_index("row_id")["example_id"]
    excluded = [int(x) for x in order[:4]]
    ws.add_decisions([ids[r] for r in excluded], "exclude", who="bob", why="no")
    res = export_subset(ws, ranking_key=key, budget_rows=150, style="messages", name="drops", datasheet=False)
    m = load_manifest(res.manifest_path)
    subset = subset_row_ids(ws, ranking_key=key, budget_rows=150)
    exported = ws.examples(["row_id", "example_id"], row_ids=subset)
    kept = exported[exported["example_id"].isin(m["example_ids"])]["row_id"].tolist()
    d = drop_reasons(ws, m, subset, kept)
    n_pool = ws.n_examples()
    assert len(d) == n_pool - len(kept)  # every row not in the file has exactly one reason
    assert set(d["reason"]) <= {r for r, _ in REASONS}
    assert set(d.loc[d["reason"] == "exclude_pin", "row_id"]) == set(excluded)
    style_rows = d.loc[d["reason"] == "style", "row_id"].to_numpy()
    assert len(style_rows) == sum(m["export"]["skipped_by_style"].values())
    assert not np.isin(d["row_id"], kept).any()
    # a dropped exact duplicate of a kept row is reported as such (the demo data plants exact duplicates)
    dup = ws.scores(["exactdup_group"]).set_index("row_id")["exactdup_group"]
    kept_groups = set(dup.reindex(kept).dropna())
    expect_dup = {r for r in d["row_id"] if dup.get(r) in kept_groups} - set(excluded)
    assert set(d.loc[d["reason"] == "exact_duplicate", "row_id"]) == expect_dup


def test_report_card_degrades_without_embeddings(tmp_path: Path) -> None:
    ws = _hostile_ws(tmp_path, embed=False)
    res = export_subset(ws, ranking_key=None, budget_rows=8, name="plain")
    text = res.datasheet_path.read_text(encoding="utf-8")
    assert "Report card unavailable" in text
    _assert_safe(text)


def test_svg_helpers_escape_labels() -> None:
    for svg in (svg_bars([XSS, "b"], [3, 1]), svg_paired_bars([XSS], [0.5], [0.25])):
        assert svg.startswith("<svg") and XSS not in svg and "&lt;script&gt;" in svg
    rng = np.random.default_rng(0)
    s = svg_scatter(rng.normal(size=(5000, 2)), rng.random(5000) < 0.3, max_points=500)
    assert s.count("<circle") == 500
    assert svg_bars([], []) == "" and svg_scatter(np.zeros((0, 2)), np.zeros(0, bool)) == ""


def test_datasheet_warns_when_the_ranking_used_a_near_chance_score(tiny_ws_copy: Workspace) -> None:
    from curation.scorers import run_scorer
    from curation.select import run_selection

    ws = tiny_ws_copy
    k = run_scorer(ws, "response_length")                     # 52% on human preference pairs: near chance
    key = run_selection(ws, "topk", {"score": k}, seed=0).method
    res = export_subset(ws, ranking_key=key, budget_rows=20, style="messages", name="topk")
    text = res.datasheet_path.read_text(encoding="utf-8")
    sel = text[text.index("<h2>Selection</h2>"):text.index("<h2>Class balance</h2>")]
    assert "near chance as a quality signal" in sel and "class=\"alert\"" in sel
    from curation.select.run import ranking_warnings            # what the Export page shows for that ranking

    assert any("near chance" in w for w in ranking_warnings(ws, key))
    key = run_selection(ws, "random", {}, seed=0).method     # no score consumed: no warning
    assert ranking_warnings(ws, key) == [] and ranking_warnings(ws, None) == []
    res = export_subset(ws, ranking_key=key, budget_rows=20, style="messages", name="random")
    assert "near chance as a quality signal" not in res.datasheet_path.read_text(encoding="utf-8")
