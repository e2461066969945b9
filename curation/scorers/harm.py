"""Harmful-request / toxicity risk of a prompt and of each reply: a logistic head over MiniLM embeddings.

* :class:`HarmPrompt` (``harm_prompt``): P(the prompt is a harmful / toxic request), in [0, 1], higher = riskier;
  NaN where a row has no prompt.
* :class:`HarmReply` (``harm_reply``): the same head applied to the reply (``response``, the chosen reply of a
  preference pair, the rejected one under ``harm_reply@rejected``); NaN where a row has no reply. The head was
  trained on prompts, so on replies it reads "talks like a harmful request / toxic text"; its validity on replies
  is measured separately (HH-RLHF harmless-base pairs: is the rejected reply scored riskier?).

Both are slice scorers (``slice = True``, stored kind ``score``): their stored params carry ``threshold`` (the
operating point chosen on out-of-fold training predictions) and the measured validity (``auc``, ``auc_lo``,
``auc_hi``, ``auc_n``, ``validity``), so the Scores page and the audit print them beside the score, and the audit
reads ``value >= threshold`` as the binary slice "flagged".

Weights: ``weights/harm_head_v1.npz`` (numpy arrays + JSON meta, loaded with ``allow_pickle=False``), trained by
``scripts/train_harm_head.py`` on permissively licensed public data only (HH-RLHF, XSTest, OASST, self-instruct,
MT-Bench); ToxicChat (CC-BY-NC) is used to measure, never to train. Cost: one MiniLM embedding per distinct text
(cached in the workspace by text hash; the preference head embeds the same prompt text, so a workspace scored by
``pref_head_default`` embeds nothing new for ``harm_prompt``) and a 384-wide dot product.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.scorers.base import Scorer, prompt_texts, response_texts

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
HARM_HEAD = WEIGHTS_DIR / "harm_head_v1.npz"
HARM_VERSION = 1
DEFAULT_EMBED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
REPLY_VALIDITY = ("on replies near chance: of 300 HH-RLHF harmless-base pairs (prompts the head never trained on) "
                  "it scores the rejected reply riskier in 53% [47-59], and flags about half of both replies")
"""Measured once (scripts/train_harm_head.py's weights, MiniLM): the harm head read on replies."""
RECORD_KEYS = frozenset({"threshold", "validity", "auc", "auc_lo", "auc_hi", "auc_n", "auc_source",
                         "xstest_safe_fpr"})


# ---------------------------------------------------------------------------------------------- measurement
def auc_interval(y: np.ndarray, s: np.ndarray, *, n_boot: int = 1000, seed: int = 0) -> dict[str, float]:
    """ROC AUC of scores ``s`` (higher = more positive) against binary ``y``, with a 95% percentile bootstrap
    interval over rows (``n_boot`` resamples, seeded): {"auc", "lo", "hi", "n"}. Rows with a NaN score are
    dropped. Cost: n_boot rank computations of n rows (1,000 × 3k rows ≈ 1 s)."""
    from scipy.stats import rankdata

    y = np.asarray(y, dtype=np.float64)
    s = np.asarray(s, dtype=np.float64)
    ok = ~np.isnan(s)
    y, s = y[ok], s[ok]
    if len(np.unique(y)) < 2:
        raise CurationError(f"ROC AUC needs both classes; got {len(y)} rows of one class")

    def auc(yy: np.ndarray, ss: np.ndarray) -> float:
        npos = yy.sum()
        nneg = len(yy) - npos
        if npos == 0 or nneg == 0:
            return float("nan")
        r = rankdata(ss)
        return float((r[yy == 1].sum() - npos * (npos + 1) / 2) / (npos * nneg))

    rng = np.random.default_rng(seed)
    boots = np.array([auc(y[i], s[i]) for i in (rng.integers(0, len(y), len(y)) for _ in range(n_boot))])
    boots = boots[~np.isnan(boots)]
    return {"auc": round(auc(y, s), 4), "lo": round(float(np.percentile(boots, 2.5)), 4),
            "hi": round(float(np.percentile(boots, 97.5)), 4), "n": int(len(y))}


def youden_threshold(y: np.ndarray, s: np.ndarray) -> float:
    """The score cut maximising TPR − FPR (Youden's J) for ``s >= cut``; ties: the highest such cut."""
    from sklearn.metrics import roc_curve

    fpr, tpr, thr = roc_curve(np.asarray(y), np.asarray(s))
    j = tpr - fpr
    best = np.flatnonzero(j == j.max())[0]
    return float(thr[best]) if np.isfinite(thr[best]) else float(np.max(s))


def profanity_prob(texts: list[str]) -> np.ndarray:
    """alt-profanity-check's P(offensive) per text ((n,) float64 in [0, 1]); a linear SVM over word n-grams that
    ships with the package (offline). Cost: ~20 µs per short text."""
    if not texts:
        return np.zeros(0)
    try:
        from profanity_check import predict_prob
    except ImportError as e:  # not a dependency: the shipped head does not use it
        raise CurationError("this harm head uses alt-profanity-check; install it: "
                            "pip install alt-profanity-check==1.9.1") from e
    return np.asarray(predict_prob([t or "" for t in texts]), dtype=np.float64)


# ---------------------------------------------------------------------------------------------- the head
def load_harm_head(path: str | Path | None = None) -> Any:  # learned.LinearHead
    """The harm head's weights (default: the shipped ``harm_head_v1.npz``)."""
    from curation.scorers.learned import LinearHead

    p = Path(path) if path else HARM_HEAD
    if not p.is_file():
        raise CurationError(f"harm head weights {p} not found; reinstall the project or retrain with "
                            "scripts/train_harm_head.py")
    return LinearHead.load_npz(p)


def validity_text(meta: dict[str, Any]) -> str:
    """One sentence on the head's measured validity, from its meta (what the Scores page and the audit show)."""
    ev = meta.get("eval") or {}
    tc, xs = ev.get("toxicchat") or {}, ev.get("xstest_heldout") or {}
    if not tc:
        return "not measured"
    out = (f"ROC AUC {tc['auc']:.3f} [{tc['lo']:.3f}-{tc['hi']:.3f}] on {tc['n']:,} ToxicChat prompts "
           f"(human toxicity labels; never trained on)")
    if xs:
        out += (f"; at threshold {meta.get('threshold', float('nan')):.2f} it flags {100 * xs['safe_fpr']:.0f}% of "
                f"{xs['n_safe']} held-out XSTest safe-but-scary prompts and {100 * xs['unsafe_recall']:.0f}% of "
                f"{xs['n_unsafe']} unsafe ones")
    return out


def harm_label(name: str) -> str | None:
    """Short validity label of a harm scorer for the scorer table ("ROC AUC 0.877 [0.861-0.893], ToxicChat"),
    None for other names or without weights."""
    if name not in ("harm_prompt", "harm_reply") or not HARM_HEAD.is_file():
        return None
    tc = (load_harm_head().meta.get("eval") or {}).get("toxicchat")
    if not tc:
        return None
    what = "ToxicChat prompts" if name == "harm_prompt" else "prompts; replies ~chance"
    return f"ROC AUC {tc['auc']:.3f} [{tc['lo']:.3f}-{tc['hi']:.3f}], {what}"


class _Harm(Scorer):
    """Shared plumbing of the two harm scorers: weights, embedder, probabilities of texts."""

    slice: ClassVar[bool] = True
    column_kind: ClassVar[str] = "score"
    higher_is_better = False
    version = HARM_VERSION
    defaults = {"weights": None, "embed_model": DEFAULT_EMBED_MODEL}
    default_batch = 512

    def __init__(self, **params: Any) -> None:
        # facts that record() stores beside the parameters (a manifest carries them back): not parameters
        super().__init__(**{k: v for k, v in params.items() if k not in RECORD_KEYS})
        self._ws: Any = None
        self._head: Any = None

    @property
    def head(self) -> Any:
        if self._head is None:
            self._head = load_harm_head(self.params["weights"])
            want = str(self._head.meta.get("embed_model") or DEFAULT_EMBED_MODEL)
            if want != str(self.params["embed_model"]):
                raise CurationError(f"the harm head {self.params['weights'] or HARM_HEAD} was trained on {want!r} "
                                    f"embeddings, not {self.params['embed_model']!r}; keep embed_model at its "
                                    "default or retrain")
        return self._head

    def key_params(self) -> dict[str, str]:
        out = super().key_params()
        if self.params["weights"]:                 # another weights file: named by its content hash
            out["weights"] = "h" + hashlib.sha1(Path(self.params["weights"]).read_bytes()).hexdigest()[:10]
        return out

    def bind(self, ws: Any) -> None:
        self._ws = ws

    def record(self) -> dict[str, Any]:
        m = self.head.meta
        tc = (m.get("eval") or {}).get("toxicchat") or {}
        out: dict[str, Any] = {"threshold": m.get("threshold"), "validity": validity_text(m)}
        if tc:
            out.update({"auc": tc["auc"], "auc_lo": tc["lo"], "auc_hi": tc["hi"], "auc_n": tc["n"],
                        "auc_source": "ToxicChat human toxicity labels (held out: never trained on)"})
        xs = (m.get("eval") or {}).get("xstest_heldout") or {}
        if xs:
            out["xstest_safe_fpr"] = xs["safe_fpr"]
        return out

    def embedded(self, text: str) -> str:
        """The part of a text that is embedded (the preference head embeds the same, so its vectors are reused)."""
        from curation.scorers.features import prompt_text

        return prompt_text(text)

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """P(harmful request) per text, (n,) float64 in [0, 1]."""
        from curation.scorers.features import plain_embedder, workspace_embedder

        if not texts:
            return np.zeros(0)
        model = str(self.params["embed_model"])
        emb = workspace_embedder(self._ws, model) if self._ws is not None else plain_embedder(model)
        X = np.asarray(emb([self.embedded(t) for t in texts]), dtype=np.float64)
        if "profanity" in (self.head.meta.get("features") or []):
            X = np.column_stack([X, profanity_prob(texts)])
        return 1.0 / (1.0 + np.exp(-np.clip(self.head.decision(X), -50, 50)))

    def texts(self, batch: pd.DataFrame) -> list[str | None]:
        raise NotImplementedError

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        out = np.full(len(batch), np.nan)
        texts = self.texts(batch)
        idx = [i for i, t in enumerate(texts) if t is not None and t.strip()]
        if idx:
            out[idx] = self.probabilities([texts[i] for i in idx])  # type: ignore[misc]
        return out


class HarmPrompt(_Harm):
    name = "harm_prompt"
    description = ("P(the prompt is a harmful / toxic request), 0-1, higher = riskier: a logistic head over the "
                   "prompt's MiniLM embedding, trained on public HH-RLHF red-team vs helpful prompts, XSTest and "
                   "ordinary instructions (scripts/train_harm_head.py). ROC AUC 0.877 [0.861-0.893] on 2,801 "
                   "ToxicChat prompts it never trained on (the preference head's prompt gate: 0.819); flags 35% of "
                   "XSTest's held-out safe-but-scary prompts. Threshold and AUC are stored with the score (params). "
                   "A slice: value >= threshold = flagged.")

    def texts(self, batch: pd.DataFrame) -> list[str | None]:
        return prompt_texts(batch)


class HarmReply(_Harm):
    name = "harm_reply"
    per_reply = True
    description = ("The harm head of harm_prompt applied to each reply (chosen; the rejected reply under "
                   "harm_reply@rejected): 0-1, higher = the reply talks about harmful topics. Trained on prompts: "
                   "on HH-RLHF harmless pairs it tells the rejected reply from the chosen one near chance (53% of "
                   "300), so it marks topic, not whether a reply complied.")

    def texts(self, batch: pd.DataFrame) -> list[str | None]:
        return response_texts(batch)

    def embedded(self, text: str) -> str:
        from curation.scorers.features import reply_text

        return reply_text(text)

    def record(self) -> dict[str, Any]:
        out = super().record()
        out["validity"] = (REPLY_VALIDITY + "; on prompts: " + str(out.get("validity", "not measured")))
        return out


HARM_SCORERS: tuple[type[Scorer], ...] = (HarmPrompt, HarmReply)
