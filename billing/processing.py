"""Process a stored billing event: translate it and write deals, refunds and churn.

Processing runs in a Celery task after the event row commits. It locks the event,
skips it unless it is still `received`, and writes every action of the event and
its new status in one transaction, so a retried or doubled task writes nothing
twice. An event whose customer or invoice cannot be traced to a Track360 account
or deal is marked `unmatched` with the reason, and nothing of it is written.
`billing_event_retry` queues such an event again once the account exists.

How an event finds its account, first match wins:
1. `metadata.account_external_id` of the invoice, subscription or expanded customer;
2. `metadata.domain` there, normalised like every account domain;
3. the account an earlier invoice event of the same provider customer matched;
4. the domain of the invoice's `customer_email`, unless it is a personal mail provider.
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.actions import Churn, CustomerHints, DealWon, Ignore, ProviderEvent, Refund
from billing.models import BillingEvent
from billing.providers import PayloadInvalid, provider_module
from commissions.reversals import revenue_event_record
from crm.domains import InvalidDomain, normalize_domain
from crm.freemail import is_personal_domain
from crm.models import Account
from crm.services import deal_upsert
from tenancy.errors import Conflict, DomainError, NotFound
from tenancy.models import Tenant
from tenancy.queue import enqueue_on_commit
from tenancy.scope import tenant_scope
from tenancy.services import audit_record

logger = logging.getLogger(__name__)

Status = BillingEvent.Status
# Event types whose processed rows carry the charge and payment intent of an invoice.
INVOICE_EVENT_TYPES = ("invoice.paid",)
# Prefix of the outcome lines of actions that wrote nothing.
IGNORED = "ignored: "


class Unmatched(Exception):
    """An event names a customer, charge or deal that Track360 cannot find."""


def billing_event_process(*, tenant_id: int, billing_event_id: int) -> str:
    """Process one received event and return its new status. Safe to run twice."""
    with tenant_scope(tenant_id), transaction.atomic():
        event = BillingEvent.objects.select_for_update().filter(pk=billing_event_id).first()
        if event is None or event.status != Status.RECEIVED:
            logger.info(
                "billing_event.skipped tenant_id=%s billing_event_id=%s status=%s",
                tenant_id,
                billing_event_id,
                event.status if event else "missing",
            )
            return event.status if event else "missing"
        tenant = Tenant.objects.get(pk=tenant_id)
        logger.info(
            "billing_event.processing tenant_id=%s billing_event_id=%s type=%s",
            tenant_id,
            event.pk,
            event.event_type,
        )
        event.attempts += 1
        try:
            with transaction.atomic():
                event.status, event.outcome = _event_apply(tenant, event)
            ignored = [
                line.removeprefix(IGNORED) for line in event.outcome if line.startswith(IGNORED)
            ]
            event.error = " ".join(ignored) if event.status == Status.IGNORED else ""
        except Unmatched as error:
            event.status, event.error, event.outcome = Status.UNMATCHED, str(error), []
        except PayloadInvalid as error:
            event.status, event.error, event.outcome = Status.FAILED, str(error), []
        except DomainError as error:
            event.status = Status.FAILED
            event.error = f"{error.message} {error.fix}".strip()
            event.outcome = []
        event.processed_at = timezone.now()
        event.save()
    log = logger.warning if event.status in (Status.UNMATCHED, Status.FAILED) else logger.info
    log(
        "billing_event.done tenant_id=%s billing_event_id=%s status=%s error=%s",
        tenant_id,
        event.pk,
        event.status,
        event.error,
    )
    return event.status


def billing_event_fail(*, tenant_id: int, billing_event_id: int, reason: str) -> None:
    """Mark a received event failed after its last retry, with the reason."""
    with tenant_scope(tenant_id):
        updated = BillingEvent.objects.filter(pk=billing_event_id, status=Status.RECEIVED).update(
            status=Status.FAILED, error=reason, processed_at=timezone.now()
        )
    logger.error(
        "billing_event.failed tenant_id=%s billing_event_id=%s updated=%s reason=%s",
        tenant_id,
        billing_event_id,
        updated,
        reason,
    )


def _event_apply(tenant: Tenant, event: BillingEvent) -> tuple[str, list[str]]:
    module = provider_module(event.provider)
    provider_event = ProviderEvent(
        event_id=event.event_id,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        payload=event.payload,
    )
    outcome = []
    for action in module.translate(provider_event):
        if isinstance(action, Ignore):
            outcome.append(f"{IGNORED}{action.reason}")
        elif isinstance(action, DealWon):
            outcome.append(_deal_won_apply(tenant, event, action))
        elif isinstance(action, Refund):
            outcome.append(_refund_apply(tenant, event, action))
        elif isinstance(action, Churn):
            outcome.append(_churn_apply(tenant, event, action))
    wrote = any(not line.startswith(IGNORED) for line in outcome)
    return (Status.PROCESSED if wrote else Status.IGNORED), outcome


def _local_date(tenant: Tenant, moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(zoneinfo.ZoneInfo(tenant.time_zone)).date()


def _deal_won_apply(tenant: Tenant, event: BillingEvent, action: DealWon) -> str:
    account = account_match(event, action.customer)
    event.account = account
    deal, created = deal_upsert(
        tenant=tenant,
        external_id=action.external_id,
        stage="won",
        amount=action.amount,
        currency=action.currency,
        close_date=_local_date(tenant, action.paid_at),
        name=action.name,
        kind=action.kind,
        account_external_id=account.external_id,
    )
    verb = "booked" if created else "confirmed"
    return f"{verb} {action.kind} deal {deal.external_id}: {action.amount} {action.currency}"


def _refund_apply(tenant: Tenant, event: BillingEvent, action: Refund) -> str:
    invoice_ref = action.invoice_ref or _invoice_of_payment(action)
    deal_external_id = f"{event.provider}:{invoice_ref}"
    try:
        result = revenue_event_record(
            tenant=tenant,
            external_id=action.external_id,
            kind="refund",
            occurred_on=_local_date(tenant, action.occurred_at),
            deal_external_id=deal_external_id,
            amount=action.amount,
            currency=action.currency,
        )
    except NotFound as error:
        raise Unmatched(
            f"The refund {action.external_id} is of deal {deal_external_id}, which "
            f"Track360 does not have: {error.message} Its invoice.paid event may be "
            "unmatched or not received yet."
        ) from None
    verb = "recorded" if result.created else "confirmed"
    return f"{verb} refund {action.external_id} of deal {deal_external_id}: {action.amount}"


def _invoice_of_payment(action: Refund) -> str:
    """Return the invoice whose processed invoice.paid event carried the refund's payment."""
    payment = Q()
    if action.charge_ref:
        payment |= Q(charge_ref=action.charge_ref)
    if action.payment_intent_ref:
        payment |= Q(payment_intent_ref=action.payment_intent_ref)
    invoice_event = None
    if payment:
        invoice_event = (
            BillingEvent.objects.filter(
                payment, event_type__in=INVOICE_EVENT_TYPES, status=Status.PROCESSED
            )
            .exclude(invoice_ref="")
            .order_by("-occurred_at")
            .first()
        )
    if invoice_event is None:
        raise Unmatched(
            f"The refund {action.external_id} names charge {action.charge_ref or 'none'} and "
            f"payment intent {action.payment_intent_ref or 'none'}, and no processed "
            "invoice.paid event carries either, so its deal is unknown."
        )
    return invoice_event.invoice_ref


