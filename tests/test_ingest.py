"""Ingest: every shape, every bad-input case (workspace unchanged after a rejected file), idempotent re-ingest."""
from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from curation.core.errors import IngestError
from curation.ingest.run import detect_mapping, ingest_file, split_hh_transcript


def write_jsonl(path: Path, records: list, *, gz: bool = False) -> Path:
    text = "".join(json.dumps(r) + "\n" for r in records)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def snapshot(ws) -> tuple:
    """Everything an ingest could change."""
    return (ws.n_examples(), len(ws.datasets()), tuple(ws.examples(["example_id"])["example_id"]))


ALPACA = [{"instruction": "Name three primary colours.", "input": "", "output": "Red, yellow and blue."},
          {"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour."}]


def test_alpaca_jsonl_and_idempotent_reingest(tmp_ws, tmp_path):
    p = write_jsonl(tmp_path / "alp.jsonl", ALPACA)
    r = ingest_file(tmp_ws, p)
    assert (r.shape, r.kind, r.n_inserted) == ("alpaca", "sft", 2)
    ex = tmp_ws.examples()
    assert list(ex["prompt"]) == ["Name three primary colours.", "Translate to French.\n\nGood morning"]
    assert list(ex["response"]) == ["Red, yellow and blue.", "Bonjour."]
    assert (ex["n_tokens"] > 3).all() and ex["content_hash"].str.len().eq(32).all()
    rec = tmp_ws.example(int(ex["row_id"][1]))["record"]
    assert rec == ALPACA[1]  # the original record, lossless
    r2 = ingest_file(tmp_ws, p)
    assert (r2.n_inserted, r2.n_present) == (0, 2)
    assert tmp_ws.n_examples() == 2


def test_exact_duplicate_records_are_kept_as_separate_examples(tmp_ws, tmp_path):
    p = write_jsonl(tmp_path / "dup.jsonl", ALPACA + [ALPACA[0]])
    ingest_file(tmp_ws, p)
    ids = list(tmp_ws.examples(["example_id"])["example_id"])
    assert len(ids) == 3 and ids[2].endswith("~2")
    ingest_file(tmp_ws, p)
    assert tmp_ws.n_examples() == 3


@pytest.mark.parametrize("records, shape, kind", [
    ([{"instruction": "Q1", "context": "C", "response": "A1", "category": "open_qa"}], "dolly", "sft"),
    ([{"prompt": "Q1", "response": "A1"}], "prompt_response", "sft"),
    ([{"prompt": "Q1", "completion": "A1"}], "prompt_response", "sft"),
    ([{"messages": [{"role": "system", "content": "be nice"}, {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "hello"}]}], "messages", "chat"),
    ([{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}], "sharegpt", "chat"),
    ([{"prompt": "Q1", "chosen": "good", "rejected": "bad"}], "dpo", "preference"),
    ([{"prompt": [{"role": "user", "content": "Q1"}], "chosen": [{"role": "assistant", "content": "good"}],
       "rejected": [{"role": "assistant", "content": "bad"}]}], "dpo", "preference"),
    ([{"chosen": "\n\nHuman: Q1\n\nAssistant: good", "rejected": "\n\nHuman: Q1\n\nAssistant: bad"}],
     "hh_rlhf", "preference"),
    ([{"question_id": 1, "turns": ["Q1", "follow-up"], "category": "x"}], "prompt_only", "prompt"),
])
def test_shapes(tmp_ws, tmp_path, records, shape, kind):
    r = ingest_file(tmp_ws, write_jsonl(tmp_path / "f.jsonl", records))
    assert (r.shape, r.kind) == (shape, kind)
    ex = tmp_ws.examples().iloc[0]
    assert ex["kind"] == kind and ex["prompt"].strip()
    if kind == "preference":
        assert (ex["chosen"], ex["rejected"]) == ("good", "bad")
        assert "Q1" in ex["prompt"]
    if kind in ("sft", "chat"):
        assert ex["response"] in ("A1", "hello")


def test_hh_transcript_split_multi_turn():
    chosen = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: How do I bake bread?\n\nAssistant: Mix flour and water."
    rejected = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: How do I bake bread?\n\nAssistant: No idea."
    prompt, c, r = split_hh_transcript(chosen, rejected)
    assert [m["role"] for m in prompt] == ["user", "assistant", "user"]
    assert prompt[-1]["content"] == "How do I bake bread?"
    assert (c, r) == ("Mix flour and water.", "No idea.")


