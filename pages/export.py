"""Export page: write the current subset (ranking + budget + quotas + pins from the Select page) as a training-ready
file with a manifest that reproduces it and a datasheet; list past exports and check that one reproduces."""
from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from curation.core.errors import CurationError
from curation.export import FORMATS, STYLE_HELP, STYLES, export_subset
from curation.select.run import ranking_warnings
from curation.workflows.reproduce import reproduce
from pages import formatting as fm, jobs, saved, state, widgets

ws = widgets.header("Export", "The draft on the Select page or a saved subset, as a file your trainer reads, with a "
               "manifest (everything needed to rebuild it byte for byte) and a datasheet.")
P = str(ws.path)
S = state.stamp(ws)


source = saved.pick(ws, "What to export", "export:source",
                    help="The draft on the Select page, or a saved subset version (the manifest records its name and "
                         "version; the datasheet its history and what changed since the version exported before)")
if source is None:
    _, chosen = widgets.require_subset(ws)
    spec = state.current_spec(ws)
    n_inc, n_exc = (len(a) for a in state.pin_arrays(ws))
    pins_txt = f"current pins ({n_inc:,} include, kept even beyond the budget; {n_exc:,} exclude)"
else:
    version = saved.load_ref(ws, source)
    spec = version.spec
    _, _, chosen = saved.rows_of(ws, source)
    pins_txt = f"pins as of decision #{version.decision_pos} (frozen when {fm.md_escape(source)} was saved)"
quota = spec.quota
desc = ("no budget" if spec.budget is None else f"{int(spec.budget):,} tokens" if spec.unit == "tokens" else
        f"{spec.budget:g}% of the pool" if spec.unit == "%" else f"{int(spec.budget):,} rows")
st.info(f"Subset: **{len(chosen):,}** examples — ranking `{spec.ranking or 'ingest order'}`, budget {desc}"
        f"{', quota ' + (quota if isinstance(quota, str) else 'custom') if quota else ''}; {pins_txt}.",
        icon=":material/checklist:")
for _w in ranking_warnings(ws, spec.ranking):   # the ranking consumed a quality score that is near chance
    st.warning(_w, icon=":material/warning:")

kinds = state.load_meta(P, S).set_index("row_id").reindex(chosen)["kind"].value_counts()
default_style = "dpo" if set(kinds.index) == {"preference"} else "original"
c1, c2, c3 = st.columns(3)
fmt = c1.selectbox("Format", FORMATS, key="export:fmt",
                   help="jsonl (one record per line), parquet, csv (nested values as JSON text), or hf (a "
                        "datasets.save_to_disk folder)")
style = c2.selectbox("Style", STYLES, index=STYLES.index(default_style), key="export:style",
                     format_func=lambda s: f"{s} — {STYLE_HELP.get(s, '')}",
                     help="\n".join(f"- **{k}**: {v}" for k, v in STYLE_HELP.items()))
name = c3.text_input("File name", value=f"subset_{len(chosen)}", key="export:name",
                     help=f"Written inside {ws.export_dir} (names outside that folder are refused)")
d1, d2, d3 = st.columns(3)
datasheet = d1.checkbox("Write the datasheet (HTML report card)", value=True, key="export:datasheet")
overwrite = d2.checkbox("Overwrite an existing export of that name", key="export:overwrite")
datasets = d3.multiselect("Only these datasets", ws.datasets()["name"].tolist(), key="export:datasets",
                          help="Empty = every dataset" + ("" if source is None else " (a saved subset keeps its own)"),
                          disabled=source is not None)
drop_empty = st.checkbox("Leave out rows with an empty reply", key="export:drop_empty",
                         help="A preference pair with an empty chosen or rejected reply, or an instruction row with an "
                              "empty response, teaches nothing useful (a DPO trainer takes the empty text as a real "
                              "answer). Either way they are counted in the export report, the manifest and the "
                              "datasheet.")
note = st.text_input("Note for the manifest (optional)", key="export:note")
st.caption("Rows by kind in the subset: " + ", ".join(f"{k} {v:,}" for k, v in kinds.items()))

