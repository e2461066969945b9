"""Maths word problems with worked answers (change, percentages, equations, geometry, statistics, ...)."""

from __future__ import annotations

from fractions import Fraction
from math import gcd, pi

from .common import _NAMES, Rng, Sample, _maybe, _money, _num, _para, _pick, load_data

_DATA = load_data("maths")

_SHOP_ITEMS = _DATA["shop_items"]


def _math_change(r: Rng) -> Sample:
    """Shopping word problem: total cost and change."""
    name = _pick(r, _NAMES)
    item, items, lo, hi = _pick(r, _SHOP_ITEMS)
    n = r.randint(2, 9)
    price = round(r.uniform(lo, hi) * 4) / 4
    total = n * price
    bill = next(b for b in (10, 20, 50, 100, 200, 500) if b > total)
    change = bill - total
    instr = _pick(r, [
        f"{name} buys {n} {items} at {_money(price)} each and pays with a {_money(bill)} bill. How much change should "
        f"{name} get?",
        f"If {n} {items} cost {_money(price)} each, how much change do you get from {_money(bill)}?",
        f"{name} has a {_money(bill)} note and buys {n} {items} priced at {_money(price)} apiece. What is the change?",
    ])

    def resp(ch: float) -> str:
        """Worked answer ending in change ``ch`` (a wrong value gives the 'wrong' answer)."""
        return _para(_pick(r, ["", "Let's work it out step by step."]),
                     f"First find the total cost: {n} × {_money(price)} = {_money(total)}.",
                     f"Then subtract it from the amount paid: {_money(bill)} - {_money(total)} = {_money(ch)}.",
                     f"So the change is {_money(ch)}.")
    out = resp(change)
    wrong = resp(change + _pick(r, [1, -1, 0.5, 2]))
    return Sample(instr, "", out, wrong)


def _math_percent(r: Rng) -> Sample:
    """Percentages and discounts."""
    p = _pick(r, [5, 10, 12, 15, 20, 25, 30, 35, 40, 45, 60, 75])
    x = r.randint(2, 80) * _pick(r, [5, 10, 20])
    if r.random() < 0.5:
        v = x * p / 100
        instr = _pick(r, [f"What is {p}% of {x}?", f"Calculate {p} percent of {x}.",
                          f"Find {p}% of {x} and show the steps."])
        out = _para(f"To find {p}% of {x}, convert the percentage to a decimal: {p}% = {_num(p / 100)}.",
                    f"Then multiply: {_num(p / 100)} × {x} = {_num(v)}.", f"So {p}% of {x} is {_num(v)}.")
        wrong = _para(f"{p}% of {x} is {_num(v * 10 if v < 50 else v / 10)}.")
    else:
        thing = _pick(r, ["jacket", "laptop", "bike", "pair of shoes", "lamp", "backpack", "headphones set",
                          "desk chair"])
        disc = x * p / 100
        sale = x - disc
        instr = _pick(r, [f"A {thing} costs {_money(x)} and is discounted by {p}%. What is the sale price?",
                          f"The price of a {thing} is {_money(x)}. With a {p}% discount, how much do I pay?",
                          f"How much is a {_money(x)} {thing} after {p}% off?"])
        out = _para(f"The discount is {p}% of {_money(x)}: {_num(p / 100)} × {_money(x)} = {_money(disc)}.",
                    f"Subtract it from the original price: {_money(x)} - {_money(disc)} = {_money(sale)}.",
                    _pick(r, [f"The sale price is {_money(sale)}.",
                              f"You pay {_money(sale)}, which is the same as paying {100 - p}% of the original "
                              "price."]))
        wrong = _para(f"Just subtract {p} from the price: {_money(x)} - {_money(p)} = {_money(x - p)}.")
    return Sample(instr, "", out, wrong)


def _math_linear(r: Rng) -> Sample:
    """Solve a one-variable linear equation with an integer solution."""
    x = r.randint(-12, 15)
    a = _pick(r, [2, 3, 4, 5, 6, 7, 8, 9, -2, -3])
    b = r.randint(-30, 30)
    c = a * x + b
    var = _pick(r, ["x", "x", "y", "n"])
    lhs = f"{a}{var} {'+' if b >= 0 else '-'} {abs(b)}"
    instr = _pick(r, [f"Solve for {var}: {lhs} = {c}.", f"What value of {var} satisfies {lhs} = {c}?",
                      f"Find {var} if {lhs} = {c}. Show your work."])
    step1 = f"{'Subtract' if b >= 0 else 'Add'} {abs(b)} {'from' if b >= 0 else 'to'} both sides: {a}{var} = {c - b}."
    out = _para(_pick(r, ["", "We isolate the variable in two steps."]), step1,
                f"Divide both sides by {a}: {var} = {c - b} / {a} = {x}.",
                _pick(r, [f"Check: {a} × {x} {'+' if b >= 0 else '-'} {abs(b)} = {c}. ✓", f"So {var} = {x}."]))
    wrong = _para(step1, f"Divide both sides by {a}: {var} = {x + _pick(r, [1, -1, 2])}.")
    return Sample(instr, "", out, wrong)


