"""Pages: registrations and links for staff, and registering and links in the partner portal."""

from __future__ import annotations

import logging
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from attribution import links, referrals, selectors
from attribution.domains import company_domain
from attribution.eligibility import eligibility_check
from attribution.forms import LinkForm, ReferralFilterForm, RegistrationForm, ReviewForm
from attribution.models import Referral, TrackingLink
from attribution.portal_check import OVER_LIMIT_MESSAGE, check_allowed, eligibility_for_partner
from crm.domains import domain_display
from partners.models import Partner
from tenancy.confirmation import Question, ask_unless_confirmed
from tenancy.errors import DomainError
from tenancy.permissions import (
    editor_required,
    page_permissions,
    partner_user_required,
    staff_required,
)
from tenancy.shortcuts import get_for_tenant_or_404

logger = logging.getLogger(__name__)

LINK_DEACTIVATE_CONSEQUENCE = (
    "Visitors who open it get a page-not-found answer from then on. A deactivated "
    "link cannot be turned on again; create a new one instead."
)

REFERRALS_PER_PAGE = 25
LINKS_PER_PAGE = 25
FILTER_KEYS = ("status", "conflict", "partner")


def _filter_query(data) -> str:
    """Return the list filters of `data` as a query string, dropping anything else."""
    return urlencode({key: data[key] for key in FILTER_KEYS if data.get(key)})


@staff_required
def referral_list(request):
    form = ReferralFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    partner = filters.get("partner")
    queryset = selectors.referral_list(
        status=filters.get("status", ""),
        conflict=filters.get("conflict", ""),
        partner_id=partner.pk if partner is not None else None,
    )
    page = Paginator(queryset, REFERRALS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {"referral": referral, "message": selectors.conflict_message(referral, reveal_holder=True)}
        for referral in page.object_list
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "filters": _filter_query(request.GET),
        "filtered": any(request.GET.get(key) for key in FILTER_KEYS),
        "review_form": ReviewForm(),
        **page_permissions(request.membership),
    }
    return render(request, "attribution/referral_list.html", context)


@editor_required
@require_POST
def referral_review(request, pk: int, decision: str):
    referral = get_for_tenant_or_404(Referral.objects.select_related("tenant"), pk=pk)
    target = f"{reverse('attribution:referral_list')}?{_filter_query(request.POST)}"
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            f"Registration of {referral.domain} not changed: {form.errors['note'][0]} "
            "Add a note that says why.",
        )
        return redirect(target)
    if decision == "reject" and (
        page := ask_unless_confirmed(
            request,
            Question(
                f"Reject the registration of {referral.domain}?",
                "The partner loses its claim on the company, and deals not yet booked "
                "are no longer credited to it. The partner can register the company again.",
                "Reject registration",
            ),
            cancel_url=target,
        )
    ):
        return page
    try:
        referrals.referral_review(
            referral=referral, decision=decision, note=form.cleaned_data["note"], actor=request.user
        )
    except DomainError as error:
        messages.error(request, f"{error.message} {error.fix}".strip())
        return redirect(target)
    verb = "Approved" if decision == "approve" else "Rejected"
    messages.success(request, f"{verb} the registration of {referral.domain}.")
    return redirect(target)


def _link_rows(queryset) -> list[dict]:
    """Return the table rows of links annotated by `link_list(with_conversions=True)`."""
    rows = []
    for link in queryset:
        # Conversions per 100 clicks, or None for a link that has no clicks yet.
        percent = None
        if link.click_count:
            percent = Decimal(link.conversion_count * 100) / Decimal(link.click_count)
        rows.append({"link": link, "url": links.link_url(link.code), "conversion_percent": percent})
    return rows


