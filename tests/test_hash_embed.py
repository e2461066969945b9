"""The feature-hashing test embedder: the same vectors in every process, word overlap gives similarity, and the
whole pipeline (embed, graph, selection) runs on it without loading a model."""
from __future__ import annotations

import subprocess
import sys

import numpy as np

from curation.core.keys import HASH_MODEL, model_key
from curation.embedding.embed import encode_texts

TEXTS = ["How do I bake sourdough bread at home?", "How do I bake rye bread at home?",
         "Explain the quicksort algorithm.", ""]


def test_hash_vectors_are_deterministic_across_processes_and_word_overlap_is_similarity() -> None:
    assert model_key("hash") == HASH_MODEL
    a = encode_texts(TEXTS, "hash")
    assert a.shape == (4, 384) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)            # the empty text too (not zero)
    code = ("import sys, numpy as np; from curation.embedding.embed import encode_texts; "
            f"np.save(sys.argv[1], encode_texts({TEXTS!r}, 'hash'))")
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, "-c", code, f"{d}/v.npy"], check=True,
                       env={"PYTHONHASHSEED": "123", "PATH": "/usr/bin:/bin"})
        b = np.load(f"{d}/v.npy")
    assert np.array_equal(a, b)
    sims = a @ a.T
    assert sims[0, 1] > 0.5 > abs(sims[0, 2])                                  # shared words, not shared meaning


def test_the_pipeline_runs_on_hash_vectors(tiny_demo, tmp_ws) -> None:
    from curation.embedding.embed import embed_workspace
    from curation.ingest.run import ingest_file
    from curation.neighbours.graph import build_graph
    from curation.select import run_selection

    paths, _ = tiny_demo
    ingest_file(tmp_ws, paths["sft"], name="demo_sft")
    report = embed_workspace(tmp_ws, "hash")
    assert report.model == HASH_MODEL and report.n_embedded > 0
    build_graph(tmp_ws, model=HASH_MODEL, k=10)
    ranking = run_selection(tmp_ws, "facility", {}, model=HASH_MODEL, seed=0)
    assert len(ranking.order) == tmp_ws.n_examples()
