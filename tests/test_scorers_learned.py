"""Learned scorers: Bradley-Terry preference heads (shipped and in-workspace) and the curator model, on tiny real
workspaces embedded with the packaged MiniLM model. Weights are arrays, never pickles."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from curation.core.errors import CurationError
from curation.scorers import get_scorer, run_scorer
from curation.scorers.learned import (DEFAULT_HEAD, LinearHead, PrefHead, fit_gate, propose_rows,
                                      train_bradley_terry, train_pref_head)
from curation.scorers.run import REJECTED_SUFFIX, pair_scores

GOOD = ["Sure. {t} works like this: first check the basics, then follow the steps one by one, and ask if unsure.",
        "Good question! Here is a clear answer about {t}, with two examples and a short summary at the end.",
        "Happy to help with {t}. The main points are listed below, each with a short explanation."]
BAD = ["no idea", "whatever, {t} is boring", "I dont care about {t}"]
TOPICS = ["baking bread", "fixing a bike", "learning French", "planting tomatoes", "saving money", "running a 5k",
          "writing a CV", "tuning a guitar", "brewing tea", "painting a wall", "cleaning a laptop", "feeding a cat"]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def pref_rows(n: int) -> list[dict]:
    return [{"id": f"p{i}", "prompt": f"How do I go about {t}?", "chosen": GOOD[i % 3].format(t=t),
             "rejected": BAD[i % 3].format(t=t)} for i, t in enumerate(TOPICS[:n])]


@pytest.fixture
def pref_ws(tmp_ws, tmp_path: Path):
    from curation.ingest.run import ingest_file

    ingest_file(tmp_ws, write_jsonl(tmp_path / "pref.jsonl", pref_rows(10)), name="pref")
    ingest_file(tmp_ws, write_jsonl(tmp_path / "sft.jsonl", [
        {"id": "s1", "instruction": "How do I go about brewing tea?", "output": GOOD[0].format(t="brewing tea")},
        {"id": "s2", "instruction": "How do I go about brewing tea?", "output": "no idea"}]), name="sft")
    return tmp_ws


def synthetic(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs whose preference follows a hidden linear utility; two pairs per prompt group."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=d)
    A, B = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    good = (A - B) @ w > 0
    return np.where(good[:, None], A, B), np.where(good[:, None], B, A), np.arange(n) // 2


def test_bradley_terry_is_deterministic_and_learns() -> None:
    Xc, Xr, g = synthetic(120, 6, 0)
    a = train_bradley_terry(Xc, Xr, g, seed=3)
    b = train_bradley_terry(Xc, Xr, g, seed=3)
    np.testing.assert_array_equal(a.w, b.w)
    assert a.meta["cv_by_C"] == b.meta["cv_by_C"] and a.meta["cv_accuracy"] > 0.85
    assert float(np.mean(a.decision(Xc) > a.decision(Xr))) > 0.9
    with pytest.raises(CurationError, match="at least 2"):
        train_bradley_terry(Xc[:1], Xr[:1], g[:1])


def test_weights_round_trip_without_pickle(tmp_path: Path) -> None:
    Xc, Xr, g = synthetic(40, 4, 1)
    head = train_bradley_terry(Xc, Xr, g, seed=0)
    head.meta["note"] = "x"
    f = tmp_path / "w.npz"
    head.save_npz(f)
    with np.load(f, allow_pickle=False) as z:           # every array is plain numbers or text
        assert {k: z[k].dtype.kind for k in z.files} == {"w": "f", "scale": "f", "b": "f", "meta": "U"}
    back = LinearHead.load_npz(f)
    np.testing.assert_allclose(back.decision(Xc), head.decision(Xc), rtol=1e-5, atol=1e-5)
    # with a prompt gate: two more plain arrays, the same gate back (also through the workspace's JSON form)
    rng = np.random.default_rng(0)
    P = rng.normal(size=(60, 5))
    y = (P[:, 0] > 0).astype(float)
    gate, vals = fit_gate(P, y, np.arange(60) // 2)
    gate2, vals2 = fit_gate(P, y, np.arange(60) // 2)
    np.testing.assert_array_equal(vals, vals2)                  # deterministic
    assert ((gate(P) > 0.5) == (y == 1)).mean() > 0.9 and ((vals > 0.5) == (y == 1)).mean() > 0.8
    head.gate = gate
    head.save_npz(f)
    with np.load(f, allow_pickle=False) as z:
        assert {k: z[k].dtype.kind for k in z.files} == {"w": "f", "scale": "f", "b": "f", "meta": "U",
                                                          "gate_w": "f", "gate_b": "f"}
    for back in (LinearHead.load_npz(f), LinearHead.from_json(json.loads(json.dumps(head.to_json())))):
        np.testing.assert_allclose(back.gate(P), gate(P), rtol=1e-5, atol=1e-6)
    with pytest.raises(CurationError, match="both kinds"):
        fit_gate(P, np.zeros(60), np.arange(60))
    assert back.meta["note"] == "x"
    # a file holding a Python object cannot be loaded (np.load refuses pickles)
    np.savez(tmp_path / "evil.npz", w=np.array([object()], dtype=object), scale=np.ones(1), b=np.zeros(1),
             meta=np.array("{}"))
    with pytest.raises(ValueError, match="pickle"):
        LinearHead.load_npz(tmp_path / "evil.npz")


def test_shipped_default_head_loads_without_pickle_and_scores_both_replies(pref_ws) -> None:
    assert DEFAULT_HEAD.is_file(), "the shipped weights file is part of the project"
    head = LinearHead.load_npz(DEFAULT_HEAD)
    meta = head.meta
    assert meta["split"].startswith("mixed") and len(meta["source_sha256"]) == 4 and meta["train_pairs_sha256"]
    assert meta["trainer"] == 2 and meta["boost"] in (1.0, 3.0, 10.0)
    key = run_scorer(pref_ws, "pref_head_default")
    assert key == "pref_head_default(v=3)" and head.gate is not None    # gated features; old values not reused
    pairs = pair_scores(pref_ws, key)
    assert len(pairs) == 10 and pairs[["chosen", "rejected"]].notna().all().all()
    s = pref_ws.scores([key]).set_index("example_id")[key]
    assert np.isfinite(s["sft/s1"]) and np.isfinite(s["sft/s2"])


def test_pref_head_trains_on_workspace_pairs_and_key_follows_the_training_set(pref_ws, tmp_path: Path) -> None:
    from curation.ingest.run import ingest_file

    key = run_scorer(pref_ws, "pref_head")
    assert key.startswith("pref_head(train=")
    d = pref_ws.score_defs().set_index("key")
    params = json.loads(d.loc[key, "params"])
    assert params["n_train"] == 10 and 0.0 <= params["cv_accuracy"] <= 1.0
    pairs = pair_scores(pref_ws, key)
    assert pairs["agree"].mean() == 1.0                 # a separable toy: it ranks its own pairs right
    # ... but every chosen reply is also the longer one: the head is flagged as adding nothing over length
    from curation.scorers.validity import score_warnings, validity

    assert params["longer_wins"] == 1.0
    assert validity("pref_head", params)["length_rule"] == ("longer reply wins", 1.0)
    assert "no better than the length rule" in score_warnings(pref_ws, [key])[0]
    th = params["train"]
    assert pref_ws.artifact(f"learned:pref_head:{th}") is not None       # the weights, stored as JSON
    n_art = len(pref_ws.read_sql("select key from artifacts where key like 'learned:pref_head:%'"))
    # same pairs: same key, stored weights reused (no second artifact); deterministic values
    before = pref_ws.scores([key])[key].to_numpy()
    sc = PrefHead()
    sc.bind(pref_ws)
    assert sc.key() == key and n_art == 1
    # one more pair: a new training set, a new key
    ingest_file(pref_ws, write_jsonl(tmp_path / "more.jsonl", pref_rows(12)[10:]), name="more")
    key2 = run_scorer(pref_ws, "pref_head")
    assert key2 != key
    assert len(pref_ws.read_sql("select key from artifacts where key like 'learned:pref_head:%'")) == 2
    np.testing.assert_allclose(pref_ws.scores([key])[key].to_numpy()[:len(before)], before)   # old key untouched


def test_pref_head_without_pairs_says_why_and_writes_nothing(tmp_ws, tmp_path: Path) -> None:
    from curation.ingest.run import ingest_file

    ingest_file(tmp_ws, write_jsonl(tmp_path / "sft.jsonl", [{"instruction": "Hi?", "output": "Hello."}]), name="s")
    def stamp_of(ws) -> tuple:
        return (len(ws.score_defs()), len(ws.read_sql("select key from artifacts")), len(ws.jobs()))

    stamp = stamp_of(tmp_ws)
    with pytest.raises(CurationError, match="0 usable preference pair"):
        run_scorer(tmp_ws, "pref_head")
    with pytest.raises(CurationError, match="0 usable preference pair"):
        train_pref_head(tmp_ws)
    assert stamp_of(tmp_ws) == stamp


@pytest.fixture
def topic_ws(tmp_ws, tmp_path: Path):
    """24 rows about pets and 24 about cars, embedded."""
    from curation.embedding.embed import embed_workspace
    from curation.ingest.run import ingest_file

    pets = ["cat", "dog", "hamster", "parrot", "rabbit", "goldfish", "kitten", "puppy"]
    cars = ["sedan", "truck", "engine", "gearbox", "tyre", "brake pad", "diesel car", "hatchback"]
    asks = ["How do I look after my {x}?", "What should I know about a {x}?", "Is a {x} expensive to keep?"]
    rows = [{"id": f"{kind}{i}", "instruction": a.format(x=x), "output": f"A {x} needs regular care and attention.",
             "category": kind} for kind, xs in (("pet", pets), ("car", cars)) for i, (x, a) in
            enumerate((x, a) for x in xs for a in asks)]
    ingest_file(tmp_ws, write_jsonl(tmp_path / "rows.jsonl", rows), name="d")
    embed_workspace(tmp_ws)
    return tmp_ws


@pytest.mark.slow
def test_curator_model_learns_hidden_rule_and_proposes(topic_ws) -> None:
    ws = topic_ws
    stamp = (len(ws.score_defs()), len(ws.jobs()))
    with pytest.raises(CurationError, match="at least one kept and one dropped"):
        run_scorer(ws, "curator_model")
    assert (len(ws.score_defs()), len(ws.jobs())) == stamp       # nothing written
    ws.add_decisions(["d/pet0", "d/pet4", "d/pet9", "d/pet13"], "include", who="t")
    ws.add_decisions(["d/car1", "d/car5", "d/car10"], "exclude", who="t")
    key = run_scorer(ws, "curator_model")
    assert key.startswith("curator_model(labels=")
    s = ws.scores([key]).set_index("example_id")[key]
    pets = s[[i for i in s.index if "pet" in i]]
    cars = s[[i for i in s.index if "car" in i]]
    assert pets.min() > cars.max() and s.between(0, 1).all()
    params = json.loads(ws.score_defs().set_index("key").loc[key, "params"])
    assert params["n_train"] == 7
    # deterministic: the same labels give the same key and values
    assert run_scorer(ws, "curator_model") == key
    np.testing.assert_allclose(ws.scores([key])[key].to_numpy(), s.reindex(ws.scores([key])["example_id"]).to_numpy())
    prop = propose_rows(ws, 5)
    assert len(prop) == 5 and not set(prop["example_id"]) & {"d/pet0", "d/pet4", "d/pet9", "d/pet13", "d/car1",
                                                             "d/car5", "d/car10"}
    order = np.abs(prop["p_keep"].to_numpy() - 0.5)
    assert np.all(np.diff(order) >= 0)                          # least sure first
    # a tag can label a row too; new labels → new key
    ws.add_decisions(["d/car20"], "tag", who="t", value="junk")
    key2 = run_scorer(ws, get_scorer("curator_model", drop_tags="junk"))
    assert key2 != key and json.loads(ws.score_defs().set_index("key").loc[key2, "params"])["n_train"] == 8


def test_near_chance_scores_warn_when_a_selection_uses_them(pref_ws) -> None:
    from curation.scorers.validity import label, score_warnings, validity
    from curation.select.run import selection_warnings

    run_scorer(pref_ws, "response_length")
    assert "near chance" in score_warnings(pref_ws, ["response_length"])[0]
    assert selection_warnings(pref_ws, "topk", {"score": "response_length"})
    assert "52.3% of 8,550" in label(validity("response_length"))
    assert validity("pref_embed_distance") is None
    assert validity("response_length" + REJECTED_SUFFIX)["n"] == 8550


def test_a_workspace_head_is_compared_with_the_better_length_rule() -> None:
    from curation.scorers.validity import no_better_than_length, validity, weakness

    v = validity("pref_head", {"cv_accuracy": 0.60, "n_train": 1000, "longer_wins": 0.30})
    assert v["length_rule"] == ("shorter reply wins", 0.7) and no_better_than_length(v)
    assert '"shorter reply wins" on the same pairs' in weakness(v)
    v = validity("pref_head", {"cv_accuracy": 0.62, "n_train": 1000, "longer_wins": 0.55})
    assert not no_better_than_length(v) and weakness(v) is None
    v = validity("pref_head", {"cv_accuracy": 0.62, "n_train": 1000})          # stored before the comparison
    assert "length_rule" not in v and weakness(v) is None


def test_scores_page_lists_each_score_once_and_shows_rejected_replies_behind_a_toggle(pref_ws) -> None:
    from tests.app_support import app_page

    key = run_scorer(pref_ws, "response_length")
    assert key + REJECTED_SUFFIX in set(pref_ws.score_defs()["key"])
    at = app_page("scores", pref_ws)
    assert not at.exception, [e.value for e in at.exception]
    opts = at.selectbox(key="scores:key").options
    assert not [o for o in opts if REJECTED_SUFFIX in o]                  # one entry per score ...
    assert [o for o in opts if o.startswith("response_length") and "validity" in o]   # ... with its validity
    at.selectbox(key="scores:key").select(next(o for o in opts if o.startswith("response_length"))).run()
    assert key + REJECTED_SUFFIX not in at.dataframe[-1].value.columns
    at.toggle(key="scores:show_rejected").set_value(True).run()
    cols = list(at.dataframe[-1].value.columns)
    assert cols.index(key + REJECTED_SUFFIX) == cols.index(key) + 1        # the rejected reply's value beside it


def test_scores_page_trains_pref_head_in_a_background_job(pref_ws) -> None:
    from tests.app_support import app_page

    from pages import jobs

    run_scorer(pref_ws, "response_length")                   # the page needs one score to open
    at = app_page("scores", pref_ws)
    at.button(key="scores:train_pref").click().run()         # returns at once: the training runs in a thread
    jobs.threads()[f"{pref_ws.path}::ui:train_pref"].join(timeout=300)
    assert pref_ws.job("ui:train_pref")["status"] == "done"
    at.run()
    assert not at.exception and not at.error
    key = next(k for k in pref_ws.score_defs()["key"] if k.startswith("pref_head(") and "@" not in k)
    assert any(key in c.value for c in at.caption)           # "Stored pref_head(...)" under the job's bar
    assert any(o.startswith(key) for o in at.selectbox(key="scores:key").options)


def test_text_columns_are_penalised_less_when_cross_validation_says_so() -> None:
    """A strong low-dimensional signal (one column) among many noise columns: the boost picked by grouped CV is
    above 1, folded into the scale (the head scores raw features), and the choice is deterministic."""
    rng = np.random.default_rng(0)
    n, d = 400, 200
    A, B = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    good = (A[:, 0] - B[:, 0]) + 0.3 * rng.normal(size=n) > 0   # only column 0 matters
    Xc, Xr = np.where(good[:, None], A, B), np.where(good[:, None], B, A)
    g = np.arange(n) // 2
    h = train_bradley_terry(Xc, Xr, g, seed=0, boost_cols=[0])
    assert h.meta["boost"] > 1 and "boost=1,C=" in next(iter(h.meta["cv_by_C"]))
    plain = train_bradley_terry(Xc, Xr, g, seed=0)
    assert plain.meta["boost"] == 1.0 and h.meta["cv_accuracy"] >= plain.meta["cv_accuracy"]
    np.testing.assert_allclose(h.decision(Xc) - h.decision(Xr), ((Xc - Xr) / h.scale) @ h.w)
    assert h.scale[0] < plain.scale[0] and np.allclose(h.scale[1:], plain.scale[1:])
    h2 = train_bradley_terry(Xc, Xr, g, seed=0, boost_cols=[0])
    np.testing.assert_array_equal(h.w, h2.w)


def test_text_columns_follow_the_feature_layout() -> None:
    from curation.scorers.features import TEXT_FEATURES, n_features, text_columns

    nt = len(TEXT_FEATURES)
    assert list(text_columns(n_features(8, False), False)) == list(range(16, 16 + nt))
    assert list(text_columns(n_features(8, True), True)) == list(range(16, 16 + nt)) + list(range(32 + nt, 32 + 2 * nt))
    with pytest.raises(ValueError):
        text_columns(n_features(8, True), False)


def test_proposals_are_spread_out_among_the_least_sure() -> None:
    """Three tight groups of equally unsure rows: a batch of 3 takes one of each, not three near-copies; a group
    next to a pinned row comes last; rows the model is sure about are never proposed; least sure first."""
    from curation.scorers.learned import pick_proposals

    rng = np.random.default_rng(0)
    centres = np.eye(4)[:3]
    E = np.repeat(centres, 10, axis=0) + 0.01 * rng.normal(size=(30, 4))
    E = np.vstack([E, np.tile([0, 0, 0, 1.0], (5, 1))])            # 5 rows the model is sure about
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    p = np.r_[0.5 + 0.001 * rng.random(30), np.full(5, 0.99)]
    got = pick_proposals(p, E, np.zeros((0, 4)), 3)
    assert sorted(got // 10) == [0, 1, 2]                             # one of each group
    assert np.all(np.diff(np.abs(p[got] - 0.5)) >= 0)                 # least sure first
    pinned_near_group0 = E[[0]] + 0.0
    got = pick_proposals(p, E, pinned_near_group0, 2)
    assert sorted(got // 10) == [1, 2] and max(got) < 30
    np.testing.assert_array_equal(got, pick_proposals(p, E, pinned_near_group0, 2))   # deterministic
    assert len(pick_proposals(p[:2], E[:2], np.zeros((0, 4)), 5)) == 2               # fewer rows than asked
