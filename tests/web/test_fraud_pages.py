"""The fraud review page, the partner page's signals, the banner, and the portal's held entries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from attribution.models import FraudSignal, Referral, Touch
from commissions.models import LedgerEntry
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tests.factories import ClickFactory, FraudSignalFactory, PartnerFactory, ReferralFactory

LIST_URL = "/fraud/"

# A confirmation note, with the field that the confirmation dialog or page adds.
CONFIRMED_NOTE = {"note": "Their own company.", "confirmed": "1"}


def dismiss_url(signal) -> str:
    return reverse("fraud:signal_dismiss", args=[signal.pk])


def confirm_url(signal) -> str:
    return reverse("fraud:signal_confirm", args=[signal.pk])


def signal_status(program) -> str:
    with tenant_scope(program.tenant):
        return FraudSignal.objects.get(pk=program.fraud_signal.pk).status


@pytest.fixture
def held_program(program):
    """The program with a click flood whose visitor converted into the entry's account."""
    with tenant_scope(program.tenant):
        flood = FraudSignalFactory(
            partner=program.partner,
            summary="41 clicks from one visitor.",
            details={"evidence": "source", "source_kind": "visitor_id", "source": "flood-visitor"},
        )
        click = ClickFactory(partner=program.partner, link=program.link, visitor_id="flood-visitor")
        Touch.objects.create(
            partner=program.partner,
            domain=program.account.domain,
            kind=Touch.Kind.LINK,
            touched_at=click.clicked_at,
            click=click,
            idempotency_key="test:flood-touch",
        )
        LedgerEntry.objects.filter(pk=program.entry.pk).update(status=LedgerEntry.Status.HELD)
    program.flood = flood
    return program


def test_list_shows_evidence_held_amounts_and_forms(manager_client, held_program):
    response = manager_client.get(LIST_URL)

    assert response.status_code == 200
    content = response.content.decode()
    assert "41 clicks from one visitor." in content
    assert "Self-referral of acme-own.com" in content
    assert "1,875.00</strong> USD in 1 entry" in content
    assert f'action="{dismiss_url(held_program.flood)}"' in content
    assert f'action="{confirm_url(held_program.flood)}"' in content
    assert "required></textarea>" in content


def test_analyst_sees_no_review_forms(analyst_client, held_program):
    response = analyst_client.get(LIST_URL)

    assert response.status_code == 200
    assert "41 clicks from one visitor." in response.content.decode()
    assert "signal_dismiss" not in response.content.decode()
    assert dismiss_url(held_program.flood) not in response.content.decode()


def test_list_filters_by_kind(manager_client, held_program):
    response = manager_client.get(LIST_URL, {"kind": "click_flood"})

    content = response.content.decode()
    assert "41 clicks from one visitor." in content
    assert "Self-referral of acme-own.com" not in content


def test_list_ignores_other_tenants_partner(manager_client, program, other_program):
    response = manager_client.get(LIST_URL, {"partner": other_program.partner.pk})

    assert response.status_code == 200
    assert "partner" in response.context["form"].errors
    assert "globex-own.com" not in response.content.decode()


def test_list_query_count_is_fixed(manager_client, held_program):
    with CaptureQueriesContext(connection) as before:
        manager_client.get(LIST_URL)
    with tenant_scope(held_program.tenant):
        for index in range(5):
            partner = PartnerFactory()
            referral = ReferralFactory(partner=partner, domain=f"more{index}.com")
            FraudSignalFactory(
                partner=partner, kind=FraudSignal.Kind.SELF_REFERRAL, referral=referral
            )
            FraudSignalFactory(partner=partner)

    with CaptureQueriesContext(connection) as after:
        manager_client.get(LIST_URL)

    assert len(after) == len(before)


def test_dismiss_releases_and_returns_to_filters(manager_client, held_program):
    response = manager_client.post(
        dismiss_url(held_program.flood),
        {"note": "A newsletter mention.", "next": "/fraud/?kind=click_flood"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/fraud/?kind=click_flood"
    with tenant_scope(held_program.tenant):
        assert FraudSignal.objects.get(pk=held_program.flood.pk).status == "dismissed"
        assert LedgerEntry.objects.get(pk=held_program.entry.pk).status == "pending"
        assert AuditEvent.objects.filter(event="fraud_signal.dismissed").count() == 1
    page = manager_client.get(response["Location"]).content.decode()
    assert "Dismissed signal" in page
    assert "1 held entry went back to pending." in page


def test_dismiss_ignores_outside_next(manager_client, held_program):
    response = manager_client.post(
        dismiss_url(held_program.flood), {"next": "https://evil.example/fraud/"}
    )

    assert response["Location"] == LIST_URL


def test_confirm_without_note_changes_nothing(manager_client, program):
    response = manager_client.post(confirm_url(program.fraud_signal), {"note": "  "}, follow=True)

    assert response.status_code == 200
    assert "was not confirmed: Write a note to confirm" in response.content.decode()
    assert signal_status(program) == "open"


def test_confirm_rejects_registration(manager_client, program):
    response = manager_client.post(
        confirm_url(program.fraud_signal),
        CONFIRMED_NOTE,
        follow=True,
    )

    assert "Confirmed signal" in response.content.decode()
    assert signal_status(program) == "confirmed"
    with tenant_scope(program.tenant):
        referral = Referral.objects.get(pk=program.fraud_signal.referral_id)
    assert referral.status == Referral.Status.REJECTED


def test_dismiss_after_confirm_shows_conflict(manager_client, program):
    manager_client.post(confirm_url(program.fraud_signal), CONFIRMED_NOTE)

    response = manager_client.post(dismiss_url(program.fraud_signal), follow=True)

    assert "was already confirmed" in response.content.decode()
    assert signal_status(program) == "confirmed"


@pytest.mark.parametrize("client_fixture", ["analyst_client", "partner_client"])
def test_review_needs_editor_role(request, program, client_fixture):
    client = request.getfixturevalue(client_fixture)

    response = client.post(dismiss_url(program.fraud_signal))

    assert response.status_code == 403
    assert signal_status(program) == "open"


def test_partner_page_lists_open_signals(manager_client, program):
    url = reverse("partners:partner_detail", args=[program.partner.pk])

    content = manager_client.get(url).content.decode()

    assert "Open fraud signals" in content
    assert "Self-referral of acme-own.com" in content


def test_partner_page_without_open_signals(manager_client, program):
    manager_client.post(dismiss_url(program.fraud_signal))
    url = reverse("partners:partner_detail", args=[program.partner.pk])

    assert "Open fraud signals" not in manager_client.get(url).content.decode()


def test_dashboard_banner_counts_open_signals(manager_client, held_program):
    content = manager_client.get(reverse("reporting:dashboard")).content.decode()

    assert "2 fraud signals wait for review." in content


def test_portal_shows_hold_without_reason(partner_client, held_program):
    content = partner_client.get(reverse("partners:portal")).content.decode()

    assert "On hold for review" in content
    assert "Held for review" not in content
    assert "41 clicks" not in content
    assert "Self-referral" not in content
    assert "fraud" not in content.lower()


def test_click_flood_scope_described(manager_client, held_program):
    content = manager_client.get("/fraud/?kind=click_flood").content.decode()

    assert "deals reached through the flooded clicks" in content
    assert "Covers</dt><dd>all of the partner" not in content
