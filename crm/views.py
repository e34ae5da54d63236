"""Account pages and the CSV import pages."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from crm import selectors as crm_selectors
from crm.forms import UNSCORED_TIER, AccountFilterForm, ImportUploadForm
from crm.importing import MAX_STORED_ERRORS
from crm.importing.mappings import file_format_resolve
from crm.importing.uploads import import_request, import_summary, same_file_run
from crm.models import Account, ImportRun
from icp import services as icp_services
from jobs.views import POLL_SECONDS
from tenancy.errors import DomainError
from tenancy.form_errors import form_error_add
from tenancy.permissions import editor_required, page_permissions, staff_required
from tenancy.shortcuts import get_for_tenant_or_404

ACCOUNTS_PER_PAGE = 25
RECENT_IMPORTS = 20

# Sortable columns of the account list: the ordering a first click applies, then the reverse.
SORT_COLUMNS = {
    "name": ("name", "-name"),
    "fit_score": ("-fit_score", "fit_score"),
}
COMPACT_SCALES = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"))


def _account_search(*, query: str, tier: str, ordering: str) -> QuerySet[Account]:
    if tier == UNSCORED_TIER:
        return crm_selectors.account_list(search=query, ordering=ordering).filter(fit_tier="")
    return crm_selectors.account_list(search=query, tier=tier, ordering=ordering)


def compact_amount(amount: Decimal) -> str:
    """Shorten an amount to three significant digits, such as "11.7B", "540M" or "950"."""
    value = float(amount)
    # Rounded before the scale is picked, so 999,950,000 becomes "1B" and not "1e+03M".
    rounded = float(f"{value:.3g}")
    for scale, suffix in COMPACT_SCALES:
        if abs(rounded) >= scale:
            return f"{rounded / scale:g}{suffix}"
    return f"{value:,.0f}"


def _sort_links(ordering: str) -> dict[str, dict]:
    """Describe each sortable column header: the ordering its link applies and its state."""
    descending = ordering.startswith("-")
    links = {}
    for column, (first, reverse) in SORT_COLUMNS.items():
        link = {
            "ordering": reverse if ordering == first else first,
            "active": False,
            "aria_sort": "",
            "mark": "",
        }
        if ordering in (first, reverse):
            link["active"] = True
            link["aria_sort"] = "descending" if descending else "ascending"
            link["mark"] = "▼" if descending else "▲"
        links[column] = link
    return links


@staff_required
def account_list(request):
    form = AccountFilterForm(request.GET)
    # An invalid filter, such as an unknown tier, shows every account along with the form error.
    filters = form.cleaned_data if form.is_valid() else {}
    query = filters.get("q", "").strip()
    tier = filters.get("tier", "")
    ordering = filters.get("ordering") or crm_selectors.ACCOUNT_DEFAULT_ORDERING
    accounts = _account_search(query=query, tier=tier, ordering=ordering)
    page = Paginator(accounts, ACCOUNTS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for account in page.object_list:
        if account.annual_revenue is not None:
            account.annual_revenue_compact = compact_amount(account.annual_revenue)
    context = {
        "form": form,
        "page": page,
        "filtered": bool(query or tier),
        "sort_links": _sort_links(ordering),
        "currency": request.tenant.base_currency,
    }
    return render(request, "crm/account_list.html", context, status=400 if form.errors else 200)


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


def _file_rejected(run: ImportRun) -> bool:
    """Return True when the import stopped before reading any data line.

    This happens when the file is not UTF-8, is empty or has an invalid header. The
    run then counts 0 lines and 1 rejected line, so the pages show its errors instead.
    """
    return run.rows_total == 0 and bool(run.errors)


def _render_imports(request, form: ImportUploadForm, *, status: int = 200):
    runs = list(
        ImportRun.objects.select_related("created_by").order_by("-created_at", "-id")[
            :RECENT_IMPORTS
        ]
    )
    for run in runs:
        run.file_rejected = _file_rejected(run)
    context = {
        "form": form,
        "runs": runs,
        **page_permissions(request.membership),
    }
    return render(request, "crm/import_list.html", context, status=status)


@staff_required
def import_list(request):
    # A link such as "?kind=reach" from a partner's page preselects the file kind.
    kind = request.GET.get("kind")
    initial = {"kind": kind} if kind in ImportRun.Kind.values else {}
    return _render_imports(request, ImportUploadForm(initial=initial))


@editor_required
@require_POST
def import_upload(request):
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_imports(request, form, status=400)

    data = form.cleaned_data
    upload = data["file"]
    try:
        file_format = file_format_resolve(
            tenant=request.tenant,
            kind=data["kind"],
            source=data["source"],
            mapping=data["mapping"],
            encoding=data["encoding"],
            delimiter=data["delimiter"],
            locale=data["locale"],
            date_order=data["date_format"],
        )
    except DomainError as error:
        form_error_add(form, error)
        return _render_imports(request, form, status=400)
    run = import_request(
        tenant=request.tenant,
        kind=data["kind"],
        upload=upload,
        filename=upload.name,
        file_format=file_format,
        strict=data["strict"],
        dry_run=data["dry_run"],
        source=data["source"],
        actor=request.user,
    )

    if not run.finished:
        messages.info(request, "The file is queued for the worker: its progress shows below.")
    elif run.status == ImportRun.Status.FAILED:
        messages.error(
            request, "The import failed and wrote nothing: fix the problems listed below."
        )
    elif run.dry_run:
        messages.success(request, f"Dry run, nothing written. {import_summary(run)}")
    elif run.status == ImportRun.Status.PARTIAL:
        rejected = ngettext(
            "%(count)d line was rejected", "%(count)d lines were rejected", run.rows_rejected
        ) % {"count": run.rows_rejected}
        messages.warning(request, f"Imported the valid lines, but {rejected} (listed below).")
    else:
        unchanged = f" {run.rows_unchanged} were unchanged." if run.rows_unchanged else ""
        messages.success(
            request,
            f"Imported {run.rows_created} new and {run.rows_updated} updated rows.{unchanged}",
        )
    return redirect("crm:import_detail", pk=run.pk)


@staff_required
def import_detail(request, pk: int):
    run = get_for_tenant_or_404(ImportRun.objects.select_related("created_by", "job"), pk=pk)
    # A failed job may leave its run unfinished, so polling also stops when the job ends.
    polling = run.job is not None and not run.finished and not run.job.finished
    context = {
        "run": run,
        "errors_truncated": len(run.errors) >= MAX_STORED_ERRORS,
        "file_rejected": _file_rejected(run),
        "same_file": same_file_run(run),
        "job": run.job,
        "polling": polling,
        "poll_seconds": POLL_SECONDS,
    }
    if run.kind == ImportRun.Kind.REACH:
        from partners.importing import reach_import_counts

        context["reach_counts"] = reach_import_counts(run)
    return render(request, "crm/import_detail.html", context)
