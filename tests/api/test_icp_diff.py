"""GET /api/v1/icp/versions/<pk>/diff/: defaults, explicit versions, errors and isolation."""

from __future__ import annotations

import pytest

from icp.models import IcpVersion
from partners.services import reach_replace
from tests.factories import AccountFactory, PartnerFactory
from tests.icp.test_diff import (
    LEFT_CRITERIA,
    LEFT_CUTOFFS,
    RIGHT_CRITERIA,
    RIGHT_CUTOFFS,
    version_create,
)


def diff_url(pk: int) -> str:
    return f"/api/v1/icp/versions/{pk}/diff/"


@pytest.fixture
def versions(scoped):
    active = version_create(scoped, 1, LEFT_CRITERIA, LEFT_CUTOFFS, IcpVersion.Status.ACTIVE)
    draft = version_create(scoped, 2, RIGHT_CRITERIA, RIGHT_CUTOFFS)
    # Tier C to A (30 to 100 points), on a partner's reach list.
    AccountFactory(
        tenant=scoped, name="Climber", domain="climber.com", industry="fintech", country="US"
    )
    partner = PartnerFactory(tenant=scoped, name="Fintech Guild")
    reach_replace(partner=partner, entries=[("climber.com", "")], source="test")
    return active, draft


def test_diff_defaults_to_active(client, headers, versions):
    active, draft = versions

    response = client.get(diff_url(draft.pk), headers=headers)

    body = response.json()
    assert response.status_code == 200
    assert body["left"]["id"] == active.pk
    assert body["right"]["id"] == draft.pk
    assert body["same_rules"] is False
    assert body["total_weight"] == {"before": 100, "after": 100}
    statuses = {row["key"]: row["status"] for row in body["criteria"]}
    assert statuses == {
        "industry": "changed",
        "size": "removed",
        "sanctioned": "unchanged",
        "country": "added",
    }
    assert body["cutoffs"][0] == {"tier": "A", "before": 80, "after": 75, "changed": True}


def test_diff_accounts_and_partners(client, headers, versions):
    _, draft = versions

    body = client.get(diff_url(draft.pk), headers=headers).json()

    accounts = body["accounts"]
    assert accounts["accounts"] == 1
    assert accounts["matrix"][2] == {"tier": "C", "counts": {"A": 1, "B": 0, "C": 0, "D": 0},
                                     "total": 1}  # fmt: skip
    assert accounts["up"] == 1
    assert accounts["sample"][0]["name"] == "Climber"
    partner = body["partners"]["top"][0]
    assert partner["name"] == "Fintech Guild"
    # After: 60 × 1/1 + 40 × min(1, (1/1) / 0.25). Before, nothing is on-profile.
    assert (partner["score_before"], partner["score_after"], partner["change"]) == (0, 100, 100)
    assert partner["after"]["on_profile_share"] == "1.0000"
    assert partner["before"]["target_coverage"] == "0.0000"


def test_diff_against_explicit_version(client, headers, scoped, versions):
    _, draft = versions
    other_draft = version_create(scoped, 3, RIGHT_CRITERIA, RIGHT_CUTOFFS)

    response = client.get(diff_url(draft.pk), {"against": other_draft.pk}, headers=headers)

    body = response.json()
    assert response.status_code == 200
    assert body["left"]["id"] == other_draft.pk
    assert body["same_rules"] is True
    assert {row["status"] for row in body["criteria"]} == {"unchanged"}
    assert body["accounts"]["unchanged"] == 1
    assert body["partners"]["top"] == []


def test_diff_same_version(client, headers, versions):
    active, _ = versions

    body = client.get(diff_url(active.pk), headers=headers).json()

    assert body["left"]["id"] == active.pk
    assert body["right"]["id"] == active.pk
    assert body["accounts"]["sample"] == []


def test_diff_without_active_version(client, headers, scoped):
    draft = version_create(scoped, 1, RIGHT_CRITERIA, RIGHT_CUTOFFS)

    response = client.get(diff_url(draft.pk), headers=headers)

    body = response.json()
    assert response.status_code == 409
    assert body["code"] == "conflict"
    assert body["field"] == "against"
    assert "against" in body["fix"]


@pytest.mark.parametrize("value", ["abc", "1.5", "-3", "999999"])
def test_diff_bad_against_is_404(client, headers, versions, value):
    _, draft = versions

    response = client.get(diff_url(draft.pk), {"against": value}, headers=headers)

    body = response.json()
    assert response.status_code == 404
    assert body["code"] == "not_found"
    assert body["field"] == "against"
    assert body["value"] == value


def test_diff_against_other_tenant_is_404(client, headers, versions, other_tenant):
    _, draft = versions
    foreign = version_create(other_tenant, 1, LEFT_CRITERIA, LEFT_CUTOFFS)

    response = client.get(diff_url(draft.pk), {"against": foreign.pk}, headers=headers)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["field"] == "against"


def test_diff_other_tenants_version_is_404(client, headers, versions, other_tenant):
    active, _ = versions
    foreign = version_create(other_tenant, 1, LEFT_CRITERIA, LEFT_CUTOFFS)

    response = client.get(diff_url(foreign.pk), {"against": active.pk}, headers=headers)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_diff_by_session(analyst_client, versions):
    _, draft = versions

    response = analyst_client.get(diff_url(draft.pk))

    assert response.status_code == 200


def test_diff_needs_credentials(client, versions):
    _, draft = versions

    assert client.get(diff_url(draft.pk)).status_code == 401
