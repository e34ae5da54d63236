"""Partners, their reach lists and the refresh of their scores.

`partners.scores` computes each chunk of scores that `partner_scores_refresh` writes.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crm.domains import InvalidDomain, normalize_domain
from crm.freemail import is_personal_domain
from partners import scores
from partners.lifecycle import partner_status_change
from partners.models import Partner, ReachEntry
from partners.recompute import partner_scores_enqueue
from tenancy.errors import Conflict, DomainError
from tenancy.models import Membership, Tenant
from tenancy.scope import current_tenant_id, tenant_scope
from tenancy.services import audit_record
from webhooks.events import event_emit
from webhooks.payloads import partner_score_payloads

logger = logging.getLogger(__name__)


def _validate_partner_fields(fields: dict) -> None:
    if "kind" in fields and fields["kind"] not in Partner.Kind.values:
        raise DomainError(
            f"Unknown partner kind {fields['kind']!r}.",
            field="kind",
            value=fields["kind"],
            fix=f"Use one of {', '.join(Partner.Kind.values)}.",
        )
    if "status" in fields and fields["status"] not in Partner.Status.values:
        raise DomainError(
            f"Unknown partner status {fields['status']!r}.",
            field="status",
            value=fields["status"],
            fix=f"Use one of {', '.join(Partner.Status.values)}.",
        )
    if fields.get("domain") and is_personal_domain(fields["domain"]):
        raise DomainError(
            f"{fields['domain']} is a consumer mail provider, not the partner's own domain.",
            field="domain",
            value=fields["domain"],
            fix="Give the partner organisation's web domain, such as northwind.com, or none.",
        )
    if "tier" in fields and fields["tier"] not in Partner.Tier.values:
        raise DomainError(
            f"Unknown partner tier {fields['tier']!r}.",
            field="tier",
            value=fields["tier"],
            fix="Use gold, silver or bronze, or an empty string for unranked.",
        )
    if "mapping_visibility" in fields and fields["mapping_visibility"] not in (
        "",
        *Tenant.MappingVisibility.values,
    ):
        raise DomainError(
            f"Invalid account mapping visibility {fields['mapping_visibility']!r}.",
            field="mapping_visibility",
            value=fields["mapping_visibility"],
            fix="Use counts, names or details, or an empty string to follow the tenant's setting.",
        )


# Roles whose members may own a partner.
OWNER_ROLES = (Membership.Role.ADMIN, Membership.Role.PARTNER_MANAGER)


def _owner_check(*, tenant_id: int, owner) -> None:
    """Raise DomainError unless `owner` is None or an admin or partner manager of the tenant."""
    if owner is None:
        return
    is_staff = Membership.objects.filter(
        tenant_id=tenant_id, user_id=owner.pk, role__in=OWNER_ROLES
    ).exists()
    if not is_staff:
        raise DomainError(
            "The partner owner must be an admin or partner manager of this tenant.",
            field="owner",
            value=owner.pk,
            fix="Choose a user with the admin or partner manager role, or leave the owner empty.",
        )


def owner_by_id(*, tenant_id: int, user_id: int | None):
    """Return the tenant staff user `user_id` for a partner's owner, or None for None.

    Raises DomainError with the same message for a missing user and for a user
    of another tenant, so that the error does not reveal other tenants' users.
    """
    if user_id is None:
        return None
    owner = (
        Membership.objects.filter(tenant_id=tenant_id, user_id=user_id, role__in=OWNER_ROLES)
        .select_related("user")
        .first()
    )
    if owner is None:
        raise DomainError(
            "No admin or partner manager of this tenant has this user id.",
            field="owner",
            value=user_id,
            fix="Send the id of a user with the admin or partner manager role, or null.",
        )
    return owner.user


@transaction.atomic
def partner_upsert(
    *, tenant, external_id: str, name: str, actor=None, **fields
) -> tuple[Partner, bool]:
    """Create the partner or update it by external id; return `(partner, created)`.

    Creating writes a partner.created audit event, and an update that changes a field
    of PARTNER_FIELDS writes partner.updated with the changed fields only.
    """
    if not external_id.strip():
        raise DomainError(
            "Partner external_id is empty.",
            field="external_id",
            value=external_id,
            fix="Give the partner's id in your system.",
        )
    _validate_partner_fields(fields)
    if "owner" in fields:
        _owner_check(tenant_id=tenant.pk, owner=fields["owner"])
    # A new partner may start in any status, but an existing one changes status
    # only along the lifecycle.
    status = fields.pop("status", None)
    initial = {"status": status} if status is not None else {}
    existing = (
        Partner.objects.select_for_update(of=("self",))
        .select_related("owner")
        .filter(tenant=tenant, external_id=external_id.strip())
        .first()
    )
    before = _audit_values(existing) if existing is not None else None
    partner, created = Partner.objects.update_or_create(
        tenant=tenant,
        external_id=external_id.strip(),
        defaults={"name": name, **fields},
        create_defaults={"name": name, **fields, **initial},
    )
    if not created and status is not None:
        partner = partner_status_change(partner=partner, status=status, actor=actor)
    if before is not None:
        after = _audit_values(partner)
        changed = [field for field in PARTNER_FIELDS if after[field] != before[field]]
        if changed:
            audit_record(
                tenant_id=tenant.pk,
                actor=actor,
                event="partner.updated",
                obj=partner,
                before={field: before[field] for field in changed},
                after={field: after[field] for field in changed},
            )
    if created:
        after = {"name": name, **{k: str(v) for k, v in {**fields, **initial}.items()}}
        if "owner" in fields:
            after["owner"] = _audit_values(partner)["owner"]
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            event="partner.created",
            obj=partner,
            after=after,
        )
    return partner, created


PARTNER_FIELDS = (
    "external_id",
    "name",
    "kind",
    "domain",
    "description",
    "owner",
    "tier",
    "notes",
    "mapping_visibility",
)


def _audit_values(partner: Partner) -> dict:
    """Return the partner's editable fields as audit JSON, the owner as a username."""
    values = {field: getattr(partner, field) for field in PARTNER_FIELDS}
    values["owner"] = partner.owner.get_username() if partner.owner is not None else None
    return values


