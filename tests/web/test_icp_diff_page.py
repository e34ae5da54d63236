"""The ICP version diff page: defaults, the form, the tables, links and bad ids."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from icp.models import IcpVersion
from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, PartnerFactory
from tests.icp.test_diff import (
    LEFT_CRITERIA,
    LEFT_CUTOFFS,
    RIGHT_CRITERIA,
    RIGHT_CUTOFFS,
    version_create,
)

URL = reverse("icp:versions_diff")


@pytest.fixture
def versions(tenant):
    active = version_create(tenant, 1, LEFT_CRITERIA, LEFT_CUTOFFS, IcpVersion.Status.ACTIVE)
    draft = version_create(tenant, 2, RIGHT_CRITERIA, RIGHT_CUTOFFS)
    with tenant_scope(tenant):
        # Tier A to B (100 to 50 points), and tier C to A (30 to 100 points).
        AccountFactory(name="Stays software", industry="software", employees=300, country="DE")
        AccountFactory(name="Fintech climber", industry="fintech", employees=500, country="US")
    return active, draft


def selected(content: str, name: str) -> str:
    select = re.search(rf'<select id="diff-{name}" name="{name}">(.*?)</select>', content, re.S)
    return re.search(r'<option value="(\d+)" selected>', select.group(1)).group(1)


def test_page_defaults_to_active_and_newest(staff_client, versions):
    active, draft = versions

    response = staff_client.get(URL)

    content = response.content.decode()
    assert response.status_code == 200
    assert selected(content, "left") == str(active.pk)
    assert selected(content, "right") == str(draft.pk)


def test_page_right_from_detail_link(staff_client, tenant, versions):
    active, _ = versions
    third = version_create(tenant, 3, RIGHT_CRITERIA, LEFT_CUTOFFS)

    content = staff_client.get(URL, {"right": third.pk}).content.decode()

    assert selected(content, "left") == str(active.pk)
    assert selected(content, "right") == str(third.pk)


def test_page_shows_criteria_changes(staff_client, versions):
    content = staff_client.get(URL).content.decode()

    assert '<span class="diff-mark diff-mark-added">Added</span>' in content
    assert '<span class="diff-mark diff-mark-removed">Removed</span>' in content
    assert '<span class="diff-mark diff-mark-changed">Changed</span>' in content
    assert '<span class="diff-mark diff-mark-unchanged">Unchanged</span>' in content
    assert "Weight: 70 → 50" in content
    assert "Values: added fintech" in content
    assert "Not in v2" in content


def test_page_shows_movement_matrix(staff_client, versions):
    content = staff_client.get(URL).content.decode()

    assert "Before: tier under v1" in content
    assert "After: tier under v2" in content
    assert "2 accounts scored under both versions: 1 move up a tier or more, 1 move down" in content
    rows = re.findall(r"<tr>\s*<th scope=\"row\">.*?</tr>", content, re.S)
    cells = [re.findall(r'<td class="num[^"]*">(?:<strong>)?(\d+)', row) for row in rows]
    # Rows A to D, then the totals row: four tiers after, then the row total.
    assert cells[0] == ["0", "1", "0", "0", "1"]
    assert cells[1] == ["0", "0", "0", "0", "0"]
    assert cells[2] == ["1", "0", "0", "0", "1"]
    assert cells[3] == ["0", "0", "0", "0", "0"]
    assert cells[4] == ["1", "1", "0", "0", "2"]
    assert '<strong>0</strong><span class="visually-hidden"> keep tier A</span>' in content
    assert "Fintech climber" in content


def test_page_identical_versions(staff_client, versions):
    active, _ = versions

    content = staff_client.get(URL, {"left": active.pk, "right": active.pk}).content.decode()

    assert "Both sides have the same criteria and cut-offs" in content
    assert "No account changes score or tier between these versions." in content
    assert "diff-mark-changed" not in content


def test_page_without_active_version(staff_client, tenant):
    version_create(tenant, 1, LEFT_CRITERIA, LEFT_CUTOFFS)

    content = staff_client.get(URL).content.decode()

    assert "No version is active" in content
    assert "diff-matrix" not in content


def test_page_with_one_version(staff_client, tenant):
    version_create(tenant, 1, LEFT_CRITERIA, LEFT_CUTOFFS, IcpVersion.Status.ACTIVE)

    content = staff_client.get(URL).content.decode()

    assert "This tenant has only one ICP version." in content


def test_page_without_versions(staff_client):
    content = staff_client.get(URL).content.decode()

    assert "No ICP versions yet." in content
    assert "<select" not in content


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "999999"])
def test_page_bad_id_is_404(staff_client, versions, value):
    assert staff_client.get(URL, {"left": value}).status_code == 404
    assert staff_client.get(URL, {"right": value}).status_code == 404


def test_page_other_tenants_version_is_404(staff_client, versions, other_tenant):
    active, _ = versions
    foreign = version_create(other_tenant, 1, LEFT_CRITERIA, LEFT_CUTOFFS)

    left = staff_client.get(URL, {"left": foreign.pk, "right": active.pk})
    right = staff_client.get(URL, {"left": active.pk, "right": foreign.pk})

    assert left.status_code == 404
    assert right.status_code == 404


def test_page_staff_only(login_as, tenant, versions):
    with tenant_scope(tenant):
        partner = login_as(Membership.Role.PARTNER, partner=PartnerFactory())

    response = partner.get(URL)

    assert response.status_code == 302
    assert response.url == reverse("partners:portal")


def test_page_open_to_analysts(analyst_client, versions):
    assert analyst_client.get(URL).status_code == 200


def test_detail_and_list_link_to_diff(staff_client, versions):
    active, draft = versions

    draft_page = staff_client.get(reverse("icp:version_detail", args=[draft.pk])).content.decode()
    active_page = staff_client.get(reverse("icp:version_detail", args=[active.pk]))
    list_page = staff_client.get(reverse("icp:version_list")).content.decode()

    assert f'href="{URL}?right={draft.pk}">Compare with the active version' in draft_page
    assert f'href="{URL}?left={active.pk}">Compare with another version' in (
        active_page.content.decode()
    )
    assert f'href="{URL}">Compare versions' in list_page
