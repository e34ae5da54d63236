"""Scores refresh through the worker after reach changes, ICP activation and won deals.

Celery runs eagerly in tests, so a refresh request runs the real task in the test
process. The debounce state lives in the test Redis, which tests/conftest.py empties
before each test.
"""

import datetime
import logging
from decimal import Decimal

import pytest
from django.test import TestCase

from crm.importing import csv_import
from crm.services import deal_upsert
from icp.services import icp_version_activate, icp_version_create
from partners import recompute, scores
from partners.models import PartnerScore, ReachEntry
from partners.services import partner_scores_refresh, reach_replace
from partners.tasks import refresh_partner_scores_task
from tenancy.scope import tenant_scope
from tenancy.services import api_key_create
from tests.factories import (
    AccountFactory,
    CommissionPlanFactory,
    PartnerFactory,
    registration_create,
)
from tests.partners.scoring_data import CUTOFFS, active_version, overlap_world
from tests.partners.test_quality import ledger, won


@pytest.fixture
def sent(monkeypatch):
    """Record refresh tasks sent to the broker instead of running them."""
    calls = []

    def record(args=None, kwargs=None, **options):
        calls.append({"args": args, "kwargs": kwargs, **options})

    monkeypatch.setattr(refresh_partner_scores_task, "apply_async", record)
    return calls


def run_claimed(tenant_id: int, task_id: str = "claim-1") -> int:
    """Run a scheduled refresh task as the worker would, with its task id."""
    return refresh_partner_scores_task.apply(
        args=(tenant_id,), kwargs={"claim": True}, task_id=task_id
    ).get()


# Triggers


def test_reach_push_refreshes_that_partner(client, scoped, django_capture_on_commit_callbacks):
    active_version(scoped)
    pushed = PartnerFactory(tenant=scoped)
    untouched = PartnerFactory(tenant=scoped)
    _, raw_key = api_key_create(tenant=scoped, name="push")
    body = {"entries": [{"domain": "new.com", "industry": "software", "employees": 2000}]}

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/partners/{pushed.pk}/reach/",
            body,
            content_type="application/json",
            headers={"Authorization": f"Api-Key {raw_key}"},
        )

    assert response.status_code == 200
    score = PartnerScore.objects.get(partner=pushed)
    assert (score.reach_count, score.unmatched_on_profile_count) == (1, 1)
    assert score.overlap_score == 60
    assert not PartnerScore.objects.filter(partner=untouched).exists()


def test_reach_import_refreshes_partners_in_file(scoped, django_capture_on_commit_callbacks):
    active_version(scoped)
    in_file = PartnerFactory(tenant=scoped, external_id="p1")
    untouched = PartnerFactory(tenant=scoped, external_id="p2")
    content = b"partner_external_id,domain,industry,employees\np1,acme.com,Software,50\n"

    with django_capture_on_commit_callbacks(execute=True):
        csv_import(tenant=scoped, kind="reach", content=content, filename="reach.csv")

    score = PartnerScore.objects.get(partner=in_file)
    assert (score.reach_count, score.unmatched_scored_count, score.on_profile_count) == (1, 1, 1)
    assert ReachEntry.objects.get().fit_tier == "B"
    assert not PartnerScore.objects.filter(partner=untouched).exists()


def test_reach_replace_refreshes_partner(scoped, django_capture_on_commit_callbacks):
    active_version(scoped)
    AccountFactory(tenant=scoped, domain="known.com", fit_score=100, fit_tier="A")
    partner = PartnerFactory(tenant=scoped)

    with django_capture_on_commit_callbacks(execute=True):
        reach_replace(partner=partner, entries=[("known.com", "Known")], source="test")

    score = PartnerScore.objects.get(partner=partner)
    # The one open target is reached: 60 × 1 + 40 × min(1, 1 / 0.25).
    assert (score.matched_count, score.on_profile_count, score.overlap_score) == (1, 1, 100)


def test_activation_rescores_partners_and_reach(tenant, admin_user):
    with tenant_scope(tenant):
        old = active_version(tenant)
        AccountFactory(tenant=tenant, domain="known.com", industry="software", employees=5000)
        partner = PartnerFactory(tenant=tenant)
        ReachEntry.objects.create(tenant=tenant, partner=partner, domain="known.com")
        ReachEntry.objects.create(
            tenant=tenant, partner=partner, domain="retail.com", industry="retail", employees=9
        )
        partner_scores_refresh(tenant=tenant)
        assert PartnerScore.objects.get(partner=partner).icp_version == old
    retail = [{"key": "retail", "label": "Retail", "field": "industry", "kind": "category",
               "values": ["retail"], "weight": 1}]  # fmt: skip
    new = icp_version_create(tenant=tenant, name="Retail", criteria=retail, tier_cutoffs=CUTOFFS)

    with TestCase.captureOnCommitCallbacks(execute=True):
        icp_version_activate(version=new, actor=admin_user)

    with tenant_scope(tenant):
        score = PartnerScore.objects.get(partner=partner)
        entry = ReachEntry.objects.get(domain="retail.com")
    assert score.icp_version_id == new.pk
    # The retail entry outside the CRM is tier A now, and the software account tier D.
    assert (entry.fit_score, entry.fit_tier, entry.fit_version_id) == (100, "A", new.pk)
    assert (score.on_profile_count, score.unmatched_on_profile_count) == (1, 1)
    assert score.on_profile_share == Decimal("0.5000")


