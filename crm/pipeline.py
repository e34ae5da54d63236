"""The won-deal pipeline: score, snapshot fit, attribute, accrue, roll up.

`deals_process` runs the pipeline, and `deals_attribute` is also called by
imports and the API to credit deals of every stage. `deals_process` takes won
deals still PENDING in chunks with `FOR UPDATE SKIP LOCKED`, so two workers
never process one deal and a retry after a crash only finds what is left. Every write is set-based,
so a single API deal and a 100,000-row import run the same code.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from commissions.fx import (
    MissingExchangeRate,
    amount_convert,
    deal_amounts_convert,
    exchange_rate_for,
)
from commissions.selectors import commission_plans_activated, plan_in_force
from commissions.services import accruals_write
from crm.models import Deal
from icp import services as icp_services
from partners.recompute import partner_scores_enqueue
from reporting.services import partner_rollups_refresh
from tenancy.models import Tenant
from tenancy.scope import tenant_scope
from webhooks import payloads
from webhooks.events import event_emit

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000


NO_PLAN_ERROR = (
    "Waiting for a commission plan in force on the deal's close date to book the partner's "
    "commission."
)
# Errors worth retrying later, so the pipeline lets them through to the task's retry.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


def deals_process(*, tenant_id: int, deal_ids: list[int] | None = None) -> int:
    """Process the tenant's pending won deals (all, or only `deal_ids`); return the count.

    A chunk that fails for any reason other than a lost database connection is
    processed again one deal at a time. A deal that still fails is marked FAILED
    with its error, so one bad deal does not hold up the others. Partner-credited
    deals wait in PENDING while the tenant has no active commission plan.
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.warning("pipeline.tenant_missing tenant_id=%s", tenant_id)
        return 0
    total = 0
    waiting_for_plan: set[int] = set()
    logger.info("pipeline.started tenant_id=%s deal_ids=%s", tenant_id, deal_ids)
    with tenant_scope(tenant):
        while True:
            try:
                fetched, processed = _process_chunk(tenant, deal_ids, waiting_for_plan)
            except TRANSIENT_ERRORS:
                raise
            except Exception:
                logger.exception("pipeline.chunk_failed tenant_id=%s", tenant_id)
                fetched, processed = _process_one_by_one(tenant, deal_ids, waiting_for_plan)
            total += processed
            if fetched < CHUNK_SIZE:
                break
    logger.info(
        "pipeline.finished tenant_id=%s processed=%s waiting_for_plan=%s",
        tenant_id,
        total,
        len(waiting_for_plan),
    )
    return total


def _pending(deal_ids: list[int] | None, waiting_for_plan: set[int]):
    pending = Deal.objects.filter(
        stage=Deal.Stage.WON, pipeline_status=Deal.PipelineStatus.PENDING
    ).order_by("pk")
    if deal_ids is not None:
        pending = pending.filter(pk__in=deal_ids)
    return pending.exclude(pk__in=waiting_for_plan)


def _process_one_by_one(tenant: Tenant, deal_ids: list[int] | None, waiting_for_plan: set[int]):
    ids = list(_pending(deal_ids, waiting_for_plan).values_list("pk", flat=True)[:CHUNK_SIZE])
    processed = 0
    for deal_id in ids:
        try:
            processed += _process_chunk(tenant, [deal_id], waiting_for_plan)[1]
        except TRANSIENT_ERRORS:
            raise
        except Exception as error:
            logger.exception("pipeline.deal_failed tenant_id=%s deal_id=%s", tenant.pk, deal_id)
            Deal.objects.filter(pk=deal_id).update(
                pipeline_status=Deal.PipelineStatus.FAILED,
                pipeline_error=f"{type(error).__name__}: {error}"[:500],
                updated_at=timezone.now(),
            )
    return len(ids), processed


