"""Writing examples: poems, emails, rewrites, titles, summaries, stories and blog introductions."""

from __future__ import annotations

from .common import _NAMES, Rng, Sample, _cap, _para, _pick, load_data

_DATA = load_data("writing")

# topic: (image noun, plural?, adjective, second noun (singular), verb, place)
_POEM_TOPICS = _DATA["poem_topics"]


def _verb3(verb: str) -> str:
    """Third-person singular of a regular verb ('rush' -> 'rushes')."""
    return verb + ("es" if verb.endswith(("sh", "ch", "s", "x")) else "s")


def _writing_poem(r: Rng) -> Sample:
    """Short free-verse poem or haiku assembled from imagery."""
    topic = _pick(r, list(_POEM_TOPICS))
    n1, plural, adj, n2, verb, place = _POEM_TOPICS[topic]
    v1 = verb if plural else _verb3(verb)
    begin = "begin" if plural else "begins"
    form = _pick(r, ["poem", "haiku", "four-line poem"])
    instr = _pick(r, [f"Write a short {form} about {topic}.", f"Compose a {form} about {topic}.",
                      f"Can you write me a {form} on the theme of {topic}?"])
    if form == "haiku":
        lines = [f"{_cap(adj)} {n1} {v1}", f"across {place}, slow and still", f"the {n2} holds its breath"]
    else:
        pool = [f"The {adj} {n1} {v1} across {place},", f"and every {n2} remembers its name;",
                f"I stand where the {n1} {begin} to {verb},", f"{_cap(adj)} and patient, the {n2} waits for me.",
                "Nothing here is hurried, nothing lost,", f"only {n1}, and the long {adj} light of {place}.",
                f"Listen: the {n2} is speaking softly now."]
        lines = r.sample(pool, 4 if form != "poem" else r.randint(5, 6))
        lines[0] = _cap(lines[0])
        lines[-1] = lines[-1].rstrip(",;") + ("" if lines[-1].endswith(".") else ".")
    out = "\n".join(lines)
    if r.random() < 0.3:
        out = f"Here's a {form} about {topic}:\n\n" + out
    return Sample(instr, "", out, None)


_EMAIL = _DATA["email"]
_DAYS = _DATA["days"]


def _writing_email(r: Rng) -> Sample:
    """Polite email for a given recipient and purpose."""
    to, purpose, body = _pick(r, _EMAIL)
    day = _pick(r, _DAYS)
    me = _pick(r, _NAMES)
    colleague = _pick(r, [n for n in _NAMES if n != me])
    fill = dict(day=day, colleague=colleague, num=r.randint(1000, 9999))
    purpose_f = purpose.format(**fill)
    body_f = body.format(**fill)
    instr = _pick(r, [f"Write a polite email to {to} {purpose_f}.",
                      f"Draft a short, friendly email to {to} {purpose_f}.",
                      f"Help me write an email to {to} {purpose_f}. Sign it as {me}."])
    subj = purpose_f[0].upper() + purpose_f[1:]
    greet = _pick(r, ["Hi", "Hello", "Dear"])
    thanks = _pick(r, ["Thank you for your help.", "Thanks in advance.", "Many thanks."])
    out = (f"Subject: {subj}\n\n{greet},\n\n{body_f}\n\n{thanks}\n\n"
           f"{_pick(r, ['Best regards', 'Kind regards', 'Best', 'Warm wishes'])},\n{me}")
    return Sample(instr, "", out, None)


_REWRITES = _DATA["rewrites"]


def _writing_rewrite(r: Rng) -> Sample:
    """Rewrite a casual sentence (given in input) more formally, or vice versa."""
    casual, formal = _pick(r, _REWRITES)
    if r.random() < 0.75:
        instr = _pick(r, ["Rewrite this to sound more professional.", "Make this sentence more formal.",
                          "Rewrite the following message in a polite, professional tone.",
                          "Can you make this sound less casual?"])
        out = _para(_pick(r, ["", "Here's a more professional version:",
                              "Try this:"])) + (" " if r.random() < 0.5 else "\n\n") + f"\"{formal}\""
        out = out.strip()
        if r.random() < 0.4:
            out += "\n\n" + _pick(r, ["I replaced the abbreviations and slang with full words and a more neutral tone.",
                                      "The main changes are full words instead of abbreviations and a clearer "
                                      "structure."])
        return Sample(instr, casual, out, None)
    instr = _pick(r, ["Rewrite this in a casual, friendly tone.", "Make this sound more relaxed and conversational."])
    return Sample(instr, formal, casual[0].upper() + casual[1:], None)


_BLOG_TOPICS = _DATA["blog_topics"]
_TITLE_TPL = _DATA["title_tpl"]


