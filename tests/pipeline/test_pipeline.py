import datetime
from decimal import Decimal

import pytest

from attribution.models import Referral
from commissions.models import LedgerEntry
from crm.models import Deal
from crm.pipeline import deals_process
from crm.services import deal_upsert
from reporting.models import PartnerRollup
from tenancy.errors import Conflict
from tests.factories import AccountFactory, registration_create

WON = {"stage": "won", "amount": Decimal("1000.00"), "close_date": datetime.date(2017, 6, 1)}


def _post(tenant, external_id="D1", **overrides):
    values = {**WON, "account_external_id": "a1", **overrides}
    return deal_upsert(tenant=tenant, external_id=external_id, **values)


def test_won_deal_accrues_fit_weighted_commission(program, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deal, created = _post(program["partner"].tenant)

    deal.refresh_from_db()
    entry = LedgerEntry.objects.get()
    assert created is True
    assert deal.pipeline_status == Deal.PipelineStatus.PROCESSED
    assert (deal.won_fit_score, deal.won_fit_tier) == (100, "A")
    assert deal.partner == program["partner"]
    assert deal.source == Deal.Source.PARTNER
    assert entry.amount == Decimal("150.00")
    assert (entry.rate, entry.multiplier, entry.fit_tier) == (
        Decimal("0.1000"),
        Decimal("1.50"),
        "A",
    )
    assert entry.icp_version == program["version"]
    assert entry.idempotency_key == f"accrual:deal:{deal.pk}"


def test_rollup_counts_on_profile_revenue(program, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _post(program["partner"].tenant)

    rollup = PartnerRollup.objects.get(partner=program["partner"])
    assert rollup.won_deals == 1
    assert rollup.won_revenue == Decimal("1000.00")
    assert rollup.on_profile_revenue == Decimal("1000.00")
    assert rollup.commission_total == Decimal("150.00")
    assert rollup.tier_mix == {"A": {"deals": 1, "revenue": "1000.00"}}


def test_pipeline_twice_writes_once(program, django_capture_on_commit_callbacks):
    tenant = program["partner"].tenant
    with django_capture_on_commit_callbacks(execute=True):
        deal, _ = _post(tenant)
    Deal.objects.filter(pk=deal.pk).update(pipeline_status=Deal.PipelineStatus.PENDING)

    deals_process(tenant_id=tenant.pk)
    deals_process(tenant_id=tenant.pk)

    assert LedgerEntry.objects.count() == 1


def test_same_deal_posted_twice_is_one_deal(program, django_capture_on_commit_callbacks):
    tenant = program["partner"].tenant
    with django_capture_on_commit_callbacks(execute=True):
        _post(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        deal, created = _post(tenant)

    assert created is False
    assert Deal.objects.count() == 1
    assert LedgerEntry.objects.count() == 1


def test_processed_deal_amount_change_conflicts(program, django_capture_on_commit_callbacks):
    tenant = program["partner"].tenant
    with django_capture_on_commit_callbacks(execute=True):
        _post(tenant)

    with pytest.raises(Conflict) as error:
        _post(tenant, amount=Decimal("2000.00"))

    assert error.value.field == "amount"
    assert error.value.value == "2000.00"


def test_deal_outside_attribution_window_is_direct(program, django_capture_on_commit_callbacks):
    tenant = program["partner"].tenant
    with django_capture_on_commit_callbacks(execute=True):
        deal, _ = _post(tenant, close_date=datetime.date(2016, 12, 1))

    deal.refresh_from_db()
    assert deal.partner is None
    assert deal.source == Deal.Source.DIRECT
    assert LedgerEntry.objects.count() == 0


def test_low_fit_account_earns_tier_d_multiplier(program, django_capture_on_commit_callbacks):
    tenant = program["partner"].tenant
    small = AccountFactory(tenant=tenant, external_id="small", industry="retail", employees=10)
    registration_create(program["partner"], small.domain, datetime.date(2017, 1, 1))

    with django_capture_on_commit_callbacks(execute=True):
        _post(tenant, account_external_id="small")

    entry = LedgerEntry.objects.get()
    assert entry.fit_tier == "D"
    assert entry.multiplier == Decimal("0.00")
    assert entry.amount == Decimal("0.00")


def test_explicit_partner_on_deal_wins(program, django_capture_on_commit_callbacks):
    tenant = program["partner"].tenant
    from tests.factories import PartnerFactory

    other = PartnerFactory(tenant=tenant, external_id="p2")
    with django_capture_on_commit_callbacks(execute=True):
        deal, _ = _post(tenant, partner_external_id="p2")

    assert LedgerEntry.objects.get().partner == other


def test_fit_is_frozen_when_icp_changes(program, django_capture_on_commit_callbacks):
    tenant = program["partner"].tenant
    with django_capture_on_commit_callbacks(execute=True):
        deal, _ = _post(tenant)
    version = program["version"]
    version.criteria = [{**version.criteria[0], "min": 100000}, version.criteria[1]]
    version.save()

    from icp.services import accounts_rescore

    accounts_rescore(tenant=tenant)
    deal.refresh_from_db()
    program["account"].refresh_from_db()

    assert program["account"].fit_tier == "B"
    assert deal.won_fit_tier == "A"
    assert LedgerEntry.objects.get().fit_tier == "A"


def test_lost_deal_on_referred_account_counts_for_partner(program):
    tenant = program["partner"].tenant

    deal, _ = _post(tenant, external_id="L1", stage="lost", amount=Decimal("0"))

    deal.refresh_from_db()
    assert deal.partner == program["partner"]
    assert deal.source == Deal.Source.PARTNER
    assert deal.pipeline_status == Deal.PipelineStatus.NOT_APPLICABLE
    assert LedgerEntry.objects.count() == 0


def test_imported_lost_deal_is_attributed(program):
    from crm.importing import csv_import

    tenant = program["partner"].tenant
    content = b"external_id,account_external_id,stage,close_date\nL2,a1,lost,2017-04-01\n"

    csv_import(tenant=tenant, kind="deals", content=content, filename="d.csv")

    assert Deal.objects.get(external_id="L2").partner == program["partner"]


def test_pipeline_skips_missing_tenant(db, caplog):
    processed = deals_process(tenant_id=999_999)

    assert processed == 0
    assert "pipeline.tenant_missing tenant_id=999999" in caplog.text


def test_referral_credit_follows_close_date_until_booked(program):
    tenant = program["partner"].tenant
    deal, _ = _post(tenant, external_id="O2", stage="open", amount=Decimal("0"))
    assert deal.partner == program["partner"]

    deal, _ = _post(tenant, external_id="O2", stage="won", close_date=datetime.date(2019, 1, 1))

    deal.refresh_from_db()
    assert deal.partner is None
    assert deal.source == Deal.Source.DIRECT


def test_referral_credit_follows_account_until_booked(program):
    tenant = program["partner"].tenant
    AccountFactory(tenant=tenant, external_id="unreferred")
    _post(tenant, external_id="O3", stage="open", amount=Decimal("0"))

    deal, _ = _post(tenant, external_id="O3", stage="open", amount=Decimal("0"),
                    account_external_id="unreferred")  # fmt: skip

    deal.refresh_from_db()
    assert deal.partner is None


def test_booked_direct_deal_never_gains_partner(program, django_capture_on_commit_callbacks):
    tenant = program["partner"].tenant
    referral = program["referral"]
    referral.status = Referral.Status.REJECTED
    referral.save()
    with django_capture_on_commit_callbacks(execute=True):
        deal, _ = _post(tenant, external_id="B1")
    deal.refresh_from_db()
    assert deal.pipeline_status == Deal.PipelineStatus.PROCESSED
    referral.status = Referral.Status.APPROVED
    referral.save()

    deal, _ = _post(tenant, external_id="B1", name="Renamed")

    deal.refresh_from_db()
    assert deal.partner is None
    assert deal.source == Deal.Source.DIRECT
    assert LedgerEntry.objects.count() == 0


def test_pending_deal_reopened_leaves_pipeline(program, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    tenant = program["partner"].tenant
    _post(tenant, external_id="R1")

    deal, _ = _post(tenant, external_id="R1", stage="open")

    assert deal.pipeline_status == Deal.PipelineStatus.NOT_APPLICABLE