def test_explicit_mapping_overrides_detection(tmp_ws, tmp_path):
    recs = [{"q": "What is 2+2?", "a": "4", "topic": "math", "instruction": "ignored", "output": "ignored"}]
    r = ingest_file(tmp_ws, write_jsonl(tmp_path / "m.jsonl", recs), shape="prompt_response",
                    mapping={"prompt": "q", "response": "a", "label": "topic"})
    ex = tmp_ws.examples().iloc[0]
    assert (r.shape, ex["prompt"], ex["response"], ex["label"]) == ("prompt_response", "What is 2+2?", "4", "math")


def test_mapping_to_missing_column_names_the_columns(tmp_ws, tmp_path):
    p = write_jsonl(tmp_path / "train.jsonl", [{"prompt": "x", "response": "y"}])
    with pytest.raises(IngestError,
                       match=r"column 'respnse' not found in train.jsonl; columns are .*--response-column"):
        ingest_file(tmp_ws, p, mapping={"response": "respnse"})


def test_csv_with_embedded_newlines_parquet_json_and_gz(tmp_ws, tmp_path):
    c = tmp_path / "d.csv"
    with open(c, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["prompt", "response"])
        w.writerow(["line one\nline two", "answer, with comma"])
    ingest_file(tmp_ws, c)
    assert tmp_ws.examples()["prompt"][0] == "line one\nline two"
    pq = tmp_path / "d.parquet"
    pd.DataFrame({"instruction": ["a", "b"], "output": ["x", "y"], "score": [1.0, float("nan")]}).to_parquet(pq)
    assert ingest_file(tmp_ws, pq).n_inserted == 2
    js = tmp_path / "d.json"
    js.write_text(json.dumps(ALPACA), encoding="utf-8")
    assert ingest_file(tmp_ws, js).n_inserted == 2
    gz = write_jsonl(tmp_path / "g.jsonl.gz", ALPACA, gz=True)
    assert ingest_file(tmp_ws, gz, name="gz").n_inserted == 2
    assert tmp_ws.n_examples() == 7


def test_hf_dataset_saved_to_disk(tmp_ws, tmp_path):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_list(ALPACA)
    ds.save_to_disk(str(tmp_path / "hfds"))
    r = ingest_file(tmp_ws, tmp_path / "hfds")
    assert (r.shape, r.n_inserted) == ("alpaca", 2)