def _external_id_taken(external_id: str) -> Conflict:
    return Conflict(
        f"Another partner already has the external id {external_id!r}.",
        field="external_id",
        value=external_id,
        fix="Enter an id that no other partner uses.",
    )


def partner_create(*, tenant, external_id: str, name: str, actor=None, **fields) -> Partner:
    """Create a partner; raise Conflict when its external id is taken.

    Unlike `partner_upsert`, this never updates an existing partner, even when
    another request creates the same external id at the same moment.
    """
    try:
        with transaction.atomic():
            if Partner.objects.filter(external_id=external_id.strip()).exists():
                raise _external_id_taken(external_id)
            partner, created = partner_upsert(
                tenant=tenant, external_id=external_id, name=name, actor=actor, **fields
            )
            if not created:
                raise _external_id_taken(external_id)
    except IntegrityError:
        raise _external_id_taken(external_id) from None
    return partner


def partner_update(*, partner: Partner, actor=None, **values) -> Partner:
    """Change a partner's fields, its external id included, with an audit event.

    Raises Conflict when the new external id belongs to another partner. The
    status changes only through `partners.lifecycle.partner_status_change`, so a
    status other than the current one raises DomainError.
    """
    try:
        with transaction.atomic():
            locked = (
                Partner.objects.select_for_update(of=("self",))
                .select_related("owner")
                .get(pk=partner.pk)
            )
            before = _audit_values(locked)
            _validate_partner_fields(values)
            status = values.pop("status", locked.status)
            if status != locked.status:
                raise DomainError(
                    f"Partner edits cannot change the status from {locked.status} to {status}.",
                    field="status",
                    value=status,
                    fix="Change the status with the status change form or "
                    "POST /api/v1/partners/{id}/status/, which apply the lifecycle rules.",
                )
            if "owner" in values:
                _owner_check(tenant_id=locked.tenant_id, owner=values["owner"])
            new_id = values.get("external_id", locked.external_id).strip()
            if (
                new_id != locked.external_id
                and Partner.objects.filter(external_id=new_id).exclude(pk=locked.pk).exists()
            ):
                raise _external_id_taken(new_id)
            for field, value in values.items():
                if field not in PARTNER_FIELDS:
                    raise ValueError(f"unknown partner field {field!r}")
                setattr(locked, field, value.strip() if field == "external_id" else value)
            locked.save()
            after = _audit_values(locked)
            if after != before:
                audit_record(
                    tenant_id=locked.tenant_id,
                    actor=actor,
                    event="partner.updated",
                    obj=locked,
                    before={k: v for k, v in before.items() if after[k] != v},
                    after={k: v for k, v in after.items() if before[k] != v},
                )
    except IntegrityError:
        raise _external_id_taken(values.get("external_id", "")) from None
    logger.info("partner.updated tenant_id=%s partner_id=%s", locked.tenant_id, locked.pk)
    return locked


