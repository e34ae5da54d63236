"""Simulate a plan: what it would have paid for the won deals of the last months.

`plan_simulate` replays the tenant's won, partner-credited deals that closed in
the window and prices each one with `commissions.pricing.deal_price`. It uses the
facts the pipeline uses: the deal's amount, currency, kind and product, the
partner's segment and tier now, the fit frozen on the deal when it was won, and
the partner's original accrual for a renewal or expansion. The same deals are
priced under the plan to compare with (the active plan by default), and the
report sets both next to what the ledger actually booked for them.

Caps per partner and period are applied in memory, in close-date order, starting
from zero at the beginning of the window. The simulated plan has booked nothing,
so counting the ledger's real accruals against its cap would mix two plans. A cap
period that starts before the window therefore counts only its deals inside the
window.

Refunds and churns that were processed for a deal are applied to the simulated
amounts as `commissions.reversals` applies them to accruals, in the order they
were processed, which gives the "net" columns.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Q, Sum

from commissions.caps import PartnerCaps
from commissions.models import CommissionPlan, LedgerEntry, RevenueEvent
from commissions.money import minor_unit
from commissions.pricing import RECURRING_KINDS, DealFacts, cap_period_bounds, deal_price
from commissions.reversals import churn_reversal, refund_reversal
from commissions.selectors import commission_plan_active
from commissions.services import original_accruals
from crm.models import Deal
from partners.models import Partner
from partners.segments import partner_segments
from tenancy.errors import DomainError

logger = logging.getLogger(__name__)

MIN_MONTHS = 1
MAX_MONTHS = 60
TIERS = ("A", "B", "C", "D", "unscored")
SHARE_PLACES = Decimal("0.0001")
ZERO = Decimal(0)
# Priced deals between two progress reports of a simulation job.
PROGRESS_EVERY = 2_000

SKIP_NOT_BOOKED = "not_booked"
SKIP_NO_CLOSE_DATE = "no_close_date"
SKIP_CURRENCY = "currency_mismatch"
SKIP_REASONS = {
    SKIP_NOT_BOOKED: "Won but not booked by the pipeline yet, so the fit is not frozen.",
    SKIP_NO_CLOSE_DATE: "No close date, so the deal is in no window.",
    SKIP_CURRENCY: "In another currency with no exchange rate for its close date, so it has "
    "no amount in the base currency that plan amounts and caps are set in.",
}


class MemoryCaps(PartnerCaps):
    """Per-partner caps counted only from the deals priced in this run, starting at zero."""

    # NOTE: a cap period that began before the window counts only its deals inside the
    # window, so a capped partner can cost more here than the plan would really pay.

    def lock(self, *, partner_ids) -> None:
        return

    def earned(self, *, partner_id: int, day: datetime.date, currency: str) -> Decimal:
        start, _ = cap_period_bounds(self.plan, day)
        return self.used.get((partner_id, start, currency), ZERO)


@dataclass
class CostRow:
    """Deals, revenue and commission cost of one partner, one tier, or all deals."""

    deals: int = 0
    revenue: Decimal = ZERO
    simulated: Decimal = ZERO
    simulated_net: Decimal = ZERO
    active: Decimal | None = None
    active_net: Decimal | None = None
    actual_accrued: Decimal = ZERO
    actual_net: Decimal = ZERO

    def add(self, *, revenue, simulated, simulated_net, active, active_net, accrued, net):
        self.deals += 1
        self.revenue += revenue
        self.simulated += simulated
        self.simulated_net += simulated_net
        if active is not None:
            self.active += active
            self.active_net += active_net
        self.actual_accrued += accrued
        self.actual_net += net

    def as_dict(self) -> dict:
        return {
            "deals": self.deals,
            "revenue": self.revenue,
            "simulated": self.simulated,
            "simulated_net": self.simulated_net,
            "active": self.active,
            "active_net": self.active_net,
            "actual_accrued": self.actual_accrued,
            "actual_net": self.actual_net,
            "delta": None if self.active is None else self.simulated - self.active,
            "delta_actual": self.simulated - self.actual_accrued,
            "cost_share": (
                (self.simulated / self.revenue).quantize(SHARE_PLACES) if self.revenue else None
            ),
        }


class _Report:
    """The rows of a simulation while deals are priced."""

    def __init__(self, *, compared: bool):
        def row() -> CostRow:
            return CostRow(active=ZERO, active_net=ZERO) if compared else CostRow()

        self.totals = row()
        self.partners: dict[int, CostRow] = defaultdict(row)
        self.tiers: dict[str, CostRow] = defaultdict(row)
        self.simulated_sources: dict[str, int] = defaultdict(int)
        self.active_sources: dict[str, int] = defaultdict(int)
        self.skipped: dict[str, int] = defaultdict(int)


def months_validate(months) -> int:
    """Return `months` as an int from 1 to 60, or raise DomainError naming the field."""
    if isinstance(months, bool) or not isinstance(months, int):
        try:
            months = int(str(months))
        except ValueError:
            months = None
    if months is None or not MIN_MONTHS <= months <= MAX_MONTHS:
        raise DomainError(
            f"months must be a whole number from {MIN_MONTHS} to {MAX_MONTHS}.",
            field="months",
            value=months,
            fix=f"Send a number of months from {MIN_MONTHS} to {MAX_MONTHS}, such as 12.",
        )
    return months


def _window_deals(start: datetime.date, end: datetime.date) -> Q:
    """Return the filter of the won, partner-credited deals that closed in the window."""
    return Q(stage=Deal.Stage.WON, partner__isnull=False, close_date__range=(start, end))


def _deals(start: datetime.date, end: datetime.date) -> list[dict]:
    return list(
        Deal.objects.filter(_window_deals(start, end))
        .order_by("close_date", "id")
        .values(
            "id",
            "partner_id",
            "account_id",
            "amount",
            "amount_base",
            "currency",
            "kind",
            "product",
            "close_date",
            "won_fit_tier",
            "won_fit_score",
            "pipeline_status",
        )
    )


def _skipped_without_close_date() -> int:
    return Deal.objects.filter(
        stage=Deal.Stage.WON, partner__isnull=False, close_date__isnull=True
    ).count()


def _actual_amounts(
    start: datetime.date, end: datetime.date
) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    """Return, per deal of the window, its non-void accruals and the net of its entries.

    The net counts accruals, reversals and adjustments; bonuses belong to no deal's price.
    """
    # A join on the window, not a list of ids: 100,000 ids as parameters cost seconds.
    rows = (
        LedgerEntry.objects.filter(
            deal__stage=Deal.Stage.WON,
            deal__partner__isnull=False,
            deal__close_date__range=(start, end),
        )
        .exclude(status=LedgerEntry.Status.VOID)
        .exclude(kind=LedgerEntry.Kind.BONUS)
        .values("deal_id")
        .annotate(
            accrued=Sum("amount", filter=Q(kind=LedgerEntry.Kind.ACCRUAL)),
            net=Sum("amount"),
        )
        .order_by()
    )
    accrued, net = {}, {}
    for row in rows:
        accrued[row["deal_id"]] = row["accrued"] or ZERO
        net[row["deal_id"]] = row["net"] or ZERO
    return accrued, net


def _revenue_events(
    deals: list[dict], start: datetime.date, end: datetime.date
) -> dict[int, list[tuple]]:
    """Return, per deal id, its processed refunds and churns in the order they were processed.

    A churn counts for the deals of its account that closed on or before the churn.
    """
    window = Deal.objects.filter(_window_deals(start, end))
    by_account = defaultdict(list)
    for deal in deals:
        by_account[deal["account_id"]].append(deal)
    events = (
        RevenueEvent.objects.filter(processed_at__isnull=False)
        .filter(
            Q(kind=RevenueEvent.Kind.REFUND, deal__in=window)
            | Q(kind=RevenueEvent.Kind.CHURN, account__in=window.values("account_id"))
        )
        .order_by("processed_at", "id")
        .values_list("kind", "deal_id", "account_id", "amount", "occurred_on")
    )
    found = defaultdict(list)
    for kind, deal_id, account_id, amount, occurred_on in events:
        if kind == RevenueEvent.Kind.REFUND:
            found[deal_id].append((kind, amount, occurred_on))
            continue
        for deal in by_account.get(account_id, ()):
            if deal["close_date"] <= occurred_on:
                found[deal["id"]].append((kind, amount, occurred_on))
    return found


def net_after_events(
    *, amount: Decimal, deal: dict, events: list[tuple], clawback_days: int
) -> Decimal:
    """Return `amount` less what the deal's refunds and churn would reverse from it.

    `amount` is in the deal's entry currency (`entry_currency`, else `currency`);
    refunds are in the deal's own currency and take their share of its `amount`.
    """
    remaining = amount
    refunded = ZERO
    churned = False
    for kind, event_amount, occurred_on in events:
        if kind == RevenueEvent.Kind.REFUND:
            remaining -= refund_reversal(
                accrued=amount,
                remaining=remaining,
                deal_amount=deal["amount"],
                refunded_before=refunded,
                refund=event_amount,
                currency=deal.get("entry_currency", deal["currency"]),
                churned=churned,
            )
            refunded += event_amount
        elif not churned and occurred_on >= deal["close_date"]:
            churned = True
            remaining -= churn_reversal(
                remaining=remaining,
                clawback_days=clawback_days,
                days_served=(occurred_on - deal["close_date"]).days,
                currency=deal.get("entry_currency", deal["currency"]),
            )
    return remaining


class _Pricer:
    """Prices deals under one plan with its rules and an in-memory cap tracker."""

    def __init__(self, plan: CommissionPlan, partner_names: dict[int, str]):
        self.plan = plan
        self.rules = list(plan.rules.all())
        self.caps = MemoryCaps(plan)
        self.partner_names = partner_names

    def price(self, facts: DealFacts):
        price = deal_price(
            self.plan, self.rules, facts, partner_name=self.partner_names.get(facts.partner_id)
        )
        self.caps.apply(price, facts)
        return price


def until_validate(until, *, today: datetime.date) -> datetime.date:
    """Return `until` as a date no later than `today`, or raise DomainError naming the field."""
    if until in (None, ""):
        return today
    fix = (
        f"Send the last close date to replay as YYYY-MM-DD, at most {today}, or leave it "
        "out for today."
    )
    raw = until
    if isinstance(until, str):
        try:
            until = datetime.date.fromisoformat(until)
        except ValueError:
            until = None
    if not isinstance(until, datetime.date):
        raise DomainError(f"until {raw!r} is not a valid date.", field="until", value=raw, fix=fix)
    if until > today:
        raise DomainError(
            f"until {until} is later than today, {today}.", field="until", value=raw, fix=fix
        )
    return until


def plan_simulate(
    *,
    plan: CommissionPlan,
    months: int = 12,
    compare_to: CommissionPlan | None = None,
    until: datetime.date | str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Return what `plan` would have paid for the won partner deals of the last `months`.

    The window ends on `until` (default: today in the tenant's time zone), so older
    data, such as an imported history, can be replayed. Runs in the active tenant's
    scope. `compare_to` defaults to the active plan; with no active plan the
    comparison columns are None. Money is exact Decimal in the tenant's base
    currency. Reads only: nothing is written. `progress(done, total)` is called
    after every PROGRESS_EVERY priced deals and once at the end.
    """
    months = months_validate(months)
    tenant = plan.tenant
    if compare_to is None:
        compare_to = commission_plan_active()
    end = until_validate(until, today=tenant.today())
    start = end - relativedelta(months=months) + datetime.timedelta(days=1)
    logger.info(
        "plan_simulation.started tenant_id=%s plan_id=%s compare_to=%s months=%s",
        tenant.pk,
        plan.pk,
        compare_to.pk if compare_to else None,
        months,
    )

    report = _Report(compared=compare_to is not None)
    report.skipped[SKIP_NO_CLOSE_DATE] = _skipped_without_close_date()
    deals = []
    for deal in _deals(start, end):
        if deal["pipeline_status"] in (Deal.PipelineStatus.PENDING, Deal.PipelineStatus.FAILED):
            report.skipped[SKIP_NOT_BOOKED] += 1
        elif deal["currency"] != tenant.base_currency and deal["amount_base"] is None:
            report.skipped[SKIP_CURRENCY] += 1
        else:
            # Priced in the base currency, as the pipeline books it. Refunds stay in the
            # deal's currency, so "amount" keeps the deal's own amount for their share.
            if deal["currency"] != tenant.base_currency:
                deal["revenue"] = deal["amount_base"]
            else:
                deal["revenue"] = deal["amount"]
            deal["entry_currency"] = tenant.base_currency
            deals.append(deal)

    partner_ids = {deal["partner_id"] for deal in deals}
    partners = {
        row["id"]: row
        for row in Partner.objects.filter(pk__in=partner_ids).values("id", "name", "tier")
    }
    names = {pk: row["name"] for pk, row in partners.items()}
    segments = partner_segments(partner_ids=partner_ids)
    originals = original_accruals(
        pairs={
            (deal["account_id"], deal["partner_id"])
            for deal in deals
            if deal["kind"] in RECURRING_KINDS
        }
    )
    accrued, net = _actual_amounts(start, end)
    events = _revenue_events(deals, start, end)

    simulated = _Pricer(plan, names)
    active = _Pricer(compare_to, names) if compare_to is not None else None
    for done, deal in enumerate(deals, start=1):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, len(deals))
        facts = DealFacts(
            amount=deal["revenue"],
            currency=deal["entry_currency"],
            kind=deal["kind"],
            product=deal["product"],
            partner_id=deal["partner_id"],
            partner_segment=segments.get(deal["partner_id"]),
            partner_tier=partners[deal["partner_id"]]["tier"],
            fit_tier=deal["won_fit_tier"],
            fit_score=deal["won_fit_score"],
            close_date=deal["close_date"],
            original=originals.get((deal["account_id"], deal["partner_id"])),
        )
        deal_events = events.get(deal["id"], ())
        price = simulated.price(facts)
        report.simulated_sources[price.rate_source] += 1
        values = {
            "revenue": deal["revenue"],
            "simulated": price.amount,
            "simulated_net": net_after_events(
                amount=price.amount, deal=deal, events=deal_events, clawback_days=plan.clawback_days
            ),
            "active": None,
            "active_net": None,
            "accrued": accrued.get(deal["id"], ZERO),
            "net": net.get(deal["id"], ZERO),
        }
        if active is not None:
            active_price = active.price(facts)
            report.active_sources[active_price.rate_source] += 1
            values["active"] = active_price.amount
            values["active_net"] = net_after_events(
                amount=active_price.amount,
                deal=deal,
                events=deal_events,
                clawback_days=compare_to.clawback_days,
            )
        report.totals.add(**values)
        report.partners[deal["partner_id"]].add(**values)
        report.tiers[deal["won_fit_tier"] or "unscored"].add(**values)

    if progress is not None:
        progress(len(deals), len(deals))
    result = _report_dict(report, plan=plan, compare_to=compare_to, names=names)
    _money_normalise(result, tenant.base_currency)
    result.update(months=months, window_start=start, window_end=end, currency=tenant.base_currency)
    logger.info(
        "plan_simulation.finished tenant_id=%s plan_id=%s deals=%s skipped=%s",
        tenant.pk,
        plan.pk,
        report.totals.deals,
        sum(report.skipped.values()),
    )
    return result


