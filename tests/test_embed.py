"""Embeddings: real packaged model, cache hits by (model, text hash), resume after an interrupted job."""
from __future__ import annotations

import json

import numpy as np

from curation.core.keys import text_hash

from curation.embedding.embed import DEFAULT_MODEL, embed_texts, embed_workspace, encode_texts, model_key
from curation.ingest.run import ingest_file

TEXTS = [f"How do I cook {x}?" for x in ("rice", "pasta", "beans", "lentils", "quinoa", "oats", "barley", "corn")]


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_default_model_loads_offline_and_normalises():
    v = encode_texts(["hello world", "bonjour le monde"])
    assert v.shape == (2, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert model_key("all-MiniLM-L6-v2") == DEFAULT_MODEL


def test_embed_workspace_resume_and_cache(tmp_ws, tmp_path):
    recs = [{"instruction": t, "output": f"Boil the {t.split()[-1][:-1]} in water."} for t in TEXTS]
    ingest_file(tmp_ws, _write(tmp_path / "a.jsonl", recs))
    r1 = embed_workspace(tmp_ws, limit=3, commit_every=2)  # an interrupted job: 3 of 8 texts done
    assert r1.n_embedded == 3 and tmp_ws.job(f"embed:{DEFAULT_MODEL}")["status"] == "partial"
    assert len(tmp_ws.embeddings(DEFAULT_MODEL)[0]) == 3
    r2 = embed_workspace(tmp_ws)  # resumes: only the 5 missing ones
    assert (r2.n_cached, r2.n_embedded) == (3, 5)
    rows, X = tmp_ws.embeddings(DEFAULT_MODEL)
    assert len(rows) == 8
    # the pipeline's vectors equal a bare encode of the same texts
    ref = encode_texts(tmp_ws.examples(["embed_text"])["embed_text"].tolist())
    assert np.allclose(X, ref, atol=1e-5)
    # a second file sharing 4 examples embeds only the 2 new ones
    ingest_file(tmp_ws, _write(tmp_path / "b.jsonl", recs[:4] + [
        {"instruction": "How do I fold a paper crane?", "output": "Start with a square sheet."},
        {"instruction": "What is a prime number?", "output": "A number with exactly two divisors."}]))
    r3 = embed_workspace(tmp_ws)
    assert r3.n_embedded == 2
    assert embed_workspace(tmp_ws).n_embedded == 0


def test_embed_texts_uses_the_cache(tmp_ws):
    a = embed_texts(tmp_ws, TEXTS[:3])
    assert len(tmp_ws.known_hashes(DEFAULT_MODEL, [text_hash(t) for t in TEXTS])) == 3
    b = embed_texts(tmp_ws, TEXTS[:3] + TEXTS[:1])
    assert np.allclose(a, b[:3]) and np.allclose(b[3], a[0])
