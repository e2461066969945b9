"""Export: subset files in every format and style, safe paths, atomic writes, manifests and byte-exact reproduce."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from curation.core.errors import CurationError
from curation.export import (
    FORMATS, STYLE_KINDS, STYLES, data_sha256, export_paths, export_subset, load_manifest, style_record, subset_row_ids,
)
from curation.workflows.reproduce import reproduce
from curation.ingest.run import ingest_file
from curation.core.keys import parse_key
from curation.store import Workspace


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def _random_key(ws: Workspace, seed: int = 1) -> str:
    from curation.select import run_selection

    return run_selection(ws, "random", {}, seed=seed).method


def _small_ws(tmp_path: Path, n_sft: int = 40, n_pref: int = 12, seed: int = 3) -> Workspace:
    """A fresh workspace over demo files written into tmp_path (the test owns the sources)."""
    from curation.demo import write_demo

    paths = write_demo(tmp_path / "src", n_sft=n_sft, n_pref=n_pref, seed=seed)
    ws = Workspace(tmp_path / "small.duckdb")
    ingest_file(ws, paths["sft"], name="demo_sft")
    if n_pref:
        ingest_file(ws, paths["pref"], name="demo_pref")
    return ws


def _rows(ws: Workspace, row_ids: np.ndarray):  # DataFrame
    return ws.examples(["row_id", "example_id", "kind", "content_hash", "dataset"], row_ids=row_ids)


# ---------------------------------------------------------------------------------------------------- the subset
def test_subset_is_prefix_plus_pins_minus_excludes(tiny_ws_copy: Workspace) -> None:
    ws = tiny_ws_copy
    key = _random_key(ws)
    order = ws.ranking(key).order
    inc_row, exc_row = int(order[-1]), int(order[0])
    ids = ws.examples(["row_id", "example_id"]).set_index("row_id")["example_id"]
    ws.add_decisions([ids[inc_row]], "include", who="alice", why="gold")
    ws.add_decisions([ids[exc_row]], "exclude", who="bob", why="bad")
    sel = subset_row_ids(ws, ranking_key=key, budget_rows=30)
    assert len(sel) == 30 and len(set(sel.tolist())) == 30
    assert sel[0] == inc_row and exc_row not in sel
    assert set(sel[1:].tolist()) == set(order[1:30].tolist())  # the 29 best non-pinned rows in ranking order
    # datasets restrict the pool before the budget: all rows come from that dataset
    pref = subset_row_ids(ws, ranking_key=key, budget_rows=10, datasets=["demo_pref"])
    assert len(pref) == 10 and set(_rows(ws, pref)["dataset"]) == {"demo_pref"}
    # no ranking: ingest order, budget in tokens respected
    tok = subset_row_ids(ws, ranking_key=None, budget_tokens=2000)
    n_tok = ws.examples(["row_id", "n_tokens"], row_ids=tok)["n_tokens"].sum()
    assert 0 < n_tok <= 2000 + ws.examples(["n_tokens"], row_ids=[inc_row])["n_tokens"].iloc[0]
    with pytest.raises(CurationError, match="no ranking"):
        subset_row_ids(ws, ranking_key="nope(seed=0)")


def test_quota_balanced_uses_label_column(tiny_ws_copy: Workspace) -> None:
    ws = tiny_ws_copy
    key = _random_key(ws, seed=2)
    sel = subset_row_ids(ws, ranking_key=key, budget_rows=80, quota="balanced", datasets=["demo_sft"])
    got = ws.examples(["row_id", "label"], row_ids=sel)["label"].value_counts()
    pool = ws.examples(["label"], dataset="demo_sft")["label"].value_counts()
    assert len(sel) == 80
    small = [c for c in pool.index if got.get(c, 0) == pool[c]]  # classes too small for an equal share: all in
    big = got.drop(small)
    assert len(big) and big.max() - big.min() <= 1 and big.min() >= got[small].max() if small else True


# ---------------------------------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_original_style(tiny_ws_copy: Workspace, tmp_ws: Workspace, fmt: str) -> None:
    """Export the original records, ingest the file again: the same examples (ids and content) come back."""
    ws = tiny_ws_copy
    key = _random_key(ws)
    res = export_subset(ws, ranking_key=key, budget_rows=50, fmt=fmt, style="original", name=f"rt_{fmt}",
                        datasets=["demo_sft"], datasheet=False)
    assert res.n_rows == 50 and res.path.parent == ws.export_dir.resolve()
    want = _rows(ws, subset_row_ids(ws, ranking_key=key, budget_rows=50, datasets=["demo_sft"]))
    rep = ingest_file(tmp_ws, res.path, name="demo_sft")
    assert rep.n_inserted == 50
    got = tmp_ws.examples(["example_id", "content_hash", "kind"])
    assert sorted(zip(got["example_id"], got["content_hash"])) == sorted(zip(want["example_id"],
                                                                             want["content_hash"]))
    # rows are in ingest (row_id) order in the file
    assert got["example_id"].tolist() == want.sort_values("row_id")["example_id"].tolist()


def test_round_trip_preference_pairs(tiny_ws_copy: Workspace, tmp_ws: Workspace) -> None:
    ws = tiny_ws_copy
    res = export_subset(ws, ranking_key=None, fmt="jsonl", style="original", name="pairs",
                        datasets="demo_pref", datasheet=False)
    ingest_file(tmp_ws, res.path, name="demo_pref")
    a = ws.examples(["example_id", "prompt", "chosen", "rejected", "content_hash"], dataset="demo_pref")
    b = tmp_ws.examples(["example_id", "prompt", "chosen", "rejected", "content_hash"])
    assert a.reset_index(drop=True).equals(b.reset_index(drop=True))


# ---------------------------------------------------------------------------------------------------- training styles
def _load_json(path: Path, cache: Path):  # datasets.Dataset
    import datasets

    return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache))


def test_training_styles_load_with_datasets_and_have_trainer_fields(tiny_ws_copy: Workspace,
                                                                    tmp_path: Path) -> None:
    ws = tiny_ws_copy
    key = _random_key(ws, seed=5)
    sel = subset_row_ids(ws, ranking_key=key, budget_rows=120)
    kinds = _rows(ws, sel)["kind"].value_counts().to_dict()
    assert kinds.get("preference", 0) > 0 and kinds.get("sft", 0) > 0
    for style in ("messages", "sft_chosen", "dpo", "dpo_text"):
        res = export_subset(ws, ranking_key=key, budget_rows=120, fmt="jsonl", style=style, name=f"tr_{style}",
                            datasheet=False)
        expected = sum(n for k, n in kinds.items() if k in STYLE_KINDS[style])
        assert res.n_rows == expected
        assert sum(res.skipped.values()) == len(sel) - expected
        ds = _load_json(res.path, tmp_path / "hf_cache")
        assert len(ds) == expected
        if style in ("messages", "sft_chosen"):
            # TRL SFTTrainer, conversational: one "messages" column of {role, content} turns ending with the reply
            assert ds.column_names == ["messages"]
            for conv in ds["messages"]:
                assert conv[-1]["role"] == "assistant"
                assert any(m["role"] == "user" for m in conv)
                assert all(set(m) == {"role", "content"} and isinstance(m["content"], str) for m in conv)
        elif style == "dpo":
            # TRL DPOTrainer, conversational with explicit prompt
            assert ds.column_names == ["prompt", "chosen", "rejected"]
            for row in ds:
                assert row["prompt"][-1]["role"] == "user"
                assert [m["role"] for m in row["chosen"]] == ["assistant"]
                assert [m["role"] for m in row["rejected"]] == ["assistant"]
                assert row["chosen"][0]["content"] != row["rejected"][0]["content"]
        else:
            assert ds.column_names == ["prompt", "chosen", "rejected"]
            assert all(isinstance(v, str) and v for v in ds["prompt"])


def test_sft_chosen_uses_the_chosen_reply(tiny_ws_copy: Workspace) -> None:
    ex = tiny_ws_copy.examples(["row_id", "kind", "prompt", "response", "chosen", "rejected", "messages"],
                               dataset="demo_pref").iloc[0].to_dict()
    rec = style_record(ex, "sft_chosen")
    assert rec["messages"][-1] == {"role": "assistant", "content": ex["chosen"]}
    assert style_record(ex, "messages") is None  # a pair is not an SFT example unless asked for
    sft = tiny_ws_copy.examples(["row_id", "kind", "prompt", "response", "chosen", "rejected", "messages"],
                                dataset="demo_sft").iloc[0].to_dict()
    assert style_record(sft, "messages")["messages"] == [{"role": "user", "content": sft["prompt"]},
                                                         {"role": "assistant", "content": sft["response"]}]
    assert style_record(sft, "dpo") is None


def test_chat_and_multi_turn_pairs_keep_their_turns(tmp_ws: Workspace, tmp_path: Path) -> None:
    chats = [{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": f"Hi {i}"},
                           {"role": "assistant", "content": f"Hello {i}"}, {"role": "user", "content": "thanks"}]}
             for i in range(3)]
    hh = [{"chosen": f"\n\nHuman: Q{i}\n\nAssistant: A{i}\n\nHuman: more {i}?\n\nAssistant: good {i}",
           "rejected": f"\n\nHuman: Q{i}\n\nAssistant: A{i}\n\nHuman: more {i}?\n\nAssistant: bad {i}"}
          for i in range(3)]
    for name, recs in (("chats", chats), ("hh", hh)):
        f = tmp_path / f"{name}.jsonl"
        f.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
        ingest_file(tmp_ws, f, name=name)
    res = export_subset(tmp_ws, ranking_key=None, style="sft_chosen", name="conv", datasheet=False)
    ds = _load_json(res.path, tmp_path / "hf_cache")
    first = ds["messages"][0]
    assert [m["role"] for m in first] == ["system", "user", "assistant"]  # trailing user turn trimmed
    pair = ds["messages"][3]
    assert [m["content"] for m in pair] == ["Q0", "A0", "more 0?", "good 0"]
    dpo = _load_json(export_subset(tmp_ws, ranking_key=None, style="dpo", name="conv_dpo",
                                   datasheet=False).path, tmp_path / "hf_cache")
    assert [m["role"] for m in dpo[0]["prompt"]] == ["user", "assistant", "user"]
    assert dpo[0]["chosen"] == [{"role": "assistant", "content": "good 0"}]
    assert dpo[0]["rejected"] == [{"role": "assistant", "content": "bad 0"}]


def test_hf_folder_and_parquet_hold_the_same_rows_as_jsonl(tiny_ws_copy: Workspace) -> None:
    import datasets
    import pyarrow.parquet as pq

    ws = tiny_ws_copy
    key = _random_key(ws)
    out = {fmt: export_subset(ws, ranking_key=key, budget_rows=40, fmt=fmt, style="dpo", name=f"same_{fmt}",
                              datasheet=False) for fmt in ("jsonl", "parquet", "hf")}
    lines = [json.loads(x) for x in out["jsonl"].path.read_text(encoding="utf-8").splitlines()]
    assert datasets.load_from_disk(str(out["hf"].path)).to_list() == lines
    assert pq.read_table(out["parquet"].path).to_pylist() == lines


def test_style_that_fits_no_row_is_refused(tiny_ws_copy: Workspace) -> None:
    with pytest.raises(CurationError, match="no row to export"):
        export_subset(tiny_ws_copy, ranking_key=None, style="dpo", name="none", datasets=["demo_sft"],
                      datasheet=False)
    assert not any(tiny_ws_copy.export_dir.glob("none*"))


# ---------------------------------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("fmt", FORMATS)
def test_same_subset_same_bytes(tiny_ws_copy: Workspace, fmt: str) -> None:
    ws = tiny_ws_copy
    key = _random_key(ws)
    a = export_subset(ws, ranking_key=key, budget_rows=60, fmt=fmt, style="sft_chosen", name="a", datasheet=False)
    b = export_subset(ws, ranking_key=key, budget_rows=60, fmt=fmt, style="sft_chosen", name="b", datasheet=False)
    assert a.sha256 == b.sha256 == data_sha256(a.path)
    m = load_manifest(a.manifest_path)
    assert m["export"]["sha256"] == a.sha256


# ---------------------------------------------------------------------------------------------------- safety
@pytest.mark.parametrize("name", ["../escape", "/tmp/abs", "sub/dir", "..", ".", ".hidden", "", "a\\b", "x..y/.."])
def test_names_outside_the_export_folder_are_refused(tiny_ws_copy: Workspace, name: str) -> None:
    with pytest.raises(CurationError):
        export_subset(tiny_ws_copy, ranking_key=None, budget_rows=5, name=name, overwrite=True, datasheet=False)
    assert not (tiny_ws_copy.path.parent / "escape.jsonl").exists()


def test_symlink_target_is_refused_even_with_overwrite(tiny_ws_copy: Workspace, tmp_path: Path) -> None:
    ws = tiny_ws_copy
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me", encoding="utf-8")
    ws.export_dir.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, ws.export_dir / "evil.jsonl")
    with pytest.raises(CurationError, match="symbolic link"):
        export_subset(ws, ranking_key=None, budget_rows=5, name="evil", overwrite=True, datasheet=False)
    assert outside.read_text(encoding="utf-8") == "keep me"


def test_existing_export_needs_overwrite(tiny_ws_copy: Workspace) -> None:
    ws = tiny_ws_copy
    first = export_subset(ws, ranking_key=None, budget_rows=5, name="dup", datasheet=False)
    before = first.path.read_bytes()
    with pytest.raises(CurationError, match="already exists"):
        export_subset(ws, ranking_key=None, budget_rows=7, name="dup.jsonl", datasheet=False)
    assert first.path.read_bytes() == before
    again = export_subset(ws, ranking_key=None, budget_rows=7, name="dup", overwrite=True, datasheet=False)
    assert again.path == first.path and again.n_rows == 7
    # an HF folder is replaced as a whole
    export_subset(ws, ranking_key=None, budget_rows=5, fmt="hf", name="dupf", datasheet=False)
    with pytest.raises(CurationError, match="already exists"):
        export_subset(ws, ranking_key=None, budget_rows=5, fmt="hf", name="dupf", datasheet=False)
    res = export_subset(ws, ranking_key=None, budget_rows=9, fmt="hf", name="dupf", overwrite=True, datasheet=False)
    import datasets

    assert len(datasets.load_from_disk(str(res.path))) == 9
    assert export_paths(ws, "dupf", "hf")[0] == res.path
    assert len(ws.exports()) == 4


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_crash_mid_write_leaves_no_partial_file(tiny_ws_copy: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    import curation.export.writer as ex

    ws = tiny_ws_copy
    real = ex._encode_jsonl_line
    calls = {"n": 0}

    def flaky(rec: dict) -> bytes:
        calls["n"] += 1
        if calls["n"] > 10:
            raise OSError("disk full (simulated)")
        return real(rec)

    monkeypatch.setattr(ex, "_encode_jsonl_line", flaky)
    with pytest.raises(CurationError, match=r"cannot write .*crash.jsonl: disk full \(simulated\); nothing was"):
        export_subset(ws, ranking_key=None, budget_rows=40, name="crash", datasheet=False)
    data, manifest, _ = export_paths(ws, "crash", "jsonl")
    assert calls["n"] == 11
    assert not data.exists() and not manifest.exists() and _leftovers(ws.export_dir) == []
    # a crash while replacing an existing export keeps the old file whole
    monkeypatch.setattr(ex, "_encode_jsonl_line", real)
    old = export_subset(ws, ranking_key=None, budget_rows=20, name="crash", datasheet=False)
    old_bytes = old.path.read_bytes()
    calls["n"] = 0
    monkeypatch.setattr(ex, "_encode_jsonl_line", flaky)
    with pytest.raises(CurationError, match="simulated"):  # an OSError while writing: one error naming the file
        export_subset(ws, ranking_key=None, budget_rows=40, name="crash", overwrite=True, datasheet=False)
    assert old.path.read_bytes() == old_bytes and _leftovers(ws.export_dir) == []


def test_crash_mid_hf_write_leaves_no_folder(tiny_ws_copy: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    import curation.export.writer as ex

    def half(records: list[dict], folder: Path) -> None:
        (folder / "data-00000-of-00001.arrow").write_bytes(b"partial")
        raise RuntimeError("killed (simulated)")

    monkeypatch.setattr(ex, "_write_hf", half)
    with pytest.raises(RuntimeError, match="simulated"):
        export_subset(tiny_ws_copy, ranking_key=None, budget_rows=10, fmt="hf", name="hfcrash", datasheet=False)
    assert not (tiny_ws_copy.export_dir / "hfcrash").exists() and _leftovers(tiny_ws_copy.export_dir) == []


def test_failure_after_the_data_is_written_leaves_nothing(tiny_ws_copy: Workspace,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The data, datasheet and manifest are staged and moved into place together: a datasheet that fails to
    render leaves no data file without its manifest."""
    import curation.export.datasheet as sheet

    def boom(*args: object, **kw: object) -> str:
        raise RuntimeError("render failed (simulated)")

    monkeypatch.setattr(sheet, "render_datasheet", boom)
    with pytest.raises(RuntimeError, match="simulated"):
        export_subset(tiny_ws_copy, ranking_key=None, budget_rows=10, fmt="hf", name="half")
    assert list(tiny_ws_copy.export_dir.iterdir()) == [] and len(tiny_ws_copy.exports()) == 0