def _churn_apply(tenant: Tenant, event: BillingEvent, action: Churn) -> str:
    account = account_match(event, action.customer)
    event.account = account
    result = revenue_event_record(
        tenant=tenant,
        external_id=action.external_id,
        kind="churn",
        occurred_on=_local_date(tenant, action.occurred_at),
        account_external_id=account.external_id,
    )
    verb = "recorded" if result.created else "confirmed"
    return f"{verb} churn {action.external_id} of account {account.external_id}"


def account_match(event: BillingEvent, hints: CustomerHints) -> Account:
    """Return the account an event's customer belongs to, or raise Unmatched with what was tried."""
    tried = []
    if hints.account_external_id:
        account = Account.objects.filter(external_id=hints.account_external_id).first()
        if account is not None:
            return account
        tried.append(f"metadata.account_external_id {hints.account_external_id!r}")
    if hints.domain:
        account = _account_by_domain(hints.domain)
        if account is not None:
            return account
        tried.append(f"metadata.domain {hints.domain!r}")
    if hints.customer_ref:
        earlier = (
            BillingEvent.objects.filter(
                provider=event.provider, customer_ref=hints.customer_ref, account__isnull=False
            )
            .exclude(pk=event.pk)
            .order_by("-occurred_at")
            .select_related("account")
            .first()
        )
        if earlier is not None:
            return earlier.account
        tried.append(f"earlier invoices of customer {hints.customer_ref}")
    if hints.email:
        _, _, email_domain = hints.email.rpartition("@")
        account = _account_by_domain(email_domain, skip_personal=True)
        if account is not None:
            return account
        tried.append(f"the domain of customer email {hints.email!r}")
    raise Unmatched(
        "No account matches the customer"
        + (f" {hints.customer_ref}" if hints.customer_ref else "")
        + (": tried " + ", ".join(tried) if tried else ": the event names no customer details")
        + ". Create the account, or set metadata.account_external_id or metadata.domain "
        "on the customer in the billing provider."
    )


