"""Who may open which page: login, partner users, analysts and partner managers."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from crm.models import ImportRun
from tenancy.models import ApiKey, Membership
from tenancy.scope import tenant_scope
from tests.factories import PartnerFactory, UserFactory
from tests.web.data import ledger_entry_create
from tests.web.pages import STAFF_PAGE_NAMES, staff_pages

ACCOUNTS_CSV = b"external_id,name\nacc-new,New Company\n"


def upload(client: Client, content: bytes = ACCOUNTS_CSV, *, strict: bool = True):
    data = {
        "kind": "accounts",
        "file": SimpleUploadedFile("accounts.csv", content, content_type="text/csv"),
    }
    if strict:
        data["strict"] = "on"
    return client.post(reverse("crm:import_upload"), data)


@pytest.mark.parametrize("page", STAFF_PAGE_NAMES)
def test_anonymous_redirected_to_login(client, program, page):
    url = staff_pages(program)[page]

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


@pytest.mark.parametrize(
    "url_name", ["partners:portal", "tenancy:api_key_list", "crm:import_upload"]
)
def test_anonymous_redirected_from_other_pages(client, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_page_renders(client, db):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_login_redirects_to_dashboard(client, admin_user):
    response = client.post(reverse("login"), {"login": "admin-acme", "password": "pass-word-123"})

    assert response.status_code == 302
    assert response["Location"] == reverse("reporting:dashboard")


def test_logout_is_a_post_form(staff_client):
    content = staff_client.get(reverse("reporting:dashboard")).content.decode()

    assert f'method="post" action="{reverse("logout")}"' in content


@pytest.mark.parametrize("page", STAFF_PAGE_NAMES)
def test_partner_user_redirected_to_portal(partner_client, program, page):
    response = partner_client.get(staff_pages(program)[page])

    assert response.status_code == 302
    assert response["Location"] == reverse("partners:portal")


def test_partner_user_cannot_upload(partner_client, program):
    response = upload(partner_client)

    assert response.status_code == 403
    with tenant_scope(program.tenant):
        assert list(ImportRun.objects.all()) == [program.run]


def test_partner_user_cannot_create_api_key(partner_client, tenant):
    response = partner_client.post(reverse("tenancy:api_key_create"), {"name": "sneaky"})

    assert response.status_code == 403
    with tenant_scope(tenant):
        assert not ApiKey.objects.exists()


def test_portal_shows_own_entries_only(partner_client, program, tenant):
    with tenant_scope(tenant):
        rival = PartnerFactory(name="Rival Partner")
        ledger_entry_create(partner=rival, memo="rival-entry", idempotency_key="rival")

    response = partner_client.get(reverse("partners:portal"))
    content = response.content.decode()

    assert response.status_code == 200
    assert "Acme Referrals" in content
    assert "Acme-deal-partner" in content
    assert "rival-entry" not in content
    assert [entry.pk for entry in response.context["entries_page"].object_list] == [
        program.entry.pk
    ]


def test_portal_nav_hides_staff_links(partner_client):
    content = partner_client.get(reverse("partners:portal")).content.decode()

    assert "My results" in content
    assert reverse("crm:account_list") not in content


def test_staff_cannot_open_portal(staff_client, program):
    response = staff_client.get(reverse("partners:portal"))

    assert response.status_code == 403


def test_analyst_can_view_imports_without_form(analyst_client, program):
    response = analyst_client.get(reverse("crm:import_list"))

    assert response.status_code == 200
    assert reverse("crm:import_upload") not in response.content.decode()


def test_analyst_cannot_upload(analyst_client, tenant):
    response = upload(analyst_client)

    assert response.status_code == 403
    with tenant_scope(tenant):
        assert not ImportRun.objects.exists()


def test_analyst_cannot_open_api_keys(analyst_client):
    response = analyst_client.get(reverse("tenancy:api_key_list"))

    assert response.status_code == 403


def test_analyst_cannot_create_api_key(analyst_client, tenant):
    response = analyst_client.post(reverse("tenancy:api_key_create"), {"name": "analyst key"})

    assert response.status_code == 403
    with tenant_scope(tenant):
        assert not ApiKey.objects.exists()


def test_partner_manager_can_upload(manager_client, tenant):
    response = upload(manager_client)

    assert response.status_code == 302
    with tenant_scope(tenant):
        assert ImportRun.objects.get().status == ImportRun.Status.SUCCEEDED


def test_partner_manager_cannot_create_api_key(manager_client, tenant):
    response = manager_client.post(reverse("tenancy:api_key_create"), {"name": "manager key"})

    assert response.status_code == 403
    with tenant_scope(tenant):
        assert not ApiKey.objects.exists()


def test_user_without_membership_gets_403(client, db):
    client.force_login(UserFactory(username="drifter"))

    response = client.get(reverse("reporting:dashboard"))

    assert response.status_code == 403
    assert "not a member of any tenant" in response.content.decode()


def test_upload_rejects_get(staff_client):
    response = staff_client.get(reverse("crm:import_upload"))

    assert response.status_code == 405


def test_settings_hides_keys_from_analyst(analyst_client):
    content = analyst_client.get(reverse("tenancy:settings")).content.decode()

    assert reverse("tenancy:api_key_list") not in content
    assert Membership.Role.ANALYST.label in content
