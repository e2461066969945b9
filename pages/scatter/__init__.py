"""The Map page's point renderer as a Streamlit component: a self-contained WebGL2 scatter (frontend/index.html, no
library and no network access) that draws every point.

What crosses to the browser is only what it draws: float32 x/y (8 bytes a point), one uint8 colour code a point, a
palette, legend and cluster-label positions (small JSON), the selected positions, and the text of the one point the
pointer rests on (fetched on demand). What comes back is a selection *geometry* (a box, a lasso polygon, a clicked
point or a cluster label) that :func:`pages.scatter.geometry.selection_positions` evaluates against the same float32
coordinates, so Python never trusts a list of ids from the page. The browser sets every text with ``textContent``.

The coordinates and the colour codes cross once: every value the browser sends back names the ``data_id`` and
``codes_id`` it holds, and while they match, a rerun sends empty bytes in their place (at 1M points, 9 MB a rerun
not sent). A frame asked to draw data it does not hold (a remounted frame) answers ``{"kind": "need"}``, which
reruns the fragment with the bytes. ``codes_id`` must therefore be stable across reruns for the same codes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st
import streamlit.components.v1 as components

_FRONTEND = Path(__file__).resolve().parent / "frontend"
_component = components.declare_component("curation_scatter", path=str(_FRONTEND))


def scatter(*, xy: np.ndarray, codes: np.ndarray, palette: list[str], legend: list[dict], data_id: str,
            codes_id: str, selected: np.ndarray, sel_id: str, labels: list[dict] | None = None,
            numeric: dict | None = None, hover: dict | None = None,
            height: int = 620, point_size: float | None = None, key: str) -> dict | None:
    """Draw the points; returns the last browser event ({seq, kind, ...}) or None.

    xy: (n, 2) float32; codes: (n,) uint8 into ``palette`` (256 hex colours); data_id / codes_id / sel_id: strings
    that change exactly when xy / codes / the selection change (the browser re-reads only what changed);
    selected: positions (uint32) of the selected points; labels: [{x, y, text, id, code?}] biggest first;
    numeric: {name, lo, hi, lo_v, hi_v, missing} for a score colouring; hover: {pos, head, text} for the
    tooltip (plain text)."""
    n = len(xy)
    if point_size is None:
        point_size = 5.0 if n < 5_000 else 3.5 if n < 50_000 else 2.5 if n < 300_000 else 1.8
    send_xy, send_codes = bytes_to_send(st.session_state.get(key), data_id, codes_id)
    return _component(
        xy=np.ascontiguousarray(xy, dtype=np.float32).tobytes() if send_xy else b"",
        codes=np.ascontiguousarray(codes, dtype=np.uint8).tobytes() if send_codes else b"", n=int(n),
        palette=palette, legend=legend, labels=labels or [], numeric=numeric, hover=hover,
        data_id=data_id, codes_id=codes_id, selected=np.ascontiguousarray(selected, dtype=np.uint32).tobytes(),
        sel_id=sel_id, height=int(height), point_size=float(point_size), key=key, default=None)


def bytes_to_send(last: object, data_id: str, codes_id: str) -> tuple[bool, bool]:
    """(send the coordinates, send the colour codes), given the browser's last value ``last``: what it reports to
    hold (``have``: the data_id of its coordinates, ``haveCodes``: the codes_id of its colour codes). New
    coordinates always come with their codes."""
    have = last if isinstance(last, dict) else {}
    send_xy = have.get("have") != data_id
    return send_xy, send_xy or have.get("haveCodes") != codes_id
