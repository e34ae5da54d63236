"""Writes for ICP versions: learning, hand-written versions, activation and rescoring."""

from __future__ import annotations

import datetime
import logging

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from crm.amounts import amount_in_base
from crm.models import Account, Deal
from icp.frames import deal_sizes
from icp.learning import PROFILE_STEPS, InsufficientData, learn_profile
from icp.learning.weighting import WEIGHTING_NONE, validate_weighting
from icp.models import IcpVersion
from icp.rescoring import (
    account_chunks,
    accounts_rescore_all,
    accounts_rescore_ids,
    rescore_job_enqueue,
)
from icp.scoring import (
    criteria_need_deal_size,
    explain,
    score_frame,
    tier_shares,
    validate_criteria,
    validate_tier_cutoffs,
)
from icp.selectors import icp_version_active
from jobs.services import job_progress, job_succeed
from tenancy.errors import DomainError
from tenancy.models import Tenant
from tenancy.scope import tenant_scope
from tenancy.services import actor_user, audit_record

logger = logging.getLogger(__name__)

_DEAL_ACCOUNT_FIELDS = (
    "industry",
    "country",
    "employees",
    "annual_revenue",
    "year_established",
    "churned_on",
)
# Steps `icp_learn` reports around the learner's own PROFILE_STEPS: loading the deals
# before, then counting accounts per tier and saving the draft.
LEARN_STEPS = len(PROFILE_STEPS) + 3


def icp_learn(
    *,
    tenant: Tenant,
    actor=None,
    name: str | None = None,
    weighting: str = WEIGHTING_NONE,
    job_id: int | None = None,
) -> IcpVersion:
    """Learn a profile from the tenant's closed deals and store it as a draft version.

    `weighting` is one of `icp.learning.WEIGHTINGS`. With `job_id`, each step is
    written to that job's progress, and the job is marked succeeded in the same
    transaction that stores the draft, so a retried task never finds a stored draft
    behind a job that is still running. Raises DomainError for an invalid name or
    weighting and InsufficientData when there are too few closed deals or accounts.
    The draft's metrics include the share of all the tenant's accounts in each tier.
    """
    name = _validate_name(name) if name else None
    weighting = validate_weighting(weighting)
    progress = _job_progress_writer(tenant, job_id)
    logger.info(
        "icp.learn.started tenant_id=%s weighting=%s job_id=%s", tenant.pk, weighting, job_id
    )

    def learner_progress(done: int, total: int, stage: str) -> None:
        # The learner's final report (done == total) is where the coverage step starts.
        if done < total:
            progress(1 + done, LEARN_STEPS, stage)

    progress(0, LEARN_STEPS, "Loading closed deals")
    deals = _closed_deals_frame(tenant)
    try:
        profile = learn_profile(deals, weighting=weighting, progress=learner_progress)
    except InsufficientData as error:
        logger.warning("icp.learn.rejected tenant_id=%s reason=%s", tenant.pk, error.message)
        raise

    progress(LEARN_STEPS - 2, LEARN_STEPS, "Counting the tenant's accounts per tier")
    metrics = {
        **profile.metrics,
        "coverage": _coverage(tenant, profile.criteria, profile.tier_cutoffs),
    }
    counts = profile.metrics["counts"]
    progress(LEARN_STEPS - 1, LEARN_STEPS, "Saving the draft")
    with transaction.atomic(), tenant_scope(tenant):
        version = IcpVersion.objects.create(
            tenant=tenant,
            number=_next_number(tenant),
            name=name or _learned_name(counts["closed"], profile.metrics.get("weighting")),
            status=IcpVersion.Status.DRAFT,
            provenance=IcpVersion.Provenance.LEARNED,
            objective=profile.objective,
            signal=profile.signal,
            summary=profile.summary,
            criteria=profile.criteria,
            tier_cutoffs=profile.tier_cutoffs,
            metrics=metrics,
            trained_from=profile.trained_from,
            trained_to=profile.trained_to,
            created_by=_user_or_none(actor),
        )
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            event="icp_version.learned",
            obj=version,
            after=_version_snapshot(version),
        )
        if job_id is not None:
            _learn_job_succeed(tenant, job_id, version)

    logger.info(
        "icp.learn.finished tenant_id=%s icp_version_id=%s objective=%s signal=%s deals=%s",
        tenant.pk,
        version.pk,
        version.objective,
        version.signal,
        counts["closed"],
    )
    return version


def learn_verdict(version: IcpVersion) -> str:
    """Describe in one sentence how far a learned version's criteria can be trusted."""
    outcome = version.objective_label or "its outcome"
    if version.signal == IcpVersion.Signal.STRONG:
        return f"It carries strong signal for {outcome}."
    if version.signal == IcpVersion.Signal.WEAK:
        return (
            f"It carries only weak signal for {outcome}: its tiers are a rough guide, "
            "so review them before activating it."
        )
    return (
        f"It carries no signal for {outcome}: its criteria rank accounts no better than "
        "chance, so do not activate it to rank accounts."
    )


