"""Registry, run_scorer (cache by content hash, per-batch commits, resume after a crash, limit, corpus-level),
external scores and the CLI commands."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from curation.core.errors import CurationError
from curation.cli.scores import add_commands
from curation.scorers import (GROUPS, REGISTRY, Scorer, expand_names, get_scorer, import_scores, is_graph_score,
                              run_scorer, run_scorers, scorer_table)
from curation.scorers.base import response_texts


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def ws(tmp_ws, tmp_path: Path):
    """10 SFT records (two with identical content, one empty response) and 3 preference pairs."""
    from curation.ingest.run import ingest_file

    sft = [{"id": f"s{i}", "instruction": f"Question number {i} about cats?",
            "output": f"Cats are small mammals. Fact {i}.", "reward": i / 10} for i in range(8)]
    sft.append({"id": "dup", "instruction": "Question number 0 about cats?",
                "output": "Cats are small mammals. Fact 0.",
                "reward": 0.0})
    sft.append({"id": "empty", "instruction": "Say nothing.", "output": "", "reward": None})
    ingest_file(tmp_ws, write_jsonl(tmp_path / "sft.jsonl", sft), name="sft")
    pref = [{"id": "p1", "prompt": "Best pet?", "chosen": "A cat, because they are calm.", "rejected": "A dog."},
            {"id": "p2", "prompt": "Best pet?", "chosen": "A dog.", "rejected": "A cat, because they are calm."},
            {"id": "p3", "prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Lyon."}]
    ingest_file(tmp_ws, write_jsonl(tmp_path / "pref.jsonl", pref), name="pref")
    return tmp_ws


class Counting(Scorer):
    """A real (trivial) scorer that records what it was asked to score and can fail on a given call."""

    name = "test_counting"
    higher_is_better = True
    description = "characters in the response (test only)"
    defaults = {"fail_on_call": 0}
    non_key_params = frozenset({"fail_on_call"})
    calls: ClassVar[list[int]] = []

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        Counting.calls.append(len(batch))
        if self.params["fail_on_call"] == len(Counting.calls):
            raise RuntimeError("killed")
        return np.array([np.nan if r is None else float(len(r)) for r in response_texts(batch)])


def test_registry_contract() -> None:
    quality = [n for n in REGISTRY if not is_graph_score(n)]
    assert (set(GROUPS["heuristics"]) | set(GROUPS["preference"]) | set(GROUPS["model"]) | set(GROUPS["learned"])
            | set(GROUPS["judge"]) | set(GROUPS["slices"]) == set(quality))
    for name in quality:
        cls = REGISTRY[name]
        assert cls.name == name and isinstance(cls.higher_is_better, bool)
        assert cls.description and "\n" not in cls.description
        # defaults → bare name (with the code version when it was bumped: old stored values are not reused); a
        # judge's key always names its served model and template (tests/test_judge.py)
        if name in GROUPS["judge"]:
            continue
        assert get_scorer(name).key() == (name if cls.version == 1 else f"{name}(v={cls.version})")
    t = scorer_table()
    assert list(t["name"]) == quality and "api_key" not in str(t["parameters"].tolist())
    assert expand_names(["refusal", "heuristics"])[0] == "refusal"
    with pytest.raises(CurationError, match="unknown scorer"):
        expand_names(["nope"])


def test_graph_derived_scores_are_registry_entries_with_their_analyze_step() -> None:
    from curation.neighbours.graph import SCORE_DOCS
    from curation.workflows.analyze import ANALYZE_STEPS

    graph = {n: REGISTRY[n] for n in REGISTRY if is_graph_score(n)}
    assert set(graph) == set(SCORE_DOCS)
    for name, cls in graph.items():
        assert cls.step in ANALYZE_STEPS and (cls.higher_is_better, cls.description) == SCORE_DOCS[name]
    assert REGISTRY["density_knn"].step == "density" and REGISTRY["cluster"].step == "clusters"
    with pytest.raises(CurationError, match="analyze --steps graph uniqueness"):
        expand_names(["outlier"])                    # not scored batch-wise: the command that computes it


def test_run_scorer_stores_values_and_caches_by_content(ws) -> None:
    Counting.calls.clear()
    seen: list[tuple[int, int]] = []
    key = run_scorer(ws, Counting(), batch_size=4, progress=lambda d, t: seen.append((d, t)))
    assert key == "test_counting"
    s = ws.scores([key])
    ex = ws.examples(["example_id", "kind", "response", "chosen"])
    want = [float(len(r if k != "preference" else c)) for k, r, c in zip(ex["kind"], ex["response"], ex["chosen"])]
    np.testing.assert_allclose(s[key].to_numpy(), want)
    assert sum(Counting.calls) == 12                  # 13 examples, the duplicate content scored once
    assert seen[-1] == (13, 13) and all(d1 <= d2 for (d1, _), (d2, _) in zip(seen, seen[1:]))
    d = ws.score_defs().set_index("key").loc[key]
    assert bool(d["higher_is_better"]) and d["description"] == Counting.description
    assert ws.job(f"score:{key}")["status"] == "done"
    Counting.calls.clear()
    run_scorer(ws, Counting(), batch_size=4)          # everything cached: nothing is scored again
    assert Counting.calls == []


def test_resume_after_crash(ws) -> None:
    Counting.calls.clear()
    with pytest.raises(RuntimeError, match="killed"):
        run_scorer(ws, Counting(fail_on_call=2), batch_size=5)
    job = ws.job("score:test_counting")
    # first batch (5 distinct contents = 6 examples, one is a duplicate) committed before the crash
    assert job["status"] == "failed" and job["done"] == 6 and "killed" in job["message"]
    assert ws.scores(["test_counting"])["test_counting"].notna().sum() == 6
    Counting.calls.clear()
    run_scorer(ws, Counting(), batch_size=5)
    assert sum(Counting.calls) == 12 - 5              # only what was missing
    assert ws.scores(["test_counting"])["test_counting"].notna().sum() == 13


def test_limit_and_heuristic_values(ws) -> None:
    key = run_scorer(ws, "empty", limit=3)
    assert ws.scores([key])[key].notna().sum() == 3
    key = run_scorer(ws, "empty")
    v = ws.scores([key]).set_index("example_id")[key]
    assert v["sft/empty"] == 1.0 and v["sft/s1"] == 0.0


def test_per_reply_scorer_also_scores_rejected_replies(ws) -> None:
    from curation.scorers.run import REJECTED_SUFFIX, pair_scores

    key = run_scorer(ws, "response_length")
    rkey = key + REJECTED_SUFFIX
    s = ws.scores([key, rkey]).set_index("example_id")
    # chosen "A cat, because they are calm." = 6 words, rejected "A dog." = 2 words
    assert s.loc["pref/p1", key] == 6.0 and s.loc["pref/p1", rkey] == 2.0
    assert s.loc["pref/p3", rkey] == 1.0 and np.isnan(s.loc["sft/s1", rkey])   # only preference rows have one
    assert ws.score_defs().set_index("key").loc[rkey, "name"] == "response_length@rejected"
    pairs = pair_scores(ws, key).set_index("example_id")
    assert pairs.loc["pref/p1", "agree"] == 1.0 and pairs.loc["pref/p2", "agree"] == 0.0
    assert pairs.loc["pref/p3", "agree"] == 0.5                    # "Paris." vs "Lyon.": one word each, a tie
    assert len(pairs) == 3
    assert ws.job(f"score:{rkey}")["total"] == 3 and ws.job(f"score:{rkey}")["status"] == "done"
    # a second run finds both keys cached and writes the same values
    assert run_scorer(ws, "response_length") == key
    assert ws.scores([rkey]).set_index("example_id").loc["pref/p1", rkey] == 2.0
    with pytest.raises(CurationError, match="no values for rejected replies"):
        pair_scores(ws, "nope")


def test_preference_scorers_through_run_scorers(ws) -> None:
    keys = run_scorers(ws, ["pref_length_gap", "pref_conflict"])
    s = ws.scores(keys).set_index("example_id")
    assert np.isnan(s.loc["sft/s1", "pref_conflict"])                    # not a preference pair
    assert s.loc["pref/p1", "pref_conflict"] == 1.0 and s.loc["pref/p2", "pref_conflict"] == 1.0
    assert np.isnan(s.loc["pref/p3", "pref_conflict"])                   # prompt occurs once
    assert s.loc["pref/p1", "pref_length_gap"] > 0 > s.loc["pref/p2", "pref_length_gap"]


def test_import_scores_from_record_field_and_files(ws, tmp_path: Path) -> None:
    key = import_scores(ws, "reward")
    assert key == "ext:reward"
    v = ws.scores([key]).set_index("example_id")[key]
    assert v["sft/s3"] == pytest.approx(0.3) and np.isnan(v["sft/empty"]) and np.isnan(v["pref/p1"])
    # a CSV keyed by the records' own ids, a Parquet keyed by example_id
    pd.DataFrame({"id": ["s1", "s2", "zzz"], "quality": [5.0, 1.0, 3.0]}).to_csv(tmp_path / "q.csv", index=False)
    key = import_scores(ws, tmp_path / "q.csv", higher_is_better=False, description="from elsewhere")
    assert key == "ext:q"
    v = ws.scores([key]).set_index("example_id")[key]
    assert v["sft/s1"] == 5.0 and v["sft/s2"] == 1.0 and v.notna().sum() == 2
    assert not bool(ws.score_defs().set_index("key").loc[key, "higher_is_better"])
    pd.DataFrame({"example_id": ["pref/p3"], "a": [1.0], "b": [2.0]}).to_parquet(tmp_path / "r.parquet")
    with pytest.raises(CurationError, match="--score-column"):
        import_scores(ws, tmp_path / "r.parquet")
    key = import_scores(ws, tmp_path / "r.parquet", score_column="b", name="rm")
    assert ws.scores([key]).set_index("example_id").loc["pref/p3", key] == 2.0
    with pytest.raises(CurationError, match="neither an existing scores file nor a field"):
        import_scores(ws, "no_such_field")
    pd.DataFrame({"id": ["x1"], "s": [1.0]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(CurationError, match="match an example"):
        import_scores(ws, tmp_path / "bad.csv")


def _cli(ws, argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(argv)
    return args.func(args, ws)


def test_cli_commands(ws, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(ws, ["scorers"]) == 0
    out = capsys.readouterr().out
    assert "askllm" in out and "lower=better" in out and "groups:" in out
    assert "52.3% of 8,550" in out and "its own CV accuracy" in out        # validity listed per scorer
    assert _cli(ws, ["score", "heuristics", "--quiet", "--param", "n=4"]) == 0
    out = capsys.readouterr().out
    assert "ngram_repetition(n=4): 13 of 13 examples scored" in out     # --param reaches scorers that have n
    assert "prompt_copy: " in out and "refusal: " in out                 # n=4 is prompt_copy's default
    pd.DataFrame({"example_id": ["sft/s1"], "v": [2.5]}).to_csv(tmp_path / "v.csv", index=False)
    assert _cli(ws, ["import-scores", str(tmp_path / "v.csv"), "--name", "judge", "--lower-is-better"]) == 0
    assert "ext:judge: 1 of 13" in capsys.readouterr().out
    with pytest.raises(CurationError, match="at least one kept and one dropped"):
        _cli(ws, ["propose", "5"])                                         # no pins (and no embeddings): a reason
