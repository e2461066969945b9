"""The static first-look embedder (model2vec distillation of the packaged MiniLM): explicit mode only, stored under
its own model key, labelled wherever it is offered, never picked for selection implicitly.

Slow on a fresh machine: the first use distils the model (~25-50 s on 2 cores) into the user's model cache."""
from __future__ import annotations

import json

import numpy as np
import pytest

from curation.cli import main
from curation.embedding.embed import DEFAULT_MODEL, encode_texts, model_key
from curation.core.errors import CurationError
from curation.embedding.static import STATIC_LABEL, STATIC_MODEL
from curation.store import Workspace

pytestmark = [pytest.mark.slow, pytest.mark.model]


def test_aliases_and_vectors():
    assert {model_key(a) for a in ("static", "fast", "model2vec", STATIC_MODEL)} == {STATIC_MODEL}
    v = encode_texts(["How do I cook rice?", "How to cook rice", "The stock market fell sharply today."],
                     "static")
    assert v.shape == (3, 256) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]


def test_embed_fast_is_labelled_and_kept_apart_from_the_default_model(tmp_path, capsys):
    src = tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps({"instruction": f"Name a fruit that starts with letter {c}.",
                                       "output": f"{c}pple {i}."}) + "\n" for i in range(2) for c in "ABCDEFGHIJKL"),
                   encoding="utf-8")
    ws_path = tmp_path / "w.duckdb"
    assert main(["--workspace", str(ws_path), "ingest", str(src)]) == 0
    assert main(["--workspace", str(ws_path), "embed", "--fast", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert STATIC_LABEL in out and "24 texts embedded" in out
    ws = Workspace(ws_path)
    assert ws.embedding_models() == [STATIC_MODEL]
    _, X = ws.embeddings(STATIC_MODEL)
    assert X.shape == (24, 256)
    # selection defaults to MiniLM: with only static vectors it asks for an embed instead of using them
    from curation.select.run import run_selection

    with pytest.raises(CurationError, match="needs embeddings under 'sentence-transformers/all-MiniLM-L6-v2'"):
        run_selection(ws, "kcenter", {}, seed=0)
    # asked for explicitly, it works and says what it is
    with pytest.warns(UserWarning, match="first look"):
        r = run_selection(ws, "kcenter", {}, seed=0, model="static")
    assert len(r.order) == 24 and DEFAULT_MODEL not in ws.embedding_models()