# Phrases that names and messages append for each weighting; unweighted learning adds none.
_WEIGHTING_PHRASES = {
    "value": ", weighted by value",
    "value_and_churn": ", weighted by value and churn",
}


def _learned_name(closed_deals: int, weighting: str | None) -> str:
    return f"Learned from {closed_deals:,} closed deals{_WEIGHTING_PHRASES.get(weighting, '')}"


def _learn_job_succeed(tenant: Tenant, job_id: int, version: IcpVersion) -> None:
    counts = version.metrics["counts"]
    message = (
        f"Learned draft v{version.number} from {counts['closed']:,} closed deals"
        f"{_WEIGHTING_PHRASES.get(version.metrics.get('weighting'), '')}. "
        f"{learn_verdict(version)}"
    )
    job_progress(job_id=job_id, tenant_id=tenant.pk, done=LEARN_STEPS, total=LEARN_STEPS)
    job_succeed(
        job_id=job_id,
        tenant_id=tenant.pk,
        message=message,
        result={
            "version_id": version.pk,
            "objective": version.objective,
            "signal": version.signal,
        },
        target_url=reverse("icp:version_detail", kwargs={"pk": version.pk}),
    )


def _job_progress_writer(tenant: Tenant, job_id: int | None):
    """Return a progress(done, total, stage) callback writing to the job, or doing nothing."""

    def write(done: int, total: int, stage: str) -> None:
        if job_id is not None:
            job_progress(job_id=job_id, tenant_id=tenant.pk, done=done, total=total, stage=stage)

    return write


def icp_version_create(
    *, tenant: Tenant, name: str, criteria: list, tier_cutoffs: dict, actor=None
) -> IcpVersion:
    """Validate hand-written criteria and cut-offs and store them as a draft version.

    Raises DomainError naming the criterion, the value and the fix for the first
    invalid entry.
    """
    name = _validate_name(name)
    cleaned = validate_criteria(criteria)
    cutoffs = validate_tier_cutoffs(tier_cutoffs)
    metrics = {"coverage": _coverage(tenant, cleaned, cutoffs)}

    with transaction.atomic(), tenant_scope(tenant):
        version = IcpVersion.objects.create(
            tenant=tenant,
            number=_next_number(tenant),
            name=name,
            status=IcpVersion.Status.DRAFT,
            provenance=IcpVersion.Provenance.MANUAL,
            criteria=cleaned,
            tier_cutoffs=cutoffs,
            metrics=metrics,
            created_by=_user_or_none(actor),
        )
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            event="icp_version.created",
            obj=version,
            after=_version_snapshot(version),
        )
    logger.info("icp.version.created tenant_id=%s icp_version_id=%s", tenant.pk, version.pk)
    return version


def icp_version_activate(*, version: IcpVersion, actor=None) -> IcpVersion:
    """Activate `version`, retire the tenant's previously active one and start a rescore job.

    The versions are switched in one short transaction, and the job (kind
    ICP_RESCORE, subject "icp_version:<pk>") rescores accounts and partners in the
    background once it commits; `icp.rescoring.rescore_job_run` runs it. Until the
    job finishes, accounts keep their scores from the previous version. Activating
    the version that is already active changes nothing and starts no job.
    """
    tenant = Tenant.objects.get(pk=version.tenant_id)
    with transaction.atomic(), tenant_scope(tenant):
        locked = {row.pk: row for row in IcpVersion.objects.select_for_update().order_by("number")}
        target = locked.get(version.pk)
        if target is None:
            raise DomainError(
                f"ICP version {version.pk} no longer exists.",
                field="version",
                value=version.pk,
                fix="Reload the list of versions and pick another one.",
            )
        if target.status == IcpVersion.Status.ACTIVE:
            return target

        previous = next(
            (row for row in locked.values() if row.status == IcpVersion.Status.ACTIVE), None
        )
        if previous is not None:
            previous.status = IcpVersion.Status.RETIRED
            previous.save(update_fields=["status", "updated_at"])
        before = {
            "status": target.status,
            "active_version_id": previous.pk if previous else None,
        }
        today = tenant.today()
        target.status = IcpVersion.Status.ACTIVE
        target.activated_at = timezone.now()
        target.activated_by = _user_or_none(actor)
        target.review_due_on = today + datetime.timedelta(days=tenant.icp_review_days)
        target.save(
            update_fields=[
                "status",
                "activated_at",
                "activated_by",
                "review_due_on",
                "updated_at",
            ]
        )
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            event="icp_version.activated",
            obj=target,
            before=before,
            after={
                "status": target.status,
                "retired_version_id": previous.pk if previous else None,
                "review_due_on": target.review_due_on.isoformat(),
            },
        )
        job = rescore_job_enqueue(tenant=tenant, version=target, actor=actor)

    logger.info(
        "icp.version.activated tenant_id=%s icp_version_id=%s retired_id=%s job_id=%s",
        tenant.pk,
        target.pk,
        previous.pk if previous else None,
        job.pk,
    )
    return target


