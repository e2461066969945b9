"""The report card from a workspace: label sources, scores, preference pairs, unembedded rows and the CLI
(curation/diagnostics/report.py ReportContext.build, curation/cli/report.py)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from curation.diagnostics import ReportContext
from curation.core.errors import CurationError
from curation.core.ranking import Ranking
from curation.store import Workspace

MODEL = "test/synthetic-16d"


def _rows(dataset: str, kind: str, n: int, rng: np.random.Generator) -> pd.DataFrame:
    cats = rng.choice(["math", "poetry", "code"], n, p=[0.5, 0.3, 0.2]) if kind == "sft" else [None] * n
    rows = []
    for i in range(n):
        if kind == "sft":
            rec = {"instruction": f"task {i}", "output": f"answer {i}", "category": cats[i],
                   "meta": {"source": "web" if i % 2 else "book"}}
            prompt, resp, ch, rj = rec["instruction"], rec["output"], None, None
        else:
            ch = "I'm sorry, I can't help with that." if i % 5 == 0 else f"helpful reply number {i} with words"
            rj = f"bad {i}"
            rec = {"chosen": ch, "rejected": rj}
            prompt, resp = f"question {i}", None
        rows.append({"example_id": f"{dataset}/{i}", "dataset": dataset, "source_line": i, "kind": kind,
                     "prompt": prompt, "response": resp, "chosen": ch, "rejected": rj, "messages": None,
                     "label": cats[i], "embed_text": f"{dataset} {i}", "text_hash": f"{dataset}-{i}",
                     "content_hash": f"{dataset}-{i}", "n_tokens": 5, "record": json.dumps(rec)})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    rng = np.random.default_rng(0)
    w = Workspace(tmp_path_factory.mktemp("diagws") / "ws.duckdb")
    for name, kind, n in (("sft", "sft", 240), ("harmless-base", "preference", 60), ("helpful-base", "preference", 60)):
        rows = _rows(name, kind, n, rng)
        w.add_examples({"name": name, "source": f"{name}.jsonl", "shape": "test", "kind": kind}, rows)
    ex = w.examples(["row_id", "example_id", "text_hash", "label"])
    centers = {"math": 0, "poetry": 5, "code": 10}
    X = rng.standard_normal((len(ex), 16)).astype(np.float32) * 0.3
    for i, lab in enumerate(ex["label"]):
        X[i, centers.get(lab, 15)] += 2.0
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    keep = ex["row_id"].to_numpy() % 37 != 5  # a few examples stay unembedded
    w.put_embeddings(MODEL, ex["text_hash"][keep].tolist(), X[keep])
    w.put_scores("quality", ex["example_id"].tolist(), rng.random(len(ex)), higher_is_better=True)
    w.put_scores(f"cluster(model={MODEL})", ex["example_id"].tolist(), (ex["row_id"] % 4).astype(float).to_numpy(),
                 name="cluster", description="cluster id (as curation.neighbours.clusters stores it)")
    order = ex["row_id"].to_numpy()[np.argsort(ex["label"].fillna("zzz").to_numpy(), kind="stable")]  # math last
    w.put_ranking(Ranking(order=order[::-1].copy(), gains=np.full(len(order), np.nan), method="test-rank(seed=0)"))
    return w


def test_build_from_workspace(ws: Workspace) -> None:
    ctx = ReportContext.build(ws, model=MODEL)
    n_all = ws.n_examples()
    assert ctx.n == n_all - len(ctx.unembedded_row_ids) and len(ctx.unembedded_row_ids) > 0
    assert set(ctx.names) == {"math", "poetry", "code", "(none)"}
    r = ws.ranking("test-rank(seed=0)")
    card = ctx.report(r.top(150))
    assert card.n_subset <= 150
    assert list(card.quality["key"]) == ["quality"]  # cluster ids are not a quality score
    assert card.preference is not None
    types = card.preference["types"].set_index("label")
    assert set(types.index) == {"harmless-base", "helpful-base"}
    assert card.probe["per_class"].set_index("label").loc["math", "accuracy"] > 0.9  # separated clusters
    # unembedded ids: reported, not an error; unknown ids: an error
    card = ctx.report(np.concatenate([r.top(20), ctx.unembedded_row_ids[:2]]))
    assert any("have no embedding" in a for a in card.alerts)
    with pytest.raises(CurationError, match="not in the pool"):
        ctx.report([10_000_000])


def test_label_from_record_key_and_score_key(ws: Workspace) -> None:
    ctx = ReportContext.build(ws, model=MODEL, label_column="meta.source")
    assert set(ctx.names) == {"web", "book", "(none)"}
    ctx = ReportContext.build(ws, model=MODEL, label_column="category")
    assert {"math", "poetry", "code"} <= set(ctx.names)
    ctx = ReportContext.build(ws, model=MODEL, label_column="cluster")
    assert set(ctx.names) == {"0", "1", "2", "3"}
    assert ctx.quality_index is not None and ctx.quality_index.keys == ["quality"]
    ctx = ReportContext.build(ws, model=MODEL, label_column="quality")  # any score key works as a label
    assert len(ctx.names) > 100 and ctx.quality_index is None
    ctx = ReportContext.build(ws, model=MODEL, label_column="dataset")
    assert set(ctx.names) == {"sft", "harmless-base", "helpful-base"}
    with pytest.raises(CurationError, match="record keys are"):
        ReportContext.build(ws, model=MODEL, label_column="no_such_field")
    with pytest.raises(CurationError, match="embed"):
        ReportContext.build(ws, model="other/model")


def test_cli_report(ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from curation.cli import main

    rc = main(["--workspace", str(ws.path), "report", "--ranking", "test-rank(seed=0)", "--budget", "100",
               "--model", MODEL, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["n_subset"] <= 100 and out["label_column"] == "label"
    by = {c["label"]: c for c in out["classes"]}
    assert by["math"]["subset_count"] == 0  # the ranking puts math last
    assert any("math" in a and "drops" in a for a in out["alerts"])
    ids = tmp_path / "ids.txt"
    ids.write_text("sft/0\nsft/1\nsft/2\nharmless-base/3\n", encoding="utf-8")
    rc = main(["--workspace", str(ws.path), "report", "--ids", str(ids), "--model", MODEL])
    text = capsys.readouterr().out
    assert rc == 0 and "alerts:" in text and "spectral balance" in text
    rc = main(["--workspace", str(ws.path), "report", "--ranking", "nope", "--budget", "3", "--model", MODEL])
    assert rc == 1 and "no ranking 'nope'" in capsys.readouterr().err
