"""Cooking examples: recipes, substitutions, techniques, storage, pantry meals and scaling recipes."""

from __future__ import annotations

from .common import Rng, Sample, _join_and, _maybe, _num, _para, _pick, load_data

_DATA = load_data("cooking")

# dish: (ingredients [(qty per serving, unit, name)], steps, minutes, tip)
_DISHES = _DATA["dishes"]


def _plural(name: str) -> str:
    """Pluralise the head noun of an ingredient name ('tomato, diced' -> 'tomatoes, diced')."""
    head, sep, tail = name.partition(",")
    words = head.split()
    last = words[-1]
    if last.endswith("s"):
        return name
    words[-1] = last + ("es" if last in ("tomato", "potato") else "s")
    return " ".join(words) + sep + tail


def _amount(q: float) -> str:
    """Kitchen-friendly amount: quarters below one, halves above."""
    q = round(q * 4) / 4 if q < 1 else round(q * 2) / 2
    whole, frac = int(q), q - int(q)
    ftxt = {0.25: "1/4", 0.5: "1/2", 0.75: "3/4"}.get(round(frac, 2), "")
    if whole and ftxt:
        return f"{whole} {ftxt}"
    return ftxt or str(whole)


def _qty(q: float, unit: str, name: str) -> str:
    """Render an ingredient line such as '300 g flour', '2 tsp cumin' or '3 eggs'."""
    if unit in ("g", "ml"):
        return f"{round(q / 5) * 5 or _num(q)} {unit} {name}"
    txt = _amount(q)
    many = q > 1
    if unit in ("tsp", "tbsp"):
        return f"{txt} {unit} {name}"
    if unit:
        u = (unit + ("es" if unit.endswith("ch") else "s")) if many else unit
        return f"{txt} {u} {name}"
    return f"{txt} {_plural(name) if many else name}"


def _cooking_recipe(r: Rng) -> Sample:
    """A recipe with scaled ingredient quantities."""
    dish = _pick(r, list(_DISHES))
    ings, steps, mins, tip = _DISHES[dish]
    n = r.randint(1, 6)
    instr = _pick(r, [f"Give me a simple recipe for {dish}.", f"How do I make {dish} at home?",
                      f"What's an easy way to cook {dish} for {n} {'person' if n == 1 else 'people'}?",
                      f"I'd like to make {dish} for {n}. Can you give me a recipe?",
                      f"Share a weeknight recipe for {dish}."])
    inp = ""
    if r.random() < 0.25:
        inp = _pick(r, ["I only have about 30 minutes.", "I'm a beginner cook.", "I don't own a blender.",
                        "Keep it budget-friendly."])
    lines = [f"Here's a {_pick(r, ['simple', 'easy', 'reliable', 'quick'])} recipe for {dish} "
             f"(serves {n}, about {mins} minutes):", "", "Ingredients:"]
    lines += [f"- {_qty(q * n, u, nm)}" for q, u, nm in ings]
    lines += ["", "Steps:"] + [f"{i}. {s}" for i, s in enumerate(steps, 1)]
    extra = ""
    if inp.startswith("I'm a beginner"):
        extra = "Read through the steps once before you start and have everything chopped in advance."
    elif inp.startswith("I only have"):
        extra = f"It fits your time limit: the whole thing takes about {mins} minutes."
    elif inp.startswith("I don't own"):
        extra = "If a step says to blend, a potato masher or a fork works for a chunkier result."
    elif inp:
        extra = "Pantry staples keep the cost down; swap in whatever vegetables are cheapest this week."
    lines += ["", _para(_pick(r, ["Tip:", "Chef's note:", ""]) + " " + tip, extra)]
    return Sample(instr, inp, "\n".join(lines), None, key=f"recipe:{dish}")


_SUBS = _DATA["subs"]
_DISH_KINDS = _DATA["dish_kinds"]


def _cooking_sub(r: Rng) -> Sample:
    """Ingredient substitution question."""
    ing = _pick(r, list(_SUBS))
    kind = _pick(r, _DISH_KINDS)
    a, b = _SUBS[ing]
    instr = _pick(r, [f"What can I use instead of {ing} in {kind}?",
                      f"I ran out of {ing}. What can I substitute when making {kind}?",
                      f"Is there a good replacement for {ing} in {kind}?", f"Substitute for {ing} in {kind}?"])
    out = _para(_pick(r, ["Yes!", "No problem.", "", "There are a few good options."]),
                f"For {kind}, you can {a}.", f"Alternatively, {b}.",
                _maybe(r, 0.5, _pick(r, ["The texture may be slightly different, so make a small test batch if it "
                                         "matters.", "Taste as you go and adjust the seasoning.",
                                         f"Most people won't notice the swap in {kind}."])))
    return Sample(instr, "", out, None, key=f"sub:{ing}")


_TECHNIQUES = _DATA["techniques"]


