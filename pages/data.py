"""Data page: choose or create the workspace, add datasets (path or upload, with a preview of the detected shape and
column mapping), start embedding / analysis / scoring jobs with progress bars that survive a page change."""
from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd
import streamlit as st

from curation.workflows.demo import build_demo_workspace
from curation.core.errors import CurationError
from curation.core.paths import ENV, confine, confine_source
from curation.embedding.embed import measured_rate
from curation.scorers import GROUPS as SCORER_GROUPS
from curation.scorers import run_scorers, scorer_table
from pages import formatting as fm, jobs, state, widgets

ws = widgets.header("Data", "Datasets, embeddings and the jobs that compute everything the other pages show.")
MODEL = state.MODEL

# ------------------------------------------------------------------------------------------------ workspace
with st.expander("Workspace file", expanded=False, icon=":material/folder_open:"):
    st.write("Everything — examples, embeddings, scores, maps, rankings and your decisions — lives in one DuckDB "
             "file. Open another one, or type a new path to create it.")
    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    new_path = c1.text_input("Workspace path", value=str(ws.path), key="data:ws_path",
                             help="Inside " + ", ".join(str(r) for r in state.data_roots()) + f" (set by ${ENV}).")
    if c2.button("Open / create", key="data:open_ws", type="primary"):
        try:
            p = confine(new_path, state.data_roots(), what="workspace path")
            if p.suffix != ".duckdb":
                raise CurationError(f"{p} does not end in .duckdb; a workspace is a .duckdb file "
                                    "(e.g. data/my_project.duckdb)")
            state.workspace_at(str(p))
            st.session_state[state.K_WORKSPACE] = str(p)
            st.rerun()
        except CurationError as exc:
            st.error(str(exc))

# ------------------------------------------------------------------------------------------------ summary
summary = ws.summary()
n_emb = summary["embedding_models"].get(MODEL, 0)
c = st.columns(5)
c[0].metric("Examples", fm.fmt_int(summary["examples"]))
c[1].metric("Datasets", fm.fmt_int(summary["datasets"]))
c[2].metric("Embedded", fm.fmt_int(n_emb), help=f"Examples with a vector from {MODEL}")
c[3].metric("Scores", fm.fmt_int(summary["scores"]), help="Stored per-example score columns")
c[4].metric("Decisions", fm.fmt_int(summary["decisions"]), help="Pins, tags and notes in the log")

ds = ws.datasets()
if ds.empty:
    st.info("No dataset yet. Add one below (a .jsonl/.json/.csv/.parquet file of SFT or preference data), or "
            "build the demo data to try the dashboard.", icon=":material/info:")
    if st.button("Build the demo data in this workspace", key="data:demo", icon=":material/science:"):
        jobs.start_job(ws, "ui:demo", "demo", lambda prog: build_demo_workspace(
            ws, n_sft=1000, n_pref=120, progress=prog, log=lambda s: None))
else:
    show = ds[["name", "kind", "shape", "n_rows", "source", "ingested_at"]].rename(
        columns={"n_rows": "examples", "ingested_at": "added"})
    dups: dict[str, list[str]] = {}
    for d in summary["duplicate_content"]:
        dups.setdefault(d["dataset"], []).append(f"{d['n']:,} of {d['duplicates_of']}")
    # rows whose content was already in another dataset when they came in (kept; `dedup` groups them)
    show.insert(4, "duplicates of other datasets", [", ".join(dups.get(n, [])) for n in show["name"]])
    st.dataframe(show, hide_index=True, width="stretch",
                 column_config={"examples": st.column_config.NumberColumn(format="localized")})

# ------------------------------------------------------------------------------------------------ add a dataset
st.subheader("Add a dataset")
src_tab, up_tab = st.tabs(["From a path", "Upload a file"])
with src_tab:
    path_in = st.text_input("File path (.jsonl, .json, .csv, .parquet) or Hugging Face dataset id",
                            key="data:src_path", placeholder="data/train.jsonl",
                            help="A file inside " + ", ".join(str(r) for r in state.data_roots())
                                 + f" (set by ${ENV}), or a hub id such as owner/name.")
