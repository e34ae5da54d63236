"""Partner pages for staff, and the portal where a partner user sees their own results."""

from __future__ import annotations

import csv
import io
import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Lower, NullIf
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from attribution.fraud import selectors as fraud_selectors
from attribution.models import FraudSignal
from commissions import selectors as payout_selectors
from commissions.unit_economics import partner_economics
from partners import exports as partner_exports
from partners import lifecycle as partner_lifecycle
from partners import privacy
from partners import selectors as partner_selectors
from partners import services as partner_services
from partners.briefs import csv_cell, partner_brief, partner_brief_csv
from partners.forms import (
    PartnerForm,
    PartnerListFilterForm,
    PartnerRankingFilterForm,
    PartnerStatusForm,
)
from partners.models import Partner, ReachEntry
from partners.overlap import FORMULA, FORMULA_EXPRESSION, ScoreView, overlap_parts
from partners.quality import CUSTOMER_TIERS, LIFETIME_DAYS, UNSCORED
from partners.segments import MIN_CLOSED_DEALS, segment_decide, segment_rules_data
from reporting import charts, trends
from reporting import selectors as reporting_selectors
from reporting.charts import Chart
from tenancy.confirmation import Question, ask_unless_confirmed
from tenancy.errors import DomainError
from tenancy.htmx import htmx_full_page_redirect
from tenancy.permissions import (
    PENDING_STATUSES,
    editor_required,
    page_permissions,
    partner_user_required,
    staff_required,
)
from tenancy.shortcuts import get_for_tenant_or_404

logger = logging.getLogger(__name__)

TERMINATE_CONSEQUENCE = (
    "Terminated is final: the partner's tracking links stop redirecting, its clicks no "
    "longer convert and its users are locked out of the portal. Commission already "
    "earned stays in the ledger."
)

PARTNERS_PER_PAGE = 25
DEFAULT_PARTNER_SORT = "-score"
RANKING_PER_PAGE = 50
REACH_PER_PAGE = 25
LEDGER_ROWS_SHOWN = 50
# Newest statements (payouts) the portal lists.
STATEMENTS_SHOWN = 24
# Seconds between two requests of the htmx polling of the portal's results fragment.
PORTAL_REFRESH_SECONDS = 15
HISTORY_ROWS_SHOWN = 50
# Prospects listed on a page; the CSV export has all of them.
BRIEF_ROWS_SHOWN = 50
# Open fraud signals listed on the partner page. The review page lists all of them.
FRAUD_SIGNALS_SHOWN = 20
TIER_ORDER = ("A", "B", "C", "D")


def _reach_entries(partner) -> QuerySet[ReachEntry]:
    """Return the partner's reach list by fit tier (A first), then by name.

    The tier is the matched account's, or for an entry that matches no account the
    tier it was scored with on its own firmographics. Entries without a tier come
    last, matched ones first. The name is the matched account's name, else the
    company name given in the reach list, else the domain.
    """
    tier_rank = Case(
        *(
            When(
                Q(account__fit_tier=tier) | Q(account__isnull=True, fit_tier=tier),
                then=Value(rank),
            )
            for rank, tier in enumerate(TIER_ORDER)
        ),
        When(account__isnull=False, then=Value(len(TIER_ORDER))),
        default=Value(len(TIER_ORDER) + 1),
        output_field=IntegerField(),
    )
    name = Coalesce("account__name", NullIf("company_name", Value("")), "domain")
    return (
        ReachEntry.objects.filter(partner=partner)
        .select_related("account")
        .annotate(tier_rank=tier_rank, sort_name=Lower(name))
        .order_by("tier_rank", "sort_name", "domain", "id")
    )


