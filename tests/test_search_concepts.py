"""Concepts on real Dolly rows: seeded from tags (pins ignored), trained with the curator model, stored as a column
with its CV figure, proposals exclude the labelled rows, retraining replaces the column, seeding is undoable."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from curation.core.errors import CurationError
from curation.ingest.run import ingest_file
from curation.search import actions, concepts as C
from curation.store import Workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory, shared_datasets: Path) -> Workspace:
    from curation.core.keys import DEFAULT_MODEL
    from curation.embedding.embed import encode_texts

    w = Workspace(tmp_path_factory.mktemp("concepts") / "ws.duckdb")
    ingest_file(w, shared_datasets / "dolly-3k-alpagasus" / "dolly_3k.jsonl.gz")
    ex = w.examples(["row_id", "embed_text", "text_hash", "label"]).drop_duplicates("text_hash")
    ex = ex[ex["label"].isin(["creative_writing", "classification"])].groupby("label").head(40)
    w.put_embeddings(DEFAULT_MODEL, ex["text_hash"].tolist(), encode_texts(ex["embed_text"].tolist()))
    return w


def test_concept_train_store_propose(ws):
    from curation.core.keys import DEFAULT_MODEL

    rid, _ = ws.embeddings(DEFAULT_MODEL)
    lab = ws.examples(["row_id", "label"]).set_index("row_id").loc[rid, "label"]
    pos = lab.index[lab == "creative_writing"][:12].to_numpy()
    neg = lab.index[lab == "classification"][:12].to_numpy()
    with pytest.raises(CurationError, match="at least one positive row"):
        C.train_concept(ws, "creative")
    assert len(C.add_rows(ws, "creative", pos, positive=True, who="t")) == 12
    C.add_rows(ws, "creative", neg[:3], positive=False, who="t")
    actions.undo_last(ws, who="t")                           # seeding is undoable in one step
    assert not (ws.tags()["tag"] == "concept:creative:not").any()
    C.add_rows(ws, "creative", neg, positive=False, who="t")
    ws.add_decisions([ws.examples(["example_id"], row_ids=[int(rid[-1])])["example_id"][0]], "include", who="t")
    out = C.train_concept(ws, "creative")
    assert out["n_train"] == 24 and out["n_positive"] == 12 and out["n_negative"] == 12    # the pin is not a label
    assert 0.0 <= out["cv_accuracy"] <= 1.0 and out["cv_auc"] > 0.5
    d = ws.score_defs().set_index("key").loc[out["key"]]
    assert d["name"] == "concept" and '"threshold": 0.5' in d["params"] and '"cv_accuracy"' in d["params"]
    rows, p = ws.score_column(out["key"])
    ok = np.isfinite(p)                                       # NaN (not applicable) where a row has no vector
    rows, p = rows[ok], p[ok]
    assert set(rows.tolist()) == set(rid.tolist()) and np.all((p >= 0) & (p <= 1))
    held = lab.index[lab.index.isin(rows)].difference(np.concatenate([pos, neg]))
    p_of = dict(zip(rows.tolist(), p.tolist()))
    mean_cw = np.mean([p_of[r] for r in held if lab[r] == "creative_writing"])
    mean_cl = np.mean([p_of[r] for r in held if lab[r] == "classification"])
    assert mean_cw > mean_cl                                  # unseen rows of the concept score higher
    prop = C.proposals(ws, "creative", 5)
    assert len(prop) == 5 and not set(prop["row_id"]) & set(np.concatenate([pos, neg]).tolist())
    C.add_rows(ws, "creative", prop["row_id"].to_numpy()[:1], positive=True, who="t")
    out2 = C.train_concept(ws, "creative")
    assert out2["key"] != out["key"] and C.concept_keys(ws, "creative") == [out2["key"]]
    listed = C.concepts(ws).set_index("name").loc["creative"]
    assert listed["n_positive"] == 13 and listed["key"] == out2["key"]
