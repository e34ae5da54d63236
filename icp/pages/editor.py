"""ICP editor pages: write a draft by hand, preview its tiers, copy, activate, delete.

Every page here changes data or prepares a change, so only editor roles reach them;
analysts get 403 and see no buttons that lead here.
"""

from __future__ import annotations

import datetime
import logging

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from icp import drafts, services
from icp.activation_jobs import rescore_job_since
from icp.models import IcpVersion
from icp.pages.editor_form import (
    EditorForm,
    blank_row,
    field_groups,
    kind_choices,
    match_choices,
)
from icp.scoring import LOWEST_TIER, TIERS
from tenancy.errors import DomainError
from tenancy.permissions import editor_required
from tenancy.shortcuts import get_for_tenant_or_404

logger = logging.getLogger(__name__)

EDITOR_TEMPLATE = "icp/version_editor.html"
PREVIEW_TEMPLATE = "icp/_editor_preview.html"


def _source_version(request) -> IcpVersion | None:
    """Return the version named by `from` in the query string or form, if any."""
    source_id = request.POST.get("from") or request.GET.get("from")
    if not source_id:
        return None
    if not str(source_id).isdigit():
        return get_for_tenant_or_404(IcpVersion, pk=0)
    return get_for_tenant_or_404(IcpVersion, pk=int(source_id))


def _render_editor(request, form: EditorForm, *, version=None, source=None, preview=None):
    if version is not None:
        action = reverse("icp:version_edit", args=[version.pk])
    else:
        action = reverse("icp:version_new")
    context = {
        "form": form,
        "version": version,
        "source": source,
        "action": action,
        "preview": preview,
        "kinds": kind_choices(),
        "field_groups": field_groups(),
        "matches": match_choices(),
        # The row that the editor script clones and renumbers for "Add criterion".
        "template_row": blank_row("__index__"),
        "learned_figures": version is not None and bool(version.signal),
    }
    status = 400 if form.has_errors else 200
    return render(request, EDITOR_TEMPLATE, context, status=status)


@editor_required
@require_http_methods(["GET", "POST"])
def version_new(request):
    source = _source_version(request)
    if request.method == "GET":
        if source is None:
            form = EditorForm.blank()
        else:
            form = EditorForm.from_version(source, name=f"Copy of v{source.number} {source.name}")
        return _render_editor(request, form, source=source)

    form = EditorForm.from_post(request.POST)
    data = form.clean()
    if data is None:
        return _render_editor(request, form, source=source)
    try:
        if source is None:
            version = services.icp_version_create(tenant=request.tenant, actor=request.user, **data)
        else:
            # A draft started from another version records where it came from and keeps
            # the learned evidence of the criteria it did not change.
            with transaction.atomic():
                copy = drafts.icp_version_copy(version=source, actor=request.user)
                version = drafts.icp_version_update(version=copy, actor=request.user, **data)
    except DomainError as error:
        form.add_error(error)
        return _render_editor(request, form, source=source)

    messages.success(request, f"Saved the draft v{version.number} “{version.name}”.")
    return redirect("icp:version_detail", pk=version.pk)


def _not_a_draft(request, version: IcpVersion, ending: str):
    """Send the user back to a version that is not a draft, saying why it cannot change."""
    messages.error(
        request,
        f"v{version.number} is {version.get_status_display().lower()}, and only drafts "
        f"can be {ending}",
    )
    return redirect("icp:version_detail", pk=version.pk)


@editor_required
@require_http_methods(["GET", "POST"])
def version_edit(request, pk: int):
    version = get_for_tenant_or_404(IcpVersion, pk=pk)
    if version.status != IcpVersion.Status.DRAFT:
        return _not_a_draft(request, version, "edited. Copy it into a new draft to change it.")
    if request.method == "GET":
        return _render_editor(request, EditorForm.from_version(version), version=version)

    form = EditorForm.from_post(request.POST)
    data = form.clean()
    if data is None:
        return _render_editor(request, form, version=version)
    try:
        version = drafts.icp_version_update(version=version, actor=request.user, **data)
    except DomainError as error:
        form.add_error(error)
        return _render_editor(request, form, version=version)

    messages.success(request, f"Saved the draft v{version.number} “{version.name}”.")
    return redirect("icp:version_detail", pk=version.pk)


