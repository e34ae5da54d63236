"""Partner create and edit pages: fields, the unique external id, roles and tenants."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from partners.forms import PartnerForm
from partners.models import Partner
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tests.factories import PartnerFactory

NEW_PARTNER = {
    "external_id": "p-new",
    "name": "Northwind Consulting",
    "kind": "reseller",
    "status": "prospect",
    "domain": "https://www.Northwind-Consulting.com/about",
    "description": "Resells in the Nordics.",
}


def partner_values(tenant, pk: int) -> dict:
    with tenant_scope(tenant):
        partner = Partner.objects.get(pk=pk)
    return {
        "external_id": partner.external_id,
        "name": partner.name,
        "kind": partner.kind,
        "status": partner.status,
        "domain": partner.domain,
        "description": partner.description,
    }


@pytest.fixture
def manager_user(manager_client, tenant):
    """Return the partner manager whom `manager_client` is logged in as."""
    return get_user_model().objects.get(username=f"partner_manager-{tenant.slug}")


def partner_count(tenant) -> int:
    with tenant_scope(tenant):
        return Partner.objects.count()


def edit_url(partner) -> str:
    return reverse("partners:partner_edit", args=[partner.pk])


def edit_data(partner, **changes) -> dict:
    """Return the edit form's POST data for `partner` unchanged, with `changes` applied."""
    data = {
        "external_id": partner.external_id,
        "name": partner.name,
        "kind": partner.kind,
        "status": partner.status,
        "domain": partner.domain,
        "description": partner.description,
    }
    return {**data, **changes}


@pytest.fixture
def second_partner(program):
    with tenant_scope(program.tenant):
        return PartnerFactory(external_id="p-second", name="Second Partner")


def test_create_page_renders_for_manager(manager_client, program):
    response = manager_client.get(reverse("partners:partner_create"))

    assert response.status_code == 200
    assert 'name="external_id"' in response.content.decode()


def test_manager_creates_partner(manager_client, program):
    response = manager_client.post(reverse("partners:partner_create"), NEW_PARTNER)

    with tenant_scope(program.tenant):
        partner = Partner.objects.get(external_id="p-new")
    assert response.status_code == 302
    assert response["Location"] == reverse("partners:partner_detail", args=[partner.pk])
    assert partner_values(program.tenant, partner.pk) == {
        **NEW_PARTNER,
        "domain": "northwind-consulting.com",
    }


def test_create_records_audit_event(manager_client, program):
    manager_client.post(reverse("partners:partner_create"), NEW_PARTNER)

    with tenant_scope(program.tenant):
        events = list(AuditEvent.objects.filter(event="partner.created"))
    assert len(events) == 1
    assert events[0].actor.username == "partner_manager-acme"


def test_created_partner_shows_message(manager_client, program):
    response = manager_client.post(reverse("partners:partner_create"), NEW_PARTNER, follow=True)

    assert "Added the partner “Northwind Consulting”." in response.content.decode()


def test_create_without_domain(staff_client, program):
    response = staff_client.post(reverse("partners:partner_create"), {**NEW_PARTNER, "domain": ""})

    assert response.status_code == 302
    with tenant_scope(program.tenant):
        assert Partner.objects.get(external_id="p-new").domain == ""