def _account_by_domain(raw: str, *, skip_personal: bool = False) -> Account | None:
    try:
        domain = normalize_domain(raw)
    except InvalidDomain:
        return None
    if skip_personal and is_personal_domain(domain):
        return None
    return Account.objects.filter(domain=domain).first()


# Received events older than this are left to the sweep: their task was likely lost.
SWEEP_GRACE = datetime.timedelta(minutes=1)
SWEEP_BATCH = 500


def billing_events_sweep(*, now: datetime.datetime | None = None) -> int:
    """Process every tenant's events still received after SWEEP_GRACE; return how many.

    An event whose task runs meanwhile is skipped by `billing_event_process`, so the
    sweep and the task never both write.
    """
    cutoff = (now or timezone.now()) - SWEEP_GRACE
    # NOTE: a read across tenants that only finds which events wait; each one is then
    # processed inside its own tenant's scope.
    waiting = list(
        BillingEvent.all_tenants.filter(status=Status.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at", "id")
        .values_list("tenant_id", "id")[:SWEEP_BATCH]
    )
    processed = 0
    for tenant_id, billing_event_id in waiting:
        try:
            billing_event_process(tenant_id=tenant_id, billing_event_id=billing_event_id)
        except Exception:
            # One event's trouble must not stop the sweep for the others; it stays
            # received and the next sweep tries again.
            logger.exception(
                "billing_event.sweep_failed tenant_id=%s billing_event_id=%s",
                tenant_id,
                billing_event_id,
            )
            continue
        processed += 1
    logger.info("billing_event.sweep_done waiting=%s processed=%s", len(waiting), processed)
    return processed


RETRYABLE = (Status.UNMATCHED, Status.FAILED)


@transaction.atomic
def billing_event_retry(*, billing_event_id: int, actor=None) -> BillingEvent:
    """Queue an unmatched or failed event for processing again, such as after adding its account.

    The provider's own redelivery carries the same event id and counts as a
    duplicate, so this is how a stored event gets a second chance. Raises Conflict
    for an event in any other status.
    """
    event = BillingEvent.objects.select_for_update().get(pk=billing_event_id)
    if event.status not in RETRYABLE:
        raise Conflict(
            f"Event {event.event_id} is {event.status}, so it is not processed again.",
            field="status",
            value=event.status,
            fix="Only unmatched or failed events can be retried.",
        )
    before = {"status": event.status, "error": event.error}
    event.status = Status.RECEIVED
    event.error = ""
    event.save(update_fields=["status", "error", "updated_at"])
    audit_record(
        tenant_id=event.tenant_id,
        actor=actor,
        event="billing_event.retried",
        obj=event,
        before=before,
        after={"status": event.status},
    )
    from billing.tasks import process_billing_event_task

    enqueue_on_commit(process_billing_event_task, event.tenant_id, event.pk)
    logger.info(
        "billing_event.retry_queued tenant_id=%s billing_event_id=%s previous_status=%s",
        event.tenant_id,
        event.pk,
        before["status"],
    )
    return event
