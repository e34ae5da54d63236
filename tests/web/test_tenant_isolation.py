"""Pages of one tenant leave out another tenant's rows and return 404 for its objects."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tenancy.models import ApiKey
from tenancy.scope import tenant_scope
from tenancy.services import api_key_create
from tests.web.pages import detail_pages


@pytest.fixture
def globex_client(client, other_admin_user, other_program):
    client.force_login(other_admin_user)
    return client


@pytest.mark.parametrize(
    "page", ["account detail", "import detail", "icp detail", "partner detail"]
)
def test_other_tenant_detail_page_is_404(globex_client, program, page):
    response = globex_client.get(detail_pages(program)[page])

    assert response.status_code == 404


@pytest.mark.parametrize(
    "page", ["account detail", "import detail", "icp detail", "partner detail"]
)
def test_own_detail_page_is_200(globex_client, other_program, page):
    response = globex_client.get(detail_pages(other_program)[page])

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("url_name", "hidden", "shown"),
    [
        ("reporting:dashboard", "Acme Referrals", "Globex Referrals"),
        ("crm:account_list", "Acme Initech", "Globex Initech"),
        ("crm:import_list", "acme-accounts.csv", "globex-accounts.csv"),
        ("icp:version_list", "Acme profile", "Globex profile"),
        ("partners:partner_list", "Acme Referrals", "Globex Referrals"),
        ("commissions:ledger_list", "Acme-deal-partner", "Globex-deal-partner"),
    ],
)
def test_list_page_hides_other_tenant_rows(globex_client, program, url_name, hidden, shown):
    content = globex_client.get(reverse(url_name)).content.decode()

    assert shown in content
    assert hidden not in content


def test_ledger_filter_rejects_foreign_partner(globex_client, program):
    response = globex_client.get(
        reverse("commissions:ledger_list"), {"partner": program.partner.pk}
    )

    assert response.status_code == 200
    assert "Acme-deal-partner" not in response.content.decode()
    assert "partner" in response.context["form"].errors


def test_other_tenant_api_key_revoke_is_404(globex_client, program):
    key, _ = api_key_create(tenant=program.tenant, name="Acme CRM")

    response = globex_client.post(reverse("tenancy:api_key_revoke", args=[key.pk]))

    assert response.status_code == 404
    with tenant_scope(program.tenant):
        assert ApiKey.objects.get(pk=key.pk).revoked_at is None


def test_other_tenant_api_keys_not_listed(globex_client, program):
    api_key_create(tenant=program.tenant, name="Acme CRM")

    content = globex_client.get(reverse("tenancy:api_key_list")).content.decode()

    assert "Acme CRM" not in content
