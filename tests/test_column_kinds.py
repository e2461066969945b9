"""Stored columns have a kind (score, group, flag); each consumer takes only the kinds it can use."""
from __future__ import annotations

import numpy as np
import pytest

from curation.core.errors import CurationError
from curation.core.keys import key_name
from curation.store import Workspace


def test_kinds_by_name_and_explicit(tmp_ws: Workspace, tmp_path) -> None:
    import json

    from curation.ingest.run import ingest_file

    src = tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"q{i}", "response": f"a{i}"}) + "\n" for i in range(6)))
    ingest_file(tmp_ws, src, name="d")
    ids = tmp_ws.id_map()["example_id"].tolist()
    v = np.arange(6, dtype=float)
    tmp_ws.put_scores("neardup_group(model=m)", ids, v)
    tmp_ws.put_scores("cluster(model=m,n_clusters=2)", ids, v % 2)
    tmp_ws.put_scores("outlier(model=m)", ids, v > 3)
    tmp_ws.put_scores("density_knn(model=m)", ids, v, higher_is_better=False)
    tmp_ws.put_scores("topic", ids, v % 3, kind="group")
    kinds = dict(zip(tmp_ws.score_defs()["key"], tmp_ws.score_defs()["kind"]))
    assert kinds == {"neardup_group(model=m)": "group", "cluster(model=m,n_clusters=2)": "group",
                     "outlier(model=m)": "flag", "density_knn(model=m)": "score", "topic": "group"}
    assert tmp_ws.score_defs(kinds=["score"])["key"].tolist() == ["density_knn(model=m)"]
    with pytest.raises(CurationError, match="kind"):
        tmp_ws.put_scores("x", ids, v, kind="colour")


@pytest.fixture(scope="module")
def analysed(tiny_ws, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    import shutil

    from curation.embedding.embed import DEFAULT_MODEL
    from curation.workflows.analyze import analyze

    dst = tmp_path_factory.mktemp("kinds") / "k.duckdb"
    shutil.copy(tiny_ws.path, dst)
    ws = Workspace(dst)
    analyze(ws, model=DEFAULT_MODEL, steps=("graph", "density", "uniqueness", "dedup", "clusters"))
    return ws


def test_report_quality_section_has_no_group_ids(analysed: Workspace) -> None:
    from curation.diagnostics.report import ReportContext

    card = ReportContext.build(analysed).report(analysed.row_ids()[:50])
    keys = card.quality["key"].tolist()
    assert keys and not any(key_name(k) in ("neardup_group", "exactdup_group", "cluster") for k in keys), keys
    assert any(k.startswith("density_knn") for k in keys)


@pytest.mark.parametrize("method", ["topk", "deita"])
def test_selectors_refuse_group_columns(analysed: Workspace, method: str) -> None:
    from curation.select import run_selection

    gk = next(k for k in analysed.score_defs()["key"] if k.startswith("neardup_group"))
    with pytest.raises(CurationError, match="group") as e:
        run_selection(analysed, method, {"score": gk})
    listed = str(e.value).split("scores are", 1)[1]
    assert "neardup_group" not in listed and "density_knn" in listed


def test_selectors_are_offered_only_scores(analysed: Workspace) -> None:
    from curation.select.run import selection_score_keys

    keys = selection_score_keys(analysed.score_defs())
    assert keys and all(not k.startswith(("neardup_group", "exactdup_group", "cluster", "outlier")) for k in keys)
