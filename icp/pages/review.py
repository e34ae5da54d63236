"""The ICP review page: review status, the complete-review form and the drift report."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from icp.drift import icp_drift_report
from icp.drift_draft import icp_draft_from_drift
from icp.models import IcpVersion
from icp.review import MAX_NOTE_LENGTH, icp_review_complete, icp_review_last, icp_review_status
from tenancy.errors import DomainError
from tenancy.permissions import editor_required, page_permissions, staff_required
from tenancy.shortcuts import get_for_tenant_or_404

logger = logging.getLogger(__name__)


class ReviewCompleteForm(forms.Form):
    # The version the reviewer saw, so a review never lands on a version activated since.
    version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(
        required=False,
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Review note",
        help_text=f"What you checked and decided, up to {MAX_NOTE_LENGTH:,} characters. "
        "It is kept in the audit trail.",
    )


def _render_review(request, *, form=None, draft_error: DomainError | None = None, status=200):
    tenant = request.tenant
    review = icp_review_status(tenant=tenant)
    version = review.version
    report = icp_drift_report(tenant=tenant, version=version) if version else None
    if form is None and version is not None:
        form = ReviewCompleteForm(initial={"version": version.pk})
    context = {
        "review": review,
        "version": version,
        "last_review": icp_review_last(version=version) if version else None,
        "report": report,
        "churn_rows": [row for row in report["churn"] if row["tier"] != "all"] if report else [],
        "churn_total": next(row for row in report["churn"] if row["tier"] == "all")
        if report
        else None,
        "form": form,
        "draft_error": draft_error,
        **page_permissions(request.membership),
    }
    return render(request, "icp/review.html", context, status=status)


@staff_required
def review(request):
    return _render_review(request)


@editor_required
@require_POST
def review_complete(request):
    form = ReviewCompleteForm(request.POST)
    if not form.is_valid():
        return _render_review(request, form=form, status=400)
    version = get_for_tenant_or_404(IcpVersion, pk=form.cleaned_data["version"])
    try:
        reviewed = icp_review_complete(
            version=version, actor=request.user, note=form.cleaned_data["note"]
        )
    except DomainError as error:
        logger.info(
            "icp.review.rejected tenant_id=%s icp_version_id=%s error=%s",
            request.tenant.pk,
            version.pk,
            error.message,
        )
        field = "note" if error.field == "note" else None
        form.add_error(field, f"{error.message} {error.fix}".strip())
        return _render_review(request, form=form, status=error.status_code)

    messages.success(
        request,
        f"Recorded the review of v{reviewed.number}. The next review is due on "
        f"{reviewed.review_due_on.isoformat()}.",
    )
    return redirect("icp:review")


@editor_required
@require_POST
def drift_draft(request):
    try:
        draft, created = icp_draft_from_drift(tenant=request.tenant, actor=request.user)
    except DomainError as error:
        logger.info(
            "icp.drift_draft.rejected tenant_id=%s error=%s", request.tenant.pk, error.message
        )
        return _render_review(request, draft_error=error, status=error.status_code)

    if created:
        messages.success(
            request,
            f"Created draft v{draft.number} from the drift findings. Check its criteria and "
            "coverage before activating it.",
        )
    else:
        messages.info(
            request,
            f"Draft v{draft.number} was created from these findings moments ago; showing it "
            "instead of creating another.",
        )
    return redirect("icp:version_detail", pk=draft.pk)
