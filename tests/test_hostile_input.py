"""Hostile input to ingest: lone surrogates in any field and reader, a gzip bomb, an over-long word's token count,
chosen == rejected pairs, and a deeply nested .json file's error line."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from curation.cli import main
from curation.core.errors import IngestError
from curation.ingest.run import count_tokens, ingest_file

SURROGATE_LINE = '{"instruction": "two", "output": "bad \\ud800 reply"}'


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _good(i: int) -> str:
    return json.dumps({"instruction": f"question {i}", "output": f"answer {i}"})


# ---------------------------------------------------------------------------------------------- lone surrogates
def test_a_lone_surrogate_in_jsonl_is_refused_with_file_line_and_field(tmp_ws, tmp_path):
    f = _jsonl(tmp_path / "s.jsonl", [_good(1), SURROGATE_LINE, _good(3)])
    with pytest.raises(IngestError) as ei:
        ingest_file(tmp_ws, f)
    msg = str(ei.value)
    assert "s.jsonl line 2" in msg and "'output'" in msg and "surrogate" in msg
    assert tmp_ws.n_examples() == 0


def test_skip_bad_keeps_the_good_rows_around_a_lone_surrogate(tmp_ws, tmp_path):
    f = _jsonl(tmp_path / "s.jsonl", [_good(1), SURROGATE_LINE, _good(3)])
    rep = ingest_file(tmp_ws, f, skip_bad=True)
    assert rep.n_inserted == 2 and rep.n_skipped == 1
    assert rep.problems[0]["line"] == 2 and rep.problems[0]["field"] == "output"


def test_a_lone_surrogate_in_a_nested_field_or_a_key_is_refused(tmp_ws, tmp_path):
    lines = [_good(1), '{"instruction": "q", "output": "a", "meta": {"src": ["x", "\\udfff"]}}',
             '{"instruction": "q2", "output": "a2", "\\ud801": 1}']
    f = _jsonl(tmp_path / "n.jsonl", lines)
    rep = ingest_file(tmp_ws, f, skip_bad=True)
    assert rep.n_inserted == 1
    assert [p["line"] for p in rep.problems] == [2, 3]
    assert rep.problems[0]["field"] == "meta.src[1]"
    assert rep.problems[1]["field"] == "\\ud801 (a key)"


def test_a_lone_surrogate_in_a_json_array_names_the_item(tmp_ws, tmp_path):
    f = tmp_path / "a.json"
    f.write_text("[" + ",\n".join([_good(1), SURROGATE_LINE]) + "]", encoding="utf-8")
    with pytest.raises(IngestError, match=r"a.json line 2 field 'output'.*surrogate"):
        ingest_file(tmp_ws, f)
    assert ingest_file(tmp_ws, f, skip_bad=True).n_inserted == 1


def test_a_surrogate_encoded_in_csv_bytes_is_skipped_with_its_row_under_skip_bad(tmp_ws, tmp_path):
    f = tmp_path / "c.csv"
    f.write_bytes(b"instruction,output\nq1,a1\nq2,bad \xed\xa0\x80 reply\nq3,a3\n")
    with pytest.raises(IngestError, match="line 3"):  # file line 3 = data row 2
        ingest_file(tmp_ws, f)
    rep = ingest_file(tmp_ws, f, skip_bad=True)
    assert rep.n_inserted == 2 and rep.problems[0]["field"] == "output"


def test_invalid_utf8_in_a_parquet_string_column_names_row_and_field(tmp_ws, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw = pa.array([b"a1", b"bad \xed\xa0\x80", b"a3"], pa.binary())
    bad = pa.Array.from_buffers(pa.string(), 3, raw.buffers())  # a string column holding invalid UTF-8
    f = tmp_path / "p.parquet"
    pq.write_table(pa.table({"instruction": ["q1", "q2", "q3"], "output": bad}), f)
    with pytest.raises(IngestError, match=r"p.parquet line 2 field 'output'"):
        ingest_file(tmp_ws, f)
    rep = ingest_file(tmp_ws, f, skip_bad=True)
    assert rep.n_inserted == 2 and rep.problems[0]["line"] == 2


def test_cli_reports_a_lone_surrogate_in_one_line(tmp_path, capsys):
    f = _jsonl(tmp_path / "s.jsonl", [_good(1), SURROGATE_LINE])
    rc = main(["--workspace", str(tmp_path / "w.duckdb"), "ingest", str(f)])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("error: s.jsonl line 2 field 'output'") and "Traceback" not in err
    assert main(["--workspace", str(tmp_path / "w.duckdb"), "ingest", str(f), "--skip-bad"]) == 0


# ---------------------------------------------------------------------------------------------- decompression bound
def _bomb(path: Path, n_mib: int) -> Path:
    """A small .gz whose content (one good line, then zeros inside a string) expands to n_mib MiB."""
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write((_good(1) + "\n").encode())
        fh.write(b'{"instruction": "q", "output": "')
        zeros = b"0" * (1 << 20)
        for _ in range(n_mib):
            fh.write(zeros)
        fh.write(b'"}\n')
    return path


def test_a_gzip_bomb_is_refused_at_the_decompression_bound(tmp_ws, tmp_path):
    f = _bomb(tmp_path / "bomb.jsonl.gz", 8)
    assert f.stat().st_size < 100_000
    with pytest.raises(IngestError) as ei:
        ingest_file(tmp_ws, f, max_uncompressed=2 << 20)
    msg = str(ei.value)
    assert "bomb.jsonl.gz" in msg and "2 MiB" in msg and "--max-uncompressed" in msg
    assert tmp_ws.n_examples() == 0


def test_the_decompression_bound_applies_to_every_reader(tmp_ws, tmp_path):
    for name, body in (("b.json.gz", b"[" + b" " * (3 << 20) + b"]"),
                       ("b.csv.gz", b"instruction,output\n" + b"q," + b"a" * (3 << 20) + b"\n"),
                       ("b.parquet.gz", b"PAR1" + b"\0" * (3 << 20))):
        f = tmp_path / name
        with gzip.open(f, "wb") as fh:
            fh.write(body)
        with pytest.raises(IngestError, match="--max-uncompressed"):
            ingest_file(tmp_ws, f, max_uncompressed=1 << 20)


def test_a_parquet_file_whose_columns_expand_past_the_bound_is_refused(tmp_ws, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    f = tmp_path / "z.parquet"
    pq.write_table(pa.table({"instruction": ["q"] * 4, "output": ["0" * (1 << 20)] * 4}), f, compression="zstd",
                   use_dictionary=False)
    assert f.stat().st_size < 200_000
    with pytest.raises(IngestError, match=r"z.parquet: its columns expand to .* MiB.*--max-uncompressed"):
        ingest_file(tmp_ws, f, max_uncompressed=1 << 20)
    assert ingest_file(tmp_ws, f, max_uncompressed="64MiB").n_inserted == 4


def test_cli_max_uncompressed_raises_the_bound(tmp_path, capsys):
    f = _bomb(tmp_path / "bomb.jsonl.gz", 3)
    ws = str(tmp_path / "w.duckdb")
    assert main(["--workspace", ws, "ingest", str(f), "--max-uncompressed", "1MiB"]) == 1
    err = capsys.readouterr().err
    assert "--max-uncompressed" in err and "Traceback" not in err
    assert main(["--workspace", ws, "ingest", str(f), "--max-uncompressed", "64MiB"]) == 0


# ---------------------------------------------------------------------------------------------- token counts
def test_token_counts_count_all_of_an_over_long_word():
    n1, n2 = count_tokens(["x" * 20_000, "x" * 40_000])
    assert n1 > 200          # WordPiece alone makes a word over 100 characters one [UNK]
    assert 1.9 < n2 / n1 < 2.1
    # ordinary text is counted as before
    assert count_tokens(["hello world"]) == [2]


def test_an_ingested_over_long_reply_is_counted_in_full(tmp_ws, tmp_path):
    f = _jsonl(tmp_path / "long.jsonl", [json.dumps({"instruction": "q", "output": "y" * 100_000})])
    ingest_file(tmp_ws, f)
    assert int(tmp_ws.examples(["n_tokens"])["n_tokens"].iloc[0]) > 1000


# ---------------------------------------------------------------------------------------------- chosen == rejected
def test_chosen_equal_to_rejected_is_counted_and_warned(tmp_ws, tmp_path, capsys):
    recs = [{"prompt": "p1", "chosen": "a", "rejected": "b"}, {"prompt": "p2", "chosen": "same", "rejected": "same"},
            {"prompt": "p3", "chosen": "c", "rejected": "c"}]
    f = _jsonl(tmp_path / "pairs.jsonl", [json.dumps(r) for r in recs])
    rep = ingest_file(tmp_ws, f)
    assert rep.n_inserted == 3 and rep.n_identical_pairs == 2
    assert "2 pairs with chosen == rejected" in rep.summary()
    assert main(["--workspace", str(tmp_ws.path), "info"]) == 0
    assert "2 pairs with chosen == rejected" in capsys.readouterr().out


def test_a_deeply_nested_json_file_error_names_the_real_line(tmp_ws, tmp_path):
    f = tmp_path / "deep.json"
    f.write_text("[\n" + _good(1) + ",\n" + '{"instruction": "q", "output": "a", "deep": ' + "[" * 80 + "]" * 80
                 + "}\n]\n", encoding="utf-8")
    with pytest.raises(IngestError) as ei:
        ingest_file(tmp_ws, f)
    assert "deep.json line 3" in str(ei.value) and "nested" in str(ei.value)