@transaction.atomic
def _process_chunk(
    tenant: Tenant, deal_ids: list[int] | None, waiting_for_plan: set[int]
) -> tuple[int, int]:
    """Process one locked chunk; return how many deals it fetched and how many it booked.

    Deals that need a commission while no plan is active are added to
    `waiting_for_plan`, which later chunks of the same run skip.
    """
    chunk = list(
        _pending(deal_ids, waiting_for_plan)
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", "account_id")[:CHUNK_SIZE]
    )
    if not chunk:
        return 0, 0
    ids = [pk for pk, _ in chunk]
    account_ids = sorted({account_id for _, account_id in chunk})

    icp_services.accounts_rescore(tenant=tenant, account_ids=account_ids)
    _snapshot_fit(tenant.pk, ids)
    deals_attribute(tenant=tenant, deal_ids=ids)

    attributed = list(
        Deal.objects.filter(pk__in=ids, partner__isnull=False).values(
            "id",
            "partner_id",
            "amount",
            "currency",
            "close_date",
            "won_fit_tier",
            "won_fit_score",
            "won_fit_version_id",
        )
    )
    booked = set(ids)
    # Each deal is paid by the plan in force on its close date (today without one).
    plans = commission_plans_activated()
    today = tenant.today()
    by_plan: dict[int, list[dict]] = {}
    waiting = set()
    quotes = QuoteCache(tenant)
    errors: dict[str, set[int]] = {}
    for deal in attributed:
        day = deal["close_date"] or today
        plan = plan_in_force(plans, day)
        if plan is None:
            errors.setdefault(NO_PLAN_ERROR, set()).add(deal["id"])
            continue
        try:
            quote = quotes.get(deal["currency"], day)
        except MissingExchangeRate as error:
            errors.setdefault(f"{error.message} {error.fix}"[:500], set()).add(deal["id"])
            continue
        deal["exchange_rate"] = quote.rate
        deal["base_amount"] = amount_convert(amount=deal["amount"], quote=quote)
        deal["base_currency"] = quote.base_currency
        by_plan.setdefault(plan.pk, []).append(deal)
    for error, deal_ids in errors.items():
        logger.warning(
            "pipeline.deals_waiting tenant_id=%s count=%s reason=%s",
            tenant.pk,
            len(deal_ids),
            error[:80],
        )
        Deal.objects.filter(pk__in=deal_ids).exclude(pipeline_error=error).update(
            pipeline_error=error
        )
        waiting |= deal_ids
    if waiting:
        waiting_for_plan |= waiting
        booked -= waiting
        attributed = [deal for deal in attributed if deal["id"] not in waiting]
    plans_by_id = {plan.pk: plan for plan in plans}
    for plan_id, deals in by_plan.items():
        accruals_write(plan=plans_by_id[plan_id], deals=deals)

    # Freeze the base-currency amount that reports add up, at the rate the ledger used.
    deal_amounts_convert(tenant=tenant, deal_ids=list(booked))
    Deal.objects.filter(pk__in=booked).update(
        pipeline_status=Deal.PipelineStatus.PROCESSED,
        processed_at=timezone.now(),
        pipeline_error="",
    )
    event_emit(tenant.pk, "deal.scored", partial(payloads.deal_payloads, sorted(booked)))
    partner_ids = sorted({deal["partner_id"] for deal in attributed})
    if partner_ids:
        partner_rollups_refresh(partner_ids=partner_ids)
    # The credited partners' results changed, and so did the overlap of partners that
    # reach these accounts: refresh their scores in the worker once this commits.
    partner_scores_enqueue(tenant_id=tenant.pk, partner_ids=partner_ids, account_ids=account_ids)
    return len(ids), len(booked)


