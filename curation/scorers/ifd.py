"""IFD, instruction-following difficulty (Li et al., "From Quantity to Quality" / "Superfiltering", 2024):

    IFD = PPL(response | instruction) / PPL(response)

computed with a small causal LM (Superfiltering shows GPT-2-sized models rank like 7B ones). A value near 1 means
the instruction barely helps predict the response (hard or loosely related pair); a small value means the response
follows easily from the instruction. Superfiltering keeps the *highest* IFD below 1 and drops IFD ≥ 1 as
misaligned pairs; here values are stored raw and the direction is "higher is better" as in the paper.

Cost: two forward passes per example (conditioned and unconditioned), response cut to 256 tokens and the prompt to
its last 512 tokens.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from curation.scorers.base import MODEL_PARAMS, ModelScorer, prompt_texts, response_texts


class IFD(ModelScorer):
    name = "ifd"
    per_reply = True
    higher_is_better = True
    defaults = {**MODEL_PARAMS, "max_prompt_tokens": 512, "max_response_tokens": 256}
    description = ('IFD = PPL(response | prompt) / PPL(response) with a small LM (default: packaged SmolLM2-135M); '
                   'Superfiltering keeps high values below 1, values >= 1 suggest a misaligned pair. Weak on HH-RLHF: '
                   'prefers the chosen reply in 56% +-6% of 298 pairs (barely above chance); ~1 s CPU per example.')

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        """(n,) float > 0; NaN without prompt or with a response shorter than 2 tokens."""
        out = np.full(len(batch), np.nan)
        idx, ctx, resp = [], [], []
        for i, (p, r) in enumerate(zip(prompt_texts(batch), response_texts(batch))):
            if not p or not p.strip() or r is None or not r.strip():
                continue
            idx.append(i)
            ctx.append(self.lm.chat_prompt(p))
            resp.append(r)
        if not idx:
            return out
        kw = {"max_context_tokens": int(self.params["max_prompt_tokens"]),
              "max_continuation_tokens": int(self.params["max_response_tokens"])}
        cond = self.lm.continuation_logprobs(ctx, resp, **kw)
        uncond = self.lm.continuation_logprobs([""] * len(resp), resp, **kw)
        for i, c, u in zip(idx, cond, uncond):
            if len(c) and len(u):
                out[i] = float(np.exp(np.mean(-c) - np.mean(-u)))
        return out
