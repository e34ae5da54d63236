"""The public partner application page, and the staff list of applications."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from partners import applications, signup
from partners.models import Partner, PartnerApplication, PartnerScore
from tenancy.errors import DomainError
from tenancy.form_errors import form_error_add, validation_error
from tenancy.http import client_address
from tenancy.models import Tenant
from tenancy.permissions import editor_required, page_permissions, staff_required
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

APPLICATIONS_PER_PAGE = 25
RATE_WINDOW_SECONDS = 3600


class ApplicationForm(forms.Form):
    company_name = forms.CharField(max_length=applications.MAX_COMPANY_NAME_LENGTH)
    website = forms.CharField(
        max_length=2000, help_text="Your company's website, such as https://acme.com."
    )
    contact_name = forms.CharField(max_length=applications.MAX_CONTACT_NAME_LENGTH)
    contact_email = forms.CharField(label="Contact e-mail", max_length=254)
    kind = forms.ChoiceField(
        label="Partnership type", choices=Partner.Kind.choices, initial=Partner.Kind.REFERRAL
    )
    message = forms.CharField(
        label="About your company",
        required=False,
        max_length=applications.MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Who you work with and how you would introduce them.",
    )
    reach = forms.CharField(
        label="Companies you can introduce",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=(
            "Optional. One company website or work e-mail address per line, up to "
            f"{applications.MAX_PUSH_ENTRIES:,}. It lets the program see at once how well your "
            "reach fits its customers."
        ),
    )
    # Left empty by people, who never see it; automated form fillers often fill it.
    # It is out of the tab order, so keyboard users never land in it.
    fax = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    # The clean methods run the service's own checks, so an invalid website or
    # address shows next to its field together with the form's other errors.
    def clean_website(self) -> str:
        website = self.cleaned_data["website"]
        try:
            applications.website_domain(website)
        except DomainError as error:
            raise validation_error(error) from None
        return website

    def clean_contact_email(self) -> str:
        try:
            return applications.contact_email_check(self.cleaned_data["contact_email"])
        except DomainError as error:
            raise validation_error(error) from None

    def clean_reach(self) -> str:
        reach = self.cleaned_data["reach"]
        try:
            applications.reach_lines(reach)
        except DomainError as error:
            raise validation_error(error) from None
        return reach


def _open_tenant(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug, applications_open=True).first()
    if tenant is None:
        raise Http404("This program does not take partner applications.")
    return tenant


def _client_address(request) -> str:
    return client_address(request.META)


def rate_limit_key(tenant: Tenant, address: str) -> str:
    return f"apply:{tenant.pk}:{applications.client_hash(address)}"


def _over_rate_limit(tenant: Tenant, address: str) -> bool:
    """Return True when the address already had its hourly number of applications stored.

    Only stored applications count, so a person who fixes field errors is not locked out.
    """
    # NOTE: submissions sent at the same moment all pass this check before any is
    # counted, so a burst from one address can store a few more than the limit.
    stored = cache.get(rate_limit_key(tenant, address), 0)
    return stored >= applications.SUBMISSIONS_PER_HOUR


def _stored_count_add(tenant: Tenant, address: str) -> None:
    """Count one stored application of the address; the count expires an hour after the first."""
    key = rate_limit_key(tenant, address)
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS)
    cache.incr(key)


def apply(request, slug: str):
    tenant = _open_tenant(slug)
    context = {"program": tenant}
    if request.method != "POST":
        context["form"] = ApplicationForm()
        return render(request, "partners/apply.html", context)

    form = ApplicationForm(request.POST)
    context["form"] = form
    address = _client_address(request)
    if _over_rate_limit(tenant, address):
        logger.warning("partner.application_rate_limited tenant_id=%s", tenant.pk)
        context["rate_limited"] = True
        return render(request, "partners/apply.html", context, status=429)
    if not form.is_valid():
        return render(request, "partners/apply.html", context, status=400)
    if form.cleaned_data["fax"]:
        # Respond as on success, so the form filler learns nothing, and store nothing.
        logger.info("partner.application_discarded tenant_id=%s reason=honeypot", tenant.pk)
        return render(request, "partners/apply_done.html", {"program": tenant, "result": None})

    fields = [name for name in ApplicationForm.base_fields if name != "fax"]
    values = {name: form.cleaned_data[name] for name in fields}
    try:
        with tenant_scope(tenant):
            result = applications.partner_apply(tenant=tenant, client_address=address, **values)
    except DomainError as error:
        form_error_add(form, error)
        return render(request, "partners/apply.html", context, status=400)
    _stored_count_add(tenant, address)
    context = {"program": tenant, "result": result, "signup_days": signup.link_days()}
    return render(request, "partners/apply_done.html", context)


@staff_required
def application_list(request):
    rows = PartnerApplication.objects.select_related("partner").order_by("-created_at", "-pk").all()
    page = Paginator(rows, APPLICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    partner_ids = {application.partner_id for application in page.object_list}
    scores = {
        score.partner_id: score for score in PartnerScore.objects.filter(partner_id__in=partner_ids)
    }
    for application in page.object_list:
        application.score = scores.get(application.partner_id)
    context = {
        "page": page,
        "public_url": request.build_absolute_uri(
            reverse("partner_apply", args=[request.tenant.slug])
        ),
        **page_permissions(request.membership),
    }
    return render(request, "partners/application_list.html", context)


@editor_required
@require_POST
def applications_open_set(request):
    is_open = request.POST.get("open") == "1"
    applications.applications_open_set(tenant=request.tenant, is_open=is_open, actor=request.user)
    if is_open:
        messages.success(request, "The application page is open: share its address.")
    else:
        messages.success(request, "The application page is closed: it now returns 404.")
    return redirect("partners:application_list")