def _math_geometry(r: Rng) -> Sample:
    """Areas, perimeters and volumes."""
    kind = r.randrange(4)
    unit = _pick(r, ["cm", "m", "inches", "ft"])
    if kind == 0:
        w, h = r.randint(2, 40), r.randint(2, 40)
        what = _pick(r, ["area", "perimeter"])
        obj = _pick(r, ["a rectangle", "a rectangular garden", "a rectangular room", "a tabletop"])
        instr = f"What is the {what} of {obj} that is {w} {unit} wide and {h} {unit} long?"
        if what == "area":
            v = w * h
            out = _para("The area of a rectangle is width × length.",
                        f"{w} × {h} = {v}, so the area is {v} square {unit}.",
                        _maybe(r, 0.5, "Area is always measured in square units."))
            wrong = f"The area is {2 * (w + h)} square {unit}."
        else:
            v = 2 * (w + h)
            out = _para("The perimeter of a rectangle is 2 × (width + length).",
                        f"2 × ({w} + {h}) = 2 × {w + h} = {v} {unit}.",
                        _maybe(r, 0.5,
                               "That is the total length of fence or trim you would need to go all the way around."))
            wrong = f"The perimeter is {w * h} {unit}."
    elif kind == 1:
        rad = r.randint(1, 25)
        instr = _pick(r, [f"Find the area of a circle with radius {rad} {unit}.",
                          f"A circular rug has a radius of {rad} {unit}. What is its area?",
                          f"What's the area of a circle whose diameter is {2 * rad} {unit}?"])
        v = pi * rad * rad
        out = _para("The area of a circle is π × r².",
                    f"With r = {rad}: π × {rad}² = π × {rad * rad} ≈ {v:.2f} square {unit}."
                    if "diameter" not in instr else
                    f"The radius is half the diameter, so r = {rad}. Then π × {rad}² = π × {rad * rad} ≈ {v:.2f} "
                    f"square {unit}.")
        wrong = f"The area is 2 × π × {rad} ≈ {2 * pi * rad:.2f} square {unit}."
    elif kind == 2:
        b, h = r.randint(2, 30), r.randint(2, 30)
        v = b * h / 2
        instr = f"A triangle has a base of {b} {unit} and a height of {h} {unit}. What is its area?"
        out = _para("The area of a triangle is ½ × base × height.", f"½ × {b} × {h} = {_num(v)} square {unit}.",
                    _maybe(r, 0.5, "The height must be measured at a right angle to the base."))
        wrong = f"The area is {b} × {h} = {b * h} square {unit}."
    else:
        l, w, h = r.randint(2, 20), r.randint(2, 20), r.randint(2, 20)
        v = l * w * h
        obj = _pick(r, ["box", "fish tank", "shipping crate", "planter"])
        instr = f"What is the volume of a {obj} measuring {l} × {w} × {h} {unit}?"
        out = _para("The volume of a rectangular box is length × width × height.",
                    f"{l} × {w} = {l * w}, and {l * w} × {h} = {v}.", f"So the volume is {v} cubic {unit}.")
        wrong = f"The volume is {l + w + h} cubic {unit}."
    return Sample(instr, "", out, wrong)


def _math_stats(r: Rng) -> Sample:
    """Mean / median of a small data set, sometimes given in the input."""
    xs = [r.randint(1, 99) for _ in range(r.randint(5, 9))]
    s = sum(xs)
    mean = s / len(xs)
    srt = sorted(xs)
    m = len(xs) // 2
    median = srt[m] if len(xs) % 2 else (srt[m - 1] + srt[m]) / 2
    what = _pick(r, ["mean", "median", "mean and median"])
    listed = ", ".join(map(str, xs))
    ctx = _pick(r, ["test scores", "daily step counts (in hundreds)", "temperatures", "ages", "minutes of practice",
                    "numbers"])
    inp = ""
    if r.random() < 0.4:
        instr = f"Find the {what} of these {ctx}."
        inp = listed
    else:
        instr = _pick(r, [f"What is the {what} of {listed}?",
                          f"Calculate the {what} of the following {ctx}: {listed}."])
    parts = []
    if "mean" in what:
        parts.append(f"Mean: add the values to get {s}, then divide by the count ({len(xs)}): {s} / {len(xs)} ≈ "
                     f"{_num(mean)}.")
    if "median" in what:
        parts.append(f"Median: sort the values ({', '.join(map(str, srt))}) and take the middle"
                     f"{' value' if len(xs) % 2 else ' two values and average them'}, which gives {_num(median)}.")
    out = _para(*parts)
    wrong = _para(f"The {what} is {_num(mean + _pick(r, [3, -4, 7]))}.")
    return Sample(instr, inp, out, wrong, key=f"stats:{what}|{ctx}|{bool(inp)}")


