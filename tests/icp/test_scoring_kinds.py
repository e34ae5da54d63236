"""Scoring of tech stack, buying trigger, willingness-to-pay, knock-out and negated criteria."""

from __future__ import annotations

import datetime

import pytest

from icp.scoring import (
    accounts_frame,
    criterion_label,
    explain,
    frame_trigger_names,
    score_frame,
    validate_criteria,
)
from tenancy.errors import DomainError

AS_OF = datetime.date(2026, 12, 4)
CUTOFFS = {"A": 75, "B": 50, "C": 25}


def score(account: dict, criteria: list[dict]) -> tuple[int, str]:
    criteria = validate_criteria(criteria)
    frame = accounts_frame([{"id": 1, **account}], trigger_names=frame_trigger_names(criteria))
    scored = score_frame(frame, criteria, CUTOFFS, as_of=AS_OF)
    return int(scored["score"].iloc[0]), str(scored["tier"].iloc[0])


def tech(match: str, count: int | None = None) -> dict:
    criterion = {
        "key": "stack",
        "kind": "tech_stack",
        "values": ["Salesforce", "HubSpot", "Snowflake"],
        "match": match,
        "weight": 10,
    }
    if count is not None:
        criterion["count"] = count
    return criterion


@pytest.mark.parametrize(
    ("stack", "criterion", "expected"),
    [
        (["salesforce"], tech("any"), 100),
        ([" SALESFORCE "], tech("any"), 100),
        (["Marketo"], tech("any"), 0),
        ([], tech("any"), 0),
        (["Salesforce", "HubSpot"], tech("all"), 0),
        (["Salesforce", "HubSpot", "Snowflake", "Slack"], tech("all"), 100),
        (["Salesforce", "HubSpot"], tech("at_least", 2), 100),
        (["Salesforce"], tech("at_least", 2), 0),
        # A technology that contains another's name does not count as it.
        (["Salesforce Marketing Cloud"], tech("any"), 0),
    ],
)
def test_tech_stack_matches(stack, criterion, expected):
    assert score({"tech_stack": stack}, [criterion]) == (expected, "A" if expected else "D")


@pytest.mark.parametrize(
    ("happened", "expected"),
    [
        ("2026-12-04", 100),
        ("2026-06-07", 100),  # exactly 180 days before the scoring date
        ("2026-06-06", 0),  # 181 days before
        ("2026-12-05", 0),  # after the scoring date
        (None, 0),
    ],
)
def test_trigger_recency(happened, expected):
    criterion = {"key": "funded", "kind": "trigger", "trigger": "Funding", "within_days": 180}
    criterion["weight"] = 5
    triggers = {"funding": happened} if happened else {}

    assert score({"triggers": triggers}, [criterion])[0] == expected


def test_trigger_names_match_case_and_spaces():
    criterion = {"key": "cto", "kind": "trigger", "trigger": "New CTO", "within_days": 30}
    criterion["weight"] = 5

    assert score({"triggers": {"new_cto": "2026-11-30"}}, [criterion])[0] == 100


@pytest.mark.parametrize(
    ("account", "field", "expected"),
    [
        ({"budget": 20000}, "budget", 100),
        ({"budget": 9999.99}, "budget", 0),
        ({"budget": None}, "budget", 0),
        ({"deal_size": 15000}, "deal_size", 100),
        ({"budget": 50000}, "deal_size", 0),
    ],
)
def test_willingness_to_pay(account, field, expected):
    criterion = {"key": "pay", "kind": "willingness_to_pay", "field": field, "min": 10000}
    criterion["weight"] = 5

    assert score(account, [criterion])[0] == expected


def test_knockout_wins_over_every_match():
    criteria = [
        {"key": "industry", "kind": "category", "field": "industry", "values": ["software"]},
        {"key": "gov", "kind": "category", "field": "country", "values": ["KP"], "knockout": True},
    ]
    criteria[0]["weight"] = 50

    assert score({"industry": "Software", "country": "KP"}, criteria) == (0, "D")
    assert score({"industry": "Software", "country": "US"}, criteria) == (100, "A")


def test_knockout_does_not_count_towards_total_weight():
    criteria = [
        {"key": "a", "kind": "category", "field": "industry", "values": ["x"], "weight": 1},
        {"key": "b", "kind": "category", "field": "region", "values": ["y"], "weight": 1},
        {"key": "ko", "kind": "range", "field": "employees", "max": 5, "knockout": True},
    ]

    assert score({"industry": "x", "employees": 50}, criteria) == (50, "B")


def test_negate_matches_other_values_but_never_missing():
    criterion = {"key": "abroad", "kind": "category", "field": "country", "values": ["US", "CA"]}
    criterion.update(negate=True, weight=10)

    assert score({"country": "DE"}, [criterion])[0] == 100
    assert score({"country": "us"}, [criterion])[0] == 0
    assert score({"country": ""}, [criterion])[0] == 0