# ------------------------------------------------------------------------------------------------ bad input
def _bad_cases(tmp_path: Path) -> list[tuple[str, Path, str]]:
    cases = []
    p = tmp_path / "malformed.jsonl"
    p.write_text(json.dumps(ALPACA[0]) + "\n{\"instruction\": \"x\", \"output\": \n", encoding="utf-8")
    cases.append(("malformed", p, r"malformed.jsonl line 2: malformed JSON"))
    p = tmp_path / "latin1.jsonl"
    p.write_bytes(json.dumps(ALPACA[0]).encode() + b"\n"
                  + '{"instruction": "caf\xe9", "output": "x"}\n'.encode("latin1"))
    cases.append(("encoding", p, r"latin1.jsonl line 2: invalid UTF-8.*iconv"))
    p = write_jsonl(tmp_path / "missing.jsonl", [ALPACA[0], {"instruction": "only"}, ALPACA[1]])
    cases.append(("missing", p, r"missing.jsonl line 2 field 'output': is missing"))
    p = write_jsonl(tmp_path / "emptyprompt.jsonl", [ALPACA[0], {"instruction": "  ", "output": "x"}])
    cases.append(("empty prompt", p, r"emptyprompt.jsonl line 2 field 'instruction': is empty"))
    p = write_jsonl(tmp_path / "wrongtype.jsonl", [ALPACA[0], {"instruction": 5, "output": "x"}])
    cases.append(("wrong type", p, r"wrongtype.jsonl line 2 field 'instruction': is a number"))
    p = write_jsonl(tmp_path / "shape.jsonl", [{"foo": 1, "bar": 2}])
    cases.append(("unknown shape", p, r"shape.jsonl: cannot recognise the shape from columns \['foo', 'bar'\]"))
    p = tmp_path / "empty.jsonl"
    p.write_text("\n\n", encoding="utf-8")
    cases.append(("empty file", p, r"empty.jsonl: the file is empty"))
    p = write_jsonl(tmp_path / "dupids.jsonl", [dict(ALPACA[0], id="a"), dict(ALPACA[1], id="a")])
    cases.append(("duplicate ids", p, r"dupids.jsonl line 2 field 'id': duplicate id 'a' \(first on line 1"))
    p = tmp_path / "trunc.jsonl.gz"
    full = gzip.compress(("".join(json.dumps(r) + "\n" for r in ALPACA * 50)).encode())
    p.write_bytes(full[: len(full) // 2])
    cases.append(("truncated gzip", p, r"trunc.jsonl.gz: cannot decompress.*truncated or corrupt"))
    p = write_jsonl(tmp_path / "nan.jsonl", [ALPACA[0]])
    p.write_text(p.read_text() + '{"instruction": "x", "output": NaN}\n', encoding="utf-8")
    cases.append(("NaN", p, r"nan.jsonl line 2: malformed JSON"))
    p = write_jsonl(tmp_path / "array.jsonl", [ALPACA[0]])
    p.write_text(p.read_text() + "[1, 2]\n", encoding="utf-8")
    cases.append(("not an object", p, r"array.jsonl line 2: expected a JSON object, found list"))
    return cases


def test_every_bad_input_is_rejected_with_file_line_field_and_nothing_changes(tmp_ws, tmp_path):
    ingest_file(tmp_ws, write_jsonl(tmp_path / "good.jsonl", ALPACA))
    before = snapshot(tmp_ws)
    cases = _bad_cases(tmp_path)
    for label, path, pattern in cases:
        with pytest.raises(IngestError, match=pattern):
            ingest_file(tmp_ws, path)
        assert snapshot(tmp_ws) == before, f"workspace changed after rejected {label} input"
    assert len(cases) == 11


def test_skip_bad_keeps_good_records_and_reports_the_bad(tmp_ws, tmp_path):
    p = tmp_path / "mixed.jsonl"
    p.write_text(json.dumps(ALPACA[0]) + "\nnot json\n" + json.dumps({"instruction": "x"}) + "\n"
                 + json.dumps(ALPACA[1]) + "\n", encoding="utf-8")
    r = ingest_file(tmp_ws, p, skip_bad=True)
    assert r.n_inserted == 2 and r.n_skipped == 2
    assert sorted((x["line"], x["field"]) for x in r.problems) == [(2, None), (3, "output")]


def test_empty_response_kept_by_default_rejected_when_strict(tmp_ws, tmp_path):
    p = write_jsonl(tmp_path / "e.jsonl", [ALPACA[0], {"instruction": "Say something", "output": ""}])
    with pytest.raises(IngestError, match=r"line 2 field 'output': is empty"):
        ingest_file(tmp_ws, p, allow_empty=False)
    assert tmp_ws.n_examples() == 0
    r = ingest_file(tmp_ws, p)
    assert (r.n_inserted, r.n_empty_responses) == (2, 1)


def test_detect_mapping_case_insensitive_columns():
    m = detect_mapping(["Instruction", "Skill"], [])
    assert (m.shape, m.prompt, m.label) == ("prompt_only", "Instruction", "Skill")


# ------------------------------------------------------------------------------------------------ real datasets
def test_hh_rlhf_harmless_base(tmp_ws, shared_datasets):
    r = ingest_file(tmp_ws, shared_datasets / "hh-rlhf" / "harmless-base.test.jsonl.gz")
    assert (r.shape, r.n_inserted) == ("hh_rlhf", 2312)
    ex = tmp_ws.examples()
    raw = [json.loads(line) for line in gzip.open(shared_datasets / "hh-rlhf" / "harmless-base.test.jsonl.gz", "rt")]
    for i in (0, 100, 2311):
        e = ex.iloc[i]
        assert raw[i]["chosen"].endswith(e["chosen"]) and raw[i]["rejected"].endswith(e["rejected"])
        assert "Human:" not in e["chosen"] and "Assistant:" not in e["chosen"]
        last_human = raw[i]["chosen"].rsplit("\n\nHuman: ", 1)[1].split("\n\nAssistant:")[0]
        assert e["prompt"].endswith(last_human)


@pytest.mark.slow
def test_dolly_alpaca_sharegpt_mtbench(tmp_ws, shared_datasets):
    r = ingest_file(tmp_ws, shared_datasets / "dolly-3k-alpagasus" / "dolly_3k.jsonl.gz")
    assert r.n_inserted == 2996
    assert tmp_ws.examples(["label"])["label"].nunique() == 8
    assert ingest_file(tmp_ws, shared_datasets / "alpaca-9k-random" / "alpaca_random_9k.jsonl.gz").n_inserted == 9229
    assert ingest_file(tmp_ws, shared_datasets / "sharegpt-dummy" / "dummy_conversation.jsonl.gz").kind == "chat"
    r = ingest_file(tmp_ws, shared_datasets / "mt-bench" / "mt_bench_questions.jsonl.gz")
    assert (r.kind, r.n_inserted) == ("prompt", 80)
