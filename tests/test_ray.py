"""embed --ray / score --ray on a local Ray instance (ray.init(num_cpus=2)) with the real model: the same vectors
and scores as the local path, written by this process only; a second run after a partial one computes only what
is missing. Slow: starting Ray and its workers costs ~10-20 s."""
from __future__ import annotations

import json

import numpy as np
import pytest

from curation.embedding.embed import DEFAULT_MODEL, embed_workspace
from curation.ingest.run import ingest_file
from curation.scorers.run import run_scorers
from curation.store import Workspace

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray")

TOPICS = ("tea", "rice", "bread", "soup", "jam", "pasta", "salad", "tofu", "eggs", "beans", "oats", "corn")


@pytest.fixture(scope="module")
def local_ray():
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def files(tmp_path):
    sft = tmp_path / "sft.jsonl"
    sft.write_text("".join(json.dumps({"instruction": f"How do I make {t}?" + " Please explain." * (i % 4),
                                       "output": f"Start with good {t}. " * (1 + i % 5) + ("Sure!" if i % 3 else "")})
                           + "\n" for i, t in enumerate(TOPICS * 2)), encoding="utf-8")
    pref = tmp_path / "pref.jsonl"
    pref.write_text("".join(json.dumps({"prompt": f"Describe {t}.", "chosen": f"{t} is a common food.",
                                        "rejected": f"I do not know what {t} is." if i % 2 else f"{t}."}) + "\n"
                            for i, t in enumerate(TOPICS)), encoding="utf-8")
    return sft, pref


def _ws(path, files):
    ws = Workspace(path)
    for f in files:
        ingest_file(ws, f)
    return ws


def test_embed_and_score_on_ray_equal_the_local_path(tmp_path, files, local_ray):
    local, remote = _ws(tmp_path / "local.duckdb", files), _ws(tmp_path / "ray.duckdb", files)
    names = ["heuristics", "pref_length_gap", "pref_embed_distance"]
    embed_workspace(local, device="cpu", batch_size=4, cache=False)
    keys = run_scorers(local, names)

    # Ray: a partial run first (as if the driver was killed after some commits), then the rest
    r1 = embed_workspace(remote, batch_size=4, cache=False, ray="local", limit=10)
    assert r1.n_embedded == 10 and r1.device.startswith("ray (2 CPU workers)")
    assert remote.job(f"embed:{DEFAULT_MODEL}")["status"] == "partial"
    r2 = embed_workspace(remote, batch_size=4, cache=False, ray="local")
    assert r2.n_cached == 10 and r2.n_embedded == len(TOPICS) * 3 - 10
    params = json.loads(remote.job(f"embed:{DEFAULT_MODEL}")["params"])
    assert params["device"].startswith("ray (2 CPU workers)")
    (rows_l, X_l), (rows_r, X_r) = local.embeddings(DEFAULT_MODEL), remote.embeddings(DEFAULT_MODEL)
    assert np.array_equal(rows_l, rows_r)
    assert np.allclose(X_l, X_r, atol=1e-6)

    assert run_scorers(remote, names, ray="local") == keys
    S_l, S_r = local.scores(), remote.scores()       # every column, the <key>@rejected ones included
    assert list(S_l.columns) == list(S_r.columns) and any(c.endswith("@rejected") for c in S_l.columns)
    exact = [c for c in S_l.columns if c != "pref_embed_distance"]
    assert S_l[exact].equals(S_r[exact])
    assert np.allclose(S_l["pref_embed_distance"], S_r["pref_embed_distance"], atol=1e-5, equal_nan=True)
    heur = next(k for k in keys if k not in ("pref_length_gap", "pref_embed_distance"))
    assert "ray (2 CPU workers)" in remote.job(f"score:{heur}")["params"]
    assert "ray" not in str(remote.job("score:pref_embed_distance")["params"])   # reads the workspace: runs here


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
def test_a_worker_error_is_one_clear_error_and_writes_nothing(tmp_path, files, local_ray):
    from curation.core.errors import CurationError

    ws = _ws(tmp_path / "w.duckdb", files)
    with pytest.raises(CurationError, match=r"^a Ray worker failed: device 'cuda' is not available"):
        embed_workspace(ws, device="cuda", cache=False, ray="local")
    assert ws.jobs().empty and ws.embedding_models() == []