def test_negated_knockout_requires_a_value():
    # "Knock out every account outside the US" still leaves unknown countries alone.
    criteria = [
        {"key": "size", "kind": "range", "field": "employees", "min": 10, "weight": 10},
        {"key": "us_only", "kind": "category", "field": "country", "values": ["US"]},
    ]
    criteria[1].update(knockout=True, negate=True)

    assert score({"employees": 20, "country": "FR"}, criteria) == (0, "D")
    assert score({"employees": 20, "country": "US"}, criteria) == (100, "A")
    assert score({"employees": 20, "country": None}, criteria) == (100, "A")


def test_explain_lists_knockouts_missing_data_and_points():
    knockout = {"key": "ko", "kind": "category", "field": "industry", "values": ["gambling"]}
    knockout["knockout"] = True
    criteria = validate_criteria(
        [
            {"key": "size", "kind": "range", "field": "employees", "min": 100, "weight": 30},
            {"key": "pay", "kind": "willingness_to_pay", "field": "budget", "min": 1, "weight": 10},
            knockout,
        ]
    )

    result = explain({"employees": 500, "industry": "Gambling"}, criteria, CUTOFFS, as_of=AS_OF)

    assert result["score"] == 0
    assert result["tier"] == "D"
    assert result["knocked_out_by"] == ["ko"]
    assert result["missing"] == ["Budget $1 or more"]
    assert result["total_weight"] == 40
    points = {row["key"]: row["points"] for row in result["breakdown"]}
    assert points == {"size": 30, "pay": 0, "ko": 0}


@pytest.mark.parametrize(
    ("criterion", "field", "fix_part"),
    [
        (tech("at_least", 4), "criteria.stack.count", "how many"),
        (tech("some"), "criteria.stack.match", "any, all, at_least"),
        (
            {"key": "t", "kind": "trigger", "trigger": "funding", "within_days": 0, "weight": 1},
            "criteria.t.within_days",
            "how recent",
        ),
        (
            {"key": "t", "kind": "trigger", "trigger": " ", "within_days": 30, "weight": 1},
            "criteria.t.trigger",
            "funding",
        ),
        (
            {"key": "p", "kind": "willingness_to_pay", "field": "employees", "min": 1, "weight": 1},
            "criteria.p.field",
            "budget, deal_size",
        ),
        (
            {
                "key": "k",
                "kind": "category",
                "field": "industry",
                "values": ["x"],
                "knockout": "yes",
            },
            "criteria.k.knockout",
            "true or false",
        ),
    ],
)
def test_validation_names_criterion_part_and_fix(criterion, field, fix_part):
    with pytest.raises(DomainError) as caught:
        validate_criteria([criterion])

    assert caught.value.field == field
    assert fix_part in caught.value.fix


def test_knockouts_alone_are_rejected():
    criteria = [
        {"key": "k", "kind": "category", "field": "industry", "values": ["x"], "knockout": True}
    ]

    with pytest.raises(DomainError, match="knock-out"):
        validate_criteria(criteria)


@pytest.mark.parametrize(
    ("criterion", "label"),
    [
        (tech("at_least", 2), "Uses at least 2 of Salesforce, HubSpot, Snowflake"),
        (tech("all"), "Uses all of Salesforce, HubSpot, Snowflake"),
        (
            {"kind": "trigger", "field": "triggers", "trigger": "new_cto", "within_days": 90},
            "New cto in the last 90 days",
        ),
        (
            {"kind": "willingness_to_pay", "field": "budget", "min": 50000, "max": None},
            "Budget $50K or more",
        ),
        (
            {
                "kind": "category",
                "field": "country",
                "values": ["US"],
                "negate": True,
                "knockout": True,
            },
            "Knock-out: Not country: US",
        ),
    ],
)
def test_labels_of_new_kinds(criterion, label):
    assert criterion_label(criterion) == label


@pytest.mark.parametrize("key", ["<script>", "a.b", "two words", "k" * 61])
def test_keys_must_be_short_codes(key):
    criterion = {"key": key, "kind": "category", "field": "industry", "values": ["x"], "weight": 1}

    with pytest.raises(DomainError) as caught:
        validate_criteria([criterion])

    assert caught.value.field == "criteria.1.key"
    assert "letters, digits" in caught.value.fix


def test_keys_differing_only_in_case_clash():
    criteria = [
        {"key": key, "kind": "category", "field": "industry", "values": ["x"], "weight": 1}
        for key in ("industry", "Industry")
    ]

    with pytest.raises(DomainError) as caught:
        validate_criteria(criteria)

    assert caught.value.field == "criteria.Industry.key"


def test_too_many_criteria_rejected():
    criteria = [
        {"key": f"c{n}", "kind": "category", "field": "industry", "values": ["x"], "weight": 1}
        for n in range(101)
    ]

    with pytest.raises(DomainError) as caught:
        validate_criteria(criteria)

    assert caught.value.field == "criteria"
    assert caught.value.value == 101


@pytest.mark.parametrize(("part", "message"), [("count", "is missing"), ("weight", "is missing")])
def test_missing_parts_say_missing(part, message):
    criterion = tech("at_least", 2)
    del criterion[part]

    with pytest.raises(DomainError) as caught:
        validate_criteria([criterion])

    assert caught.value.field == f"criteria.stack.{part}"
    assert message in caught.value.message
