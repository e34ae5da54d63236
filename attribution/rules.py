"""The tenant's attribution rule (window and first or last touch) and re-attributing deals.

`crm.pipeline.deals_attribute` applies the rule to a list of deals. This module
picks which deals to attribute again after something changes. A registration, a
review or a conversion changes the touches of a few domains, so only their deals
are attributed again. A new rule re-attributes every unbooked deal of the tenant
in the worker, chunk by chunk.
"""

from __future__ import annotations

import logging

from django.db import connection, transaction

from crm.models import Account, Deal
from crm.pipeline import deals_attribute
from reporting.services import partner_rollups_refresh
from tenancy.errors import DomainError
from tenancy.models import Tenant
from tenancy.queue import enqueue_on_commit
from tenancy.scope import tenant_scope
from tenancy.services import audit_record

logger = logging.getLogger(__name__)

WINDOW_DAYS_MIN = 1
# Three years.
WINDOW_DAYS_MAX = 1095
# Deals attributed per transaction when the rule changes.
REATTRIBUTE_CHUNK_SIZE = 2000


def _unbooked(deals):
    return deals.filter(partner_named=False).exclude(pipeline_status=Deal.PipelineStatus.PROCESSED)


def _reattribute(tenant: Tenant, deal_ids: list[int]) -> set[int]:
    """Attribute `deal_ids` again; return the partners whose credited deals changed."""
    if not deal_ids:
        return set()
    before = dict(Deal.objects.filter(pk__in=deal_ids).values_list("pk", "partner_id"))
    deals_attribute(tenant=tenant, deal_ids=deal_ids)
    after = dict(Deal.objects.filter(pk__in=deal_ids).values_list("pk", "partner_id"))
    changed = set()
    for deal_id, partner_id in before.items():
        if after.get(deal_id) != partner_id:
            changed |= {partner_id, after.get(deal_id)}
    return {partner_id for partner_id in changed if partner_id is not None}


def domains_reattribute(*, tenant: Tenant, domains: list[str]) -> int:
    """Attribute the unbooked deals of the accounts with `domains` again; return their count.

    Roll-ups of the partners that gain or lose a deal are refreshed, because they
    count open and lost deals as well as won ones.
    """
    accounts = Account.objects.filter(domain__in=domains).exclude(domain="").values("pk")
    deal_ids = list(
        _unbooked(Deal.objects.filter(account_id__in=accounts)).values_list("pk", flat=True)
    )
    changed = _reattribute(tenant, deal_ids)
    if changed:
        partner_rollups_refresh(partner_ids=sorted(changed))
    return len(deal_ids)


