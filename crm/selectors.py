"""Reads of the active tenant's accounts and deals."""

from __future__ import annotations

import datetime

from django.db.models import F, Q, QuerySet

from crm.models import Account, Deal, ImportRun
from tenancy.errors import DomainError, NotFound

# Orderings that `account_list` accepts. Unscored accounts sort last in both fit_score orderings.
ACCOUNT_ORDERINGS = {
    "fit_score": (F("fit_score").asc(nulls_last=True), "name", "id"),
    "-fit_score": (F("fit_score").desc(nulls_last=True), "name", "id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "id": ("id",),
    "-id": ("-id",),
}
ACCOUNT_DEFAULT_ORDERING = "-fit_score"


def account_list(
    *,
    tier: str | None = None,
    search: str | None = None,
    ordering: str = ACCOUNT_DEFAULT_ORDERING,
) -> QuerySet[Account]:
    """Return the tenant's accounts, optionally of one fit tier or matching `search`.

    `search` matches a case-insensitive substring of the name or the domain.
    `ordering` is a key of ACCOUNT_ORDERINGS, and an unknown key raises KeyError.
    """
    accounts = Account.objects.select_related("referred_by", "fit_version")
    if tier:
        accounts = accounts.filter(fit_tier=tier)
    if search:
        accounts = accounts.filter(Q(name__icontains=search) | Q(domain__icontains=search))
    return accounts.order_by(*ACCOUNT_ORDERINGS[ordering])


def account_get(*, pk: int) -> Account:
    """Return the tenant's account `pk`, or raise NotFound, also for another tenant's id."""
    account = account_list().filter(pk=pk).first()
    if account is None:
        raise NotFound(
            "No account has this id.",
            field="id",
            value=pk,
            fix="List accounts with GET /api/v1/accounts/ to find the id.",
        )
    return account


def deal_list(
    *,
    stage: str | None = None,
    source: str | None = None,
    partner_id: int | None = None,
    close_date_from: datetime.date | None = None,
    close_date_to: datetime.date | None = None,
) -> QuerySet[Deal]:
    """Return the tenant's deals, newest close date first. Both date bounds are inclusive."""
    deals = Deal.objects.select_related("account", "partner")
    if stage:
        deals = deals.filter(stage=stage)
    if source:
        deals = deals.filter(source=source)
    if partner_id is not None:
        deals = deals.filter(partner_id=partner_id)
    if close_date_from is not None:
        deals = deals.filter(close_date__gte=close_date_from)
    if close_date_to is not None:
        deals = deals.filter(close_date__lte=close_date_to)
    return deals.order_by(F("close_date").desc(nulls_last=True), "-id")


def deal_get(*, pk: int) -> Deal:
    """Return the tenant's deal `pk`, or raise NotFound, also for another tenant's id."""
    deal = deal_list().filter(pk=pk).first()
    if deal is None:
        raise NotFound(
            "No deal has this id.",
            field="id",
            value=pk,
            fix="List deals with GET /api/v1/deals/ to find the id.",
        )
    return deal


def account_by_reference(*, external_id: str | None, domain: str | None) -> Account | None:
    """Return the account a request names by external id (first) or domain.

    Returns None when neither is given, and raises DomainError naming the field
    when the named account does not exist.
    """
    if external_id:
        account = Account.objects.filter(external_id=external_id).first()
        if account is None:
            raise DomainError(
                "No account has this external_id.",
                field="account_external_id",
                value=external_id,
                fix="Create the account first, or send account_domain instead.",
            )
        return account
    if domain:
        account = Account.objects.filter(domain=domain).first()
        if account is None:
            raise DomainError(
                "No account has this domain.",
                field="account_domain",
                value=domain,
                fix="Create the account first, or send account_external_id instead.",
            )
        return account
    return None


def import_run_list(*, kind: str | None = None, status: str | None = None) -> QuerySet[ImportRun]:
    """Return the tenant's CSV import runs, newest first, optionally of one kind or status."""
    runs = ImportRun.objects.select_related("created_by").order_by("-created_at", "-id")
    if kind:
        runs = runs.filter(kind=kind)
    if status:
        runs = runs.filter(status=status)
    return runs


def import_run_get(*, pk: int) -> ImportRun:
    """Return the tenant's import run `pk`, or raise NotFound, also for another tenant's id."""
    run = import_run_list().filter(pk=pk).first()
    if run is None:
        raise NotFound(
            "No import run has this id.",
            field="id",
            value=pk,
            fix="List import runs with GET /api/v1/imports/ to find the id.",
        )
    return run
