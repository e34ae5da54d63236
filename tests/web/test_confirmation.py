"""Destructive actions need confirmation: without `confirmed=1` a POST changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from attribution.models import FraudSignal, Referral, TrackingLink
from billing.models import BillingConnection
from commissions.fx_models import ExchangeRate
from commissions.mdf_models import MdfRequest
from commissions.models import LedgerEntry, Payout
from partners.models import Partner
from tenancy.models import Membership
from tenancy.scope import tenant_scope

# (URL name, program attribute whose pk the URL takes, POST body, what must not change)
ROUTES = [
    ("attribution:link_deactivate", "link", {}, ("link", TrackingLink, "is_active")),
    (
        "partners:partner_status_change",
        "partner",
        {"status": "terminated", "reason": "Contract ended"},
        ("partner", Partner, "status"),
    ),
    ("commissions:payout_mark_paid", "payout", {}, ("payout", Payout, "status")),
    ("commissions:entry_void", "entry", {}, ("entry", LedgerEntry, "status")),
    (
        "attribution:referral_reject",
        "referral",
        {"note": "Duplicate"},
        ("referral", Referral, "status"),
    ),
    (
        "fraud:signal_confirm",
        "fraud_signal",
        {"note": "Own company"},
        ("fraud_signal", FraudSignal, "status"),
    ),
    (
        "commissions:mdf_request_reject",
        "mdf_request",
        {"reason": "Off-profile"},
        ("mdf_request", MdfRequest, "status"),
    ),
    ("commissions:mdf_request_cancel", "mdf_request", {}, ("mdf_request", MdfRequest, "status")),
    (
        "billing:connection_deactivate",
        "billing_connection",
        {},
        ("billing_connection", BillingConnection, "is_active"),
    ),
]


def _field(program, attribute: str, model, field: str):
    with tenant_scope(program.tenant):
        return getattr(model.objects.get(pk=getattr(program, attribute).pk), field)


@pytest.mark.parametrize(("name", "attribute", "body", "unchanged"), ROUTES)
def test_unconfirmed_post_changes_nothing(
    manager_client, program, name, attribute, body, unchanged
):
    url = reverse(name, args=[getattr(program, attribute).pk])
    before = _field(program, *unchanged)

    response = manager_client.post(url, body)

    page = response.content.decode()
    assert response.status_code == 200
    assert f'action="{url}"' in page
    assert '<input type="hidden" name="confirmed" value="1">' in page
    assert _field(program, *unchanged) == before


def test_question_page_reposts_fields(manager_client, program):
    url = reverse("attribution:referral_reject", args=[program.referral.pk])

    page = manager_client.post(url, {"note": "Seen <twice>"}).content.decode()

    assert '<input type="hidden" name="note" value="Seen &lt;twice&gt;">' in page
    form = page[page.index(f'action="{url}"') :]
    form = form[: form.index("</form>")]
    assert form.count('name="csrfmiddlewaretoken"') == 1
    assert "Reject the registration of" in page


def test_exchange_rate_delete_needs_confirmation(manager_client, program):
    url = reverse("commissions:exchange_rate_delete", args=[program.exchange_rate.pk])

    response = manager_client.post(url)

    assert response.status_code == 200
    with tenant_scope(program.tenant):
        assert ExchangeRate.objects.filter(pk=program.exchange_rate.pk).exists()


def test_portal_user_removal_needs_confirmation(manager_client, program):
    url = reverse("partners:portal_user_remove", args=[program.portal_membership.pk])

    response = manager_client.post(url)

    assert response.status_code == 200
    assert Membership.objects.filter(pk=program.portal_membership.pk).exists()


def test_pausing_partner_needs_no_confirmation(manager_client, program):
    url = reverse("partners:partner_status_change", args=[program.partner.pk])

    response = manager_client.post(url, {"status": "paused", "reason": "Audit"})

    assert response.status_code == 302
    assert _field(program, "partner", Partner, "status") == Partner.Status.PAUSED


def test_other_tenant_object_404_first(manager_client, program, other_program):
    url = reverse("attribution:link_deactivate", args=[other_program.link.pk])

    response = manager_client.post(url)

    assert response.status_code == 404
    assert "Deactivate the link" not in response.content.decode()


def test_confirmed_void_voids_entry(manager_client, program):
    url = reverse("commissions:entry_void", args=[program.entry.pk])

    response = manager_client.post(url, {"confirmed": "1"})

    assert response.status_code == 302
    assert _field(program, "entry", LedgerEntry, "status") == LedgerEntry.Status.VOID