MONEY_KEYS = (
    "revenue",
    "simulated",
    "simulated_net",
    "active",
    "active_net",
    "actual_accrued",
    "actual_net",
    "delta",
    "delta_actual",
)


def _money_normalise(result: dict, currency: str) -> None:
    """Show every amount with the currency's decimals, such as 12.50 USD and 1250 JPY.

    The amounts are sums of whole minor units, so this only drops the extra zeros
    of the ledger's four decimal places.
    """
    unit = minor_unit(currency)
    for row in [result["totals"], *result["partners"], *result["tiers"]]:
        for key in MONEY_KEYS:
            if row.get(key) is not None:
                row[key] = row[key].quantize(unit)


def _report_dict(report: _Report, *, plan, compare_to, names: dict[int, str]) -> dict:
    partners = [
        {"partner_id": pk, "partner_name": names[pk], **row.as_dict()}
        for pk, row in report.partners.items()
    ]
    partners.sort(key=lambda row: (-row["simulated"], row["partner_name"], row["partner_id"]))
    sources = sorted(set(report.simulated_sources) | set(report.active_sources))
    return {
        "plan": {"id": plan.pk, "name": plan.name, "is_draft": plan.is_draft},
        "compare_to": (
            {"id": compare_to.pk, "name": compare_to.name, "is_draft": compare_to.is_draft}
            if compare_to is not None
            else None
        ),
        "totals": report.totals.as_dict(),
        "partners": partners,
        "tiers": [{"tier": tier, **report.tiers[tier].as_dict()} for tier in TIERS],
        "rate_sources": [
            {
                "rate_source": source,
                "simulated_deals": report.simulated_sources.get(source, 0),
                "active_deals": report.active_sources.get(source, 0),
            }
            for source in sources
        ],
        "skipped": [
            {"reason": reason, "description": text, "deals": report.skipped.get(reason, 0)}
            for reason, text in SKIP_REASONS.items()
        ],
    }