def _render_partner_links(request, partner: Partner, form: LinkForm, status: int = 200):
    page = Paginator(
        selectors.link_list(partner_id=partner.pk, with_conversions=True), LINKS_PER_PAGE
    ).get_page(request.GET.get("page"))
    context = {
        "partner": partner,
        "page": page,
        "rows": _link_rows(page.object_list),
        "form": form,
        "link_domains": request.tenant.link_domains,
        **page_permissions(request.membership),
    }
    return render(request, "attribution/partner_links.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def partner_links(request, pk: int):
    partner = get_for_tenant_or_404(Partner.objects.select_related("tenant"), pk=pk)
    if request.method == "GET":
        return _render_partner_links(request, partner, LinkForm())
    if not page_permissions(request.membership)["can_edit"]:
        raise PermissionDenied(
            f"Your role '{request.membership.get_role_display()}' may not create links: "
            "ask an admin or partner manager."
        )

    form = LinkForm(request.POST)
    if not form.is_valid():
        return _render_partner_links(request, partner, form, status=400)
    try:
        link = links.link_create(
            partner=partner,
            destination=form.cleaned_data["destination"],
            label=form.cleaned_data["label"],
            actor=request.user,
        )
    except DomainError as error:
        form.add_service_error(error)
        return _render_partner_links(request, partner, form, status=400)
    messages.success(request, f"Created the link {links.link_url(link.code)}.")
    return redirect("attribution:partner_links", pk=partner.pk)


@editor_required
@require_POST
def link_deactivate(request, pk: int):
    link = get_for_tenant_or_404(TrackingLink, pk=pk)
    if page := _link_deactivate_question(
        request, link, cancel_url=reverse("attribution:partner_links", args=[link.partner_id])
    ):
        return page
    links.link_deactivate(link=link, actor=request.user)
    messages.success(request, f"Deactivated the link {link.code}.")
    return redirect("attribution:partner_links", pk=link.partner_id)


def _link_deactivate_question(request, link: TrackingLink, *, cancel_url: str):
    question = Question(
        f"Deactivate the link {link.code}?", LINK_DEACTIVATE_CONSEQUENCE, "Deactivate link"
    )
    return ask_unless_confirmed(request, question, cancel_url=cancel_url)


def _portal_partner(request) -> Partner:
    return get_for_tenant_or_404(
        Partner.objects.select_related("tenant"), pk=request.membership.partner_id
    )


def _check(request, partner: Partner, raw: str) -> dict:
    """Return the eligibility of `raw` for the portal, or the input error to show."""
    if not check_allowed(membership_id=request.membership.pk, partner_id=partner.pk):
        return {"error": OVER_LIMIT_MESSAGE}
    try:
        domain = company_domain(raw)
    except DomainError as error:
        return {"error": f"{error.message} {error.fix}".strip()}
    result = eligibility_check(tenant=request.tenant, domain=domain, partner=partner)
    return {"result": eligibility_for_partner(result, partner=partner, tenant=request.tenant)}


def _render_portal_referrals(request, partner, form, *, check=None, status=200):
    queryset = selectors.referral_list(partner_id=partner.pk)
    page = Paginator(queryset, REFERRALS_PER_PAGE).get_page(request.GET.get("page"))
    today = request.tenant.today()
    rows = [
        {
            "referral": referral,
            "message": selectors.conflict_message(referral, reveal_holder=False),
            "expired": referral.status == Referral.Status.APPROVED and referral.expires_on < today,
        }
        for referral in page.object_list
    ]
    context = {"partner": partner, "form": form, "check": check, "page": page, "rows": rows}
    return render(request, "attribution/portal_referrals.html", context, status=status)


@partner_user_required
@require_http_methods(["GET", "POST"])
def portal_referrals(request):
    partner = _portal_partner(request)
    if request.method == "GET":
        raw = request.GET.get("domain", "").strip()
        form = RegistrationForm(initial={"domain": raw})
        check = _check(request, partner, raw) if raw else None
        return _render_portal_referrals(request, partner, form, check=check)

    form = RegistrationForm(request.POST)
    if request.POST.get("action") == "check":
        # The check button of the form, for browsers without JavaScript.
        raw = request.POST.get("domain", "").strip()
        form = RegistrationForm(initial=request.POST.dict())
        check = _check(request, partner, raw) if raw else None
        return _render_portal_referrals(request, partner, form, check=check)
    if not form.is_valid():
        return _render_portal_referrals(request, partner, form, status=400)
    if not check_allowed(membership_id=request.membership.pk, partner_id=partner.pk):
        form.add_error(None, OVER_LIMIT_MESSAGE)
        return _render_portal_referrals(request, partner, form, status=429)
    data = form.cleaned_data
    try:
        referral, created = referrals.referral_register(
            partner=partner,
            company=data["domain"],
            company_name=data["company_name"],
            contact_email=data["contact_email"],
            notes=data["notes"],
            source=Referral.Source.PORTAL,
            actor=request.user,
        )
    except DomainError as error:
        form.add_service_error(error)
        return _render_portal_referrals(request, partner, form, status=400)

    shown = domain_display(referral.domain)
    if not created:
        messages.info(request, f"You registered {shown} before; nothing changed.")
    elif referral.status == Referral.Status.APPROVED:
        messages.success(
            request,
            f"Registered {shown}. It counts for you until {referral.expires_on:%Y-%m-%d}.",
        )
    else:
        messages.warning(
            request,
            f"Registered {shown} as a conflict: "
            f"{selectors.conflict_message(referral, reveal_holder=False)} "
            "A partner manager will review it.",
        )
    return redirect("attribution:portal_referrals")


@partner_user_required
@require_GET
def portal_referral_check(request):
    """Return the eligibility fragment that the registration form loads as the partner types."""
    partner = _portal_partner(request)
    raw = request.GET.get("domain", "").strip()
    check = _check(request, partner, raw) if raw else None
    return render(request, "attribution/_eligibility.html", {"check": check})


def _render_portal_links(request, partner, form, status=200):
    page = Paginator(
        selectors.link_list(partner_id=partner.pk, with_conversions=True), LINKS_PER_PAGE
    ).get_page(request.GET.get("page"))
    context = {
        "partner": partner,
        "form": form,
        "page": page,
        "rows": _link_rows(page.object_list),
        "link_domains": request.tenant.link_domains,
    }
    return render(request, "attribution/portal_links.html", context, status=status)


@partner_user_required
@require_http_methods(["GET", "POST"])
def portal_links(request):
    partner = _portal_partner(request)
    if request.method == "GET":
        return _render_portal_links(request, partner, LinkForm())

    form = LinkForm(request.POST)
    if not form.is_valid():
        return _render_portal_links(request, partner, form, status=400)
    try:
        link = links.link_create(
            partner=partner,
            destination=form.cleaned_data["destination"],
            label=form.cleaned_data["label"],
            actor=request.user,
        )
    except DomainError as error:
        form.add_service_error(error)
        return _render_portal_links(request, partner, form, status=400)
    messages.success(request, f"Created your link {links.link_url(link.code)}.")
    return redirect("attribution:portal_links")


@partner_user_required
@require_POST
def portal_link_deactivate(request, code: str):
    partner = _portal_partner(request)
    link = get_for_tenant_or_404(TrackingLink.objects.filter(partner=partner), code=code)
    if page := _link_deactivate_question(
        request, link, cancel_url=reverse("attribution:portal_links")
    ):
        return page
    links.link_deactivate(link=link, actor=request.user)
    messages.success(request, f"Deactivated the link {link.code}.")
    return redirect("attribution:portal_links")
