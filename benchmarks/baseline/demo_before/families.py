"""The registry of generator families per category, and the families whose answers can be shortened."""

from __future__ import annotations

from .coding import (
    _coding_compare,
    _coding_concept,
    _coding_debug,
    _coding_sql,
    _coding_task,
    _coding_tools,
)
from .common import Family, Rng, Sample, _pick
from .cooking import (
    _cooking_pantry,
    _cooking_recipe,
    _cooking_scale,
    _cooking_storage,
    _cooking_sub,
    _cooking_technique,
)
from .finance import _fin_budget, _fin_compound, _fin_concept, _fin_debt, _fin_goal, _fin_loan, _fin_tips
from .health import (
    _health_activity,
    _health_habit,
    _health_myth,
    _health_nutrient,
    _health_plan,
    _health_symptom,
    _health_water,
)
from .maths import (
    _math_change,
    _math_derivative,
    _math_fractions,
    _math_gcd,
    _math_geometry,
    _math_linear,
    _math_percent,
    _math_probability,
    _math_rate,
    _math_stats,
)
from .science import _science_diff, _science_explain, _science_fact
from .travel import (
    _travel_compare,
    _travel_itinerary,
    _travel_money,
    _travel_packing,
    _travel_phrases,
    _travel_season,
    _travel_tips,
)
from .writing import (
    _writing_blog,
    _writing_email,
    _writing_poem,
    _writing_rewrite,
    _writing_story,
    _writing_summary,
    _writing_titles,
)

_FAMILIES: dict[str, list[Family]] = {
    "coding": [_coding_concept, _coding_task, _coding_task, _coding_debug, _coding_sql, _coding_compare, _coding_tools],
    "math": [_math_change, _math_percent, _math_linear, _math_geometry, _math_stats, _math_fractions,
             _math_probability, _math_rate, _math_gcd, _math_derivative],
    "cooking": [_cooking_recipe, _cooking_sub, _cooking_technique, _cooking_storage, _cooking_pantry, _cooking_scale],
    "travel": [_travel_itinerary, _travel_season, _travel_packing, _travel_money, _travel_phrases, _travel_compare,
               _travel_tips],
    "health": [_health_habit, _health_symptom, _health_plan, _health_nutrient, _health_water, _health_activity,
               _health_myth],
    "finance": [_fin_budget, _fin_compound, _fin_goal, _fin_concept, _fin_debt, _fin_tips, _fin_loan],
    "writing": [_writing_poem, _writing_email, _writing_rewrite, _writing_titles, _writing_summary, _writing_story,
                _writing_blog],
    "science": [_science_explain, _science_explain, _science_diff, _science_fact],
}


def _sample(r: Rng, category: str) -> Sample:
    """Draw one (instruction, input, output, wrong) sample from ``category``."""
    return _pick(r, _FAMILIES[category])(r)


# Prose families where a one- or two-sentence answer is a defensible alternative to the full one.
_CONFLICT_FAMILIES: list[Family] = [_science_explain, _science_diff, _health_symptom, _health_nutrient, _cooking_sub,
                                    _cooking_storage, _travel_season, _coding_concept, _coding_compare, _fin_concept]