@transaction.atomic
def reach_replace(*, partner: Partner, entries: list[tuple[str, str]], source: str) -> int:
    """Replace the partner's reach list with `(domain or url, company name)` pairs.

    Invalid domains raise DomainError naming the entry; nothing is changed then.
    """
    normalized: dict[str, str] = {}
    for position, (raw_domain, company) in enumerate(entries, start=1):
        try:
            domain = normalize_domain(raw_domain)
        except InvalidDomain:
            raise DomainError(
                f"Reach entry {position} has no valid domain.",
                field="domain",
                value=raw_domain,
                fix="Give a web domain such as acme.com for every company.",
            ) from None
        normalized.setdefault(domain, company)

    ReachEntry.objects.filter(partner=partner).delete()
    ReachEntry.objects.bulk_create(
        [
            ReachEntry(
                tenant_id=partner.tenant_id,
                partner=partner,
                domain=domain,
                company_name=company[:255],
                source=source,
            )
            for domain, company in normalized.items()
        ],
        batch_size=5000,
    )
    reach_match_accounts(partner_ids=[partner.pk])
    partner_scores_enqueue(tenant_id=partner.tenant_id, partner_ids=[partner.pk])
    logger.info(
        "reach.replaced tenant_id=%s partner_id=%s entries=%s",
        partner.tenant_id,
        partner.pk,
        len(normalized),
    )
    return len(normalized)


def reach_match_accounts(*, partner_ids: list[int] | None = None) -> int:
    """Link reach entries to the tenant's accounts by domain, in one UPDATE."""
    tenant_id = current_tenant_id()
    partner_filter = "AND r2.partner_id = ANY(%s)" if partner_ids is not None else ""
    params: list = [tenant_id]
    if partner_ids is not None:
        params.append(list(partner_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE partners_reachentry AS r
               SET account_id = a.id
              FROM (SELECT r2.id AS reach_id, a2.id
                      FROM partners_reachentry r2
                 LEFT JOIN crm_account a2
                        ON a2.tenant_id = r2.tenant_id AND a2.domain = r2.domain
                     WHERE r2.tenant_id = %s {partner_filter}) AS a
             WHERE r.id = a.reach_id
               AND r.account_id IS DISTINCT FROM a.id
            """,  # noqa: S608 - the only interpolation is a fixed SQL fragment
            params,
        )
        return cursor.rowcount


def partner_scores_refresh(
    *, tenant, partner_ids: list[int] | None = None, chunk_size: int = scores.CHUNK_SIZE
) -> int:
    """Recompute the scores of `tenant`'s partners (all, or `partner_ids`); return the count.

    Works through the partners in id order, `chunk_size` at a time, each chunk in its
    own transaction: match the reach to accounts, score the unmatched reach, then
    write overlap parts, results and segment. A refresh killed half way leaves whole
    chunks written, and running it again gives the same rows. Every chunk uses the
    open target count and version read at the start.
    """
    from icp.selectors import icp_version_active

    with tenant_scope(tenant):
        context = scores.RefreshContext(
            tenant_id=tenant.pk,
            version=icp_version_active(tenant=tenant),
            target_count=scores.target_count(),
            as_of=tenant.today(),
            computed_at=timezone.now(),
        )
        partners = Partner.objects.order_by("pk")
        if partner_ids is not None:
            partners = partners.filter(pk__in=list(partner_ids))
        logger.info(
            "partner_scores.refresh_started tenant_id=%s icp_version_id=%s partners=%s "
            "targets=%s chunk_size=%s",
            tenant.pk,
            context.version.pk if context.version else None,
            "all" if partner_ids is None else len(partner_ids),
            context.target_count,
            chunk_size,
        )
        written = 0
        chunks = 0
        last_id = 0
        while True:
            ids = list(partners.filter(pk__gt=last_id).values_list("pk", flat=True)[:chunk_size])
            if not ids:
                break
            with transaction.atomic():
                scores.scores_lock(tenant.pk)
                reach_match_accounts(partner_ids=ids)
                written += scores.partner_scores_write(context=context, partner_ids=ids)
                event_emit(tenant.pk, "partner.scored", partial(partner_score_payloads, ids))
            chunks += 1
            last_id = ids[-1]
            if len(ids) < chunk_size:
                break
    logger.info(
        "partner_scores.refreshed tenant_id=%s partners=%s chunks=%s targets=%s",
        tenant.pk,
        written,
        chunks,
        context.target_count,
    )
    return written
