"""Defect injection: near-copies, truncated and repetitive answers, and HTML in instructions."""

from __future__ import annotations

import difflib
import re

from .common import Rng, _pick, load_data
from .pool import _SENT_SPLIT

_DATA = load_data("defects")

_SYNONYMS = _DATA["synonyms"]
for _a, _b in list(_SYNONYMS.items()):
    if " " not in _b:
        _SYNONYMS.setdefault(_b, _a)


def _word_edit(r: Rng, text: str) -> str | None:
    """Swap one word for a synonym (or swap two adjacent words); None if impossible."""
    spans = [(m.start(), m.end(), m.group()) for m in re.finditer(r"[A-Za-z]+", text)]
    cands = [s for s in spans if s[2].lower() in _SYNONYMS]
    if cands:
        a, b, w = _pick(r, cands)
        rep = _SYNONYMS[w.lower()]
        if w[0].isupper():
            rep = rep[0].upper() + rep[1:]
        return text[:a] + rep + text[b:]
    words = [s for s in spans if len(s[2]) > 2]
    if len(words) < 4:
        return None
    i = r.randrange(len(words) - 1)
    (a1, b1, w1), (a2, b2, w2) = words[i], words[i + 1]
    if text[b1:a2] != " " or w1.lower() == w2.lower():
        return None
    return text[:a1] + w2 + " " + w1 + text[b2:]


def _surface_edit(r: Rng, text: str) -> str:
    """A punctuation, casing or whitespace tweak."""
    kind = r.randrange(5)
    if kind == 0 and text and text[-1] in ".?!":
        return text[:-1]
    if kind == 1:
        return text.rstrip(".?!") + "!"
    if kind == 2 and text[:1].isupper():
        return text[0].lower() + text[1:]
    if kind == 3 and ", " in text:
        return text.replace(", ", " , ", 1)
    if kind == 4 and " " in text:
        i = text.index(" ")
        return text[:i] + "  " + text[i + 1:]
    return text + " "


def _near_copy(r: Rng, rec: dict[str, str]) -> dict[str, str]:
    """Return a lightly edited copy of ``rec`` (at least one word-level edit)."""
    for _ in range(20):
        new = dict(rec)
        where = r.random()
        fields = ["instruction"] if where < 0.4 else ["output"] if where < 0.8 else ["instruction", "output"]
        ok = True
        for f in fields:
            edited = _word_edit(r, new[f])
            if edited is None:
                ok = False
                break
            if r.random() < 0.5:
                edited = _surface_edit(r, edited)
            new[f] = edited
        if not ok or (new["instruction"], new["input"], new["output"]) == (rec["instruction"], rec["input"],
                                                                           rec["output"]):
            continue
        a = "\n".join((rec["instruction"], rec["input"], rec["output"]))
        b = "\n".join((new["instruction"], new["input"], new["output"]))
        if difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() > 0.9:
            return new
    # guaranteed fallback: append a short filler sentence to the output
    new = dict(rec)
    new["output"] = rec["output"].rstrip() + " Hope this helps."
    return new


def _truncate(r: Rng, text: str) -> str:
    """Cut ``text`` mid-sentence at a word boundary (no final punctuation)."""
    spans = [m for m in re.finditer(r"\S+", text)]
    n = len(spans)
    lo, hi = max(3, int(n * 0.35)), max(4, int(n * 0.75))
    order = list(range(lo, min(hi, n - 1)))
    r.shuffle(order)
    for i in order:
        tok = spans[i].group()
        if tok[-1] not in ".!?:;,)\"'`" and not tok.startswith("```"):
            return text[:spans[i].end()]
    return text[: max(1, len(text) // 2)].rstrip(" .!?,;:")


def _repetitive(r: Rng, text: str) -> str:
    """Turn ``text`` into degenerate, looping output."""
    first = _SENT_SPLIT.split(text.strip().split("\n")[0])[0].strip()
    words = first.split()
    k = r.randint(10, 25)
    if r.random() < 0.5 and len(words) >= 4:
        phrase = " ".join(words[: r.randint(3, min(7, len(words)))]).rstrip(".,;:!?")
        return first + " " + " ".join([phrase] * k)
    return " ".join([first] * k)


_HTML_WRAPPERS = _DATA["html_wrappers"]
