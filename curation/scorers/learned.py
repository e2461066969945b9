"""Learned quality scorers: linear heads over cheap features (:mod:`curation.scorers.features`), numpy and
scikit-learn only, weights stored as arrays (``.npz`` loaded with ``allow_pickle=False``, or JSON in the workspace).

* :class:`PrefHeadDefault` (``pref_head_default``): a Bradley-Terry reward head shipped with the project, trained by
  ``scripts/train_default_head.py`` on public HH-RLHF test tranches (MIT) and evaluated only on tranches / prompts it
  never saw (``benchmarks/bench_quality.py``). Scores every reply before anyone labels anything.
* :class:`PrefHead` (``pref_head``): the same head trained on the workspace's own preference pairs, cross-validated
  by prompt group; its key carries a hash of the training set, so new pairs give a new key and a retrain, the
  same pairs reuse the stored weights.
* :class:`CuratorModel` (``curator_model``): a logistic classifier on the curator's include / exclude pins (and
  optional keep / drop tags) over the stored row embeddings plus text features: P(keep) per row. Its key carries
  a hash of the labels; :func:`propose_rows` lists unpinned rows to judge next (uncertainty sampling, spread out).

Bradley-Terry: P(a preferred to b) = sigmoid(w·(f(a) − f(b))), i.e. a logistic regression without intercept on
feature differences (each pair enters once as (c − r, 1) and once as (r − c, 0), so the fit is symmetric). The
score of a reply is w·f(reply): comparable between replies (higher = preferred), not a probability.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.scorers.base import Scorer, _col, prompt_texts, response_texts
from curation.scorers.features import (FEATURE_VERSION, TEXT_FEATURES, Gate, build_features, length_columns,
                                      plain_embedder, text_columns, workspace_embedder)

DEFAULT_EMBED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_HEAD = WEIGHTS_DIR / "pref_head_default.npz"
C_GRID = (3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01)  # preference heads (standardised features, 1000s of pairs)
BOOST_GRID = (1.0, 3.0, 10.0)  # how much less the text-feature columns are penalised (picked by CV)
TRAINER_VERSION = 2            # 2: text features penalised less (boost picked by CV); part of pref_head's key
CURATOR_C_GRID = (0.03, 0.1, 0.3, 1.0)                # curator model (standardised features, tens of labels)
LENGTH_MODES = ("raw", "controlled")
"""``length`` parameter of the learned scorers: ``raw`` scores with every feature; ``controlled`` scores with the
length features' weights set to 0 (the head is fitted with them, so they absorb what length explains, as in
length-controlled win rates; then they are dropped): the score of a reply *at a given length*."""


def length_mode(params: dict[str, Any]) -> str:
    """The validated ``length`` parameter (raw / controlled); CurationError naming the choices otherwise."""
    mode = str(params.get("length") or "raw")
    if mode not in LENGTH_MODES:
        raise CurationError(f"length={mode!r} is not one of {list(LENGTH_MODES)}: raw scores with every feature, "
                            "controlled drops the length features (a score that is not reply length)")
    return mode


# ============================================================================================== the linear head
@dataclass
class LinearHead:
    """score(x) = (x / scale) · w (+ b). meta: JSON-serialisable facts about the training (data hash, CV
    accuracy, split, parameters)."""

    w: np.ndarray
    scale: np.ndarray
    b: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)
    gate: Gate | None = None          # the prompt gate its features were built with (features.Gate), if any
    oof: dict[str, np.ndarray] | None = field(default=None, repr=False)
    """Cross-validated margins of the training pairs (not stored): {"raw", "controlled"} → (n,) margin of the
    chosen over the rejected reply from the fold that did not see the pair (> 0 = ranked correctly)."""

    def decision(self, X: np.ndarray, length: str = "raw") -> np.ndarray:
        """(n,) scores of the feature rows ``X`` (n, n_features); higher = preferred. ``length="controlled"``: with
        the length columns' weights set to 0 (:func:`curation.scorers.features.length_columns`)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.w):
            raise CurationError(f"feature matrix has shape {X.shape} but the head expects {len(self.w)} columns; "
                                "the weights were trained with another feature version or embedding model; retrain")
        return (X / self.scale) @ self.weights(length) + self.b

    def weights(self, length: str = "raw") -> np.ndarray:
        """The weight vector; ``length="controlled"``: a copy with the length columns set to 0."""
        if length == "raw":
            return self.w
        w = self.w.copy()
        w[length_columns(len(w), self.gate is not None)] = 0.0
        return w

    # ------------------------------------------------------------------ persistence (no pickle anywhere)
    def save_npz(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        gate = {} if self.gate is None else {"gate_w": np.asarray(self.gate.w, dtype=np.float32),
                                             "gate_b": np.array([self.gate.b], dtype=np.float64)}
        np.savez_compressed(tmp, w=self.w.astype(np.float32), scale=self.scale.astype(np.float32),
                            b=np.array([self.b], dtype=np.float64),
                            meta=np.array(json.dumps(self.meta, sort_keys=True)), **gate)
        tmp.replace(path)

    @classmethod
    def load_npz(cls, path: str | Path) -> LinearHead:
        path = Path(path)
        if not path.is_file():
            raise CurationError(f"weights file {path} not found; reinstall the project or retrain with "
                                "scripts/train_default_head.py")
        with np.load(path, allow_pickle=False) as z:
            gate = Gate(w=z["gate_w"].astype(np.float64), b=float(z["gate_b"][0])) if "gate_w" in z.files else None
            return cls(w=z["w"].astype(np.float64), scale=z["scale"].astype(np.float64), b=float(z["b"][0]),
                       meta=json.loads(str(z["meta"])), gate=gate)

    def to_json(self) -> dict[str, Any]:
        out = {"w": [round(float(v), 7) for v in self.w], "scale": [round(float(v), 7) for v in self.scale],
               "b": float(self.b), "meta": self.meta}
        if self.gate is not None:
            out["gate"] = {"w": [round(float(v), 7) for v in self.gate.w], "b": float(self.gate.b)}
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> LinearHead:
        g = obj.get("gate")
        return cls(w=np.asarray(obj["w"], dtype=np.float64), scale=np.asarray(obj["scale"], dtype=np.float64),
                   b=float(obj["b"]), meta=dict(obj["meta"]),
                   gate=Gate(w=np.asarray(g["w"], dtype=np.float64), b=float(g["b"])) if g else None)


def _scale(X: np.ndarray) -> np.ndarray:
    """Per-column scale: the standard deviation (at least 1e-3)."""
    return np.maximum(X.std(axis=0), 1e-3) if len(X) > 1 else np.ones(X.shape[1])


# ============================================================================================== Bradley-Terry
def _fit_bt(D: np.ndarray, C: float, start: np.ndarray | None = None, centre: np.ndarray | None = None
            ) -> np.ndarray:
    """argmin_w 0.5·|w|² + 2C·Σ log(1 + exp(−D w)): the L2 logistic regression without intercept on the symmetric
    data (D, 1) ∪ (−D, 0) with regularisation C (scikit-learn's objective), solved on D alone by L-BFGS (half the
    rows, no label column). Deterministic: the same D, C and start give the same w. ``start``: initial w (a
    solution for a nearby C converges in a few iterations). ``centre``: shrink towards these weights instead of 0
    (0.5·|w − centre|²; benchmarks/quality_explore.py adapts a head this way)."""
    from scipy.optimize import minimize

    def f(w: np.ndarray) -> tuple[float, np.ndarray]:
        m = D @ w
        loss = float(np.logaddexp(0.0, -m).sum())
        g = -(D.T @ (0.5 * (1.0 - np.tanh(0.5 * m))))          # d/dw softplus(-m) = -sigmoid(-m)·D
        u = w if centre is None else w - centre
        return 0.5 * float(u @ u) + 2.0 * C * loss, u + 2.0 * C * g

    x0 = np.zeros(D.shape[1]) if start is None else np.asarray(start, dtype=np.float64)
    r = minimize(f, x0, jac=True, method="L-BFGS-B",
                 options={"maxiter": 2000, "gtol": 1e-6})
    return np.asarray(r.x, dtype=np.float64)


def _train_bradley_terry(Xc: np.ndarray, Xr: np.ndarray, groups: np.ndarray, *, seed: int = 0,
                        c_grid: tuple[float, ...] = C_GRID, folds: int = 5,
                        boost_cols: np.ndarray | list[int] | None = None,
                        boost_grid: tuple[float, ...] = BOOST_GRID, gated: bool = False) -> LinearHead:
    """Fit P(chosen ≻ rejected) = sigmoid(w·(f(c) − f(r))) by L2 logistic regression without intercept.

    The regularisation strength is picked by cross-validation grouped by prompt (``groups``: equal values = same
    prompt, never split across folds); meta gets the CV accuracy of the chosen strength (share of held-out pairs
    ranked correctly) and the per-strength table. ``boost_cols``: columns penalised less than the rest (the few
    strong text features beside hundreds of weak embedding columns): after standardising they are multiplied by
    a factor from ``boost_grid``, picked by the same cross-validation (1 = one penalty for all), and the factor is
    folded into the head's scale. Deterministic for a given seed. ``gated``: the feature layout has the gate
    blocks (for the held-out margins of the length-controlled head, ``head.oof``).
    """
    from sklearn.model_selection import GroupKFold

    n = Xc.shape[0]
    if n < 2:
        raise CurationError(f"a preference head needs at least 2 preference pairs with two non-empty replies; "
                            f"found {n}")
    Xc, Xr = np.asarray(Xc, dtype=np.float64), np.asarray(Xr, dtype=np.float64)
    scale = _scale(np.vstack([Xc, Xr]))
    D0 = (Xc - Xr) / scale
    groups = np.asarray(groups)
    k = min(folds, len(np.unique(groups)))
    cols = np.asarray(boost_cols if boost_cols is not None else [], dtype=np.int64)
    boosts = tuple(boost_grid) if len(cols) else (1.0,)

    def boosted(a: float) -> np.ndarray:
        if a == 1.0:
            return D0
        D = D0.copy()
        D[:, cols] *= a
        return D

    cv: dict[str, float] = {}
    best = (boosts[0], c_grid[len(c_grid) // 2])
    best_acc = float("nan")
    if k >= 2:
        # shuffle the groups deterministically, then GroupKFold (its split is deterministic given the order)
        rng = np.random.default_rng(seed)
        uniq = np.unique(groups)
        perm = dict(zip(uniq, rng.permutation(len(uniq))))
        g = np.array([perm[x] for x in groups])
        splits = list(GroupKFold(n_splits=k).split(np.zeros(n), groups=g))
        fold_w: dict[tuple[float, float], list[np.ndarray]] = {}
        for a in boosts:
            D = boosted(a)
            warm: dict[int, np.ndarray] = {}
            for C in sorted(c_grid):
                correct = 0.0
                for f, (tr, te) in enumerate(splits):
                    w = warm[f] = _fit_bt(D[tr], C, warm.get(f))      # ascending C, from the previous C's w
                    fold_w.setdefault((a, C), []).append(w)
                    d = D[te] @ w
                    correct += float((d > 0).sum() + 0.5 * (d == 0).sum())
                cv[_cv_label(a, C, len(boosts) > 1)] = correct / n
        # the best CV accuracy; among equals the smallest boost, then the strongest regularisation
        best = max(((a, C) for a in boosts for C in c_grid),
                   key=lambda ac: (cv[_cv_label(ac[0], ac[1], len(boosts) > 1)], -ac[0], -ac[1]))
        best_acc = cv[_cv_label(best[0], best[1], len(boosts) > 1)]
    a, best_c = best
    w = _fit_bt(boosted(a), best_c)
    eff = scale.copy()
    eff[cols] = eff[cols] / a                  # score = (x / eff) · w, the boost folded into the scale
    head = LinearHead(w=w, scale=eff, meta={"kind": "bradley_terry", "C": best_c, "boost": a,
                                            "cv_accuracy": best_acc, "cv_folds": k, "cv_by_C": cv,
                                            "n_pairs": int(n), "seed": seed, "feature_version": FEATURE_VERSION,
                                            "trainer": TRAINER_VERSION})
    if k >= 2:                                 # the chosen setting's held-out margins, raw and length-controlled
        D = boosted(a)
        oof = {"raw": np.zeros(n), "controlled": np.zeros(n)}
        try:
            lcols = length_columns(D.shape[1], gated)
        except ValueError:                     # not a feature matrix of features.py (synthetic data): no length
            lcols = None
        for (tr, te), wf in zip(splits, fold_w[best]):
            oof["raw"][te] = D[te] @ wf
            if lcols is not None:
                wc = wf.copy()
                wc[lcols] = 0.0
                oof["controlled"][te] = D[te] @ wc
        if lcols is None:
            del oof["controlled"]
        head.oof = oof
    return head


def _cv_label(a: float, C: float, with_boost: bool) -> str:
    return f"boost={a:g},C={C!r}" if with_boost else repr(C)


def _fit_gate(P: np.ndarray, y: np.ndarray, groups: np.ndarray, *, C: float = 1.0, folds: int = 5
             ) -> tuple[Gate, np.ndarray]:
    """A prompt gate (features.Gate): L2 logistic regression of ``y`` (1 = a red-team / harmful-request prompt) on
    the prompt embeddings ``P``. Returns (gate fitted on all rows, cross-fitted gate values of the rows): a head
    trained on in-sample gate values would see them sharper than on new prompts, so its training features use
    the values from folds (grouped by prompt) that did not see the prompt. Deterministic."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    P, y = np.asarray(P, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(np.unique(y)) < 2:
        raise CurationError("a prompt gate needs prompts of both kinds (harmful-request and ordinary)")

    def model() -> Any:
        return LogisticRegression(C=C, max_iter=2000)

    m = model().fit(P, y)
    gate = Gate(w=m.coef_.ravel().astype(np.float64), b=float(m.intercept_[0]))
    vals = np.zeros(len(y))
    k = min(folds, len(np.unique(groups)))
    for tr, te in GroupKFold(n_splits=k).split(P, y, groups=groups):
        if len(np.unique(y[tr])) < 2:
            vals[te] = gate(P[te])
            continue
        f = model().fit(P[tr], y[tr])
        vals[te] = Gate(w=f.coef_.ravel(), b=float(f.intercept_[0]))(P[te])
    return gate, vals


def wilson(k: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson interval of a proportion k/n."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return float(mid - half), float(mid + half)


# ============================================================================================== workspace data
def _norm_prompt(p: str | None) -> str:
    return " ".join((p or "").lower().split())


def _hash(parts: list[str]) -> str:
    h = hashlib.sha1()
    for p in parts:
        h.update(p.encode())
        h.update(b"\0")
    return h.hexdigest()[:10]


def preference_pairs(ws: Any) -> pd.DataFrame:  # Workspace
    """The workspace's usable preference pairs (two non-empty, different replies), by row_id: row_id,
    example_id, content_hash, prompt, chosen, rejected."""
    df = ws.examples(["row_id", "example_id", "kind", "content_hash", "prompt", "chosen", "rejected"])
    df = df[df["kind"] == "preference"]
    ok = [isinstance(c, str) and isinstance(r, str) and c.strip() and r.strip() and c != r
          for c, r in zip(df["chosen"], df["rejected"])]
    return df[np.asarray(ok, dtype=bool)].sort_values("row_id").reset_index(drop=True) if len(df) else df


class _Learned(Scorer):
    """Shared plumbing: the workspace, the embedder, features of (prompt, response) rows."""

    per_reply = True
    non_key_params = frozenset({"seed"})

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._ws: Any = None
        length_mode(self.params)

    def bind(self, ws: Any) -> None:
        self._ws = ws

    def embedder(self):
        model = str(self.params.get("embed_model") or DEFAULT_EMBED_MODEL)
        return workspace_embedder(self._ws, model) if self._ws is not None else plain_embedder(model)

    def features(self, batch: pd.DataFrame, gate: Gate | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(positions of rows with a reply, their feature matrix)."""
        resp, prom = response_texts(batch), prompt_texts(batch)
        idx = np.array([i for i, r in enumerate(resp) if r is not None and r.strip()], dtype=np.int64)
        if not len(idx):
            return idx, np.zeros((0, 0))
        return idx, build_features([prom[i] for i in idx], [resp[i] for i in idx], self.embedder(), gate)

    @property
    def head(self) -> LinearHead:
        raise NotImplementedError

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        """(len(batch),) head scores of each row's reply (higher = preferred; NaN without a reply). Cost: embedding
        the prompts and replies not yet in the workspace's cache (MiniLM: ~10-50 texts/s on a busy CPU core), then
        one matrix product."""
        out = np.full(len(batch), np.nan)
        head = self.head
        idx, X = self.features(batch, head.gate)
        if len(idx):
            out[idx] = head.decision(X, length_mode(self.params))
        return out


def _num(v: Any) -> float | None:
    return None if v is None or v != v else round(float(v), 4)


# ============================================================================================== shipped head
class PrefHeadDefault(_Learned):
    name = "pref_head_default"
    version = 3                     # 3: trainer 2, retrained on the mixed split; 2: gated features
    higher_is_better = True
    defaults = {"weights": None, "embed_model": DEFAULT_EMBED_MODEL, "length": "raw"}
    default_batch = 256             # embedding dominates: a batch takes seconds, so progress moves per batch
    description = ("Reward head shipped with the project: Bradley-Terry on MiniLM embeddings of prompt and reply, "
                   "their interaction, lengths, heuristics and a prompt gate (harmful-looking request) times the reply "
                   "features, trained on public HH-RLHF tranches (helpful-online, helpful-rejection-sampled, 70% of "
                   "harmless-base prompts; scripts/train_default_head.py). Works before any labels. On pairs it never "
                   "saw: 61.0% helpful-base (\"longer reply wins\": 59.8%), 64.2% held-out harmless prompts (43.8%) "
                   "(benchmarks/RESULTS.md, bench_quality). On the 489 of those pairs whose replies are within 20% "
                   "of each other's length: 55.0% (\"longer reply wins\": 50.1%); it picks the longer reply in 58% "
                   "of pairs. length=controlled drops its length features: 58.4% raw, 55.8% length-matched, longer "
                   "reply picked in 50%. pref_head trained on your own pairs can do better "
                   "(59-65% cross-validated on one tranche's pairs).")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._head: LinearHead | None = None

    @property
    def head(self) -> LinearHead:
        if self._head is None:
            self._head = LinearHead.load_npz(self.params["weights"] or DEFAULT_HEAD)
        return self._head

    def key_params(self) -> dict[str, str]:
        out = super().key_params()
        if self.params["weights"]:                 # another weights file: named by its content hash
            out["weights"] = "h" + hashlib.sha1(Path(self.params["weights"]).read_bytes()).hexdigest()[:10]
        return out


def shipped_gate() -> Gate | None:
    """The prompt gate of the shipped head (the workspace head builds the same features with it); None when the
    weights file has none or is missing."""
    try:
        return LinearHead.load_npz(DEFAULT_HEAD).gate
    except CurationError:
        return None


def _gate_id(g: Gate | None) -> str:
    if g is None:
        return "nogate"
    return "gate-" + hashlib.sha1(np.asarray(g.w, dtype=np.float32).tobytes() + repr(round(g.b, 6)).encode()
                                  ).hexdigest()[:8]


def _one_blas_thread(fn: Any) -> Any:
    """Run ``fn`` with BLAS on one thread. These fits multiply small matrices many times; with a busy machine
    (a dashboard, an embedding job) OpenBLAS threads spin waiting for each other: a 1,200-pair head took 38-58 s
    with the default threads and 1-2 s with one, on 2 cores beside two busy processes."""
    import functools

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return run


train_bradley_terry = _one_blas_thread(_train_bradley_terry)
fit_gate = _one_blas_thread(_fit_gate)


# ============================================================================================== workspace head
class PrefHead(_Learned):
    name = "pref_head"
    higher_is_better = True
    defaults = {"embed_model": DEFAULT_EMBED_MODEL, "seed": 0, "train": None, "length": "raw"}
    default_batch = 256
    description = ("Reward head trained on this workspace's own preference pairs (Bradley-Terry, same features as "
                   "pref_head_default, regularisation picked by cross-validation grouped by prompt); scores every "
                   "reply. Its key names a hash of the training pairs; its CV accuracy is its validity, shown with "
                   "its CV agreement on the pairs within 20% of each other's length; length=controlled drops the "
                   "length features.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._head: LinearHead | None = None

    def training_hash(self, pairs: pd.DataFrame) -> str:
        return _hash([f"f{FEATURE_VERSION}", f"bt{TRAINER_VERSION}", str(self.params["embed_model"]),
                      f"seed={self.params['seed']}",
                      _gate_id(self.gate())] + pairs["content_hash"].tolist())

    def gate(self) -> Gate | None:
        """The shipped head's prompt gate when it fits this head's embedding model (same features as
        pref_head_default), else none."""
        from curation.embedding.embed import model_key

        same = model_key(str(self.params["embed_model"])) == model_key(DEFAULT_EMBED_MODEL)
        return shipped_gate() if same else None

    bind_progress: Any = None       # run_scorer sets it: progress(done, total) of embedding the training texts

    def bind(self, ws: Any) -> None:
        super().bind(ws)
        self._head = train_pref_head(ws, self, progress=self.bind_progress)
        self.params["train"] = self._head.meta["train_hash"]

    def key_params(self) -> dict[str, str]:
        out = super().key_params()
        if self.params.get("train"):
            out["train"] = str(self.params["train"])
        return out

    def record(self) -> dict[str, Any]:
        if self._head is None:
            return {}
        m = self._head.meta
        mode = length_mode(self.params)
        lc = (m.get("lc") or {}).get(mode) or {}
        acc = m.get("cv_accuracy") if mode == "raw" else lc.get("lc_raw")
        return {"cv_accuracy": _num(acc), "n_train": int(m.get("n_pairs", 0)),
                "cv_folds": int(m.get("cv_folds", 0)), "longer_wins": _num(m.get("longer_wins")),
                **{k: (_num(v) if isinstance(v, float) else v) for k, v in lc.items()}}

    @property
    def head(self) -> LinearHead:
        if self._head is None:
            raise CurationError("pref_head must be trained on a workspace first (run it with `score pref_head`)")
        return self._head


ARTIFACT_PREFIX = "learned:"


def longer_wins(chosen: list[str], rejected: list[str]) -> float:
    """Share of pairs whose chosen reply is the longer one (characters; ties half): the length rule a learned head
    must beat on the same pairs (when below 50%, "shorter wins" scores 1 minus it)."""
    c = np.array([len(x or "") for x in chosen], dtype=np.float64)
    r = np.array([len(x or "") for x in rejected], dtype=np.float64)
    return float(((c > r).sum() + 0.5 * (c == r).sum()) / len(c)) if len(c) else float("nan")


EMBED_CHUNK = 256   # texts per embedding call while training (one progress step each)


def train_pref_head(ws: Any, sc: PrefHead | None = None, progress: Any = None) -> LinearHead:
    """Train (or reuse) the workspace's preference head. The weights are stored as a JSON artifact under
    ``learned:pref_head:<training hash>``; the same pairs reuse them without training. Raises CurationError (and
    writes nothing) when the workspace has fewer than 2 usable preference pairs. ``progress(done, total)``: called
    after each :data:`EMBED_CHUNK` texts embedded for training (the slow part: texts not yet in the workspace or
    user cache, ~10-50 a second on a busy CPU core), not called when stored weights are reused."""
    sc = sc or PrefHead()
    pairs = preference_pairs(ws)
    if len(pairs) < 2:
        raise CurationError(
            f"pref_head cannot train: the workspace has {len(pairs)} usable preference pair(s) (kind 'preference' "
            "with two different, non-empty replies); it needs at least 2. Ingest a preference dataset (prompt, "
            "chosen, rejected) or use pref_head_default, which needs no labels")
    th = sc.training_hash(pairs)
    akey = f"{ARTIFACT_PREFIX}pref_head:{th}"
    stored = ws.artifact(akey)
    if stored is not None and "lc" in (stored.get("meta") or {}):
        return LinearHead.from_json(stored)      # (weights stored before the length figures existed: retrain)
    emb = workspace_embedder(ws, str(sc.params["embed_model"]))   # stored vectors first, the model only for new texts
    gate = sc.gate()                          # the shipped prompt gate: same features as pref_head_default
    prompts = pairs["prompt"].tolist()
    if progress is not None:                  # embed in chunks first (cached), so the wait shows progress
        from curation.scorers.features import prompt_text, reply_text

        texts = list(dict.fromkeys([prompt_text(p) for p in prompts] + [reply_text(r) for r in pairs["chosen"]]
                                   + [reply_text(r) for r in pairs["rejected"]]))
        progress(0, len(texts))
        for i in range(0, len(texts), EMBED_CHUNK):
            emb(texts[i:i + EMBED_CHUNK])
            progress(min(i + EMBED_CHUNK, len(texts)), len(texts))
    Xc = build_features(prompts, pairs["chosen"].tolist(), emb, gate)
    Xr = build_features(prompts, pairs["rejected"].tolist(), emb, gate)
    groups = np.array([_norm_prompt(p) for p in prompts])
    head = train_bradley_terry(Xc, Xr, groups, seed=int(sc.params["seed"]),
                               boost_cols=text_columns(Xc.shape[1], gate is not None), gated=gate is not None)
    head.gate = gate
    head.meta["longer_wins"] = longer_wins(pairs["chosen"].tolist(), pairs["rejected"].tolist())
    head.meta["lc"] = cv_length_figures(head, pairs["chosen"].tolist(), pairs["rejected"].tolist())
    head.meta.update({"train_hash": th, "example_ids": pairs["example_id"].tolist()[:100000],
                      "embed_model": str(sc.params["embed_model"])})
    ws.put_artifact(akey, head.to_json())
    return head


def cv_length_figures(head: LinearHead, chosen: list[str], rejected: list[str]) -> dict[str, dict[str, Any]]:
    """{mode: flat length-controlled figures (validity.summary: lc_raw, lc_n, lc_matched, lc_n_matched, lc_rule)}
    of a freshly trained head's cross-validated margins (``head.oof``) on its training pairs; {} without them."""
    from curation.scorers.validity import length_controlled, summary

    if not head.oof:
        return {}
    lc_ = np.array([len(x or "") for x in chosen], dtype=np.float64)
    lr_ = np.array([len(x or "") for x in rejected], dtype=np.float64)
    return {mode: summary(length_controlled(m, np.zeros(len(m)), lc_, lr_)) for mode, m in head.oof.items()}


# ============================================================================================== curator model
def curator_labels(ws: Any, keep_tags: tuple[str, ...] = (), drop_tags: tuple[str, ...] = ()) -> pd.DataFrame:
    """row_id, example_id, y (1 keep, 0 drop) from the current pins (include = 1, exclude = 0) and tags (a pin
    wins over a tag; a row with both a keep and a drop tag is left out)."""
    pins = ws.pins()
    lab = {r.row_id: (r.example_id, 1.0 if r.pin == "include" else 0.0) for r in pins.itertuples()}
    if keep_tags or drop_tags:
        tags = ws.tags()
        by_row: dict[int, set[float]] = {}
        ids: dict[int, str] = {}
        for r in tags.itertuples():
            if r.tag in keep_tags or r.tag in drop_tags:
                by_row.setdefault(r.row_id, set()).add(1.0 if r.tag in keep_tags else 0.0)
                ids[r.row_id] = r.example_id
        for rid, ys in by_row.items():
            if rid not in lab and len(ys) == 1:
                lab[rid] = (ids[rid], ys.pop())
    rows = sorted(lab)
    return pd.DataFrame({"row_id": np.array(rows, dtype=np.int64), "example_id": [lab[r][0] for r in rows],
                         "y": np.array([lab[r][1] for r in rows], dtype=np.float64)})


def row_features(ws: Any, model: str = DEFAULT_EMBED_MODEL) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """(row_ids, dense features, examples frame) for the curator model: the stored embedding of each row's
    embedded text plus log lengths and the text heuristics. Only rows with an embedding."""
    from curation.embedding.embed import model_key
    from curation.scorers.features import _heuristics

    rid, V = ws.embeddings(model_key(model))
    if not len(rid):
        raise CurationError(f"curator_model needs embeddings of the rows under {model_key(model)!r}; run `embed` "
                            "first")
    ex = ws.examples(["row_id", "example_id", "kind", "content_hash", "prompt", "response", "chosen"])
    ex = ex.set_index("row_id").loc[rid].reset_index()
    resp = [r or "" for r in response_texts(ex)]
    prom = [p or "" for p in _col(ex, "prompt")]
    lw = np.log1p([len(r.split()) for r in resp])
    lp = np.log1p([len(p.split()) for p in prom])
    T = np.column_stack([lw, lp, lw - lp, _heuristics(prom, resp)])
    return rid, np.hstack([V.astype(np.float64), T]), ex


def check_labels(y: np.ndarray) -> tuple[int, int]:
    """(kept, dropped) counts; CurationError naming the fix when either is zero."""
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if n_pos < 1 or n_neg < 1:
        raise CurationError(f"curator_model cannot train: it needs at least one kept and one dropped row "
                            f"(include / exclude pins or keep / drop tags); found {n_pos} kept and {n_neg} dropped. "
                            "Pin some rows include / exclude on the Inspect, Scores or Select page first")
    return n_pos, n_neg


CURATOR_TEXT_COLS = 3 + len(TEXT_FEATURES[3:10])   # row_features' text block after the embedding
CURATOR_LENGTH_OFFSETS = (0, 2)   # row_features' text block: log reply words, log reply/prompt ratio = reply length


def curator_length_columns(n_cols: int, dim: int) -> np.ndarray:
    """Columns of :func:`row_features` (embedding dimension ``dim``) that carry the reply's length."""
    if n_cols <= dim + max(CURATOR_LENGTH_OFFSETS):
        raise ValueError(f"{n_cols} columns is not a curator feature matrix of an embedding of {dim}")
    return np.array([dim + o for o in CURATOR_LENGTH_OFFSETS], dtype=np.int64)


def neutral_length(model: Any, X: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``X`` with the length columns set to their training mean (the fitted pipeline's scaler): for a linear
    model on standardised features this is the model with those weights set to 0, i.e. length-controlled."""
    Xn = np.array(X, dtype=np.float64, copy=True)
    Xn[:, cols] = model[0].mean_[cols]
    return Xn


def _train_curator(y: np.ndarray, X: np.ndarray, *, seed: int = 0, c_grid: tuple[float, ...] = CURATOR_C_GRID,
                   length: np.ndarray | None = None, length_cols: np.ndarray | None = None
                   ) -> tuple[Any, dict[str, Any]]:
    """Fit a standardised L2 logistic regression (its probabilities are its calibration: log-loss fit, strength
    picked by cross-validated log-loss). Returns (model, meta with CV accuracy / AUC when ≥ 2 per class).
    ``length`` (reply length in characters per label) and ``length_cols``: meta["lc"] also gets the cross-validated
    length-controlled figures (validity.summary of validity.length_controlled_labels: ROC AUC over all and over
    length-matched kept/dropped pairs) of the raw model and of the model with the length columns neutralised."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss, roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n_pos, n_neg = check_labels(y)

    def model(C: float) -> Any:
        return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000, random_state=seed))

    k = min(5, n_pos, n_neg)
    meta: dict[str, Any] = {"n_labels": int(len(y)), "n_keep": n_pos, "n_drop": n_neg, "seed": seed}
    best = c_grid[0]
    if k >= 2:
        skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        res = {}
        for C in c_grid:
            p = np.zeros(len(y))
            for tr, te in skf.split(X, y):
                p[te] = model(C).fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]
            res[C] = (log_loss(y, np.clip(p, 1e-6, 1 - 1e-6)), float(((p > 0.5) == (y == 1)).mean()),
                      float(roc_auc_score(y, p)))
        best = min(c_grid, key=lambda c: (res[c][0], c))
        meta.update({"C": best, "cv_log_loss": res[best][0], "cv_accuracy": res[best][1], "cv_auc": res[best][2],
                     "cv_folds": k})
        if length is not None and length_cols is not None:
            from curation.scorers.validity import length_controlled_labels, summary

            oof = {"raw": np.zeros(len(y)), "controlled": np.zeros(len(y))}
            for tr, te in skf.split(X, y):
                m = model(best).fit(X[tr], y[tr])
                oof["raw"][te] = m.predict_proba(X[te])[:, 1]
                oof["controlled"][te] = m.predict_proba(neutral_length(m, X[te], length_cols))[:, 1]
            meta["lc"] = {}
            for mode, pr in oof.items():
                lc = length_controlled_labels(pr, y, length)
                meta["lc"][mode] = {**summary(lc), "lc_n_pos": n_pos, "lc_n_neg": n_neg,
                                    "cv_accuracy": float(((pr > 0.5) == (y == 1)).mean())}
    else:
        meta.update({"C": best, "cv_accuracy": float("nan"), "cv_auc": float("nan"), "cv_folds": 0})
    return model(best).fit(X, y), meta


train_curator = _one_blas_thread(_train_curator)


class CuratorModel(Scorer):
    name = "curator_model"
    higher_is_better = True
    corpus_level = True
    defaults = {"embed_model": DEFAULT_EMBED_MODEL, "keep_tags": "", "drop_tags": "", "seed": 0, "labels": None,
                "length": "raw"}
    non_key_params = frozenset({"seed"})
    description = ("P(the curator keeps this row), in [0, 1]: logistic classifier on the curator's include / exclude "
                   "pins (and keep / drop tags) over the row embeddings and text features; retrains in seconds when "
                   "the labels change (its key names a hash of them). Its CV accuracy on the pins is its validity, "
                   "with its CV ROC AUC over all and over length-matched kept/dropped rows; length=controlled drops "
                   "the reply-length features. `propose` lists rows to judge next: least sure, spread out.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.meta: dict[str, Any] = {}
        self._ws: Any = None
        length_mode(self.params)
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def tags(self, which: str) -> tuple[str, ...]:
        v = self.params.get(which) or ""
        return tuple(t.strip() for t in (v if isinstance(v, (list, tuple)) else str(v).split(",")) if t.strip())

    def bind(self, ws: Any) -> None:
        self._ws = ws
        lab = curator_labels(ws, self.tags("keep_tags"), self.tags("drop_tags"))
        check_labels(lab["y"].to_numpy())             # the missing labels are the first thing to say
        rid, X, ex = row_features(ws, str(self.params["embed_model"]))
        pos = pd.Series(np.arange(len(rid)), index=rid)
        lab = lab[lab["row_id"].isin(pos.index)]
        y = lab["y"].to_numpy()
        ch = dict(zip(ex["row_id"], ex["content_hash"]))
        self.params["labels"] = _hash([f"{r}:{ch[r]}:{int(v)}" for r, v in zip(lab["row_id"], y)]
                                      + [str(self.params["embed_model"])])
        at = pos.loc[lab["row_id"]].to_numpy()
        dim = X.shape[1] - CURATOR_TEXT_COLS
        cols = curator_length_columns(X.shape[1], dim)
        reply_chars = np.array([len(r or "") for r in response_texts(ex)], dtype=np.float64)
        model, self.meta = train_curator(y, X[at], seed=int(self.params["seed"]), length=reply_chars[at],
                                         length_cols=cols)
        Xs = neutral_length(model, X, cols) if length_mode(self.params) == "controlled" else X
        self._cache = (rid, model.predict_proba(Xs)[:, 1])
        self.meta.update({"labels_hash": self.params["labels"], "n_rows": int(len(rid))})

    def record(self) -> dict[str, Any]:
        m = self.meta
        if not m:
            return {}
        lc = dict((m.get("lc") or {}).get(length_mode(self.params)) or {})
        acc = lc.pop("cv_accuracy", m.get("cv_accuracy"))
        return {"cv_accuracy": _num(acc), "cv_auc": _num(lc.get("lc_raw", m.get("cv_auc"))),
                "n_train": int(m.get("n_labels", 0)),
                **{k: (_num(v) if isinstance(v, float) else v) for k, v in lc.items()}}

    def key_params(self) -> dict[str, str]:
        out = super().key_params()
        if self.params.get("labels"):
            out["labels"] = str(self.params["labels"])
        return out

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        if self._cache is None:
            raise CurationError("curator_model must be bound to a workspace (run it with `score curator_model`)")
        rid, p = self._cache
        m = pd.Series(p, index=rid)
        return m.reindex(batch["row_id"].to_numpy()).to_numpy(dtype=np.float64)


PROPOSAL_POOL = 5   # proposals are spread out among the POOL × n rows the curator model is least sure about


def propose_rows(ws: Any, n: int = 20, **params: Any) -> pd.DataFrame:
    """``n`` unpinned rows to judge next: among the ``PROPOSAL_POOL × n`` rows the curator model is least sure
    about (P(keep) closest to 0.5), a spread-out set (farthest-first from the pinned rows and each other in
    embedding space), listed least sure first: row_id, example_id, p_keep. Trains the model on the current labels
    (seconds)."""
    sc = CuratorModel(**params)
    sc.bind(ws)
    return proposals(ws, sc, n)


def pick_proposals(p: np.ndarray, E: np.ndarray, E_pinned: np.ndarray, n: int, pool: int = PROPOSAL_POOL
                   ) -> np.ndarray:
    """Positions (into ``p``) of ``n`` rows to judge next: the ``pool × n`` least sure (|p − 0.5| smallest, ties by
    position), then farthest-first by cosine distance (``E``, ``E_pinned``: unit row vectors) from the pinned rows
    and the rows already picked, so a batch does not spend its judgements on near-copies; returned least sure
    first. On Dolly 3k this lifted the ROC AUC after 20 and 50 pins (bench_curator). Deterministic."""
    order = np.lexsort((np.arange(len(p)), np.abs(p - 0.5)))
    cand = order[: max(n, pool * n)]
    if len(cand) <= n:
        return cand
    Ec = E[cand]
    d = (1.0 - (Ec @ E_pinned.T).max(axis=1)) if len(E_pinned) else np.full(len(cand), np.inf)
    picked: list[int] = []
    for _ in range(n):
        j = int(np.argmax(d))               # first of equals: the least sure (cand is in that order)
        picked.append(j)
        d = np.minimum(d, 1.0 - Ec @ Ec[j])
        d[picked] = -np.inf
    return cand[np.sort(np.array(picked))]


def proposals(ws: Any, sc: CuratorModel, n: int = 20) -> pd.DataFrame:
    """:func:`propose_rows` from an already trained (bound) curator model."""
    from curation.embedding.embed import model_key

    if sc._cache is None:
        raise CurationError("curator_model must be bound to a workspace before it proposes rows")
    rid, p = sc._cache
    pinned = set(ws.pins()["row_id"].tolist())
    free = np.array([r not in pinned for r in rid])
    erid, U = ws.embeddings(model_key(str(sc.params["embed_model"])))     # stored L2-normalised
    pos = pd.Series(np.arange(len(erid)), index=erid)
    pin_rows = [r for r in rid if r in pinned]
    at = pick_proposals(p[free], U[pos.loc[rid[free]].to_numpy()], U[pos.loc[pin_rows].to_numpy()], n)
    at = at[np.lexsort((rid[free][at], np.abs(p[free][at] - 0.5)))]          # least sure first
    ids = ws.examples(["row_id", "example_id"]).set_index("row_id")["example_id"]
    r = rid[free][at]
    return pd.DataFrame({"row_id": r, "example_id": ids.reindex(r).to_numpy(), "p_keep": p[free][at]})
