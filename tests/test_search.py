"""Search on real data (Dolly 3k, Alpaca 9k, HH-RLHF harmless-base test pairs): word and pattern hits equal a
brute-force Python scan of the same texts; bad queries give clear errors; the index follows ingest and remove; a
saved search is a flag column that updates after a new ingest; a bulk exclude is undone in one step."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from curation.core.errors import CurationError
from curation.ingest.run import ingest_file
from curation.workflows.ingest import ingest
from curation.search import SearchSpec, save_search, saved_searches, search
from curation.search import actions
from curation.search.highlight import match_spans, query_terms, snippet_html
from curation.search.words import index_dir
from curation.store import Workspace
from curation.store.search import SEARCH_FIELDS

DOLLY = "dolly-3k-alpagasus/dolly_3k.jsonl.gz"
ALPACA = "alpaca-9k-random/alpaca_random_9k.jsonl.gz"
HH = "hh-rlhf/harmless-base.test.jsonl.gz"


@pytest.fixture(scope="module")
def real_ws(tmp_path_factory: pytest.TempPathFactory, shared_datasets: Path) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("search") / "ws.duckdb")
    for f in (DOLLY, HH, ALPACA):
        ingest_file(ws, shared_datasets / f)
    return ws


@pytest.fixture(scope="module")
def texts(real_ws: Workspace):
    return real_ws.examples(["row_id", "prompt", "response", "chosen", "rejected"])


# ------------------------------------------------------------------------------------------- brute-force scans
def _tokens(text: str | None) -> list[str]:
    """tantivy's default tokenizer: runs of letters and digits, lower-cased."""
    return re.findall(r"[^\W_]+", text.lower()) if isinstance(text, str) else []


def _has_seq(toks: list[str], seq: list[str]) -> bool:
    n = len(seq)
    return any(toks[i:i + n] == seq for i in range(len(toks) - n + 1))


def brute_words(frame, cols, clause) -> set[int]:
    """Rows where ``clause(per_field_tokens)`` holds; per_field_tokens: list of token lists, one per column."""
    out = set()
    for row in frame[["row_id", *cols]].itertuples(index=False):
        if clause([_tokens(t) for t in row[1:]]):
            out.add(int(row[0]))
    return out


def has(word):
    return lambda fields: any(word in f for f in fields)


def phrase(*words):
    return lambda fields: any(_has_seq(f, list(words)) for f in fields)


def rows_of(ws, query, **kw) -> set[int]:
    return set(search(ws, query, limit=None, **kw).row_ids.tolist())


@pytest.mark.parametrize("query,field,clause", [
    ("python", "any", has("python")),
    ("recipe", "prompt", has("recipe")),
    ("sorry", "rejected", has("sorry")),
    ("apologize", "response", has("apologize")),
    ('"united states"', "any", phrase("united", "states")),
    ('"as an ai"', "response", phrase("as", "an", "ai")),
    ("water AND bottle", "any", lambda f: has("water")(f) and has("bottle")(f)),
    ("recipe AND NOT chicken", "any", lambda f: has("recipe")(f) and not has("chicken")(f)),
    ("poem OR haiku", "prompt", lambda f: has("poem")(f) or has("haiku")(f)),
])
def test_words_equal_brute_force(real_ws, texts, query, field, clause):
    want = brute_words(texts, SEARCH_FIELDS[field], clause)
    assert len(want) > 0, "pick a query with hits so the comparison means something"
    got = rows_of(real_ws, query, mode="words", field=field)
    assert got == want


def test_words_ranked_and_limited(real_ws):
    top = search(real_ws, "python code", mode="words", limit=10)
    full = search(real_ws, "python code", mode="words", limit=None)
    assert top.n_matches == full.n_matches == len(full.row_ids) > 10
    assert len(top.row_ids) == 10 and np.all(np.diff(top.scores) <= 1e-9)       # best first
    assert top.row_ids.tolist() == full.row_ids[:10].tolist()


@pytest.mark.parametrize("pattern,regex,case", [
    ("As an AI", False, False), ("As an AI", False, True), ("colou?r", True, False),
    ("[0-9]+ (cups?|tablespoons?)", True, False), ("I'm sorry", False, True),
])
def test_pattern_equal_brute_force(real_ws, texts, pattern, regex, case):
    cols = SEARCH_FIELDS["any"]
    flags = 0 if case else re.IGNORECASE
    rx = re.compile(pattern if regex else re.escape(pattern), flags)
    want = {int(r[0]) for r in texts[["row_id", *cols]].itertuples(index=False)
            if any(isinstance(t, str) and rx.search(t) for t in r[1:])}
    assert want
    got = search(real_ws, pattern, mode="pattern", regex=regex, case_sensitive=case, limit=None)
    assert set(got.row_ids.tolist()) == want and got.n_matches == len(want)


