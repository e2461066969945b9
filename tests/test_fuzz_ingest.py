"""Property-based / fuzz suite over the readers and the column mapping.

Every generated input must end in either a successful ingest or a clear IngestError naming the file — never
another exception — and a rejected ingest must leave the workspace exactly as it was. Counts are printed
(run with -s to see them) and asserted.
"""
from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.core.errors import CurationError, IngestError
from curation.ingest.run import ingest_file
from curation.store import Workspace

COUNTS = {"cases": 0, "ingested": 0, "rejected": 0, "failures": 0}

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
                         st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30))
json_values = st.recursive(json_scalars, lambda c: st.one_of(st.lists(c, max_size=3),
                                                             st.dictionaries(st.text(max_size=5), c, max_size=3)),
                           max_leaves=8)
FIELDS = ["instruction", "input", "output", "category", "id", "prompt", "response", "chosen", "rejected",
          "messages", "conversations"]
records = st.lists(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6), min_size=0, max_size=6)


def _snapshot(ws: Workspace) -> tuple:
    with ws.connect():  # one connection for the three reads
        return (ws.n_examples(), tuple(ws.datasets()["name"]), tuple(ws.examples(["example_id"])["example_id"]))


def _dump(rec: dict) -> str:
    # NaN/Infinity are written the way Python's json does (they are invalid JSON: the reader must reject them)
    return json.dumps(rec, allow_nan=True)


def _check(ws: Workspace, path: Path, **kw) -> str:
    before = _snapshot(ws)
    COUNTS["cases"] += 1
    try:
        ingest_file(ws, path, **kw)
    except IngestError as exc:
        msg = str(exc)
        if path.name not in msg and "column" not in msg and "dataset name" not in msg:
            COUNTS["failures"] += 1
            raise AssertionError(f"error does not name the file: {msg}") from exc
        if _snapshot(ws) != before:
            COUNTS["failures"] += 1
            raise AssertionError(f"workspace changed after a rejected ingest: {msg}")
        COUNTS["rejected"] += 1
        return "rejected"
    except CurationError:
        COUNTS["rejected"] += 1
        assert _snapshot(ws) == before
        return "rejected"
    except Exception as exc:  # the property under test
        COUNTS["failures"] += 1
        raise AssertionError(f"unexpected {type(exc).__name__}: {exc}") from exc
    COUNTS["ingested"] += 1
    return "ingested"


@pytest.fixture(scope="module")
def fuzz_ws(tmp_path_factory):
    return Workspace(tmp_path_factory.mktemp("fuzz") / "fuzz.duckdb")


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(recs=records, skip=st.booleans(), strict=st.booleans())
def test_random_records_never_crash(fuzz_ws, tmp_path_factory, recs, skip, strict):
    p = tmp_path_factory.mktemp("r") / "rand.jsonl"
    p.write_text("".join(_dump(r) + "\n" for r in recs), encoding="utf-8")
    _check(fuzz_ws, p, skip_bad=skip, allow_empty=not strict)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.binary(max_size=400), gz=st.booleans(), ext=st.sampled_from(["jsonl", "json", "csv"]))
def test_random_bytes_never_crash(fuzz_ws, tmp_path_factory, data, gz, ext):
    p = tmp_path_factory.mktemp("b") / f"bytes.{ext}{'.gz' if gz else ''}"
    p.write_bytes(gzip.compress(data) if gz and data[:1] != b"x" else data)
    _check(fuzz_ws, p)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(field=st.sampled_from(["instruction", "input", "output", "category"]), value=json_values)
def test_wrong_type_in_every_alpaca_field(fuzz_ws, tmp_path_factory, field, value):
    rec = {"instruction": "Name a colour.", "input": "", "output": "Blue.", "category": "x"}
    rec[field] = value
    p = tmp_path_factory.mktemp("t") / "typed.jsonl"
    p.write_text(_dump(rec) + "\n", encoding="utf-8")
    outcome = _check(fuzz_ws, p)
    if field in ("instruction", "output") and not isinstance(value, str):
        assert outcome == "rejected"
    if isinstance(value, float) and not math.isfinite(value):
        assert outcome == "rejected"


@pytest.mark.slow
def test_named_hard_cases(fuzz_ws, tmp_path):
    good = {"instruction": "Name a colour.", "input": "", "output": "Blue."}
    cases: dict[str, tuple[Path, str]] = {}

    def add(name: str, content: bytes, expect: str) -> None:
        p = tmp_path / name
        p.write_bytes(content)
        cases[name] = (p, expect)

    full = gzip.compress(("\n".join(json.dumps(good | {"id": i}) for i in range(200))).encode())
    add("truncated.jsonl.gz", full[: len(full) - 40], "rejected")
    add("invalid-utf8.jsonl", json.dumps(good).encode() + b"\n\xff\xfe{}\n", "rejected")
    add("nan.jsonl", b'{"instruction": "a", "output": NaN}\n', "rejected")
    add("huge-number.jsonl", json.dumps(good | {"score": 10**400}).encode(), "ingested")
    add("ten-mb-field.jsonl", json.dumps(good | {"output": "word " * 2_000_000}).encode(), "ingested")
    add("deep.jsonl", json.dumps(good).encode()[:-1] + b', "x": ' + b"[" * 5000 + b"]" * 5000 + b"}", "rejected")
    add("csv-newlines.csv", b'prompt,response\n"line one\nline two","a, b"\n', "ingested")
    add("empty.jsonl", b"", "rejected")
    add("only-whitespace.csv", b"  \n\n", "rejected")
    add("header-only.csv", b"prompt,response\n", "rejected")
    add("dup-ids.jsonl", (json.dumps(good | {"id": 1}) + "\n" + json.dumps(good | {"id": 1})).encode(), "rejected")
    add("not-gzip.jsonl.gz", b"plain text pretending", "rejected")
    add("bom.jsonl", b"\xef\xbb\xbf" + json.dumps(good).encode(), "ingested")
    for name, (path, expect) in cases.items():
        assert _check(fuzz_ws, path) == expect, name


@pytest.mark.slow  # it tallies the slow fuzzing tests above; without them there is nothing to count
def test_zz_report_counts():
    """Runs last in this module: print and check the tallies (cases tried, failures 0)."""
    print(f"\nfuzz ingest: {COUNTS['cases']} cases tried, {COUNTS['ingested']} ingested, "
          f"{COUNTS['rejected']} rejected with a clear error, {COUNTS['failures']} failures")
    assert COUNTS["cases"] >= 150 and COUNTS["failures"] == 0
