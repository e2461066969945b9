"""Personal-finance examples: budgets, compound interest, saving goals, concepts, debt, tips and loans."""

from __future__ import annotations

from .common import Rng, Sample, _maybe, _money, _num, _para, _pick, load_data

_DATA = load_data("finance")

def _fin_budget(r: Rng) -> Sample:
    """50/30/20 budget split."""
    pay = r.randint(12, 90) * 100
    instr = _pick(r, [f"My monthly take-home pay is {_money(pay)}. How should I split it using the 50/30/20 rule?",
                      f"How would the 50/30/20 budget work on a {_money(pay)} monthly income?",
                      f"Apply the 50/30/20 rule to {_money(pay)} per month."])
    out = _para("The 50/30/20 rule splits take-home pay into needs, wants and savings.",
                f"Needs (rent, utilities, groceries, minimum debt payments): 50% = {_money(pay * 0.5)}.",
                f"Wants (eating out, hobbies, subscriptions): 30% = {_money(pay * 0.3)}.",
                f"Savings and extra debt payments: 20% = {_money(pay * 0.2)}.",
                _pick(r,
                      ["If your rent alone is above half your income, treat the split as a direction rather than a "
                       "strict rule.",
                          "Automate the savings transfer on payday so it happens before you can spend it.", ""]))
    wrong = f"Put {_money(pay * 0.5)} into savings, {_money(pay * 0.3)} into needs and {_money(pay * 0.2)} into wants."
    return Sample(instr, "", out, wrong, key="budget:")


def _fin_compound(r: Rng) -> Sample:
    """Compound interest with yearly compounding."""
    p = r.randint(1, 50) * 500
    rate = _pick(r, [2, 3, 4, 4.5, 5, 6, 7, 8])
    years = r.randint(2, 30)
    fv = p * (1 + rate / 100) ** years
    instr = _pick(r,
                  [f"If I invest {_money(p)} at {rate}% annual interest compounded yearly, how much will I have after "
                   f"{years} years?",
                      f"What will {_money(p)} grow to in {years} years at {rate}% per year, compounded annually?"])
    out = _para("Use the compound interest formula A = P × (1 + r)^n.",
                f"Here P = {_money(p)}, r = {_num(rate / 100, 3)} and n = {years}: A = {_money(p)} × "
                f"{_num(1 + rate / 100, 3)}^{years} ≈ {_money(round(fv, 2))}.",
                f"That is about {_money(round(fv - p, 2))} of interest.",
                _maybe(r, 0.5, "Real investment returns vary from year to year, so treat this as an estimate."))
    wrong = _para(f"Simple math: {_money(p)} + {years} × {rate}% gives "
                  f"{_money(round(p * (1 + rate * years / 100), 2))}.")
    return Sample(instr, "", out, wrong)


def _fin_goal(r: Rng) -> Sample:
    """Monthly savings needed for a goal."""
    goal = _pick(r, ["a house deposit", "a new laptop", "a wedding", "an emergency fund", "a trip to Japan",
                     "a used car", "a sabbatical"])
    g = r.randint(2, 60) * 500
    m = _pick(r, [6, 9, 12, 18, 24, 36, 48])
    per = g / m
    instr = _pick(r, [f"I want to save {_money(g)} for {goal} in {m} months. How much should I put aside each month?",
                      f"How much per month do I need to save to reach {_money(g)} for {goal} within {m} months?"])
    out = _para(f"Divide the goal by the number of months: {_money(g)} / {m} ≈ {_money(round(per, 2))} per month.",
                _pick(r, ["Set up an automatic transfer right after payday.",
                          "A high-yield savings account will add a little interest along the way.",
                          f"If that's too much, stretching the timeline to {m + 6} months lowers it to about "
                          f"{_money(round(g / (m + 6), 2))}."]))
    wrong = f"Save {_money(round(g / (m / 12 if m >= 12 else 1), 2))} a month."
    return Sample(instr, "", out, wrong)


_FIN_CONCEPTS = _DATA["fin_concepts"]


def _fin_concept(r: Rng) -> Sample:
    """Explain a personal-finance concept."""
    c = _pick(r, list(_FIN_CONCEPTS))
    a, b, d = _FIN_CONCEPTS[c]
    instr = _pick(r, [f"What is {c}?", f"Explain {c} in plain English.",
                      f"Can you explain {c} like I'm new to personal finance?",
                      f"Why does {c} matter for my money?"])
    out = _para(_pick(r, ["", "Good question.", "In simple terms:"]), a, b, d if r.random() < 0.8 else "",
                _maybe(r, 0.3, "This is general information rather than personal financial advice."))
    return Sample(instr, "", out, None)