if st.button("Export", key="export:go", type="primary", icon=":material/download:"):
    with st.spinner("Writing the file, the manifest and the datasheet…"):
        try:
            if source is None:
                res = export_subset(ws, spec.replace(datasets=tuple(datasets) if datasets else None), fmt=fmt,
                                    style=style, name=name, overwrite=overwrite, who=state.curator(),
                                    datasheet=datasheet, note=note or None, drop_empty=drop_empty)
            else:
                res = export_subset(ws, subset=source, fmt=fmt, style=style, name=name, overwrite=overwrite,
                                    who=state.curator(), datasheet=datasheet, note=note or None,
                                    drop_empty=drop_empty)
            st.session_state["export:last"] = {"path": str(res.path), "manifest": str(res.manifest_path),
                                               "datasheet": str(res.datasheet_path) if res.datasheet_path else None,
                                               "n_rows": res.n_rows, "sha256": res.sha256, "skipped": res.skipped,
                                               "n_empty": res.n_empty_replies, "dropped_empty": res.dropped_empty}
        except CurationError as exc:
            st.error(str(exc))

last = st.session_state.get("export:last")
if last:
    st.success(f"Exported {last['n_rows']:,} rows to `{last['path']}`", icon=":material/check_circle:")
    if last["skipped"]:
        st.warning("Left out (the style cannot express them): " +
                   ", ".join(f"{n:,} {k}" for k, n in last["skipped"].items()))
    if last.get("dropped_empty"):
        st.info(f"Left out {last['dropped_empty']:,} rows with an empty reply.", icon=":material/filter_alt:")
    elif last.get("n_empty"):
        st.warning(f"{last['n_empty']:,} exported rows have an empty reply (chosen, rejected or response). Tick "
                   "\"Leave out rows with an empty reply\" and export again to drop them.", icon=":material/warning:")
    st.caption(f"sha256 {last['sha256']}")
    dl = st.columns(3)
    for col, (label, p, mime) in zip(dl, (("Data", last["path"], "application/octet-stream"),
                                          ("Manifest", last["manifest"], "application/json"),
                                          ("Datasheet", last["datasheet"], "text/html"))):
        if p and Path(p).is_file() and Path(p).stat().st_size < 200 << 20:
            col.download_button(f"Download {label.lower()}", Path(p).read_bytes(), file_name=Path(p).name,
                                mime=mime, key=f"export:dl:{label}")

st.subheader("Past exports")
ex = ws.exports()
if ex.empty:
    st.caption("None yet.")
else:
    st.dataframe(ex[["id", "path", "format", "n_rows", "created_at"]].iloc[::-1], hide_index=True, width="stretch")
    st.subheader("Reproduce an export")
    st.caption("Rebuilds the export from its manifest in a fresh workspace (re-ingest, embed, score, rank, pins) "
               "and compares the bytes. Minutes for large pools; runs in the background.")
    manifests = [str(p) for p in sorted(ws.export_dir.glob("*.manifest.json"), key=lambda p: p.stat().st_mtime)]
    if manifests:
        pick = st.selectbox("Manifest", manifests[::-1], key="export:manifest")
        running = jobs.job_running(ws, "ui:reproduce")
        if st.button("Reproduce", key="export:reproduce", disabled=running):
            jobs.start_job(ws, "ui:reproduce", "reproduce", lambda prog, m=pick: reproduce(m).summary())

        @st.fragment(run_every=1.0 if running else None)
        def _repro() -> None:
            status = jobs.render_job(ws, "ui:reproduce", "Reproduction")
            if status == "done":
                st.text(str(jobs.job_result(ws, "ui:reproduce") or ""))
            if status != "running" and st.session_state.get("export:was_running"):
                st.session_state["export:was_running"] = False
                st.rerun()
            st.session_state["export:was_running"] = status == "running"

        _repro()
    with st.expander("Manifest of the latest export"):
        m = ex.iloc[-1]["manifest"]
        st.code(json.dumps(json.loads(m) if isinstance(m, str) else m, indent=2, ensure_ascii=False)[:20000],
                language="json", wrap_lines=True)
