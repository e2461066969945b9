"""Preference-pair signals: length gap, conflicting preferences on a shared prompt, embedding distance."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from curation.scorers import get_scorer


def pairs(rows: list[tuple[str, str, str]], extra_sft: bool = True) -> pd.DataFrame:
    df = pd.DataFrame({"kind": "preference", "prompt": [r[0] for r in rows], "chosen": [r[1] for r in rows],
                       "rejected": [r[2] for r in rows], "response": None})
    if extra_sft:
        df = pd.concat([df, pd.DataFrame({"kind": ["sft"], "prompt": ["q"], "response": ["r"],
                                          "chosen": [None], "rejected": [None]})], ignore_index=True)
    return df


def test_length_gap_range_and_sign() -> None:
    v = get_scorer("pref_length_gap").score(pairs([("p", "one two three", "one"), ("p", "a", "a b c d e f g"),
                                                   ("p", "same len", "two words")]))
    assert v[0] == pytest.approx(0.5) and v[1] == pytest.approx(-0.75) and v[2] == 0.0 and np.isnan(v[3])


def test_conflict_reversed_cycle_duplicates_and_identical() -> None:
    v = get_scorer("pref_conflict").score(pairs([
        ("Q1", "A", "B"), ("q1 ", "B", "A"),                  # reversed on the same (normalised) prompt
        ("Q2", "A", "B"), ("Q2", "B", "C"), ("Q2", "C", "A"),   # a 3-cycle: each pair contradicted by the 2 others
        ("Q3", "A", "B"), ("Q3", "A", "B"), ("Q3", "A", "C"),   # duplicates and a consistent extra pair
        ("Q4", "same", "same"),                               # identical replies
        ("Q5", "A", "B"),                                     # prompt occurs once
    ]))
    assert v[:2].tolist() == [1.0, 1.0]
    assert v[2:5].tolist() == [1.0, 1.0, 1.0]
    assert v[5:8].tolist() == [0.0, 0.0, 0.0]
    assert v[8] == 1.0 and np.isnan(v[9]) and np.isnan(v[10])
    assert get_scorer("pref_conflict").corpus_level


def test_embed_distance() -> None:
    sc = get_scorer("pref_embed_distance")
    v = sc.score(pairs([("p", "The cat sat on the mat.", "The cat sat on the mat."),
                        ("p", "The cat sat on the mat.", "Quarterly tax filings are due in April.")]))
    assert v[0] == pytest.approx(0.0, abs=1e-5) and 0.3 < v[1] <= 2.0 and np.isnan(v[2])
    assert sc.key() == "pref_embed_distance"
    assert get_scorer("pref_embed_distance", batch_size=8).key() == "pref_embed_distance"   # not a key param
