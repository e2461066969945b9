"""Where a query matches inside a text, for display: character spans, a snippet around the first match, and that
snippet as escaped HTML with ``<mark>`` around the matches (dataset text is always escaped; only the marks are
markup)."""
from __future__ import annotations

import html
import re

_OPS = {"AND", "OR", "NOT"}


def query_terms(query: str) -> list[str]:
    """The lower-cased words of a words-mode query that a match contains: phrases split into words, operators,
    field prefixes, negated terms (``-x``, ``NOT x``) and boosts left out."""
    out: list[str] = []
    toks = re.findall(r'-?"[^"]*"|\S+', query)
    negate = False
    for t in toks:
        if t in _OPS:
            negate = t == "NOT"
            continue
        if t.startswith("-") or negate:
            negate = False
            continue
        t = t.lstrip("+(").rstrip(")")
        t = re.sub(r"^\w+:", "", t)                 # field:term
        t = re.sub(r"\^[\d.]+$", "", t)             # term^2
        out += [w for w in re.split(r"[^\w]|_", t.lower()) if w]
    return list(dict.fromkeys(out))


def match_spans(text: str, query: str, *, mode: str = "words", regex: bool = False,
                case_sensitive: bool = False) -> list[tuple[int, int]]:
    """Sorted, non-overlapping (start, end) character spans of ``query``'s matches in ``text``: whole words of a
    words query (any case), substrings or regular-expression matches of a pattern (Python ``re``; an expression
    Python cannot read gives no span). Meaning searches have no spans."""
    if not text or not query:
        return []
    spans: list[tuple[int, int]] = []
    if mode == "words":
        for w in query_terms(query):
            spans += [m.span() for m in re.finditer(rf"(?<![^\W_]){re.escape(w)}(?![^\W_])", text, re.IGNORECASE)]
    elif mode == "pattern":
        flags = 0 if case_sensitive else re.IGNORECASE
        try:
            rx = re.compile(query if regex else re.escape(query), flags)
        except re.error:
            return []
        spans = [m.span() for m in rx.finditer(text) if m.end() > m.start()]
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def snippet_html(text: str, spans: list[tuple[int, int]], *, width: int = 240) -> str:
    """About ``width`` characters of ``text`` around its first span, HTML-escaped, each span inside ``<mark>``;
    ``…`` where text was cut. The start of the text when there is no span."""
    text = text or ""
    if spans:
        lo = max(0, spans[0][0] - width // 3)
    else:
        lo = 0
    hi = min(len(text), lo + width)
    parts = ["…" if lo > 0 else ""]
    pos = lo
    for s, e in spans:
        if e <= lo or s >= hi:
            continue
        s, e = max(s, lo), min(e, hi)
        parts.append(html.escape(text[pos:s]))
        parts.append(f"<mark>{html.escape(text[s:e])}</mark>")
        pos = e
    parts.append(html.escape(text[pos:hi]))
    if hi < len(text):
        parts.append("…")
    return "".join(parts).replace("\n", " ")
