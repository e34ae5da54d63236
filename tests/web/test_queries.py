"""List pages run a fixed number of queries however many rows they show."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Deal
from partners.models import PartnerScore
from reporting.services import partner_rollups_refresh
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory, PartnerFactory, ReachEntryFactory
from tests.web.data import ledger_entry_create


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def add_rows(program, count: int) -> None:
    """Add `count` more partners, each with a referred account, a won deal and an entry."""
    with tenant_scope(program.tenant):
        for index in range(count):
            partner = PartnerFactory()
            account = AccountFactory(fit_score=90, fit_tier="A", referred_by=partner)
            ReachEntryFactory(partner=program.partner, account=account, domain=account.domain)
            deal = DealFactory(
                account=account,
                partner=partner,
                source=Deal.Source.PARTNER,
                won_fit_tier="A",
                amount=Decimal(1000 + index),
            )
            ledger_entry_create(partner=partner, deal=deal, idempotency_key=f"extra:{index}")
            PartnerScore.objects.create(partner=partner, overlap_score=index)
        partner_rollups_refresh()


@pytest.mark.parametrize(
    "url_name",
    [
        "reporting:dashboard",
        "crm:account_list",
        "partners:partner_list",
        "commissions:ledger_list",
        "icp:version_list",
        "crm:import_list",
    ],
)
def test_list_page_query_count_is_fixed(staff_client, program, url_name):
    url = reverse(url_name)
    before = count_queries(staff_client, url)

    add_rows(program, 5)
    after = count_queries(staff_client, url)

    assert after == before


def test_partner_detail_query_count_is_fixed(staff_client, program):
    url = reverse("partners:partner_detail", args=[program.partner.pk])
    before = count_queries(staff_client, url)

    add_rows(program, 5)
    after = count_queries(staff_client, url)

    assert after == before