# ---------------------------------------------------------------------------------------------------- manifest
def test_manifest_records_what_the_subset_depends_on(tiny_ws_copy: Workspace) -> None:
    import curation

    ws = tiny_ws_copy
    key = _random_key(ws, seed=7)
    eids = ws.examples(["example_id"])["example_id"].tolist()
    ws.add_decisions(eids[:2], "include", who="alice", why="gold")
    ws.add_decisions(eids[3:4], "exclude", who="bob", why="off-topic")
    ws.add_decisions(eids[5:6], "note", who="carol", value="check the units")
    res = export_subset(ws, ranking_key=key, budget_rows=50, quota="proportional", style="original",
                        name="man", who="dana", note="first cut", datasheet=False)
    m = load_manifest(res.manifest_path)
    assert m["project"]["version"] == curation.__version__
    assert m["workspace"]["schema_version"] == ws.schema_version()
    assert m["who"] == "dana" and m["note"] == "first cut"
    assert m["export"]["sha256"] == data_sha256(res.path) and m["export"]["n_rows"] == 50
    assert [s["name"] for s in m["sources"]] == ["demo_sft", "demo_pref"]
    for s in m["sources"]:
        from curation.ingest.readers import file_sha256

        assert s["sha256"] == file_sha256(s["source"]) and s["mapping"]["shape"] == s["shape"]
    rk = m["selection"]["ranking"]
    assert rk["key"] == key and rk["method"] == "random" and rk["seed"] == 7 and rk["params"] == {}
    assert m["selection"]["budget"] == {"rows": 50, "tokens": None} and m["selection"]["quota"] == "proportional"
    assert {(p["example_id"], p["pin"], p["who"]) for p in m["pins"]} == {
        (eids[0], "include", "alice"), (eids[1], "include", "alice"), (eids[3], "exclude", "bob")}
    assert all(p["at"] for p in m["pins"])
    assert [(n["example_id"], n["note"], n["who"]) for n in m["notes"]] == [(eids[5], "check the units", "carol")]
    assert sum(m["counts"]["exported_by_class"].values()) == 50
    assert m["counts"]["subset_by_class"] == m["counts"]["exported_by_class"]
    assert len(m["example_ids"]) == 50 and eids[0] in m["example_ids"] and eids[3] not in m["example_ids"]
    assert m["embedding"]["model"] is not None
    rec = ws.exports().iloc[-1]
    assert rec["n_rows"] == 50 and rec["path"] == str(res.path)


