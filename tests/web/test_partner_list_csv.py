"""The partner list downloads as CSV with the page's filters and order."""

from __future__ import annotations

import csv
import io

from django.urls import reverse

from tenancy.scope import tenant_scope
from tests.factories import PartnerFactory

URL = reverse("partners:partner_list_csv")


def rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_lists_tenant_partners(manager_client, program, other_program):
    response = manager_client.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    [row] = rows(response)
    assert row["name"] == "Acme Referrals"
    assert row["won_revenue"] == "12500.00"
    assert row["currency"] == "USD"


def test_csv_keeps_filters_and_sort(manager_client, tenant):
    with tenant_scope(tenant):
        PartnerFactory(name="Zeta Partners", status="active")
        PartnerFactory(name="Alpha Partners", status="active")
        PartnerFactory(name="Applied Co", status="applied")

    response = manager_client.get(URL, {"status": "active", "sort": "-name"})

    assert [row["name"] for row in rows(response)] == ["Zeta Partners", "Alpha Partners"]


def test_csv_escapes_formula_names(manager_client, tenant):
    with tenant_scope(tenant):
        PartnerFactory(name="=HYPERLINK(1)")

    [row] = rows(manager_client.get(URL))

    assert row["name"] == "'=HYPERLINK(1)"


def test_csv_bad_sort_is_400(manager_client, program):
    response = manager_client.get(URL, {"sort": "secret"})

    assert response.status_code == 400
    assert response.content.decode().startswith("Sort order: Unknown sort “secret”.")


def test_csv_bad_filters_named_by_label(manager_client, program):
    response = manager_client.get(URL, {"status": "bogus", "kind": "pirate"})

    lines = response.content.decode().splitlines()
    assert response.status_code == 400
    assert lines == [
        "Status: “bogus” is not a status. Choose one from the list.",
        "Kind: “pirate” is not a kind. Choose one from the list.",
    ]


def test_list_links_csv_with_filters(manager_client, program):
    page = manager_client.get(reverse("partners:partner_list"), {"status": "active", "page": "1"})

    assert f'href="{URL}?status=active"' in page.content.decode()


def test_partner_user_cannot_export(partner_client):
    response = partner_client.get(URL)

    assert response.status_code in (302, 403)
