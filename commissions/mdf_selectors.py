"""Reads of MDF budgets, allocations with their spend, requests and proofs."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from commissions.mdf_models import MdfAllocation, MdfBudget, MdfClaim, MdfProof, MdfRequest
from tenancy.errors import NotFound

ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=14, decimal_places=2))


def mdf_budget_list() -> QuerySet[MdfBudget]:
    return MdfBudget.objects.order_by("-period_start", "period_kind")


def mdf_budget_get(*, pk: int) -> MdfBudget:
    """Return the active tenant's budget `pk`, or raise NotFound."""
    budget = mdf_budget_list().filter(pk=pk).first()
    if budget is None:
        raise NotFound(
            "No MDF budget has this id.",
            field="id",
            value=pk,
            fix="List budgets with GET /api/v1/mdf/budgets/ to find the id.",
        )
    return budget


def mdf_allocation_list(
    *, budget_id: int | None = None, partner_id: int | None = None
) -> QuerySet[MdfAllocation]:
    """Return allocations with their spend: approved (committed), claimed, reimbursed, remaining.

    Claimed counts claims that are not rejected; reimbursed counts claims marked paid.
    """
    rows = MdfAllocation.objects.select_related("partner", "budget").annotate(
        claimed=Coalesce(
            Sum(
                "requests__claim__claimed_amount",
                filter=~Q(requests__claim__status=MdfClaim.Status.REJECTED),
            ),
            ZERO,
        ),
        reimbursed=Coalesce(
            Sum(
                "requests__claim__reimbursed_amount",
                filter=Q(requests__claim__status=MdfClaim.Status.REIMBURSED),
            ),
            ZERO,
        ),
        remaining_amount=F("amount") - F("committed"),
    )
    if budget_id is not None:
        rows = rows.filter(budget_id=budget_id)
    if partner_id is not None:
        rows = rows.filter(partner_id=partner_id)
    return rows.order_by("-budget__period_start", "-amount", "partner__name", "id")


def mdf_spend_totals(allocations) -> dict[str, Decimal]:
    """Return the sums of the spend columns over `allocations`."""
    totals = {"amount": Decimal(0), "committed": Decimal(0)}
    totals |= {"claimed": Decimal(0), "reimbursed": Decimal(0), "remaining": Decimal(0)}
    for row in allocations:
        totals["amount"] += row.amount
        totals["committed"] += row.committed
        totals["claimed"] += row.claimed
        totals["reimbursed"] += row.reimbursed
        totals["remaining"] += row.remaining_amount
    return totals


def mdf_request_list(
    *,
    budget_id: int | None = None,
    partner_id: int | None = None,
    status: str | None = None,
) -> QuerySet[MdfRequest]:
    rows = MdfRequest.objects.select_related(
        "partner", "allocation__budget", "claim"
    ).prefetch_related("claim__proofs")
    if budget_id is not None:
        rows = rows.filter(allocation__budget_id=budget_id)
    if partner_id is not None:
        rows = rows.filter(partner_id=partner_id)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-created_at", "-id")


def mdf_request_get(*, pk: int, partner_id: int | None = None) -> MdfRequest:
    """Return the request `pk` (of `partner_id` when given) of the active tenant, or NotFound."""
    request = mdf_request_list(partner_id=partner_id).filter(pk=pk).first()
    if request is None:
        raise NotFound(
            "No MDF request has this id.",
            field="id",
            value=pk,
            fix="List requests with GET on the MDF requests endpoint to find the id.",
        )
    return request


def mdf_request_claim(request: MdfRequest) -> MdfClaim | None:
    try:
        return request.claim
    except MdfClaim.DoesNotExist:
        return None


def mdf_proof_get(*, pk: int, partner_id: int | None = None) -> MdfProof:
    """Return proof `pk` (of a claim of `partner_id` when given), or raise NotFound."""
    proofs = MdfProof.objects.select_related("claim__request")
    if partner_id is not None:
        proofs = proofs.filter(claim__request__partner_id=partner_id)
    proof = proofs.filter(pk=pk).first()
    if proof is None:
        raise NotFound(
            "No proof file has this id.",
            field="id",
            value=pk,
            fix="Open the MDF request to see the ids of its proof files.",
        )
    return proof
