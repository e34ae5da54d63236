"""MDF budget periods and the idempotent budget upsert.

A period is a calendar month ("2026-11") or quarter ("2026-Q4") of the tenant's
calendar: its dates are local dates in `Tenant.time_zone`, so a period starts at
local midnight. A budget stays editable until it is allocated.
"""

from __future__ import annotations

import calendar
import datetime
import logging
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from commissions.mdf_models import MdfBudget
from crm.parsing import currency_exponent
from tenancy.errors import Conflict, DomainError
from tenancy.models import Tenant
from tenancy.services import audit_record

logger = logging.getLogger(__name__)

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
QUARTER_PATTERN = re.compile(r"^(\d{4})-Q([1-4])$")
MAX_LOOKBACK_MONTHS = 60
TIER_WEIGHT_FIELDS = ("weight_a", "weight_b", "weight_c", "weight_d", "weight_unscored")
MAX_TIER_WEIGHT = Decimal("999.999")


@dataclass(frozen=True)
class MdfPeriod:
    """A calendar month or quarter; `end` is its last day, inclusive."""

    kind: str
    start: datetime.date
    end: datetime.date

    @property
    def label(self) -> str:
        if self.kind == MdfBudget.PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m}"


def _month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def mdf_period_parse(text: str) -> MdfPeriod:
    """Return the month named by "YYYY-MM" or the quarter named by "YYYY-Qn"."""
    text = (text or "").strip().upper()
    month = MONTH_PATTERN.match(text)
    if month and 1 <= int(month.group(2)) <= 12:
        year, number = int(month.group(1)), int(month.group(2))
        return MdfPeriod(
            MdfBudget.PeriodKind.MONTH, datetime.date(year, number, 1), _month_end(year, number)
        )
    quarter = QUARTER_PATTERN.match(text)
    if quarter:
        year, first = int(quarter.group(1)), (int(quarter.group(2)) - 1) * 3 + 1
        return MdfPeriod(
            MdfBudget.PeriodKind.QUARTER,
            datetime.date(year, first, 1),
            _month_end(year, first + 2),
        )
    raise DomainError(
        f"The period {text!r} is not a calendar month or quarter.",
        field="period",
        value=text,
        fix="Send a month as YYYY-MM, such as 2026-11, or a quarter as YYYY-Qn, such as 2026-Q4.",
    )


def mdf_period_current(tenant: Tenant, kind: str = MdfBudget.PeriodKind.QUARTER) -> MdfPeriod:
    """Return the month or quarter that contains today in the tenant's time zone."""
    today = tenant.today()
    if kind == MdfBudget.PeriodKind.MONTH:
        return mdf_period_parse(f"{today:%Y-%m}")
    return mdf_period_parse(f"{today.year}-Q{(today.month - 1) // 3 + 1}")


def months_before(date: datetime.date, months: int) -> datetime.date:
    """Return the first day of the month `months` months before `date`'s month."""
    index = date.year * 12 + (date.month - 1) - months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _amount_check(amount: Decimal, currency: str) -> Decimal:
    step = Decimal(1).scaleb(-currency_exponent(currency))
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(step):
        raise DomainError(
            f"The budget amount {amount} is not a positive amount in {currency}.",
            field="amount",
            value=str(amount),
            fix=f"Send a positive amount with at most {currency_exponent(currency)} decimals.",
        )
    if amount >= Decimal("1e12"):
        raise DomainError(
            f"The budget amount {amount} is too large.",
            field="amount",
            value=str(amount),
            fix="Send an amount below 1,000,000,000,000.",
        )
    return amount


def _settings_check(lookback_months: int, weights: dict[str, Decimal]) -> None:
    if not 1 <= lookback_months <= MAX_LOOKBACK_MONTHS:
        raise DomainError(
            f"The look-back of {lookback_months} months is out of range.",
            field="lookback_months",
            value=lookback_months,
            fix=f"Send a whole number of months from 1 to {MAX_LOOKBACK_MONTHS}.",
        )
    for name, value in weights.items():
        if not value.is_finite() or not 0 <= value <= MAX_TIER_WEIGHT:
            raise DomainError(
                f"The tier weight {name}={value} is out of range.",
                field=name,
                value=str(value),
                fix=f"Send a weight from 0 to {MAX_TIER_WEIGHT} with at most 3 decimals.",
            )
        if value != value.quantize(Decimal("0.001")):
            raise DomainError(
                f"The tier weight {name}={value} has more than 3 decimals.",
                field=name,
                value=str(value),
                fix="Round the weight to 3 decimals.",
            )


@transaction.atomic
def mdf_budget_set(
    *,
    tenant: Tenant,
    period: MdfPeriod,
    amount: Decimal,
    lookback_months: int | None = None,
    weights: dict[str, Decimal] | None = None,
    actor=None,
) -> tuple[MdfBudget, bool]:
    """Create or update the budget of `period`; return it and whether it was created.

    Sending the stored values again changes nothing. A budget that is already
    allocated only takes the values it has: change it before running the allocation.
    """
    current = MdfBudget.objects.filter(period_kind=period.kind, period_start=period.start).first()
    lookback = (
        lookback_months
        if lookback_months is not None
        else (
            current.lookback_months
            if current
            else MdfBudget._meta.get_field("lookback_months").default
        )
    )
    values = {
        name: (weights or {}).get(
            name,
            getattr(current, name) if current else MdfBudget._meta.get_field(name).default,
        )
        for name in TIER_WEIGHT_FIELDS
    }
    values = {name: Decimal(value) for name, value in values.items()}
    _amount_check(amount, tenant.base_currency)
    _settings_check(lookback, values)
    wanted = {"amount": amount, "lookback_months": lookback, **values}

    if current is None:
        try:
            with transaction.atomic():
                budget = MdfBudget.objects.create(
                    tenant=tenant,
                    period_kind=period.kind,
                    period_start=period.start,
                    period_end=period.end,
                    currency=tenant.base_currency,
                    **wanted,
                )
        except IntegrityError:
            # A concurrent request created it first: update that one below.
            current = MdfBudget.objects.get(period_kind=period.kind, period_start=period.start)
        else:
            audit_record(
                tenant_id=tenant.pk,
                actor=actor,
                event="mdf.budget_created",
                obj=budget,
                after={key: str(value) for key, value in wanted.items()},
            )
            logger.info(
                "mdf.budget_created tenant_id=%s budget_id=%s period=%s",
                tenant.pk,
                budget.pk,
                period.label,
            )
            return budget, True

    budget = MdfBudget.objects.select_for_update().get(pk=current.pk)
    before = {key: getattr(budget, key) for key in wanted}
    if before == wanted:
        return budget, False
    if budget.status == MdfBudget.Status.ALLOCATED:
        raise Conflict(
            f"The MDF budget of {period.label} is allocated, so its amount, look-back and "
            "tier weights can no longer change.",
            field="amount",
            value=str(amount),
            fix="Keep the allocated budget, or set the budget of another period.",
        )
    for key, value in wanted.items():
        setattr(budget, key, value)
    budget.save(update_fields=[*wanted, "updated_at"])
    audit_record(
        tenant_id=tenant.pk,
        actor=actor,
        event="mdf.budget_updated",
        obj=budget,
        before={key: str(value) for key, value in before.items()},
        after={key: str(value) for key, value in wanted.items()},
    )
    logger.info(
        "mdf.budget_updated tenant_id=%s budget_id=%s period=%s",
        tenant.pk,
        budget.pk,
        period.label,
    )
    return budget, False
