"""Staff see which level a partner has and preview its portal exactly as it sees it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tenancy.models import Membership
from tests.factories import MembershipFactory, UserFactory
from tests.portal.test_overlap_levels import assert_nothing_forbidden, csv_rows, section


@pytest.fixture
def analyst_client(client, world):
    user = UserFactory(username="analyst-acme")
    MembershipFactory(tenant=world.tenant, user=user, role=Membership.Role.ANALYST)
    client.force_login(user)
    return client


def preview_url(partner) -> str:
    return reverse("partners:partner_portal_preview", args=[partner.pk])


def preview_csv_url(partner) -> str:
    return reverse("partners:partner_portal_preview_csv", args=[partner.pk])


def test_preview_equals_partner_view(analyst_client, northwind_client, world, level):
    own = northwind_client.get(reverse("partners:portal"), {"reach_page": 1}).content.decode()
    preview_response = analyst_client.get(preview_url(world.northwind), {"reach_page": 1})
    preview = preview_response.content.decode()

    assert preview_response.status_code == 200
    assert section(preview, "overlap") == section(own, "overlap")
    own_brief = section(own, "brief").replace(
        reverse("partners:portal_brief_csv"), preview_csv_url(world.northwind)
    )
    assert section(preview, "brief") == own_brief
    assert_nothing_forbidden(section(preview, "overlap") + section(preview, "brief"))


def test_preview_csv_equals_partner_csv(analyst_client, northwind_client, world, level):
    own = northwind_client.get(reverse("partners:portal_brief_csv"))
    preview = analyst_client.get(preview_csv_url(world.northwind))

    assert preview.status_code == own.status_code
    if level == "counts":
        assert preview.status_code == 403
    else:
        assert csv_rows(preview) == csv_rows(own)


def test_preview_names_level_and_source(analyst_client, world):
    content = analyst_client.get(preview_url(world.northwind)).content.decode()

    assert "Portal preview: Northwind Partners" in content
    assert "at the level “Overlapping account names” (the program default)" in content


def test_partner_page_shows_tenant_default(analyst_client, world):
    url = reverse("partners:partner_detail", args=[world.northwind.pk])

    page = section(analyst_client.get(url).content.decode(), "partner-view")

    assert "<h2>What this partner sees</h2>" in page
    assert "<strong>Overlapping account names</strong>" in page
    assert "the program default on the Settings page" in page
    assert preview_url(world.northwind) in page


def test_partner_page_shows_own_setting(analyst_client, world):
    world.northwind.mapping_visibility = "counts"
    world.northwind.save(update_fields=["mapping_visibility"])
    url = reverse("partners:partner_detail", args=[world.northwind.pk])

    page = section(analyst_client.get(url).content.decode(), "partner-view")

    assert "<strong>Counts only</strong>" in page
    assert "this partner's own setting" in page


def test_partner_user_cannot_preview(northwind_client, world):
    response = northwind_client.get(preview_url(world.northwind))

    assert response.status_code == 302
    assert response["Location"] == reverse("partners:portal")


def test_preview_of_unknown_partner_is_404(analyst_client, world):
    response = analyst_client.get(reverse("partners:partner_portal_preview", args=[999999]))

    assert response.status_code == 404
