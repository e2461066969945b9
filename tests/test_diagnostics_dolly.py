"""The report card on real data: Dolly 3k (AlpaGasus filter), 8 real categories, embedded with the default model
(curation/diagnostics/report.py). A seeded, size-capped sample keeps embedding fast; its vectors are cached in
pytest's cache folder, so only the first run pays for the model (~10 s on 2 cores)."""
from __future__ import annotations

import gzip
import hashlib
import tempfile
import json
from pathlib import Path

import numpy as np
import pytest

from curation.diagnostics import ReportContext, format_card

N_TARGET = 400
MIN_PER_CLASS = 25


@pytest.fixture(scope="module")
def dolly(shared_datasets: Path, request: pytest.FixtureRequest) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(X (n, 384) embeddings, labels (n,), texts): a sample proportional to the category sizes, ≥ 25 per class."""
    path = shared_datasets / "dolly-3k-alpagasus" / "dolly_3k.jsonl.gz"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        recs = [json.loads(line) for line in f]
    cats = np.array([r["category"] for r in recs], dtype=object)
    rng = np.random.default_rng(0)
    take = []
    for c in sorted(set(cats)):
        rows = np.flatnonzero(cats == c)
        k = min(len(rows), max(MIN_PER_CLASS, round(N_TARGET * len(rows) / len(recs))))
        take.append(rng.choice(rows, k, replace=False))
    idx = np.sort(np.concatenate(take))
    texts = [f"{recs[i]['instruction']}\n\n{recs[i]['output']}"[:400] for i in idx]
    from curation.embedding.embed import DEFAULT_MODEL, encode_texts

    key = hashlib.sha256(("\0".join(texts) + DEFAULT_MODEL).encode()).hexdigest()[:16]
    pc = getattr(request.config, "cache", None)          # None under `pytest -p no:cacheprovider`
    folder = Path(pc.mkdir("diagnostics-dolly")) if pc is not None else Path(tempfile.gettempdir()) / "dolly-emb"
    folder.mkdir(parents=True, exist_ok=True)
    cache = folder / f"{key}.npy"
    if cache.is_file():
        X = np.load(cache)
    else:
        import torch

        torch.set_num_threads(2)
        X = encode_texts(texts, DEFAULT_MODEL)
        np.save(cache, X)
    return X, cats[idx], texts


@pytest.fixture(scope="module")
def ctx(dolly: tuple[np.ndarray, np.ndarray, list[str]]) -> ReportContext:
    X, labels, _ = dolly
    return ReportContext.from_arrays(X, labels, model="sentence-transformers/all-MiniLM-L6-v2", label_column="category")


def test_dolly_pool(ctx: ReportContext, dolly: tuple[np.ndarray, np.ndarray, list[str]]) -> None:
    _, labels, _ = dolly
    assert len(ctx.names) == 8 and ctx.names[0] == "open_qa"  # the largest Dolly category here
    assert ctx.pool_counts.min() >= MIN_PER_CLASS
    probe = ctx.probe
    assert probe["accuracy"] > 0.35  # categories are far from random in MiniLM space (chance ≈ 0.29)
    acc = probe["per_class"].set_index("label")["accuracy"]
    assert acc.max() - acc.min() > 0.3  # ... and some categories are much harder to tell apart than others
    card = ctx.report(np.arange(ctx.n))
    erank = card.spectral.set_index("label")["pool_effective_rank"]
    assert erank.drop("(all)").between(1, 384).all()
    assert card.spectral_spread["pool"]["max_min_ratio"] > 1.1  # real categories have different spectra
    assert card.js_divergence == pytest.approx(0.0) and card.alerts == []


def test_dolly_random_half_is_balanced(ctx: ReportContext) -> None:
    rng = np.random.default_rng(3)
    card = ctx.report(rng.choice(ctx.n, ctx.n // 2, replace=False))
    assert card.js_divergence < 0.02
    assert card.chi2_p > 0.01
    assert not any("class" in a for a in card.alerts), card.alerts
    assert card.coverage["mean_distance"] == pytest.approx(card.coverage["random_mean_distance"], rel=0.1)
    json.dumps(card.to_dict(), allow_nan=False)


def test_dolly_dropped_and_starved_categories(ctx: ReportContext, dolly: tuple) -> None:
    _, labels, _ = dolly
    rng = np.random.default_rng(4)
    keep = labels != "creative_writing"
    brain = np.flatnonzero(labels == "brainstorming")
    keep[brain[3:]] = False  # keep 3 brainstorming examples only
    card = ctx.report(np.flatnonzero(keep & (rng.random(len(labels)) < 0.6)))
    alerts = " | ".join(card.alerts)
    assert "drops class 'creative_writing' entirely" in alerts
    assert "of class 'brainstorming' against" in alerts
    t = card.classes.set_index("label")
    assert t.loc["creative_writing", "retention"] == 0
    assert card.js_divergence > 0.02 and card.chi2_p < 1e-3
    assert "creative_writing" in format_card(card)


def test_dolly_collapsed_category(ctx: ReportContext, dolly: tuple) -> None:
    X, labels, _ = dolly
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    cls = np.flatnonzero(labels == "open_qa")
    center = Xn[cls].mean(axis=0)
    near = cls[np.argsort(-(Xn[cls] @ center))[: len(cls) // 3]]  # the third of open_qa closest to its centroid
    others = np.flatnonzero(labels != "open_qa")
    card = ctx.report(np.concatenate([near, others]))
    row = card.spectral.set_index("label").loc["open_qa"]
    assert row["subset_effective_rank"] < row["baseline_effective_rank"]
    assert row["effective_rank_change"] < -0.1
