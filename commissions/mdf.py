"""MDF requests, their approval, claims with proof, and reimbursement.

A request moves submitted → approved | rejected | cancelled, and an approved one
without a claim may still be cancelled. Its claim moves submitted → accepted |
rejected, and accepted → reimbursed. Every step that changes how much of an
allocation is committed locks the allocation row first, so two approvals racing
for the last of an allocation cannot both pass.

What a request commits of the allocation (`committed_amount`): the approved
amount while it is approved, the reimbursed amount once its claim is accepted,
and nothing once it is rejected or cancelled or its claim is rejected.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from commissions.mdf_models import (
    MdfAllocation,
    MdfBudget,
    MdfClaim,
    MdfProof,
    MdfRequest,
    proof_upload_path,
)
from commissions.mdf_proofs import proofs_check
from crm.parsing import currency_exponent
from partners.models import Partner
from tenancy.errors import Conflict, DomainError, NotFound
from tenancy.services import actor_user, audit_record

logger = logging.getLogger(__name__)

MAX_AMOUNT = Decimal("1e12")


def _money(value: Decimal, *, field: str, currency: str, allow_zero: bool = False) -> Decimal:
    """Return `value` when it is a positive amount in whole minor units of `currency`."""
    exponent = currency_exponent(currency)
    value = Decimal(value)
    valid = (
        value.is_finite()
        and (value >= 0 if allow_zero else value > 0)
        and value < MAX_AMOUNT
        and value == value.quantize(Decimal(1).scaleb(-exponent))
    )
    if not valid:
        least = "zero or more" if allow_zero else "more than zero"
        raise DomainError(
            f"The {field.replace('_', ' ')} {value} is not a valid amount in {currency}.",
            field=field,
            value=str(value),
            fix=f"Send an amount {least}, below 10^12, with at most {exponent} decimals.",
        )
    return value


def _allocation_for(*, partner: Partner, budget: MdfBudget) -> MdfAllocation:
    if budget.status != MdfBudget.Status.ALLOCATED:
        raise Conflict(
            f"The MDF budget {budget.period_label} is not allocated yet.",
            field="period",
            value=budget.period_label,
            fix="Ask a partner manager to run the allocation first.",
        )
    allocation = MdfAllocation.objects.filter(budget=budget, partner=partner).first()
    if allocation is None or allocation.amount <= 0:
        raise Conflict(
            f"{partner.name} has no MDF allocation in {budget.period_label}.",
            field="period",
            value=budget.period_label,
            fix="Request funds in a period where the partner has an allocation.",
        )
    return allocation


def _same_request(request: MdfRequest, values: dict) -> bool:
    return all(getattr(request, key) == value for key, value in values.items())


def mdf_request_submit(
    *,
    partner: Partner,
    budget: MdfBudget,
    idempotency_key: str,
    title: str,
    description: str,
    activity_type: str,
    planned_start: datetime.date,
    planned_end: datetime.date,
    requested_amount: Decimal,
    actor=None,
) -> tuple[MdfRequest, bool]:
    """Submit a request for funds; return it and whether it was created.

    Submitting again with the same idempotency key and the same fields returns the
    first request. The requested amount may not exceed what remains of the
    partner's allocation when it is submitted; approval checks again.
    """
    idempotency_key = (idempotency_key or "").strip()
    if not idempotency_key or len(idempotency_key) > 100:
        raise DomainError(
            "The idempotency key is missing or longer than 100 characters.",
            field="idempotency_key",
            value=idempotency_key,
            fix="Send a unique key per request, such as a UUID, and the same key on retries.",
        )
    values = {
        "title": (title or "").strip(),
        "description": (description or "").strip(),
        "activity_type": activity_type,
        "planned_start": planned_start,
        "planned_end": planned_end,
        "requested_amount": _money(
            requested_amount, field="requested_amount", currency=budget.currency
        ),
    }
    existing = MdfRequest.objects.filter(partner=partner, idempotency_key=idempotency_key).first()
    if existing is not None:
        return _retried(existing, values, budget), False
    if not values["title"] or len(values["title"]) > 200:
        raise DomainError(
            "The title is missing or longer than 200 characters.",
            field="title",
            value=values["title"],
            fix="Name the activity in at most 200 characters.",
        )
    if activity_type not in MdfRequest.ActivityType.values:
        raise DomainError(
            f"Unknown activity type {activity_type!r}.",
            field="activity_type",
            value=activity_type,
            fix=f"Use one of {', '.join(MdfRequest.ActivityType.values)}.",
        )
    if planned_end < planned_start:
        raise DomainError(
            f"The planned end {planned_end} is before the planned start {planned_start}.",
            field="planned_end",
            value=str(planned_end),
            fix="Send a planned end on or after the planned start.",
        )
    if partner.status != Partner.Status.ACTIVE:
        raise Conflict(
            f"{partner.name} is {partner.status}; only active partners may request MDF.",
            field="partner",
            value=partner.pk,
            fix="Reactivate the partner first.",
        )
    allocation = _allocation_for(partner=partner, budget=budget)
    if values["requested_amount"] > allocation.remaining:
        raise DomainError(
            f"The requested {values['requested_amount']} {budget.currency} is more than the "
            f"{allocation.remaining} {budget.currency} that remains of {partner.name}'s "
            f"allocation in {budget.period_label}.",
            field="requested_amount",
            value=str(values["requested_amount"]),
            fix=f"Request at most {allocation.remaining} {budget.currency}.",
        )
    try:
        with transaction.atomic():
            request = MdfRequest.objects.create(
                tenant_id=partner.tenant_id,
                partner=partner,
                allocation=allocation,
                idempotency_key=idempotency_key,
                submitted_by=actor_user(actor),
                **values,
            )
    except IntegrityError:
        # A concurrent retry with the same key stored it first.
        existing = MdfRequest.objects.get(partner=partner, idempotency_key=idempotency_key)
        return _retried(existing, values, budget), False
    logger.info(
        "mdf.request_submitted tenant_id=%s request_id=%s partner_id=%s allocation_id=%s",
        partner.tenant_id,
        request.pk,
        partner.pk,
        allocation.pk,
    )
    return request, True


def _retried(existing: MdfRequest, values: dict, budget: MdfBudget) -> MdfRequest:
    if existing.allocation.budget_id != budget.pk or not _same_request(existing, values):
        raise Conflict(
            f"The idempotency key {existing.idempotency_key!r} was used for request "
            f"{existing.pk} with other fields.",
            field="idempotency_key",
            value=existing.idempotency_key,
            fix="Send a new key for a new request, or repeat the first request unchanged.",
        )
    return existing


def _locked_request(request_id: int) -> tuple[MdfRequest, MdfAllocation]:
    """Lock the budget, the request's allocation, then the request, always in that order.

    The budget lock makes an approval and a run of `mdf_allocate` wait for each
    other, so an allocation never changes under an approval in flight.
    """
    allocation_id, budget_id = MdfRequest.objects.values_list(
        "allocation_id", "allocation__budget_id"
    ).get(pk=request_id)
    MdfBudget.objects.select_for_update().filter(pk=budget_id).values_list("pk").get()
    allocation = MdfAllocation.objects.select_for_update().get(pk=allocation_id)
    request = MdfRequest.objects.select_for_update().select_related("partner").get(pk=request_id)
    return request, allocation


def _commit(allocation: MdfAllocation, request: MdfRequest, amount: Decimal) -> None:
    allocation.committed += amount - request.committed_amount
    allocation.save(update_fields=["committed", "updated_at"])
    request.committed_amount = amount


def _wrong_status(obj, action: str, allowed: str) -> Conflict:
    name = "Request" if isinstance(obj, MdfRequest) else "Claim"
    return Conflict(
        f"{name} {obj.pk} is {obj.status}, so it cannot be {action}.",
        field="status",
        value=obj.status,
        fix=f"Only {allowed} {name.lower()}s can be {action}.",
    )


@transaction.atomic
def mdf_request_approve(
    *, request_id: int, approved_amount: Decimal | None = None, actor=None
) -> MdfRequest:
    """Approve a submitted request, for the requested amount or a lower one.

    Approving more than what remains of the allocation raises DomainError.
    Approving an approved request again with the same amount changes nothing.
    """
    request, allocation = _locked_request(request_id)
    currency = allocation.budget.currency
    amount = (
        request.requested_amount
        if approved_amount is None
        else _money(approved_amount, field="approved_amount", currency=currency)
    )
    if request.status == MdfRequest.Status.APPROVED and request.approved_amount == amount:
        return request
    if request.status != MdfRequest.Status.SUBMITTED:
        raise _wrong_status(request, "approved", "submitted")
    if amount > request.requested_amount:
        raise DomainError(
            f"The approved {amount} {currency} is more than the requested "
            f"{request.requested_amount} {currency}.",
            field="approved_amount",
            value=str(amount),
            fix=f"Approve at most {request.requested_amount} {currency}.",
        )
    if amount > allocation.remaining:
        raise Conflict(
            f"Approving {amount} {currency} would exceed {request.partner.name}'s allocation: "
            f"{allocation.remaining} {currency} remains of {allocation.amount} {currency}.",
            field="approved_amount",
            value=str(amount),
            fix=f"Approve at most {allocation.remaining} {currency}, or reject the request.",
        )
    _commit(allocation, request, amount)
    request.status = MdfRequest.Status.APPROVED
    request.approved_amount = amount
    request.decided_by = actor_user(actor)
    request.decided_at = timezone.now()
    request.save()
    audit_record(
        tenant_id=request.tenant_id,
        actor=actor,
        event="mdf.request_approved",
        obj=request,
        before={"status": MdfRequest.Status.SUBMITTED},
        after={"status": request.status, "approved_amount": str(amount)},
    )
    logger.info(
        "mdf.request_approved tenant_id=%s request_id=%s allocation_id=%s amount=%s",
        request.tenant_id,
        request.pk,
        allocation.pk,
        amount,
    )
    return request


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise DomainError(
            "The reason is missing or longer than 500 characters.",
            field="reason",
            value=reason,
            fix="Tell the partner in at most 500 characters why.",
        )
    return reason


@transaction.atomic
def mdf_request_reject(*, request_id: int, reason: str, actor=None) -> MdfRequest:
    """Reject a submitted request with a reason the partner sees; rejecting again is a no-op."""
    reason = _reason(reason)
    request, allocation = _locked_request(request_id)
    if request.status == MdfRequest.Status.REJECTED:
        return request
    if request.status != MdfRequest.Status.SUBMITTED:
        raise _wrong_status(request, "rejected", "submitted")
    request.status = MdfRequest.Status.REJECTED
    request.decision_reason = reason
    request.decided_by = actor_user(actor)
    request.decided_at = timezone.now()
    request.save()
    audit_record(
        tenant_id=request.tenant_id,
        actor=actor,
        event="mdf.request_rejected",
        obj=request,
        before={"status": MdfRequest.Status.SUBMITTED},
        after={"status": request.status, "reason": reason},
    )
    logger.info(
        "mdf.request_rejected tenant_id=%s request_id=%s allocation_id=%s",
        request.tenant_id,
        request.pk,
        allocation.pk,
    )
    return request


@transaction.atomic
def mdf_request_cancel(*, request_id: int, actor=None) -> MdfRequest:
    """Cancel a submitted request, or an approved one without a claim, releasing its funds."""
    request, allocation = _locked_request(request_id)
    if request.status == MdfRequest.Status.CANCELLED:
        return request
    cancellable = request.status == MdfRequest.Status.SUBMITTED or (
        request.status == MdfRequest.Status.APPROVED
        and not MdfClaim.objects.filter(request=request).exists()
    )
    if not cancellable:
        raise _wrong_status(request, "cancelled", "submitted, or approved and unclaimed,")
    before = request.status
    _commit(allocation, request, Decimal(0))
    request.status = MdfRequest.Status.CANCELLED
    request.save()
    audit_record(
        tenant_id=request.tenant_id,
        actor=actor,
        event="mdf.request_cancelled",
        obj=request,
        before={"status": before},
        after={"status": request.status},
    )
    logger.info("mdf.request_cancelled tenant_id=%s request_id=%s", request.tenant_id, request.pk)
    return request


def mdf_claim_submit(
    *, request_id: int, claimed_amount: Decimal, files: list, notes: str = "", actor=None
) -> tuple[MdfClaim, bool]:
    """Submit the claim of an approved request with its proof; return it and whether it is new.

    The claimed amount may not exceed the approved amount. A request takes one
    claim: submitting again with the same amount returns the stored claim and
    ignores the files, so a retried upload stores nothing twice.
    """
    request = MdfRequest.objects.select_related("allocation__budget").get(pk=request_id)
    currency = request.allocation.budget.currency
    amount = _money(claimed_amount, field="claimed_amount", currency=currency)
    existing = MdfClaim.objects.filter(request=request).first()
    if existing is not None:
        if existing.claimed_amount != amount:
            raise Conflict(
                f"Request {request.pk} already has claim {existing.pk} of "
                f"{existing.claimed_amount} {currency}.",
                field="claimed_amount",
                value=str(amount),
                fix="A request takes one claim; ask a partner manager about the stored one.",
            )
        return existing, False
    if request.status != MdfRequest.Status.APPROVED:
        raise _wrong_status(request, "claimed", "approved")
    if amount > request.approved_amount:
        raise DomainError(
            f"The claimed {amount} {currency} is more than the approved "
            f"{request.approved_amount} {currency}.",
            field="claimed_amount",
            value=str(amount),
            fix=f"Claim at most {request.approved_amount} {currency}.",
        )
    checked = proofs_check(files)
    stored_names: list[str] = []
    try:
        with transaction.atomic():
            locked = MdfRequest.objects.select_for_update().get(pk=request.pk)
            if locked.status != MdfRequest.Status.APPROVED:
                raise _wrong_status(locked, "claimed", "approved")
            claim = MdfClaim.objects.create(
                tenant_id=request.tenant_id,
                request=request,
                claimed_amount=amount,
                notes=(notes or "").strip(),
                submitted_by=actor_user(actor),
            )
            storage = MdfProof._meta.get_field("file").storage
            for proof in checked:
                # Saved here rather than by the model, so every written name is known.
                name = storage.save(
                    proof_upload_path(MdfProof(tenant_id=request.tenant_id), proof.name),
                    proof.file,
                )
                stored_names.append(name)
                MdfProof.objects.create(
                    tenant_id=request.tenant_id,
                    claim=claim,
                    file=name,
                    original_name=proof.name,
                    content_type=proof.content_type,
                    size=proof.size,
                )
    except BaseException as error:
        # The storage keeps files that a rolled-back transaction wrote, so delete them.
        _files_delete(stored_names, request_id=request.pk)
        if isinstance(error, IntegrityError):
            # A concurrent retry stored the claim first.
            logger.info(
                "mdf.claim_retry_raced tenant_id=%s request_id=%s", request.tenant_id, request.pk
            )
            return MdfClaim.objects.get(request=request), False
        raise
    logger.info(
        "mdf.claim_submitted tenant_id=%s claim_id=%s request_id=%s proofs=%s",
        request.tenant_id,
        claim.pk,
        request.pk,
        len(checked),
    )
    return claim, True


def _files_delete(names: list[str], *, request_id: int) -> None:
    storage = MdfProof._meta.get_field("file").storage
    for name in names:
        try:
            storage.delete(name)
        except OSError as error:
            logger.warning(
                "mdf.proof_delete_failed request_id=%s name=%s error=%s", request_id, name, error
            )


def _locked_claim(request_id: int) -> tuple[MdfClaim, MdfRequest, MdfAllocation]:
    request, allocation = _locked_request(request_id)
    claim = MdfClaim.objects.select_for_update().filter(request=request).first()
    if claim is None:
        raise NotFound(
            f"Request {request.pk} has no claim yet.",
            field="request",
            value=request.pk,
            fix="Wait for the partner to submit a claim with proof.",
        )
    return claim, request, allocation


@transaction.atomic
def mdf_claim_accept(
    *, request_id: int, reimbursed_amount: Decimal | None = None, actor=None
) -> MdfClaim:
    """Accept a submitted claim for the claimed amount or less; accepting again is a no-op."""
    claim, request, allocation = _locked_claim(request_id)
    currency = allocation.budget.currency
    amount = (
        claim.claimed_amount
        if reimbursed_amount is None
        else _money(reimbursed_amount, field="reimbursed_amount", currency=currency)
    )
    if claim.status == MdfClaim.Status.ACCEPTED and claim.reimbursed_amount == amount:
        return claim
    if claim.status != MdfClaim.Status.SUBMITTED:
        raise _wrong_status(claim, "accepted", "submitted")
    if amount > claim.claimed_amount:
        raise DomainError(
            f"The reimbursed {amount} {currency} is more than the claimed "
            f"{claim.claimed_amount} {currency}.",
            field="reimbursed_amount",
            value=str(amount),
            fix=f"Reimburse at most {claim.claimed_amount} {currency}.",
        )
    _commit(allocation, request, amount)
    request.save(update_fields=["committed_amount", "updated_at"])
    claim.status = MdfClaim.Status.ACCEPTED
    claim.reimbursed_amount = amount
    claim.decided_by = actor_user(actor)
    claim.decided_at = timezone.now()
    claim.save()
    audit_record(
        tenant_id=claim.tenant_id,
        actor=actor,
        event="mdf.claim_accepted",
        obj=claim,
        before={"status": MdfClaim.Status.SUBMITTED},
        after={"status": claim.status, "reimbursed_amount": str(amount)},
    )
    logger.info(
        "mdf.claim_accepted tenant_id=%s claim_id=%s request_id=%s amount=%s",
        claim.tenant_id,
        claim.pk,
        request.pk,
        amount,
    )
    return claim


@transaction.atomic
def mdf_claim_reject(*, request_id: int, reason: str, actor=None) -> MdfClaim:
    """Reject a submitted claim, which releases the request's funds; rejecting again is a no-op."""
    reason = _reason(reason)
    claim, request, allocation = _locked_claim(request_id)
    if claim.status == MdfClaim.Status.REJECTED:
        return claim
    if claim.status != MdfClaim.Status.SUBMITTED:
        raise _wrong_status(claim, "rejected", "submitted")
    _commit(allocation, request, Decimal(0))
    request.save(update_fields=["committed_amount", "updated_at"])
    claim.status = MdfClaim.Status.REJECTED
    claim.decision_reason = reason
    claim.decided_by = actor_user(actor)
    claim.decided_at = timezone.now()
    claim.save()
    audit_record(
        tenant_id=claim.tenant_id,
        actor=actor,
        event="mdf.claim_rejected",
        obj=claim,
        before={"status": MdfClaim.Status.SUBMITTED},
        after={"status": claim.status, "reason": reason},
    )
    logger.info(
        "mdf.claim_rejected tenant_id=%s claim_id=%s request_id=%s",
        claim.tenant_id,
        claim.pk,
        request.pk,
    )
    return claim


