"""Health examples: habits, symptoms, exercise plans, nutrients, activities, myths and hydration."""

from __future__ import annotations

from .common import Rng, Sample, _cap, _join_and, _maybe, _para, _pick, load_data

_DATA = load_data("health")

_HABITS = _DATA["habits"]
_HEALTH_DISCLAIMERS = _DATA["health_disclaimers"]


def _health_habit(r: Rng) -> Sample:
    """Tips for a healthy habit."""
    habit = _pick(r, list(_HABITS))
    tips = r.sample(_HABITS[habit], r.randint(3, 5))
    instr = _pick(r, [f"How can I {habit}?", f"Give me some tips to {habit}.", f"What are practical ways to {habit}?",
                      f"I want to {habit}. Where should I start?"])
    inp = ""
    if r.random() < 0.25:
        age = r.randint(19, 70)
        situation = _pick(r, ["work at a desk all day", "work night shifts", "have two young kids", "am a student",
                              "recently retired"])
        inp = f"I'm {age} and {situation}."
    if r.random() < 0.2:  # longer answer with a one-week starter plan
        tips = r.sample(_HABITS[habit], 5)
        out = (_para(_pick(r, ["Great goal.", "Good question.", "Happy to help."]),
                     f"People who manage to {habit} usually succeed by making the change small, obvious and easy to "
                     f"repeat.")
               + "\n\n" + "\n".join(f"- {t}" for t in tips) + "\n\n"
               + _para(_pick(r, ["A simple way to start:", "For the first week:"]),
                       "pick just one of these, do it every day for seven days, and tick it off on a calendar.",
                       "In the second week, add one more. Progress beats perfection, and a missed day is not a "
                       "failure.",
                       _pick(r, _HEALTH_DISCLAIMERS)))
    elif r.random() < 0.5:
        body = "\n".join(f"- {t}" for t in tips)
        out = _pick(r, ["Here are some practical steps:", "A few things that help:", "Try these:"]) + "\n\n" + body
        disc = _pick(r, _HEALTH_DISCLAIMERS)
        if disc:
            out += "\n\n" + disc
    else:
        out = _para(_pick(r, ["Great goal.", "Good question.", ""]), *tips, _pick(r, _HEALTH_DISCLAIMERS))
    return Sample(instr, inp, out, None, key=f"habit:{habit}")


_SYMPTOMS = _DATA["symptoms"]


def _health_symptom(r: Rng) -> Sample:
    """Self-care and red flags for a common symptom."""
    sym = _pick(r, list(_SYMPTOMS))
    care, flags = _SYMPTOMS[sym]
    instr = _pick(r, [f"What can I do about {sym}?", f"I have {sym}. When should I see a doctor?",
                      f"Any home remedies for {sym}?", f"How do I deal with {sym}?"])
    out = _para(_pick(r, [f"I'm sorry you're dealing with {sym}.", "",
                          "For most people this improves with simple self-care."]),
                *r.sample(care, r.randint(2, 3)),
                _pick(r, [f"See a doctor promptly if you notice {flags}.",
                          f"Warning signs that need medical attention include {flags}.",
                          f"Don't wait it out if you have {flags}; get checked by a professional."]),
                _pick(r, ["If you're unsure, a pharmacist is a good first point of contact.",
                          "Trust your instincts: if something feels seriously wrong, seek care.", ""]))
    return Sample(instr, "", out, None, key=f"symptom:{sym}")


