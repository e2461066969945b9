"""Slice columns: language, length bucket, identity terms, PII, refusal; stored kinds, code names, the CLI."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from curation.core.errors import CurationError
from curation.scorers import REGISTRY, get_scorer, is_slice
from curation.scorers.slices import (IDENTITY_GROUPS, LENGTH_BUCKETS, code_lang, detect_languages, identity_counts,
                                     identity_terms, lang_code, luhn_ok, pii_counts, run_slices, slice_scorers)

SAMPLES = Path(__file__).resolve().parent / "data" / "lang_samples.json"


def _batch(texts: list[str], prompts: list[str | None] | None = None) -> pd.DataFrame:
    return pd.DataFrame({"kind": "sft", "prompt": prompts or [None] * len(texts), "response": texts})


# ------------------------------------------------------------------------------------------------ contract
def test_every_slice_scorer_is_marked_and_has_a_kind() -> None:
    names = {"harm_prompt", "harm_reply", "language", "length_bucket", "identity", "identity_count", "pii",
             "pii_count", "refusal"}
    assert names <= {n for n in REGISTRY if is_slice(n)}
    assert not is_slice("response_length") and not is_slice("pref_head_default")
    kinds = {n: REGISTRY[n].column_kind for n in names}  # type: ignore[attr-defined]
    assert kinds == {"harm_prompt": "score", "harm_reply": "score", "language": "group", "length_bucket": "group",
                     "identity": "flag", "identity_count": "score", "pii": "flag", "pii_count": "score",
                     "refusal": "flag"}
    keys = [s.key() for s in slice_scorers(["identity"])]
    assert keys == ["identity(v=2)"] + [f"identity(group={g},v=2)" for g in IDENTITY_GROUPS]
    assert identity_terms()["version"] == REGISTRY["identity"].version   # the list's version is in the key
    assert set(IDENTITY_GROUPS) == {"gender", "religion", "race_ethnicity", "nationality", "age", "disability",
                                    "sexual_orientation"}
    with pytest.raises(CurationError, match="not one of"):
        get_scorer("identity", group="hair colour")
    with pytest.raises(CurationError, match="unknown slice"):
        slice_scorers(["nope"])


# ------------------------------------------------------------------------------------------------ identity
@pytest.mark.parametrize("text, groups", [
    ("My wife and I met a Muslim family at the mosque.", {"gender": 1, "religion": 2}),
    ("Why are black people treated differently by the police?", {"race_ethnicity": 1}),
    ("Mexicans and other immigrants work hard.", {"nationality": 2}),
    ("Should elderly people pay less? What about teenagers?", {"age": 1 + 1}),
    ("Is it offensive to call someone retarded or handicapped?", {"disability": 2}),
    ("My gay neighbour and her LGBTQ+ friends", {"sexual_orientation": 2}),
    ("Georgians are proud of their food.", {"nationality": 1}),
    ("Why do the French and Chinese people eat so late?", {"nationality": 2}),
])
def test_identity_terms_found_in_crafted_rows(text: str, groups: dict[str, int]) -> None:
    got = {g: c for g, c in identity_counts(text).items() if c}
    if "elderly" in text:                 # "elderly people" is one span of the age group, "teenagers" another
        assert got == {"age": 2}
    else:
        assert got == groups


@pytest.mark.parametrize("text", [
    "I am driving from Atlanta to Savannah, Georgia, next week.",      # the US state, not a nationality
    "Paint the fence black and the door white.",                       # colour words
    "This double-blind trial had a blind spot.",
    "Polish the silver before dinner.",
    "The turkey was dry and the chili from Chad's recipe was great.",
    "She said he would go with them.",                                 # pronouns are not gender terms
    "Trans fats are bad; keep your back straight.",
    "Translate this sentence into German, French and Japanese; it is a minor fix.",   # language names
    "",
])
def test_identity_terms_absent_from_crafted_negatives(text: str) -> None:
    assert sum(identity_counts(text).values()) == 0, identity_counts(text)


def test_identity_term_list_is_versioned_and_documented() -> None:
    t = identity_terms()
    assert t["version"] == 2 and "whole-token" in t["matching"].lower()
    assert {"colour words", "places", "pronouns"} <= set(t["decisions"])
    assert all(isinstance(v, list) and v for v in t["groups"].values())
    assert "georgia" not in {w.lower() for v in t["groups"].values() for w in v}
    assert "black" not in {w.lower() for v in t["groups"].values() for w in v}


# ------------------------------------------------------------------------------------------------ PII
def test_luhn() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("5500000000000004") and luhn_ok("378282246310005")
    assert not luhn_ok("4111111111111112") and not luhn_ok("1234567812345678")


@pytest.mark.parametrize("text, want", [
    ("Write to jane.doe@mailbox.org or j.smith+work@company.co.uk", {"email": 2}),
    ("Call me at 415-555-0132 or (212) 555-0187, from abroad +44 20 7946 0958", {"phone": 3}),
    ("My card is 4111 1111 1111 1111 and my amex 3782-822463-10005", {"card": 2}),
    ("The server is at 192.168.10.20 and 2001:0db8:85a3:0000:0000:8a2e:0370:7334", {"ip": 2}),
    ("Send it to 1600 Pennsylvania Avenue or 221B Baker Street please", {"address": 2}),
])
def test_pii_found_in_crafted_rows(text: str, want: dict[str, int]) -> None:
    got = {k: v for k, v in pii_counts(text).items() if v}
    assert got == want


@pytest.mark.parametrize("text", [
    "class A:\n    @property\n    def name(self):\n        return self._n\n\n@app.route('/')\n@dataclass\n",
    "git config user@example and foo@bar; mail admin@example.com for the docs; import x from './a@b.js'",
    "The number 4111 1111 1111 1112 fails Luhn, so does 1234567812345678.",       # 16 digits, not cards
    "Version 1.2.3.4 of the package, released 2023-10-12 at 12:30:45; ISBN 978-3-16-148410-0.",
    "We sold 1,234,567 units, about 3.14159 per cent; call it 2024.",
    "",
])
def test_pii_absent_from_crafted_negatives(text: str) -> None:
    assert sum(pii_counts(text).values()) == 0, pii_counts(text)


def test_pii_values_never_leave_the_scorer() -> None:
    secret = "only.me@private-mail.net"
    sc = get_scorer("pii")
    vals = sc.score(_batch([f"mail {secret}", "nothing here", None]))  # type: ignore[list-item]
    assert vals[0] == 1.0 and vals[1] == 0.0 and np.isnan(vals[2])
    assert secret not in repr(sc) and secret not in json.dumps(sc.params)
    with pytest.raises(CurationError) as e:
        get_scorer("pii", type=secret)
    assert "pii type" in str(e.value)


# ------------------------------------------------------------------------------------------------ language
def test_language_right_on_rows_of_known_language(shared_datasets: Path) -> None:
    rows: list[tuple[str, str]] = []

    def walk(m: dict) -> None:
        if m.get("text"):
            rows.append((m["text"], m["lang"]))
        for r in m.get("replies") or []:
            walk(r)

    with gzip.open(shared_datasets / "oasst-en100-trees" / "en_100_tree.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            walk(json.loads(line)["prompt"])
    assert len(rows) > 1000 and {g for _, g in rows} == {"en"}
    pred, _ = detect_languages([t for t, _ in rows])
    acc = np.mean([p == g for p, (_, g) in zip(pred, rows)])
    assert acc >= 0.97, acc
    samples = json.loads(SAMPLES.read_text(encoding="utf-8"))["samples"]
    texts = [t for v in samples.values() for t in v]
    gold = [k for k, v in samples.items() for _ in v]
    pred, _ = detect_languages(texts)
    assert np.mean([p == g for p, g in zip(pred, gold)]) >= 0.95, list(zip(gold, pred))


def test_language_codes_round_trip_and_edge_cases() -> None:
    for iso in ("en", "de", "zh", "und", "als"):
        assert code_lang(lang_code(iso)) == iso
    assert len({lang_code(x) for x in ("en", "es", "et", "eo", "und")}) == 5
    sc = get_scorer("language")
    v = sc.score(_batch(["The weather is lovely today, let's go for a walk.", "1234 5678 !!!", None]))  # type: ignore[list-item]
    assert code_lang(int(v[0])) == "en" and np.isnan(v[1]) and np.isnan(v[2])


# ------------------------------------------------------------------------------------------------ length
def test_length_buckets() -> None:
    sc = get_scorer("length_bucket")
    texts = ["", "one two three", " ".join(["w"] * 50), " ".join(["w"] * 150), " ".join(["w"] * 500),
             " ".join(["w"] * 1500)]
    v = sc.score(_batch(texts))
    assert v.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert [LENGTH_BUCKETS[int(c)][1] for c in v][:2] == ["empty", "1-19 words"]


# ------------------------------------------------------------------------------------------------ in a workspace
def test_run_slices_stores_kinds_labels_and_resumes(tmp_ws, tmp_path: Path) -> None:
    from curation.ingest.run import ingest_file

    recs = [
        {"prompt": "Wie geht es dir heute? Erzähl mir etwas über Berlin.", "response": "Mir geht es gut, danke."},
        {"prompt": "Email me at real.person@mailhost.net about the Muslim festival.",
         "response": "I'm sorry, but I can't help with that."},
        {"prompt": "How do I polish my shoes?", "response": "Use a soft cloth and a little wax. " * 5},
        {"prompt": "Bonjour, peux-tu m'aider à écrire une lettre à ma grand-mère ?",
         "response": "Bien sûr, voici une lettre pour ta grand-mère."},
    ]
    src = tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    ingest_file(tmp_ws, src, name="d")
    only = ["language", "length_bucket", "identity", "pii", "pii_count", "refusal"]
    keys = run_slices(tmp_ws, only)
    defs = tmp_ws.score_defs().set_index("key")
    assert defs.loc["language", "kind"] == "group" and defs.loc["length_bucket", "kind"] == "group"
    assert defs.loc["pii", "kind"] == "flag" and defs.loc["refusal", "kind"] == "flag"
    assert defs.loc["identity(group=religion,v=2)", "kind"] == "flag" and defs.loc["pii_count", "kind"] == "score"
    t = tmp_ws.scores(keys).sort_values("row_id")
    labels = {c["cluster"]: c["label"] for c in tmp_ws.artifact("labels:language")["clusters"]}
    assert [labels[int(c)] for c in t["language"]] == ["de", "en", "en", "fr"]
    assert sum(c["size"] for c in tmp_ws.artifact("labels:language")["clusters"]) == 4
    assert t["pii"].tolist() == [0, 1, 0, 0] and t["refusal"].tolist() == [0, 1, 0, 0]
    assert t["identity(group=religion,v=2)"].tolist() == [0, 1, 0, 0]
    assert t["identity(group=gender,v=2)"].tolist() == [0, 0, 0, 0]    # "grand-mère" is French: not in the list
    lb = {c["cluster"]: c["label"] for c in tmp_ws.artifact("labels:length_bucket")["clusters"]}
    assert set(lb.values()) <= {name for _, name in LENGTH_BUCKETS}
    # resumable / cached: a second run finds every value by content hash and scores nothing
    from curation.scorers.slices import Language

    calls = []
    orig = Language.score
    Language.score = lambda self, b: calls.append(len(b)) or orig(self, b)  # type: ignore[method-assign]
    try:
        run_slices(tmp_ws, ["language"])
    finally:
        Language.score = orig  # type: ignore[method-assign]
    assert calls == []


def test_cli_slices(tmp_path: Path) -> None:
    import subprocess
    import sys

    src = tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"Call 415-555-01{i:02d} about my order", "response": "OK."}) + "\n"
                           for i in range(5)))
    ws = tmp_path / "ws.duckdb"
    root = Path(__file__).resolve().parent.parent
    run = lambda *a: subprocess.run([sys.executable, "-m", "curation", "--workspace", str(ws), *a],  # noqa: E731
                                    capture_output=True, text=True, cwd=root, timeout=600)
    assert run("ingest", str(src), "--name", "d").returncode == 0
    r = run("slices", "--only", "pii", "language", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "pii [flag]: 5 of 5 rows; flagged 5 (100.0%)" in r.stdout and "language [group]" in r.stdout
    assert "415-555" not in r.stdout + r.stderr
    r = run("slices", "--only", "nope")
    assert r.returncode != 0


@pytest.mark.slow   # a small demo build: embedding, graph, scores, rankings (~1-5 min on 2 busy cores)
@pytest.mark.skipif(not __import__("curation.scorers.harm", fromlist=["HARM_HEAD"]).HARM_HEAD.is_file(),
                    reason="harm head weights not shipped in this checkout")
def test_demo_build_computes_every_slice(tmp_ws) -> None:
    from curation.workflows.demo import build_demo_workspace

    build_demo_workspace(tmp_ws, n_sft=40, n_pref=8, log=lambda s: None)
    defs = tmp_ws.score_defs().set_index("key")
    want = {k.key() for k in slice_scorers()}
    assert want <= set(defs.index), sorted(want - set(defs.index))
    assert "harm_reply@rejected" in defs.index                    # the demo's preference pairs: both replies
    assert json.loads(defs.at["harm_prompt", "params"])["threshold"] > 0
    assert tmp_ws.artifact("labels:language")["clusters"][0]["label"] == "en"
