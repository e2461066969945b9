"""Length control of the quality scores: length-matched agreement and strata against a brute-force count, the
length-controlled variant of the learned heads (length features dropped), the "mostly length" verdict where a score
is shown or consumed, and per-batch progress of every scorer run."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from curation.scorers import get_scorer, run_scorer
from curation.scorers.validity import (MATCH_TOL, STRATA, length_controlled, length_controlled_labels,
                                       mostly_length, validity, weakness)

from test_scorers_learned import pref_ws, write_jsonl  # noqa: F401  (fixture)


def _brute_pairs(c, r, lc, lr, lo_gap, hi_gap, include_lo):
    k, n = 0.0, 0
    for i in range(len(c)):
        if np.isnan(c[i]) or np.isnan(r[i]):
            continue
        big = max(lc[i], lr[i])
        gap = abs(lc[i] - lr[i]) / big if big > 0 else 0.0
        if not ((gap >= lo_gap if include_lo else gap > lo_gap) and gap <= hi_gap):
            continue
        n += 1
        k += 1.0 if c[i] > r[i] else 0.5 if c[i] == r[i] else 0.0
    return k, n


def test_length_matched_agreement_and_strata_match_a_brute_force_count() -> None:
    rng = np.random.default_rng(7)
    n = 600
    lc = rng.integers(0, 400, n).astype(float)
    lr = np.where(rng.random(n) < 0.4, lc + rng.integers(-30, 30, n), rng.integers(0, 400, n)).clip(0)
    c = np.round(rng.normal(size=n) + 0.002 * (lc - lr), 1)           # rounded: some ties
    r = np.round(rng.normal(size=n), 1)
    c[::37] = np.nan
    lc[5] = lr[5] = 0                                                 # two empty replies: gap 0, matched
    got = length_controlled(c, r, lc, lr)
    k, m = _brute_pairs(c, r, lc, lr, 0.0, MATCH_TOL, True)
    assert got["matched"]["n"] == m and 50 < m < n
    assert got["matched"]["agreement"] == pytest.approx(k / m)
    assert got["matched"]["lo"] < k / m < got["matched"]["hi"]
    k_all, n_all = _brute_pairs(c, r, lc, lr, 0.0, 1.0, True)
    assert got["raw"]["n"] == n_all and got["raw"]["agreement"] == pytest.approx(k_all / n_all)
    assert [s["stratum"] for s in got["strata"]] == [s[2] for s in STRATA]
    for s, (a, b, _) in zip(got["strata"], STRATA):
        k, m = _brute_pairs(c, r, lc, lr, a, b, a == 0.0)
        assert s["n"] == m and (m == 0 or s["agreement"] == pytest.approx(k / m))
    assert sum(s["n"] for s in got["strata"]) == n_all
    # lower is better: the same pairs, mirrored agreement
    low = length_controlled(-c, -r, lc, lr, higher_is_better=False)
    assert low["matched"]["agreement"] == pytest.approx(got["matched"]["agreement"])
    # the better length rule on all pairs
    ok = ~np.isnan(c)
    lw = ((lc > lr)[ok].sum() + 0.5 * (lc == lr)[ok].sum()) / ok.sum()
    assert got["rule"][1] == pytest.approx(max(lw, 1 - lw))


def test_length_matched_auc_of_a_keep_drop_classifier_matches_a_brute_force_count() -> None:
    rng = np.random.default_rng(3)
    n = 120
    y = (rng.random(n) < 0.4).astype(float)
    length = rng.integers(10, 300, n).astype(float)
    s = np.round(y * 0.5 + rng.normal(size=n) + 0.004 * length, 1)
    got = length_controlled_labels(s, y, length)
    k = m = 0.0
    kr = mr = 0.0
    for i in np.flatnonzero(y == 1):
        for j in np.flatnonzero(y == 0):
            w = 1.0 if s[i] > s[j] else 0.5 if s[i] == s[j] else 0.0
            kr, mr = kr + w, mr + 1
            if abs(length[i] - length[j]) <= MATCH_TOL * max(length[i], length[j]):
                k, m = k + w, m + 1
    assert got["raw"]["n"] == mr and got["raw"]["agreement"] == pytest.approx(kr / mr)
    assert got["matched"]["n"] == m and got["matched"]["agreement"] == pytest.approx(k / m)
    assert got["matched"]["lo"] <= k / m <= got["matched"]["hi"]


def test_a_score_that_is_only_length_is_called_mostly_length() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    a, b = rng.integers(20, 800, n).astype(float), rng.integers(20, 800, n).astype(float)
    long_, short = np.maximum(a, b), np.minimum(a, b)
    gap = (long_ - short) / long_
    # people prefer the longer reply in 80% of pairs of clearly different lengths, at chance when within 20%
    longer_chosen = rng.random(n) < np.where(gap <= MATCH_TOL, 0.5, 0.8)
    lc2, lr2 = np.where(longer_chosen, long_, short), np.where(longer_chosen, short, long_)
    lc_len = length_controlled(lc2, lr2, lc2, lr2)                    # the score is the length itself
    assert lc_len["raw"]["agreement"] > 0.65 and lc_len["matched"]["n"] > 300
    v = {"agreement": lc_len["raw"]["agreement"], "n": n, "lo": 0.6, "hi": 0.8, "source": "test",
         "length": lc_len}
    why = mostly_length(v)
    assert why and "mostly length" in why and "within 20%" in why
    assert "mostly length" in weakness(v)
    # a score that keeps its agreement on length-matched pairs is not
    good = length_controlled(np.where(rng.random(n) < 0.7, 1.0, 0.0), np.zeros(n), lc2, lr2)
    assert mostly_length({"agreement": good["raw"]["agreement"], "n": n, "lo": 0.6, "hi": 0.7, "source": "t",
                          "length": good}) is None


def test_length_controlled_head_ignores_the_length_columns() -> None:
    from curation.scorers.features import length_columns, n_features, text_columns
    from curation.scorers.learned import LinearHead

    for gated in (False, True):
        d = n_features(8, gated)
        rng = np.random.default_rng(1)
        head = LinearHead(w=rng.normal(size=d), scale=np.ones(d), b=0.3,
                          gate=None if not gated else __import__("curation.scorers.features",
                                                                 fromlist=["Gate"]).Gate(np.zeros(8), 0.0))
        X = rng.normal(size=(5, d))
        X2 = X.copy()
        cols = length_columns(d, gated)
        X2[:, cols] += rng.normal(size=(5, len(cols))) * 10
        np.testing.assert_allclose(head.decision(X2, "controlled"), head.decision(X, "controlled"))
        assert not np.allclose(head.decision(X2), head.decision(X))           # the raw head does read them
        assert set(cols) & set(text_columns(d, gated)) and len(cols) == 8 + 3 + (3 if gated else 0)


def test_length_controlled_variant_is_its_own_key_and_carries_cv_length_figures(pref_ws) -> None:  # noqa: F811
    raw = run_scorer(pref_ws, get_scorer("pref_head_default"), batch_size=5)
    ctl = run_scorer(pref_ws, get_scorer("pref_head_default", length="controlled"), batch_size=5)
    assert raw != ctl and "length=controlled" in ctl
    t = pref_ws.scores([raw, ctl])
    assert not np.allclose(t[raw].to_numpy(), t[ctl].to_numpy())
    with pytest.raises(Exception, match="length='short' is not one of"):
        get_scorer("pref_head_default", length="short")
    # the workspace head: cross-validated raw and length-matched figures stored with the score, shown as validity
    key = run_scorer(pref_ws, get_scorer("pref_head"))
    params = json.loads(pref_ws.score_defs().set_index("key").at[key, "params"])
    assert {"lc_raw", "lc_matched", "lc_n", "lc_n_matched"} <= set(params)
    assert params["lc_raw"] == pytest.approx(params["cv_accuracy"])
    v = validity("pref_head", params)
    assert v["length"]["raw"]["n"] == params["n_train"]
    key_c = run_scorer(pref_ws, get_scorer("pref_head", length="controlled"))
    pc = json.loads(pref_ws.score_defs().set_index("key").at[key_c, "params"])
    assert key_c != key and pc["train"] == params["train"]           # the same trained head, another score
    assert pc["cv_accuracy"] == pytest.approx(pc["lc_raw"])


def test_every_scorer_reports_progress_per_batch_and_the_job_row_moves(tmp_ws, tmp_path: Path) -> None:
    from curation.ingest.run import ingest_file
    from curation.scorers.run import FIRST_BATCH

    ingest_file(tmp_ws, write_jsonl(tmp_path / "sft.jsonl", [
        {"id": f"s{i}", "instruction": f"question {i}", "output": "word " * (i % 17 + 1) + str(i)}
        for i in range(300)]), name="sft")
    calls: list[tuple[int, int]] = []
    seen: list[dict] = []
    sc = get_scorer("ngram_repetition")

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        job = tmp_ws.job(f"score:{sc.key()}")
        if job is not None:
            seen.append({"status": job["status"], "done": int(job["done"])})

    run_scorer(tmp_ws, sc, progress=progress, commit_every=FIRST_BATCH)
    dones = [d for d, _ in calls]
    assert all(t == 300 for _, t in calls) and dones[-1] == 300
    assert dones == sorted(dones) and len([d for d in dones if 0 < d < 300]) >= 2   # several batches, not one
    assert dones[1] == FIRST_BATCH                                                # the first batch is small
    assert any(s["status"] == "running" and 0 < s["done"] < 300 for s in seen)   # the job row moved during the run
    assert tmp_ws.job(f"score:{sc.key()}")["status"] == "done"


def test_learned_head_progress_per_batch(pref_ws) -> None:  # noqa: F811
    calls: list[int] = []
    run_scorer(pref_ws, get_scorer("pref_head_default"), batch_size=4, progress=lambda d, t: calls.append(d))
    assert calls[:4] == [0, 4, 8, 12]


def _scores_page(ws):
    from tests.app_support import app_page

    return app_page("scores", ws, run=False)


def test_scores_page_shows_the_length_matched_figure_and_recommends_the_curator_path(tmp_ws, tmp_path: Path,
                                                                                      monkeypatch) -> None:
    from curation.ingest.run import ingest_file

    # chosen replies a little longer than the rejected ones (within 20%): "longer reply wins" explains everything
    rows = [{"id": f"p{i}", "prompt": f"Tell me about item {i}", "chosen": "detail " * (20 + i % 3) + str(i),
             "rejected": "detail " * 19 + "x" + str(i)} for i in range(60)]
    ingest_file(tmp_ws, write_jsonl(tmp_path / "pref.jsonl", rows), name="pref")
    run_scorer(tmp_ws, "response_length")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    at = _scores_page(tmp_ws)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    opts = at.selectbox(key="scores:key").options
    at.selectbox(key="scores:key").select(next(o for o in opts if o.startswith("response_length"))).run()
    caps = " ".join(c.value for c in at.caption)
    assert "On this workspace's pairs: length-matched agreement 100.0% of 60 pairs" in caps
    assert "by length gap: within 20% 100.0% of 60" in caps
    assert any("mostly length" in w.value for w in at.warning)
    md = " ".join(m.value for m in at.markdown)
    assert "Recommended quality path" in md and "pin 50, train, review proposals" in md
    assert "0 of 50 pins" in at.get("progress")[0].proto.text
    # with a judge configured the recommendation steps aside
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    at.run()
    assert "Recommended quality path" not in " ".join(m.value for m in at.markdown)


def test_selection_and_datasheet_say_when_a_score_is_mostly_length_on_the_workspace_pairs(tmp_ws, tmp_path: Path
                                                                                          ) -> None:
    from curation.export import export_subset
    from curation.ingest.run import ingest_file
    from curation.select import run_selection
    from curation.select.run import ranking_warnings
    from curation.scorers.validity import score_warnings

    rows = [{"id": f"p{i}", "prompt": f"Tell me about item {i}", "chosen": "detail " * (20 + i % 3) + str(i),
             "rejected": "detail " * 19 + "x" + str(i)} for i in range(60)]
    ingest_file(tmp_ws, write_jsonl(tmp_path / "pref.jsonl", rows), name="pref")
    k = run_scorer(tmp_ws, "response_length")
    assert not any("mostly length" in w for w in score_warnings(tmp_ws, [k]))    # near chance says it first
    k = run_scorer(tmp_ws, "pref_head_default")
    got = score_warnings(tmp_ws, [k])
    assert len(got) == 1 and "mostly length" in got[0] and "this workspace's preference pairs" in got[0]
    key = run_selection(tmp_ws, "topk", {"score": k}, seed=0).method
    assert any("mostly length" in w for w in ranking_warnings(tmp_ws, key))
    res = export_subset(tmp_ws, ranking_key=key, budget_rows=20, name="topk")
    text = res.datasheet_path.read_text(encoding="utf-8")
    sel = text[text.index("<h2>Selection</h2>"):text.index("<h2>Class balance</h2>")]
    assert "mostly length" in sel and 'class="alert"' in sel


def test_too_few_length_matched_pairs_are_inconclusive_not_length() -> None:
    from curation.scorers.validity import length_inconclusive

    rng = np.random.default_rng(5)
    n = 100
    lc = rng.integers(100, 120, n).astype(float)                    # every pair the same length: no length rule
    lr = lc.copy()
    chosen_better = np.arange(n) < 57
    lc_ = length_controlled(np.where(chosen_better, 1.0, 0.0), np.where(chosen_better, 0.0, 1.0), lc, lr)
    v = {"agreement": lc_["raw"]["agreement"], "n": n, "lo": 0.5, "hi": 0.65, "source": "t", "length": lc_}
    # 57% of 100 matched pairs: the interval holds 50% and 57%: cannot tell, and not called length
    assert lc_["matched"]["lo"] < 0.5 < lc_["matched"]["hi"]
    assert length_inconclusive(v) and mostly_length(v) is None


def test_pref_head_reports_its_training_embedding_then_scoring(pref_ws) -> None:  # noqa: F811
    from curation.core.progress import TqdmProgress

    calls: list[tuple[int, int]] = []
    run_scorer(pref_ws, get_scorer("pref_head"), batch_size=4, progress=lambda d, t: calls.append((d, t)))
    from curation.scorers.features import prompt_text, reply_text
    from curation.scorers.learned import preference_pairs

    pairs = preference_pairs(pref_ws)                 # the distinct texts embedded for training
    n_texts = len({prompt_text(x) for x in pairs["prompt"]} | {reply_text(x) for x in pairs["chosen"]}
                  | {reply_text(x) for x in pairs["rejected"]})
    train = [c for c in calls if c[1] == n_texts]
    assert n_texts != 12 and train[0] == (0, n_texts) and train[-1] == (n_texts, n_texts)
    assert calls[:len(train)] == train
    score = calls[len(train):]
    assert list(dict.fromkeys(d for d, _ in score)) == [0, 4, 8, 12] and {t for _, t in score} == {12}
    # stored weights are reused: no training stage the second time; a staged bar gets one bar per stage
    names: list[str] = []

    class Bar(TqdmProgress):
        def for_stage(self, name: str) -> TqdmProgress:
            names.append(name)
            return super().for_stage(name)

    run_scorer(pref_ws, get_scorer("pref_head"), progress=Bar("score"))
    assert names == ["pref_head: embedding its training texts", "pref_head: scoring"]
