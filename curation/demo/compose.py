"""Compositional examples: many slots per topic, so the demo's texts spread into readable regions on the map.

Each category has a few subtopics (``data/compose.json``, ``topics``), each with its own vocabulary: tasks ("make a
slow single-page app load faster"), subjects to explain, steps, facts and pitfalls. An instruction combines an
optional persona (the category's), a question frame (how-to or explain) and an optional constraint (format or
audience); the response is assembled in one of several styles (numbered steps, bullets, prose with connectors, a
short answer, or an explanation), with a varying number of steps, an optional fact, pitfall and closing line. The
template families in the topic modules stay beside these; :func:`frame` also gives their instructions a persona now
and then, so one template's records do not line up in a strand.
"""
from __future__ import annotations

import re

from curation.demo.common import Rng, Sample, _cap, _pick, load_data

_DATA = load_data("compose")
_FRAMES = _DATA["frames"]
_TOPICS = _DATA["topics"]
_STYLES = ("steps", "bullets", "prose", "short")
_WORD = re.compile(r"[a-z]{4,}")


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym or a name-like token (``EXPLAIN``, ``FAST``)."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _ranked(r: Rng, items: list[str], text: str) -> list[str]:
    """``items`` in a random order, those sharing more words (4+ letters) with ``text`` first."""
    words = set(_WORD.findall(text.lower()))
    return sorted(items, key=lambda s: -(len(words & _words(s)) + r.random() * 0.9))


_WORDS_OF: dict[str, frozenset[str]] = {}


def _words(text: str) -> frozenset[str]:
    """The 4+-letter words of a data sentence (memoised: the same few hundred sentences are ranked again and again)."""
    got = _WORDS_OF.get(text)
    if got is None:
        got = _WORDS_OF[text] = frozenset(_WORD.findall(text.lower()))
    return got


def _vary(r: Rng, text: str, leads: str, p: float) -> str:
    """``text`` with a lead-in from the frame list ``leads`` in front, with probability ``p``."""
    if r.random() >= p:
        return text
    return f"{_pick(r, _FRAMES[leads])} {_lower_first(text)}"


def _pitfall(r: Rng, sub: dict) -> str:
    return _pick(r, _FRAMES["pitfall_lines"]).format(p=_pick(r, sub["pitfalls"]))


def _task_answer(r: Rng, sub: dict, task: str, style: str, want_pitfall: bool) -> str:
    detailed = style in ("steps", "prose") and r.random() < 0.3  # a long answer: more steps and two facts
    k = {"steps": r.randint(3, 6), "bullets": r.randint(3, 5), "prose": r.randint(2, 4), "short": 2}[style]
    steps = [_vary(r, s, "step_leads", 0.3) for s in _ranked(r, sub["steps"], task)[:k + 2 * detailed]]
    opener = _pick(r, _FRAMES["task_openers"])
    fact = " ".join(r.sample(sub["facts"], 2)) if detailed else _pick(r, sub["facts"]) if r.random() < 0.5 else ""
    fact = _vary(r, fact, "fact_leads", 0.3) if fact else ""
    pit = _pitfall(r, sub) if want_pitfall or r.random() < 0.45 else ""
    closer = _pick(r, _FRAMES["closers"])
    if style == "short":
        return " ".join(x for x in (steps[0], steps[1], pit) if x)
    if style == "prose":
        conn = _FRAMES["connectors"]
        sents = [f"{conn[min(i, len(conn) - 2)] if i < len(steps) - 1 else conn[-1]} {_lower_first(s)}"
                 for i, s in enumerate(steps)]
        return " ".join(x for x in (opener, fact, *sents, pit, closer) if x)
    if style == "steps":
        body = "\n".join(f"{i + 1}. {s}" for i, s in enumerate(steps))
    else:
        body = "\n".join(f"- {s}" for s in steps)
    head = " ".join(x for x in (opener, fact) if x) or f"To {task}:"
    tail = " ".join(x for x in (pit, closer) if x)
    return head + "\n\n" + body + ("\n\n" + tail if tail else "")


def _subject_answer(r: Rng, sub: dict, style: str, want_pitfall: bool) -> str:
    facts = [_vary(r, f, "fact_leads", 0.25)
             for f in r.sample(sub["facts"], min(len(sub["facts"]), 1 if style == "short" else r.randint(2, 3)))]
    opener = _pick(r, _FRAMES["subject_openers"])
    practice = f"In practice: {_lower_first(_pick(r, sub['steps']))}" if style != "short" and r.random() < 0.6 else ""
    pit = _pitfall(r, sub) if want_pitfall or r.random() < 0.35 else ""
    if style in ("steps", "bullets"):
        mark = (lambda i: f"{i + 1}.") if style == "steps" else (lambda i: "-")
        body = "\n".join(f"{mark(i)} {f}" for i, f in enumerate(facts))
        return " ".join(x for x in (opener, "The key points:") if x) + "\n\n" + body + (
            "\n\n" + " ".join(x for x in (practice, pit) if x) if practice or pit else "")
    return " ".join(x for x in (opener, *facts, practice, pit) if x)


def composed(r: Rng, category: str) -> Sample:
    """One example of ``category`` assembled from its subtopics' vocabulary and the shared frames."""
    topic = _TOPICS[category]
    name = _pick(r, list(topic["subtopics"]))
    sub = topic["subtopics"][name]
    constraint, style = ("", "")
    if r.random() < 0.5:
        constraint, style = _pick(r, _FRAMES["constraints"])
    want_pitfall = style == "pitfall"
    if style not in _STYLES:
        style = _pick(r, _STYLES)
    if r.random() < 0.7:
        task = _pick(r, sub["tasks"])
        ask = _pick(r, _FRAMES["task_asks"]).format(task=task)
        out = _task_answer(r, sub, task, style, want_pitfall)
    else:
        subject = _pick(r, sub["subjects"])
        ask = _pick(r, _FRAMES["subject_asks"]).format(subject=subject)
        out = _subject_answer(r, sub, style, want_pitfall)
    persona = _pick(r, topic["personas"]) if r.random() < 0.45 else ""
    inp = ""
    if persona and r.random() < 0.3:  # the persona as the record's input (context), Alpaca style
        inp, persona = persona, ""
    instr = " ".join(x for x in (persona, _cap(ask), constraint) if x)
    return Sample(instr, inp, out, None)


def frame(r: Rng, category: str, s: Sample, p: float = 0.6) -> Sample:
    """Give a template family's instruction the category's persona in front with probability ``p``."""
    if s.input or r.random() >= p:
        return s
    return s._replace(instruction=_pick(r, _TOPICS[category]["personas"]) + " " + s.instruction)