def test_bad_queries_give_clear_errors(real_ws):
    with pytest.raises(CurationError, match=r"pattern '\(abc' is not a valid regular expression.*escape"):
        search(real_ws, "(abc", mode="pattern", regex=True)
    assert search(real_ws, "(abc", mode="pattern").n_matches >= 0     # as plain text it is fine
    with pytest.raises(CurationError, match="cannot be read"):
        search(real_ws, "a AND (", mode="words")
    with pytest.raises(CurationError, match="empty"):
        search(real_ws, "  ", mode="words")
    with pytest.raises(CurationError, match="field 'body'"):
        search(real_ws, "x", field="body")
    with pytest.raises(CurationError, match="mode 'fuzzy'"):
        search(real_ws, "x", mode="fuzzy")


def test_index_follows_ingest_and_remove(tmp_path, shared_datasets):
    ws = Workspace(tmp_path / "ws.duckdb")
    ingest_file(ws, shared_datasets / DOLLY)
    n_dolly = search(ws, "the", mode="words", limit=0).n_matches
    assert n_dolly > 0 and (index_dir(ws) / "curation.json").exists()
    ingest(ws, shared_datasets / HH)                      # the built index is extended at ingest
    both = search(ws, "the", mode="words", limit=0).n_matches
    assert both > n_dolly
    ws.remove_dataset("dolly_3k")
    hh_only = rows_of(ws, "the", mode="words")
    ex = ws.examples(["row_id", "dataset"])
    assert hh_only and hh_only <= set(ex["row_id"]) and set(ex["dataset"]) == {"harmless-base.test"}
    # a row id reused for other content (remove the newest dataset, ingest another): the index follows
    ws.remove_dataset("harmless-base.test")
    ingest_file(ws, shared_datasets / DOLLY)
    assert search(ws, "the", mode="words", limit=0).n_matches == n_dolly
    # an index deleted from disk is rebuilt on the next search
    shutil.rmtree(index_dir(ws))
    assert search(ws, "the", mode="words", limit=0).n_matches == n_dolly


def test_saved_search_is_a_flag_column_that_updates_after_ingest(tmp_path, shared_datasets):
    ws = Workspace(tmp_path / "ws.duckdb")
    ingest_file(ws, shared_datasets / DOLLY)
    got = save_search(ws, "python", SearchSpec("python OR javascript", field="any"))
    key = got["key"]
    d = ws.score_defs().set_index("key").loc[key]
    assert key == "search:python" and d["kind"] == "flag" and d["name"] == "search"
    rows, vals = ws.score_column(key)
    assert len(rows) == ws.n_examples() and set(np.unique(vals)) <= {0.0, 1.0}
    assert set(rows[vals == 1].tolist()) == rows_of(ws, "python OR javascript") and got["n_matches"] > 0
    before = int(vals.sum())
    ingest(ws, shared_datasets / ALPACA)                  # saved searches re-run on ingest
    rows, vals = ws.score_column(key)
    assert len(rows) == ws.n_examples()
    assert set(rows[vals == 1].tolist()) == rows_of(ws, "python OR javascript")
    assert int(vals.sum()) > before
    assert saved_searches(ws).set_index("name").loc["python", "n_matches"] == int(vals.sum())
    # re-saving under the same name replaces the column; a bad name is refused
    save_search(ws, "python", SearchSpec("python", mode="pattern", case_sensitive=True))
    _, vals2 = ws.score_column(key)
    assert int(vals2.sum()) == search(ws, "python", mode="pattern", case_sensitive=True, limit=0).n_matches
    with pytest.raises(CurationError, match="search name"):
        save_search(ws, "bad name", SearchSpec("x"))
    with pytest.raises(CurationError, match="threshold"):
        save_search(ws, "m", SearchSpec("x", mode="meaning"))


