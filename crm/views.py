"""Account pages and the CSV import pages."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from crm import selectors as crm_selectors
from crm.forms import UNSCORED_TIER, AccountFilterForm, ImportUploadForm
from crm.importing import MAX_STORED_ERRORS, csv_import
from crm.models import Account, ImportRun
from icp import services as icp_services
from tenancy.permissions import editor_required, page_permissions, staff_required
from tenancy.shortcuts import get_for_tenant_or_404

ACCOUNTS_PER_PAGE = 25
RECENT_IMPORTS = 20


def _account_search(*, query: str, tier: str) -> QuerySet[Account]:
    if tier == UNSCORED_TIER:
        return crm_selectors.account_list(search=query).filter(fit_tier="")
    return crm_selectors.account_list(search=query, tier=tier)


@staff_required
def account_list(request):
    form = AccountFilterForm(request.GET)
    # An invalid filter, such as an unknown tier, shows every account along with the form error.
    filters = form.cleaned_data if form.is_valid() else {}
    query = filters.get("q", "").strip()
    tier = filters.get("tier", "")
    accounts = _account_search(query=query, tier=tier)
    page = Paginator(accounts, ACCOUNTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "filtered": bool(query or tier)}
    return render(request, "crm/account_list.html", context)


@staff_required
def account_detail(request, pk: int):
    account = get_for_tenant_or_404(crm_selectors.account_list(), pk=pk)
    deals = account.deals.select_related("partner").order_by(
        F("close_date").desc(nulls_last=True), "-id"
    )
    context = {
        "account": account,
        "fit": icp_services.account_fit_explain(account=account),
        "deals": deals,
    }
    return render(request, "crm/account_detail.html", context)


def _render_imports(request, form: ImportUploadForm, *, status: int = 200):
    runs = ImportRun.objects.select_related("created_by").order_by("-created_at", "-id")
    context = {
        "form": form,
        "runs": runs[:RECENT_IMPORTS],
        **page_permissions(request.membership),
    }
    return render(request, "crm/import_list.html", context, status=status)


@staff_required
def import_list(request):
    return _render_imports(request, ImportUploadForm())


@editor_required
@require_POST
def import_upload(request):
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_imports(request, form, status=400)

    upload = form.cleaned_data["file"]
    run = csv_import(
        tenant=request.tenant,
        kind=form.cleaned_data["kind"],
        content=upload.read(),
        filename=upload.name,
        strict=form.cleaned_data["strict"],
        actor=request.user,
    )

    if run.status == ImportRun.Status.FAILED:
        messages.error(request, "The import failed and wrote nothing: fix the lines listed below.")
    elif run.status == ImportRun.Status.PARTIAL:
        messages.warning(
            request,
            f"Imported the valid lines; {run.rows_rejected} lines were rejected (listed below).",
        )
    else:
        messages.success(
            request, f"Imported {run.rows_created} new and {run.rows_updated} updated rows."
        )
    return redirect("crm:import_detail", pk=run.pk)


@staff_required
def import_detail(request, pk: int):
    run = get_for_tenant_or_404(ImportRun.objects.select_related("created_by"), pk=pk)
    context = {"run": run, "errors_truncated": len(run.errors) >= MAX_STORED_ERRORS}
    return render(request, "crm/import_detail.html", context)