def accounts_rescore(*, tenant: Tenant, account_ids=None) -> int:
    """Score the tenant's accounts (all, or `account_ids`) against the active version.

    Writes fit_score, fit_tier and fit_version where they changed and returns the
    number of accounts written, or 0 when no version is active. Without
    `account_ids` every account is rescored in committed chunks; with them the write
    joins the caller's transaction.
    """
    version = icp_version_active(tenant=tenant)
    if version is None:
        logger.info("icp.rescore.skipped tenant_id=%s reason=no_active_version", tenant.pk)
        return 0
    if account_ids is None:
        return accounts_rescore_all(tenant=tenant, version=version).changed
    return accounts_rescore_ids(tenant=tenant, version=version, account_ids=account_ids)


def account_fit_explain(*, account: Account) -> dict:
    """Explain the account's score against the active version, else its last-scored version.

    Returns the `icp.scoring.explain` result plus the version, or a result with score
    None and an empty breakdown when there is no version to score against.
    """
    version = icp_version_active(tenant=account.tenant_id)
    if version is None and account.fit_version_id is not None:
        version = IcpVersion.all_tenants.filter(
            tenant_id=account.tenant_id, pk=account.fit_version_id
        ).first()
    if version is None:
        return {
            "score": None,
            "tier": "",
            "total_weight": 0,
            "earned_points": 0,
            "knocked_out_by": [],
            "missing": [],
            "breakdown": [],
            "version": None,
        }

    tenant = Tenant.objects.get(pk=account.tenant_id)
    if criteria_need_deal_size(version.criteria):
        account.deal_size = deal_sizes([account.pk]).get(account.pk)
    result = explain(account, version.criteria, version.tier_cutoffs, as_of=tenant.today())
    result["version"] = {
        "id": version.pk,
        "number": version.number,
        "name": version.name,
        "status": version.status,
    }
    return result


def _closed_deals_frame(tenant: Tenant) -> pd.DataFrame:
    """Return one row per won or lost deal with an account, joined to its features."""
    account_columns = [f"account__{field}" for field in _DEAL_ACCOUNT_FIELDS]
    columns = ["account_id", "stage", "amount", "close_date", *account_columns]
    with tenant_scope(tenant):
        # Amounts in the base currency; a deal whose exchange rate is missing has none.
        rows = (
            Deal.objects.filter(stage__in=[Deal.Stage.WON, Deal.Stage.LOST], account__isnull=False)
            .annotate(amount_in_base=amount_in_base())
            .values_list(*["amount_in_base" if c == "amount" else c for c in columns])
        )
        frame = pd.DataFrame.from_records(list(rows), columns=columns)
    frame = frame.rename(columns=dict(zip(account_columns, _DEAL_ACCOUNT_FIELDS, strict=True)))
    frame["won"] = frame["stage"].eq(Deal.Stage.WON)
    frame["amount"] = pd.to_numeric(frame["amount"].astype(float), errors="coerce")
    frame["annual_revenue"] = pd.to_numeric(frame["annual_revenue"].astype(float))
    logger.info("icp.learn.loaded tenant_id=%s deals=%s", tenant.pk, len(frame))
    return frame


def _coverage(tenant: Tenant, criteria: list[dict], tier_cutoffs: dict) -> dict:
    """Count the tenant's accounts per tier under these criteria, with their shares."""
    today = tenant.today()
    tiers = [
        score_frame(frame, criteria, tier_cutoffs, as_of=today)["tier"]
        for frame in account_chunks(tenant_id=tenant.pk, criteria=criteria)
    ]
    all_tiers = np.concatenate([series.to_numpy() for series in tiers]) if tiers else []
    return {"accounts": len(all_tiers), "tiers": tier_shares(all_tiers)}


def _next_number(tenant: Tenant) -> int:
    # Locking the tenant row serialises concurrent creates, so numbers stay unique.
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
    with tenant_scope(tenant):
        highest = IcpVersion.objects.aggregate(highest=Max("number"))["highest"]
    return (highest or 0) + 1


def _user_or_none(actor):
    return actor_user(actor)


def _version_snapshot(version: IcpVersion) -> dict:
    return {
        "number": version.number,
        "name": version.name,
        "status": version.status,
        "provenance": version.provenance,
        "objective": version.objective,
        "signal": version.signal,
        "criteria": version.criteria,
        "tier_cutoffs": version.tier_cutoffs,
    }


def _validate_name(name) -> str:
    cleaned = str(name or "").strip()
    max_length = IcpVersion._meta.get_field("name").max_length
    if not cleaned or len(cleaned) > max_length:
        raise DomainError(
            f"ICP version name {name!r} is invalid: it must have 1 to {max_length} characters.",
            field="name",
            value=name,
            fix="Give the version a short name.",
        )
    return cleaned


# Writes of drafts live in icp.drafts, which imports helpers from this module, so they
# are re-exported lazily: a module-level import here would be circular.
_DRAFT_WRITES = ("icp_version_update", "icp_version_copy", "icp_version_delete")


def __getattr__(name: str):
    if name in _DRAFT_WRITES:
        from icp import drafts

        return getattr(drafts, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