def _sort_links(sort: str) -> dict[str, dict]:
    """Describe each sortable column header: the sort its link applies and its state.

    A first click sorts numbers highest first and names from A; a second reverses it.
    """
    descending = sort.startswith("-")
    links = {}
    for key in partner_selectors.PARTNER_SORTS:
        first = key if key == "name" else f"-{key}"
        reverse_sort = first.removeprefix("-") if first.startswith("-") else f"-{first}"
        active = sort in (first, reverse_sort)
        aria_sort = mark = ""
        if active:
            aria_sort = "descending" if descending else "ascending"
            mark = "▼" if descending else "▲"
        links[key] = {
            "sort": reverse_sort if sort == first else first,
            "active": active,
            "aria_sort": aria_sort,
            "mark": mark,
        }
    return links


def _filtered_partners(request) -> tuple[PartnerListFilterForm, QuerySet[Partner], bool, str]:
    """Return the filter form, the partners it selects, whether it filters, and the sort."""
    form = PartnerListFilterForm(request.GET)
    # An invalid value, such as an unknown sort, is shown as an error, and the valid
    # filters still apply.
    form.is_valid()
    filters = form.cleaned_data
    search = filters.get("q", "").strip()
    segment = filters.get("segment") or None
    status = filters.get("status") or None
    kind = filters.get("kind") or None
    sort = filters.get("sort") or ""
    partners = partner_selectors.partner_list(
        segment=segment, status=status, kind=kind, search=search, sort=sort or None
    )
    return form, partners, bool(search or segment or status or kind), sort


@staff_required
def partner_list(request):
    form, partners, filtered, sort = _filtered_partners(request)
    page = Paginator(partners, PARTNERS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "form": form,
        "filtered": filtered,
        "sort": sort,
        # Without a sort the list is in overlap score order, highest first.
        "sort_links": _sort_links(sort or DEFAULT_PARTNER_SORT),
        "csv_url": f"{reverse('partners:partner_list_csv')}?{query.urlencode()}",
        **page_permissions(request.membership),
    }
    status_code = 400 if form.errors else 200
    return render(request, "partners/partner_list.html", context, status=status_code)