with up_tab:
    up = st.file_uploader("Upload", type=["jsonl", "json", "csv", "parquet", "gz"], key="data:upload")
    if up is not None:
        updir = ws.path.parent / f"{ws.path.stem}_uploads"
        updir.mkdir(parents=True, exist_ok=True)
        dest = updir / Path(up.name).name
        dest.write_bytes(up.getvalue())
        st.caption(f"Saved to `{dest}`")
        st.session_state["data:uploaded"] = str(dest)

source = (path_in or "").strip() or st.session_state.get("data:uploaded")
if source:
    try:  # a typed path must lie inside the workspace roots (an upload is saved beside the workspace)
        source = confine_source(source, state.data_roots())
    except CurationError as exc:
        st.error(str(exc))
        source = None
if source:
    from curation.ingest.run import MAPPING_FIELDS, SHAPES, dataset_name_for, resolve_mapping
    from curation.workflows.ingest import ingest
    from curation.ingest.readers import read_records

    try:
        sample = [r for _, r in itertools.islice(read_records(source), 50)]
    except CurationError as exc:
        st.error(str(exc))
        sample = []
    if sample:
        columns = list(dict.fromkeys(k for r in sample for k in r))
        st.caption(f"Preview: first {min(5, len(sample))} of the records read (values shown as text)")
        prev = pd.DataFrame([{k: (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
                              for k, v in r.items()} for r in sample[:5]])
        st.dataframe(prev, hide_index=True, width="stretch")
        c1, c2 = st.columns(2)
        shape = c1.selectbox("Shape", ["(detect)"] + list(SHAPES), key="data:shape",
                             help="How records map to prompt/response or chosen/rejected. Detected from the "
                                  "column names; override when the guess is wrong.")
        name = c2.text_input("Dataset name", value=dataset_name_for(source), key="data:name")
        overrides: dict[str, str] = {}
        with st.expander("Column mapping", expanded=False):
            mc = st.columns(4)
            for i, f in enumerate(MAPPING_FIELDS):
                v = mc[i % 4].selectbox(f, ["(auto)"] + columns, key=f"data:map:{f}")
                if v != "(auto)":
                    overrides[f] = v
        try:
            m = resolve_mapping(columns, sample, shape=None if shape == "(detect)" else shape, overrides=overrides,
                                file=Path(source).name)
            st.success("Detected **" + m.shape + "**: " + ", ".join(
                f"{k} ← `{v}`" for k, v in m.as_dict().items() if v and k != "shape"), icon=":material/check:")
            mapping_ok = True
        except CurationError as exc:
            st.error(str(exc))
            mapping_ok = False
        skip_bad = st.checkbox("Skip bad records (report them) instead of rejecting the file", key="data:skip_bad")
        if st.button("Add dataset", key="data:ingest", type="primary", disabled=not mapping_ok):
            with st.spinner("Reading and normalising…"):
                try:
                    rep = ingest(ws, source, name=name or None, shape=None if shape == "(detect)" else shape,
                                      mapping=overrides, skip_bad=skip_bad)
                    st.success(rep.summary())
                    if rep.problems:
                        st.dataframe(pd.DataFrame(rep.problems[:200]), hide_index=True)
                except CurationError as exc:
                    st.error(str(exc))

# ------------------------------------------------------------------------------------------------ jobs
st.subheader("Compute")
st.caption("Jobs run in the background on this server and write their progress into the workspace: you can "
           "switch pages and come back. Everything is resumable and cached, so re-running is cheap.")


def _embed(prog: jobs.JobProgress) -> None:
    from curation.embedding.embed import embed_workspace

    prog.stage = "embedding"
    embed_workspace(ws, MODEL, progress=prog)


def _analyze(prog: jobs.JobProgress) -> None:
    from curation.workflows.analyze import analyze

    prog.stage = "graph, density, duplicates, clusters, PCA, UMAP"
    analyze(ws, model=MODEL, progress=prog)


def embed_estimate(rate: dict | None, n: int) -> str:
    """How long embedding ``n`` texts takes at this workspace's measured rate (or that there is none yet)."""
    if not rate:
        return ("No embedding speed measured in this workspace yet: the first run measures it (it depends on the "
                "machine, its load and the text lengths).")
    secs = n / rate["rate"] if rate["rate"] > 0 else float("inf")
    eta = f"{secs:.0f} s" if secs < 90 else (f"{secs / 60:.0f} min" if secs < 5400 else f"{secs / 3600:.1f} h")
    when = "the job running now" if rate["running"] else "the last run"
    head = (f"Measured here: {rate['rate']:.1f} texts/s ({when}: {fm.fmt_int(rate['texts'])} texts in "
            f"{rate['seconds']:.0f} s")
    head += f" on {rate['device']})" if rate.get("device") else ")"
    return head + (f", so {fm.fmt_int(n)} new examples take about {eta}." if n > 0 else ".")


jc = st.columns(3)
with jc[0]:
    st.markdown("**1 · Embed**")
    missing = summary["examples"] - n_emb
    st.caption(f"Vectors from `{MODEL}` for every new example. " + embed_estimate(measured_rate(ws, MODEL), missing))
    embedding_now = jobs.running_elsewhere(ws)
    embedding_now = embedding_now[embedding_now["kind"] == "embed"]
    for r in embedding_now.itertuples():
        st.warning(f"An embedding job is running ({'this server' if r.here else 'another process'}): "
                   f"{fm.fmt_int(r.done)} / {fm.fmt_int(r.total)}, updated {r.age_s:.0f} s ago. Wait for it: "
                   "a second one would embed the same texts.", icon=":material/hourglass_top:")
    if st.button(f"Embed {fm.fmt_int(missing)} new examples" if missing else "All embedded",
                 key="data:run_embed", disabled=missing <= 0 or jobs.job_running(ws, "ui:embed")
                 or not embedding_now.empty):
        jobs.start_job(ws, "ui:embed", "embed", _embed)
with jc[1]:
    st.markdown("**2 · Analyze**")
    st.caption("Neighbour graph → density, uniqueness, near duplicates, clusters, PCA and UMAP map.")
    if st.button("Run analysis", key="data:run_analyze", disabled=n_emb < 3 or jobs.job_running(ws, "ui:analyze"),
                 help=None if n_emb >= 3 else "Embed first"):
        jobs.start_job(ws, "ui:analyze", "analyze", _analyze)
with jc[2]:
    st.markdown("**3 · Score**")
    st.caption("Per-example quality signals (cached by content; model scorers are slower).")
    table = scorer_table()
    options = list(SCORER_GROUPS) + table["name"].tolist()
    helptext = "\n".join(f"- **{r.name}** ({'higher' if r.higher_is_better else 'lower'} is better): "
                         f"{r.description}" for r in table.itertuples())
    picked = st.multiselect("Scorers", options, default=["heuristics"] if "heuristics" in SCORER_GROUPS else [],
                            key="data:scorers", help=helptext)
    if st.button("Run scorers", key="data:run_score", disabled=not picked or jobs.job_running(ws, "ui:score")):
        jobs.start_job(ws, "ui:score", "score", lambda prog: run_scorers(ws, picked, progress=prog))

JOB_LABELS = {"ui:demo": "Demo data", "ui:embed": "Embedding", "ui:analyze": "Analysis", "ui:score": "Scoring"}


@st.fragment(run_every=1.0)
def _job_panel() -> None:
    running = jobs.any_job_running(ws, list(JOB_LABELS))
    shown = False
    for key, label in JOB_LABELS.items():
        if jobs.render_job(ws, key, label) is not None:
            shown = True
    if not shown:
        st.caption("No job started from the dashboard yet.")
    if st.session_state.get("data:was_running") and not running:
        st.session_state["data:was_running"] = False
        st.rerun()  # a job just finished: refresh the summary above
    st.session_state["data:was_running"] = running


_job_panel()

with st.expander("All jobs recorded in this workspace (CLI and dashboard)"):
    job_table = ws.jobs()  # not `jobs`: that name is the pages.jobs module the job panel fragment calls
    if job_table.empty:
        st.caption("None yet.")
    else:
        st.dataframe(job_table[["key", "kind", "status", "done", "total", "message", "updated_at"]], hide_index=True,
                     width="stretch")
