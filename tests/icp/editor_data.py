"""Hand-written criteria that use every kind and flag, for the editor's round-trip tests."""

from __future__ import annotations

EVERY_KIND = [
    {
        "key": "industry",
        "kind": "category",
        "field": "industry",
        "values": ["software", "fintech"],
        "weight": 30,
    },
    {"key": "size", "kind": "range", "field": "employees", "min": 100, "max": 1000, "weight": 20},
    {
        "key": "stack",
        "label": "Modern data stack",
        "kind": "tech_stack",
        "field": "tech_stack",
        "values": ["python", "postgres", "redis"],
        "match": "at_least",
        "count": 2,
        "weight": 20,
    },
    {
        "key": "funding",
        "kind": "trigger",
        "field": "triggers",
        "trigger": "funding",
        "within_days": 180,
        "weight": 15,
    },
    {
        "key": "budget",
        "kind": "willingness_to_pay",
        "field": "budget",
        "min": 10000.5,
        "max": None,
        "weight": 15,
    },
    {
        "key": "outside_us",
        "kind": "category",
        "field": "country",
        "values": ["US"],
        "negate": True,
        "weight": 10,
    },
    {
        "key": "antarctica",
        "kind": "category",
        "field": "region",
        "values": ["Antarctica"],
        "knockout": True,
        "weight": 0,
    },
]
CUTOFFS = {"A": 70, "B": 45, "C": 20}