# ---------------------------------------------------------------------------------------------------- reproduce
def test_reproduce_random_ranking_with_pins_gives_identical_bytes(tmp_path: Path) -> None:
    ws = _small_ws(tmp_path)
    key = _random_key(ws, seed=11)
    eids = ws.examples(["example_id"])["example_id"].tolist()
    ws.add_decisions(eids[-3:], "include", who="alice", why="must keep")
    ws.add_decisions(eids[:2], "exclude", who="bob")
    for fmt, style in (("jsonl", "sft_chosen"), ("parquet", "original"), ("hf", "dpo")):
        res = export_subset(ws, ranking_key=key, budget_rows=20, fmt=fmt, style=style, name=f"r_{fmt}",
                            datasheet=False)
        rep = reproduce(res.manifest_path, out_dir=tmp_path / f"repro_{fmt}")
        assert rep.identical, rep.messages
        assert rep.actual_sha256 == res.sha256 and rep.ranking_identical and rep.subset_identical
        assert rep.path.name == res.path.name and rep.n_rows == res.n_rows


def test_reproduce_recomputes_scores_for_topk(tmp_path: Path) -> None:
    from curation.scorers import run_scorer
    from curation.select import run_selection

    ws = _small_ws(tmp_path, n_sft=30, n_pref=6)
    score = run_scorer(ws, "ngram_repetition")
    key = run_selection(ws, "topk", {"score": score}, seed=0).method
    res = export_subset(ws, ranking_key=key, budget_tokens=1500, style="messages", name="tk", datasheet=False)
    rep = reproduce(res.manifest_path, out_dir=tmp_path / "repro")
    assert rep.identical, rep.messages
    assert any("recomputing score" in m for m in rep.messages)


