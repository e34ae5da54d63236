"""The demo tenant loads from the bundled data and loads again without changes."""

from decimal import Decimal

import pytest

from attribution.models import TrackingLink
from commissions.models import CommissionPlan, LedgerEntry
from commissions.simulation import plan_simulate
from crm.importing import csv_import
from crm.models import Account, Deal
from demo.services import demo_load
from icp.models import IcpVersion
from partners.models import Partner, ReachEntry
from tenancy.scope import tenant_scope


def _counts(tenant) -> dict:
    with tenant_scope(tenant):
        return {
            "accounts": Account.objects.count(),
            "deals": Deal.objects.count(),
            "won_processed": Deal.objects.filter(stage="won", pipeline_status="processed").count(),
            "partners": Partner.objects.count(),
            "reach": ReachEntry.objects.count(),
            "ledger": LedgerEntry.objects.count(),
            "versions": IcpVersion.objects.count(),
            "links": TrackingLink.objects.count(),
        }


@pytest.mark.django_db
def test_demo_load_twice():
    first = demo_load()
    tenant = first["tenant"]
    before = _counts(tenant)
    # A tenant's own import, with no domain, must not disturb the generated demo.
    csv_import(tenant=tenant, kind="accounts", content=b"external_id,name\nown-1,Own Co\n",
               filename="own.csv")  # fmt: skip

    second = demo_load()

    after = _counts(tenant)
    assert before["accounts"] == 85 + 5001
    assert before["deals"] == 8800
    assert before["won_processed"] == 4238
    assert before["partners"] == 5
    assert before["ledger"] > 0
    assert before["versions"] == 1
    assert before["links"] == 1
    assert tenant.applications_open
    assert first["icp_version"].objective == "won_value"
    assert {**after, "accounts": after["accounts"] - 1} == before
    assert second["processed"] == 0
    with tenant_scope(tenant):
        total = sum(LedgerEntry.objects.values_list("amount", flat=True), Decimal(0))
        drafts = list(CommissionPlan.objects.filter(is_draft=True).values_list("name", flat=True))
        draft = CommissionPlan.objects.get(is_draft=True)
        report = plan_simulate(plan=draft, months=24, until="2017-12-31")
    assert total > Decimal("100000")
    assert drafts == ["Draft: pay more for tier A"]
    # The demo's deals closed in 2016 and 2017, so the simulator replays them.
    assert report["totals"]["deals"] > 0
    assert report["totals"]["simulated"] != report["totals"]["active"]
