"""Travel examples: itineraries, seasons, packing, money, phrases, comparisons and tips per city."""

from __future__ import annotations

from .common import Rng, Sample, _cap, _join_and, _maybe, _para, _pick, load_data

_DATA = load_data("travel")

_CITIES = _DATA["cities"]
_PHRASES = _DATA["phrases"]
_CITY_EXTRAS = _DATA["city_extras"]
_TRAVEL_CTX = _DATA["travel_ctx"]


def _ctx_note(ctx: str) -> str:
    """A sentence acknowledging a travel context given in the input."""
    notes = {
        "Traveling with two kids.": "With kids, keep mornings busy and afternoons flexible, and build in a playground "
                                    "or ice-cream stop each day.",
        "Moderate budget, interested in food and history.": "Since you like food and history, a guided walking tour "
                                                            "on the first day is money well spent.",
        "First time abroad.": "As it's your first trip abroad, keep copies of your passport and bookings on your "
                              "phone and in your bag.",
        "I love hiking and nature.": "For a nature lover, swap one city afternoon for a trail or a long walk along "
                                     "the water.",
        "Travelling solo on a tight budget.": "On a tight budget, stay in a hostel, eat your main meal at lunch and "
                                              "use public transport.",
        "It's our honeymoon.": "For a honeymoon, book one special dinner with a view well in advance.",
        "I use a wheelchair.": "Check step-free access for each sight in advance; many museums list it on their "
                               "websites.",
    }
    return notes.get(ctx, "")


def _travel_itinerary(r: Rng) -> Sample:
    """Multi-day itinerary built from a city's sights and food."""
    city = _pick(r, list(_CITIES))
    c = _CITIES[city]
    days = r.randint(2, 5)
    instr = _pick(r, [f"Plan a {days}-day trip to {city}.", f"Can you suggest a {days}-day itinerary for {city}?",
                      f"I'm visiting {city} for {days} days. What should I do each day?",
                      f"Help me plan {days} days in {city}, {c['country']}."])
    inp = _pick(r, _TRAVEL_CTX) if r.random() < 0.35 else ""
    sights = r.sample(c["sights"], len(c["sights"]))
    foods = r.sample(c["food"], len(c["food"]))
    extras = r.sample(_CITY_EXTRAS, len(_CITY_EXTRAS))
    lines = [_pick(r, [f"Here's a relaxed {days}-day plan for {city}:", f"{city} in {days} days:",
                       f"A balanced itinerary for {days} days in {city}:"]), ""]
    for d in range(days):
        if d == days - 1 and days >= 3:
            act = f"Take a day trip to {c['daytrip']}."
        elif 2 * d + 1 < len(sights):
            act = f"Start with {sights[2 * d]}, then head to {sights[2 * d + 1]}."
        else:
            act = extras.pop() + "."
        food = foods[d % len(foods)]
        lines.append(f"Day {d + 1}: {act} "
                     f"{_pick(r, ['In the evening, try', 'For dinner, look for', 'Make time to taste'])} {food}.")
    if r.random() < 0.45:
        lines += ["", "Practical tips:"] + [f"- {x}" for x in [
            c["transport"] + ".",
            f"The best season to go is {c['season']}, when {c['why']}.",
            _pick(r, ["Book popular sights online a few days ahead to skip the queues.",
                      "Carry a little cash for small cafés and markets.",
                      "Pack comfortable shoes; you will walk more than you expect.",
                      "Download an offline map before you arrive."]),
        ]]
        lines += ["", _para(_ctx_note(inp), _pick(r, ["Enjoy your trip!", "Have a wonderful time!", ""]))]
    else:
        lines += ["", _para(c["transport"] + ".", _ctx_note(inp), _pick(r, ["Enjoy your trip!",
                                                                            "Have a wonderful time!", ""]))]
    lines = lines if lines[-1] else lines[:-2]
    return Sample(instr, inp, "\n".join(lines), None, key=f"itinerary:{city}")


def _travel_season(r: Rng) -> Sample:
    """Best time to visit a city."""
    city = _pick(r, list(_CITIES))
    c = _CITIES[city]
    instr = _pick(r, [f"When is the best time to visit {city}?", f"What time of year should I go to {city}?",
                      f"Is there a best season for a trip to {city}?",
                      f"Which months are best for {city}, {c['country']}?"])
    out = _para(f"The best time to visit {city} is usually {c['season']}, when {c['why']}.",
                _pick(r, ["Shoulder seasons also mean lower hotel prices.",
                          "Book accommodation a few months ahead for peak dates.",
                          "Check local holidays, which can make sights busier or close them.", ""]),
                _maybe(r, 0.5, f"Whenever you go, don't miss {_pick(r, c['sights'])}."),
                _maybe(r, 0.4, f"And try the {_pick(r, c['food'])}!"))
    return Sample(instr, "", out, None)


_PACK = _DATA["pack"]