def _math_fractions(r: Rng) -> Sample:
    """Add, subtract or multiply two fractions."""
    da, db = r.randint(2, 12), r.randint(2, 12)
    a, b = Fraction(r.randint(1, da - 1), da), Fraction(r.randint(1, db - 1), db)  # proper fractions
    op = _pick(r, ["+", "-", "×"])
    res = a + b if op == "+" else a - b if op == "-" else a * b
    fa, fb = f"{a.numerator}/{a.denominator}", f"{b.numerator}/{b.denominator}"
    fr = f"{res.numerator}/{res.denominator}" if res.denominator != 1 else str(res.numerator)
    first = {"+": f"Add {fa} and {fb}.", "-": f"Subtract {fb} from {fa}.", "×": f"Multiply {fa} by {fb}."}[op]
    instr = _pick(r, [first, f"Compute {fa} {op} {fb} and simplify.", f"What is {fa} {op} {fb}?"])
    if op in "+-":
        lcd = a.denominator * b.denominator // gcd(a.denominator, b.denominator)
        na, nb = a.numerator * lcd // a.denominator, b.numerator * lcd // b.denominator
        steps = [f"Use a common denominator of {lcd}: {fa} = {na}/{lcd} and {fb} = {nb}/{lcd}.",
                 f"{na} {op} {nb} = {na + nb if op == '+' else na - nb}, giving "
                 f"{na + nb if op == '+' else na - nb}/{lcd}."]
    else:
        steps = [f"Multiply the numerators and the denominators: ({a.numerator} × {b.numerator}) / ({a.denominator} × "
                 f"{b.denominator}) = {a.numerator * b.numerator}/{a.denominator * b.denominator}."]
    out = _para(*steps, f"In lowest terms the answer is {fr}.")
    wrong = _para(f"Just combine the tops and bottoms: the answer is "
                  f"{a.numerator + b.numerator}/{a.denominator + b.denominator}.")
    return Sample(instr, "", out, wrong)


def _math_probability(r: Rng) -> Sample:
    """Simple probability with marbles, dice or coins."""
    kind = r.randrange(3)
    if kind == 0:
        c1, c2 = r.sample(["red", "blue", "green", "yellow", "white", "black"], 2)
        n1, n2 = r.randint(1, 12), r.randint(1, 12)
        p = Fraction(n1, n1 + n2)
        instr = (f"A bag contains {n1} {c1} and {n2} {c2} marbles. If you draw one at random, what is the probability "
                 f"that it is {c1}?")
        out = _para(f"There are {n1 + n2} marbles in total and {n1} of them are {c1}.",
                    f"The probability is {n1}/{n1 + n2}"
                    + (f", which simplifies to {p.numerator}/{p.denominator}" if p.denominator != n1 + n2 else "")
                    + f", or about {float(p) * 100:.1f}%.")
        wrong = f"The probability is {n1}/{n2}."
    elif kind == 1:
        target = r.randint(2, 12)
        ways = sum(1 for i in range(1, 7) for j in range(1, 7) if i + j == target)
        p = Fraction(ways, 36)
        instr = _pick(r, [f"If you roll two fair dice, what is the probability that they sum to {target}?",
                          f"What are the chances of rolling a total of {target} with two six-sided dice?"])
        out = _para("Two dice have 6 × 6 = 36 equally likely outcomes.",
                    f"{ways} of them add up to {target}, so the probability is {ways}/36"
                    + (f" = {p.numerator}/{p.denominator}" if p.denominator != 36 else "")
                    + f" ≈ {float(p) * 100:.1f}%.")
        wrong = "There are 11 possible totals, so the probability is 1/11."
    else:
        n = r.randint(2, 6)
        instr = _pick(r, [f"What is the probability of getting heads {n} times in a row with a fair coin?",
                          f"If I flip a fair coin {n} times, what's the chance that every flip is heads?"])
        out = _para("Each flip is independent and has a 1/2 chance of heads.",
                    f"Multiply the probabilities: (1/2)^{n} = 1/{2 ** n}, which is about {100 / 2 ** n:.2f}%.")
        wrong = f"Each flip is 50%, so the answer is {n} × 50% = {n * 50}%."
    return Sample(instr, "", out, wrong)