def _writing_titles(r: Rng) -> Sample:
    """Brainstorm blog post titles."""
    topic = _pick(r, _BLOG_TOPICS)
    k = r.randint(3, 6)
    tt = topic[0].upper() + topic[1:]
    tt = " ".join(w if w in ("a", "an", "as", "to", "your") else w[0].upper() + w[1:] for w in tt.split())
    titles = [t.format(T=tt, N=_pick(r, [5, 7, 10, 12])) for t in r.sample(_TITLE_TPL, k)]
    instr = _pick(r, [f"Suggest {k} catchy titles for a blog post about {topic}.",
                      f"Give me {k} title ideas for an article on {topic}.",
                      f"Brainstorm {k} headlines for a post about {topic}."])
    out = _pick(r, ["Here are some ideas:", "Sure:", "A few options:"]) + "\n\n" + "\n".join(f"{i}. {t}" for i,
                                                                                             t in enumerate(titles, 1))
    if r.random() < 0.5:
        out += "\n\n" + _pick(r, ["Titles with numbers tend to get more clicks.",
                                  "Pick the one that best matches your tone.",
                                  "A/B test two of them if your platform allows it."])
    return Sample(instr, "", out, None)


# topic: (hook, why it matters, a first step)
_BLOG_HOOKS = _DATA["blog_hooks"]


def _writing_blog(r: Rng) -> Sample:
    """A longer blog-post introduction (three short paragraphs)."""
    topic = _pick(r, list(_BLOG_HOOKS))
    hook, why, step = _BLOG_HOOKS[topic]
    tone = _pick(r, ["friendly", "warm and personal", "upbeat", "honest and practical"])
    instr = _pick(r, [f"Write an engaging introduction for a blog post about {topic}.",
                      f"Draft the opening paragraphs of a {tone} blog post on {topic}.",
                      f"I'm writing a blog post about {topic}. Can you write the intro for me?"])
    p1 = _para(hook, _pick(r, ["If you had told me that a few years ago, I would have laughed.",
                                "It didn't happen overnight, and it didn't happen gracefully.",
                                "Somewhere along the way, I learned a few things worth sharing."]))
    p2 = _para(why, _pick(r,
                          [f"Yet most advice about {topic} is either too vague to use or too perfect to be realistic.",
                              f"But getting started with {topic} can feel overwhelming, especially when everyone "
                              f"online seems to be an expert.",
                              f"And the good news is that {topic} doesn't require special talent, just a bit of "
                              f"consistency."]))
    p3 = _para(_pick(r,
                     ["In this post, I'll share what actually worked for me, what didn't, and the one habit that made "
                      "the biggest difference.",
                         "Below you'll find a practical, no-nonsense guide, written for real people with busy lives.",
                         "Here's what I wish someone had told me on day one."]),
               f"Spoiler: the first step is simply to {step}.")
    return Sample(instr, "", f"{p1}\n\n{p2}\n\n{p3}", None)


_SHOPS = _DATA["shops"]
_TOWNS = _DATA["towns"]
_EVENTS = _DATA["events"]


def _writing_summary(r: Rng) -> Sample:
    """Summarise a generated paragraph (paragraph in input)."""
    name = _pick(r, _NAMES)
    shop = _pick(r, _SHOPS)
    town = _pick(r, _TOWNS)
    year = r.randint(1995, 2022)
    ev, ev_short = _pick(r, _EVENTS)
    months = r.randint(3, 18)
    para = (f"In {year}, {name} opened a {shop} in {town}. For the first {months} months, business was slow: "
            f"some days only a handful of customers came in, and {name} considered closing. Then {ev}, and things "
            f"changed quickly. "
            f"Within a year the {shop} had hired {r.randint(2, 6)} staff, and today it is one of the best-known "
            f"places in town.")
    instr = _pick(r, ["Summarize this paragraph in one sentence.", "Give me a one-line summary of the text below.",
                      "TL;DR this paragraph.", "Write a brief summary of the following story."])
    out = _pick(r,
                [f"{name}'s {shop}, opened in {year}, struggled for its first {months} months but grew quickly after "
                 f"{ev_short}.",
                    f"After a slow start, {name}'s {shop} in {town} became a local favourite thanks to {ev_short}.",
                    f"A struggling {shop} opened by {name} in {year} turned into a thriving local business after "
                    f"{ev_short}."])
    return Sample(instr, para, out, None)


_GENRES = _DATA["genres"]
_PLACES = _DATA["places"]


def _writing_story(r: Rng) -> Sample:
    """Opening lines of a story in a given genre."""
    genre = _pick(r, list(_GENRES))
    place = _pick(r, _PLACES)
    name = _pick(r, _NAMES)
    instr = _pick(r, [f"Write the opening lines of a {genre} story set in {place}.",
                      f"Give me a gripping first paragraph for a {genre} story.",
                      f"Start a short {genre} story with a main character called {name}."])
    out = _GENRES[genre].format(place=place, name=name)
    if r.random() < 0.3:
        out += "\n\n" + _pick(r, ["Want me to continue the story?", "I can keep going from here if you like.",
                                  "Shall I write the next scene?"])
    return Sample(instr, "", out, None)
