"""Scores page panels for issue 23: the length-controlled validity of a score beside its raw figure, and the
recommended quality path ("pin 50, train, review proposals") when no model judge is configured. Rendering only;
the figures come from :mod:`curation.scorers.validity`."""
from __future__ import annotations

from typing import Any

import streamlit as st

from curation.scorers.validity import (controlled_label, length_inconclusive, mostly_length, near_chance,
                                       no_better_than_length, quality_path, strata_label)


def length_validity(v: dict[str, Any] | None, in_workspace: dict[str, Any] | None = None) -> None:
    """The length-controlled figure next to the raw one (measured validity, and this workspace's own pairs when
    the score has rejected-reply values), and a warning when the score is mostly length."""
    lines = []
    if v and v.get("length"):
        lab = controlled_label(v["length"])
        if lab:
            lines.append(f"Length-controlled: {lab}"
                         + (" (cross-validated)" if v["length"].get("cross_validated") else "")
                         + (": too few length-matched pairs to tell whether it is more than length"
                            if length_inconclusive(v) else "") + ".")
            if strata_label(v["length"]):
                lines.append(f"Agreement {strata_label(v['length'])} pairs.")
    if in_workspace:
        lab = controlled_label(in_workspace)
        if lab:
            lines.append(f"On this workspace's pairs: {lab}; {strata_label(in_workspace)}.")
    why = None if near_chance(v) or no_better_than_length(v) else mostly_length(v)   # else: warned already
    ws_why = mostly_length({"length": in_workspace}) if in_workspace else None
    if why or ws_why:
        st.warning(f"This score is {why or ws_why}" + (" on this workspace's own preference pairs" if not why else "")
                   + ". Ranking by it mostly ranks by reply length; choose a length=controlled variant (learned "
                   "heads) or the curator model below.", icon=":material/straighten:")
    for line in lines:
        st.caption(line)


def recommend(ws: Any) -> None:
    """When no model judge is configured: the curator model as the quality path, with its cross-validated and
    length-matched figures (or where they will appear)."""
    qp = quality_path(ws)
    if qp["judge"]:
        return
    inc, exc = qp["pins"]
    with st.container(border=True):
        st.markdown("**Recommended quality path (no model judge configured): pin "
                    f"{qp['target']}, train, review proposals.** Pin rows include / exclude (Inspect, or the table "
                    "below), then *Train curator model and propose rows* under *Learned scorers*; it learns P(keep) "
                    "from your pins and lists the rows it is least sure about to pin next.")
        st.progress(min(1.0, (inc + exc) / qp["target"]),
                    text=f"{inc + exc} of {qp['target']} pins ({inc} include, {exc} exclude)")
        for step, done in qp["steps"]:
            st.markdown(f"- {':material/check_circle:' if done else ':material/radio_button_unchecked:'} {step}")
        cur = qp["curator"] or qp["controlled"]
        v = cur["validity"] if cur else None
        if v:
            lc = v.get("length") or {}
            raw = lc.get("raw")
            st.caption(f"curator model `{cur['key']}`: cross-validated accuracy {100 * v['agreement']:.1f}% on "
                       f"{v['n']} pinned rows"
                       + (f", ROC AUC {100 * raw['agreement']:.1f}%" if raw else "")
                       + (f"; {controlled_label(lc)}" if controlled_label(lc) else
                          "; length-matched figure: too few kept/dropped pairs of similar length yet")
                       + ".")
            why = mostly_length(v)
            if why:
                st.warning(f"The curator model is {why}: your pins may follow length; pin long rows you drop and "
                           "short rows you keep, or use its length=controlled variant.", icon=":material/straighten:")
        else:
            st.caption("Its cross-validated figure and its length-matched figure (ROC AUC over kept/dropped rows "
                       "within 20% of each other's length) appear here after the first training. On a hidden keep "
                       "rule it reached ROC AUC 0.96 after 100 pins (benchmarks/bench_curator.py).")
