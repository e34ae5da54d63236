"""Scoring of accounts against criteria: kinds, missing values, rounding, tiers, explain."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from icp.scoring import accounts_frame, criterion_label, explain, score_frame, tier_for

CUTOFFS = {"A": 75, "B": 50, "C": 25}
CRITERIA = [
    {
        "key": "industry",
        "label": "Industry: software, finance",
        "field": "industry",
        "kind": "category",
        "values": ["Software", "finance"],
        "weight": 40,
    },
    {
        "key": "size",
        "label": "Employees 100 to 1,000",
        "field": "employees",
        "kind": "range",
        "min": 100,
        "max": 1000,
        "weight": 35,
    },
    {
        "key": "revenue",
        "label": "Annual revenue $10M or more",
        "field": "annual_revenue",
        "kind": "range",
        "min": 10_000_000,
        "max": None,
        "weight": 25,
    },
]


def account(**fields) -> dict:
    row = {
        "id": 1,
        "industry": "software",
        "employees": 500,
        "annual_revenue": Decimal("50000000.00"),
        "country": "US",
        "region": "",
        "year_established": 2001,
        "tech_stack": [],
    }
    row.update(fields)
    return row


def test_accounts_frame_normalises_missing_values():
    frame = accounts_frame([account(industry="  ", employees=None, annual_revenue=None, region="")])

    assert frame["industry"].isna().all()
    assert frame["region"].isna().all()
    assert np.isnan(frame.loc[0, "employees"])
    assert np.isnan(frame.loc[0, "annual_revenue"])
    assert frame.loc[0, "year_established"] == 2001.0


def test_accounts_frame_converts_revenue_to_float():
    frame = accounts_frame([account(annual_revenue=Decimal("1100040000.00"))])

    assert frame["annual_revenue"].dtype == np.float64
    assert frame.loc[0, "annual_revenue"] == 1_100_040_000.0


@pytest.mark.parametrize(
    ("fields", "score", "tier"),
    [
        pytest.param({}, 100, "A", id="all-match"),
        pytest.param({"industry": " SOFTWARE "}, 100, "A", id="category-ignores-case-and-spaces"),
        pytest.param({"employees": 1000}, 65, "B", id="range-max-is-exclusive"),
        pytest.param({"employees": 100}, 100, "A", id="range-min-is-inclusive"),
        pytest.param({"employees": 99, "industry": "finance"}, 65, "B", id="below-min"),
        pytest.param({"industry": "retail", "annual_revenue": None}, 35, "C", id="missing-revenue"),
        pytest.param(
            {"industry": "", "employees": None, "annual_revenue": Decimal("9999999.99")},
            0,
            "D",
            id="nothing-matches",
        ),
        pytest.param({"annual_revenue": Decimal("10000000")}, 100, "A", id="open-max"),
    ],
)
def test_score_frame_kinds(fields, score, tier):
    scored = score_frame(accounts_frame([account(**fields)]), CRITERIA, CUTOFFS)

    assert scored.loc[0, "score"] == score
    assert scored.loc[0, "tier"] == tier


def test_score_frame_scores_many_rows_in_order():
    rows = [
        account(id=1),
        account(id=2, industry="retail"),
        account(id=3, employees=None),
        account(id=4, industry=None, employees=5, annual_revenue=None),
    ]

    scored = score_frame(accounts_frame(rows), CRITERIA, CUTOFFS)

    assert scored["score"].tolist() == [100, 60, 65, 0]
    assert scored["tier"].tolist() == ["A", "B", "B", "D"]


def test_score_frame_rounds_half_up():
    criteria = [
        {"key": "small", "field": "country", "kind": "category", "values": ["US"], "weight": 1},
        {"key": "large", "field": "country", "kind": "category", "values": ["DE"], "weight": 7},
    ]

    scored = score_frame(accounts_frame([account(country="us")]), criteria, CUTOFFS)

    # 1 of 8 points is 12.5, which rounds half up to 13 rather than to even 12.
    assert scored.loc[0, "score"] == 13


def test_score_frame_weights_need_not_sum_to_100():
    criteria = [
        {"key": "a", "field": "country", "kind": "category", "values": ["US"], "weight": 1},
        {"key": "b", "field": "industry", "kind": "category", "values": ["x"], "weight": 1},
        {"key": "c", "field": "region", "kind": "category", "values": ["CA"], "weight": 1},
    ]

    scored = score_frame(accounts_frame([account(region="ca")]), criteria, CUTOFFS)

    assert scored.loc[0, "score"] == 67


def test_score_frame_without_criteria_scores_zero():
    scored = score_frame(accounts_frame([account()]), [], CUTOFFS)

    assert scored.loc[0, "score"] == 0
    assert scored.loc[0, "tier"] == "D"


def test_score_frame_keeps_index():
    frame = accounts_frame([account(id=7), account(id=8, industry="retail")])
    frame.index = [10, 20]

    scored = score_frame(frame, CRITERIA, CUTOFFS)

    assert scored.index.tolist() == [10, 20]


@pytest.mark.parametrize(
    ("score", "tier"),
    [(100, "A"), (75, "A"), (74, "B"), (50, "B"), (49, "C"), (25, "C"), (24, "D"), (0, "D")],
)
def test_tier_for_boundaries(score, tier):
    assert tier_for(score, CUTOFFS) == tier


def test_explain_breakdown_marks_missing_values():
    result = explain(account(employees=None, industry="Finance"), CRITERIA, CUTOFFS)

    assert result["score"] == 65
    assert result["tier"] == "B"
    assert result["breakdown"] == [
        {
            "key": "industry",
            "label": "Industry: software, finance",
            "kind": "category",
            "field": "industry",
            "weight": 40,
            "knockout": False,
            "matched": True,
            "points": 40,
            "share": 0.4,
            "value": "Finance",
            "missing": False,
        },
        {
            "key": "size",
            "label": "Employees 100 to 1,000",
            "kind": "range",
            "field": "employees",
            "weight": 35,
            "knockout": False,
            "matched": False,
            "points": 0,
            "share": 0.35,
            "value": None,
            "missing": True,
        },
        {
            "key": "revenue",
            "label": "Annual revenue $10M or more",
            "kind": "range",
            "field": "annual_revenue",
            "weight": 25,
            "knockout": False,
            "matched": True,
            "points": 25,
            "share": 0.25,
            "value": 50_000_000.0,
            "missing": False,
        },
    ]


def test_explain_accepts_account_objects():
    from crm.models import Account

    model = Account(industry="retail", employees=150, annual_revenue=Decimal("5000000"))

    result = explain(model, CRITERIA, CUTOFFS)

    assert result["score"] == 35
    assert [row["matched"] for row in result["breakdown"]] == [False, True, False]
    assert result["breakdown"][1]["value"] == 150


@pytest.mark.parametrize(
    ("criterion", "label"),
    [
        (
            {"field": "employees", "kind": "range", "min": 1000, "max": 5000},
            "Employees 1,000 to 5,000",
        ),
        ({"field": "employees", "kind": "range", "min": None, "max": 50}, "Employees under 50"),
        (
            {"field": "annual_revenue", "kind": "range", "min": 1_200_000_000, "max": None},
            "Annual revenue $1.2B or more",
        ),
        (
            {"field": "year_established", "kind": "range", "min": None, "max": 1989},
            "Year established before 1989",
        ),
        ({"field": "country", "kind": "category", "values": ["US", "CA"]}, "Country: US, CA"),
    ],
)
def test_criterion_label(criterion, label):
    assert criterion_label(criterion) == label


def test_score_rounds_half_up_exactly():
    frame = pd.DataFrame({"industry": ["a", "b"], "employees": [10, 10]})
    criteria = [
        {"key": "x", "field": "industry", "kind": "category", "values": ["a"], "weight": 29},
        {
            "key": "y",
            "field": "employees",
            "kind": "range",
            "min": 1000,
            "max": None,
            "weight": 171,
        },
    ]

    scored = score_frame(frame, criteria, {"A": 80, "B": 40, "C": 15})

    # 29 of 200 points is 14.5, which rounds half up to 15 and reaches tier C.
    assert scored["score"].tolist() == [15, 0]
    assert scored["tier"].tolist() == ["C", "D"]
