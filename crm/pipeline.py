"""The won-deal pipeline: score, snapshot fit, attribute, accrue, roll up.

`deals_process` is the only entry point. It takes won deals still PENDING, in
chunks, with `FOR UPDATE SKIP LOCKED`, so two workers never process one deal
and a retry after a crash only finds what is left. Every write is set-based,
so a single API deal and a 100,000-row import run the same code.
"""

from __future__ import annotations

import datetime
import logging

from django.db import connection, transaction
from django.utils import timezone

from commissions.selectors import commission_plan_active
from commissions.services import accruals_write
from crm.models import Deal
from icp import services as icp_services
from reporting.services import partner_rollups_refresh
from tenancy.models import Tenant
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000


def deals_process(*, tenant_id: int, deal_ids: list[int] | None = None) -> int:
    """Process the tenant's pending won deals (all, or only `deal_ids`); return the count."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.warning("pipeline.tenant_missing tenant_id=%s", tenant_id)
        return 0
    total = 0
    logger.info("pipeline.started tenant_id=%s deal_ids=%s", tenant_id, deal_ids)
    with tenant_scope(tenant):
        while True:
            processed = _process_chunk(tenant, deal_ids)
            total += processed
            if processed < CHUNK_SIZE:
                break
    logger.info("pipeline.finished tenant_id=%s processed=%s", tenant_id, total)
    return total


@transaction.atomic
def _process_chunk(tenant: Tenant, deal_ids: list[int] | None) -> int:
    pending = Deal.objects.filter(
        stage=Deal.Stage.WON, pipeline_status=Deal.PipelineStatus.PENDING
    ).order_by("pk")
    if deal_ids is not None:
        pending = pending.filter(pk__in=deal_ids)
    chunk = list(
        pending.select_for_update(skip_locked=True, of=("self",)).values_list("pk", "account_id")[
            :CHUNK_SIZE
        ]
    )
    if not chunk:
        return 0
    ids = [pk for pk, _ in chunk]
    account_ids = sorted({account_id for _, account_id in chunk})

    icp_services.accounts_rescore(tenant=tenant, account_ids=account_ids)
    _snapshot_fit(tenant.pk, ids)
    deals_attribute(tenant=tenant, deal_ids=ids)

    plan = commission_plan_active()
    attributed = list(
        Deal.objects.filter(pk__in=ids, partner__isnull=False).values(
            "id",
            "partner_id",
            "amount",
            "currency",
            "won_fit_tier",
            "won_fit_score",
            "won_fit_version_id",
        )
    )
    if plan is None and attributed:
        logger.warning("pipeline.no_active_plan tenant_id=%s deals=%s", tenant.pk, len(attributed))
    elif attributed:
        accruals_write(plan=plan, deals=attributed)

    Deal.objects.filter(pk__in=ids).update(
        pipeline_status=Deal.PipelineStatus.PROCESSED, processed_at=timezone.now()
    )
    partner_ids = sorted({deal["partner_id"] for deal in attributed})
    if partner_ids:
        partner_rollups_refresh(partner_ids=partner_ids)
    return len(ids)


def _snapshot_fit(tenant_id: int, deal_ids: list[int]) -> None:
    """Freeze each deal's account fit as it is now, when the deal is processed as won."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE crm_deal AS d
               SET won_fit_score = a.fit_score,
                   won_fit_tier = a.fit_tier,
                   won_fit_version_id = a.fit_version_id
              FROM crm_account AS a
             WHERE d.tenant_id = %s AND d.id = ANY(%s)
               AND a.tenant_id = d.tenant_id AND a.id = d.account_id
            """,
            [tenant_id, deal_ids],
        )


def deals_attribute(*, tenant: Tenant, deal_ids: list[int]) -> None:
    """Credit deals to a partner: the one named on the deal, else the account's referrer.

    A referral counts for deals that close within the tenant's attribution window
    after the referral date. Imports and the API call this for deals of every
    stage, so lost deals count against partners as they do against direct sales.
    Referral credit is recomputed from the deal's current account and close date
    on every call, until the deal is booked; booked deals never change.
    """
    window = datetime.timedelta(days=tenant.attribution_window_days)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE crm_deal AS d
               SET partner_id = credit.partner_id,
                   source = CASE WHEN credit.partner_id IS NULL THEN 'direct' ELSE 'partner' END
              FROM (SELECT d2.id,
                           CASE WHEN d2.partner_named THEN d2.partner_id
                                WHEN a.referred_at IS NOT NULL
                                 AND d2.close_date >= a.referred_at
                                 AND d2.close_date <= a.referred_at + %s
                                THEN a.referred_by_id
                           END AS partner_id
                      FROM crm_deal AS d2
                 LEFT JOIN crm_account AS a
                        ON a.tenant_id = d2.tenant_id AND a.id = d2.account_id
                     WHERE d2.tenant_id = %s AND d2.id = ANY(%s)
                       AND d2.pipeline_status <> 'processed') AS credit
             WHERE d.tenant_id = %s AND d.id = credit.id
               AND (d.partner_id IS DISTINCT FROM credit.partner_id
                    OR d.source <> CASE WHEN credit.partner_id IS NULL
                                        THEN 'direct' ELSE 'partner' END)
            """,
            [window, tenant.pk, deal_ids, tenant.pk],
        )
