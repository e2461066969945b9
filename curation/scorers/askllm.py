"""Ask-LLM (Sachdeva et al., 2024, "How to Train Data-Efficient LLMs"): ask a language model whether an example is
informative and use P(yes) / (P(yes) + P(no)) of the first answer token as its quality score.

Cost: one forward pass over the filled template per example. CPU, packaged SmolLM2-135M (2 threads): see
``benchmarks/RESULTS.md`` (~1.5 s CPU per HH-RLHF-sized example, ~300 tokens with the template); a 7B model
belongs on a GPU server via ``endpoint=``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.scorers.base import MODEL_PARAMS, ModelScorer, prompt_texts, response_texts

#: The paper's prompt (its appendix), verbatim except that ``{example}`` is the rendered example.
PAPER_TEMPLATE = (
    "###\n{example}\n###\n\n"
    "Does the previous paragraph demarcated within ### and ### contain informative signal for pre-training a "
    "large-language model? An informative datapoint should be well-formatted, contain some usable knowledge of "
    "the world, and strictly NOT have any harmful, racist, sexist, etc. content.\n\n"
    "OPTIONS:\n- yes\n- no")

#: A wording for instruction / alignment data: judges the assistant's reply rather than "pre-training signal".
SFT_TEMPLATE = (
    "###\n{example}\n###\n\n"
    "Is the assistant's reply in the conversation demarcated within ### and ### a helpful, correct and harmless "
    "answer to the user, good enough to train an AI assistant on? A good reply follows the request, is accurate "
    "and well-formatted, and strictly does NOT contain harmful, racist, sexist, etc. content.\n\n"
    "OPTIONS:\n- yes\n- no")

TEMPLATES: dict[str, str] = {"paper": PAPER_TEMPLATE, "sft": SFT_TEMPLATE}
YES = ("yes", " yes", "Yes", " Yes", "YES")
NO = ("no", " no", "No", " No", "NO")


def render_example(prompt: str | None, response: str, *, max_chars: int) -> str:
    """``user: {prompt}\\n\\nassistant: {response}`` (rendered multi-turn prompts are kept as they are), with the
    prompt cut from the left to a third of ``max_chars`` and the response cut to the rest."""
    if prompt:
        keep = max(200, max_chars // 3)
        if len(prompt) + len(response) > max_chars and len(prompt) > keep:
            prompt = "…" + prompt[-keep:]
        head = prompt if prompt.startswith(("user: ", "system: ")) else f"user: {prompt}"
        room = max(200, max_chars - len(head))
        resp = response if len(response) <= room else response[:room] + "…"
        return f"{head}\n\nassistant: {resp}"
    return response if len(response) <= max_chars else response[:max_chars] + "…"


class AskLLM(ModelScorer):
    name = "askllm"
    per_reply = True
    higher_is_better = True
    defaults = {**MODEL_PARAMS, "template": "paper", "max_chars": 3000}
    description = ('Ask-LLM: P(yes) that a language model calls the example informative, in [0, 1]. With the default '
                   'packaged SmolLM2-135M it is NO better than chance on HH-RLHF (prefers the chosen reply in 50% +-7% '
                   'of 206 pairs with the paper prompt, 47% +-6% of 298 with the sft prompt); ~1 s CPU per example. '
                   'Use a 7B+ model via --endpoint.')

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        t = str(self.params["template"])
        self.template = TEMPLATES.get(t, t)
        if "{example}" not in self.template and "{response}" not in self.template:
            raise CurationError(
                f"Ask-LLM template {t[:60]!r} is neither a preset ({sorted(TEMPLATES)}) nor a text with an "
                "{example} (or {prompt}/{response}) placeholder; add one")

    def fill(self, prompt: str | None, response: str) -> str:
        """The user turn sent to the model for one example."""
        mc = int(self.params["max_chars"])
        if "{example}" in self.template:
            return self.template.replace("{example}", render_example(prompt, response, max_chars=mc))
        return self.template.replace("{prompt}", (prompt or "")[-mc // 3:]).replace("{response}", response[:mc])

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        """(n,) P(yes)/(P(yes)+P(no)) in [0, 1]; NaN for examples without a response."""
        out = np.full(len(batch), np.nan)
        idx, texts = [], []
        for i, (p, r) in enumerate(zip(prompt_texts(batch), response_texts(batch))):
            if r is None or not r.strip():
                continue
            idx.append(i)
            texts.append(self.lm.chat_prompt(self.fill(p, r)))
        if idx:
            lp = self.lm.choice_logprobs(texts, [YES, NO])
            out[idx] = 1.0 / (1.0 + np.exp(lp[:, 1] - lp[:, 0]))
        return out
