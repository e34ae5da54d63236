"""Writes of single accounts and deals, as the API sends them."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import IntegrityError, transaction

from commissions.fx import deal_amounts_convert
from crm.models import Account, Deal
from crm.pipeline import deals_attribute
from crm.rules import (
    BOOKED_DEAL_FIX,
    BOOKED_FIELDS,
    booked_field_changes,
)
from crm.selectors import account_by_reference
from partners.selectors import partner_by_external_id
from tenancy.errors import Conflict, DomainError
from tenancy.queue import enqueue_on_commit

logger = logging.getLogger(__name__)


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
    kind: str = "new",
    owner: str = "",
    account_external_id: str | None = None,
    account_domain: str | None = None,
    partner_external_id: str | None = None,
) -> tuple[Deal, bool]:
    """Create the deal or update it by external id; return `(deal, created)`.

    A won deal enters the pipeline after the transaction commits. Sending the same
    deal again is a no-op; changing what decided the commission of a deal that
    has been processed raises Conflict instead. Two requests creating the same new
    deal at once both succeed: the one that loses the insert race updates instead.
    """
    values = {
        "stage": stage,
        "amount": amount,
        "currency": currency,
        "close_date": close_date,
        "engage_date": engage_date,
        "name": name,
        "product": product,
        "kind": kind,
        "owner": owner,
    }
    references = {
        "account_external_id": account_external_id,
        "account_domain": account_domain,
        "partner_external_id": partner_external_id,
    }
    try:
        return _deal_upsert(tenant, external_id, values, references)
    except IntegrityError:
        if not Deal.objects.filter(external_id=external_id).exists():
            raise
        logger.info("deal.insert_race tenant_id=%s external_id=%s", tenant.pk, external_id)
        return _deal_upsert(tenant, external_id, values, references)


@transaction.atomic
def _deal_upsert(tenant, external_id: str, values: dict, references: dict) -> tuple[Deal, bool]:
    account = account_by_reference(
        external_id=references["account_external_id"], domain=references["account_domain"]
    )
    partner = None
    if references["partner_external_id"]:
        partner = partner_by_external_id(
            external_id=references["partner_external_id"], optional=True
        )
    values["currency"] = values["currency"] or tenant.base_currency
    _check_deal_values(tenant, values, account)

    deal = Deal.objects.select_for_update().filter(external_id=external_id).first()
    created = deal is None
    values["account_id"] = account.pk if account else None
    values["partner_id"] = partner.pk if partner else None
    values["partner_named"] = partner is not None
    if deal is not None and partner is None:
        # Without a partner in the request, keep the deal's partner: a named one
        # stays, and a referral credit is recomputed by deals_attribute below.
        values["partner_id"] = deal.partner_id
        values["partner_named"] = deal.partner_named
    if created:
        deal = Deal(tenant=tenant, external_id=external_id)
    elif deal.pipeline_status == Deal.PipelineStatus.PROCESSED:
        stored = {field: getattr(deal, field) for field in BOOKED_FIELDS}
        changed = booked_field_changes(stored, values)
        if changed:
            field = changed[0]
            label = BOOKED_REQUEST_FIELDS.get(field, field)
            raise Conflict(
                f"Deal {external_id} is won and its commission is booked, "
                f"so its {label} cannot change.",
                field=label,
                value=_request_value(label, values, references),
                fix=BOOKED_DEAL_FIX,
            )

    changed = created or any(getattr(deal, field) != value for field, value in values.items())
    for field, value in values.items():
        setattr(deal, field, value)
    retry = changed and deal.pipeline_status == Deal.PipelineStatus.FAILED
    if deal.stage == Deal.Stage.WON and (
        deal.pipeline_status == Deal.PipelineStatus.NOT_APPLICABLE or retry
    ):
        deal.pipeline_status = Deal.PipelineStatus.PENDING
    if deal.stage != Deal.Stage.WON and deal.pipeline_status == Deal.PipelineStatus.PENDING:
        # Reopened or lost before the pipeline reached it: nothing to pay.
        deal.pipeline_status = Deal.PipelineStatus.NOT_APPLICABLE
    if changed:
        with transaction.atomic():
            deal.save()
        logger.info(
            "deal.saved tenant_id=%s deal_id=%s external_id=%s stage=%s created=%s",
            tenant.pk,
            deal.pk,
            external_id,
            values["stage"],
            created,
        )
    if changed:
        deals_attribute(tenant=tenant, deal_ids=[deal.pk])
        deal_amounts_convert(tenant=tenant, deal_ids=[deal.pk])
        deal.refresh_from_db(fields=["partner", "source"])
    if deal.pipeline_status == Deal.PipelineStatus.PENDING:
        from crm.tasks import process_won_deal_task

        enqueue_on_commit(process_won_deal_task, tenant.pk, deal.pk)
    return deal, created


# The request field that names each booked field, for Conflict errors.
BOOKED_REQUEST_FIELDS = {"account_id": "account", "partner_id": "partner_external_id"}


def _request_value(label: str, values: dict, references: dict) -> str:
    if label == "account":
        return references["account_external_id"] or references["account_domain"] or ""
    if label in references:
        return references[label] or ""
    return str(values[label])


def _check_deal_values(tenant, values: dict, account: Account | None) -> None:
    if values["stage"] != Deal.Stage.WON:
        return
    if account is None:
        raise DomainError(
            "A won deal needs its account.",
            field="account_external_id",
            value=None,
            fix="Send account_external_id or account_domain.",
        )
    if values["close_date"] is None:
        raise DomainError(
            "A won deal needs its close date.",
            field="close_date",
            value=None,
            fix="Send close_date as YYYY-MM-DD.",
        )
    if values["close_date"] > tenant.today():
        raise DomainError(
            "A won deal cannot close in the future.",
            field="close_date",
            value=values["close_date"].isoformat(),
            fix="Send the date the deal was won.",
        )
