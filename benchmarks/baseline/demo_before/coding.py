"""Coding examples: concepts, small tasks with code in several languages, debugging, SQL, comparisons, tools."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Callable

from .common import Rng, Sample, _maybe, _num, _para, _pick, load_data

_DATA = load_data("coding")

_LANGS = _DATA["langs"]

# concept: (definition, benefit, pitfall, example with {noun})
_CONCEPTS = _DATA["concepts"]
_CODE_NOUNS = _DATA["code_nouns"]
_CONCEPT_Q = _DATA["concept_q"]
_CONCEPT_POINTS = _DATA["concept_points"]
_CODING_OPENERS = _DATA["coding_openers"]


def _coding_concept(r: Rng) -> Sample:
    """Explain a programming concept in the context of a language."""
    c = _pick(r, list(_CONCEPTS))
    lang = _pick(r, _LANGS)
    d, b, p, ex = _CONCEPTS[c]
    instr = _pick(r, _CONCEPT_Q).format(c=c, lang=lang)
    closers = [
        f"A good exercise is to write a tiny {lang} program that uses {c} and step through it in a debugger.",
        f"Once it clicks, you will notice {c} all over idiomatic {lang} code.",
        f"The official {lang} documentation has more examples if you want to go deeper.",
        f"In {lang} specifically, look at how the standard library uses {c}; it is a good model to copy.",
        "",
    ]
    body = [d, ex.format(noun=_pick(r, _CODE_NOUNS))]
    if r.random() < 0.2:  # long, structured answer
        points = [x.format(c=c, lang=lang) for x in r.sample(_CONCEPT_POINTS, 3)]
        out = (_para(_pick(r, _CODING_OPENERS), *body, b) + "\n\n" + p + "\n\n"
               + _pick(r, ["Key points:", "To get comfortable with it:", "A few practical tips:"]) + "\n"
               + "\n".join(f"- {x}" for x in points) + "\n\n" + _pick(r, [x for x in closers if x]))
        return Sample(instr, "", out, None)
    if r.random() < 0.7:
        body.append(b)
    if r.random() < 0.6:
        body.append(p)
    if r.random() < 0.3:
        body[1], body[-1] = body[-1], body[1]
    out = _para(_pick(r, _CODING_OPENERS), *body, _pick(r, closers))
    return Sample(instr, "", out, None)


def _lit(v: Any, lang: str) -> str:
    """Render a Python value as a literal for Python or JavaScript."""
    if isinstance(v, bool):
        return ("True" if v else "False") if lang == "Python" else ("true" if v else "false")
    if v is None:
        return "None" if lang == "Python" else "null"
    if isinstance(v, float):
        return repr(round(v, 4)) if lang == "Python" else _num(v, 4)
    return json.dumps(v, ensure_ascii=False)


_WORDS = _DATA["words"]
_PALS = _DATA["pals"]
_SENT_WORDS = _DATA["sent_words"]


def _ex_list(r: Rng, n_lo: int = 4, n_hi: int = 8, lo: int = 1, hi: int = 50) -> list[int]:
    """Random list of integers for code examples."""
    return [r.randint(lo, hi) for _ in range(r.randint(n_lo, n_hi))]


def _ex_merge(r: Rng) -> tuple[tuple[Any, ...], Any]:
    """Two sorted lists and their merge."""
    a, b = sorted(_ex_list(r, 2, 4)), sorted(_ex_list(r, 2, 4))
    return (a, b), sorted(a + b)


def _ex_words(r: Rng) -> str:
    """A short lowercase sentence with repeated words."""
    return " ".join(_pick(r, _SENT_WORDS[:8]) for _ in range(r.randint(5, 8)))


def _ex_dupes(r: Rng) -> list[int]:
    """A list that is guaranteed to contain duplicates."""
    base = _ex_list(r, 3, 5, 1, 9)
    return base + [_pick(r, base) for _ in range(r.randint(1, 3))]


def _ex1(arg: Any, fn: Callable[[Any], Any]) -> tuple[tuple[Any, ...], Any]:
    """Example call with one argument: ((arg,), fn(arg))."""
    return (arg,), fn(arg)


def _is_prime(n: int) -> bool:
    """Reference primality test for code examples."""
    return n >= 2 and all(n % i for i in range(2, int(n ** 0.5) + 1))


def _is_pal(s: str) -> bool:
    """Reference palindrome test (letters and digits only, case-insensitive)."""
    c = "".join(ch.lower() for ch in s if ch.isalnum())
    return c == c[::-1]


def _factorial(n: int) -> int:
    """Reference factorial."""
    out = 1
    for i in range(2, n + 1):
        out *= i
    return out


def _ex_two(r: Rng) -> list[int]:
    """A list with at least two distinct numbers."""
    xs = _ex_list(r, 4, 7, 1, 30)
    if len(set(xs)) < 2:
        xs.append(xs[0] + 1)
    return xs


# Each task (data/coding.json, code_tasks): description, Python and JavaScript names and code, explanation,
# complexity; its example generator (keyed by the Python name) returns (args tuple, result).
_CODE_EXAMPLES: dict[str, Callable[[Rng], tuple[tuple[Any, ...], Any]]] = {
    "reverse_string": lambda r: _ex1(_pick(r, _WORDS), lambda w: w[::-1]),
    "is_prime": lambda r: _ex1(r.randint(2, 200), _is_prime),
    "word_counts": lambda r: _ex1(_ex_words(r), lambda s: dict(Counter(s.split()))),
    "dedupe": lambda r: _ex1(_ex_dupes(r), lambda xs: list(dict.fromkeys(xs))),
    "factorial": lambda r: _ex1(r.randint(0, 12), _factorial),
    "is_palindrome": lambda r: _ex1(_pick(r, _PALS), _is_pal),
    "largest": lambda r: _ex1(_ex_list(r), max),
    "merge_sorted": lambda r: _ex_merge(r),
    "celsius_to_fahrenheit": lambda r: _ex1(_pick(r, [-10, 0, 12.5, 20, 25, 30, 37, 100, -40, 15]),
                                            lambda c: c * 9 / 5 + 32),
    "digit_sum": lambda r: _ex1(r.randint(10, 99999), lambda n: sum(int(ch) for ch in str(n))),
    "count_vowels": lambda r: _ex1(_pick(r, _WORDS), lambda w: sum(1 for ch in w if ch in "aeiou")),
    "second_largest": lambda r: _ex1(_ex_two(r), lambda xs: sorted(set(xs), reverse=True)[1]),
    "title_words": lambda r: _ex1(_ex_words(r), lambda s: " ".join(w[:1].upper() + w[1:] for w in s.split())),
}
_CODE_TASKS: list[dict[str, Any]] = [{**t, "ex": _CODE_EXAMPLES[t["py"]]} for t in _DATA["code_tasks"]]
# Alternative Python implementation and TypeScript signature per task (keyed by the Python name).
_CODE_ALT = _DATA["code_alt"]

_TASK_Q = _DATA["task_q"]


def _coding_task(r: Rng) -> Sample:
    """A small coding task answered with a Python, JavaScript or TypeScript snippet."""
    t = _pick(r, _CODE_TASKS)
    alt_code, alt_why, ts_sig = _CODE_ALT[t["py"]]
    lang = _pick(r, ["Python", "Python", "JavaScript", "TypeScript"])
    why = t["why"]
    if lang == "Python":
        fname, code, tag = t["py"], t["py_code"], "python"
        if r.random() < 0.5:
            code, why = alt_code, alt_why
    else:
        fname, code, tag = t["js"], t["js_code"], lang.lower()
        if lang == "TypeScript":
            code = ts_sig + code[code.index("\n"):]
    lit_lang = "Python" if lang == "Python" else "JavaScript"
    args, result = t["ex"](r)
    call = f"{fname}({', '.join(_lit(a, lit_lang) for a in args)})"
    instr = _pick(r, _TASK_Q).format(lang=lang, t=t["task"])
    inp = ""
    if r.random() < 0.35:
        inp = "Example input: " + ", ".join(_lit(a, lit_lang) for a in args)
    intro = _pick(r, [
        f"Here is a {lang} function that does this:",
        "You can do it with a short function:",
        f"Sure, here's one way to {t['task']} in {lang}:",
        f"A straightforward {lang} solution looks like this:",
        "This version is short and easy to read:",
    ])
    res = _lit(result, lit_lang)
    example = _pick(r, [f"For example, `{call}` returns `{res}`.", f"Calling `{call}` gives `{res}`.",
                        f"With your example, `{call}` evaluates to `{res}`." if inp else
                        f"As a quick check, `{call}` returns `{res}`."])
    extra = _maybe(r, 0.5, _pick(r, [f"It runs in {t['cx']} time.", f"The time complexity is {t['cx']}.",
                                     "Add a couple of unit tests for edge cases such as empty input.",
                                     "Feel free to rename it to match your project's conventions."]))
    out = f"{intro}\n\n```{tag}\n{code}\n```\n\n" + _para(why, example, extra)
    wrong_result = result
    if isinstance(result, bool):
        wrong_result = not result
    elif isinstance(result, (int, float)):
        wrong_result = result + _pick(r, [1, -1, 2, 10])
    wrong = None
    if wrong_result != result:
        wrong = f"{intro}\n\n```{tag}\n{code}\n```\n\n" + _para(
            why, f"For example, `{call}` returns `{_lit(wrong_result, lit_lang)}`.")
    return Sample(instr, inp, out, wrong, key=f"task:{t['py']}|{lang}")


_VARS = _DATA["vars"]


def _coding_debug(r: Rng) -> Sample:
    """Find the bug in a short Python snippet (snippet goes into ``input``)."""
    xs = _pick(r, _VARS)
    nums = ", ".join(str(r.randint(1, 99)) for _ in range(r.randint(3, 5)))
    k = r.randint(3, 20)
    kind = r.randrange(8)
    if kind == 0:
        err = "IndexError"
        code = f"{xs} = [{nums}]\nfor i in range(len({xs}) + 1):\n    print({xs}[i])"
        expl = (f"The loop runs one step too far. range(len({xs}) + 1) produces indices up to len({xs}), "
                f"but the last valid index is len({xs}) - 1, so the final iteration raises an IndexError.")
        fix = f"for value in {xs}:\n    print(value)"
        tip = "Iterating directly over the list avoids index arithmetic altogether."
    elif kind == 1:
        err = "TypeError"
        var = xs.rstrip("s") + "_total"
        code = f"{var} = {k}\nprint(\"Total: \" + {var})"
        expl = (f"Python does not convert numbers to strings automatically, so adding the string \"Total: \" "
                f"to the integer {var} raises a TypeError.")
        fix = f"print(f\"Total: {{{var}}}\")"
        tip = "An f-string (or str()) makes the conversion explicit."
    elif kind == 2:
        err = "KeyError"
        k1, k2, k3 = r.sample(["alice", "bob", "carol", "dave", "erin", "frank"], 3)
        code = f"{xs} = {{\"{k1}\": {r.randint(1, 9)}, \"{k2}\": {r.randint(1, 9)}}}\nprint({xs}[\"{k3}\"])"
        expl = f"The dictionary has no key \"{k3}\", and indexing a dict with a missing key raises a KeyError."
        fix = f"print({xs}.get(\"{k3}\", 0))"
        tip = "dict.get returns a default instead of failing; use `in` first if a missing key is a real error."
    elif kind == 3:
        err = "NameError"
        var = "total_" + xs
        typo = "totl_" + xs
        code = f"{var} = sum([{nums}])\nprint({typo})"
        expl = f"There is a typo: the variable is defined as {var} but printed as {typo}, which Python has never seen."
        fix = f"print({var})"
        tip = "A linter or an editor with autocompletion catches this kind of typo before you run the code."
    elif kind == 4:
        err = "ZeroDivisionError"
        code = f"def average({xs}):\n    return sum({xs}) / len({xs})\n\nprint(average([]))"
        expl = "When the list is empty, len() is 0, so the function divides by zero."
        fix = f"def average({xs}):\n    if not {xs}:\n        return 0.0\n    return sum({xs}) / len({xs})"
        tip = "Decide explicitly what the average of nothing should be: 0, None, or an exception with a clear message."
    elif kind == 5:
        err = "an unexpectedly growing list"
        code = (f"def add_item(item, {xs}=[]):\n    {xs}.append(item)\n    return "
                f"{xs}\n\nprint(add_item({k}))\nprint(add_item({k + 1}))")
        expl = ("The default list is created once, when the function is defined, and then shared by every call. "
                f"The second call therefore prints [{k}, {k + 1}] instead of [{k + 1}].")
        fix = (f"def add_item(item, {xs}=None):\n    if {xs} is None:\n        {xs} = []\n    {xs}.append(item)\n    "
               f"return {xs}")
        tip = "Use None as the default for mutable arguments and create the object inside the function."
    elif kind == 6:
        err = "an infinite loop"
        code = f"i = 0\nwhile i < {k}:\n    print({xs}[i] if i < len({xs}) else i)"
        expl = "The loop never changes i, so the condition i < " + str(k) + " stays true forever."
        fix = f"i = 0\nwhile i < {k}:\n    print(i)\n    i += 1"
        tip = f"For a fixed number of steps, `for i in range({k}):` is clearer and cannot forget the increment."
    else:
        err = "AttributeError"
        code = f"{xs} = ({nums})\n{xs}.append({k})"
        expl = f"{xs} is a tuple, and tuples are immutable, so they have no append method."
        fix = f"{xs} = [{nums}]\n{xs}.append({k})"
        tip = "Use square brackets for a list if you need to add items later."
    instr = _pick(r, [
        f"Why does this Python code raise {err}?" if err[0].isupper() else f"Why does this Python code cause {err}?",
        "Can you find the bug in this Python snippet?",
        f"My script fails with {err}. What's wrong?" if err[0].isupper() else "My script misbehaves. What's wrong?",
        "Fix the following Python code and explain the problem.",
        "What is wrong with this code?",
    ])
    out = (f"{_pick(r, ['', 'Good catch to ask about.', 'This is a common mistake.'])} {expl}\n\n"
           f"Here is a corrected version:\n\n```python\n{fix}\n```\n\n{tip}").strip()
    return Sample(instr, code, out, None, key=f"debug:{kind}")


_SQL_TABLES = _DATA["sql_tables"]
_MONTHS = _DATA["months"]


def _coding_sql(r: Rng) -> Sample:
    """Write a SQL query for a described goal over an invented table."""
    tname = _pick(r, list(_SQL_TABLES))
    t = _SQL_TABLES[tname]
    kind = r.randrange(7)
    if kind == 5:
        goal = f"count how many distinct {t['group']} values appear in the {tname} table"
        q = f"SELECT COUNT(DISTINCT {t['group']}) AS distinct_{t['group']}\nFROM {tname};"
        expl = f"COUNT(DISTINCT ...) ignores repeated values and NULLs, so each {t['group']} is counted once."
    elif kind == 6:
        y = r.randint(2019, 2024)
        goal = f"show the monthly total {t['num_desc']} of {t['noun']} in {y}"
        q = (f"SELECT strftime('%Y-%m', {t['date']}) AS month, SUM({t['num']}) AS total\nFROM {tname}\n"
             f"WHERE {t['date']} >= '{y}-01-01' AND {t['date']} < '{y + 1}-01-01'\nGROUP BY month\nORDER BY month;")
        expl = ("strftime truncates each date to its year and month (this is SQLite syntax; use DATE_TRUNC('month', "
                "...) in PostgreSQL), "
                "and the half-open date range keeps the whole year without time-zone surprises.")
    elif kind == 0:
        goal = f"count the {t['noun']} per {t['group']}"
        q = f"SELECT {t['group']}, COUNT(*) AS n\nFROM {tname}\nGROUP BY {t['group']}\nORDER BY n DESC;"
        expl = (f"GROUP BY collapses the rows into one row per {t['group']}, COUNT(*) counts the rows in each group, "
                f"and the ORDER BY puts the biggest groups first.")
    elif kind == 1:
        n = r.randint(3, 25)
        goal = f"return the top {n} {t['noun']} by {t['num_desc']}"
        q = f"SELECT *\nFROM {tname}\nORDER BY {t['num']} DESC\nLIMIT {n};"
        expl = (f"Sorting by {t['num']} in descending order puts the largest values first, and LIMIT {n} keeps only "
                f"the first {n} rows.")
    elif kind == 2:
        v = r.choice([10, 20, 50, 100, 250, 500, 1000]) * r.randint(1, 5)
        goal = f"find all {t['noun']} with a {t['num_desc']} above {v}"
        q = f"SELECT {t['cols']}, {t['num']}\nFROM {tname}\nWHERE {t['num']} > {v};"
        expl = (f"The WHERE clause filters rows before they are returned, keeping only those whose {t['num']} is "
                f"greater than {v}.")
    elif kind == 3:
        goal = f"compute the average {t['num_desc']} for each {t['group']}"
        q = f"SELECT {t['group']}, ROUND(AVG({t['num']}), 2) AS avg_{t['num']}\nFROM {tname}\nGROUP BY {t['group']};"
        expl = (f"AVG() is an aggregate function, so it is computed once per {t['group']} group; ROUND keeps the "
                f"output readable.")
    else:
        y = r.randint(2019, 2024)
        m = r.randint(1, 12)
        goal = f"list the {t['noun']} that {t['date_desc']} since {_MONTHS[m - 1]} {y}"
        q = (f"SELECT {t['cols']}, {t['date']}\nFROM {tname}\nWHERE {t['date']} >= '{y}-{m:02d}-01'\nORDER BY "
             f"{t['date']};")
        expl = (f"Comparing the date column with an ISO date string works in most databases, and ordering by "
                f"{t['date']} shows the oldest rows first.")
    instr = _pick(r, [f"Write a SQL query to {goal}.", f"How can I {goal} in SQL?",
                      f"I have a table called {tname}. Write a query to {goal}.",
                      f"Give me a SQL statement that will {goal}."])
    inp = ""
    if r.random() < 0.3:
        inp = f"Table: {tname}({t['cols']}, {t['group']}, {t['num']}, {t['date']})"
    out = _para(_pick(r, ["Here's a query that does that:", "You can use:"]
                      + (["This should work in PostgreSQL, MySQL and SQLite:"] if kind != 6 else [])))
    out += f"\n\n```sql\n{q}\n```\n\n" + _para(expl, _maybe(r, 0.4, _pick(r, [
        f"If the {tname} table is large, an index on the filtered or grouped column will help.",
        "Run it with EXPLAIN first if you want to see how the database plans to execute it.",
        "Swap SELECT * for explicit column names in production code.",
    ])))
    return Sample(instr, inp, out, None, key=f"sql:{tname}|{kind}")


_COMPARISONS = _DATA["comparisons"]


def _coding_compare(r: Rng) -> Sample:
    """Compare two related programming ideas."""
    a, b, lang, d1, d2, rule = _pick(r, _COMPARISONS)
    if r.random() < 0.4:
        a2, b2 = b, a
    else:
        a2, b2 = a, b
    ctx = f" in {lang}" if lang else ""
    instr = _pick(r, [f"What is the difference between {a2} and {b2}{ctx}?",
                      f"When should I use {a2} instead of {b2}{ctx}?",
                      f"Compare {a2} and {b2}{ctx}.",
                      f"Can you explain {a2} vs {b2}{ctx} with a rule of thumb?",
                      f"I always mix up {a2} and {b2}{ctx}. How do they differ?"])
    out = _para(_pick(r, ["", "The short version:", "Great question."]), d1,
                d2 if r.random() < 0.8 else "", _pick(r, ["Rule of thumb:", "In practice:", ""]) + " " + rule)
    return Sample(instr, "", out, None, key=f"compare:{a}|{b}")


_BRANCHES = _DATA["branches"]
_FILES = _DATA["files"]
_GREP = _DATA["grep"]


def _coding_tools(r: Rng) -> Sample:
    """Command-line / git how-to questions."""
    br = _pick(r, _BRANCHES)
    fl = _pick(r, _FILES)
    wd = _pick(r, _GREP)
    tasks = [
        ("undo my last git commit but keep the changes", "git reset --soft HEAD~1",
         "The --soft flag moves the branch pointer back one commit while leaving your changes staged, so you can edit "
         "and commit again."),
        (f"create and switch to a new git branch called {br}", f"git switch -c {br}",
         f"switch -c creates {br} from your current commit and checks it out in one step; on older git versions use "
         f"git checkout -b {br}."),
        (f"rename my current git branch to {br}", f"git branch -m {br}",
         f"-m renames the branch you are on. If it was already pushed, push {br} and delete the old name on the "
         "remote."),
        ("see my git history as a compact graph", "git log --oneline --graph --all",
         "--oneline prints one commit per line, --graph draws the branch structure and --all includes every branch."),
        ("temporarily save my uncommitted changes in git", "git stash push -m \"work in progress\"",
         "Later, git stash pop brings the changes back; git stash list shows everything you have saved."),
        (f"discard my local changes to {fl}", f"git restore {fl}",
         f"This resets {fl} to the last committed version. The changes are gone for good, so stash them first if "
         f"unsure."),
        (f"delete the local branch {br}", f"git branch -d {br}",
         "-d refuses to delete a branch with unmerged work; use -D only if you really want to throw it away."),
        (f"see who last changed each line of {fl}", f"git blame {fl}",
         "Add -L 10,20 to limit the output to a range of lines."),
        ("create a Python virtual environment", "python -m venv .venv",
         "Activate it with source .venv/bin/activate on macOS and Linux or .venv\\Scripts\\activate on Windows."),
        (f"find every file in my project that contains {wd}", f"grep -rn \"{wd}\" .",
         "-r searches recursively and -n prints line numbers; add --include='*.py' to limit the file types."),
        ("list the ten largest files in a directory", "du -ah . | sort -rh | head -n 10",
         "du prints sizes in human-readable form, sort -rh orders them from largest to smallest and head keeps the "
         "first ten."),
        (f"count the lines in {fl}", f"wc -l {fl}",
         "wc -l counts newline characters, so a last line without a trailing newline is not counted."),
        ("see which process is using port 8080", "lsof -i :8080",
         "On Linux you can also use ss -ltnp; on Windows, netstat -ano | findstr 8080."),
    ]
    ti = r.randrange(len(tasks))
    task, cmd, expl = tasks[ti]
    instr = _pick(r, [f"How do I {task}?", f"What's the command to {task}?", f"Quick question: how can I {task}?",
                      f"I want to {task}. What should I run?"])
    out = f"{_pick(r, ['Run:', 'Use this command:', 'You can do it with:'])}\n\n```bash\n{cmd}\n```\n\n{expl}"
    return Sample(instr, "", out, None, key=f"tools:{ti}")
