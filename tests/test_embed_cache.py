"""The embedding cache shared by workspaces: a second workspace over the same file runs the model on nothing;
opting out re-embeds; an unusable cache (not a DuckDB file, locked by another process) only warns."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from curation.embedding.embed import DEFAULT_MODEL, embed_texts, embed_workspace, load_model
from curation.embedding.cache import (
    EmbedCacheWarning,
    EmbeddingCache,
    default_cache_path,
    model_id,
)
from curation.ingest.run import ingest_file
from curation.store import Workspace

RECORDS = [{"instruction": f"Give one tip about {t}.", "output": f"Keep {t} simple and regular."}
           for t in ("sleep", "running", "saving money", "gardening", "cooking rice", "writing", "reading", "tea")]


@pytest.fixture
def data_file(tmp_path):
    p = tmp_path / "tips.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    return p


@pytest.fixture
def model_calls(monkeypatch):
    """Counts the texts the real model encodes (the model still runs)."""
    m = load_model(DEFAULT_MODEL, "cpu")
    seen: list[int] = []
    real = m.encode

    def encode(texts, *args, **kwargs):
        seen.append(len(texts))
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(m, "encode", encode)
    return seen


def test_second_workspace_over_the_same_file_embeds_nothing(tmp_path, data_file, model_calls,
                                                             _private_embedding_cache):
    ws1 = Workspace(tmp_path / "one.duckdb")
    ingest_file(ws1, data_file)
    r1 = embed_workspace(ws1, device="cpu")
    assert r1.n_embedded == len(RECORDS) == sum(model_calls) and r1.n_from_cache == 0
    cache = EmbeddingCache(_private_embedding_cache)
    assert cache.count(model_id(DEFAULT_MODEL)) == len(RECORDS)

    model_calls.clear()
    ws2 = Workspace(tmp_path / "two.duckdb")
    ingest_file(ws2, data_file)
    r2 = embed_workspace(ws2, device="cpu")
    assert sum(model_calls) == 0 and r2.n_embedded == 0 and r2.n_from_cache == len(RECORDS)
    assert "8 from the embedding cache" in r2.summary()
    (rows1, X1), (rows2, X2) = ws1.embeddings(DEFAULT_MODEL), ws2.embeddings(DEFAULT_MODEL)
    assert np.array_equal(rows1, rows2) and np.array_equal(X1, X2)
    assert ws2.job(f"embed:{DEFAULT_MODEL}")["status"] == "done"
    # embed_texts (used by selection and preference scorers) reads it too
    model_calls.clear()
    ws3 = Workspace(tmp_path / "three.duckdb")
    texts = ws1.examples(["embed_text"])["embed_text"].tolist()
    assert np.allclose(embed_texts(ws3, texts), X1, atol=1e-6) and sum(model_calls) == 0


def test_opting_out_embeds_again(tmp_path, data_file, model_calls, monkeypatch):
    for name in ("a", "b"):
        ws = Workspace(tmp_path / f"{name}.duckdb")
        ingest_file(ws, data_file)
        embed_workspace(ws, device="cpu", cache=name == "a")     # b: cache=False
    assert sum(model_calls) == 2 * len(RECORDS)
    monkeypatch.setenv("CURATION_EMBED_CACHE", "off")
    assert default_cache_path() is None
    ws = Workspace(tmp_path / "c.duckdb")
    ingest_file(ws, data_file)
    assert embed_workspace(ws, device="cpu").n_embedded == len(RECORDS)


def test_a_broken_cache_file_only_warns(tmp_path, data_file, _private_embedding_cache):
    _private_embedding_cache.write_bytes(b"this is not a duckdb file" * 100)
    ws = Workspace(tmp_path / "w.duckdb")
    ingest_file(ws, data_file)
    with pytest.warns(EmbedCacheWarning, match="continuing without the cache"):
        r = embed_workspace(ws, device="cpu")
    assert r.n_embedded == len(RECORDS) and len(ws.embeddings(DEFAULT_MODEL)[0]) == len(RECORDS)


def test_a_cache_locked_by_another_process_only_warns(tmp_path, data_file, _private_embedding_cache,
                                                      monkeypatch):
    import curation.embedding.cache as ec

    EmbeddingCache(_private_embedding_cache).put("m", ["h"], np.ones((1, 3), dtype=np.float32))
    monkeypatch.setattr(ec, "LOCK_TIMEOUT", 0.3)
    hold = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
            "time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(_private_embedding_cache)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        ws = Workspace(tmp_path / "w.duckdb")
        ingest_file(ws, data_file)
        with pytest.warns(EmbedCacheWarning, match="could not read it"):
            r = embed_workspace(ws, device="cpu")
        assert r.n_embedded == len(RECORDS)
    finally:
        holder.kill()
        holder.wait()
    # once the other process is gone the cache works again (a new job, a new cache object)
    ws2 = Workspace(tmp_path / "w2.duckdb")
    ingest_file(ws2, data_file)
    embed_workspace(ws2, device="cpu")
    assert EmbeddingCache(_private_embedding_cache).count(model_id(DEFAULT_MODEL)) == len(RECORDS)


def test_reproduce_takes_its_vectors_from_the_cache(tmp_path, data_file, model_calls):
    """reproduce rebuilds a fresh workspace: with the shared cache it runs the model on nothing."""
    from curation.export import export_subset
    from curation.select.run import run_selection
    from curation.workflows.reproduce import reproduce

    recs = [{"instruction": f"Give tip {i} about {t}.", "output": f"Keep {t} simple, tip {i}."}
            for i in range(2) for t in ("sleep", "tea", "rice", "bread", "soup", "jam", "oats", "corn", "eggs", "kale")]
    src = tmp_path / "many.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    ws = Workspace(tmp_path / "w.duckdb")
    ingest_file(ws, src)
    embed_workspace(ws, device="cpu")
    key = run_selection(ws, "kcenter", {}, seed=0).method
    res = export_subset(ws, ranking_key=key, budget_rows=8, name="k8", datasheet=False)
    model_calls.clear()
    log: list[str] = []
    rep = reproduce(res.manifest_path, out_dir=tmp_path / "repro", log=log.append)
    assert rep.identical, rep.messages
    assert sum(model_calls) == 0
    assert any("0 texts embedded" in m and f"{len(recs)} from the embedding cache" in m for m in log), log
