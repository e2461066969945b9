"""Tests for curation.demo: seeded demo data with planted defects and their ground truth."""
from __future__ import annotations

import difflib
import json
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from curation.demo import CATEGORIES, DemoData, generate_demo, synthetic_records, write_demo

EXPECTED_COUNTS = {"coding": 900, "math": 700, "cooking": 500, "travel": 350, "health": 250, "finance": 150,
                   "writing": 100, "science": 50}
TRUTH_KEYS = {"exact_duplicates", "near_duplicates", "empty", "truncated", "repetitive", "off_topic", "html",
              "conflicting_prompts", "category_counts", "seed"}
DEFECT_LISTS = ("empty", "truncated", "repetitive", "off_topic", "html")


def _content(rec: dict) -> tuple[str, str, str]:
    return rec["instruction"], rec["input"], rec["output"]


def _flat(rec: dict) -> str:
    return "\n".join(_content(rec))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Default-sized demo written to disk (first generation)."""
    return write_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def demo() -> DemoData:
    """Default-sized demo generated in memory (second, independent generation)."""
    return generate_demo()


@pytest.fixture(scope="module")
def by_id(demo: DemoData) -> dict[str, dict]:
    return {r["id"]: r for r in demo.sft}


# --- determinism and files ------------------------------------------------------------------------------------

def test_write_demo_files_and_determinism(files: dict[str, Path], demo: DemoData) -> None:
    """Two runs with the same seed give byte-identical files (written with ensure_ascii=False)."""
    assert set(files) == {"sft", "pref", "truth"}
    assert files["sft"].name == "demo_sft.jsonl" and files["pref"].name == "demo_pref.jsonl"
    assert files["truth"].name == "demo_truth.json"
    sft_bytes = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in demo.sft).encode("utf-8")
    pref_bytes = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in demo.pref).encode("utf-8")
    assert files["sft"].read_bytes() == sft_bytes
    assert files["pref"].read_bytes() == pref_bytes
    assert json.loads(files["truth"].read_text(encoding="utf-8")) == demo.truth
    assert "\\u" not in files["sft"].read_text(encoding="utf-8")  # non-ASCII (é, ñ, ×) written as-is
    assert any(ord(ch) > 127 for ch in files["sft"].read_text(encoding="utf-8"))


def test_write_demo_twice_identical_bytes(tmp_path: Path) -> None:
    a = write_demo(tmp_path / "a", n_sft=400, n_pref=40, seed=7)
    b = write_demo(tmp_path / "b", n_sft=400, n_pref=40, seed=7)
    for key in a:
        assert a[key].read_bytes() == b[key].read_bytes(), key


def test_different_seed_differs() -> None:
    a = generate_demo(n_sft=200, n_pref=20, seed=0)
    b = generate_demo(n_sft=200, n_pref=20, seed=1)
    assert [r["output"] for r in a.sft] != [r["output"] for r in b.sft]
    assert b.truth["seed"] == 1


# --- shape, ids and counts -------------------------------------------------------------------------------------

def test_counts_and_imbalance(demo: DemoData) -> None:
    assert len(demo.sft) == 3000 and len(demo.pref) == 300
    counts = Counter(r["category"] for r in demo.sft)
    assert dict(counts) == EXPECTED_COUNTS
    assert demo.truth["category_counts"] == EXPECTED_COUNTS
    assert set(counts) == set(CATEGORIES) and len(CATEGORIES) == 8
    sizes = [counts[c] for c in CATEGORIES]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] >= 15 * sizes[-1]


def test_record_shapes_and_unique_ids(demo: DemoData) -> None:
    for r in demo.sft:
        assert set(r) == {"id", "instruction", "input", "output", "category"}
        assert all(isinstance(v, str) for v in r.values())
        assert re.fullmatch(r"demo-sft-\d{5}", r["id"])
        assert r["instruction"].strip()
    for p in demo.pref:
        assert set(p) == {"id", "prompt", "chosen", "rejected", "type"}
        assert re.fullmatch(r"demo-pref-\d{4}", p["id"])
        assert p["prompt"].strip() and p["chosen"].strip() and p["rejected"].strip()
    assert len({r["id"] for r in demo.sft}) == len(demo.sft)
    assert len({p["id"] for p in demo.pref}) == len(demo.pref)
    assert sum(1 for r in demo.sft if r["input"]) > 200  # inputs are sometimes used
    assert sum(1 for r in demo.sft if not r["input"]) > 1500


def test_response_lengths_and_variety(demo: DemoData) -> None:
    t = demo.truth
    copies = {i for g in t["exact_duplicates"] for i in g[1:]} | {b for _, b in t["near_duplicates"]}
    fresh = [r for r in demo.sft if r["id"] not in copies]
    assert len({(r["instruction"], r["input"]) for r in fresh}) == len(fresh)  # every fresh prompt is unique
    defect = {i for k in DEFECT_LISTS for i in t[k]}
    clean = [r for r in fresh if r["id"] not in defect]
    words = [len(r["output"].split()) for r in clean]
    assert 20 <= statistics.median(words) <= 120
    assert sum(w > 120 for w in words) > 50  # some longer answers
    for cat in CATEGORIES:  # many distinct instructions per category, not one template repeated
        instr = [r["instruction"] for r in clean if r["category"] == cat]
        first_words = Counter(" ".join(i.split()[:3]) for i in instr)
        assert len(set(instr)) > 0.8 * len(instr), cat
        assert first_words.most_common(1)[0][1] < 0.5 * len(instr), cat



def test_answers_vary_within_each_category(demo: DemoData) -> None:
    """No answer opening (first four words) covers more than 15% of a category's clean records, and each category
    draws on a vocabulary of hundreds of words: texts that vary spread into regions on the map instead of one blob
    per template (before the compositional generator, 67% of cooking answers opened alike)."""
    t = demo.truth
    skip = {i for g in t["exact_duplicates"] for i in g[1:]} | {b for _, b in t["near_duplicates"]}
    skip |= {i for k in DEFECT_LISTS for i in t[k]}
    for cat in CATEGORIES:
        recs = [r for r in demo.sft if r["category"] == cat and r["id"] not in skip]
        openings = Counter(" ".join(re.findall(r"[a-z0-9']+", r["output"].lower())[:4]) for r in recs)
        assert openings.most_common(1)[0][1] <= 0.15 * len(recs), (cat, openings.most_common(2))
        vocab = {w for r in recs for w in re.findall(r"[a-z]+", (r["instruction"] + " " + r["output"]).lower())}
        assert len(vocab) >= 400, (cat, len(vocab))

# --- planted SFT defects ---------------------------------------------------------------------------------------

def test_truth_keys_and_ids_exist(demo: DemoData, by_id: dict[str, dict]) -> None:
    t = demo.truth
    assert set(t) == TRUTH_KEYS and t["seed"] == 0
    ids = [i for g in t["exact_duplicates"] for i in g] + [i for p in t["near_duplicates"] for i in p]
    ids += [i for k in DEFECT_LISTS for i in t[k]]
    assert ids and all(i in by_id for i in ids)
    pref_ids = {p["id"] for p in demo.pref}
    assert all(i in pref_ids for g in t["conflicting_prompts"] for i in g)
    # roughly the requested amounts
    assert 50 <= sum(len(g) - 1 for g in t["exact_duplicates"]) <= 70
    assert len(t["near_duplicates"]) == 80
    assert len(t["empty"]) == 20
    assert len(t["truncated"]) == len(t["repetitive"]) == len(t["off_topic"]) == 30
    assert 2 <= len(t["html"]) <= 5


def test_defect_sets_are_disjoint(demo: DemoData) -> None:
    t = demo.truth
    sets = {k: set(t[k]) for k in DEFECT_LISTS}
    sets["exact"] = {i for g in t["exact_duplicates"] for i in g}
    sets["near"] = {i for p in t["near_duplicates"] for i in p}
    names = list(sets)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not sets[a] & sets[b], (a, b)


def test_exact_duplicates_identical_and_complete(demo: DemoData, by_id: dict[str, dict]) -> None:
    groups = demo.truth["exact_duplicates"]
    for g in groups:
        assert len(g) >= 2 and len(set(g)) == len(g)
        recs = [by_id[i] for i in g]
        assert len({_content(r) for r in recs}) == 1
        assert len({r["category"] for r in recs}) == 1
    # no unplanted exact duplicates: every content shared by >1 record is a planted group
    by_content: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for r in demo.sft:
        by_content[_content(r)].append(r["id"])
    found = sorted(sorted(v) for v in by_content.values() if len(v) > 1)
    assert found == sorted(sorted(g) for g in groups)


def test_near_duplicates_differ_but_are_similar(demo: DemoData, by_id: dict[str, dict]) -> None:
    for a, b in demo.truth["near_duplicates"]:
        ra, rb = by_id[a], by_id[b]
        assert _content(ra) != _content(rb)
        assert ra["category"] == rb["category"]
        ratio = difflib.SequenceMatcher(None, _flat(ra), _flat(rb), autojunk=False).ratio()
        assert ratio > 0.85, (a, b, ratio)
        # at least one word-level change, so normalising case/punctuation does not turn them into exact copies
        norm = [re.findall(r"[a-z0-9]+", _flat(x).lower()) for x in (ra, rb)]
        assert norm[0] != norm[1], (a, b)


def test_empty_truncated_repetitive_html(demo: DemoData, by_id: dict[str, dict]) -> None:
    t = demo.truth
    assert all(by_id[i]["output"] == "" for i in t["empty"])
    assert {r["id"] for r in demo.sft if not r["output"].strip()} == set(t["empty"])
    for i in t["truncated"]:
        out = by_id[i]["output"]
        assert out and out == out.rstrip() and out[-1] not in ".!?", out[-40:]
    for i in t["repetitive"]:
        out = by_id[i]["output"]
        grams = Counter(tuple(out.split()[k:k + 3]) for k in range(len(out.split()) - 2))
        assert grams.most_common(1)[0][1] >= 8, out[:80]
    for i in t["html"]:
        assert "<script>" in by_id[i]["instruction"] or "<b>" in by_id[i]["instruction"]
    html_instr = " ".join(by_id[i]["instruction"] for i in t["html"])
    assert "<script>alert('x')</script>" in html_instr and "<b>bold</b>" in html_instr
    others = {r["id"] for r in demo.sft} - set(t["html"])
    assert not any("<script>" in by_id[i]["instruction"] for i in others)


def test_off_topic_answers_come_from_another_category(demo: DemoData, by_id: dict[str, dict]) -> None:
    """An off-topic answer shares almost no vocabulary with its own instruction."""
    def overlap(r: dict) -> float:
        q = set(re.findall(r"[a-z]{5,}", (r["instruction"] + " " + r["input"]).lower()))
        a = set(re.findall(r"[a-z]{5,}", r["output"].lower()))
        return len(q & a) / max(1, len(q))
    off = [overlap(by_id[i]) for i in demo.truth["off_topic"]]
    defect = {i for k in DEFECT_LISTS for i in demo.truth[k]}
    clean = [overlap(r) for r in demo.sft if r["id"] not in defect][:1000]
    assert statistics.mean(off) < 0.5 * statistics.mean(clean)
    assert all(by_id[i]["output"].strip() for i in demo.truth["off_topic"])


# --- preference pairs ------------------------------------------------------------------------------------------

def test_preference_types(demo: DemoData) -> None:
    types = Counter(p["type"] for p in demo.pref)
    assert set(types) == {"helpful", "harmless"}
    assert types["harmless"] >= 50 and types["helpful"] >= 100
    assert all(p["chosen"] != p["rejected"] for p in demo.pref)
    for p in demo.pref:
        if p["type"] == "harmless":  # chosen declines or redirects
            assert re.search(r"can't|can not|cannot|rather not|please don't", p["chosen"], re.I), p["chosen"]


def test_conflicting_prompts_really_conflict(demo: DemoData) -> None:
    pref = {p["id"]: p for p in demo.pref}
    groups = demo.truth["conflicting_prompts"]
    assert 3 <= len(groups) <= 8
    in_groups = set()
    for g in groups:
        assert len(g) >= 2
        in_groups |= set(g)
        pairs = [pref[i] for i in g]
        assert len({p["prompt"] for p in pairs}) == 1
        labels = {(p["chosen"], p["rejected"]) for p in pairs}
        assert any((rj, ch) in labels for ch, rj in labels), g
    # prompts outside the planted groups are unique, so there are no unrecorded conflicts
    prompts = Counter(p["prompt"] for p in demo.pref if p["id"] not in in_groups)
    assert prompts.most_common(1)[0][1] == 1
    group_prompts = {pref[g[0]]["prompt"] for g in groups}
    assert not group_prompts & set(prompts)


# --- other sizes and the benchmark stream -----------------------------------------------------------------------

def test_small_and_empty_sizes() -> None:
    small = generate_demo(n_sft=360, n_pref=60, seed=0)
    assert len(small.sft) == 360 and len(small.pref) == 60
    assert sum(small.truth["category_counts"].values()) == 360
    assert len(set(r["category"] for r in small.sft)) == 8
    assert small.truth["exact_duplicates"] and small.truth["near_duplicates"] and small.truth["conflicting_prompts"]
    ids = {r["id"] for r in small.sft}
    assert all(i in ids for g in small.truth["exact_duplicates"] for i in g)
    none = generate_demo(n_sft=0, n_pref=0)
    assert none.sft == [] and none.pref == [] and none.truth["near_duplicates"] == []
    with pytest.raises(ValueError):
        generate_demo(n_sft=-1)


def test_synthetic_records_stream() -> None:
    recs = list(synthetic_records(3000, seed=5))
    assert recs == list(synthetic_records(3000, seed=5))
    assert len(recs) == 3000 and len({r["id"] for r in recs}) == 3000
    assert all(set(r) == {"id", "instruction", "input", "output", "category"} for r in recs)
    counts = Counter(r["category"] for r in recs)
    assert set(counts) == set(CATEGORIES) and counts["coding"] > counts["science"] * 5
    dup = list(synthetic_records(2000, seed=1, dup_rate=0.1))
    n_unique = len({_content(r) for r in dup})
    assert n_unique < 1900


# --- pinned output ----------------------------------------------------------------------------------------------

def _digest(obj: object) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


# The generator's output for fixed seeds. A refactoring must keep these; a deliberate change of the generated data
# updates them (and says so in its commit message).
PINNED = {
    "default": "170d903290abd42b84475c44d85bb3a413312f9b07360fa3a8412d11919bc64f",
    "small": "a73dccaaa759551523a920907f51bb5ebc1fcab1ac4c0444b6fbd2a28e4f180d",
    "stream": "86d10b4df2edc8103f2b18ff06a41c7f4af73284da2f8b39e0fd2cdca4a8f22d",
}


def test_generated_records_are_pinned(demo: DemoData) -> None:
    small = generate_demo(n_sft=600, n_pref=80, seed=3)
    stream = list(synthetic_records(2000, seed=4, dup_rate=0.05))
    got = {"default": _digest([demo.sft, demo.pref, demo.truth]),
           "small": _digest([small.sft, small.pref, small.truth]), "stream": _digest(stream)}
    assert got == PINNED