def test_won_deal_refreshes_partner(scoped, django_capture_on_commit_callbacks):
    active_version(scoped)
    CommissionPlanFactory(tenant=scoped, base_rate=Decimal("0.1000"))
    partner = PartnerFactory(tenant=scoped)
    account = AccountFactory(
        tenant=scoped, external_id="a1", industry="software", employees=5000
    )  # fmt: skip
    registration_create(partner, account.domain, datetime.date(2017, 1, 1))

    with django_capture_on_commit_callbacks(execute=True):
        deal_upsert(
            tenant=scoped, external_id="D1", stage="won", amount=Decimal("1000.00"),
            close_date=datetime.date(2017, 6, 1), account_external_id="a1",
        )  # fmt: skip

    score = PartnerScore.objects.get(partner=partner)
    assert (score.won_deal_count, score.customer_count) == (1, 1)
    assert score.on_profile_won_revenue == Decimal("1000.00")
    assert score.commission_cost == Decimal("150.0000")
    assert score.customer_tiers["A"] == 1
    assert (score.segment, score.segment_basis) == ("deprioritise", "overlap_only")


# Debouncing


def test_thousand_won_deals_send_one_refresh(scoped, sent, django_capture_on_commit_callbacks):
    active_version(scoped)
    CommissionPlanFactory(tenant=scoped, base_rate=Decimal("0.1000"))
    partners = [PartnerFactory(tenant=scoped, external_id=f"p{i}") for i in range(2)]
    for index in range(10):
        account = AccountFactory(
            tenant=scoped, external_id=f"a{index}", industry="software", employees=5000
        )  # fmt: skip
        registration_create(partners[index % 2], account.domain, datetime.date(2017, 1, 1))
    lines = ["external_id,stage,account_external_id,amount,close_date"]
    lines += [f"D{i},won,a{i % 10},100.00,2017-06-01" for i in range(1000)]

    with django_capture_on_commit_callbacks(execute=True):
        run = csv_import(
            tenant=scoped, kind="deals", content="\n".join(lines).encode(), filename="deals.csv"
        )

    assert run.rows_created == 1000
    assert len(sent) == 1
    assert sent[0]["kwargs"] == {"claim": True}
    assert sent[0]["countdown"] == recompute.DEBOUNCE_SECONDS
    assert not PartnerScore.objects.exists()

    assert run_claimed(scoped.pk) == 2

    won_counts = dict(PartnerScore.objects.values_list("partner__external_id", "won_deal_count"))
    assert won_counts == {"p0": 500, "p1": 500}


def test_burst_of_requests_sends_one_task(scoped, sent):
    partners = [PartnerFactory(tenant=scoped) for _ in range(6)]

    results = [
        recompute.partner_scores_request(scoped.pk, [partner.pk]) for partner in partners[:5]
    ]

    assert results == [True, False, False, False, False]
    assert len(sent) == 1
    ttl = recompute.redis_client().ttl(f"{recompute.KEY_PREFIX}:scheduled:{scoped.pk}")
    assert 0 < ttl <= recompute.SCHEDULED_TTL_SECONDS
    assert run_claimed(scoped.pk) == 5
    refreshed = set(PartnerScore.objects.values_list("partner_id", flat=True))
    assert refreshed == {partner.pk for partner in partners[:5]}


def test_request_after_claim_schedules_again(scoped, sent):
    first, second = PartnerFactory(tenant=scoped), PartnerFactory(tenant=scoped)
    recompute.partner_scores_request(scoped.pk, [first.pk])
    run_claimed(scoped.pk, task_id="claim-1")

    recompute.partner_scores_request(scoped.pk, [second.pk])

    assert len(sent) == 2
    assert run_claimed(scoped.pk, task_id="claim-2") == 1


def test_tenant_request_refreshes_every_partner(scoped, sent):
    partners = [PartnerFactory(tenant=scoped) for _ in range(3)]
    recompute.partner_scores_request(scoped.pk, [partners[0].pk])
    recompute.partner_scores_request(scoped.pk, None)

    assert run_claimed(scoped.pk) == 3


