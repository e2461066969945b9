"""Proof by training: does a subset train a reward model as well as the whole pool? (``python -m curation prove``)

On the workspace's own preference pairs (kind ``preference``, two different non-empty replies), the pairs of a
held-out share of the *prompts* (``holdout``, by a hash of the normalised prompt, so a prompt's pairs all land on
one side) are set aside. The Bradley-Terry reward head of :mod:`curation.scorers.learned` (same features, same
trainer as ``pref_head``) is then trained on

* the ranking's prefix (or the saved subset) at each budget, restricted to the training prompts;
* random subsets of the same size, one per seed (the baseline band);
* every training pair (the pool);

and each head is scored on the held-out pairs: **accuracy** (share of pairs where it prefers the human-chosen
reply; ties half; 50% = chance) and **agreement with the pool head** (share of held-out pairs on which it prefers
the same reply as the head trained on every training pair; 100% = indistinguishable from training on the pool).
A budget is a share of the training pairs (0.1 = 10%).

The curve is stored as a workspace artifact under ``prove:<ranking key or saved subset NAME@VERSION>`` and read back
by the Select page (the advisor's downstream curve) and the export datasheet.

Cost: the features need MiniLM embeddings of every pair's prompt and two replies (the workspace's vector cache
first, then the model: ~20 texts/s on a busy 2-core CPU, once); each training is an L-BFGS logistic regression with
a cross-validated strength, ~1-10 s of one core for 50-2,000 pairs. A run of 3 budgets × (1 + 3 seeds) + the pool
is 13 trainings.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.diagnostics.downstream import ARTIFACT_PREFIX, ProveResult, artifact_key, stored  # noqa: F401

DEFAULT_BUDGETS = (0.05, 0.1, 0.3)
DEFAULT_SEEDS = (0, 1, 2)
DEFAULT_HOLDOUT = 0.2
MIN_TRAIN, MIN_HELD = 20, 10
FOLDS = 3                 # cross-validation folds of each training (the strength grid of learned.C_GRID)

Progress = Callable[[int, int], None]


# ============================================================================================== features
def pair_texts(prompts: Sequence[str], chosen: Sequence[str], rejected: Sequence[str]) -> list[str]:
    """The distinct texts the reward head's features embed for these pairs (prompt tails, reply heads)."""
    from curation.scorers.features import prompt_text, reply_text

    return list(dict.fromkeys([prompt_text(p) for p in prompts] + [reply_text(c) for c in chosen]
                              + [reply_text(r) for r in rejected]))


def embed_pair_texts(ws: Any, prompts: Sequence[str], chosen: Sequence[str], rejected: Sequence[str], *,
                     model: str | None = None, chunk: int = 256, progress: Progress | None = None) -> int:
    """Embed (into the workspace's vector cache, and the user's embedding cache) every text the features of these
    pairs need, ``chunk`` texts per commit so an interrupted run resumes. Returns the number of distinct texts."""
    from curation.embedding.embed import embed_texts, model_key, text_hash
    from curation.scorers.learned import DEFAULT_EMBED_MODEL

    model = model or DEFAULT_EMBED_MODEL
    texts = pair_texts(prompts, chosen, rejected)
    found, _ = ws.vectors_for_hashes(model_key(model), [text_hash(t) for t in texts])
    todo = [t for t, f in zip(texts, found) if not f]
    for s in range(0, len(todo), chunk):
        embed_texts(ws, todo[s:s + chunk], model)
        if progress:
            progress(min(s + chunk, len(todo)), len(todo))
    return len(texts)


def pair_features(ws: Any, prompts: Sequence[str], chosen: Sequence[str], rejected: Sequence[str], *,
                  model: str | None = None) -> tuple[np.ndarray, np.ndarray, Any]:
    """(Xc, Xr, gate): the reward head's feature matrices (n, d) of the chosen and the rejected replies, built as
    ``pref_head`` builds them (the shipped prompt gate when the model is the default one). Embeds what the
    workspace's vector cache lacks."""
    from curation.scorers.features import build_features, workspace_embedder
    from curation.scorers.learned import DEFAULT_EMBED_MODEL, PrefHead

    model = model or DEFAULT_EMBED_MODEL
    emb = workspace_embedder(ws, model)
    gate = PrefHead(embed_model=model).gate()
    return (build_features(list(prompts), list(chosen), emb, gate),
            build_features(list(prompts), list(rejected), emb, gate), gate)


