"""Formatting and text safety for the pages (no Streamlit calls).

Dataset text is never rendered as HTML: tables go through ``st.dataframe``, blocks through
:func:`pages.widgets.show_text`, plotly hover text and annotations through :func:`escape_hover` (``html.escape``),
and text inside markdown, alerts or widget labels through :func:`md_escape`.
"""
from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd


def escape_hover(text: object, *, max_chars: int = 160, width: int = 60) -> str:
    """Dataset text made safe for plotly hover/annotations: truncated, HTML-escaped (so ``<script>`` shows
    literally), wrapped with ``<br>`` every ``width`` characters (the only markup we add)."""
    s = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    s = " ".join(s.split())
    if len(s) > max_chars:
        s = s[: max_chars - 1] + "…"
    lines = [s[i:i + width] for i in range(0, len(s), width)] or [""]
    return "<br>".join(html.escape(line, quote=True) for line in lines)


def md_escape(text: object) -> str:
    """Text safe inside st.markdown / st.warning / widget labels: every ASCII punctuation character is
    backslash-escaped (CommonMark), so no markdown, link or HTML tag is formed; it displays literally."""
    s = "" if text is None else str(text)
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", s)


def direction(v: object) -> bool | None:
    """A score's higher_is_better as True / False / None (NULL, NaN and numpy bools handled)."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return bool(v)


def direction_text(v: object) -> str:
    d = direction(v)
    return "higher is better" if d is True else "lower is better" if d is False else "no direction"


def fmt_int(n: float | int | None) -> str:
    return "—" if n is None or (isinstance(n, float) and np.isnan(n)) else f"{int(n):,}"


def fmt_num(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "—"
    return f"{x:,.{digits}g}" if abs(x) < 1e4 else f"{x:,.0f}"


def fmt_pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{100 * x:.{digits}f}%"
