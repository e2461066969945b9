"""Device choice: auto picks CUDA, then MPS, else the CPU; an explicit unavailable device is a clear error that
stops the job before it writes anything. CPU is what runs here; CUDA/MPS cases skip or check the refusal."""
from __future__ import annotations

import json

import pytest
import torch

from curation.cli import main
from curation.core.devices import auto_batch_size, resolve_device
from curation.core.errors import CurationError

HAS_CUDA = torch.cuda.is_available()
HAS_MPS = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def test_auto_picks_what_is_there():
    expected = "cuda" if HAS_CUDA else "mps" if HAS_MPS else "cpu"
    assert resolve_device(None) == expected == resolve_device("auto") == resolve_device(" AUTO ")
    assert resolve_device("cpu") == "cpu"
    assert auto_batch_size("cpu", 64) == 64


@pytest.mark.parametrize("name", ["tpu", "cuda:x", "gpu", "cuda:"])
def test_unknown_device_is_refused(name):
    with pytest.raises(CurationError, match="unknown device.*cpu, cuda, cuda:N, mps"):
        resolve_device(name)


@pytest.mark.skipif(HAS_CUDA, reason="this machine has CUDA")
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:3"])
def test_unavailable_cuda_is_refused_with_the_fix(name):
    with pytest.raises(CurationError, match=r"is not available: torch .*--device cpu"):
        resolve_device(name)


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA machine")
def test_cuda_index_beyond_the_gpus_is_refused():
    n = torch.cuda.device_count()
    with pytest.raises(CurationError, match=f"has {n} CUDA device"):
        resolve_device(f"cuda:{n}")
    assert auto_batch_size("cuda", 64) >= 64


@pytest.mark.skipif(HAS_MPS, reason="this machine has MPS")
def test_unavailable_mps_is_refused():
    with pytest.raises(CurationError, match="'mps' is not available"):
        resolve_device("mps")


def _ingest(ws_path, tmp_path):
    src = tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps({"instruction": f"Name a colour number {i}.", "output": "Blue."}) + "\n"
                           for i in range(5)), encoding="utf-8")
    assert main(["--workspace", str(ws_path), "ingest", str(src)]) == 0


def test_embed_cli_records_and_prints_the_device(tmp_path, capsys):
    ws_path = tmp_path / "w.duckdb"
    _ingest(ws_path, tmp_path)
    assert main(["--workspace", str(ws_path), "embed", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "on cpu, batch 64" in out
    from curation.store import Workspace

    job = Workspace(ws_path).job("embed:sentence-transformers/all-MiniLM-L6-v2")
    params = json.loads(job["params"]) if isinstance(job["params"], str) else job["params"]
    assert params["device"] == "cpu" and params["batch_size"] == 64 and job["status"] == "done"


@pytest.mark.skipif(HAS_CUDA, reason="this machine has CUDA")
def test_embed_and_score_on_an_absent_gpu_fail_cleanly_and_write_nothing(tmp_path, capsys):
    from curation.store import Workspace

    ws_path = tmp_path / "w.duckdb"
    _ingest(ws_path, tmp_path)
    assert main(["--workspace", str(ws_path), "embed", "--device", "cuda"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: device 'cuda' is not available") and "Traceback" not in err
    # model scorers refuse before loading the model or recording a job
    assert main(["--workspace", str(ws_path), "score", "askllm", "--device", "cuda:1", "--quiet"]) == 1
    assert "device 'cuda:1' is not available" in capsys.readouterr().err
    ws = Workspace(ws_path)
    assert ws.jobs().empty and ws.embedding_models() == [] and ws.score_defs().empty


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA machine")
def test_cuda_embeddings_match_the_cpu():
    """The same texts embedded on the GPU and on the CPU give the same vectors (cosine > 0.999 each)."""
    import numpy as np

    from curation.embedding.embed import encode_texts

    texts = ["How do I bake bread?", "Explain quicksort in two sentences.", "Bonjour, ça va ?"] * 20
    a = encode_texts(texts, device="cpu")
    b = encode_texts(texts, device="cuda")
    assert a.shape == b.shape
    assert float(np.min(np.sum(a * b, axis=1))) > 0.999
