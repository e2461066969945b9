"""The datasheet: one self-contained HTML file describing an exported subset against its pool.

Sections: what was exported (format, style, hashes, who, note); the selection (ranking, budget, quota); class
balance (inline SVG bars); the diagnostics report card (:mod:`curation.diagnostics.report`: alerts, class balance,
spectral balance, coverage, quality, preference); what was dropped and why (exclude pin, duplicate of a kept
example, not ranked by the method, below the budget cut or over a class quota, left out by the export style),
with examples; a map of kept vs dropped rows (inline SVG, from the latest 2-D projection); the curator's pins,
notes and tags; the sources.

No JavaScript, no external resource: plots are inline SVG, so the file opens offline and anywhere. Every piece
of dataset or user text goes through :func:`html.escape` (:func:`_e`), so a record holding
``<script>`` shows as text and never runs.
"""
from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.core.keys import format_value, key_name, key_param
from curation.store import Workspace
from curation.subsets.spec import label_series, pool_frame

MAX_MAP_POINTS = 4000
MAX_EXAMPLES_PER_REASON = 25
MAX_TABLE_ROWS = 200
SNIPPET_CHARS = 160

REASONS = (
    ("exclude_pin", "excluded by a curator's pin"),
    ("exact_duplicate", "exact duplicate of a kept example"),
    ("near_duplicate", "near duplicate of a kept example (same near-duplicate group)"),
    ("not_ranked", "not in the ranking (e.g. not embedded, or left out when the method ran)"),
    ("budget", "ranked below the budget cut"),
    ("style", "in the subset, but the export style cannot express its kind"),
)

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222;
line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ddd;
padding-bottom:.2rem}h3{font-size:1.05rem;margin-top:1.4rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem}td,th{border:1px solid #ddd;padding:.25rem .5rem;
vertical-align:top;text-align:left}th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#666}.alert{background:#fff4e5;border-left:4px solid #f0a020;padding:.4rem .7rem;margin:.3rem 0}
.ok{background:#eef8ee;border-left:4px solid #3a3;padding:.4rem .7rem}code,.mono{font-family:ui-monospace,Menlo,
Consolas,monospace;font-size:.85em;word-break:break-all}.snip{max-width:640px;white-space:pre-wrap}
.wrap{overflow-x:auto;max-width:100%}td .wrap table{margin:0}
table{max-width:100%}td,th{overflow-wrap:anywhere}svg{max-width:100%;height:auto}
@page{size:A4;margin:10mm}
@media print{body{max-width:none;margin:0;padding:0;font-size:10pt}.wrap{overflow:visible}
table{width:100%;table-layout:fixed;font-size:8pt}td,th{padding:.15rem .25rem}h2{break-after:avoid}
tr,svg{break-inside:avoid}}
.legend span{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 1em;vertical-align:middle}
"""

_POOL_COLOR = "#9db4d0"
_SUB_COLOR = "#d9822b"


def _e(v: Any) -> str:
    """HTML-escaped text of any value (None → empty)."""
    if v is None:
        return ""
    if isinstance(v, float):
        if not math.isfinite(v):
            return "–"
        return f"{v:.4g}"
    return html.escape(str(v), quote=True)


def _cell(v: Any, depth: int = 0) -> str:
    """HTML of one value: nested dicts become key/value tables, lists of dicts tables, scalars escaped text."""
    if isinstance(v, dict):
        if not v:
            return ""
        if depth >= 3:
            return _e(json.dumps(v, ensure_ascii=False, default=str))
        return _kv(list(v.items()), depth=depth + 1)
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, dict) for x in v) and depth < 3:
            return _table(list(v), depth=depth + 1)
        return ", ".join(_cell(x, depth + 1) for x in v)
    return _e(v)


def _compact(v: Any) -> str:
    """Parameters as one line of JSON (escaped later by the table)."""
    return "" if v in (None, {}) else json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _validity_label(d: dict) -> str:
    """The measured validity of a stored score (share of human preference pairs it gets right, n, 95%)."""
    from curation.scorers.validity import (controlled_label, label, mostly_length, near_chance,
                                           no_better_than_length, validity)

    v = validity(str(d.get("name") or d.get("key") or ""), d.get("params"))
    if v is None:
        return "-"
    lc = controlled_label(v.get("length"))
    lc = f"; {lc}" if lc else ""
    if near_chance(v):
        return label(v) + lc + " (near chance)"
    if no_better_than_length(v):
        rule, acc = v["length_rule"]
        return label(v) + lc + f" (no better than \"{rule}\": {100 * acc:.1f}% on the same pairs: mostly length)"
    why = mostly_length(v)
    return label(v) + lc + (f" ({why})" if why else "")


def _score_warnings(ws: Any, rk: dict) -> str:
    """Alert boxes for a ranking whose method consumed a quality score that is near chance (selecting by noise)."""
    method, params = rk.get("method"), rk.get("params")
    if not method:
        return ""
    from curation.select.run import selection_warnings

    try:
        found = selection_warnings(ws, str(method), params if isinstance(params, dict) else {})
    except CurationError:                      # a method or parameter this version no longer knows: nothing to say
        return ""
    return "".join(f'<div class="alert"><b>Warning:</b> {_e(w)}</div>' for w in found)


def _table(rows: Sequence[dict], columns: Sequence[str] | None = None, *, max_rows: int = MAX_TABLE_ROWS,
           numeric: Iterable[str] = (), depth: int = 0) -> str:
    """An HTML table of dict rows, every header and cell escaped; longer tables are cut with a note."""
    if not rows:
        return '<p class="muted">(none)</p>'
    cols = list(columns) if columns else list(dict.fromkeys(k for r in rows for k in r))
    num = set(numeric)
    out = ['<div class="wrap"><table><tr>' + "".join(f"<th>{_e(c)}</th>" for c in cols) + "</tr>"]
    for r in rows[:max_rows]:
        cells = []
        for c in cols:
            v = r.get(c)
            cls = ' class="num"' if c in num or _is_num(v) else ""
            cells.append(f"<td{cls}>{_cell(v, depth)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table></div>")
    if len(rows) > max_rows:
        out.append(f'<p class="muted">… {len(rows) - max_rows} more rows (see the manifest)</p>')
    return "".join(out)


def _kv(items: Sequence[tuple[str, Any]], *, depth: int = 0) -> str:
    """A two-column key/value table (keys and values escaped; nested values rendered by :func:`_cell`)."""
    num = ' class="num"'
    return '<div class="wrap"><table>' + "".join(
        f"<tr><th>{_e(k)}</th><td{num if _is_num(v) else ''}>{_cell(v, depth)}</td></tr>"
        for k, v in items) + "</table></div>"


# ---------------------------------------------------------------------------------------------------- SVG plots
def svg_paired_bars(labels: Sequence[str], a: Sequence[float], b: Sequence[float], *, a_name: str = "pool",
                    b_name: str = "subset", fmt: str = "{:.1%}", width: int = 720) -> str:
    """Horizontal paired bars (two values per label, e.g. pool vs subset share), inline SVG, text escaped."""
    n = len(labels)
    if n == 0:
        return ""
    bar_h, gap, left, right = 9, 8, 170, 70
    h = n * (2 * bar_h + gap) + 30
    vmax = max([float(x) for x in list(a) + list(b) if x is not None and math.isfinite(float(x))] + [1e-12])
    scale = (width - left - right) / vmax
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" viewBox="0 0 {width} {h}" '
             f'role="img" aria-label="{_e(a_name)} vs {_e(b_name)}" font-size="11" font-family="sans-serif">']
    y = 20
    parts.append(f'<rect x="{left}" y="4" width="10" height="10" fill="{_POOL_COLOR}"/>'
                 f'<text x="{left + 14}" y="13">{_e(a_name)}</text>'
                 f'<rect x="{left + 90}" y="4" width="10" height="10" fill="{_SUB_COLOR}"/>'
                 f'<text x="{left + 104}" y="13">{_e(b_name)}</text>')
    for lab, va, vb in zip(labels, a, b):
        label = str(lab)
        short = label if len(label) <= 26 else label[:25] + "…"
        parts.append(f'<text x="{left - 6}" y="{y + bar_h + 3}" text-anchor="end"><title>{_e(label)}</title>'
                     f'{_e(short)}</text>')
        for i, (v, color) in enumerate(((va, _POOL_COLOR), (vb, _SUB_COLOR))):
            v = 0.0 if v is None or not math.isfinite(float(v)) else float(v)
            yy = y + i * bar_h
            parts.append(f'<rect x="{left}" y="{yy}" width="{max(v * scale, 0.5):.1f}" height="{bar_h - 1}" '
                         f'fill="{color}"/><text x="{left + v * scale + 4:.1f}" y="{yy + bar_h - 1}">'
                         f'{_e(fmt.format(v))}</text>')
        y += 2 * bar_h + gap
    parts.append("</svg>")
    return "".join(parts)


def svg_bars(labels: Sequence[str], values: Sequence[float], *, color: str = _SUB_COLOR, width: int = 720,
             fmt: str = "{:,.0f}") -> str:
    """Horizontal bars, inline SVG, text escaped."""
    n = len(labels)
    if n == 0:
        return ""
    bar_h, left, right = 16, 300, 80
    h = n * (bar_h + 6) + 10
    vmax = max([float(v) for v in values] + [1e-12])
    scale = (width - left - right) / vmax
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" viewBox="0 0 {width} {h}" '
             'role="img" font-size="11" font-family="sans-serif">']
    y = 5
    for lab, v in zip(labels, values):
        label = str(lab)
        short = label if len(label) <= 48 else label[:47] + "…"
        parts.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end"><title>{_e(label)}</title>{_e(short)}'
                     f'</text><rect x="{left}" y="{y}" width="{max(float(v) * scale, 0.5):.1f}" height="{bar_h}" '
                     f'fill="{color}"/><text x="{left + float(v) * scale + 4:.1f}" y="{y + 12}">'
                     f'{_e(fmt.format(float(v)))}</text>')
        y += bar_h + 6
    parts.append("</svg>")
    return "".join(parts)


def svg_scatter(xy: np.ndarray, kept: np.ndarray, *, width: int = 640, height: int = 480,
                max_points: int = MAX_MAP_POINTS, seed: int = 0) -> str:
    """2-D map: dropped rows grey, kept rows orange (at most ``max_points``, a seeded sample), inline SVG."""
    xy = np.asarray(xy, dtype=np.float64)
    kept = np.asarray(kept, dtype=bool)
    if len(xy) == 0:
        return ""
    idx = np.arange(len(xy))
    if len(idx) > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(len(xy), max_points, replace=False))
    p = xy[idx]
    ok = np.isfinite(p).all(axis=1)
    p, idx = p[ok], idx[ok]
    if not len(p):
        return ""
    lo, hi = p.min(axis=0), p.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    pad = 10
    sx = pad + (p[:, 0] - lo[0]) / span[0] * (width - 2 * pad)
    sy = height - pad - (p[:, 1] - lo[1]) / span[1] * (height - 2 * pad)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="map of kept and dropped examples" '
             'style="border:1px solid #eee">']
    big = len(p) <= 1000
    for sel, color, r in ((~kept[idx], "#c8c8c8", 2.4 if big else 1.6), (kept[idx], _SUB_COLOR, 3.0 if big else 2.0)):
        pts = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}"/>' for x, y in zip(sx[sel], sy[sel]))
        parts.append(f'<g fill="{color}" fill-opacity="0.75">{pts}</g>')
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------------- analysis
def drop_reasons(ws: Workspace, manifest: dict, subset_row_ids: np.ndarray,
                 exported_row_ids: Sequence[int]) -> pd.DataFrame:
    """One row per pool example not in the exported file: row_id, example_id, label, reason, detail.

    Reasons, first that applies: exclude pin; exact duplicate, then near duplicate, of a kept example (same group
    under the workspace's ``exactdup_group`` / ``neardup_group(model=..)`` scores); not in the ranking; below the
    budget cut (or over a class quota); and, for rows of the subset the style could not express, "style".
    O(n) over the pool.
    """
    sel = manifest["selection"]
    pool = pool_frame(ws, sel.get("datasets"))
    ids = pool["row_id"].to_numpy(np.int64)
    subset = np.asarray(subset_row_ids, dtype=np.int64)
    exported = np.asarray(list(exported_row_ids), dtype=np.int64)
    in_sub = np.isin(ids, subset)
    in_exp = np.isin(ids, exported)
    reason = np.full(len(ids), "", dtype=object)
    detail = np.full(len(ids), "", dtype=object)
    reason[in_sub & ~in_exp] = "style"
    detail[in_sub & ~in_exp] = [f"kind {k!s} in style {manifest['export']['style']}"
                                for k in pool.loc[in_sub & ~in_exp, "kind"]]
    dropped = ~in_sub
    pins = ws.pins(as_of=(sel.get("spec") or {}).get("pins_as_of"))
    exc = pins[pins["pin"] == "exclude"].set_index("row_id")
    m = dropped & np.isin(ids, exc.index.to_numpy(np.int64))
    reason[m] = "exclude_pin"
    detail[m] = [f"by {exc.loc[r, 'who']}" + (f": {exc.loc[r, 'why']}" if isinstance(exc.loc[r, "why"], str)
                                               and exc.loc[r, "why"] else "") for r in ids[m]]
    defs = ws.score_defs()
    keys = defs["key"].tolist() if len(defs) else []
    model = (manifest.get("embedding") or {}).get("model")
    group_keys = [("exact_duplicate", [k for k in keys if k == "exactdup_group"]),
                  ("near_duplicate", sorted([k for k in keys if key_name(k) == "neardup_group"],
                                            key=lambda k: (key_param(k, "model") != format_value(model)
                                                           if model else False, k)))]
    kept_mask = in_exp
    for rname, ks in group_keys:
        if not ks:
            continue
        g = ws.scores([ks[0]]).set_index("row_id")[ks[0]].reindex(ids).to_numpy(np.float64)
        kept_of: dict[float, str] = {}  # group → the kept example (its representative when kept, else the first)
        eids = pool["example_id"].to_numpy(object)
        for i in np.flatnonzero(kept_mask & ~np.isnan(g)):
            if g[i] not in kept_of or ids[i] == g[i]:
                kept_of[g[i]] = str(eids[i])
        m = dropped & (reason == "") & ~np.isnan(g) & np.isin(g, list(kept_of))
        reason[m] = rname
        what = "exact" if rname == "exact_duplicate" else "near"
        detail[m] = [f"{what} duplicate of {kept_of[x]} (kept)" for x in g[m]]
    rk = sel.get("ranking") or {}
    if rk.get("key"):
        r = ws.ranking(rk["key"])
        ranked = np.asarray(r.order if r is not None else [], dtype=np.int64)
        pos = pd.Series(np.arange(len(ranked)), index=ranked)
        m = dropped & (reason == "") & ~np.isin(ids, ranked)
        reason[m] = "not_ranked"
        m = dropped & (reason == "")
        reason[m] = "budget"
        detail[m] = [f"rank {int(pos.get(x, -1)) + 1} of {len(ranked)}" for x in ids[m]]
    else:
        m = dropped & (reason == "")
        reason[m] = "budget"
        detail[m] = "beyond the row/token budget in ingest order"
    label_col = sel.get("label_column") or "label"
    try:
        labels = label_series(ws, pool, label_col).reindex(ids).to_numpy(object)
    except Exception:  # a datasheet never fails on a label column
        labels = np.full(len(ids), None, dtype=object)
    keep = reason != ""
    return pd.DataFrame({"row_id": ids[keep], "example_id": pool["example_id"].to_numpy(object)[keep],
                         "label": labels[keep], "reason": reason[keep], "detail": detail[keep]})


def _report_card(ws: Workspace, manifest: dict, subset: np.ndarray) -> tuple[dict | None, str | None]:
    """(card.to_dict(), None) or (None, why it is unavailable)."""
    from curation.diagnostics.report import ReportContext

    model = (manifest.get("embedding") or {}).get("model")
    if not model:
        return None, "no embedding model in this workspace; embed it to get the report card"
    try:
        ctx = ReportContext.build(ws, model=model, label_column=manifest["selection"].get("label_column") or "label")
        return ctx.report(np.asarray(subset, dtype=np.int64)).to_dict(), None
    except Exception as exc:  # the datasheet degrades to a note instead of failing the export
        return None, f"{type(exc).__name__}: {exc}"


def _audit_section(ws: Workspace, manifest: dict, *, max_rows: int = 15) -> str:
    """The bias audit of the exported subset against its pool (:func:`curation.diagnostics.audit.audit_spec`):
    alerts with their cause, the most severe slice categories, score fairness. A note when it cannot be made."""
    from curation.diagnostics.audit import audit_spec
    from curation.subsets.spec import SubsetSpec

    spec = (manifest.get("selection") or {}).get("spec")
    if not spec:
        return '<p class="muted">No subset spec in the manifest: no audit.</p>'
    try:
        a = audit_spec(ws, SubsetSpec.from_dict(spec))
    except Exception as exc:  # the datasheet degrades to a note instead of failing the export
        return f'<p class="muted">The audit could not be computed: {_e(type(exc).__name__)}: {_e(exc)}</p>'
    p = a.params
    out = [f'<p class="muted">Every slice column ({len(a.slices)} incl. cross-slices; {int(a.table["tested"].sum())} '
           f"tests) against the pool: two-proportion tests against the rows left out, Benjamini-Hochberg q &lt; "
           f"{p.alpha:g}; an alert needs a shift of at least {100 * p.min_diff:g} points or a ratio outside "
           f"[{p.ratio_low:g}, {p.ratio_high:g}].</p>"]
    causes = {(x["slice"], x["category"]): x["cause"] for x in a.attribution}
    if a.alerts:
        from curation.diagnostics.audit import alert_text

        items = []
        for r in a.table[a.table["alert"]].itertuples():
            c = causes.get((r.slice, r.category))
            items.append(f"<li>{_e(alert_text(r, a))}" + (f"<br><span class=\"muted\">cause: {_e(c)}</span>"
                                                          if c else "") + "</li>")
        out.append(f'<div class="alert"><b>{len(a.alerts)} alert(s)</b><ul>{"".join(items)}</ul></div>')
    else:
        out.append('<div class="ok">No slice moved both significantly and materially.</div>')
    for w in a.warnings:
        out.append(f'<div class="alert">{_e(w)}</div>')
    t = a.table[a.table["tested"]].head(max_rows)
    out.append(_table([{"slice": r.slice, "category": r.category, "in pool": f"{100 * r.ref_share:.1f}%",
                        "in subset": f"{100 * r.subset_share:.1f}%", "difference": f"{100 * r.diff:+.1f} pts",
                        "ratio": None if not np.isfinite(r.ratio) else round(float(r.ratio), 2),
                        "q": f"{r.q:.2g}", "alert": "yes" if r.alert else ""} for r in t.itertuples()]))
    for f in a.fairness:
        out.append(f"<p>Score fairness, <code>{_e(f['score'])}</code>: {_e(f['summary'])}.</p>")
    return "".join(out)


def _card_html(card: dict | None, why: str | None, *, classes_shown: bool = False) -> str:
    """The report card. classes_shown: the datasheet's class section already has this class table (same column);
    then the card does not repeat it."""
    if card is None:
        return f'<p class="muted">Report card unavailable: {_e(why)}</p>'
    out = []
    alerts = card.get("alerts") or []
    if alerts:
        out.append("".join(f'<div class="alert">{_e(a)}</div>' for a in alerts))
    else:
        out.append('<div class="ok">No alert: the subset keeps the pool\'s class mix, spread and coverage within '
                   "the report card's thresholds.</div>")
    out.append(_kv([("pool rows (embedded)", card.get("n_pool")), ("subset rows", card.get("n_subset")),
                    ("label column", card.get("label_column")),
                    ("Jensen–Shannon divergence of class mix (0 = same)", card.get("js_divergence")),
                    ("chi-square vs pool shares", card.get("chi2")), ("chi-square p", card.get("chi2_p"))]))
    groups = (() if classes_shown else
              ((f"Groups ({card.get('label_column')})" if card.get("label_column") not in (None, "label")
                else "Class balance", "classes"),))
    sections = (*groups, ("Spectral balance (per-class embedding spread)", "spectral"),
                ("Quality scores, pool vs subset", "quality"))
    for title, key in sections:
        rows = card.get(key)
        if isinstance(rows, list) and rows:
            out.append(f"<h3>{_e(title)}</h3>" + _table(rows))
    for title, key in (("Coverage (cosine distance pool → nearest kept; lower is better)", "coverage"),
                       ("Spectral spread across classes", "spectral_spread"), ("k-NN probe", "probe")):
        d = card.get(key)
        if isinstance(d, dict) and d:
            out.append(f"<h3>{_e(title)}</h3>" + _kv(list(d.items())))
    pref = card.get("preference")
    if isinstance(pref, dict) and pref:
        out.append("<h3>Preference pairs</h3>")
        for k, v in pref.items():
            if isinstance(v, list) and v and isinstance(v[0], dict):
                out.append(f"<p><b>{_e(k)}</b></p>" + _table(v))
            elif isinstance(v, dict):
                out.append(f"<p><b>{_e(k)}</b></p>" + _kv(list(v.items())))
            else:
                out.append(_kv([(k, v)]))
    notes = card.get("notes") or []
    if notes:
        out.append('<p class="muted">' + "<br>".join(_e(n) for n in notes) + "</p>")
    return "".join(out)


def _class_section(manifest: dict) -> str:
    c = manifest.get("counts") or {}
    pool, sub = c.get("pool_by_class") or {}, c.get("subset_by_class") or {}
    if not pool:
        return '<p class="muted">No class column.</p>'
    labels = sorted(pool, key=lambda k: (-pool[k], k))
    np_, ns = max(sum(pool.values()), 1), max(sum(sub.values()), 1)
    a = [pool[k] / np_ for k in labels]
    b = [sub.get(k, 0) / ns for k in labels]
    rows = [{"class": k, "pool": pool[k], "subset": sub.get(k, 0), "pool share": f"{pool[k] / np_:.1%}",
             "subset share": f"{sub.get(k, 0) / ns:.1%}", "kept": f"{sub.get(k, 0) / pool[k]:.1%}"} for k in labels]
    return svg_paired_bars(labels[:40], a[:40], b[:40]) + _table(rows, numeric=("pool", "subset"))


def _examples_text(ws: Workspace, row_ids: np.ndarray) -> dict[int, str]:
    if not len(row_ids):
        return {}
    df = ws.examples(["row_id", "embed_text"], row_ids=np.asarray(row_ids, dtype=np.int64))
    return dict(zip(df["row_id"].tolist(), df["embed_text"].tolist()))


def _dropped_section(ws: Workspace, drops: pd.DataFrame, manifest: dict) -> str:
    sel = manifest["selection"]
    names = dict(REASONS)
    if drops.empty:
        return '<p class="ok">Nothing was dropped: the export holds the whole pool.</p>'
    counts = drops["reason"].value_counts()
    order = [r for r, _ in REASONS if r in counts.index]
    out = [f"<p>{_e(len(drops))} of {_e(sel.get('n_pool'))} pool examples are not in the file.</p>",
           svg_bars([names[r] for r in order], [int(counts[r]) for r in order], color="#8a8a8a")]
    if sel.get("quota") is not None:
        out.append(f'<p class="muted">With the class quota {_e(json.dumps(sel["quota"]))}, "below the budget cut" '
                   "also covers rows left out because their class had reached its share.</p>")
    tab = drops.assign(label=drops["label"].where(drops["label"].notna(), "(none)")).pivot_table(
        index="label", columns="reason", values="row_id", aggfunc="count", fill_value=0)
    tab = tab[[r for r in order if r in tab.columns]]
    rows = [{"class": str(lab), **{names[r]: int(tab.loc[lab, r]) for r in tab.columns}} for lab in tab.index]
    out.append("<h3>Dropped, by class and reason</h3>" + _table(rows))
    sample_ids = np.concatenate([drops.loc[drops["reason"] == r, "row_id"].to_numpy(np.int64)[
        :MAX_EXAMPLES_PER_REASON] for r in order])
    texts = _examples_text(ws, sample_ids)
    for r in order:
        sub = drops[drops["reason"] == r].head(MAX_EXAMPLES_PER_REASON)
        rows = [{"example_id": x.example_id, "class": x.label, "why": x.detail,
                 "text": _snippet_raw(texts.get(int(x.row_id)))} for x in sub.itertuples(index=False)]
        n = int(counts[r])
        shown = "" if len(rows) == n else (f'<p class="muted">the first {len(rows)} of {n} (in pool order); the '
                                           "manifest's example_ids list what the file holds</p>")
        out.append(f"<h3>{_e(names[r])} — {_e(n)}</h3>" + shown + _table(rows))
    return "".join(out)


def _snippet_raw(text: Any, n: int = SNIPPET_CHARS) -> str:
    """A shortened one-line text (not escaped; :func:`_table` escapes it)."""
    s = "" if text is None or (isinstance(text, float) and math.isnan(text)) else " ".join(str(text).split())
    return s[:n] + ("…" if len(s) > n else "")


def _map_section(ws: Workspace, manifest: dict, exported: Sequence[int]) -> str:
    try:
        from curation.neighbours.projection import latest_projection, load_projection

        model = (manifest.get("embedding") or {}).get("model")
        key = latest_projection(ws, model=model) if model else latest_projection(ws)
        if key is None:
            return '<p class="muted">No 2-D map in this workspace (run `python -m curation analyze`).</p>'
        row_ids, xy = load_projection(ws, key)
    except Exception as exc:  # optional section
        return f'<p class="muted">Map unavailable: {_e(exc)}</p>'
    ds = manifest["selection"].get("datasets")
    if ds:
        pool = ws.examples(["row_id", "dataset"])
        keep = np.isin(row_ids, pool.loc[pool["dataset"].isin(ds), "row_id"].to_numpy(np.int64))
        row_ids, xy = row_ids[keep], xy[keep]
    kept = np.isin(row_ids, np.asarray(list(exported), dtype=np.int64))
    legend = (f'<p class="legend"><span style="background:{_SUB_COLOR}"></span>exported ({int(kept.sum())})'
              f'<span style="background:#c8c8c8"></span>not exported ({int((~kept).sum())}) '
              f'<span class="muted" style="background:none;width:auto">map {_e(key)}'
              + (f", {MAX_MAP_POINTS} sampled points" if len(row_ids) > MAX_MAP_POINTS else "") + "</span></p>")
    return legend + svg_scatter(xy, kept)


# ---------------------------------------------------------------------------------------------------- render
def _proof_line(ws: Workspace, manifest: dict) -> str:
    """The downstream check stored by ``python -m curation prove`` for this export's saved subset or ranking (at
    the measured budget closest to the subset's share of the pool), as one paragraph; "" when none was run."""
    from curation.diagnostics.downstream import stored

    sel = manifest.get("selection") or {}
    s = manifest.get("subset") or {}
    res = stored(ws, f"{s.get('name')}@{s.get('version')}") if s.get("name") else None
    if res is None and (sel.get("ranking") or {}).get("key"):
        res = stored(ws, str(sel["ranking"]["key"]))
    if res is None:
        return ""
    share = (sel.get("n_subset") or 0) / max(sel.get("n_pool") or 1, 1)
    return (f'<p class="muted"><b>Proof by training</b> (<code>python -m curation prove</code>, {_e(res.created_at)}): '
            f"{_e(res.sentence(budget=share))}</p>")


def _saved_subset_section(manifest: dict) -> str:
    """Name, version, version history and the diff from the previously exported version of a saved subset."""
    s = manifest.get("subset")
    if not s:
        return ""
    hist = [{"version": h.get("version"), "who": h.get("who"), "at": h.get("at"), "rows": h.get("n_rows"),
             "note": h.get("note"), "this export": "◀" if h.get("version") == s.get("version") else "",
             "deleted": "yes" if h.get("hidden") else ""} for h in s.get("history") or []]
    out = ["<h2>Saved subset</h2>",
           _kv([("name", s.get("name")), ("version", s.get("version")), ("saved by", s.get("who")),
                ("saved at", s.get("at")), ("note", s.get("note") or ""), ("rows when saved", s.get("n_rows"))]),
           f"<h3>Version history ({len(hist)})</h3>",
           _table(hist, ["version", "who", "at", "rows", "note", "this export", "deleted"])]
    prev = s.get("previous_export")
    if not prev:
        out.append('<p class="muted">No earlier version of this subset was exported from this workspace.</p>')
        return "".join(out)
    out.append(f"<h3>Changes since the previous export (version {_e(prev.get('version'))}, "
               f"{_e(prev.get('file'))}, {_e(prev.get('at'))})</h3>")
    out.append(f"<p>{_e(prev.get('summary'))}</p>")
    d = prev.get("diff")
    if d:
        cls = [c for c in d.get("classes") or [] if c.get("change")]
        out.append("<h4>Class counts that changed</h4>")
        out.append(_table([{"class": c.get("class"), f"v{prev.get('version')}": c.get("a"),
                            f"v{s.get('version')}": c.get("b"), "change": c.get("change")} for c in cls]))
        for title, key in (("Added", "added"), ("Removed", "removed")):
            rows = d.get(key) or []
            n = d.get(f"n_{key}", len(rows))
            out.append(f"<h4>{title} ({_e(n)}{', first ' + str(len(rows)) if n > len(rows) else ''})</h4>")
            out.append(_table([{"example_id": r.get("example_id"), "class": r.get("label"), "reason": r.get("reason"),
                                "detail": r.get("detail")} for r in rows]))
    return "".join(out)


def _empty_replies_text(e: dict | None) -> str:
    """The datasheet's "empty replies" line: how many rows had an empty reply and whether they were dropped."""
    if not e or not e.get("n"):
        return "none"
    return (f"{e['n']} rows (left out by --drop-empty)" if e.get("dropped")
            else f"{e['n']} rows (kept; --drop-empty leaves them out)")


def render_datasheet(ws: Workspace, manifest: dict, *, subset_row_ids: np.ndarray,
                     exported_row_ids: Sequence[int]) -> str:
    """The datasheet HTML (a complete document, UTF-8 text) for an export described by ``manifest``.

    subset_row_ids: the subset (k,) before the style dropped rows; exported_row_ids: rows in the file.
    Cost: the diagnostics report card (building its context: ~1 s per 10k embedded rows) plus O(n) pandas.
    """
    exp, sel = manifest["export"], manifest["selection"]
    rk = sel.get("ranking") or {}
    subset = np.asarray(subset_row_ids, dtype=np.int64)
    drops = drop_reasons(ws, manifest, subset, exported_row_ids)
    card, why = _report_card(ws, manifest, subset)
    budget = sel.get("budget") or {}
    budget_txt = (f"{budget['rows']} rows" if budget.get("rows") is not None else
                  f"{budget['tokens']} tokens" if budget.get("tokens") is not None else "none (every ranked row)")
    head = [
        ("file", exp["name"]), ("format", exp["format"]), ("style", exp["style"]), ("rows", exp["n_rows"]),
        ("sha256", exp["sha256"]), ("left out by the style", exp.get("skipped_by_style") or "none"),
        ("empty replies", _empty_replies_text(exp.get("empty_replies"))),
        ("made by", manifest.get("who")), ("made at", manifest.get("created_at")),
        ("project version", (manifest.get("project") or {}).get("version")),
        ("workspace", (manifest.get("workspace") or {}).get("path")),
        ("schema version", (manifest.get("workspace") or {}).get("schema_version")),
    ]
    selection = [
        ("ranking", rk.get("key") or "none (ingest order)"), ("method", rk.get("method")),
        ("parameters", rk.get("params")), ("seed", rk.get("seed")),
        ("embedding model", (manifest.get("embedding") or {}).get("model")),
        ("budget", budget_txt), ("quota", sel.get("quota")), ("class column", sel.get("label_column")),
        ("datasets", sel.get("datasets") or "all"), ("pool rows", sel.get("n_pool")),
        ("subset rows (pins included)", sel.get("n_subset")), ("subset tokens", sel.get("subset_tokens")),
    ]
    src_rows = [{"dataset": s.get("name"), "source": s.get("source"), "sha256": (s.get("sha256") or "")[:16],
                 "shape": s.get("shape"), "rows": s.get("n_rows"), "in subset": s.get("n_in_subset")}
                for s in manifest.get("sources", [])]
    pins = manifest.get("pins") or []
    notes = manifest.get("notes") or []
    tags = manifest.get("tags") or []
    title = f"Datasheet — {exp['name']}"
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">A subset of {_e(sel.get("n_pool"))} examples, {_e(exp["n_rows"])} exported. '
        "Every figure here is computed from the workspace at export time; the manifest beside this file holds "
        "the exact inputs, and <code>python -m curation reproduce MANIFEST</code> rebuilds the file.</p>",
    ]
    if manifest.get("note"):
        parts.append(f'<div class="ok"><b>Curator\'s note:</b> {_e(manifest["note"])}</div>')
    parts += [
        "<h2>Export</h2>", _kv(head),
        "<h2>Selection</h2>", _kv(selection), _score_warnings(ws, rk), _proof_line(ws, manifest),
        _saved_subset_section(manifest),
        "<h2>Class balance</h2>", _class_section(manifest),
        "<h2>Diagnostics report card</h2>",
        _card_html(card, why, classes_shown=bool((manifest.get("counts") or {}).get("pool_by_class"))
                   and card is not None and card.get("label_column") == sel.get("label_column")),
        "<h2>Bias audit</h2>", _audit_section(ws, manifest),
        "<h2>What was dropped and why</h2>", _dropped_section(ws, drops, manifest),
        "<h2>Map</h2>", _map_section(ws, manifest, exported_row_ids),
        "<h2>Curator's decisions</h2>",
        f"<h3>Pins ({len(pins)})</h3>", _table(pins, ["example_id", "pin", "who", "at", "why"]),
        f"<h3>Notes ({len(notes)})</h3>", _table(notes, ["example_id", "note", "who", "at"]),
        f"<h3>Tags ({len(tags)})</h3>", _table(tags, ["example_id", "tag", "who", "at"]),
        "<h2>Sources</h2>", _table(src_rows, numeric=("rows", "in subset")),
        "<h2>Scores and graphs in the workspace</h2>", "<h3>Scores</h3>",
        _table([{"key": d.get("key"), "higher is better": d.get("higher_is_better"), "values": d.get("n_values"),
                 "validity (agreement with human preference)": _validity_label(d),
                 "params": _compact(d.get("params"))} for d in manifest.get("scores", [])]),
        "<h3>Neighbour graphs</h3>",
        _table([{"key": g.get("key"), "model": g.get("model"), "k": g.get("k"), "rows": g.get("n"),
                 "params": _compact(g.get("params"))} for g in manifest.get("graphs", [])]),
        "</body></html>\n",
    ]
    return "".join(parts)