def _math_rate(r: Rng) -> Sample:
    """Speed, distance and time."""
    vehicle = _pick(r, ["train", "car", "cyclist", "bus", "ferry", "runner"])
    speed = r.randint(8, 120) if vehicle != "runner" else r.randint(8, 14)
    t = _pick(r, [0.5, 1, 1.5, 2, 2.5, 3, 4, 5])
    d = speed * t
    kind = r.randrange(3)
    if kind == 0:
        instr = f"A {vehicle} travels {_num(d)} km in {_num(t)} hours. What is its average speed?"
        out = _para("Average speed is distance divided by time.", f"{_num(d)} km / {_num(t)} h = {speed} km/h.",
                    f"The {vehicle}'s average speed is {speed} km/h.", _maybe(r, 0.5,
                                                                              "It may have gone faster or slower at "
                                                                              "times; the average smooths that out."))
        wrong = f"{_num(d)} × {_num(t)} = {_num(d * t)} km/h."
    elif kind == 1:
        instr = f"How far does a {vehicle} go in {_num(t)} hours at {speed} km/h?"
        out = _para("Distance equals speed multiplied by time.", f"{speed} km/h × {_num(t)} h = {_num(d)} km.",
                    f"So the {vehicle} covers {_num(d)} km.", _maybe(r, 0.5,
                                                                     "The units work out because km/h multiplied by "
                                                                     "hours leaves kilometres."))
        wrong = f"{speed} / {_num(t)} = {_num(speed / t)} km."
    else:
        instr = f"How long does it take a {vehicle} moving at {speed} km/h to cover {_num(d)} km?"
        out = _para("Time is distance divided by speed.", f"{_num(d)} km / {speed} km/h = {_num(t)} hours"
                    + (f", or {int(t * 60)} minutes." if t < 1 else "."),
                    _maybe(r, 0.6,
                           f"Check: {speed} km/h for {_num(t)} hours gives {speed} × {_num(t)} = {_num(d)} km."))
        wrong = f"It takes {_num(d * speed)} hours."
    return Sample(instr, "", out, wrong)


def _math_gcd(r: Rng) -> Sample:
    """GCD or LCM with the Euclidean algorithm."""
    g = r.randint(2, 15)
    a, b = g * r.randint(2, 20), g * r.randint(2, 20)
    if a == b:
        b += g
    if r.random() < 0.6:
        instr = _pick(r, [f"What is the greatest common divisor of {a} and {b}?",
                          f"Find gcd({a}, {b}) using the Euclidean algorithm."])
        x, y = max(a, b), min(a, b)
        steps = []
        while y:
            steps.append(f"{x} = {x // y} × {y} + {x % y}")
            x, y = y, x % y
        out = _para("Use the Euclidean algorithm, replacing the larger number by the remainder until it reaches zero:",
                    "; ".join(steps) + ".", f"The last non-zero remainder is {x}, so gcd({a}, {b}) = {x}.")
        wrong = f"gcd({a}, {b}) = {min(a, b)}."
    else:
        g2 = gcd(a, b)
        l = a * b // g2
        instr = _pick(r, [f"What is the least common multiple of {a} and {b}?", f"Find lcm({a}, {b})."])
        out = _para(f"First find the greatest common divisor: gcd({a}, {b}) = {g2}.",
                    f"Then lcm = {a} × {b} / {g2} = {a * b} / {g2} = {l}.")
        wrong = f"lcm({a}, {b}) = {a * b}."
    return Sample(instr, "", out, wrong)


def _poly(terms: list[tuple[int, int]]) -> str:
    """Format polynomial terms [(coef, power)] like '3x^2 - 4x + 1'."""
    s = ""
    for i, (c, p) in enumerate(terms):
        if c == 0:
            continue
        mag = abs(c)
        body = (str(mag) if mag != 1 or p == 0 else "") + ("x" if p >= 1 else "") + (f"^{p}" if p > 1 else "")
        if not s:
            s = ("-" if c < 0 else "") + body
        else:
            s += (" - " if c < 0 else " + ") + body
    return s or "0"


def _math_derivative(r: Rng) -> Sample:
    """Differentiate a small polynomial with the power rule."""
    powers = sorted(r.sample([1, 2, 3, 4, 5], r.randint(2, 3)), reverse=True)
    terms = [(r.choice([-1, 1]) * r.randint(1, 9), p) for p in powers] + [(r.randint(-9, 9), 0)]
    f = _poly(terms)
    d = _poly([(c * p, p - 1) for c, p in terms if p > 0])
    instr = _pick(r, [f"Differentiate f(x) = {f}.", f"What is the derivative of {f}?", f"Find dy/dx for y = {f}."])
    out = _para("Apply the power rule, d/dx(a·x^n) = n·a·x^(n-1), to each term; the constant term disappears.",
                _pick(r, [f"The result is {d}.", f"So f'(x) = {d}.", f"Differentiating term by term gives {d}."]),
                _maybe(r, 0.5, "Each exponent drops by one and multiplies its coefficient."))
    wrong = _para(f"The derivative is {_poly([(c, p - 1) for c, p in terms if p > 0])}.")
    return Sample(instr, "", out, wrong)
