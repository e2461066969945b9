"""The Balance page's bias audit section (AppTest, a real embedded workspace): alerts with their cause, the slice
table, the one-click quota fix that the draft then uses; the Select page's quota over a slice column; the Map's
colouring by slice."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.app_support import app_page  # noqa: E402

from curation.core.ranking import Ranking  # noqa: E402

TIMEOUT = 180
RISK = "harmful_request(part=prompt)"


@pytest.fixture
def audit_ws(tiny_ws_copy):
    """The tiny demo (demo_sft 360 rows, demo_pref 60 pairs) with a ranking that puts every preference pair last,
    a 0/1 refusal score and a harmful-request risk score (threshold 0.5) that is high on the pairs."""
    ws = tiny_ws_copy
    ex = ws.examples(["row_id", "example_id", "dataset"])
    ids = ex["row_id"].to_numpy(np.int64)
    pref = (ex["dataset"] == "demo_pref").to_numpy()
    rng = np.random.default_rng(0)
    order = np.r_[rng.permutation(ids[~pref]), rng.permutation(ids[pref])]
    ws.put_ranking(Ranking(order=order, gains=np.zeros(len(order)), method="custom(name=pairs_last)"))
    ws.put_scores("refusal", ex["example_id"].tolist(), (rng.random(len(ids)) < 0.1).astype(float),
                  higher_is_better=False)
    risk = np.where(pref, rng.uniform(0.6, 1.0, len(ids)), rng.uniform(0.0, 0.4, len(ids)))
    ws.put_scores(RISK, ex["example_id"].tolist(), risk, name="harmful_request", higher_is_better=False,
                  params={"threshold": 0.5})
    return ws


def page(name: str, ws, **state) -> AppTest:
    return app_page(name, ws, timeout=TIMEOUT, **state)


def audit_table(at: AppTest):
    """The slices-by-severity table (the first dataframe with the audit's columns)."""
    return next(d.value for d in at.dataframe if {"slice", "category", "ref_share", "alert"} <= set(d.value.columns))


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_balance_audit_section_alerts_explains_and_fixes(audit_ws) -> None:
    at = page("balance", audit_ws, ranking_key="custom(name=pairs_last)", budget_unit="rows", budget_value=84.0)
    no_errors(at)
    assert any("Bias audit" in h.value for h in at.subheader)
    warns = [w.value.replace("\\", "") for w in at.warning]  # shown markdown-escaped
    hit = [w for w in warns if "dataset = demo_pref is under-represented" in w]
    assert hit and "Cause:" in hit[0] and "ranking" in hit[0], warns
    assert any(f"{RISK} = flagged" in w and "under-represented" in w for w in warns), warns
    labels = {m.label: m.value for m in at.metric}
    assert int(labels["Alerts"]) >= 2
    table = audit_table(at)
    assert {"slice", "category", "ref_share", "subset_share", "q", "alert"} <= set(table.columns)
    assert bool(table.iloc[0]["alert"])             # sorted by severity: alerts first
    # a proportional quota by dataset removes the dataset alert
    at.button(key="audit:fix:dataset").click().run()
    no_errors(at)
    assert at.session_state["quota_column"] == "dataset" and at.session_state["class_quota"] == "proportional"
    assert not any("dataset = demo_pref is under-represented" in w.value.replace("\\", "") for w in at.warning)
    # the one-click minimum-share fix on the risk slice: the draft keeps the pool's share of flagged rows
    at = page("balance", audit_ws, ranking_key="custom(name=pairs_last)", budget_unit="rows", budget_value=84.0)
    at.button(key=f"audit:keep:{RISK}").click().run()
    no_errors(at)
    assert at.session_state["quota_column"] == RISK
    assert at.session_state["class_quota"] == {"min_share": {"flagged": "pool"}}
    t = audit_table(at).set_index(["slice", "category"])
    row = t.loc[(RISK, "flagged (>= 0.5)")]
    assert not row["alert"] and row["subset_share"] >= row["ref_share"] - 1e-9


def test_select_page_quota_over_a_slice_column(audit_ws) -> None:
    at = page("select", audit_ws, ranking_key="custom(name=pairs_last)", budget_unit="rows", budget_value=84.0)
    no_errors(at)
    at.selectbox(key="select:quota_col_w").set_value("dataset").run()
    at.selectbox(key="select:quota_w").set_value("proportional").run()
    no_errors(at)
    assert at.session_state["quota_column"] == "dataset" and at.session_state["class_quota"] == "proportional"
    # the one-click "keep the pool's share of harmful-request prompts"
    at.button(key="select:keep_harm").click().run()
    no_errors(at)
    assert at.session_state["quota_column"] == RISK
    assert at.session_state["class_quota"] == {"min_share": {"flagged": "pool"}}


def test_map_colours_by_every_slice(audit_ws) -> None:
    from curation.workflows.analyze import analyze

    analyze(audit_ws, steps=("pca",))
    at = page("map", audit_ws)
    no_errors(at)
    opts = at.selectbox(key="map:colour").options
    assert f"slice: {RISK}" in opts and "slice: refusal" in opts
    at.selectbox(key="map:colour").set_value(f"slice: {RISK}").run()
    no_errors(at)


def test_balance_audit_of_two_saved_subsets(audit_ws) -> None:
    from curation.subsets.saved import save
    from curation.subsets.spec import SubsetSpec

    rk = "custom(name=pairs_last)"
    save(audit_ws, "skewed", SubsetSpec(ranking=rk, budget=84), who="tester")
    save(audit_ws, "fair", SubsetSpec(ranking=rk, budget=84, quota="proportional", label_column="dataset"),
         who="tester")
    at = page("balance", audit_ws, ranking_key=rk, budget_unit="rows", budget_value=84.0)
    at.selectbox(key="balance:subset").set_value("skewed@1").run()
    at.selectbox(key="balance:compare").set_value("fair@1").run()
    no_errors(at)
    warns = [w.value.replace("\\", "") for w in at.warning]
    assert any("dataset = demo_pref is under-represented" in w and "of the fair@1" in w and "quota" in w
               for w in warns), warns
    assert not any("Fix it in the loop" in c.value for c in at.caption)  # fixes apply to the draft against its pool


def test_a_fix_while_a_saved_version_is_shown_starts_a_draft_from_it(audit_ws) -> None:
    """The fix buttons act on the draft. With a saved version shown, the draft starts from that version's ranking and
    budget (whatever the Select page held), the version is left as it was, and the page then shows the fixed draft."""
    from curation.subsets.saved import load, save
    from curation.subsets.spec import SubsetSpec

    rk = "custom(name=pairs_last)"
    save(audit_ws, "skewed", SubsetSpec(ranking=rk, budget=84), who="tester")
    # the Select page's draft is something else entirely: another budget
    at = page("balance", audit_ws, ranking_key=rk, budget_unit="rows", budget_value=300.0)
    at.selectbox(key="balance:subset").set_value("skewed@1").run()
    no_errors(at)
    assert any("a draft from skewed@1" in c.value.replace("\\", "") for c in at.caption), [c.value for c in at.caption]
    at.button(key="audit:fix:dataset").click().run()
    no_errors(at)
    assert at.session_state["open_subset"] == "skewed@1"
    assert at.session_state["budget_unit"] == "rows" and at.session_state["budget_value"] == 84.0
    assert at.session_state["quota_column"] == "dataset" and at.session_state["class_quota"] == "proportional"
    from pages.saved import DRAFT_OPT

    assert at.selectbox(key="balance:subset").value == DRAFT_OPT           # the page shows the draft now
    assert not any("dataset = demo_pref is under-represented" in w.value.replace("\\", "") for w in at.warning)
    v = load(audit_ws, "skewed@1")
    assert v.spec.quota is None and v.spec.budget == 84                     # the saved version is unchanged
