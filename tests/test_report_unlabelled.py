"""The report card of a workspace without labels (typical of preference data): embedding clusters stand in."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from curation.store import Workspace


@pytest.fixture(scope="module")
def pref_ws(tmp_path_factory: pytest.TempPathFactory, tiny_demo) -> Workspace:
    """Only the demo preference pairs (no label column), embedded with the default model."""
    import json
    import shutil

    from curation.embedding.embed import DEFAULT_MODEL, embed_workspace
    from curation.ingest.run import ingest_file

    paths, _ = tiny_demo
    root = tmp_path_factory.mktemp("prefws")
    src = root / "pairs.jsonl"  # the demo pairs without their "type" field: no label column at all
    with open(paths["pref"], encoding="utf-8") as fin, open(src, "w", encoding="utf-8") as fout:
        for line in fin:
            rec = json.loads(line)
            rec.pop("type", None)
            fout.write(json.dumps(rec) + "\n")
    ws = Workspace(root / "pref.duckdb")
    ingest_file(ws, src, name="pairs")
    embed_workspace(ws, DEFAULT_MODEL)
    assert ws.examples(["label"])["label"].isna().all()
    keep = ws.path.with_name("pristine.duckdb")
    shutil.copy(ws.path, keep)
    return ws


def _copy(ws: Workspace, tmp_path: Path) -> Workspace:
    import shutil

    shutil.copy(ws.path.with_name("pristine.duckdb"), tmp_path / "w.duckdb")
    return Workspace(tmp_path / "w.duckdb")


def test_report_without_labels_groups_by_embedding_clusters(pref_ws: Workspace, tmp_path: Path) -> None:
    from curation.diagnostics.report import ReportContext, format_card

    ws = _copy(pref_ws, tmp_path)
    ctx = ReportContext.build(ws)
    ids = ws.row_ids()[:20]
    card = ctx.report(ids)
    assert card.label_column.startswith("cluster")
    assert any("no labels" in n and "cluster" in n for n in card.notes), card.notes
    assert len(card.classes) >= 2  # the clusters are the groups
    assert np.isfinite(card.coverage["vendi_subset"])
    assert card.preference is not None
    text = format_card(card)
    assert "no labels" in text and "coverage" in text and "preference pairs" in text


def test_report_without_labels_uses_stored_clusters(pref_ws: Workspace, tmp_path: Path) -> None:
    from curation.neighbours.clusters import cluster
    from curation.diagnostics.report import ReportContext

    ws = _copy(pref_ws, tmp_path)
    cluster(ws, n_clusters=3)
    card = ReportContext.build(ws).report(ws.row_ids()[:10])
    key = next(k for k in ws.score_defs()["key"] if str(k).startswith("cluster"))
    assert card.label_column == key
    assert len(card.classes) == 3


def test_named_empty_label_column_is_still_an_error(pref_ws: Workspace, tmp_path: Path) -> None:
    from curation.diagnostics.report import ReportContext
    from curation.core.errors import CurationError

    ws = _copy(pref_ws, tmp_path)
    with pytest.raises(CurationError, match="source_line|empty|not a column"):
        ReportContext.build(ws, label_column="no_such_key")


def test_datasheet_of_unlabelled_workspace_has_a_report_card(pref_ws: Workspace, tmp_path: Path) -> None:
    from curation.export import export_subset

    ws = _copy(pref_ws, tmp_path)
    res = export_subset(ws, ranking_key=None, name="pairs", style="dpo")
    html = Path(res.datasheet_path).read_text(encoding="utf-8")
    assert "Report card unavailable" not in html
    assert "no labels" in html
