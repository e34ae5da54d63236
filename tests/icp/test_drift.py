"""Drift report and the draft drawn from it, on constructed wins before and since activation."""

from __future__ import annotations

import datetime

import pandas as pd
import pytest

from icp.drift import (
    EMPLOYEE_EDGES,
    MIN_WINS,
    band_codes,
    band_label,
    churn_by_tier,
    icp_drift_report,
    tier_mix,
)
from icp.drift_draft import apply_findings, icp_draft_from_drift, weights_to_100
from icp.models import IcpVersion
from tenancy.errors import Conflict
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tests.icp.drift_data import ACTIVATED_ON, METRICS, accounts_with_wins, drifting_tenant


@pytest.fixture
def drift(tenant):
    return drifting_tenant(tenant)


def _report(drift):
    return icp_drift_report(tenant=drift.tenant, version=drift.version)


def test_band_labels_are_readable():
    assert band_label(None, 10, "employees") == "under 10"
    assert band_label(200, 1000, "employees") == "200 to 1,000"
    assert band_label(1e9, None, "annual_revenue") == "$1B or more"


def test_band_codes_use_lower_edge_inclusive():
    values = pd.Series([5, 10, 199, 200, None, 10_000])

    codes = band_codes(values, EMPLOYEE_EDGES)

    assert codes.tolist()[:4] == [0, 1, 2, 3]
    assert pd.isna(codes.iloc[4])
    assert codes.iloc[5] == len(EMPLOYEE_EDGES)


def test_tier_mix_without_learned_baseline():
    now = pd.DataFrame({"tier": ["A", "D"], "frozen_tier": ["A", ""]})

    mix = tier_mix(now, {})

    assert mix["has_baseline"] is False
    assert all(row["expected_share"] is None for row in mix["rows"])
    assert mix["frozen_unscored"] == 1


def test_report_counts_wins_before_and_since(drift):
    report = _report(drift)

    assert report["since"] == ACTIVATED_ON
    assert report["since_basis"] == "activation"
    assert report["wins_since"] == 25
    assert report["wins_before"] == 30
    assert report["enough_wins"] is True


def test_report_tier_mix_against_learned_baseline(drift):
    rows = {row["tier"]: row for row in _report(drift)["tier_mix"]["rows"]}

    assert rows["A"]["wins"] == 10
    assert rows["D"]["wins"] == 15
    assert rows["A"]["share"] == 0.4
    assert rows["A"]["expected_share"] == 0.6
    assert rows["A"]["change_points"] == -20.0
    assert rows["D"]["change_points"] == 50.0
    assert rows["A"]["frozen_wins"] == 10
    assert rows["C"]["frozen_wins"] == 15


def test_segment_winning_outside_profile_found(drift):
    outside = _report(drift)["outside"]
    by_label = {(row["dimension"], row["label"]): row for row in outside}

    healthcare = by_label[("industry", "Healthcare")]
    assert healthcare["wins"] == 15
    assert healthcare["off_profile_wins"] == 15
    assert healthcare["wins_before"] == 0
    assert healthcare["rewarded_by"] == []
    assert ("country", "DE") in by_label
    assert ("employee_band", "50 to 200") in by_label
    assert ("country", "US") not in by_label
    assert healthcare["growing"] is True
    # Every win before and since falls in this band, so it is no new drift.
    assert by_label[("revenue_band", "$50M to $250M")]["growing"] is False
    order = [(not row["growing"], -row["wins"]) for row in outside]
    assert order == sorted(order)


def test_rewarded_value_that_stopped_winning_found(drift):
    stopped = {row["label"]: row for row in _report(drift)["stopped"]}

    fintech = stopped["Industry: fintech"]
    assert fintech["criterion_key"] == "industry"
    assert fintech["wins_before"] == 10
    assert fintech["expected_wins"] == pytest.approx(8.3, abs=0.05)
    assert fintech["actual_wins"] == 0
    assert "Industry: software" not in stopped


def test_churn_per_tier_numbers(drift):
    churned_since = ACTIVATED_ON + datetime.timedelta(days=60)
    churned_before = ACTIVATED_ON - datetime.timedelta(days=10)
    with tenant_scope(drift.tenant):
        for account in drift.fintech_before[:4] + drift.healthcare_since[:3]:
            account.churned_on = churned_since
            account.save(update_fields=["churned_on"])
        for account in drift.software_before[:2]:
            account.churned_on = churned_before
            account.save(update_fields=["churned_on"])

    churn = {row["tier"]: row for row in _report(drift)["churn"]}

    assert (churn["A"]["customers"], churn["A"]["churned"]) == (38, 4)
    assert churn["A"]["rate"] == round(4 / 38, 4)
    assert (churn["D"]["customers"], churn["D"]["churned"]) == (15, 3)
    assert churn["D"]["rate"] == 0.2
    assert churn["B"]["customers"] == 0
    assert churn["B"]["rate"] is None
    assert (churn["all"]["customers"], churn["all"]["churned"]) == (53, 7)