def _travel_packing(r: Rng) -> Sample:
    """Packing list for a trip type."""
    kind = _pick(r, list(_PACK))
    days = r.randint(2, 14)
    items = r.sample(_PACK[kind], r.randint(4, min(7, len(_PACK[kind]))))
    instr = _pick(r, [f"What should I pack for a {days}-day {kind} trip?",
                      f"Make me a packing list for {days} days of {kind} travel.",
                      f"I'm going on a {kind} trip for {days} days. What do I need to bring?"])
    bullet = r.random() < 0.6
    body = ("\n".join(f"- {it[0].upper() + it[1:]}" for it in items) if bullet else
            "Bring " + _join_and(items) + ".")
    out = (_pick(r, ["Here's a practical list:", "Essentials to pack:",
                     "I'd bring:"]) + ("\n\n" if bullet else " ") + body + "\n\n" +
           _para(_pick(r, [f"For {days} days, plan to do laundry once rather than packing more clothes." if days > 6
                           else "Pack light; you can buy most small things on arrival.",
                           "Lay everything out the day before and remove a third of it.",
                           "Keep medication and valuables in your carry-on."])))
    return Sample(instr, "", out, None, key=f"packing:{kind}")


def _travel_money(r: Rng) -> Sample:
    """Budget tips for a city."""
    city = _pick(r, list(_CITIES))
    c = _CITIES[city]
    tips = [c["transport"] + ".",
            f"Eat like a local: buying {_pick(r, c['food'])} at a market or small café costs far less than eating at "
            f"a tourist restaurant.",
            "Look for free museum days and free walking tours (tip what you can).",
            "Stay slightly outside the centre near a transit line.",
            "Carry a refillable water bottle.",
            "Use a card without foreign transaction fees and always pay in the local currency.",
            f"{_cap(_pick(r, c['sights']))} is worth paying for, so skip the less interesting paid sights instead."]
    chosen = r.sample(tips, 4)
    instr = _pick(r, [f"How can I save money while traveling in {city}?", f"Give me budget tips for {city}.",
                      f"Is {city} expensive? How can I keep costs down?"])
    out = _para(_pick(r, [f"{city} can be affordable with a bit of planning.", "A few habits make a big difference:",
                          ""]),
                *chosen)
    return Sample(instr, "", out, None)


_PURPOSES = _DATA["purposes"]


def _travel_compare(r: Rng) -> Sample:
    """Compare two destinations for a purpose."""
    a, b = r.sample(list(_CITIES), 2)
    purpose = _pick(r, list(_PURPOSES))
    ca, cb = _CITIES[a], _CITIES[b]
    pick = _pick(r, [a, b])
    instr = _pick(r, [f"{a} or {b}: which is better for {purpose}?", f"Should I choose {a} or {b} for {purpose}?",
                      f"I can't decide between {a} and {b} for {purpose}. Any advice?"])
    sa, sb = r.sample(ca["sights"], 2), r.sample(cb["sights"], 2)
    out = _para(_pick(r, ["Both are great choices.", "You can't go far wrong with either.", "Tough call!"]),
                f"{a} stands out for {sa[0]} and {sa[1]}, and you shouldn't leave without trying "
                f"{_pick(r, ca['food'])}.",
                f"{b} offers {sb[0]} and {sb[1]}, plus {_pick(r, cb['food'])}.",
                f"For {purpose}, I'd lean towards {pick}, because {_PURPOSES[purpose]}.",
                _maybe(r, 0.6, f"If you go to {pick}, aim for {_CITIES[pick]['season']}."))
    return Sample(instr, "", out, None)


_TRAVEL_TIPS = _DATA["travel_tips"]


def _travel_tips(r: Rng) -> Sample:
    """General travel advice for a topic."""
    topic = _pick(r, list(_TRAVEL_TIPS))
    tips = r.sample(_TRAVEL_TIPS[topic], r.randint(3, 5))
    instr = _pick(r, [f"How can I {topic}?", f"Any tips to {topic}?", f"What's your best advice to {topic}?",
                      f"I want to {topic} on my next trip. Where do I start?"])
    if r.random() < 0.5:
        out = _pick(r, ["Here's what works:", "A few tried-and-tested tips:", "Try these:"]) + "\n\n" + "\n".join(
            f"- {t}" for t in tips)
    else:
        out = _para(_pick(r, ["", "Good thinking.", "A little planning helps a lot."]), *tips)
    if r.random() < 0.4:
        out += "\n\n" + _pick(r, ["Most of all, build in some slack; the best travel moments are rarely planned.",
                                  "Little preparation goes a long way.", "Have a great trip!"])
    return Sample(instr, "", out, None, key=f"traveltips:{topic}")


def _travel_phrases(r: Rng) -> Sample:
    """Useful local phrases for a destination."""
    city = _pick(r, [k for k, v in _CITIES.items() if v["lang"]])
    c = _CITIES[city]
    lang = c["lang"]
    ph = r.sample(_PHRASES[lang], r.randint(3, 5))
    instr = _pick(r, [f"Teach me a few useful {lang} phrases for my trip to {city}.",
                      f"What are some basic phrases I should know before visiting {c['country']}?",
                      f"I'm going to {city}. Which words in {lang} will help me get by?"])
    out = (f"{_pick(r, ['Here are some handy phrases', 'A few essentials'])} in {lang}:\n\n" +
           "\n".join(f"- {a} - {b}" for a, b in ph) + "\n\n" +
           _pick(r, ["Locals appreciate the effort, even if your pronunciation isn't perfect.",
                     "A smile and a polite greeting go a long way.",
                     "Download an offline translation pack as a backup."]))
    return Sample(instr, "", out, None)