def _cooking_technique(r: Rng) -> Sample:
    """How to perform a kitchen technique."""
    tech = _pick(r, list(_TECHNIQUES))
    steps = _TECHNIQUES[tech]
    instr = _pick(r, [f"How do I {tech}?", f"What's the best way to {tech}?", f"Teach me how to {tech}.",
                      f"Any tips to {tech} properly?", f"I always struggle to {tech}. What am I doing wrong?"])
    if r.random() < 0.5:
        out = _pick(r, ["Here's the method:", "Follow these steps:",
                        "It's easier than it looks:"]) + "\n\n" + "\n".join(
            f"{i}. {s}" for i, s in enumerate(steps, 1))
    else:
        out = _para(_pick(r, ["", "Good technique makes all the difference."]), *steps)
    out += "\n\n" + _pick(r, ["Practice once or twice and it becomes second nature.",
                              "Patience is the main ingredient here.",
                              "Use a timer the first few times.", "Enjoy!",
                              "Let me know if you want a recipe that uses it."])
    return Sample(instr, "", out, None, key=f"technique:{tech}")


_STORAGE = _DATA["storage"]


def _cooking_storage(r: Rng) -> Sample:
    """Food storage question."""
    food = _pick(r, list(_STORAGE))
    fridge, freezer, tip = _STORAGE[food]
    instr = _pick(r, [f"How long does {food} keep in the fridge?", f"How should I store {food}, and for how long?",
                      f"Can I freeze {food}?", f"Is {food} from four days ago still okay to eat?"])
    out = _para(f"In the fridge, {food} keeps for {fridge}.", f"In the freezer: {freezer}.", tip,
                _pick(r,
                      ["When in doubt, throw it out: smell and appearance are not reliable guides for every kind of "
                       "spoilage.",
                          "Label containers with the date so you don't have to guess.", ""]))
    return Sample(instr, "", out, None)


_PANTRY = _DATA["pantry"]
_STYLES = _DATA["styles"]


_TOPPINGS = ["a handful of nuts", "some fresh herbs", "a squeeze of lemon", "a fried egg on top", "toasted seeds"]


def _cooking_pantry(r: Rng) -> Sample:
    """Suggest a meal from a handful of ingredients."""
    ings = r.sample(_PANTRY, r.randint(2, 4))
    style, method, season = _pick(r, _STYLES)
    meal = _pick(r, ["dinner", "lunch", "a quick supper", "a packed lunch"])
    instr = _pick(r, [f"I have {_join_and(ings)}. What can I cook for {meal}?",
                      f"What {meal} can I make with {_join_and(ings)}?",
                      f"Suggest a {meal} idea using {_join_and(ings)}."])
    inp = ""
    if r.random() < 0.3:
        inp = _pick(r, ["I'm vegetarian.", "It needs to be ready in 20 minutes.", "Cooking for two.",
                        "No oven, just a stovetop."])
    mins = r.choice([15, 20, 25, 30, 40])
    out = _para(f"You could make {style} with {_join_and(ings)}.", method + ".", season + ".",
                f"It should take about {mins} minutes.",
                _maybe(r, 0.4,
                       f"If you have them, {_pick(r, _TOPPINGS)} would round it off nicely."))
    return Sample(instr, inp, out, None)


def _cooking_scale(r: Rng) -> Sample:
    """Scale a recipe quantity to a different number of servings."""
    n1 = _pick(r, [2, 4, 6, 8])
    n2 = _pick(r, [x for x in (1, 2, 3, 4, 5, 6, 10, 12) if x != n1])
    ing, unit = _pick(r, [("flour", "g"), ("sugar", "g"), ("milk", "ml"), ("butter", "g"), ("rice", "g"), ("stock",
                                                                                                           "ml"),
                                                                                                           ("oats",
                                                                                                            "g")])
    q = r.randint(2, 20) * 25
    nq = q * n2 / n1
    instr = _pick(r, [f"A recipe for {n1} people uses {q} {unit} of {ing}. How much do I need for {n2}?",
                      f"My recipe serves {n1} and calls for {q} {unit} {ing}. I'm cooking for {n2}. How much {ing} "
                      f"should I use?"])
    out = _para(f"Scale by the ratio of servings: {n2} / {n1} = {_num(n2 / n1)}.",
                f"{q} {unit} × {_num(n2 / n1)} = {_num(nq, 1)} {unit} of {ing}.",
                _maybe(r, 0.6, _pick(r, ["Scale the other ingredients by the same factor.",
                                         "Cooking times usually change less than quantities, so check for doneness "
                                         "rather than relying on the clock.",
                                         "For baking, weigh rather than measure by volume when you scale."])))
    wrong = _para(f"Add {n2 - n1} extra portions: {q} + {abs(n2 - n1) * 25} = {q + abs(n2 - n1) * 25} {unit}.")
    return Sample(instr, "", out, wrong, key=f"scale:{ing}")