class QuoteCache:
    """The tenant's exchange rates of one chunk, looked up once per currency and day."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.quotes: dict[tuple[str, object], object] = {}

    def get(self, currency: str, day):
        key = (currency, day)
        if key not in self.quotes:
            try:
                self.quotes[key] = exchange_rate_for(
                    tenant=self.tenant, currency=currency, on_date=day
                )
            except MissingExchangeRate as error:
                self.quotes[key] = error
        found = self.quotes[key]
        if isinstance(found, MissingExchangeRate):
            raise found
        return found


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


# ORDER BY of the touch that wins a deal, per Tenant.attribution_touch; ties go to
# the touch written first (first touch) or last (last touch).
TOUCH_ORDER = {
    Tenant.Touch.FIRST: "t.touched_at ASC, t.id ASC",
    Tenant.Touch.LAST: "t.touched_at DESC, t.id DESC",
}


def deals_attribute(*, tenant: Tenant, deal_ids: list[int]) -> None:
    """Credit deals to a partner: the one named on the deal, else the winning touch.

    The touches of a deal are those on its account's domain: registrations that
    are approved, and tracking-link touches. A touch counts when its date in the
    tenant's time zone is on or before the deal's close date (today for a deal
    without one) and at most `attribution_window_days` days before it. Among them
    the earliest wins under the first-touch rule and the latest under the
    last-touch rule. A renewal or expansion goes to the partner of the account's
    first won new-business deal when there is one. Imports and the API call this
    for deals of every stage, so lost deals count against partners as they do
    against direct sales. The credit
    is recomputed on every call, until the deal is booked; booked deals never change.
    """
    order = TOUCH_ORDER[tenant.attribution_touch]
    with connection.cursor() as cursor:
        # Correlated subqueries on the account's primary key and the touch index
        # (tenant, domain, touched_at) keep this linear in the number of deals. A join
        # of the deal table with itself was quadratic on freshly imported rows,
        # because the planner had no statistics for them yet.
        winner = f"""
            SELECT t.partner_id
              FROM crm_account AS a
              JOIN attribution_touch AS t
                ON t.tenant_id = a.tenant_id AND t.domain = a.domain
              LEFT JOIN attribution_referral AS r
                ON r.id = t.referral_id
             WHERE a.tenant_id = d.tenant_id AND a.id = d.account_id AND a.domain <> ''
               AND (t.kind = 'link' OR r.status = 'approved')
               AND t.touched_at < ((COALESCE(d.close_date, %(today)s::date) + 1)::timestamp
                                   AT TIME ZONE %(time_zone)s)
               AND t.touched_at >= ((COALESCE(d.close_date, %(today)s::date)
                                     - %(window_days)s::int)::timestamp
                                    AT TIME ZONE %(time_zone)s)
             ORDER BY {order}
             LIMIT 1
        """  # noqa: S608 - the only interpolation is a fixed ORDER BY from TOUCH_ORDER
        # Rows whose credit does not change are not rewritten.
        cursor.execute(
            f"""
            UPDATE crm_deal AS d
               SET partner_id = ({winner})
             WHERE d.tenant_id = %(tenant_id)s AND d.id = ANY(%(deal_ids)s)
               AND NOT d.partner_named
               AND d.pipeline_status <> 'processed'
               AND d.partner_id IS DISTINCT FROM ({winner})
            """,  # noqa: S608 - the only interpolation is the fixed subquery above
            {
                "today": tenant.today(),
                "time_zone": tenant.time_zone,
                "window_days": tenant.attribution_window_days,
                "tenant_id": tenant.pk,
                "deal_ids": deal_ids,
            },
        )
        # Renewals and expansions stay with the partner of the account's first won
        # new-business deal, whatever touches came since.
        original = """
            SELECT f.partner_id
              FROM crm_deal AS f
             WHERE f.tenant_id = d.tenant_id AND f.account_id = d.account_id
               AND f.id <> d.id AND f.stage = 'won' AND f.kind = 'new'
               AND f.partner_id IS NOT NULL
             ORDER BY f.close_date ASC NULLS LAST, f.id ASC
             LIMIT 1
        """
        cursor.execute(
            f"""
            UPDATE crm_deal AS d
               SET partner_id = ({original})
             WHERE d.tenant_id = %s AND d.id = ANY(%s)
               AND d.kind IN ('renewal', 'expansion')
               AND NOT d.partner_named
               AND d.pipeline_status <> 'processed'
               AND EXISTS ({original})
               AND d.partner_id IS DISTINCT FROM ({original})
            """,  # noqa: S608 - the only interpolation is the fixed subquery above
            [tenant.pk, deal_ids],
        )
        cursor.execute(
            """
            UPDATE crm_deal AS d
               SET source = CASE WHEN d.partner_id IS NULL THEN 'direct' ELSE 'partner' END
             WHERE d.tenant_id = %s AND d.id = ANY(%s)
               AND d.pipeline_status <> 'processed'
               AND d.source <> CASE WHEN d.partner_id IS NULL THEN 'direct' ELSE 'partner' END
            """,
            [tenant.pk, deal_ids],
        )
