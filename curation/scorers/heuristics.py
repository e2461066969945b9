"""Text heuristics: fast, model-free checks a curator of SFT data runs first.

All of them read the response (``response`` of sft/chat, ``chosen`` of preference pairs) and, where stated, the
prompt. Prompt-only examples get NaN. Cost: pure Python over the text, ~20-100 µs per example and scorer
(10k examples × all heuristics ≈ a few seconds on one core; see benchmarks/RESULTS.md).
Validity on HH-RLHF (share of pairs where the score ranks chosen above rejected, ties count half) is quoted in each
description; the numbers come from ``benchmarks/bench_scorers.py``.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import ClassVar

import numpy as np
import pandas as pd

from curation.scorers.base import Scorer, prompt_texts, response_texts

_WORD = re.compile(r"\w+", re.UNICODE)
_APOS = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class _PerText(Scorer):
    """Helper base: apply ``value(response, prompt)`` to every example; None response → NaN."""

    needs_prompt: ClassVar[bool] = False
    per_reply = True

    def value(self, response: str, prompt: str | None) -> float:
        raise NotImplementedError

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        out = np.full(len(batch), np.nan)
        for i, (r, p) in enumerate(zip(response_texts(batch), prompt_texts(batch))):
            if r is None or (self.needs_prompt and not p):
                continue
            out[i] = self.value(r, p)
        return out


class ResponseLength(_PerText):
    name = "response_length"
    higher_is_better = True
    description = ('Words in the response. Rates the HH-RLHF chosen reply above the rejected one in 52.3% of 8,550 '
                   'test '
                   "pairs (helpful 55%, harmless 45%): barely better than chance, mostly the labels' length bias. Use "
                   'it to spot empty or runaway answers, not as quality.')

    def value(self, response: str, prompt: str | None) -> float:
        return float(len(_WORD.findall(response)))


class ResponsePromptRatio(_PerText):
    name = "response_prompt_ratio"
    higher_is_better = True
    needs_prompt = True
    description = ('Response words / prompt words (NaN without a prompt). Very low: terse or lazy answers; very high: '
                   'padding. 52.3% chosen-over-rejected on HH-RLHF pairs: barely better than chance.')

    def value(self, response: str, prompt: str | None) -> float:
        return len(_WORD.findall(response)) / max(1, len(_WORD.findall(prompt or "")))


class NgramRepetition(_PerText):
    name = "ngram_repetition"
    higher_is_better = False
    defaults = {"n": 3}
    description = ('Share of response characters inside word 3-grams that occur more than once (Gopher rule; 0 = none, '
                   '> 0.3 looks degenerate). 49.3% on HH-RLHF pairs: no better than chance there; a defect flag for '
                   'looping generations.')

    def value(self, response: str, prompt: str | None) -> float:
        n = int(self.params["n"])
        w = _words(response)
        if len(w) < n:
            return 0.0
        grams = [tuple(w[i:i + n]) for i in range(len(w) - n + 1)]
        counts = Counter(grams)
        if len(counts) == len(grams):
            return 0.0
        covered = np.zeros(len(w), dtype=bool)
        for i, g in enumerate(grams):
            if counts[g] > 1:
                covered[i:i + n] = True
        lens = np.fromiter((len(x) for x in w), dtype=np.int64, count=len(w))
        return float(lens[covered].sum() / max(1, lens.sum()))


class NonAlphaShare(_PerText):
    name = "non_alpha_share"
    higher_is_better = False
    description = ('Share of non-space characters that are not letters (digits, symbols, markup); prose is 0.02-0.1, '
                   'high values flag tables, code dumps or garbage. 50.9% on HH-RLHF pairs: no better than chance as a '
                   'quality score.')

    def value(self, response: str, prompt: str | None) -> float:
        chars = [c for c in response if not c.isspace()]
        if not chars:
            return float("nan")
        return sum(1 for c in chars if not c.isalpha()) / len(chars)


class EmptyResponse(_PerText):
    name = "empty"
    higher_is_better = False
    description = ('1 when the response is empty or whitespace only, else 0 (NaN for prompt-only examples). A defect '
                   'flag; says nothing about HH-RLHF pairs (50.0%, none are empty).')

    def value(self, response: str, prompt: str | None) -> float:
        return 0.0 if response.strip() else 1.0


_END_OK = set(".!?\"')]}>*`~…:;。！？")
_LIST_LINE = re.compile(r"^\s*(?:[-*•+|#>]|\d+[.)]|[a-zA-Z][.)]\s)")


class Truncated(_PerText):
    name = "truncated"
    higher_is_better = False
    defaults = {"min_words": 20}
    description = ('1 when the response looks cut off (an unclosed ``` block, or 20+ words of prose ending without '
                   'closing punctuation), else 0; NaN when empty. A defect flag: 50.9% on HH-RLHF pairs (88% ties), no '
                   'better than chance as quality.')

    def value(self, response: str, prompt: str | None) -> float:
        s = response.rstrip()
        if not s:
            return float("nan")
        if s.count("```") % 2 == 1:
            return 1.0
        if s[-1] in _END_OK or not (s[-1].isalnum() or s[-1] in ",-–(/&+="):
            return 0.0
        last_line = s.rsplit("\n", 1)[-1]
        if _LIST_LINE.match(last_line) or last_line.startswith("    "):
            return 0.0
        if s[-1] in ",-–(/&+=":
            return 1.0
        return 1.0 if len(_WORD.findall(s)) >= int(self.params["min_words"]) else 0.0


_REFUSAL = re.compile("|".join([
    r"\bI(?:'m| am) (?:sorry|afraid)\b[^.!?\n]{0,60}\b(?:can(?:no|')t|cannot|unable|won't|not able|not comfortable)",
    r"\bI (?:can(?:no|')t|cannot|won't|will not|am unable to|'m unable to|am not able to|'m not able to) "
    r"(?:help(?!\s+(?:but|it\b|thinking|feeling|wondering|myself))|assist|provide|comply|fulfill|do that|do this|"
    r"answer|support|create|give|share|engage|write|generate|"
    r"offer|recommend|condone|encourage|participate|discuss|tell you)",
    r"\bI (?:must|have to) (?:decline|refuse)",
    r"\bI(?:'d| would) (?:rather not|prefer not to)\b",
    r"\bI (?:don't|do not) (?:feel comfortable|think (?:I should|it(?:'s| is|'d be| would be) (?:appropriate|ethical|"
    r"right|a good idea)))",
    r"\bit(?:'s| is| would be) not (?:appropriate|ethical|legal|okay|ok) (?:for me )?to\b",
    r"\bagainst my (?:programming|guidelines|policy|policies|ethics|principles)",
    r"\bI(?:'m| am) not (?:going|programmed|allowed|permitted) to\b",
    r"\bI can(?:no|')t (?:and won't|in good conscience)",
]), re.IGNORECASE)

_AI_DISCLAIMER = re.compile("|".join([
    r"\bas an? (?:AI|artificial intelligence|language model|large language model|LLM|AI assistant|AI model|"
    r"chatbot|digital assistant)\b",
    r"\bI(?:'m| am) (?:just |only |merely )?(?:an? )?(?:AI|language model|computer program|bot|chatbot)\b",
    r"\bI (?:don't|do not) have (?:personal )?(?:opinions|feelings|emotions|beliefs|preferences|a body|"
    r"personal experiences)",
    r"\bmy (?:knowledge cutoff|training data)\b",
]), re.IGNORECASE)


class Refusal(_PerText):
    name = "refusal"
    higher_is_better = False
    slice: ClassVar[bool] = True            # also a slice column (curation.scorers.slices), stored as a flag
    column_kind: ClassVar[str] = "flag"
    defaults = {"head_chars": 400}
    description = ('1 when the first 400 characters contain a refusal phrase ("I can\'t help with that", '
                   '"I\'m sorry, but '
                   'I cannot"), else 0. A flag for SFT data; 49.9% on HH-RLHF pairs (no better than chance): refusals '
                   'are as often chosen as rejected there.')

    def value(self, response: str, prompt: str | None) -> float:
        head = response[: int(self.params["head_chars"])].translate(_APOS)
        return 1.0 if _REFUSAL.search(head) else 0.0


class AIDisclaimer(_PerText):
    name = "ai_disclaimer"
    higher_is_better = False
    description = ('1 when the response contains a model self-reference ("As an AI language model", "I don\'t have '
                   'personal opinions"), a common artefact of distilled SFT data; else 0. A flag: 50.0% on HH-RLHF '
                   'pairs (almost never fires there).')

    def value(self, response: str, prompt: str | None) -> float:
        return 1.0 if _AI_DISCLAIMER.search(response.translate(_APOS)) else 0.0


class PromptCopy(_PerText):
    name = "prompt_copy"
    higher_is_better = False
    needs_prompt = True
    defaults = {"n": 4}
    description = ("Share of the response's word 4-grams also found in the prompt (0 = nothing copied, 1 = only echoes "
                   'the prompt); NaN without a prompt or under 4 words. 49.7% on HH-RLHF pairs: no better than chance '
                   'as quality.')

    def value(self, response: str, prompt: str | None) -> float:
        n = int(self.params["n"])
        w = _words(response)
        if len(w) < n:
            return float("nan")
        pw = _words(prompt or "")
        pset = {tuple(pw[i:i + n]) for i in range(len(pw) - n + 1)}
        grams = [tuple(w[i:i + n]) for i in range(len(w) - n + 1)]
        return sum(1 for g in grams if g in pset) / len(grams)


class LexicalDiversity(_PerText):
    name = "lexical_diversity"
    higher_is_better = True
    defaults = {"window": 100}
    description = ('Mean type-token ratio over 100-word windows (1 = no word repeated, < 0.4 = very repetitive); NaN '
                   'under 10 words. 47.6% on HH-RLHF pairs (harmless 55%, helpful 45%): no better than chance as '
                   'quality.')

    def value(self, response: str, prompt: str | None) -> float:
        w = _words(response)
        if len(w) < 10:
            return float("nan")
        k = int(self.params["window"])
        ratios = [len(set(w[i:i + k])) / len(w[i:i + k]) for i in range(0, len(w), k) if len(w[i:i + k]) >= 10]
        return float(np.mean(ratios)) if ratios else len(set(w)) / len(w)


HEURISTICS: tuple[type[Scorer], ...] = (
    ResponseLength, ResponsePromptRatio, NgramRepetition, NonAlphaShare, EmptyResponse, Truncated, Refusal,
    AIDisclaimer, PromptCopy, LexicalDiversity,
)
