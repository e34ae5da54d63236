"""Partner page: status change form, history section, roles and tenants."""

from __future__ import annotations

from django.urls import reverse

from partners.models import Partner
from tenancy.scope import tenant_scope


def status_url(partner) -> str:
    return reverse("partners:partner_status_change", args=[partner.pk])


def detail_url(partner) -> str:
    return reverse("partners:partner_detail", args=[partner.pk])


def stored_status(tenant, pk: int) -> str:
    with tenant_scope(tenant):
        return Partner.objects.get(pk=pk).status


def test_manager_changes_status_with_reason(manager_client, program):
    response = manager_client.post(
        status_url(program.partner), {"status": "paused", "reason": "Contract review"}
    )

    assert response.status_code == 302
    assert response["Location"] == detail_url(program.partner)
    assert stored_status(program.tenant, program.partner.pk) == "paused"


def test_page_shows_history(manager_client, program):
    manager_client.post(
        status_url(program.partner), {"status": "paused", "reason": "Contract review"}
    )

    page = manager_client.get(detail_url(program.partner)).content.decode()

    assert "History" in page
    assert "partner.status_changed" in page
    assert "partner_manager-" in page
    assert "Contract review" in page
    assert "active → paused" in page


def test_status_select_offers_allowed_only(manager_client, program):
    page = manager_client.get(detail_url(program.partner)).content.decode()

    assert '<option value="paused">' in page
    assert '<option value="terminated">' in page
    assert '<option value="applied">' not in page
    assert '<option value="prospect">' not in page


def test_disallowed_status_shows_error(manager_client, program):
    response = manager_client.post(status_url(program.partner), {"status": "prospect"})

    assert response.status_code == 400
    assert "status" in response.context["status_form"].errors
    assert stored_status(program.tenant, program.partner.pk) == "active"


def test_terminated_partner_has_no_status_form(manager_client, program):
    manager_client.post(status_url(program.partner), {"status": "terminated", "confirmed": "1"})

    page = manager_client.get(detail_url(program.partner)).content.decode()

    assert "which is final" in page
    assert "Change status" not in page


def test_analyst_cannot_change_status(analyst_client, program):
    response = analyst_client.post(status_url(program.partner), {"status": "paused"})
    page = analyst_client.get(detail_url(program.partner)).content.decode()

    assert response.status_code == 403
    assert stored_status(program.tenant, program.partner.pk) == "active"
    assert "Change status" not in page


def test_other_tenant_status_change_404(manager_client, program, other_program):
    response = manager_client.post(status_url(other_program.partner), {"status": "paused"})

    assert response.status_code == 404
    assert stored_status(other_program.tenant, other_program.partner.pk) == "active"


def test_empty_history_says_what_next(manager_client, program):
    page = manager_client.get(detail_url(program.partner)).content.decode()

    assert "No recorded changes yet" in page
