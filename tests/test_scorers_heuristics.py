"""Text heuristics: properties on small hand-made examples, and the scorer contract."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from curation.scorers import GROUPS, REGISTRY, get_scorer


def frame(responses: list[str | None], prompts: list[str | None] | None = None, kind: str = "sft") -> pd.DataFrame:
    n = len(responses)
    return pd.DataFrame({"kind": [kind] * n, "prompt": prompts or ["Tell me about cats."] * n,
                         "response": responses, "chosen": [None] * n, "rejected": [None] * n})


def s(name: str, responses: list[str | None], **kw: object) -> np.ndarray:
    prompts = kw.pop("prompts", None)
    return get_scorer(name, **kw).score(frame(responses, prompts))


@pytest.mark.parametrize("name", GROUPS["heuristics"])
def test_contract_shape_nan_for_prompt_only(name: str) -> None:
    df = frame(["A fine answer about cats, which are small carnivores.", "x"])
    df.loc[1, "kind"] = "prompt"
    df.loc[1, "response"] = None
    v = get_scorer(name).score(df)
    assert v.shape == (2,) and v.dtype == np.float64
    assert np.isnan(v[1])                                        # prompt-only: not applicable
    cls = REGISTRY[name]
    assert isinstance(cls.higher_is_better, bool) and cls.description


def test_length_and_ratio() -> None:
    v = s("response_length", ["one two three", "", "a b c d e f"])
    assert v.tolist() == [3.0, 0.0, 6.0]
    r = s("response_prompt_ratio", ["one two", "one two three four"], prompts=["a b", None])
    assert r[0] == pytest.approx(1.0) and np.isnan(r[1])


def test_repetition_orders_degenerate_text_last() -> None:
    clean = "The quick brown fox jumps over the lazy dog near the river bank today."
    loop = "I like it. " * 12
    v = s("ngram_repetition", [clean, loop, "short"])
    assert v[0] == 0.0 and v[1] > 0.8 and v[2] == 0.0
    d = s("lexical_diversity", [clean, loop, "short"])
    assert d[0] > d[1] and np.isnan(d[2])


def test_non_alpha_empty_truncated() -> None:
    v = s("non_alpha_share", ["hello world", "1234 !!!!", "   "])
    assert v[0] == 0.0 and v[1] == 1.0 and np.isnan(v[2])
    e = s("empty", ["text", "  \n ", ""])
    assert e.tolist() == [0.0, 1.0, 1.0]
    long_cut = " ".join(["word"] * 30) + " and then the"
    t = s("truncated", ["A complete sentence with twenty-one words " + "x " * 20 + "end.", long_cut,
                        "```python\nprint(1)\n", "Paris", "- item one\n- item two", ""])
    assert t[:5].tolist() == [0.0, 1.0, 1.0, 0.0, 0.0] and np.isnan(t[5])


def test_refusal_and_disclaimer() -> None:
    r = s("refusal", ["I'm sorry, but I can't help with that request.", "I cannot assist with that.",
                      "I can’t provide instructions for making weapons.", "Sure! Here is a recipe for bread.",
                      "I can't help but notice that you like cats."])
    assert r.tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]
    a = s("ai_disclaimer", ["As an AI language model, I don't have opinions.", "Cats are mammals."])
    assert a.tolist() == [1.0, 0.0]


def test_prompt_copy() -> None:
    p = "Explain why the sky is blue during the day"
    v = s("prompt_copy", ["Explain why the sky is blue during the day", "Rayleigh scattering of sunlight by air",
                          "too short"], prompts=[p, p, p])
    assert v[0] == 1.0 and v[1] == 0.0 and np.isnan(v[2])


def test_preference_rows_use_chosen() -> None:
    df = pd.DataFrame({"kind": ["preference"], "prompt": ["q"], "response": [None], "chosen": ["a b c d"],
                       "rejected": ["x"]})
    assert get_scorer("response_length").score(df).tolist() == [4.0]


def test_keys_and_param_validation() -> None:
    from curation.core.errors import CurationError

    assert get_scorer("ngram_repetition").key() == "ngram_repetition"
    assert get_scorer("ngram_repetition", n=4).key() == "ngram_repetition(n=4)"
    assert get_scorer("ngram_repetition", n=3).key() == "ngram_repetition"   # default: not in the key
    with pytest.raises(CurationError, match="has no parameter"):
        get_scorer("ngram_repetition", m=2)
    with pytest.raises(CurationError, match="unknown scorer"):
        get_scorer("nope")


def test_heuristics_are_fast_enough_to_run_on_10k() -> None:
    # property, not a timing threshold: every heuristic handles a long text and many rows without error
    rng = np.random.default_rng(0)
    words = np.array(["alpha", "beta", "gamma", "delta", "the", "a", "of", "42", "!"])
    texts = [" ".join(rng.choice(words, size=int(n))) for n in rng.integers(0, 400, size=200)]
    df = frame(texts)
    for name in GROUPS["heuristics"]:
        v = get_scorer(name).score(df)
        assert v.shape == (200,)