def deals_reattribute_all(*, tenant_id: int, chunk_size: int = REATTRIBUTE_CHUNK_SIZE) -> int:
    """Attribute every unbooked deal of the tenant again, one transaction per chunk.

    Reads the tenant's rule again for each chunk, so a rule changed while this
    runs applies to the rest at once, and the run that the change starts
    attributes all deals again. Walks deals by id, so a rerun after a crash only
    repeats work, which changes nothing. Returns how many deals it attributed.
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.warning("attribution.reattribute_tenant_missing tenant_id=%s", tenant_id)
        return 0
    logger.info("attribution.reattribute_started tenant_id=%s", tenant_id)
    total = 0
    changed: set[int] = set()
    last_id = 0
    with tenant_scope(tenant):
        while True:
            tenant.refresh_from_db(fields=["attribution_window_days", "attribution_touch"])
            with transaction.atomic():
                deal_ids = list(
                    _unbooked(Deal.objects.filter(pk__gt=last_id))
                    .order_by("pk")
                    .values_list("pk", flat=True)[:chunk_size]
                )
                if not deal_ids:
                    break
                changed |= _reattribute(tenant, deal_ids)
            total += len(deal_ids)
            last_id = deal_ids[-1]
        if changed:
            partner_rollups_refresh(partner_ids=sorted(changed))
    logger.info(
        "attribution.reattribute_finished tenant_id=%s deals=%s partners_changed=%s",
        tenant_id,
        total,
        len(changed),
    )
    return total


def _window_days_check(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError(
            f"Attribution window {value!r} is not a whole number of days.",
            field="attribution_window_days",
            value=value,
            fix=f"Enter a whole number of days from {WINDOW_DAYS_MIN} to {WINDOW_DAYS_MAX}, "
            "such as 365.",
        )
    if not WINDOW_DAYS_MIN <= value <= WINDOW_DAYS_MAX:
        raise DomainError(
            f"Attribution window {value} days is outside {WINDOW_DAYS_MIN} to "
            f"{WINDOW_DAYS_MAX} days.",
            field="attribution_window_days",
            value=value,
            fix=f"Enter a number of days from {WINDOW_DAYS_MIN} to {WINDOW_DAYS_MAX} "
            "(three years), such as 365.",
        )
    return value


def _touch_check(value) -> str:
    if value not in Tenant.Touch.values:
        raise DomainError(
            f"Unknown attribution touch rule {value!r}.",
            field="attribution_touch",
            value=value,
            fix="Use first (the earliest touch in the window wins) or last (the latest wins).",
        )
    return value


def _expiry_dates_refresh(tenant: Tenant) -> int:
    """Set every registration's expiry to its day in the tenant's time zone plus the window."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE attribution_referral
               SET expires_on = (registered_at AT TIME ZONE %(time_zone)s)::date
                                + %(window_days)s::int,
                   updated_at = now()
             WHERE tenant_id = %(tenant_id)s
               AND expires_on IS DISTINCT FROM (registered_at AT TIME ZONE %(time_zone)s)::date
                                               + %(window_days)s::int
            """,
            {
                "time_zone": tenant.time_zone,
                "window_days": tenant.attribution_window_days,
                "tenant_id": tenant.pk,
            },
        )
        return cursor.rowcount


def attribution_settings_set(*, tenant: Tenant, actor=None, **values) -> Tenant:
    """Change `attribution_window_days`, `attribution_touch` and `link_domains`.

    Raises DomainError naming the first invalid field, and when the new link hosts
    would leave an active link's destination outside them; nothing changes then. A
    new window also moves every registration's expiry date. When the window or
    the touch rule changes, a worker task attributes every unbooked deal again
    once this commits. Sending the current values changes nothing and writes no
    audit event.
    """
    from attribution.links import active_link_hosts_outside, link_hosts_parse

    unknown = set(values) - {"attribution_window_days", "attribution_touch", "link_domains"}
    if unknown:
        raise ValueError(f"unknown attribution settings {sorted(unknown)}")
    checked = {}
    if "attribution_window_days" in values:
        checked["attribution_window_days"] = _window_days_check(values["attribution_window_days"])
    if "attribution_touch" in values:
        checked["attribution_touch"] = _touch_check(values["attribution_touch"])
    if "link_domains" in values:
        checked["link_domains"] = link_hosts_parse(values["link_domains"])
        stranded = active_link_hosts_outside(tenant=tenant, hosts=checked["link_domains"])
        if stranded:
            raise DomainError(
                f"Active tracking links lead to {', '.join(stranded[:5])}, which these hosts "
                "would not allow, so those links would stop redirecting.",
                field="link_domains",
                value=values["link_domains"],
                fix="Keep those hosts in the list, or deactivate their links first.",
            )

    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        before = {name: getattr(locked, name) for name in checked}
        after = {name: value for name, value in checked.items() if before[name] != value}
        if not after:
            return locked
        for name, value in after.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*after, "updated_at"])
        audit_record(
            tenant_id=locked.pk,
            actor=actor,
            event="tenant.attribution_settings_set",
            obj=locked,
            before={name: before[name] for name in after},
            after=after,
        )
        if "attribution_window_days" in after:
            _expiry_dates_refresh(locked)
        rule_changed = {"attribution_window_days", "attribution_touch"} & set(after)
        if rule_changed:
            from attribution.tasks import reattribute_deals_task

            # NOTE: when the broker is down this task is lost, and no sweep retries it;
            # `manage.py reattribute_deals --tenant <slug>` does the same work.
            enqueue_on_commit(reattribute_deals_task, locked.pk)
    logger.info(
        "tenant.attribution_settings_set tenant_id=%s changed=%s reattribute=%s",
        locked.pk,
        ",".join(sorted(after)),
        bool(rule_changed),
    )
    for name, value in after.items():
        setattr(tenant, name, value)
    return locked