def _health_plan(r: Rng) -> Sample:
    """Progressive beginner exercise plan."""
    act = _pick(r, ["walking", "running", "cycling", "swimming", "strength training"])
    weeks = r.randint(3, 6)
    per = r.randint(2, 4)
    start = _pick(r, [10, 15, 20])
    who = _pick(r, ["has a busy schedule", "hasn't exercised in years", "wants to lose a little weight",
                    "is recovering their fitness after an injury", "works from home"])
    instr = _pick(r, [f"Create a {weeks}-week beginner {act} plan for someone who {who}.",
                      f"Can you write a simple {weeks}-week {act} plan for a beginner who {who}?"])
    lines = [f"Here's a gentle {weeks}-week {act} plan with {per} sessions per week:", ""]
    for w in range(weeks):
        mins = start + 5 * w
        if act == "strength training":
            lines.append(f"Week {w + 1}: {per} sessions of {mins} minutes, {2 + w // 2} sets of squats, push-ups (or "
                         f"wall push-ups), rows and planks.")
        else:
            harder = ", with a harder middle section" if w >= 2 else ""
            lines.append(f"Week {w + 1}: {per} sessions of {mins} minutes of easy {act}" + harder + ".")
    lines += ["", _para("Warm up for five minutes before each session and cool down afterwards.",
                        _pick(r, ["Rest days matter as much as training days.",
                                  "You should be able to talk in short sentences while exercising.",
                                  "If you miss a week, repeat it rather than skipping ahead."]),
                        "Check with a doctor first if you have heart, joint or other health concerns."
                        if "injury" in who else "")]
    return Sample(instr, "", "\n".join(lines), None, key=f"plan:{act}")


_NUTRIENTS = _DATA["nutrients"]


def _health_nutrient(r: Rng) -> Sample:
    """Food sources of a nutrient."""
    nut = _pick(r, list(_NUTRIENTS))
    foods, note = _NUTRIENTS[nut]
    pick = r.sample(foods, r.randint(3, min(6, len(foods))))
    instr = _pick(r, [f"What are good sources of {nut}?", f"Which foods are high in {nut}?",
                      f"I want more {nut} in my diet. What should I eat?"])
    out = _para(f"Good sources of {nut} include {_join_and(pick)}.", note,
                _pick(r, ["A varied diet usually covers your needs without supplements.",
                          "If you follow a restricted diet, a dietitian can check whether you need a supplement.", ""]))
    return Sample(instr, "", out, None)


_ACTIVITIES = _DATA["activities"]


def _health_activity(r: Rng) -> Sample:
    """Health benefits of an activity."""
    act = _pick(r, list(_ACTIVITIES))
    benefits, caution = _ACTIVITIES[act]
    pick = r.sample(benefits, r.randint(2, 4))
    instr = _pick(r, [f"What are the health benefits of {act}?", f"Is {act} good for you?",
                      f"Why should I take up {act}?",
                      f"How does {act} help my health?"])
    mins = _pick(r, [20, 30, 45])
    out = _para(_pick(r, [f"{_cap(act)} has a lot going for it.", "Yes, in several ways.", ""]), *pick,
                _maybe(r, 0.6, f"Even {mins} minutes a few times a week is worthwhile."), caution)
    return Sample(instr, "", out, None, key=f"activity:{act}")


_MYTHS = _DATA["myths"]


def _health_myth(r: Rng) -> Sample:
    """Address a common health myth."""
    i = r.randrange(len(_MYTHS))
    q, a = _MYTHS[i]
    instr = _pick(r, [q, "Is this true? " + q, "Myth or fact: " + q[0].lower() + q[1:],
                      q[:-1] + ", or is that a myth?"])
    out = _para(_pick(r, ["", "Good question.", "This one comes up a lot."]), a,
                _maybe(r, 0.3, "If you have a specific health concern, your doctor can give advice tailored to you."))
    return Sample(instr, "", out, None, key=f"myth:{i}")


def _health_water(r: Rng) -> Sample:
    """Rough daily water estimate from body weight."""
    kg = r.randint(45, 110)
    lo, hi = kg * 0.03, kg * 0.035
    instr = _pick(r, [f"How much water should a person who weighs {kg} kg drink per day?",
                      f"I weigh {kg} kg. How much water do I need each day?"])
    out = _para(f"A common rule of thumb is about 30 to 35 ml of fluid per kilogram of body weight, which for {kg} kg "
                f"is roughly {lo:.1f} to {hi:.1f} litres a day.",
                "That includes water from food, tea and other drinks.",
                "You need more in hot weather or when exercising, and people with kidney or heart conditions may be "
                "told to limit fluids, so follow your doctor's advice if that applies.")
    wrong = "Everyone needs exactly 5 litres a day, no matter their weight."
    return Sample(instr, "", out, wrong, key="water:")
