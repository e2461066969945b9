"""Preference-pair figures and quality-score distributions (curation/diagnostics/preference.py, quality.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from curation.diagnostics import ReportContext
from curation.diagnostics.preference import PreferenceIndex, is_refusal, preference_alerts, preference_features
from curation.diagnostics.quality import QualityIndex, quality_alerts


@pytest.mark.parametrize("text,expected", [
    ("I'm sorry, but I can't help with that.", True),
    ("As an AI language model, I cannot give medical advice.", True),
    ("I won't do that.", True),
    ("Sure! Here is a recipe for pancakes: flour, eggs, milk.", False),
    ("The capital of France is Paris.", False),
    ("", False),
    (None, False),
])
def test_is_refusal(text: str | None, expected: bool) -> None:
    assert is_refusal(text) is expected


def test_features_and_summaries() -> None:
    f = preference_features(["a b c", "I'm sorry, I can't", None], ["a", "sure thing ok yes", None],
                            ["helpful", "harmless", None])
    assert f["is_pair"].tolist() == [True, True, False]
    assert f["chosen_words"].tolist()[:2] == [3, 4] and np.isnan(f["chosen_words"][2])
    assert f["chosen_refusal"].tolist()[:2] == [0.0, 1.0]
    idx = PreferenceIndex(f)
    rep = idx.report(np.array([True, False, True]))
    s = rep["summary"].set_index("metric")
    assert s.loc["n_pairs", "pool"] == 2 and s.loc["n_pairs", "subset"] == 1
    assert s.loc["chosen_refusal_share", "pool"] == 0.5 and s.loc["chosen_refusal_share", "subset"] == 0.0
    assert s.loc["chosen_longer_share", "subset"] == 1.0
    assert s.loc["mean_length_diff_words", "subset"] == 2.0


def _pairs(n: int, rng: np.random.Generator) -> pd.DataFrame:
    harmless = rng.random(n) < 0.4
    chosen = np.where(harmless & (rng.random(n) < 0.5), "I'm sorry, I can't help with that request.",
                      "Here is a detailed and friendly answer with several useful steps")
    rejected = np.where(rng.random(n) < 0.5, "no", "Here is a much longer rejected answer that rambles on and on")
    return pd.DataFrame({"chosen": chosen, "rejected": rejected,
                         "type": np.where(harmless, "harmless-base", "helpful-base")})


def test_refusal_shift_and_helpful_harmless_mix_are_alerted() -> None:
    rng = np.random.default_rng(0)
    n = 600
    pref = _pairs(n, rng)
    X = rng.standard_normal((n, 8)).astype(np.float32)
    ctx = ReportContext.from_arrays(X, pref["type"].to_numpy(), pref=pref, coverage_sample=100)
    refusing = np.flatnonzero(pref["chosen"].str.startswith("I'm sorry").to_numpy())
    others = np.flatnonzero(~pref["chosen"].str.startswith("I'm sorry").to_numpy())[:100]
    card = ctx.report(np.concatenate([refusing, others]))
    assert card.preference is not None
    s = card.preference["summary"].set_index("metric")
    assert s.loc["chosen_refusal_share", "subset"] > 2 * s.loc["chosen_refusal_share", "pool"]
    assert any("refusals make up" in a and "chosen responses" in a for a in card.alerts)
    assert any("helpful:harmless mix shifts" in a for a in card.alerts)
    # a random half keeps the mix: no preference alerts
    card = ctx.report(rng.choice(n, n // 2, replace=False))
    assert preference_alerts(card.preference) == []


def test_length_bias_alert() -> None:
    pref = pd.DataFrame({"chosen": ["a b c d e f"] * 50 + ["a"] * 50, "rejected": ["a"] * 50 + ["a b c d e f"] * 50})
    idx = PreferenceIndex(preference_features(pref["chosen"], pref["rejected"]))
    m = np.zeros(100, dtype=bool)
    m[:40] = True
    m[50:55] = True
    alerts = preference_alerts(idx.report(m))
    assert any("length bias" in a for a in alerts)


def test_quality_table_matches_numpy_and_flags_worse_subsets() -> None:
    rng = np.random.default_rng(1)
    v = rng.random((500, 2))
    v[rng.random(500) < 0.3, 1] = np.nan
    idx = QualityIndex(v, ["good", "toxicity"], {"good": True, "toxicity": False})
    mask = v[:, 0] < 0.3  # the subset keeps the worst 'good' scores
    t = idx.table(mask).set_index("key")
    sub = v[mask, 0]
    assert t.loc["good", "subset_n"] == mask.sum()
    assert t.loc["good", "subset_median"] == pytest.approx(np.median(sub))
    assert t.loc["good", "subset_q10"] == pytest.approx(np.quantile(sub, 0.1))
    assert t.loc["toxicity", "pool_n"] == np.isfinite(v[:, 1]).sum()
    assert t.loc["toxicity", "pool_q90"] == pytest.approx(np.nanquantile(v[:, 1], 0.9))
    assert t.loc["good", "effect"] < -1
    alerts = quality_alerts(idx.table(mask))
    assert len(alerts) == 1 and "good" in alerts[0] and "worse" in alerts[0]
    empty = idx.table(np.zeros(500, dtype=bool)).set_index("key")
    assert empty.loc["good", "subset_n"] == 0 and np.isnan(empty.loc["good", "subset_mean"])
