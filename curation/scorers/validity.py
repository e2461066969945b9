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
from pathlib import Path
from typing import Any

import numpy as np

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

#: name -> (length-matched agreement, pairs): HH-RLHF test pairs whose replies are within 20% of each other's length,
#: among 400 seeded pairs per tranche (benchmarks/bench_quality.py --length, "Text heuristics").
MEASURED_MATCHED: dict[str, tuple[float, int]] = {
    "response_length": (0.473, 346), "response_prompt_ratio": (0.473, 346), "ngram_repetition": (0.525, 346),
    "non_alpha_share": (0.483, 346), "empty": (0.500, 346), "truncated": (0.517, 346), "refusal": (0.497, 346),
    "ai_disclaimer": (0.499, 346), "prompt_copy": (0.494, 336), "lexical_diversity": (0.487, 317),
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
        lc = _from_params(params, base)
        if lc is not None:
            out["length"] = lc
        return out
    lc = None
    if base in MEASURED and not (base in ("askllm", "ifd") and params.get("model")):
        acc, n, src = MEASURED[base]
        if base in MEASURED_MATCHED:
            ma, mn = MEASURED_MATCHED[base]
            lo, hi = _interval(ma, mn)
            raw_lo, raw_hi = _interval(acc, n)
            lc = {"raw": {"agreement": acc, "n": n, "lo": raw_lo, "hi": raw_hi},
                  "matched": {"agreement": ma, "n": mn, "lo": lo, "hi": hi}, "strata": [], "rule": None,
                  "unit": "pairs"}
    elif base == "pref_head_default" and not params.get("weights"):
        got = default_head_validity(length=params.get("length") or "raw")
        if got is None:
            return None
        acc, n, src = got
        lc = default_head_length(length=params.get("length") or "raw")
    else:
        return None
    lo, hi = _interval(acc, n)
    out = {"agreement": acc, "n": n, "lo": lo, "hi": hi, "source": src}
    if lc is not None:
        out["length"] = lc
    return out


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
    why = mostly_length(v)
    if why:
        return f"{why}; {label(v)} overall ({v['source']})"
    return None


def score_warnings(ws: Any, keys: list[str]) -> list[str]:  # Workspace
    """One sentence per score key whose measured validity is near chance (selecting by it is selecting by noise),
    or that is mostly length (:func:`mostly_length`: measured, cross-validated, or on this workspace's own
    preference pairs; selecting by it is selecting by length)."""
    defs = ws.score_defs().set_index("key")
    out = []
    for k in keys:
        if k not in defs.index:
            continue
        v = validity(str(defs.at[k, "name"]), defs.at[k, "params"])
        why, noise = weakness(v), near_chance(v)
        if why is None:                        # this workspace's own pairs may still show that it is length
            own = mostly_length({"length": workspace_length_check(ws, k)})
            if own is None:
                continue
            why, noise = f"{own} on this workspace's preference pairs", False
        advice = ("a selection by it is close to random. Use it as a defect flag, or rank by pref_head_default / "
                  "pref_head / curator_model" if noise else
                  "a selection by it is a selection by reply length. Rank by response_length (or its reverse) "
                  "instead if length is what you want, or by the length-controlled variant "
                  "(length=controlled, e.g. `score pref_head_default --param length=controlled`), or train the "
                  "curator model on your own pins")
        out.append(f"score {k!r} is {why}: {advice}")
    return out


# ============================================================================================== length control
MATCH_TOL = 0.2
"""Two replies are length-matched when their lengths (characters) differ by at most 20% of the longer one."""
STRATA: tuple[tuple[float, float, str], ...] = (
    (0.0, MATCH_TOL, "within 20%"), (MATCH_TOL, 0.5, "20%-2x apart"), (0.5, 1.0, "over 2x apart"))
"""Length strata of a pair by :func:`length_gap` (0 = same length, 0.5 = one twice the other, 1 = one empty)."""


def length_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a − b| / max(a, b) per pair of lengths, in [0, 1] (0 when both are 0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    m = np.maximum(a, b)
    return np.where(m > 0, np.abs(a - b) / np.where(m > 0, m, 1.0), 0.0)


def agreement(d: np.ndarray) -> dict[str, float]:
    """{"agreement", "n", "lo", "hi"} of signed margins ``d`` (> 0: the score prefers the human-preferred item;
    ties half; NaN margins left out), with a 95% Wilson interval."""
    d = np.asarray(d, dtype=np.float64)
    d = d[np.isfinite(d)]
    n = len(d)
    acc = float(((d > 0).sum() + 0.5 * (d == 0).sum()) / n) if n else float("nan")
    lo, hi = _interval(acc, n)
    return {"agreement": acc, "n": n, "lo": lo, "hi": hi}


def length_controlled(chosen: np.ndarray, rejected: np.ndarray, len_chosen: np.ndarray, len_rejected: np.ndarray,
                      *, higher_is_better: bool = True, tol: float = MATCH_TOL) -> dict[str, Any]:
    """Raw and length-controlled agreement of a score on preference pairs (values of the chosen and the rejected
    reply, their lengths in characters): {"raw", "matched" (pairs within ``tol``), "strata" (list of {"stratum",
    "longer_wins", agreement fields}), "rule" (the better length rule on all pairs), "unit": "pairs"}. Pairs with a
    NaN value are left out everywhere. Cost: O(n)."""
    c, r = np.asarray(chosen, dtype=np.float64), np.asarray(rejected, dtype=np.float64)
    lc, lr = np.asarray(len_chosen, dtype=np.float64), np.asarray(len_rejected, dtype=np.float64)
    ok = np.isfinite(c) & np.isfinite(r)
    c, r, lc, lr = c[ok], r[ok], lc[ok], lr[ok]
    d = (c - r) * (1.0 if higher_is_better else -1.0)
    gap = length_gap(lc, lr)
    strata = []
    for a, b, name in STRATA:
        m = (gap > a) & (gap <= b) if a > 0 else gap <= b
        strata.append({"stratum": name, **agreement(d[m]), "longer_wins": agreement(lc[m] - lr[m])["agreement"]})
    lw = agreement(lc - lr)["agreement"]
    return {"raw": agreement(d), "matched": agreement(d[gap <= tol]), "strata": strata,
            "rule": length_rule(lw) if lw == lw else None, "unit": "pairs"}


def _auc_interval(auc: float, n1: int, n2: int) -> tuple[float, float]:
    """95% interval of a ROC AUC from n1 positives and n2 negatives (Hanley-McNeil standard error)."""
    if n1 < 1 or n2 < 1 or auc != auc:
        return float("nan"), float("nan")
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    se = math.sqrt(max(auc * (1 - auc) + (n1 - 1) * (q1 - auc * auc) + (n2 - 1) * (q2 - auc * auc), 0.0)
                   / (n1 * n2))
    return max(0.0, auc - 1.96 * se), min(1.0, auc + 1.96 * se)


def _auc_pairs(s: np.ndarray, y: np.ndarray, length: np.ndarray, tol: float | None) -> dict[str, float]:
    """Share of (kept, dropped) pairs (length-matched ones only, with ``tol``) where the kept row scores higher;
    ties half. n = the pairs counted; lo/hi from the rows that take part in one. Cost: O(pos × neg)."""
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    if not len(pos) or not len(neg):
        return {"agreement": float("nan"), "n": 0, "lo": float("nan"), "hi": float("nan")}
    d = s[pos][:, None] - s[neg][None, :]
    m = np.ones_like(d, dtype=bool) if tol is None else \
        length_gap(length[pos][:, None], length[neg][None, :]) <= tol
    n = int(m.sum())
    if not n:
        return {"agreement": float("nan"), "n": 0, "lo": float("nan"), "hi": float("nan")}
    auc = float(((d > 0) & m).sum() + 0.5 * ((d == 0) & m).sum()) / n
    lo, hi = _auc_interval(auc, int(m.any(axis=1).sum()), int(m.any(axis=0).sum()))
    return {"agreement": auc, "n": n, "lo": lo, "hi": hi}


def length_controlled_labels(score: np.ndarray, y: np.ndarray, length: np.ndarray, *, tol: float = MATCH_TOL
                             ) -> dict[str, Any]:
    """The same for a keep / drop classifier (``y``: 1 kept, 0 dropped; ``score``: higher = keep): agreement over
    (kept, dropped) pairs, i.e. the ROC AUC, on all pairs ("raw") and on pairs whose lengths are within ``tol``
    ("matched"); "rule": the better of "longer row kept" / "shorter row kept" as an AUC. Cost: O(kept × dropped)
    (hundreds of labels: milliseconds)."""
    s, y, ln = (np.asarray(v, dtype=np.float64) for v in (score, y, length))
    ok = np.isfinite(s) & np.isfinite(y)
    s, y, ln = s[ok], y[ok], ln[ok]
    lw = _auc_pairs(ln, y, ln, None)["agreement"]
    rule = None if lw != lw else (("longer row kept", lw) if lw >= 0.5 else ("shorter row kept", 1.0 - lw))
    return {"raw": _auc_pairs(s, y, ln, None), "matched": _auc_pairs(s, y, ln, tol), "strata": [],
            "rule": rule, "unit": "kept/dropped pairs"}


def summary(lc: dict[str, Any]) -> dict[str, float | int]:
    """The flat numbers of a :func:`length_controlled` result that a score stores with its parameters."""
    out: dict[str, float | int] = {"lc_raw": _r(lc["raw"]["agreement"]), "lc_n": int(lc["raw"]["n"]),
                                   "lc_matched": _r(lc["matched"]["agreement"]),
                                   "lc_n_matched": int(lc["matched"]["n"])}
    if lc.get("rule"):
        out["lc_rule"] = _r(lc["rule"][1])
    return out


def _r(v: float) -> float:
    return float("nan") if v != v else round(float(v), 4)


def _from_params(params: dict[str, Any], base: str) -> dict[str, Any] | None:
    """The length-controlled figures a learned scorer stored with its parameters (see :func:`summary`)."""
    def num(k: str) -> float | None:
        v = params.get(k)
        return None if v is None or str(v) in ("nan", "None") else float(v)

    raw, matched = num("lc_raw"), num("lc_matched")
    if raw is None:
        return None
    matched = float("nan") if matched is None else matched
    n, nm = int(params.get("lc_n") or 0), int(params.get("lc_n_matched") or 0)
    auc = base.startswith("curator_model")
    rule = num("lc_rule")
    if auc:       # (kept, dropped) pairs are not independent: the interval counts the rows (Hanley-McNeil)
        npos, nneg = int(params.get("lc_n_pos") or 0), int(params.get("lc_n_neg") or 0)
        raw_iv, m_iv = _auc_interval(raw, npos, nneg), _auc_interval(matched, npos, nneg)
    else:
        raw_iv, m_iv = _interval(raw, n), _interval(matched, nm)
    names = ("longer row kept", "shorter row kept") if auc else ("longer reply wins", "shorter reply wins")
    return {"raw": {"agreement": raw, "n": n, "lo": raw_iv[0], "hi": raw_iv[1]},
            "matched": {"agreement": matched, "n": nm, "lo": m_iv[0], "hi": m_iv[1]},
            "strata": [], "rule": None if rule is None else (names[0] if rule >= 0.5 else names[1],
                                                              max(rule, 1 - rule)),
            "unit": "kept/dropped pairs" if auc else "pairs", "cross_validated": True}


def controlled_label(lc: dict[str, Any] | None) -> str:
    """"length-matched 52.3% of 910 [49-56] (raw 61.0%)", or "" when there is no length-controlled figure."""
    if not lc or not lc.get("matched") or not lc["matched"]["n"]:
        return ""
    m = lc["matched"]
    what = "ROC AUC" if lc.get("unit") == "kept/dropped pairs" else "agreement"
    return (f"length-matched {what} {100 * m['agreement']:.1f}% of {m['n']:,} {lc.get('unit', 'pairs')} "
            f"[{100 * m['lo']:.0f}-{100 * m['hi']:.0f}] (raw {100 * lc['raw']['agreement']:.1f}%)")


def strata_label(lc: dict[str, Any] | None) -> str:
    """"by length gap: within 20% 55.0% of 489, 20%-2x apart 57.2% of 920, over 2x apart 66.3% of 1,634", or ""."""
    parts = [f"{s['stratum']} {100 * s['agreement']:.1f}% of {s['n']:,}" for s in (lc or {}).get("strata") or []
             if s.get("n")]
    return "by length gap: " + ", ".join(parts) if parts else ""


MIN_MATCHED = 30
"""Fewer length-matched pairs than this: too few to call a score length or not."""


def length_inconclusive(v: dict[str, Any] | None) -> bool:
    """True when the length-matched pairs are too few to tell: fewer than :data:`MIN_MATCHED`, or an interval
    that holds both 50% and the raw agreement."""
    lc = (v or {}).get("length")
    if not lc or not lc.get("matched"):
        return False
    m, raw = lc["matched"], lc["raw"]
    return m["n"] < MIN_MATCHED or (m["lo"] <= 0.5 <= m["hi"] and m["lo"] <= raw["agreement"] <= m["hi"])


def mostly_length(v: dict[str, Any] | None) -> str | None:
    """Why a score is mostly reply length, or None: its length-matched agreement's 95% interval holds 50% but
    not its raw agreement (with at least :data:`MIN_MATCHED` matched pairs; a raw figure near chance is noise,
    not length), or a length rule does as well as it does (within :data:`LENGTH_MARGIN`). Reads ``v["length"]``
    (a :func:`length_controlled` result) and, for a workspace head, ``v["length_rule"]``."""
    if not v:
        return None
    lc = v.get("length")
    if lc and lc.get("matched") and lc["matched"]["n"] >= MIN_MATCHED and \
            lc["raw"]["agreement"] >= 0.5 + NEAR_CHANCE:      # (below chance is wrong, not length)
        m, raw = lc["matched"], lc["raw"]
        if m["lo"] <= 0.5 <= m["hi"] and m["hi"] < raw["agreement"]:
            return (f"mostly length: on the {m['n']:,} {lc.get('unit', 'pairs')} whose lengths are within 20% of "
                    f"each other it is at chance ({controlled_label(lc)})")
        rule = lc.get("rule")
        if rule and float(rule[1]) >= raw["agreement"] - LENGTH_MARGIN:
            return (f"mostly length: \"{rule[0]}\" alone gets {100 * rule[1]:.1f}% on the same "
                    f"{lc.get('unit', 'pairs')}, as much as the score's {100 * raw['agreement']:.1f}%")
    if no_better_than_length(v):
        rule, acc = v["length_rule"]
        return f"mostly length: \"{rule}\" gets {100 * acc:.1f}% on the same pairs, as much as its {label(v)}"
    return None


def workspace_length_check(ws: Any, key: str) -> dict[str, Any] | None:  # Workspace
    """:func:`length_controlled` of a stored per-reply score on this workspace's own preference pairs (the chosen
    reply's value against ``<key>@rejected``), or None when the score has no rejected-reply values. For a head
    trained on these pairs the figures are in-sample (optimistic). Cost: one read of the two columns and the
    pairs' texts, remembered per (workspace file, data stamp, key) in this process, so the Select and Export pages
    pay it once per change of the data."""
    from curation.core.keys import REJECTED_SUFFIX

    defs = ws.score_defs().set_index("key")
    if key not in defs.index or key + REJECTED_SUFFIX not in defs.index:
        return None
    memo = (str(getattr(ws, "path", id(ws))), ws.data_stamp(), key)
    if memo in _WS_CHECKS:
        return _WS_CHECKS[memo]
    got = _workspace_length_check(ws, key, defs)
    if len(_WS_CHECKS) >= 64:
        _WS_CHECKS.pop(next(iter(_WS_CHECKS)))
    _WS_CHECKS[memo] = got
    return got


_WS_CHECKS: dict[tuple[str, str, str], dict[str, Any] | None] = {}


def _workspace_length_check(ws: Any, key: str, defs: Any) -> dict[str, Any] | None:
    from curation.core.keys import REJECTED_SUFFIX

    t = ws.scores([key, key + REJECTED_SUFFIX])
    ex = ws.examples(["example_id", "kind", "chosen", "rejected"])
    ex = ex[ex["kind"] == "preference"]
    t = t.merge(ex, on="example_id", how="inner")
    if t.empty:
        return None
    hib = defs.at[key, "higher_is_better"]
    return length_controlled(t[key].to_numpy(np.float64), t[key + REJECTED_SUFFIX].to_numpy(np.float64),
                             t["chosen"].fillna("").str.len().to_numpy(np.float64),
                             t["rejected"].fillna("").str.len().to_numpy(np.float64),
                             higher_is_better=hib is None or bool(hib))


# ============================================================================================== the quality path
PIN_TARGET = 50
"""Pins the quality path asks for before the curator model's figures mean much (bench_curator: ROC AUC 0.96 on a
hidden keep rule after 100 pins)."""


def judge_configured(names: list[str] | set[str]) -> bool:
    """True when a model judge is at hand: a judge score is stored (the ``judge`` scorer group, or Ask-LLM / IFD
    run on a named model or endpoint) or an OpenAI-compatible server is configured (``$OPENAI_BASE_URL``)."""
    import os

    from curation.scorers import GROUPS

    judges = set(GROUPS.get("judge", []))
    return bool(os.environ.get("OPENAI_BASE_URL")) or any(str(n).split("@", 1)[0] in judges for n in names)


def quality_path(ws: Any) -> dict[str, Any]:  # Workspace
    """What the Scores page recommends as the quality score: {"judge": a judge is configured, "pins": (include,
    exclude) counts, "target": :data:`PIN_TARGET`, "curator": {"key", "validity"} of the newest stored
    curator_model score (raw length mode first) or None, "controlled": the same for its length=controlled variant
    or None, "steps": the three steps with what is done}. Cost: two small reads."""
    defs = ws.score_defs()
    pins = ws.pins()
    inc = int((pins["pin"] == "include").sum()) if len(pins) else 0
    exc = int((pins["pin"] == "exclude").sum()) if len(pins) else 0
    judge = judge_configured(set(defs["name"])) if len(defs) else judge_configured(set())
    found: dict[str, dict[str, Any] | None] = {"raw": None, "controlled": None}
    cur = defs[defs["name"] == "curator_model"].sort_values("created_at") if len(defs) else defs
    for r in cur.itertuples():
        mode = "controlled" if "length=controlled" in str(r.key) else "raw"
        found[mode] = {"key": str(r.key), "validity": validity("curator_model", r.params)}
    steps = [(f"pin {PIN_TARGET} rows include / exclude", inc + exc >= PIN_TARGET and inc > 0 and exc > 0),
             ("train the curator model", found["raw"] is not None or found["controlled"] is not None),
             ("review its proposals (rows it is least sure about), pin them, train again", False)]
    return {"judge": judge, "pins": (inc, exc), "target": PIN_TARGET, "curator": found["raw"],
            "controlled": found["controlled"], "steps": steps}


# The shipped preference head's measured figures, written by benchmarks/bench_quality.py next to its weights
DEFAULT_HEAD_VALIDITY = Path(__file__).resolve().parent / "weights" / "pref_head_default.validity.json"


def _default_validity_record(length: str = "raw") -> dict[str, Any] | None:
    f = DEFAULT_HEAD_VALIDITY
    if not f.is_file():
        return None
    v = json.loads(f.read_text(encoding="utf-8"))
    return v if length == "raw" else v.get(length)


def default_head_validity(length: str = "raw") -> tuple[float, int, str] | None:
    """(agreement, pairs, source) of the shipped head (``length="controlled"``: its length-controlled score) on
    HH-RLHF data it never saw, as written by benchmarks/bench_quality.py next to the weights; None before that
    benchmark ran."""
    v = _default_validity_record(length)
    if not v:
        return None
    return float(v["agreement"]), int(v["n"]), str(v["source"])


def default_head_length(length: str = "raw") -> dict[str, Any] | None:
    """The shipped head's length-controlled figures on the same pairs (a
    :func:`length_controlled` result: raw, matched, strata, rule), or None."""
    v = _default_validity_record(length)
    lc = (v or {}).get("length")
    if not lc:
        return None
    if lc.get("rule"):
        lc = {**lc, "rule": tuple(lc["rule"])}
    return lc