def test_churn_ignores_churn_after_today():
    customers = pd.DataFrame(
        {"tier": ["A", "A"], "churned_on": [datetime.date(2024, 3, 1), datetime.date(2030, 1, 1)]}
    )

    rows = churn_by_tier(customers, datetime.date(2024, 1, 1), datetime.date(2025, 1, 1))

    assert rows[0] == {"tier": "A", "customers": 2, "churned": 1, "rate": 0.5}


def test_too_few_wins_reported(tenant):
    drift = drifting_tenant(tenant, since_wins=False)
    with tenant_scope(tenant):
        accounts_with_wins(
            tenant, 5, ACTIVATED_ON + datetime.timedelta(days=3), industry="retail", employees=20
        )

    report = _report(drift)

    assert report["enough_wins"] is False
    assert report["message"].startswith(f"Only 5 won deals closed since {ACTIVATED_ON}")
    assert f"fewer than the {MIN_WINS}" in report["message"]
    assert report["outside"] == []
    assert report["stopped"] == []
    assert report["has_findings"] is False


def test_report_ignores_other_tenants_wins(drift, other_tenant):
    with tenant_scope(other_tenant):
        accounts_with_wins(
            other_tenant, 30, ACTIVATED_ON + datetime.timedelta(days=5), industry="mining"
        )

    report = _report(drift)

    assert report["wins_since"] == 25
    assert all(row["label"] != "mining" for row in report["outside"])


def test_draft_from_findings(drift, admin_user):
    draft, created = icp_draft_from_drift(tenant=drift.tenant, actor=admin_user)

    assert created is True
    assert draft.status == IcpVersion.Status.DRAFT
    assert draft.provenance == IcpVersion.Provenance.DRIFT
    assert draft.based_on_id == drift.version.pk
    assert draft.created_by == admin_user
    criteria = {criterion["key"]: criterion for criterion in draft.criteria}
    assert criteria["industry"]["values"] == ["software", "Healthcare"]
    assert criteria["industry"]["label"] == "Industry: software, Healthcare"
    assert criteria["drift_country"]["values"] == ["DE"]
    # industry 60 and two new criteria of 15 each, scaled from 90 to 100 points.
    assert criteria["industry"]["weight"] == 67
    assert sum(criterion["weight"] for criterion in draft.criteria) == 100
    assert {criteria[key]["weight"] for key in criteria if key != "industry"} == {16, 17}
    assert "drift_revenue" not in criteria
    assert "Kept out annual revenue $50M to $250M" in draft.summary
    assert "Removed 'fintech' from criterion 'industry'" in draft.summary
    assert "Added 'Healthcare' to criterion 'industry'" in draft.summary
    assert draft.metrics["drift"]["wins_since"] == 25
    with tenant_scope(drift.tenant):
        drift.version.refresh_from_db()
        event = AuditEvent.objects.get(event="icp_version.drafted_from_drift")
    assert drift.version.status == IcpVersion.Status.ACTIVE
    assert event.object_id == str(draft.pk)
    assert event.after["changes"]


def test_draft_repeat_within_minute_returns_same(drift, admin_user):
    first, _ = icp_draft_from_drift(tenant=drift.tenant, actor=admin_user)
    second, created = icp_draft_from_drift(tenant=drift.tenant, actor=admin_user)

    assert created is False
    assert second.pk == first.pk
    with tenant_scope(drift.tenant):
        assert IcpVersion.objects.filter(provenance="drift").count() == 1


def test_draft_rejected_with_too_few_wins(tenant):
    drifting_tenant(tenant, since_wins=False)

    with pytest.raises(Conflict) as caught:
        icp_draft_from_drift(tenant=tenant)

    assert caught.value.field == "wins_since"
    assert caught.value.value == 0
    with tenant_scope(tenant):
        assert IcpVersion.objects.count() == 1


def test_draft_rejected_without_active_version(tenant):
    with pytest.raises(Conflict) as caught:
        icp_draft_from_drift(tenant=tenant)

    assert "No ICP version is active" in caught.value.message


