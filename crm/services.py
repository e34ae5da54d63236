"""Writes of single accounts and deals, as the API sends them."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction

from crm.models import Account, Deal
from crm.pipeline import deals_attribute
from partners.models import Partner
from tenancy.errors import Conflict, DomainError
from tenancy.queue import enqueue_on_commit

logger = logging.getLogger(__name__)

# Fields that decide a commission; they are frozen once a won deal is processed.
PAID_FIELDS = ("stage", "amount", "currency", "account_id", "partner_id")


def _resolve_account(
    *, account_external_id: str | None, account_domain: str | None
) -> Account | None:
    if account_external_id:
        account = Account.objects.filter(external_id=account_external_id).first()
        if account is None:
            raise DomainError(
                "No account has this external_id.",
                field="account_external_id",
                value=account_external_id,
                fix="Create the account first, or send account_domain instead.",
            )
        return account
    if account_domain:
        account = Account.objects.filter(domain=account_domain).first()
        if account is None:
            raise DomainError(
                "No account has this domain.",
                field="account_domain",
                value=account_domain,
                fix="Create the account first, or send account_external_id instead.",
            )
        return account
    return None


def _resolve_partner(partner_external_id: str | None) -> Partner | None:
    if not partner_external_id:
        return None
    partner = Partner.objects.filter(external_id=partner_external_id).first()
    if partner is None:
        raise DomainError(
            "No partner has this external_id.",
            field="partner_external_id",
            value=partner_external_id,
            fix="Create the partner first or leave partner_external_id empty.",
        )
    return partner


@transaction.atomic
def deal_upsert(
    *,
    tenant,
    external_id: str,
    stage: str,
    amount: Decimal = Decimal(0),
    currency: str = "",
    close_date=None,
    engage_date=None,
    name: str = "",
    product: str = "",
    owner: str = "",
    account_external_id: str | None = None,
    account_domain: str | None = None,
    partner_external_id: str | None = None,
) -> tuple[Deal, bool]:
    """Create the deal or update it by external id; return `(deal, created)`.

    A won deal enters the pipeline after the transaction commits. Sending the same
    deal again is a no-op; changing what decided the commission of a deal that
    has been processed raises Conflict instead.
    """
    account = _resolve_account(
        account_external_id=account_external_id, account_domain=account_domain
    )
    partner = _resolve_partner(partner_external_id)
    if stage == Deal.Stage.WON and account is None:
        raise DomainError(
            "A won deal needs its account.",
            field="account_external_id",
            value=None,
            fix="Send account_external_id or account_domain.",
        )
    if stage == Deal.Stage.WON and close_date is None:
        raise DomainError(
            "A won deal needs its close date.",
            field="close_date",
            value=None,
            fix="Send close_date as YYYY-MM-DD.",
        )
    values = {
        "stage": stage,
        "amount": amount,
        "currency": currency or tenant.base_currency,
        "close_date": close_date,
        "engage_date": engage_date,
        "name": name,
        "product": product,
        "owner": owner,
        "account_id": account.pk if account else None,
        "partner_id": partner.pk if partner else None,
    }

    deal = Deal.objects.select_for_update().filter(external_id=external_id).first()
    if deal is not None and partner is None:
        # Without a partner in the request, keep the one the pipeline attributed.
        values["partner_id"] = deal.partner_id
    created = deal is None
    if created:
        deal = Deal(tenant=tenant, external_id=external_id)
    elif deal.pipeline_status == Deal.PipelineStatus.PROCESSED:
        for field in PAID_FIELDS:
            if getattr(deal, field) != values[field]:
                raise Conflict(
                    f"Deal {external_id} is won and its commission is booked, "
                    f"so its {field} cannot change.",
                    field=field.removesuffix("_id"),
                    value=str(values[field]),
                    fix="Record a correction as a new ledger adjustment instead.",
                )

    changed = created or any(getattr(deal, field) != value for field, value in values.items())
    for field, value in values.items():
        setattr(deal, field, value)
    if deal.stage == Deal.Stage.WON and deal.pipeline_status == Deal.PipelineStatus.NOT_APPLICABLE:
        deal.pipeline_status = Deal.PipelineStatus.PENDING
    if changed:
        deal.save()
        logger.info(
            "deal.saved tenant_id=%s deal_id=%s external_id=%s stage=%s created=%s",
            tenant.pk,
            deal.pk,
            external_id,
            stage,
            created,
        )
    if changed and deal.partner_id is None:
        deals_attribute(tenant=tenant, deal_ids=[deal.pk])
        deal.refresh_from_db(fields=["partner", "source"])
    if deal.pipeline_status == Deal.PipelineStatus.PENDING:
        from crm.tasks import process_won_deal_task

        enqueue_on_commit(process_won_deal_task, tenant.pk, deal.pk)
    return deal, created
