"""Science examples: phenomena explained for an audience, differences between terms, and facts."""

from __future__ import annotations

from .common import Rng, Sample, _maybe, _para, _pick, load_data

_DATA = load_data("science")

_PHENOMENA = _DATA["phenomena"]
_AUDIENCES = _DATA["audiences"]

_SCI_CLOSERS = ["Scientists keep refining these explanations as they collect new measurements.",
                "You can test parts of this idea yourself with simple experiments at home.",
                "It's a great example of how physics and chemistry shape everyday life."]


def _science_explain(r: Rng) -> Sample:
    """Explain a natural phenomenon at a level suited to an audience."""
    ph = _pick(r, list(_PHENOMENA))
    aud, lvl = _pick(r, _AUDIENCES)
    simple, detailed = _PHENOMENA[ph]
    instr = _pick(r, [f"Explain {ph} to {aud}.", f"Can you explain {ph} in a way {aud} would understand?",
                      f"How would you describe {ph} to {aud}?"])
    if r.random() < 0.25:
        instr = _pick(r, [f"Explain {ph}.", f"I've always wondered {ph}. Can you explain?",
                          f"What's the science behind {ph}?"])
        lvl = 1
    text = detailed if lvl else simple
    opener = (_pick(r, ["", "Great question!", "Here's the idea."]) if lvl
              else _pick(r, ["Imagine this:", "Here's a fun way to think about it.", ""]))
    out = _para(opener, text, _maybe(r, 0.4, _pick(r, _SCI_CLOSERS)))
    return Sample(instr, "", out, None)


_SCI_DIFFS = _DATA["sci_diffs"]


def _science_diff(r: Rng) -> Sample:
    """Difference between two scientific concepts."""
    a, b, expl, ex = _pick(r, _SCI_DIFFS)
    if r.random() < 0.5:
        a, b = b, a
    instr = _pick(r, [f"What is the difference between {a} and {b}?", f"How is {a} different from {b}?",
                      f"Explain {a} versus {b}.", f"Are {a} and {b} the same thing?"])
    out = _para(_pick(r, ["", "They're related but not the same.", "Good question."]), expl,
                _pick(r, ["For example:", "A handy illustration:", ""]) + " " + ex)
    return Sample(instr, "", out, None)


_SCI_FACTS = _DATA["sci_facts"]


def _science_fact(r: Rng) -> Sample:
    """Short factual science question."""
    q, a = _pick(r, _SCI_FACTS)
    instr = _pick(r, [q, q[:-1] + ", briefly?", "Quick science question: " + q[0].lower() + q[1:]])
    out = _para(_pick(r, ["", "Short answer:", "Good question!"]), a,
                _maybe(r, 0.4, _pick(r, ["It's one of those everyday things with a surprisingly neat explanation.",
                                         "Scientists confirmed this with careful measurements over many years."])))
    return Sample(instr, "", out, None)
