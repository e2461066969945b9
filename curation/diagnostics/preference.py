"""Preference-pair diagnostics: refusal share, chosen/rejected length bias and the mix of preference types.

Per-row features are computed once per pool (:func:`preference_features`); a subset's figures are masked sums,
O(n) per report. Refusals are found with a phrase heuristic (:data:`REFUSAL_RE`) on the first 400 characters of a
reply; it is meant for shares, not for judging one reply.

Preference types are whatever tells tranches apart (by default the dataset each pair came from, e.g. HH-RLHF's
``harmless-base`` vs ``helpful-base``). Helpful and harmless preference data are known to pull against each other
when mixed (Bai et al., 2022), so a shift in their ratio is reported.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from curation.diagnostics.classes import class_alerts, class_table, encode_labels, js_divergence

REFUSAL_RE = re.compile(
    r"\b(?:I(?:'m| am) (?:sorry|afraid|not (?:able|comfortable|going) to|unable to)|I apologi[sz]e|"
    r"I (?:can(?:no|')t|won't|will not|must decline|do not feel comfortable|don't feel comfortable|refuse)|"
    r"as an (?:AI|artificial intelligence)(?: language model)?|I'm just an AI|"
    r"(?:it|that) (?:is|would be) (?:not appropriate|inappropriate|unethical|illegal)|"
    r"I (?:don't|do not) think (?:I should|it'?s appropriate))",
    re.IGNORECASE)

METRICS = ("n_pairs", "chosen_refusal_share", "rejected_refusal_share", "chosen_longer_share",
           "mean_length_diff_words", "mean_chosen_words", "mean_rejected_words")


def is_refusal(text: str | None) -> bool:
    """True when the start of ``text`` reads as a refusal (heuristic, English)."""
    return bool(text) and REFUSAL_RE.search(text[:400]) is not None


def _words(t: object) -> float:
    return float(len(t.split())) if isinstance(t, str) else np.nan


def preference_features(chosen: Sequence[str | None], rejected: Sequence[str | None],
                        types: Sequence[object] | None = None) -> pd.DataFrame:
    """Per-row features (n rows): is_pair, chosen_words, rejected_words, chosen_refusal, rejected_refusal, type.

    A row is a pair when both replies are strings; other rows get NaN features. O(total text length)."""
    ch = list(chosen)
    rj = list(rejected)
    is_pair = np.array([isinstance(a, str) and isinstance(b, str) for a, b in zip(ch, rj)], dtype=bool)
    cw = np.array([_words(a) if p else np.nan for a, p in zip(ch, is_pair)], dtype=np.float64)
    rw = np.array([_words(b) if p else np.nan for b, p in zip(rj, is_pair)], dtype=np.float64)
    cr = np.array([float(is_refusal(a)) if p else np.nan for a, p in zip(ch, is_pair)], dtype=np.float64)
    rr = np.array([float(is_refusal(b)) if p else np.nan for b, p in zip(rj, is_pair)], dtype=np.float64)
    t = list(types) if types is not None else [None] * len(ch)
    return pd.DataFrame({"is_pair": is_pair, "chosen_words": cw, "rejected_words": rw, "chosen_refusal": cr,
                         "rejected_refusal": rr, "type": t})


class PreferenceIndex:
    """Pool-level preference features and summaries. features: the output of :func:`preference_features`,
    aligned with the pool rows. Memory O(n)."""

    def __init__(self, features: pd.DataFrame) -> None:
        f = features
        self.is_pair = f["is_pair"].to_numpy(bool)
        self.pair_pos = np.flatnonzero(self.is_pair)
        p = self.pair_pos
        self.cw = f["chosen_words"].to_numpy(np.float64)[p]
        self.rw = f["rejected_words"].to_numpy(np.float64)[p]
        self.cr = f["chosen_refusal"].to_numpy(np.float64)[p]
        self.rr = f["rejected_refusal"].to_numpy(np.float64)[p]
        types = f["type"].to_numpy(object)[p]
        self.has_types = bool(pd.Series(types).notna().any())
        self.type_codes, self.type_names = encode_labels(types)
        self.pool = self._summary(np.ones(len(p), dtype=bool))
        self.pool_type_counts = np.bincount(self.type_codes, minlength=len(self.type_names))

    def _summary(self, m: np.ndarray) -> dict[str, float]:
        k = int(m.sum())
        if k == 0:
            return {"n_pairs": 0, **{x: np.nan for x in METRICS[1:]}}
        cw, rw = self.cw[m], self.rw[m]
        return {"n_pairs": k, "chosen_refusal_share": float(self.cr[m].mean()),
                "rejected_refusal_share": float(self.rr[m].mean()),
                "chosen_longer_share": float(np.mean(cw > rw)), "mean_length_diff_words": float(np.mean(cw - rw)),
                "mean_chosen_words": float(cw.mean()), "mean_rejected_words": float(rw.mean())}

    def report(self, mask: np.ndarray) -> dict:
        """{"summary": DataFrame(metric, pool, subset, change), "types": class table of preference types,
        "types_js_divergence": float}. O(n)."""
        m = mask[self.pair_pos]
        sub = self._summary(m)
        summary = pd.DataFrame({"metric": list(METRICS), "pool": [self.pool[x] for x in METRICS],
                                "subset": [sub[x] for x in METRICS]})
        summary["change"] = summary["subset"] - summary["pool"]
        sub_types = np.bincount(self.type_codes[m], minlength=len(self.type_names))
        types = class_table(self.type_names, self.pool_type_counts, sub_types)
        return {"summary": summary, "types": types,
                "types_js_divergence": js_divergence(self.pool_type_counts, sub_types) if self.has_types
                else float("nan")}


def preference_alerts(rep: dict, *, min_abs: float = 0.03, min_ratio: float = 1.5, length_pp: float = 0.10,
                      mix_pp: float = 0.10) -> list[str]:
    """Plain-language alerts for refusal share, length bias and preference-type mix shifts."""
    s = rep["summary"].set_index("metric")
    if s.loc["n_pairs", "subset"] == 0:
        return []
    out = []
    for which in ("chosen", "rejected"):
        p, q = s.loc[f"{which}_refusal_share", "pool"], s.loc[f"{which}_refusal_share", "subset"]
        if abs(q - p) >= min_abs and (q >= min_ratio * p or p >= min_ratio * q):
            out.append(f"refusals make up {q:.0%} of {which} responses in the selection against {p:.0%} in the pool")
    p, q = s.loc["chosen_longer_share", "pool"], s.loc["chosen_longer_share", "subset"]
    if abs(q - p) >= length_pp:
        out.append(f"length bias shifts: the chosen response is the longer one in {q:.0%} of selected pairs against "
                   f"{p:.0%} in the pool (mean chosen - rejected: {s.loc['mean_length_diff_words', 'subset']:+.0f} vs "
                   f"{s.loc['mean_length_diff_words', 'pool']:+.0f} words); a reward model may learn length")
    types = rep["types"]
    if len(types) > 1:
        out += class_alerts(types, what="preference type")
        low = types["label"].str.lower()
        harmless, helpful = low.str.contains("harmless"), low.str.contains("helpful") & ~low.str.contains("harmless")
        if harmless.any() and helpful.any():
            def share(col: str) -> float:
                a, b = types.loc[harmless, col].sum(), types.loc[helpful, col].sum()
                return a / (a + b) if a + b > 0 else np.nan
            hp, hs = share("pool_count"), share("subset_count")
            if np.isfinite(hp) and np.isfinite(hs) and abs(hs - hp) >= mix_pp:
                out.append(f"the helpful:harmless mix shifts from {1 - hp:.0%}:{hp:.0%} in the pool to "
                           f"{1 - hs:.0%}:{hs:.0%} in the selection; the two pull against each other when mixed "
                           "(Bai et al. 2022), so check the ratio is intended")
    return out