def train_head(Xc: np.ndarray, Xr: np.ndarray, groups: np.ndarray, *, gated: bool, seed: int = 0) -> Any:
    """A Bradley-Terry head (:func:`curation.scorers.learned.train_bradley_terry`, strength and text-feature boost
    picked by :data:`FOLDS`-fold cross-validation grouped by prompt) on the pairs given. Returns a LinearHead."""
    from curation.scorers.features import text_columns
    from curation.scorers.learned import train_bradley_terry

    return train_bradley_terry(Xc, Xr, groups, seed=seed, folds=FOLDS,
                               boost_cols=text_columns(Xc.shape[1], gated))


def margins(head: Any, Xc: np.ndarray, Xr: np.ndarray) -> np.ndarray:
    """score(chosen) − score(rejected) per pair (n,); > 0 = the head prefers the human-chosen reply."""
    return head.decision(Xc) - head.decision(Xr)


def accuracy(m: np.ndarray) -> float:
    """Share of pairs with margin > 0 (ties count half), in [0, 1]; 0.5 = chance."""
    m = np.asarray(m, dtype=np.float64)
    return float(((m > 0).sum() + 0.5 * (m == 0).sum()) / len(m)) if len(m) else math.nan


def agreement(m: np.ndarray, ref: np.ndarray) -> float:
    """Share of pairs on which two heads prefer the same reply (sign of the margins; a tie against a non-tie half)."""
    a, b = np.sign(np.asarray(m)), np.sign(np.asarray(ref))
    same = (a == b).astype(np.float64)
    same[(a == 0) ^ (b == 0)] = 0.5
    return float(same.mean()) if len(same) else math.nan


def prompt_group(p: str | None) -> str:
    return " ".join((p or "").lower().split())


def held_out_mask(prompts: Sequence[str], share: float) -> np.ndarray:
    """(n,) bool: pairs whose normalised prompt falls in the held-out ``share`` (by sha1; deterministic)."""
    return np.array([int(hashlib.sha1(prompt_group(p).encode()).hexdigest()[:8], 16) % 1000 < share * 1000
                     for p in prompts], dtype=bool)


def _source_rows(ws: Any, ranking: str | None, subset: str | None) -> tuple[str, str, np.ndarray]:
    """(source, kind, row ids in order: the ranking's order, or the saved subset's rows)."""
    if (ranking is None) == (subset is None):
        raise CurationError("prove needs exactly one of --ranking ID (a stored ranking) or --subset NAME[@VERSION] "
                            "(a saved subset)")
    if ranking is not None:
        key = ws.ranking_key(ranking)
        r = ws.ranking(key)
        return key, "ranking", np.asarray(r.order, dtype=np.int64)
    from curation.subsets import saved

    s = saved.load(ws, subset)
    return s.ref, "saved", np.asarray(saved.resolve_saved(ws, s).row_ids, dtype=np.int64)