def test_reproduce_a_ranking_by_a_head_trained_in_the_workspace(tmp_path: Path) -> None:
    """A learned head stores facts of its run (cv_accuracy, n_train, ...) beside its parameters; reproduce rebuilds
    it from its parameters alone, retrains it on the re-ingested pairs and gets the same key and bytes."""
    from curation.scorers import run_scorer
    from curation.select import run_selection

    ws = _small_ws(tmp_path, n_sft=10, n_pref=40)
    from curation.scorers import get_scorer

    score = run_scorer(ws, get_scorer("pref_head", embed_model="hash"))
    params = ws.score_defs().set_index("key").loc[score, "params"]
    assert "cv_accuracy" in str(params)                          # the recorded facts the rebuild must leave out
    key = run_selection(ws, "topk", {"score": score}, seed=0).method
    res = export_subset(ws, ranking_key=key, budget_rows=12, style="dpo", name="ph", datasheet=False)
    rep = reproduce(res.manifest_path, out_dir=tmp_path / "repro")
    assert rep.identical, rep.messages
    assert any(f"recomputing score {score}" in m for m in rep.messages)


def test_reproduce_refuses_changed_sources(tmp_path: Path) -> None:
    ws = _small_ws(tmp_path, n_sft=20, n_pref=4)
    res = export_subset(ws, ranking_key=_random_key(ws), budget_rows=5, name="c", datasheet=False)
    src = Path(load_manifest(res.manifest_path)["sources"][0]["source"])
    src.write_text(src.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(CurationError, match="changed since the export"):
        reproduce(res.manifest_path, out_dir=tmp_path / "repro")
    with pytest.raises(CurationError, match="not an export manifest"):
        bad = tmp_path / "bad.json"
        bad.write_text("{}", encoding="utf-8")
        reproduce(bad)


def test_reproduce_graph_based_ranking(tmp_path: Path) -> None:
    """Density sampling over graph scores: re-embed, rebuild the graph and scores, re-rank, same bytes. (On the
    hash embedder: what is checked is the reproduction, not the vectors' quality.)"""
    from curation.core.keys import HASH_MODEL
    from curation.embedding.embed import embed_workspace
    from curation.select import run_selection
    from curation.workflows.analyze import analyze

    ws = _small_ws(tmp_path, n_sft=16, n_pref=0)
    embed_workspace(ws, HASH_MODEL)
    analyze(ws, model=HASH_MODEL, k=5, steps=("graph", "density"))
    key = run_selection(ws, "density", {}, seed=4, model=HASH_MODEL).method
    res = export_subset(ws, ranking_key=key, budget_rows=12, style="messages", name="dens", datasheet=False)
    rep = reproduce(res.manifest_path, out_dir=tmp_path / "repro")
    assert rep.ranking_identical, rep.messages
    assert rep.identical, rep.messages
    # a manifest written before the one key format names the graph scores name:model:k=..; it still reproduces
    dkey = next(k for k in ws.score_defs()["key"] if k.startswith("density_knn("))
    key = run_selection(ws, "topk", {"score": dkey}, seed=0).method
    res = export_subset(ws, ranking_key=key, budget_rows=6, style="messages", name="dk", datasheet=False)
    text = res.manifest_path.read_text(encoding="utf-8")
    graph_scores = [d["key"] for d in json.loads(text)["scores"] if "model=" in d["key"]]
    assert dkey in graph_scores
    for k in graph_scores:
        name, params, _ = parse_key(k)
        old = ":".join([name, params.pop("model")] + [f"{p}={v}" for p, v in params.items()])
        text = text.replace(json.dumps(k), json.dumps(old))
    old_manifest = tmp_path / "old_manifest.json"
    old_manifest.write_text(text, encoding="utf-8")
    rep = reproduce(old_manifest, out_dir=tmp_path / "repro_old")
    assert rep.ranking_identical and rep.identical, rep.messages


# ---------------------------------------------------------------------------------------------------- CLI
def test_cli_export_and_reproduce(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from curation.cli import main

    ws = _small_ws(tmp_path, n_sft=20, n_pref=6)
    key = _random_key(ws, seed=2)
    wsp = str(ws.path)
    rc = main(["--workspace", wsp, "export", "--ranking", key, "--budget", "10", "--format", "csv",
               "--style", "dpo_text", "--name", "cli_out", "--no-datasheet"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "cli_out.csv" in out and "manifest" in out
    manifest = ws.export_dir / "cli_out.csv.manifest.json"
    assert main(["--workspace", wsp, "export", "--ranking", key, "--budget", "10", "--format", "csv",
                 "--style", "dpo_text", "--name", "cli_out", "--no-datasheet"]) == 1  # exists, no --overwrite
    assert "already exists" in capsys.readouterr().err
    assert main(["--workspace", wsp, "reproduce", str(manifest), "--out", str(tmp_path / "r")]) == 0
    assert "identical bytes" in capsys.readouterr().out


def test_styles_and_kinds_table_is_complete() -> None:
    assert set(STYLE_KINDS) == set(STYLES)