@transaction.atomic
def mdf_claim_mark_reimbursed(*, request_id: int, payment_reference: str, actor=None) -> MdfClaim:
    """Mark an accepted claim paid with its payment reference; the same reference is a no-op."""
    reference = (payment_reference or "").strip()
    if not reference or len(reference) > 100:
        raise DomainError(
            "The payment reference is missing or longer than 100 characters.",
            field="payment_reference",
            value=reference,
            fix="Send the reference of the bank transfer or payment, at most 100 characters.",
        )
    claim, request, _ = _locked_claim(request_id)
    if claim.status == MdfClaim.Status.REIMBURSED and claim.payment_reference == reference:
        return claim
    if claim.status != MdfClaim.Status.ACCEPTED:
        raise _wrong_status(claim, "marked reimbursed", "accepted")
    claim.status = MdfClaim.Status.REIMBURSED
    claim.payment_reference = reference
    claim.reimbursed_at = timezone.now()
    claim.save()
    audit_record(
        tenant_id=claim.tenant_id,
        actor=actor,
        event="mdf.claim_reimbursed",
        obj=claim,
        before={"status": MdfClaim.Status.ACCEPTED},
        after={
            "status": claim.status,
            "reimbursed_amount": str(claim.reimbursed_amount),
            "payment_reference": reference,
        },
    )
    logger.info(
        "mdf.claim_reimbursed tenant_id=%s claim_id=%s request_id=%s",
        claim.tenant_id,
        claim.pk,
        request.pk,
    )
    return claim