def test_bulk_exclude_of_a_search_undone_in_one_step(real_ws):
    hits = search(real_ws, "sorry", mode="words", limit=None).row_ids
    assert len(hits) > 20
    ids = real_ws.examples(["row_id", "example_id"], row_ids=hits[:6]).set_index("row_id")["example_id"]
    real_ws.add_decisions([ids.iloc[0], ids.iloc[1]], "include", who="t")   # pinned before: come back as they were
    real_ws.add_decisions([ids.iloc[2]], "exclude", who="t")
    pins_before = real_ws.pins()[["example_id", "pin"]].sort_values("example_id").reset_index(drop=True)
    pv = actions.preview(real_ws, hits, "exclude")
    assert pv == {"rows": len(hits), "change": len(hits) - 1, "unchanged": 1, "from_include": 2, "from_exclude": 0,
                  "from_none": len(hits) - 3}
    new = actions.apply(real_ws, hits, "exclude", who="t", why="search: sorry")
    assert len(new) == pv["change"]
    pins = real_ws.pins()
    assert set(pins.loc[pins["pin"] == "exclude", "row_id"]) >= set(hits.tolist())
    batch, undone = actions.undo_last(real_ws, who="t")
    assert len(undone) == len(new) and batch["ids"] == new
    after = real_ws.pins()[["example_id", "pin"]].sort_values("example_id").reset_index(drop=True)
    assert after.equals(pins_before)
    with pytest.raises(CurationError, match="no bulk action"):
        actions.undo_last(real_ws, who="t")
    # tag all N, then undo
    n_tag = len(actions.apply(real_ws, hits, "tag", who="t", value="apology"))
    assert n_tag == len(hits) and actions.preview(real_ws, hits, "tag", value="apology")["change"] == 0
    actions.undo_last(real_ws, who="t")
    assert "apology" not in set(real_ws.tags()["tag"])


def test_meaning_finds_a_rows_own_text_first(tmp_path, shared_datasets):
    from curation.core.keys import DEFAULT_MODEL
    from curation.embedding.embed import encode_texts
    from curation.search.meaning import more_like_this

    ws = Workspace(tmp_path / "ws.duckdb")
    ingest_file(ws, shared_datasets / DOLLY)
    ex = ws.examples(["row_id", "embed_text", "text_hash"]).drop_duplicates("text_hash").iloc[:150]
    ws.put_embeddings(DEFAULT_MODEL, ex["text_hash"].tolist(), encode_texts(ex["embed_text"].tolist()))
    for i in (0, 37, 111):
        row = ex.iloc[i]
        res = search(ws, row["embed_text"], mode="meaning", limit=3)
        assert res.row_ids[0] == row["row_id"] and res.scores[0] > 0.99
    seed = int(ex.iloc[5]["row_id"])
    got, sims, n = more_like_this(ws, [seed], limit=5)
    assert seed not in got.tolist() and len(got) == 5 and np.all(np.diff(sims) <= 1e-6)
    thr = search(ws, ex.iloc[0]["embed_text"], mode="meaning", threshold=0.5, limit=None)
    assert len(thr.row_ids) == thr.n_matches and np.all(thr.scores >= 0.5 - 1e-6)


def test_meaning_needs_embeddings(tmp_path, shared_datasets):
    ws = Workspace(tmp_path / "ws.duckdb")
    ingest_file(ws, shared_datasets / DOLLY)
    with pytest.raises(CurationError, match="embed"):
        search(ws, "cooking", mode="meaning")


def test_highlight_spans_and_escaping():
    text = "As an AI <b>language</b> model, I can't. as an ai"
    spans = match_spans(text, '"as an ai" AND NOT robot', mode="words")
    assert [text[s:e].lower() for s, e in spans] == ["as", "an", "ai", "as", "an", "ai"]
    assert query_terms("+python -java NOT ruby prompt:code \"a phrase\"^2") == ["python", "code", "a", "phrase"]
    html = snippet_html(text, match_spans(text, "<b>language", mode="pattern"))
    assert "<mark>&lt;b&gt;language</mark>" in html and "<b>" not in html
    assert match_spans(text, "(unclosed", mode="pattern", regex=True) == []


def test_filter_mode_equals_pandas(real_ws):
    ex = real_ws.examples(["row_id", "dataset", "prompt", "n_tokens"])
    want = set(ex.loc[(ex["dataset"] == "dolly_3k") & ex["prompt"].str.lower().str.contains("python", regex=False)
                      & (ex["n_tokens"] < 400), "row_id"].tolist())
    got = search(real_ws, "dataset = 'dolly_3k' and lower(prompt) like '%python%' and n_tokens < 400",
                 mode="filter", limit=None)
    assert want and set(got.row_ids.tolist()) == want and got.n_matches == len(want)
    save_search(real_ws, "py_words", SearchSpec("python"))
    both = search(real_ws, "\"search:py_words\" = 1 and dataset = 'dolly_3k'", mode="filter", limit=None)
    py = rows_of(real_ws, "python")
    assert set(both.row_ids.tolist()) == {r for r in py if r in set(ex.loc[ex["dataset"] == "dolly_3k", "row_id"])}
    with pytest.raises(CurationError, match="text columns"):
        search(real_ws, "nope = 1", mode="filter")
