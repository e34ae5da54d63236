"""Public pages of the applicant sign-up link: confirm the address, choose a password."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordForm
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from partners import applications, signup
from tenancy.errors import DomainError
from tenancy.http import client_address
from tenancy.models import Tenant
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

# New-link requests per tenant and hour, counted per client address and per e-mail address.
RESENDS_PER_HOUR = 3
RESEND_WINDOW_SECONDS = 3600


class ResendForm(forms.Form):
    email = forms.EmailField(label="Contact e-mail", max_length=254)


def _tenant(slug: str) -> Tenant:
    # Links keep working after the program closes its application page, so the
    # applicants it already has can still finish their sign-up.
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise Http404("No program has this address.")
    return tenant


def _invalid(request, tenant: Tenant, *, expired: bool, form=None, status=400):
    context = {
        "program": tenant,
        "expired": expired,
        "form": form or ResendForm(),
        "days": signup.link_days(),
    }
    return render(request, "partners/signup_invalid.html", context, status=status)


@require_http_methods(["GET", "POST"])
def signup_confirm(request, slug: str, key: str):
    tenant = _tenant(slug)
    with tenant_scope(tenant):
        try:
            application = signup.signup_key_load(tenant=tenant, key=key)
        except signup.SignupLinkExpired:
            logger.info("partner.signup_link_expired tenant_id=%s", tenant.pk)
            return _invalid(request, tenant, expired=True)
        except signup.SignupLinkInvalid:
            logger.info("partner.signup_link_invalid tenant_id=%s", tenant.pk)
            return _invalid(request, tenant, expired=False)
        state = signup.signup_state(application=application)

        form = None
        if state.step == "password":
            # The unsaved user lets the password validators compare the password
            # with the username and e-mail address it will have.
            user = state.user or get_user_model()(
                username=application.contact_email, email=application.contact_email
            )
            form = SetPasswordForm(user, request.POST if request.method == "POST" else None)
        context = {"program": tenant, "application": application, "state": state, "form": form}
        if request.method == "GET" or state.step in ("done", "taken", "closed"):
            return render(request, "partners/signup_confirm.html", context)
        if form is not None and not form.is_valid():
            return render(request, "partners/signup_confirm.html", context, status=400)

        password = form.cleaned_data["new_password1"] if form is not None else None
        try:
            result = signup.applicant_signup_complete(application=application, password=password)
        except DomainError as error:
            logger.info(
                "partner.signup_rejected tenant_id=%s application_id=%s field=%s",
                tenant.pk,
                application.pk,
                error.field,
            )
            context["error"] = f"{error.message} {error.fix}".strip()
            return render(request, "partners/signup_confirm.html", context, status=409)

    username = result.user.get_username()
    if result.created_user:
        messages.success(
            request,
            f"Your e-mail address is confirmed and your password is set. Log in with "
            f"{username} to follow your application.",
        )
    else:
        messages.success(
            request,
            f"Your e-mail address is confirmed and {tenant.name}'s partner portal is added "
            f"to your account. Log in with {username} and your password.",
        )
    return redirect("login")


@require_POST
def signup_link_request(request, slug: str):
    tenant = _tenant(slug)
    form = ResendForm(request.POST)
    if not form.is_valid():
        return _invalid(request, tenant, expired=False, form=form)
    email = form.cleaned_data["email"].strip().lower()
    address_hash = applications.client_hash(client_address(request.META))
    address_key = f"signup-resend:{tenant.pk}:{address_hash}"
    email_key = f"signup-resend:{tenant.pk}:{applications.client_hash(email)}"
    over_limit = False
    for key in (address_key, email_key):
        cache.add(key, 0, timeout=RESEND_WINDOW_SECONDS)
        over_limit = cache.incr(key) > RESENDS_PER_HOUR or over_limit
    if over_limit:
        logger.warning("partner.signup_resend_rate_limited tenant_id=%s", tenant.pk)
        form.add_error(
            "email",
            f"Too many new links were requested: at most {RESENDS_PER_HOUR} an hour. "
            "Use the newest e-mail you received, or try again in an hour.",
        )
        return _invalid(request, tenant, expired=False, form=form, status=429)
    with tenant_scope(tenant):
        signup.signup_link_resend(tenant=tenant, email=email)
    return render(request, "partners/signup_resent.html", {"program": tenant, "email": email})