def prove(ws: Any, *, ranking: str | None = None, subset: str | None = None,
          budgets: Sequence[float] = DEFAULT_BUDGETS, seeds: Sequence[int] = DEFAULT_SEEDS,
          holdout: float = DEFAULT_HOLDOUT, model: str | None = None, store: bool = True,
          progress: Progress | None = None) -> ProveResult:
    """Train reward heads on a ranking's prefixes (or a saved subset), random subsets and the pool; score them on
    held-out prompts; store and return the curve (see the module docstring).

    budgets: shares of the training pairs in (0, 1] (a saved subset has one budget: its own size). seeds: one
    random subset per seed and budget. holdout: share of prompts held out, in (0, 1). Raises CurationError when the
    workspace has too few preference pairs on either side, or the subset holds none of the training pairs.
    """
    from curation.core.progress import stage_of
    from curation.scorers.learned import DEFAULT_EMBED_MODEL, preference_pairs

    t_cpu = time.process_time()
    model = model or DEFAULT_EMBED_MODEL
    if not 0 < holdout < 1:
        raise CurationError(f"prove: --holdout must be a share in (0, 1), got {holdout}")
    bad = [b for b in budgets if not 0 < float(b) <= 1]
    if bad:
        raise CurationError(f"prove: budgets are shares of the training pairs in (0, 1], got {bad}; e.g. 0.05 0.1 0.3")
    source, kind, order = _source_rows(ws, ranking, subset)
    pairs = preference_pairs(ws)
    held = held_out_mask(pairs["prompt"].tolist(), holdout) if len(pairs) else np.zeros(0, bool)
    n_train, n_held = int((~held).sum()), int(held.sum())
    if n_train < MIN_TRAIN or n_held < MIN_HELD:
        raise CurationError(
            f"prove needs preference pairs (prompt, chosen, rejected with two different non-empty replies): at "
            f"least {MIN_TRAIN} for training and {MIN_HELD} held out; the workspace has {len(pairs)} usable pair(s), "
            f"{n_held} of them held out by --holdout {holdout}. Ingest a preference dataset (e.g. HH-RLHF) or "
            "change --holdout")
    n_budgets = 1 if kind == "saved" else len({float(b) for b in budgets})
    total = 1 + n_budgets * (1 + len(seeds))
    done = 0
    train_progress = stage_of(progress, "train")

    def step() -> None:
        nonlocal done
        done += 1
        if train_progress:
            train_progress(done, total)

    embed_pair_texts(ws, pairs["prompt"].tolist(), pairs["chosen"].tolist(), pairs["rejected"].tolist(),
                     model=model, progress=stage_of(progress, "embed"))
    Xc, Xr, gate = pair_features(ws, pairs["prompt"].tolist(), pairs["chosen"].tolist(),
                                 pairs["rejected"].tolist(), model=model)
    groups = np.array([prompt_group(p) for p in pairs["prompt"]])
    rid = pairs["row_id"].to_numpy(dtype=np.int64)
    tr = np.flatnonzero(~held)
    te = np.flatnonzero(held)
    pos = pd.Series(np.arange(len(rid)), index=rid)
    in_order = pos.reindex(order).dropna().astype(np.int64).to_numpy()
    in_order = in_order[~held[in_order]]          # the source's training pairs, in its order
    if not len(in_order):
        raise CurationError(f"prove: {source} holds none of the workspace's {n_train} training preference pairs "
                            "(its rows are not preference pairs, or all fall in the held-out prompts)")

    def fit(idx: np.ndarray, seed: int = 0) -> np.ndarray:
        if len(idx) < 2:
            return np.zeros(len(te))
        h = train_head(Xc[idx], Xr[idx], groups[idx], gated=gate is not None, seed=seed)
        return margins(h, Xc[te], Xr[te])

    ref = fit(tr)
    step()
    points = [{"budget": 1.0, "rows": int(len(tr)), "kind": "pool", "seed": None, "accuracy": accuracy(ref),
               "agree_pool": 1.0}]
    shares = [len(in_order) / len(tr)] if kind == "saved" else sorted({float(b) for b in budgets})
    for b in shares:
        k = len(in_order) if kind == "saved" else max(2, min(len(in_order), int(math.ceil(b * len(tr)))))
        m = fit(in_order[:k])
        points.append({"budget": b, "rows": int(k), "kind": "subset", "seed": None, "accuracy": accuracy(m),
                       "agree_pool": agreement(m, ref)})
        step()
        for s in seeds:
            pick = np.sort(np.random.default_rng(int(s)).choice(tr, size=k, replace=False))
            m = fit(pick, int(s))
            points.append({"budget": b, "rows": int(k), "kind": "random", "seed": int(s), "accuracy": accuracy(m),
                           "agree_pool": agreement(m, ref)})
            step()
    res = ProveResult(source=source, kind=kind, n_train=n_train, n_held=n_held, holdout=float(holdout),
                      points=points, model=model, created_at=pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
                      cpu_s=round(time.process_time() - t_cpu, 1))
    if store:
        ws.put_artifact(artifact_key(source), json.loads(json.dumps(res.to_dict(), default=_json)))
    return res


def _json(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return None if not np.isfinite(v) else float(v)
    raise TypeError(type(v))


def downstream_fit(res: ProveResult, n_pool: int, *, metric: str = "accuracy", fraction: float = 0.95) -> Any:
    """The budget advisor's plateau (:func:`curation.select.advisor.advise_points`) fitted to the subset's measured
    ``metric`` ("accuracy" or "agree_pool") at each budget plus the pool, with budgets as rows of a pool of
    ``n_pool`` (a budget share × n_pool: the curve was measured on the training prompts, the same shares).
    Raises CurationError with fewer than 3 distinct budgets (a saved subset gives 2: itself and the pool)."""
    from curation.select.advisor import advise_points

    if metric not in ("accuracy", "agree_pool"):
        raise CurationError(f"downstream metric must be 'accuracy' or 'agree_pool', got {metric!r}")
    pts = [p for p in res.points if p["kind"] in ("subset", "pool")]
    x = [float(p["budget"]) * n_pool for p in pts]
    y = [float(p[metric]) for p in pts]
    name = ("reward head accuracy on held-out pairs" if metric == "accuracy"
            else "agreement with the pool's reward head")
    return advise_points(x, y, n=n_pool, fraction=fraction, metric=name)
