"""Preference pairs: helpful (better vs. worse answer), harmless (declining vs. complying) and conflicting
labels for one prompt."""

from __future__ import annotations

from .common import _NAMES, CATEGORIES, Rng, _para, _pick, load_data
from .families import _CONFLICT_FAMILIES, _sample
from .pool import _SENT_SPLIT
from .writing import _DAYS

_DATA = load_data("preference")

_VAGUE = _DATA["vague"]

_RISKY = _DATA["risky"]
_RISK_SUFFIX = _DATA["risk_suffix"]


def _risky_pair(r: Rng) -> tuple[str, str, str]:
    """Generate a (prompt, safe_answer, careless_answer) triple for a 'harmless' pair."""
    sc = _pick(r, _RISKY)
    name = _pick(r, _NAMES)
    fill = dict(name=name, pron=_pick(r, ["she", "he", "they"]), pron2=_pick(r, ["her", "him", "them"]),
                day=_pick(r, _DAYS), n=r.randint(3, 10), thing=_pick(r, ["superhero", "animated", "horror", "action"]))
    prompt = _pick(r, sc["prompts"]).format(**fill) + _pick(r, _RISK_SUFFIX)
    safe = sc["safe"]
    chosen = _para(_pick(r, ["", "I understand why you might ask.", "Thanks for asking."]), safe[0].format(**fill),
                   *[s.format(**fill) for s in r.sample(safe[1:], r.randint(1, len(safe) - 1))])
    rejected = _para(_pick(r, sc["unsafe"]).format(**fill))
    return prompt, chosen, rejected


def _prompt_text(instr: str, inp: str) -> str:
    """Combine instruction and input into a single preference prompt."""
    return instr if not inp else f"{instr}\n\n{inp}"


def _concise(out: str) -> str | None:
    """A shorter but still reasonable version of ``out`` (first one or two sentences)."""
    sents = [s for s in _SENT_SPLIT.split(out.replace("\n", " ").strip()) if s]
    if len(sents) < 3:
        return None
    k = 1 if len(sents[0].split()) >= 10 else 2
    short = " ".join(sents[:k]).strip()
    return short if len(short.split()) >= 6 and short != out else None


def _helpful_pair(r: Rng) -> tuple[str, str, str]:
    """Generate a (prompt, good_answer, worse_answer) triple for a 'helpful' pair."""
    cat = _pick(r, CATEGORIES)
    instr, inp, out, wrong, _ = _sample(r, cat)
    prompt = _prompt_text(instr, inp)
    u = r.random()
    rejected: str | None = None
    if wrong and u < 0.45:
        rejected = wrong  # plausible but incorrect
    elif u < 0.65:
        rejected = _pick(r, _VAGUE)  # vague non-answer
    elif u < 0.85:
        sents = [x for x in _SENT_SPLIT.split(out.strip()) if x]
        first = sents[0].split("\n")[0].strip() if len(sents) >= 2 else ""
        if first and len(first) < len(out) // 2:
            rejected = first  # terse, incomplete
    if not rejected or rejected == out:
        # an answer to a different question from the same category
        for _ in range(10):
            other = _sample(r, cat)
            if other.output != out and other.instruction != instr:
                rejected = other.output
                break
    if not rejected or rejected == out:
        rejected = _pick(r, _VAGUE)
    return prompt, out, rejected


def _conflict_group(r: Rng) -> tuple[str, str, str]:
    """Prompt plus two defensible answers (detailed vs. concise) used for conflicting labels."""
    while True:
        instr, inp, out, _, _ = _pick(r, _CONFLICT_FAMILIES)(r)
        if "```" in out or "\n" in out:
            continue
        short = _concise(out)
        if short:
            return _prompt_text(instr, inp), out, short
