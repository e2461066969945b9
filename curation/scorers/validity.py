"""Measured validity of each quality scorer: how often it prefers the reply humans preferred.

Agreement on HH-RLHF test pairs (share of pairs where the scorer ranks the chosen reply above the rejected one;
ties half; 50% = chance), with the number of pairs and a 95% interval, from ``benchmarks/bench_scorers.py`` (text
heuristics, Ask-LLM, IFD) and ``benchmarks/bench_quality.py`` (learned heads, on tranches / prompts they never saw).
Scorers trained in the workspace (``pref_head``, ``curator_model``) carry their own cross-validated accuracy in
their stored parameters (``cv_accuracy``, ``n_train``), which is used instead.

A score whose agreement is within :data:`NEAR_CHANCE` of 50% is "near chance": selecting by it is selecting by
noise, and :func:`score_warnings` says so wherever a selection consumes it. A workspace head that does not beat the
better length rule ("longer / shorter reply wins") on its own pairs is flagged the same way: it adds nothing over
the reply length.
"""
from __future__ import annotations

import json
import math
from typing import Any

NEAR_CHANCE = 0.05

#: name -> (agreement, pairs, what it was measured on). Numbers from benchmarks/RESULTS.md.
MEASURED: dict[str, tuple[float, int, str]] = {
    "response_length": (0.523, 8550, "HH-RLHF test pairs, all tranches"),
    "response_prompt_ratio": (0.523, 8550, "HH-RLHF test pairs, all tranches"),
    "ngram_repetition": (0.493, 8550, "HH-RLHF test pairs, all tranches"),
    "non_alpha_share": (0.509, 8539, "HH-RLHF test pairs, all tranches"),
    "empty": (0.500, 8550, "HH-RLHF test pairs, all tranches"),
    "truncated": (0.509, 8539, "HH-RLHF test pairs, all tranches"),
    "refusal": (0.499, 8550, "HH-RLHF test pairs, all tranches"),
    "ai_disclaimer": (0.500, 8550, "HH-RLHF test pairs, all tranches"),
    "prompt_copy": (0.497, 8086, "HH-RLHF test pairs, all tranches"),
    "lexical_diversity": (0.476, 6823, "HH-RLHF test pairs, all tranches"),
    "askllm": (0.500, 206, "short HH-RLHF test pairs, packaged SmolLM2-135M"),
    "ifd": (0.560, 298, "short HH-RLHF test pairs, packaged SmolLM2-135M"),
}


def _interval(acc: float, n: int) -> tuple[float, float]:
    if n <= 0 or acc != acc:
        return float("nan"), float("nan")
    z = 1.96
    den = 1 + z * z / n
    mid = (acc + z * z / (2 * n)) / den
    half = z * math.sqrt(acc * (1 - acc) / n + z * z / (4 * n * n)) / den
    return mid - half, mid + half


def _params(params: dict[str, Any] | str | None) -> dict[str, Any]:
    """A stored score's params as a dict (score_defs keeps them as JSON text); {} when absent or unreadable."""
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError:
            return {}
    return dict(params) if isinstance(params, dict) else {}


def length_rule(longer_wins: float) -> tuple[str, float]:
    """The better length rule on pairs where the chosen reply is the longer one in ``longer_wins`` of them:
    ("longer reply wins", share) or ("shorter reply wins", 1 − share)."""
    return ("longer reply wins", longer_wins) if longer_wins >= 0.5 else ("shorter reply wins", 1.0 - longer_wins)


def validity(name: str, params: dict[str, Any] | str | None = None) -> dict[str, Any] | None:
    """{"agreement", "n", "lo", "hi", "source"} for a scorer (by registry name, or a stored score's name and
    params, a dict or its stored JSON text), or None when it has no measured validity (not a quality score, or
    never measured)."""
    params = _params(params)
    base = name.split("@", 1)[0]
    if params.get("cv_accuracy") is not None and str(params.get("cv_accuracy")) not in ("nan", "None"):
        acc, n = float(params["cv_accuracy"]), int(params.get("n_train") or 0)
        lo, hi = _interval(acc, n)
        what = "pairs" if base.startswith("pref_head") else "pinned rows"
        out = {"agreement": acc, "n": n, "lo": lo, "hi": hi,
               "source": f"cross-validated on this workspace's {n} {what}"}
        lw = params.get("longer_wins")
        if lw is not None and str(lw) not in ("nan", "None"):
            out["length_rule"] = length_rule(float(lw))
        return out
    if base in MEASURED and not (base in ("askllm", "ifd") and params.get("model")):
        acc, n, src = MEASURED[base]
    elif base == "pref_head_default" and not params.get("weights"):
        from curation.scorers.learned import default_head_validity

        got = default_head_validity()
        if got is None:
            return None
        acc, n, src = got
    else:
        return None
    lo, hi = _interval(acc, n)
    return {"agreement": acc, "n": n, "lo": lo, "hi": hi, "source": src}


def label(v: dict[str, Any] | None) -> str:
    """"56.0% of 298 [50-62]" (or "not measured"): one decimal, so a figure near a threshold is not rounded
    across it."""
    if not v:
        return "not measured"
    return f"{100 * v['agreement']:.1f}% of {v['n']:,} [{100 * v['lo']:.0f}-{100 * v['hi']:.0f}]"


def near_chance(v: dict[str, Any] | None) -> bool:
    return bool(v) and abs(float(v["agreement"]) - 0.5) < NEAR_CHANCE  # type: ignore[index]


def no_better_than_length(v: dict[str, Any] | None) -> bool:
    """A learned head whose cross-validated agreement does not beat the better length rule ("longer reply wins" or
    "shorter reply wins") on the same pairs by :data:`LENGTH_MARGIN`: it adds nothing over the reply length."""
    if not v or "length_rule" not in v:
        return False
    return float(v["agreement"]) < float(v["length_rule"][1]) + LENGTH_MARGIN


LENGTH_MARGIN = 0.01


def weakness(v: dict[str, Any] | None) -> str | None:
    """Why a score should not rank by quality (near chance, or no better than the length rule), or None."""
    if not v:
        return None
    if near_chance(v):
        return f"near chance as a quality signal (prefers the human-preferred reply in {label(v)}; {v['source']})"
    if no_better_than_length(v):
        rule, acc = v["length_rule"]
        return (f"no better than the length rule: {label(v)} ({v['source']}) against {100 * acc:.1f}% for "
                f"\"{rule}\" on the same pairs")
    return None


def score_warnings(ws: Any, keys: list[str]) -> list[str]:  # Workspace
    """One sentence per score key whose measured validity is near chance (selecting by it is selecting by noise) or,
    for a workspace head, no better than the length rule on its own pairs (selecting by it is selecting by length).
    """
    defs = ws.score_defs().set_index("key")
    out = []
    for k in keys:
        if k not in defs.index:
            continue
        v = validity(str(defs.at[k, "name"]), defs.at[k, "params"])
        why = weakness(v)
        if why is None:
            continue
        advice = ("a selection by it is close to random. Use it as a defect flag, or rank by pref_head_default / "
                  "pref_head / curator_model" if near_chance(v) else
                  "a selection by it is a selection by reply length. Rank by response_length (or its reverse) "
                  "instead, or add pairs that disagree with length")
        out.append(f"score {k!r} is {why}: {advice}")
    return out
