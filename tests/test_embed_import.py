"""import-embeddings: vectors computed elsewhere (Parquet, .npy/.npz, Arrow IPC, a list field of the records), keyed
by id or row order, validated (bad files refused with the file/row/field and the workspace unchanged), and used
downstream (graph, selection, report card) exactly like computed vectors."""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curation.cli import main
from curation.embedding.importer import import_embeddings
from curation.core.errors import CurationError
from curation.ingest.run import ingest_file
from curation.store import Workspace

N, D = 60, 16
MODEL = "acme/embedder-v1"
CATS = ["cooking", "travel", "code"]


def _clustered(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(CATS), d))
    X = centres[np.arange(n) % len(CATS)] + 0.3 * rng.normal(size=(n, d))
    return (3.0 * X).astype(np.float32)          # deliberately not unit length: the import normalises


@pytest.fixture()
def ws(tmp_path):
    recs = [{"id": f"r{i}", "instruction": f"Question {i} about {CATS[i % 3]}: how does step {i} work?",
             "output": f"Answer {i}: it works in {i % 5 + 1} steps.", "category": CATS[i % 3],
             "emb": [float(x) for x in _clustered(N, D)[i]]} for i in range(N)]
    src = tmp_path / "data.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    w = Workspace(tmp_path / "ws.duckdb")
    ingest_file(w, src)
    return w


def _parquet(path, ids, X) -> None:
    pq.write_table(pa.table({"id": ids, "embedding": [list(map(float, v)) for v in X]}), path)


def _snapshot(ws: Workspace) -> dict:
    tables = ["examples", "embeddings", "jobs", "scores", "graphs", "graph_rows", "datasets", "artifacts"]
    return {t: ws.read_sql(f"select * from {t}").to_json() for t in tables}


def _unit(X: np.ndarray) -> np.ndarray:
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_parquet_by_record_id_then_graph_selection_and_report(ws, tmp_path) -> None:
    from curation.diagnostics.report import ReportContext
    from curation.neighbours.graph import build_graph, load_graph
    from curation.select import run_selection

    X = _clustered(N, D)
    order = np.random.default_rng(1).permutation(N)      # file order differs from ingest order
    _parquet(tmp_path / "v.parquet", [f"r{i}" for i in order], X[order])
    rep = import_embeddings(ws, tmp_path / "v.parquet", model=MODEL)
    assert (rep.n_vectors, rep.dim, rep.n_examples, rep.keyed_by) == (N, D, N, "record id")
    assert rep.n_renormalised == N
    rows, V = ws.embeddings(MODEL)
    assert len(rows) == N and V.dtype == np.float32
    np.testing.assert_allclose(V, _unit(X), atol=1e-5)        # row i got the vector of record r{i}
    # downstream: graph, a selection, the report card, all on the imported model
    build_graph(ws, model=MODEL, k=5)
    g = load_graph(ws, model=MODEL, k=5)
    assert g is not None and g.n == N
    same = np.array([CATS[i % 3] == CATS[j % 3] for i, nb in enumerate(g.idx) for j in nb[:3]])
    assert same.mean() > 0.9                                  # neighbours come from the vectors' clusters
    r = run_selection(ws, "facility", {}, model=MODEL, seed=0)
    assert sorted(r.order.tolist()) == sorted(rows.tolist())
    first = {CATS[int(i) % 3] for i in r.order[:3]}
    assert first == set(CATS)                                 # facility location covers each cluster first
    card = ReportContext.build(ws, model=MODEL, label_column="label").report(r.order[:15])
    assert card.to_dict()                                     # the report card builds on imported vectors


def test_npy_by_row_order_npz_with_ids_arrow_and_record_field(ws, tmp_path) -> None:
    X = _clustered(N, D, seed=3)
    np.save(tmp_path / "v.npy", X)
    rep = import_embeddings(ws, tmp_path / "v.npy", model="m-npy")
    assert rep.keyed_by == "row order"
    np.testing.assert_allclose(ws.embeddings("m-npy")[1], _unit(X), atol=1e-5)

    ids = ws.id_map()["example_id"].to_numpy()
    np.savez(tmp_path / "v.npz", vectors=X[::-1], ids=ids[::-1].astype(str))
    rep = import_embeddings(ws, tmp_path / "v.npz", model="m-npz")
    assert rep.keyed_by == "example_id"
    np.testing.assert_allclose(ws.embeddings("m-npz")[1], _unit(X), atol=1e-5)

    tbl = pa.table({"example_id": ids, "vector": pa.FixedSizeListArray.from_arrays(pa.array(X.ravel()), D)})
    with pa.OSFile(str(tmp_path / "v.arrow"), "wb") as sink, pa.ipc.new_file(sink, tbl.schema) as w:
        w.write_table(tbl)
    import_embeddings(ws, tmp_path / "v.arrow", model="m-arrow")
    np.testing.assert_allclose(ws.embeddings("m-arrow")[1], _unit(X), atol=1e-5)

    rep = import_embeddings(ws, "emb", model="m-field")          # the list field of the ingested records
    assert rep.keyed_by == "record field" and rep.n_examples == N
    np.testing.assert_allclose(ws.embeddings("m-field")[1], _unit(_clustered(N, D)), atol=1e-5)