@editor_required
@require_POST
def version_preview(request):
    """Show how the tenant's accounts would fall into tiers under the posted criteria.

    With htmx the response is the preview fragment. Without htmx it is the whole
    editor page again, with the preview under the form and the input kept.
    """
    form = EditorForm.from_post(request.POST)
    # Without JavaScript, "Add criterion" posts here to get the page back with a new
    # blank row. The rows are checked only when the user saves or previews.
    adding_row = bool(request.POST.get("add_row")) and not request.htmx
    data = None if adding_row else form.clean()
    preview = None
    if data is not None:
        try:
            coverage = drafts.icp_version_preview(
                tenant=request.tenant,
                criteria=data["criteria"],
                tier_cutoffs=data["tier_cutoffs"],
            )
        except DomainError as error:
            form.add_error(error)
        else:
            preview = _preview_rows(coverage, data["tier_cutoffs"])
    if request.htmx:
        context = {"form": form, "preview": preview}
        return render(request, PREVIEW_TEMPLATE, context, status=200)

    version = None
    if request.POST.get("version"):
        version = get_for_tenant_or_404(IcpVersion, pk=_int_or_zero(request.POST["version"]))
    return _render_editor(
        request, form, version=version, source=_source_version(request), preview=preview
    )


def _int_or_zero(text) -> int:
    return int(text) if str(text).isdigit() else 0


def _preview_rows(coverage: dict, cutoffs: dict) -> dict:
    tiers = coverage["tiers"]
    upper = 100
    rows = []
    for tier in (*TIERS, LOWEST_TIER):
        lowest = cutoffs.get(tier, 0)
        rows.append(
            {
                "tier": tier,
                "lowest": lowest,
                "highest": upper,
                "empty_range": upper < lowest,
                "accounts": tiers[tier]["accounts"],
                "percent": round(tiers[tier]["share"] * 100, 1),
            }
        )
        upper = lowest - 1
    return {"accounts": coverage["accounts"], "rows": rows}


@editor_required
@require_POST
def version_copy(request, pk: int):
    source = get_for_tenant_or_404(IcpVersion, pk=pk)
    try:
        copy = drafts.icp_version_copy(version=source, actor=request.user)
    except DomainError as error:
        messages.error(request, f"{error.message} {error.fix}")
        return redirect("icp:version_detail", pk=source.pk)
    messages.success(
        request, f"Copied v{source.number} into the draft v{copy.number}. Edit it below."
    )
    return redirect("icp:version_edit", pk=copy.pk)


@editor_required
@require_http_methods(["GET", "POST"])
def version_delete(request, pk: int):
    version = get_for_tenant_or_404(IcpVersion, pk=pk)
    if version.status != IcpVersion.Status.DRAFT:
        return _not_a_draft(request, version, "deleted.")
    if request.method == "GET":
        return render(request, "icp/version_delete.html", {"version": version})

    try:
        drafts.icp_version_delete(version=version, actor=request.user)
    except DomainError as error:
        messages.error(request, f"{error.message} {error.fix}")
        return redirect("icp:version_detail", pk=version.pk)
    messages.success(request, f"Deleted the draft v{version.number} “{version.name}”.")
    return redirect("icp:version_list")


@editor_required
@require_http_methods(["GET", "POST"])
def version_activate(request, pk: int):
    """Confirm, then activate a draft or retired version.

    After activation the page goes to the progress of the rescore job that the
    activation started, when there is one, else back to the version.
    """
    version = get_for_tenant_or_404(IcpVersion, pk=pk)
    if version.status == IcpVersion.Status.ACTIVE:
        messages.info(request, f"v{version.number} is already active, so nothing changed.")
        return redirect("icp:version_detail", pk=version.pk)
    if request.method == "GET":
        active = IcpVersion.objects.filter(status=IcpVersion.Status.ACTIVE).first()
        context = {
            "version": version,
            "active": active,
            "objective_label": version.objective_label,
            "show_warning": version.signal in (IcpVersion.Signal.WEAK, IcpVersion.Signal.NONE),
            "review_due_on": request.tenant.today()
            + datetime.timedelta(days=request.tenant.icp_review_days),
        }
        return render(request, "icp/version_activate.html", context)

    started_at = timezone.now()
    try:
        activated = services.icp_version_activate(version=version, actor=request.user)
    except DomainError as error:
        logger.warning(
            "icp.version.activate_rejected tenant_id=%s icp_version_id=%s reason=%s",
            request.tenant.pk,
            version.pk,
            error.message,
        )
        messages.error(request, f"{error.message} {error.fix}")
        return redirect("icp:version_detail", pk=version.pk)

    job = rescore_job_since(request.tenant, activated, started_at)
    text = f"Activated v{activated.number} “{activated.name}”."
    if job is not None:
        messages.success(request, f"{text} Accounts and partners are being rescored.")
        return redirect("jobs:job_detail", pk=job.pk)
    messages.success(request, text)
    return redirect("icp:version_detail", pk=activated.pk)
