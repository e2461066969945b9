"""DELIFT's model-based utility kernel (optional): how much example j, shown in context, helps a model on example i.

U[i, j] = max(0, loglik(response_i | example_j, prompt_i) - loglik(response_i | prompt_i)), a per-token log-likelihood
gain, then facility location on that kernel (candidate j covers i with U[i, j]; an example covers itself at least as
well as its best helper: U[i, i] = max_j U[i, j]). It costs n² + n model calls, so it is only for small pools
(``max_n``, default 200) or users with an LLM endpoint: the UI must say so.

``loglik(prompt, response, context)`` is any callable returning the mean log-probability of ``response`` given
``context`` (None or another example's text) and ``prompt``; :func:`lm_loglik` builds one from the scorers' model
backend (a local causal LM, the packaged GGUF, or an endpoint). run_selection loads it from the ``lm`` parameter.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

import numpy as np

from curation.core.errors import CurationError
from curation.select.base import Pool, Progress, check_range, register
from curation.select.facility import OPTIMIZERS, CoverageProblem, _CoverageSelector, optimize

LogLik = Callable[[str, str, "str | None"], float]


def utility_kernel(prompts: Sequence[str], responses: Sequence[str], loglik: LogLik, *,
                   progress: Progress | None = None) -> np.ndarray:
    """(n, n) float64 utility U >= 0 with U[i, j] = gain of i's response log-likelihood with j in context.

    n² + n calls to ``loglik``.
    """
    n = len(prompts)
    if len(responses) != n:
        raise CurationError(f"utility kernel: {n} prompts but {len(responses)} responses")
    base = np.array([loglik(prompts[i], responses[i], None) for i in range(n)], dtype=np.float64)
    U = np.zeros((n, n))
    ctx = [f"{p}\n{r}" for p, r in zip(prompts, responses)]
    total = n * n
    for i in range(n):
        for j in range(n):
            if i != j:
                U[i, j] = loglik(prompts[i], responses[i], ctx[j]) - base[i]
        if progress:
            progress((i + 1) * n, total)
    U = np.maximum(U, 0.0)
    U[np.arange(n), np.arange(n)] = np.maximum(U.max(axis=1), 1e-12)
    return U


def lm_loglik(model: str | None = None, *, endpoint: str | None = None, max_context_tokens: int = 768,
              max_response_tokens: int = 256) -> LogLik:
    """A ``loglik`` (mean log-prob of the response tokens given context + prompt) from the scorers' language-model
    backend: ``model`` = a local model folder, a ``.gguf`` file, a hub name, or None for the packaged
    SmolLM2-135M-Instruct GGUF; ``endpoint`` = an OpenAI-compatible completions server with logprobs.
    Heavy: loads the model on first use (shared with Ask-LLM / IFD in the same process)."""
    from curation.scorers.lm import load_lm

    backend = load_lm(model, endpoint=endpoint)

    def ll(prompt: str, response: str, context: str | None) -> float:
        head = (context + "\n\n" if context else "") + prompt + "\n"
        lp = backend.continuation_logprobs([head], [response], max_context_tokens=max_context_tokens,
                                           max_continuation_tokens=max_response_tokens)[0]
        return float(lp.mean()) if len(lp) else 0.0

    return ll


@register
class UtilitySelector(_CoverageSelector):
    """Facility location on DELIFT's model-based utility kernel. lm: a local causal LM (folder, .gguf file or hub
    name; default: the packaged SmolLM2-135M GGUF) for :func:`lm_loglik` (or pass context={"loglik": fn}).
    max_n: refuse larger pools (n² model calls)."""

    name: ClassVar[str] = "utility"
    needs: ClassVar[tuple[str, ...]] = ("texts",)
    description: ClassVar[str] = "DELIFT utility kernel: in-context helpfulness by a language model (n² calls)"

    def __init__(self, *, lm: str | None = None, max_n: int = 200, optimizer: str = "lazy",
                 sample_size: int = 256) -> None:
        self.lm, self.max_n, self.optimizer, self.sample_size = lm, int(max_n), optimizer, int(sample_size)
        check_range(self.name, "max_n", max_n, 1, None)
        self._validate_opt()

    def problem(self, pool: Pool) -> CoverageProblem:
        import scipy.sparse as sp

        ctx = pool.context or {}
        if pool.n > self.max_n:
            raise CurationError(f"method 'utility' needs {pool.n ** 2:,} model calls for {pool.n} examples, more "
                                f"than max_n={self.max_n} allows; filter the pool first or raise max_n")
        loglik = ctx.get("loglik")
        if loglik is None:
            loglik = lm_loglik(self.lm or None)
        if "prompts" not in ctx or "responses" not in ctx:
            raise CurationError("method 'utility' needs the examples' prompts and responses (context)")
        U = ctx.get("kernel")
        if U is None:
            U = utility_kernel(ctx["prompts"], ctx["responses"], loglik, progress=pool.progress)
        return CoverageProblem.from_csr(sp.csr_matrix(np.asarray(U).T), weights=pool.weights)


__all__ = ["utility_kernel", "lm_loglik", "UtilitySelector", "optimize", "OPTIMIZERS"]