def test_cli_import_then_graph(ws, tmp_path, capsys) -> None:
    _parquet(tmp_path / "v.parquet", [f"r{i}" for i in range(N)], _clustered(N, D))
    assert main(["--workspace", str(ws.path), "import-embeddings", str(tmp_path / "v.parquet"), "--model",
                 MODEL]) == 0
    assert f"{N} vectors of dimension {D}" in capsys.readouterr().out
    assert main(["--workspace", str(ws.path), "graph", "--model", MODEL, "--k", "5"]) == 0
    # a second import of the same vectors keeps what is there
    rep = import_embeddings(ws, tmp_path / "v.parquet", model=MODEL)
    assert rep.n_stored == 0 and rep.n_kept == N


def _bad_cases(tmp_path, ws):
    X = _clustered(N, D)
    ids = [f"r{i}" for i in range(N)]
    cases = {}
    ragged = [list(map(float, v)) for v in X]
    ragged[7] = ragged[7][:-1]
    pq.write_table(pa.table({"id": ids, "embedding": ragged}), tmp_path / "ragged.parquet")
    cases["ragged.parquet"] = (r"ragged\.parquet row 7 \(id 'r7'\) field 'embedding'.*15 values but row 0 has 16", {})
    np.save(tmp_path / "wrongdim.npy", _clustered(N, D + 4))
    cases["wrongdim.npy"] = ((r"wrongdim\.npy: the vectors have dimension 20 but 'acme/embedder-v1' already has "
                              r"vectors of dimension 16"), {})
    nan = X.copy()
    nan[11, 3] = np.nan
    _parquet(tmp_path / "nan.parquet", ids, nan)
    cases["nan.parquet"] = (r"nan\.parquet row 11 \(id 'r11'\) field 'embedding'.*NaN or infinity", {})
    inf = X.copy()
    inf[5, 0] = np.inf
    np.save(tmp_path / "inf.npy", inf)
    cases["inf.npy"] = (r"inf\.npy row 5 field 'array'.*NaN or infinity", {})
    zero = X.copy()
    zero[9] = 0
    _parquet(tmp_path / "zero.parquet", ids, zero)
    cases["zero.parquet"] = (r"zero\.parquet row 9 \(id 'r9'\).*all zeros", {})
    _parquet(tmp_path / "dup.parquet", ids[:-1] + ["r3"], X)
    cases["dup.parquet"] = (r"dup\.parquet row 59 field 'id': duplicate id 'r3' \(first on row 3", {})
    _parquet(tmp_path / "unknown.parquet", ids[:-1] + ["nope-42"], X)
    cases["unknown.parquet"] = (r"unknown\.parquet row 59 field 'id': id 'nope-42' matches no example", {})
    _parquet(tmp_path / "missing.parquet", ids[:-2], X[:-2])
    cases["missing.parquet"] = (r"missing\.parquet: 2 of 60 examples have no vector.*--allow-missing", {})
    _parquet(tmp_path / "full.parquet", ids, X)
    data = (tmp_path / "full.parquet").read_bytes()
    (tmp_path / "truncated.parquet").write_bytes(data[: len(data) * 2 // 3])
    cases["truncated.parquet"] = ((r"truncated\.parquet: not a readable Parquet file \(the footer is missing: "
                                   r"the file is truncated"), {})
    np.save(tmp_path / "short.npy", X[:-1])
    cases["short.npy"] = (r"short\.npy: 59 vectors but 60 examples in the workspace \(keyed by row order\)", {})
    return cases


def test_bad_vectors_files_are_refused_and_leave_the_workspace_unchanged(ws, tmp_path) -> None:
    # the model already has vectors (so a wrong dimension has something to disagree with)
    _parquet(tmp_path / "good.parquet", [f"r{i}" for i in range(N)], _clustered(N, D))
    import_embeddings(ws, tmp_path / "good.parquet", model=MODEL)
    cases = _bad_cases(tmp_path, ws)
    before = _snapshot(ws)
    for name, (pattern, kw) in cases.items():
        with pytest.raises(CurationError, match=pattern) as err:
            import_embeddings(ws, tmp_path / name, model=MODEL, **kw)
        assert "nothing was imported" in str(err.value), name
        assert _snapshot(ws) == before, f"{name} changed the workspace"
    # through the CLI: one line on stderr, exit code 1, workspace unchanged
    assert main(["--workspace", str(ws.path), "import-embeddings", str(tmp_path / "nan.parquet"), "--model",
                 MODEL]) == 1
    assert _snapshot(ws) == before


def test_partial_import_with_allow_missing_then_unknown_dataset(ws, tmp_path) -> None:
    X = _clustered(N, D)
    _parquet(tmp_path / "part.parquet", [f"r{i}" for i in range(40)], X[:40])
    rep = import_embeddings(ws, tmp_path / "part.parquet", model="m-part", allow_missing=True)
    assert rep.n_examples == 40 and len(ws.embeddings("m-part")[0]) == 40
    with pytest.raises(CurationError, match="no dataset 'other'"):
        import_embeddings(ws, tmp_path / "part.parquet", model="m-part", dataset="other")
    with pytest.raises(CurationError, match="needs --model"):
        import_embeddings(ws, tmp_path / "part.parquet", model=" ")