@staff_required
@require_GET
def partner_list_csv(request):
    form, partners, _, _ = _filtered_partners(request)
    if form.errors:
        # One line per invalid filter, named by the label the list page shows.
        lines = [
            f"{form[field].label}: {' '.join(errors)}\n" for field, errors in form.errors.items()
        ]
        return HttpResponse("".join(lines), status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(
        partner_exports.partner_list_csv(partners, currency=request.tenant.base_currency),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="partners.csv"'
    return response


@staff_required
def partner_ranking(request):
    data = request.GET.copy()
    if not data.getlist("status"):
        data.setlist("status", list(partner_selectors.RANKING_DEFAULT_STATUSES))
    form = PartnerRankingFilterForm(data)
    statuses = form.ranked_statuses()
    partners = partner_selectors.partner_ranking(statuses=statuses, kind=form.ranked_kind())
    page = Paginator(partners, RANKING_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "rank": page.start_index() + position,
            "partner": partner,
            "parts": overlap_parts(ScoreView(partner))
            if partner.score_overlap_score is not None
            else [],
        }
        for position, partner in enumerate(page.object_list)
    ]
    context = {"page": page, "rows": rows, "form": form, "formula_expression": FORMULA_EXPRESSION}
    return render(request, "partners/partner_ranking.html", context)


@staff_required
def partner_segments(request):
    counts = partner_selectors.segment_counts()
    rules = segment_rules_data()
    for segment in rules["segments"]:
        segment["partners"] = counts.get(segment["key"], 0)
    return render(request, "partners/partner_segments.html", {"rules": rules})


def _history_rows(events) -> list[dict]:
    """Return each audit event with its changed fields as `(field, before, after)` rows.

    A status change stores its reason next to the new status; the row shows it apart.
    """
    rows = []
    for event in events:
        before = dict(event.before or {})
        after = dict(event.after or {})
        reason = after.pop("reason", "")
        fields = list(dict.fromkeys([*before, *after]))
        changes = [(field, before.get(field), after.get(field)) for field in fields]
        actor = event.actor.get_username() if event.actor is not None else event.actor_label
        rows.append(
            {
                "event": event,
                "actor": actor,
                "changes": changes,
                "reason": reason,
            }
        )
    return rows


@staff_required
def partner_detail(request, pk: int):
    partner = get_for_tenant_or_404(partner_selectors.partner_list().select_related("owner"), pk=pk)
    return _render_partner_detail(request, partner)


def _score_context(partner) -> dict:
    """Return the overlap parts, results and segment rule of a scored partner for its page."""
    shared = {
        "formula": FORMULA,
        "min_closed_deals": MIN_CLOSED_DEALS,
        "lifetime_days": LIFETIME_DAYS,
    }
    if partner.score_overlap_score is None:
        return {"parts": [], "customer_tiers": [], "segment_rule": None, **shared}
    score = ScoreView(partner)
    tiers = partner.score_customer_tiers or {}
    customers = partner.score_customer_count
    customer_tiers = [
        {
            "tier": tier,
            "customers": tiers.get(tier, 0),
            "share": tiers.get(tier, 0) / customers if customers else None,
        }
        for tier in (*CUSTOMER_TIERS, UNSCORED)
    ]
    return {
        "parts": overlap_parts(score),
        "customer_tiers": customer_tiers,
        "segment_rule": segment_decide(score).rule,
        **shared,
    }


def _render_partner_detail(request, partner, *, status_form: PartnerStatusForm | None = None):
    reach = _reach_entries(partner)
    if status_form is None:
        status_form = PartnerStatusForm(partner=partner)
    context = {
        "partner": partner,
        "status_form": status_form,
        "history": _history_rows(
            partner_selectors.partner_history(partner=partner)[:HISTORY_ROWS_SHOWN]
        ),
        "history_limit": HISTORY_ROWS_SHOWN,
        "tier_mix": reporting_selectors.rollup_tier_mix(partner.rollup_tier_mix),
        "results_chart": _results_chart(
            request,
            partner,
            empty_text="No won deal of this partner has a close date yet. Credit deals to it",
            empty_link_label="on the Imports page",
            empty_link=reverse("crm:import_list"),
        ),
        "unit_economics": partner_economics(tenant=request.tenant, partner_id=partner.pk),
        **_score_context(partner),
        "reach_page": Paginator(reach, REACH_PER_PAGE).get_page(request.GET.get("page")),
        "entries": reporting_selectors.ledger_entries(partner_id=partner.pk)[:LEDGER_ROWS_SHOWN],
        "entries_limit": LEDGER_ROWS_SHOWN,
        "brief": partner_brief(partner=partner),
        "brief_limit": BRIEF_ROWS_SHOWN,
        "brief_csv_url": reverse("partners:partner_brief_csv", args=[partner.pk]),
        "portal_users": partner_selectors.partner_portal_users(partner=partner),
        "visibility": privacy.visibility_get(partner=partner, tenant=request.tenant),
        "fraud_signals": fraud_selectors.fraud_signal_list(
            partner_id=partner.pk, status=FraudSignal.Status.OPEN
        )[:FRAUD_SIGNALS_SHOWN],
        "fraud_signals_limit": FRAUD_SIGNALS_SHOWN,
        **page_permissions(request.membership),
    }
    status = 400 if status_form.is_bound else 200
    return render(request, "partners/partner_detail.html", context, status=status)


@editor_required
@require_http_methods(["POST"])
def partner_status_change(request, pk: int):
    partner = get_for_tenant_or_404(partner_selectors.partner_list().select_related("owner"), pk=pk)
    form = PartnerStatusForm(request.POST, partner=partner)
    if not form.is_valid():
        return _render_partner_detail(request, partner, status_form=form)
    if form.cleaned_data["status"] == Partner.Status.TERMINATED and (
        page := ask_unless_confirmed(
            request,
            Question(
                f"Terminate “{partner.name}”?",
                TERMINATE_CONSEQUENCE,
                "Terminate partner",
            ),
            cancel_url=reverse("partners:partner_detail", args=[partner.pk]),
        )
    ):
        return page

    try:
        changed = partner_lifecycle.partner_status_change(
            partner=partner,
            status=form.cleaned_data["status"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        logger.info(
            "partner.status_change_rejected tenant_id=%s partner_id=%s status=%s error=%s",
            partner.tenant_id,
            partner.pk,
            form.cleaned_data["status"],
            error.message,
        )
        form.add_error("status", f"{error.message} {error.fix}".strip())
        return _render_partner_detail(request, partner, status_form=form)

    messages.success(request, f"“{changed.name}” is now {changed.get_status_display().lower()}.")
    return redirect("partners:partner_detail", pk=changed.pk)


def _render_partner_form(request, form: PartnerForm, *, partner: Partner | None = None):
    status = 400 if form.is_bound else 200
    context = {"form": form, "partner": partner}
    return render(request, "partners/partner_form.html", context, status=status)


@editor_required
@require_http_methods(["GET", "POST"])
def partner_create(request):
    if request.method == "GET":
        return _render_partner_form(request, PartnerForm())

    form = PartnerForm(request.POST)
    if not form.is_valid():
        return _render_partner_form(request, form)

    values = dict(form.cleaned_data)
    try:
        partner = partner_services.partner_create(
            tenant=request.tenant,
            actor=request.user,
            external_id=values.pop("external_id"),
            name=values.pop("name"),
            **values,
        )
    except DomainError as error:
        form.add_service_error(error)
        return _render_partner_form(request, form)

    messages.success(request, f"Added the partner “{partner.name}”.")
    return redirect("partners:partner_detail", pk=partner.pk)


@editor_required
@require_http_methods(["GET", "POST"])
def partner_edit(request, pk: int):
    partner = get_for_tenant_or_404(Partner, pk=pk)
    if request.method == "GET":
        return _render_partner_form(request, PartnerForm(partner=partner), partner=partner)

    form = PartnerForm(request.POST, partner=partner)
    if not form.is_valid():
        return _render_partner_form(request, form, partner=partner)

    try:
        updated = partner_services.partner_update(
            partner=partner, actor=request.user, **form.cleaned_data
        )
    except DomainError as error:
        form.add_service_error(error)
        return _render_partner_form(request, form, partner=partner)

    messages.success(request, f"Saved the partner “{updated.name}”.")
    return redirect("partners:partner_detail", pk=updated.pk)


@staff_required
def partner_brief_export(request, pk: int):
    partner = get_for_tenant_or_404(Partner, pk=pk)
    return _brief_csv_response(partner)


def _brief_csv_response(partner: Partner) -> HttpResponse:
    response = HttpResponse(
        partner_brief_csv(partner_brief(partner=partner)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="partner-{partner.pk}-brief.csv"'
    return response


def _portal_partner(request) -> Partner:
    # Fetched through the tenant check because nothing in the schema ties the
    # membership's partner to the membership's tenant.
    return get_for_tenant_or_404(partner_selectors.partner_list(), pk=request.membership.partner_id)


def _portal_context(request, partner: Partner, *, brief_csv_url: str) -> dict:
    """Return the portal page's context for `partner`, cut to its mapping visibility.

    The partner's portal and the staff preview both render from this, so a preview
    shows exactly what the partner sees.
    """
    visibility = privacy.visibility_get(partner=partner, tenant=request.tenant)
    reach = privacy.reach_rows(partner=partner, level=visibility.level)
    reach_page = Paginator(reach, REACH_PER_PAGE).get_page(request.GET.get("reach_page"))
    return {
        **_portal_live_context(request, partner),
        "visibility": visibility,
        "overlap_counts": privacy.overlap_counts(partner=partner),
        "reach_page": reach_page,
        "reach_rows": privacy.rows_present(
            partner=partner, level=visibility.level, rows=list(reach_page.object_list)
        ),
        "row_fields": privacy.ROW_FIELDS[visibility.level],
        "portal_brief": privacy.brief_present(
            brief=partner_brief(partner=partner), level=visibility.level
        ),
        "brief_limit": BRIEF_ROWS_SHOWN,
        "brief_csv_url": brief_csv_url,
    }


def _results_chart(request, partner: Partner, **empty) -> Chart:
    months = trends.partner_monthly_won_revenue(partner_id=partner.pk)
    return charts.partner_revenue_chart(months, currency=request.tenant.base_currency, **empty)


def _portal_live_context(request, partner: Partner) -> dict:
    """Return the context of the portal's results, commission entries and statements.

    The portal polls these sections through `portal_live`, so everything here is
    read again on each refresh, for `partner` only.
    """
    entries = reporting_selectors.ledger_entries(partner_id=partner.pk)
    return {
        "partner": partner,
        "tier_mix": reporting_selectors.rollup_tier_mix(partner.rollup_tier_mix),
        "results_chart": _results_chart(
            request,
            partner,
            empty_text="No won deals yet. Bring the next one:",
            empty_link_label="register a referral",
            empty_link=reverse("attribution:portal_referrals"),
        ),
        "entries_page": Paginator(entries, LEDGER_ROWS_SHOWN).get_page(request.GET.get("page")),
        "statements": payout_selectors.payout_list(partner_id=partner.pk)[:STATEMENTS_SHOWN],
        "updated_at": timezone.now(),
        "refresh_seconds": PORTAL_REFRESH_SECONDS,
    }


def _portal_brief_csv_response(request, partner: Partner) -> HttpResponse:
    """Return the brief CSV with the columns of the partner's level; 403 at counts."""
    visibility = privacy.visibility_get(partner=partner, tenant=request.tenant)
    if not visibility.shows_rows:
        logger.info(
            "portal.brief_csv_rejected tenant_id=%s partner_id=%s level=%s",
            partner.tenant_id,
            partner.pk,
            visibility.level,
        )
        raise PermissionDenied(privacy.COUNTS_ONLY_CSV_MESSAGE)
    portal_brief = privacy.brief_present(
        brief=partner_brief(partner=partner), level=visibility.level
    )

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in privacy.brief_csv_rows(portal_brief):
        writer.writerow([csv_cell(value) for value in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="partner-{partner.pk}-brief.csv"'
    return response


@partner_user_required
def portal_brief_export(request):
    return _portal_brief_csv_response(request, _portal_partner(request))


@partner_user_required(pending_view=True)
def portal(request):
    partner = _portal_partner(request)
    if partner.status in PENDING_STATUSES:
        return render(request, "partners/portal_pending.html", {"partner": partner})
    context = _portal_context(request, partner, brief_csv_url=reverse("partners:portal_brief_csv"))
    context["live_url"] = reverse("partners:portal_live")
    return render(request, "partners/portal.html", context)


@never_cache
@vary_on_headers("HX-Request")
@htmx_full_page_redirect
@partner_user_required
@require_GET
def portal_live(request):
    # Only htmx polling needs the bare fragment. A browser that opens the URL
    # directly is sent to the whole portal.
    if not request.htmx:
        return redirect("partners:portal")
    context = _portal_live_context(request, _portal_partner(request))
    context["live_url"] = reverse("partners:portal_live")
    return render(request, "partners/_portal_live.html", context)


@staff_required
def partner_portal_preview(request, pk: int):
    partner = get_for_tenant_or_404(partner_selectors.partner_list(), pk=pk)
    context = _portal_context(
        request,
        partner,
        brief_csv_url=reverse("partners:partner_portal_preview_csv", args=[partner.pk]),
    )
    context["statement_preview"] = True
    return render(request, "partners/portal_preview.html", context)


@staff_required
def partner_portal_preview_export(request, pk: int):
    return _portal_brief_csv_response(request, get_for_tenant_or_404(Partner, pk=pk))