_FIN_TIPS = _DATA["fin_tips"]


def _fin_tips(r: Rng) -> Sample:
    """Practical money tips for a goal."""
    topic = _pick(r, list(_FIN_TIPS))
    tips = r.sample(_FIN_TIPS[topic], r.randint(3, 5))
    instr = _pick(r, [f"How can I {topic}?", f"What's the best way to {topic}?", f"Give me practical tips to {topic}.",
                      f"I want to {topic}. Any advice?"])
    inp = ""
    if r.random() < 0.25:
        inp = _pick(r, [f"I earn about {_money(r.randint(25, 120) * 1000)} a year.", "I'm in my twenties.",
                        "We're a family of four.",
                        "I have some credit card debt."])
    if r.random() < 0.5:
        out = _pick(r, ["Here's a plan:", "A few steps that work:", "Start with these:"]) + "\n\n" + "\n".join(
            f"{i}. {t}" for i, t in enumerate(tips, 1))
    else:
        out = _para(_pick(r, ["Good goal.", "", "Small habits add up."]), *tips)
    if r.random() < 0.4:
        out += "\n\n" + _pick(r, ["Consistency matters more than getting every detail perfect.",
                                  "Review your progress every few months and adjust.",
                                  "This is general information, not personalised financial advice."])
    return Sample(instr, inp, out, None)


def _fin_loan(r: Rng) -> Sample:
    """Monthly payment of an amortising loan."""
    what = _pick(r, ["car loan", "personal loan", "home improvement loan", "student loan", "mortgage"])
    p = r.randint(5, 60) * 1000 if what != "mortgage" else r.randint(100, 600) * 1000
    years = _pick(r, [3, 4, 5, 7]) if what != "mortgage" else _pick(r, [15, 20, 25, 30])
    rate = _pick(r, [3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 8, 9])
    i = rate / 100 / 12
    n = years * 12
    pay = p * i / (1 - (1 + i) ** -n)
    instr = _pick(r, [f"What is the monthly payment on a {_money(p)} {what} at {rate}% APR over {years} years?",
                      f"I'm taking out a {_money(p)} {what} for {years} years at {rate}% interest. How much will I "
                      f"pay each month?"])
    out = _para("Use the amortisation formula M = P × i / (1 - (1 + i)^-n), where i is the monthly rate and n the "
                "number of payments.",
                f"Here i = {rate}% / 12 ≈ {i:.5f} and n = {years} × 12 = {n}.",
                f"M ≈ {_money(round(pay, 2))} per month, so you repay about {_money(round(pay * n, 2))} in total, "
                f"of which {_money(round(pay * n - p, 2))} is interest.",
                _maybe(r, 0.5, "Lenders may add fees, so compare the APR rather than just the headline rate."))
    wrong = (f"Divide the loan by the number of months: {_money(p)} / {n} ≈ {_money(round(p / n, 2))} per month, and "
             f"there is no interest to worry about.")
    return Sample(instr, "", out, wrong)


def _fin_debt(r: Rng) -> Sample:
    """Avalanche vs snowball with invented debts."""
    kinds = r.sample(["credit card", "car loan", "student loan", "store card", "personal loan", "medical bill"], 3)
    rates = r.sample([3.5, 4.9, 6.5, 8, 12, 18.9, 22.5, 24.9], 3)
    debts = [(k, r.randint(5, 150) * 100, rt) for k, rt in zip(kinds, rates)]
    listed = "\n".join(f"- {k}: {_money(b)} at {rt}% APR" for k, b, rt in debts)
    av = max(debts, key=lambda d: d[2])
    sn = min(debts, key=lambda d: d[1])
    instr = _pick(r, ["Which debt should I pay off first?",
                      "Should I use the avalanche or snowball method for these debts?",
                      "Help me prioritise paying off these debts."])
    out = _para(f"With the avalanche method you pay the highest interest rate first, which here is the {av[0]} at "
                f"{av[2]}%; it saves the most money overall.",
                f"With the snowball method you pay the smallest balance first, which is the {sn[0]} at "
                f"{_money(sn[1])}; the quick win helps motivation.",
                "Either way, keep making the minimum payments on everything else.",
                _pick(r, ["If the rates differ a lot, avalanche is usually the better deal.",
                          "The best method is the one you'll actually stick with.", ""]))
    wrong = f"Pay off the {min(debts, key=lambda d: d[2])[0]} first because it has the lowest interest rate."
    return Sample(instr, listed, out, wrong, key="debt:")