def test_killed_task_redelivered_refreshes_claim(scoped, sent):
    first, second = PartnerFactory(tenant=scoped), PartnerFactory(tenant=scoped)
    recompute.partner_scores_request(scoped.pk, [first.pk])
    # A worker claims the pending partners, then dies before refreshing them.
    claim = recompute.pending_claim(tenant_id=scoped.pk, claim_id="lost-task")
    assert claim.partner_ids == [first.pk]
    recompute.partner_scores_request(scoped.pk, [second.pk])

    # Redelivered with the same task id, the task refreshes its claim and what is new.
    assert run_claimed(scoped.pk, task_id="lost-task") == 2

    assert PartnerScore.objects.count() == 2
    assert not recompute.redis_client().exists(
        f"{recompute.KEY_PREFIX}:claimed:{scoped.pk}:lost-task"
    )
    assert run_claimed(scoped.pk, task_id="late-task") == 0


# Idempotency and chunks

SNAPSHOT_EXCLUDED = {"id", "created_at", "updated_at", "computed_at"}


def snapshot() -> list[dict]:
    rows = PartnerScore.objects.order_by("partner_id").values()
    scores_now = [{k: v for k, v in row.items() if k not in SNAPSHOT_EXCLUDED} for row in rows]
    fits = list(
        ReachEntry.objects.order_by("pk").values_list("pk", "fit_score", "fit_tier", "account_id")
    )
    return [*scores_now, fits]


@pytest.fixture
def world(scoped):
    active_version(scoped)
    partner, accounts = overlap_world(scoped)
    won(scoped, partner, accounts["customer"], "4000.00", "A")
    ledger(scoped, partner, "600.00")
    for index in range(4):
        other = PartnerFactory(tenant=scoped, name=f"Small {index}")
        ReachEntry.objects.create(tenant=scoped, partner=other, domain="target-a.com")
        ReachEntry.objects.create(
            tenant=scoped, partner=other, domain=f"out{index}.com", industry="software"
        )
    return partner


def test_refresh_twice_same_rows(scoped, world):
    partner_scores_refresh(tenant=scoped)
    first = snapshot()

    partner_scores_refresh(tenant=scoped)

    assert snapshot() == first
    assert PartnerScore.objects.count() == 5


def test_refresh_in_chunks_matches_one_chunk(scoped, world, caplog):
    partner_scores_refresh(tenant=scoped, chunk_size=500)
    whole = snapshot()
    PartnerScore.objects.all().delete()
    caplog.set_level(logging.INFO, logger="partners.services")

    written = partner_scores_refresh(tenant=scoped, chunk_size=2)

    assert written == 5
    assert snapshot() == whole
    assert "chunks=3" in caplog.text
    assert f"partner_scores.refresh_started tenant_id={scoped.pk}" in caplog.text


def test_refresh_killed_between_chunks_finishes_on_rerun(scoped, world, monkeypatch):
    partner_scores_refresh(tenant=scoped)
    whole = snapshot()
    PartnerScore.objects.all().delete()
    write = scores.partner_scores_write
    calls = []

    def dies_on_second_chunk(**kwargs):
        calls.append(kwargs["partner_ids"])
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return write(**kwargs)

    monkeypatch.setattr(scores, "partner_scores_write", dies_on_second_chunk)
    with pytest.raises(RuntimeError):
        partner_scores_refresh(tenant=scoped, chunk_size=2)

    assert set(PartnerScore.objects.values_list("partner_id", flat=True)) == set(calls[0])
    monkeypatch.setattr(scores, "partner_scores_write", write)
    partner_scores_refresh(tenant=scoped, chunk_size=2)
    assert snapshot() == whole


def test_refresh_of_some_partners_leaves_others(scoped, world):
    partner_scores_refresh(tenant=scoped, partner_ids=[world.pk])

    assert list(PartnerScore.objects.values_list("partner_id", flat=True)) == [world.pk]


def test_direct_won_deal_refreshes_reaching_partners(scoped, django_capture_on_commit_callbacks):
    active_version(scoped)
    reaching = PartnerFactory(tenant=scoped)
    elsewhere = PartnerFactory(tenant=scoped)
    account = AccountFactory(
        tenant=scoped, external_id="a1", domain="a1.com", industry="software", employees=5000
    )
    ReachEntry.objects.create(tenant=scoped, partner=reaching, domain="a1.com", account=account)
    ReachEntry.objects.create(tenant=scoped, partner=elsewhere, domain="other.com")

    with django_capture_on_commit_callbacks(execute=True):
        deal_upsert(
            tenant=scoped, external_id="D1", stage="won", amount=Decimal("1000.00"),
            close_date=datetime.date(2017, 6, 1), account_external_id="a1",
        )  # fmt: skip

    # The direct deal makes the account a customer of the partner that reaches it.
    score = PartnerScore.objects.get(partner=reaching)
    assert (score.customer_overlap_count, score.target_overlap_count) == (1, 0)
    assert score.won_deal_count == 0
    assert not PartnerScore.objects.filter(partner=elsewhere).exists()