def test_apply_findings_adds_category_criterion_and_widens_range():
    criteria = [
        {
            "key": "size",
            "kind": "range",
            "field": "employees",
            "min": 200,
            "max": 1000,
            "weight": 100,
        }
    ]
    outside = [
        {
            "dimension_label": "Country",
            "field": "country",
            "label": "DE",
            "value": "DE",
            "min": None,
            "max": None,
            "wins": 12,
            "off_profile_share": 0.75,
            "growing": True,
            "rewarded_by": [],
        },
        {
            "dimension_label": "Employees",
            "field": "employees",
            "label": "1,000 to 5,000",
            "value": None,
            "min": 1000.0,
            "max": 5000.0,
            "wins": 9,
            "off_profile_share": 1.0,
            "growing": True,
            "rewarded_by": [],
        },
    ]

    result, changes = apply_findings(criteria, outside, [])

    by_key = {criterion["key"]: criterion for criterion in result}
    assert by_key["drift_country"] == {
        "key": "drift_country",
        "kind": "category",
        "field": "country",
        "values": ["DE"],
        "weight": 13,
        "label": "Country: DE",
    }
    assert by_key["size"]["weight"] == 87
    assert (by_key["size"]["min"], by_key["size"]["max"]) == (200, 5000.0)
    assert changes[1].startswith("Widened criterion 'size'")
    assert criteria[0]["max"] == 1000


def test_apply_findings_removes_value_from_negated_list():
    criteria = [
        {"key": "industry", "kind": "category", "field": "industry", "values": ["x"], "weight": 50},
        {
            "key": "not_eu",
            "kind": "category",
            "field": "country",
            "values": ["DE", "FR"],
            "negate": True,
            "weight": 50,
        },
    ]
    outside = [
        {
            "dimension_label": "Country",
            "field": "country",
            "label": "DE",
            "value": "de",
            "min": None,
            "max": None,
            "wins": 7,
            "off_profile_share": 0.9,
            "growing": True,
            "rewarded_by": [],
        }
    ]

    result, changes = apply_findings(criteria, outside, [])

    assert result[1]["values"] == ["FR"]
    assert "excluded values of 'not_eu'" in changes[0]


def test_apply_findings_replaces_last_value_without_dropping():
    criteria = [{"key": "industry", "kind": "category", "field": "industry", "values": ["a"]}]
    criteria[0]["weight"] = 100
    stopped = [
        {"criterion_key": "industry", "value": "a", "label": "Industry: a"}
        | {"expected_wins": 5.0, "actual_wins": 0}
    ]
    outside = [
        {
            "dimension_label": "Industry",
            "field": "industry",
            "label": "b",
            "value": "b",
            "min": None,
            "max": None,
            "wins": 9,
            "off_profile_share": 1.0,
            "growing": True,
            "rewarded_by": [],
        }
    ]

    result, changes = apply_findings(criteria, outside, stopped)

    assert result[0]["values"] == ["b"]
    assert changes[0] == (
        "Removed 'a' from criterion 'industry': expected 5 wins since activation, got 0."
    )
    assert not any(change.startswith("Dropped") for change in changes)


def test_apply_findings_drops_emptied_criterion():
    criteria = [
        {"key": "industry", "kind": "category", "field": "industry", "values": ["a"]},
        {"key": "size", "kind": "range", "field": "employees", "min": 10, "max": None},
    ]
    criteria[0]["weight"] = 50
    criteria[1]["weight"] = 50
    stopped = [
        {"criterion_key": "industry", "value": "a", "label": "Industry: a"}
        | {"expected_wins": 5.0, "actual_wins": 0}
    ]

    result, changes = apply_findings(criteria, [], stopped)

    assert [criterion["key"] for criterion in result] == ["size"]
    assert changes[-1] == "Dropped criterion 'industry': none of its values is left."


def test_apply_findings_skips_long_standing_segment():
    criteria = [{"key": "industry", "kind": "category", "field": "industry", "values": ["x"]}]
    criteria[0]["weight"] = 100
    outside = [
        {
            "dimension_label": "Country",
            "field": "country",
            "label": "DE",
            "value": "DE",
            "min": None,
            "max": None,
            "wins": 30,
            "off_profile_share": 1.0,
            "growing": False,
            "rewarded_by": [],
        }
    ]

    result, changes = apply_findings(criteria, outside, [])

    assert [criterion["key"] for criterion in result] == ["industry"]
    assert changes == [
        "Kept out country DE: it won as often outside the profile before activation, "
        "so it is not new drift."
    ]


def test_weights_scaled_to_100_keep_knockouts():
    criteria = [
        {"key": "a", "weight": 60},
        {"key": "b", "weight": 15},
        {"key": "c", "weight": 15},
        {"key": "d", "weight": 15},
        {"key": "ko", "weight": 0, "knockout": True},
    ]

    weights = [criterion["weight"] for criterion in weights_to_100(criteria)]

    assert weights == [57, 15, 14, 14, 0]


def test_expected_baseline_matches_metrics():
    total = sum(tier["won_deals"] for tier in METRICS["tiers"].values())
    now = pd.DataFrame({"tier": ["A"], "frozen_tier": ["A"]})

    rows = {row["tier"]: row for row in tier_mix(now, METRICS)["rows"]}

    assert rows["B"]["expected_share"] == round(6 / total, 4)
