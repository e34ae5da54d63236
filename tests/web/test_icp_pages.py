"""ICP pages: criteria, tiers and validation, and the warning for weak or no signal."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tenancy.scope import tenant_scope
from tests.web.data import icp_version_create

NO_SIGNAL_SUMMARY = (
    "Won vs lost shows no signal in these firmographics (ROC AUC 0.51 ± 0.04 over 5 folds). "
    "No criteria beat chance, so do not rank accounts by this version's scores."
)


@pytest.fixture
def no_signal_version(tenant):
    with tenant_scope(tenant):
        return icp_version_create(signal="none", summary=NO_SIGNAL_SUMMARY)


def test_detail_warns_when_signal_none(staff_client, no_signal_version):
    url = reverse("icp:version_detail", args=[no_signal_version.pk])

    content = staff_client.get(url).content.decode()

    assert "warning-strong" in content
    assert "No signal: this profile cannot be trusted for won vs lost deals." in content
    assert "No criteria beat chance" in content
    assert "ROC AUC 0.51 ± 0.04 over 5 folds" in content


def test_list_warns_when_active_signal_none(staff_client, no_signal_version):
    content = staff_client.get(reverse("icp:version_list")).content.decode()

    assert "cannot be trusted" in content
    assert "No criteria beat chance" in content


def test_dashboard_warns_when_active_signal_none(staff_client, no_signal_version):
    content = staff_client.get(reverse("reporting:dashboard")).content.decode()

    assert "The active ICP version has none signal." in content


def test_detail_warns_when_signal_weak(staff_client, tenant):
    with tenant_scope(tenant):
        version = icp_version_create(signal="weak", objective="won_value")

    content = staff_client.get(reverse("icp:version_detail", args=[version.pk])).content.decode()

    assert "Weak signal: this profile cannot be trusted for won value per account" in content


def test_detail_has_no_warning_when_signal_strong(staff_client, program):
    url = reverse("icp:version_detail", args=[program.version.pk])

    content = staff_client.get(url).content.decode()

    assert "cannot be trusted" not in content
    assert "warning-strong" not in content


def test_detail_shows_criteria_tiers_and_metrics(staff_client, program):
    response = staff_client.get(reverse("icp:version_detail", args=[program.version.pk]))
    content = response.content.decode()
    tiers = {row["tier"]: row for row in response.context["tiers"]}

    assert "Industry: software" in content
    assert "×1.40" in content
    assert "0.712" in content
    assert "60.0%" in content
    assert (tiers["A"]["lowest_score"], tiers["A"]["highest_score"]) == (80, 100)
    assert (tiers["B"]["lowest_score"], tiers["B"]["highest_score"]) == (40, 79)
    assert (tiers["D"]["lowest_score"], tiers["D"]["highest_score"]) == (0, 19)


def test_manual_version_without_metrics_renders(staff_client, tenant):
    with tenant_scope(tenant):
        version = icp_version_create(
            provenance="manual", signal="", metrics={}, criteria=[], tier_cutoffs={}
        )

    response = staff_client.get(reverse("icp:version_detail", args=[version.pk]))

    assert response.status_code == 200
    assert "No validation figures" in response.content.decode()


def test_list_shows_objective_label_not_code(staff_client, tenant):
    with tenant_scope(tenant):
        icp_version_create(objective="won_value")

    content = staff_client.get(reverse("icp:version_list")).content.decode()

    assert "<td>Won value per account</td>" in content
    assert "Strong signal for won value per account</span>" in content
    assert "won_value" not in content


def test_detail_heading_and_won_value_currency(staff_client, program):
    program.tenant.base_currency = "EUR"
    program.tenant.save(update_fields=["base_currency"])

    url = reverse("icp:version_detail", args=[program.version.pk])
    content = staff_client.get(url).content.decode()

    assert "<h1>v1 · Acme profile" in content
    assert "<dd>Won vs lost deals</dd>" in content
    assert '<th class="num">Won value (EUR)</th>' in content


def test_detail_shows_coverage_of_all_accounts(staff_client, tenant):
    coverage = {
        "accounts": 8,
        "tiers": {
            "A": {"accounts": 2, "share": 0.25},
            "B": {"accounts": 2, "share": 0.25},
            "C": {"accounts": 0, "share": 0.0},
            "D": {"accounts": 4, "share": 0.5},
        },
    }
    with tenant_scope(tenant):
        version = icp_version_create(
            name="Hand-written", provenance="manual", metrics={"coverage": coverage}
        )

    response = staff_client.get(reverse("icp:version_detail", args=[version.pk]))

    rows = {row["tier"]: row for row in response.context["tiers"]}
    assert rows["A"]["all_accounts"] == 2
    assert rows["D"]["all_share_percent"] == 50.0
    assert rows["A"]["accounts"] is None
    assert '4 <span class="cell-note">50.0%</span>' in response.content.decode()