def test_create_duplicate_external_id_rejected(manager_client, program):
    before = partner_values(program.tenant, program.partner.pk)

    response = manager_client.post(
        reverse("partners:partner_create"),
        {**NEW_PARTNER, "external_id": program.partner.external_id},
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["external_id"]
    assert "already has the external id" in response.context["form"].errors["external_id"][0]
    assert partner_values(program.tenant, program.partner.pk) == before
    assert partner_count(program.tenant) == 1


def test_create_reuses_other_tenant_id(manager_client, program, other_program):
    response = manager_client.post(
        reverse("partners:partner_create"),
        {**NEW_PARTNER, "external_id": other_program.partner.external_id},
    )

    assert response.status_code == 302
    assert partner_count(program.tenant) == 2
    assert partner_count(other_program.tenant) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("external_id", "", id="external-id-missing"),
        pytest.param("external_id", "x" * 101, id="external-id-too-long"),
        pytest.param("name", "", id="name-missing"),
        pytest.param("kind", "franchise", id="kind-unknown"),
        pytest.param("status", "retired", id="status-unknown"),
        pytest.param("domain", "localhost", id="domain-invalid"),
    ],
)
def test_create_invalid_field_rejected(manager_client, program, field, value):
    response = manager_client.post(
        reverse("partners:partner_create"), {**NEW_PARTNER, field: value}
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert partner_count(program.tenant) == 1


def test_create_id_race_rolled_back(manager_client, program, monkeypatch):
    """Another request creates the id after the form's check: nothing is updated."""
    before = partner_values(program.tenant, program.partner.pk)
    monkeypatch.setattr(
        PartnerForm, "clean_external_id", lambda form: form.cleaned_data["external_id"]
    )

    response = manager_client.post(
        reverse("partners:partner_create"),
        {**NEW_PARTNER, "external_id": program.partner.external_id},
    )

    assert response.status_code == 400
    assert "Another partner already has" in response.context["form"].errors["external_id"][0]
    assert partner_values(program.tenant, program.partner.pk) == before


def test_edit_page_shows_current_values(manager_client, program):
    response = manager_client.get(edit_url(program.partner))
    form = response.context["form"]

    assert response.status_code == 200
    assert form["external_id"].value() == program.partner.external_id
    assert form["name"].value() == "Acme Referrals"


def test_manager_edits_partner(manager_client, program, manager_user):
    response = manager_client.post(
        edit_url(program.partner),
        edit_data(
            program.partner,
            name="Acme Partners",
            kind="agency",
            domain="acme-partners.com",
            description="Resells in the Nordics.",
            owner=manager_user.pk,
            tier="silver",
            notes="Quarterly review in May.",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("partners:partner_detail", args=[program.partner.pk])
    assert partner_values(program.tenant, program.partner.pk) == {
        "external_id": program.partner.external_id,
        "name": "Acme Partners",
        "kind": "agency",
        "status": "active",
        "domain": "acme-partners.com",
        "description": "Resells in the Nordics.",
    }
    with tenant_scope(program.tenant):
        saved = Partner.objects.get(pk=program.partner.pk)
    assert saved.owner_id == manager_user.pk
    assert saved.tier == "silver"
    assert saved.notes == "Quarterly review in May."
    assert partner_count(program.tenant) == 1


def test_edit_ignores_posted_status(manager_client, program):
    response = manager_client.post(
        edit_url(program.partner), edit_data(program.partner, status="terminated")
    )

    assert response.status_code == 302
    assert partner_values(program.tenant, program.partner.pk)["status"] == "active"


def test_edit_rejects_owner_from_other_tenant(manager_client, program, other_admin_user):
    response = manager_client.post(
        edit_url(program.partner), edit_data(program.partner, owner=other_admin_user.pk)
    )

    assert response.status_code == 400
    assert "owner" in response.context["form"].errors
    with tenant_scope(program.tenant):
        assert Partner.objects.get(pk=program.partner.pk).owner_id is None


def test_edit_changes_external_id_in_place(manager_client, program):
    old_external_id = program.partner.external_id

    response = manager_client.post(
        edit_url(program.partner), edit_data(program.partner, external_id="acme-renamed")
    )

    assert response.status_code == 302
    assert partner_values(program.tenant, program.partner.pk)["external_id"] == "acme-renamed"
    assert partner_count(program.tenant) == 1
    with tenant_scope(program.tenant):
        event = AuditEvent.objects.get(event="partner.updated")
    assert event.object_id == str(program.partner.pk)
    assert event.before == {"external_id": old_external_id}
    assert event.after == {"external_id": "acme-renamed"}


def test_edit_taken_external_id_rejected(manager_client, program, second_partner):
    before = partner_values(program.tenant, program.partner.pk)

    response = manager_client.post(
        edit_url(program.partner),
        edit_data(program.partner, external_id="p-second", name="Changed"),
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["external_id"]
    assert "Second Partner" in response.context["form"].errors["external_id"][0]
    assert partner_values(program.tenant, program.partner.pk) == before
    assert partner_values(program.tenant, second_partner.pk)["name"] == "Second Partner"


def test_edit_id_race_rejected(manager_client, program, second_partner, monkeypatch):
    """Another partner gets the id after the form's check: the unique constraint rejects it."""
    before = partner_values(program.tenant, program.partner.pk)
    monkeypatch.setattr(
        PartnerForm, "clean_external_id", lambda form: form.cleaned_data["external_id"]
    )

    response = manager_client.post(
        edit_url(program.partner),
        edit_data(program.partner, external_id="p-second", name="Changed"),
    )

    assert response.status_code == 400
    assert "Another partner already has" in response.context["form"].errors["external_id"][0]
    assert partner_values(program.tenant, program.partner.pk) == before
    with tenant_scope(program.tenant):
        assert not AuditEvent.objects.filter(event="partner.updated").exists()


def test_edit_invalid_domain_is_field_error(manager_client, program):
    response = manager_client.post(
        edit_url(program.partner), edit_data(program.partner, domain="not a domain")
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["domain"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_other_tenant_partner_edit_is_404(manager_client, program, other_program, method):
    before = partner_values(other_program.tenant, other_program.partner.pk)
    data = edit_data(other_program.partner, name="Hijacked") if method == "post" else None

    response = getattr(manager_client, method)(edit_url(other_program.partner), data)

    assert response.status_code == 404
    assert "Globex" not in response.content.decode()
    assert partner_values(other_program.tenant, other_program.partner.pk) == before


@pytest.mark.parametrize("url_name", ["partners:partner_create", "partners:partner_edit"])
def test_analyst_cannot_open_partner_form(analyst_client, program, url_name):
    args = [program.partner.pk] if url_name == "partners:partner_edit" else []

    response = analyst_client.get(reverse(url_name, args=args))

    assert response.status_code == 403


def test_analyst_cannot_create_partner(analyst_client, program):
    response = analyst_client.post(reverse("partners:partner_create"), NEW_PARTNER)

    assert response.status_code == 403
    assert partner_count(program.tenant) == 1


def test_analyst_cannot_edit_partner(analyst_client, program):
    before = partner_values(program.tenant, program.partner.pk)

    response = analyst_client.post(
        edit_url(program.partner), edit_data(program.partner, name="Changed")
    )

    assert response.status_code == 403
    assert partner_values(program.tenant, program.partner.pk) == before


@pytest.mark.parametrize("url_name", ["partners:partner_create", "partners:partner_edit"])
def test_partner_user_redirected_from_form(partner_client, program, url_name):
    args = [program.partner.pk] if url_name == "partners:partner_edit" else []

    response = partner_client.get(reverse(url_name, args=args))

    assert response.status_code == 302
    assert response["Location"] == reverse("partners:portal")


def test_partner_user_cannot_edit_own_partner(partner_client, program):
    before = partner_values(program.tenant, program.partner.pk)

    response = partner_client.post(
        edit_url(program.partner), edit_data(program.partner, name="Changed")
    )

    assert response.status_code == 403
    assert partner_values(program.tenant, program.partner.pk) == before


def test_partner_user_cannot_create_partner(partner_client, program):
    response = partner_client.post(reverse("partners:partner_create"), NEW_PARTNER)

    assert response.status_code == 403
    assert partner_count(program.tenant) == 1


def test_anonymous_redirected_from_partner_form(client, program):
    url = reverse("partners:partner_create")

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


def test_partner_list_links_create_for_manager(manager_client, program):
    content = manager_client.get(reverse("partners:partner_list")).content.decode()

    assert f'href="{reverse("partners:partner_create")}"' in content


def test_partner_list_hides_create_from_analyst(analyst_client, program):
    content = analyst_client.get(reverse("partners:partner_list")).content.decode()

    assert reverse("partners:partner_create") not in content


def test_detail_links_edit_and_upload(manager_client, program):
    url = reverse("partners:partner_detail", args=[program.partner.pk])

    content = manager_client.get(url).content.decode()

    assert f'href="{edit_url(program.partner)}"' in content
    assert f'href="{reverse("crm:import_list")}?kind=reach"' in content


def test_detail_hides_edit_from_analyst(analyst_client, program):
    url = reverse("partners:partner_detail", args=[program.partner.pk])

    content = analyst_client.get(url).content.decode()

    assert edit_url(program.partner) not in content
    assert "?kind=reach" not in content


def test_imports_page_preselects_reach(manager_client, program):
    response = manager_client.get(reverse("crm:import_list"), {"kind": "reach"})

    assert response.context["form"]["kind"].value() == "reach"
    assert '<option value="reach" selected>' in response.content.decode()


def test_imports_page_ignores_unknown_kind(manager_client, program):
    response = manager_client.get(reverse("crm:import_list"), {"kind": "payroll"})

    assert response.status_code == 200
    assert response.context["form"]["kind"].value() is None
