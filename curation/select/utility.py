"""DELIFT's model-based utility kernel (optional): how much example j, shown in context, helps a model on example i.

U[i, j] = max(0, loglik(response_i | example_j, prompt_i) - loglik(response_i | prompt_i)), a per-token log-likelihood
gain, then facility location on that kernel (candidate j covers i with U[i, j]; an example covers itself at least as
well as its best helper: U[i, i] = max_j U[i, j]). It costs n² + n model calls, so it is only for small pools
(``max_n``, default 200) or users with an LLM endpoint: the UI must say so.

``loglik(prompt, response, context)`` is any callable returning the mean log-probability of ``response`` given
``context`` (None or another example's text) and ``prompt``; :func:`hf_loglik` builds one from a local Hugging Face
causal LM. run_selection loads it from the ``lm`` parameter.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

import numpy as np

from curation.errors import CurationError
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


def hf_loglik(model_name: str, *, max_length: int = 1024, device: str = "cpu") -> LogLik:
    """A ``loglik`` from a local Hugging Face causal LM (mean log-prob of the response tokens). Heavy: loads
    transformers and the model on first call."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(model_name)
        lm = AutoModelForCausalLM.from_pretrained(model_name).to(device).eval()
    except Exception as exc:  # noqa: BLE001 - hub/IO errors come in many types
        raise CurationError(f"cannot load causal LM {model_name!r} ({exc.__class__.__name__}: {exc}); pass a local "
                            "model folder") from exc

    @torch.no_grad()
    def ll(prompt: str, response: str, context: str | None) -> float:
        head = (context + "\n\n" if context else "") + prompt + "\n"
        a = tok(head, add_special_tokens=False)["input_ids"]
        b = tok(response, add_special_tokens=False)["input_ids"]
        ids = (a + b)[-max_length:]
        nb = min(len(b), len(ids) - 1)
        if nb <= 0:
            return 0.0
        x = torch.tensor([ids], device=device)
        logp = torch.log_softmax(lm(x).logits[0, :-1].float(), dim=-1)
        tgt = x[0, 1:]
        lp = logp[torch.arange(len(tgt)), tgt][-nb:]
        return float(lp.mean())

    return ll


@register
class UtilitySelector(_CoverageSelector):
    """Facility location on DELIFT's model-based utility kernel. lm: a local causal LM folder for
    :func:`hf_loglik` (or pass context={"loglik": fn}). max_n: refuse larger pools (n² model calls)."""

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
            if not self.lm:
                raise CurationError("method 'utility' needs a language model: pass lm=LOCAL_MODEL_FOLDER")
            loglik = hf_loglik(self.lm)
        if "prompts" not in ctx or "responses" not in ctx:
            raise CurationError("method 'utility' needs the examples' prompts and responses (context)")
        U = ctx.get("kernel")
        if U is None:
            U = utility_kernel(ctx["prompts"], ctx["responses"], loglik, progress=pool.progress)
        return CoverageProblem.from_csr(sp.csr_matrix(np.asarray(U).T), weights=pool.weights)


__all__ = ["utility_kernel", "hf_loglik", "UtilitySelector", "optimize", "OPTIMIZERS"]
