"""The portal fragment that htmx polls: the partner's results, commissions and statements."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse

from commissions.models import Payout
from partners import views as partner_views
from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.factories import DealFactory, MembershipFactory, PartnerFactory, UserFactory
from tests.web.data import ledger_entry_create, program_create

HTMX = {"HX-Request": "true"}
LIVE_URL = "/partners/portal/live/"
PORTAL_URL = "/partners/portal/"


@pytest.fixture
def acme(tenant):
    return program_create(tenant, label="Acme")


@pytest.fixture
def globex(other_tenant):
    return program_create(other_tenant, label="Globex")


@pytest.fixture
def second(tenant, acme):
    """A second partner of Acme's tenant with its own entry, statement and user."""
    with tenant_scope(tenant):
        partner = PartnerFactory(name="Second Agency")
        deal = DealFactory(external_id="second-deal", account=acme.account, partner=partner)
        ledger_entry_create(partner=partner, deal=deal, amount=Decimal("777.00"))
        Payout.objects.create(
            partner=partner,
            period_start=datetime.date(2018, 3, 1),
            period_end=datetime.date(2018, 3, 31),
            currency="USD",
            total=Decimal("777.00"),
            entry_count=1,
            min_payout_amount=Decimal("50.00"),
        )
    user = UserFactory(username="second-portal@example.com")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER, partner=partner)
    return partner


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _live(client, query: str = "", **headers):
    return client.get(f"{LIVE_URL}{query}", headers={**HTMX, **headers})


def test_live_url():
    assert reverse("partners:portal_live") == LIVE_URL


def test_fragment_shows_own_numbers(acme, second, globex):
    response = _live(_client_for(acme.portal_membership.user))

    content = response.content.decode()
    assert response.status_code == 200
    assert [template.name for template in response.templates][0] == "partners/_portal_live.html"
    assert content.lstrip().startswith('<div id="portal-live"')
    assert "<html" not in content
    assert "Acme-deal-partner" in content
    assert "1,875.00" in content
    assert "June 2017" in content
    assert reverse("partners:portal_statement", args=[acme.payout.pk]) in content
    assert "second-deal" not in content
    assert "777.00" not in content
    assert "March 2018" not in content
    assert "Globex" not in content


def test_fragment_of_second_partner(acme, second, globex):
    second_user = Membership.objects.get(partner=second).user

    content = _live(_client_for(second_user)).content.decode()

    assert "second-deal" in content
    assert "777.00" in content
    assert "March 2018" in content
    assert "Acme-deal-partner" not in content
    assert "1,875.00" not in content
    assert "June 2017" not in content
    assert "Globex" not in content


def test_other_tenant_partner_sees_own(acme, globex):
    content = _live(_client_for(globex.portal_membership.user)).content.decode()

    assert "Globex-deal-partner" in content
    assert "Acme" not in content


def test_fragment_polls_itself(acme):
    content = _live(_client_for(acme.portal_membership.user), "?page=1").content.decode()

    assert f'hx-get="{LIVE_URL}?page=1"' in content
    assert "hx-trigger=\"every 15s [document.visibilityState === 'visible']\"" in content
    assert 'hx-swap="outerHTML"' in content
    assert "Updated <time" in content


def test_live_stamp_in_tenant_time_zone(acme, monkeypatch):
    acme.tenant.time_zone = "Europe/Berlin"
    acme.tenant.save(update_fields=["time_zone"])
    moment = datetime.datetime(2025, 1, 15, 12, 4, 5, tzinfo=datetime.UTC)
    monkeypatch.setattr(partner_views.timezone, "now", lambda: moment)

    content = _live(_client_for(acme.portal_membership.user)).content.decode()

    assert '<time datetime="2025-01-15T12:04:05+00:00">13:04:05 CET</time>' in content


def test_portal_page_embeds_fragment(acme):
    content = _client_for(acme.portal_membership.user).get(PORTAL_URL).content.decode()

    assert content.count('id="portal-live"') == 1
    assert f'hx-get="{LIVE_URL}"' in content
    assert "Commission entries" in content
    assert "Statements" in content


def test_staff_preview_does_not_poll(acme, admin_user):
    url = reverse("partners:partner_portal_preview", args=[acme.partner.pk])

    content = _client_for(admin_user).get(url).content.decode()

    assert 'id="portal-live"' in content
    assert "hx-get" not in content.split('id="portal-live"')[1].split(">")[0]
    assert "1,875.00" in content


def test_fragment_not_cached(acme):
    response = _live(_client_for(acme.portal_membership.user))

    assert "no-store" in response["Cache-Control"]
    assert "HX-Request" in response["Vary"]


def test_without_htmx_redirects_to_portal(acme):
    response = _client_for(acme.portal_membership.user).get(LIVE_URL)

    assert response.status_code == 302
    assert response["Location"] == PORTAL_URL


def test_expired_session_redirects_whole_page(acme):
    response = _live(Client())

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{resolve_url(settings.LOGIN_URL)}?next={LIVE_URL}"
    assert b"Acme" not in response.content


def test_staff_gets_403(acme, admin_user):
    response = _live(_client_for(admin_user))

    assert response.status_code == 403


def test_empty_states_say_what_next(tenant):
    with tenant_scope(tenant):
        partner = PartnerFactory(name="Fresh Partners")
    user = UserFactory(username="fresh@example.com")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER, partner=partner)

    content = _live(_client_for(user)).content.decode()

    assert "No commission entries yet" in content
    assert reverse("attribution:portal_referrals") in content
    assert "No statements yet" in content
    assert "No results yet" in content
