"""Import of the account data ICP criteria test beyond firmographics: budget, triggers, churn."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from crm import parsing
from crm.importing import csv_import
from crm.models import Account, ImportRun

SIGNALS_CSV = b"""external_id,name,tech_stack,budget,triggers,churned_on
a1,Acme,Salesforce; HubSpot,25000.50,funding:2026-09-14; New CTO:2026-06-01,
a2,Globex,,,,2026-03-31
"""


def _import(tenant, content, strict=True):
    return csv_import(
        tenant=tenant, kind="accounts", content=content, filename="signals.csv", strict=strict
    )


def test_import_stores_budget_triggers_and_churn(scoped):
    run = _import(scoped, SIGNALS_CSV)

    assert run.status == ImportRun.Status.SUCCEEDED
    acme = Account.objects.get(external_id="a1")
    assert acme.tech_stack == ["HubSpot", "Salesforce"]
    assert acme.budget == Decimal("25000.50")
    assert acme.triggers == {"funding": "2026-09-14", "new_cto": "2026-06-01"}
    assert acme.churned_on is None
    globex = Account.objects.get(external_id="a2")
    assert globex.triggers == {}
    assert globex.churned_on == datetime.date(2026, 3, 31)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", {}),
        ("funding:2026-09-14", {"funding": "2026-09-14"}),
        (" Funding : 2026-09-14 ;", {"funding": "2026-09-14"}),
        ("funding:2026-01-01; funding:2026-05-01", {"funding": "2026-05-01"}),
        (
            "funding:2026-05-01, hiring spree:2026-02-02",
            {"funding": "2026-05-01", "hiring_spree": "2026-02-02"},
        ),
    ],
)
def test_parse_triggers(raw, expected):
    assert parsing.parse_triggers(raw) == expected


@pytest.mark.parametrize("raw", ["funding", ":2026-01-01", "funding:yesterday", "funding:"])
def test_parse_triggers_rejects(raw):
    with pytest.raises(ValueError, match="trigger|date"):
        parsing.parse_triggers(raw)


def test_import_names_bad_trigger_line_and_value(scoped):
    content = b"external_id,name,triggers\na1,Acme,funding:14/09/2026\n"

    run = _import(scoped, content)

    assert run.status == ImportRun.Status.FAILED
    assert Account.objects.count() == 0
    [error] = run.errors
    assert error["line"] == 2
    assert error["column"] == "triggers"
    assert error["value"] == "funding:14/09/2026"
    assert "YYYY-MM-DD" in error["message"]
