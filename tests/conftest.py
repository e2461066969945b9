"""Shared fixtures: real DuckDB files on disk, real embeddings from the packaged default model."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The user's embedding cache (shared across workspaces) never sees test data: a private file for the session
# (session fixtures), and a fresh one for every test (_private_embedding_cache), so counts of embedded texts hold.
_CACHE_DIR = tempfile.mkdtemp(prefix="curation-test-embcache-")
atexit.register(shutil.rmtree, _CACHE_DIR, True)
os.environ["CURATION_EMBED_CACHE"] = os.path.join(_CACHE_DIR, "session.duckdb")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """../shared/datasets (real public datasets); tests that need it skip on a fresh clone without it."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"{SHARED_DATASETS} is absent (real datasets are only beside the project in CI/dev)")
    return SHARED_DATASETS


@pytest.fixture(autouse=True)
def _private_embedding_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test starts with an empty embedding cache of its own (subprocesses inherit it through the env)."""
    path = tmp_path / "embedding-cache.duckdb"
    monkeypatch.setenv("CURATION_EMBED_CACHE", str(path))
    return path


@pytest.fixture
def tmp_ws(tmp_path: Path):
    """A fresh, empty workspace file in a temporary folder."""
    from curation.store import Workspace

    return Workspace(tmp_path / "ws.duckdb")


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory: pytest.TempPathFactory):
    """Small generated demo data: (paths dict, DemoData) — 360 SFT records in 8 categories and 60 preference pairs."""
    from curation.demo import generate_demo, write_demo

    out = tmp_path_factory.mktemp("demo")
    paths = write_demo(out, n_sft=360, n_pref=60, seed=0)
    return paths, generate_demo(n_sft=360, n_pref=60, seed=0)


@pytest.fixture(scope="session")
def tiny_ws(tmp_path_factory: pytest.TempPathFactory, tiny_demo):
    """Session-scoped workspace with the tiny demo ingested (labels = categories) and embedded with the default
    model. Tests must not write to it in ways that change what other tests see (use tmp_ws or copy it)."""
    from curation.embedding.embed import DEFAULT_MODEL, embed_workspace
    from curation.ingest.run import ingest_file
    from curation.store import Workspace

    paths, _ = tiny_demo
    ws = Workspace(tmp_path_factory.mktemp("tinyws") / "tiny.duckdb")
    ingest_file(ws, paths["sft"], name="demo_sft")
    ingest_file(ws, paths["pref"], name="demo_pref")
    embed_workspace(ws, DEFAULT_MODEL)
    return ws


@pytest.fixture
def tiny_ws_copy(tiny_ws, tmp_path: Path):
    """A private, writable copy of tiny_ws."""
    import shutil

    from curation.store import Workspace

    dst = tmp_path / "tiny_copy.duckdb"
    shutil.copy(tiny_ws.path, dst)
    return Workspace(dst)
