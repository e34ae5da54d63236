"""Tenant settings pages: the tenant switcher and API key management."""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from attribution.forms import AttributionSettingsForm
from attribution.rules import attribution_settings_set
from tenancy import selectors, services
from tenancy.api.scopes import scope_choices
from tenancy.confirmation import Question, ask_unless_confirmed
from tenancy.errors import DomainError
from tenancy.middleware import SESSION_TENANT_KEY
from tenancy.models import ApiKey, Membership, Tenant
from tenancy.permissions import (
    api_key_admin_required,
    has_role,
    member_required,
    page_permissions,
    role_required,
    staff_required,
)
from tenancy.selectors import membership_for_user
from tenancy.shortcuts import get_for_tenant_or_404

logger = logging.getLogger(__name__)


class TenantSwitchForm(forms.Form):
    tenant_id = forms.IntegerField(min_value=1)


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What uses the key, such as 'CRM sync'. Names are unique."
    )
    scopes = forms.MultipleChoiceField(
        choices=scope_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one scope: what the key may read or write."},
        help_text="Write includes read. Give each integration only the groups it uses.",
    )
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=services.API_KEY_MAX_DAYS,
        label="Expires in (days)",
        help_text="Leave empty for a key that does not expire.",
    )
    rate = forms.CharField(
        required=False,
        max_length=20,
        label="Rate limit",
        help_text=f"Requests per period, such as 600/min; empty for the default "
        f"({settings.TRACK360_API_RATE}).",
    )


class IcpReviewDaysForm(forms.Form):
    icp_review_days = forms.CharField(
        label="ICP review interval (days)",
        max_length=12,
        widget=forms.NumberInput(
            attrs={"min": services.ICP_REVIEW_DAYS_MIN, "max": services.ICP_REVIEW_DAYS_MAX}
        ),
        help_text=(
            f"Days from an ICP version's activation or last completed review to its next "
            f"review, from {services.ICP_REVIEW_DAYS_MIN} to {services.ICP_REVIEW_DAYS_MAX}. "
            "A change applies from the next activation or review; the current due date stays."
        ),
    )

    def clean_icp_review_days(self) -> int:
        raw = self.cleaned_data["icp_review_days"].strip()
        try:
            return int(raw)
        except ValueError:
            raise forms.ValidationError(
                f"{raw!r} is not a whole number of days. Enter a number from "
                f"{services.ICP_REVIEW_DAYS_MIN} to {services.ICP_REVIEW_DAYS_MAX}, "
                "such as 90."
            ) from None


class MaxCommissionShareForm(forms.Form):
    max_commission_share = forms.CharField(
        label="Maximum commission share",
        max_length=20,
        help_text=(
            "Commission cost / expected customer lifetime value above which a partner gets a "
            "warning on the unit economics and partner pages, from 0 to 1, such as 0.30."
        ),
    )

    def clean_max_commission_share(self) -> Decimal:
        raw = self.cleaned_data["max_commission_share"].strip()
        try:
            return Decimal(raw)
        except InvalidOperation:
            raise forms.ValidationError(
                f"{raw!r} is not a decimal number. Enter a number from 0 to 1, such as 0.30."
            ) from None


class MappingVisibilityForm(forms.Form):
    mapping_visibility = forms.ChoiceField(
        label="What partners see of their account overlap",
        choices=Tenant.MappingVisibility.choices,
        help_text=(
            "Counts only: numbers about the accounts that match their reach list. "
            "Names: also each matching account's name, whether it is on profile and a "
            "prospect to bring. Details: also its tier, fit score, matched criteria and "
            "whether it is a customer, in open pipeline or a prospect. Partners with their "
            "own setting keep it."
        ),
    )


# Roles that may change the tenant's own settings.
SETTINGS_ROLES = (Membership.Role.ADMIN,)
# Roles that may change what partners see of their account overlap.
MAPPING_ROLES = (Membership.Role.ADMIN, Membership.Role.PARTNER_MANAGER)


# Roles that may change the attribution window, touch rule and link hosts.
ATTRIBUTION_SETTINGS_ROLES = (Membership.Role.ADMIN, Membership.Role.PARTNER_MANAGER)


def _attribution_initial(tenant) -> dict:
    return {
        "attribution_window_days": tenant.attribution_window_days,
        "attribution_touch": tenant.attribution_touch,
        "link_domains": "\n".join(tenant.link_domains),
    }


def _render_settings(
    request,
    review_form: IcpReviewDaysForm | None = None,
    status: int = 200,
    *,
    mapping_form: MappingVisibilityForm | None = None,
    attribution_form: AttributionSettingsForm | None = None,
    share_form: MaxCommissionShareForm | None = None,
):
    can_edit_settings = has_role(request.membership, SETTINGS_ROLES)
    if review_form is None and can_edit_settings:
        review_form = IcpReviewDaysForm(initial={"icp_review_days": request.tenant.icp_review_days})
    if share_form is None and can_edit_settings:
        share_form = MaxCommissionShareForm(
            initial={"max_commission_share": request.tenant.max_commission_share}
        )
    can_edit_mapping = has_role(request.membership, MAPPING_ROLES)
    if mapping_form is None and can_edit_mapping:
        mapping_form = MappingVisibilityForm(
            initial={"mapping_visibility": request.tenant.mapping_visibility}
        )
    can_edit_attribution = has_role(request.membership, ATTRIBUTION_SETTINGS_ROLES)
    if attribution_form is None and can_edit_attribution:
        attribution_form = AttributionSettingsForm(initial=_attribution_initial(request.tenant))
    context = {
        **page_permissions(request.membership),
        "can_edit_settings": can_edit_settings,
        "can_manage_users": can_edit_settings,
        "review_form": review_form,
        "share_form": share_form,
        "can_edit_mapping": can_edit_mapping,
        "mapping_form": mapping_form,
        "can_edit_attribution": can_edit_attribution,
        "attribution_form": attribution_form,
    }
    return render(request, "tenancy/settings.html", context, status=status)


@staff_required
def settings_overview(request):
    return _render_settings(request)


@role_required(*SETTINGS_ROLES)
@require_POST
def icp_review_days_update(request):
    form = IcpReviewDaysForm(request.POST)
    if not form.is_valid():
        return _render_settings(request, form, status=400)
    try:
        services.tenant_icp_review_days_set(
            tenant=request.tenant, days=form.cleaned_data["icp_review_days"], actor=request.user
        )
    except DomainError as error:
        logger.info(
            "tenant.icp_review_days_rejected tenant_id=%s value=%s",
            request.tenant.pk,
            error.value,
        )
        form.add_error("icp_review_days", f"{error.message} {error.fix}".strip())
        return _render_settings(request, form, status=400)

    messages.success(
        request,
        f"ICP reviews are now due every {request.tenant.icp_review_days} days, counted from "
        "the next activation or completed review.",
    )
    return redirect("tenancy:settings")


@role_required(*SETTINGS_ROLES)
@require_POST
def max_commission_share_update(request):
    form = MaxCommissionShareForm(request.POST)
    if not form.is_valid():
        return _render_settings(request, status=400, share_form=form)
    try:
        services.tenant_max_commission_share_set(
            tenant=request.tenant,
            share=form.cleaned_data["max_commission_share"],
            actor=request.user,
        )
    except DomainError as error:
        logger.info(
            "tenant.max_commission_share_rejected tenant_id=%s value=%s",
            request.tenant.pk,
            error.value,
        )
        form.add_error("max_commission_share", f"{error.message} {error.fix}".strip())
        return _render_settings(request, status=400, share_form=form)

    messages.success(
        request,
        f"Partners whose commission cost is over {request.tenant.max_commission_share} of "
        "their customers' expected lifetime value now get a warning.",
    )
    return redirect("tenancy:settings")


@role_required(*MAPPING_ROLES)
@require_POST
def mapping_visibility_update(request):
    form = MappingVisibilityForm(request.POST)
    if not form.is_valid():
        return _render_settings(request, status=400, mapping_form=form)
    try:
        services.tenant_mapping_visibility_set(
            tenant=request.tenant,
            visibility=form.cleaned_data["mapping_visibility"],
            actor=request.user,
        )
    except DomainError as error:
        logger.info(
            "tenant.mapping_visibility_rejected tenant_id=%s value=%s",
            request.tenant.pk,
            error.value,
        )
        form.add_error("mapping_visibility", f"{error.message} {error.fix}".strip())
        return _render_settings(request, status=400, mapping_form=form)

    messages.success(
        request,
        f"Partners without their own setting now see: "
        f"{request.tenant.get_mapping_visibility_display().lower()}.",
    )
    return redirect("tenancy:settings")


@role_required(*ATTRIBUTION_SETTINGS_ROLES)
@require_POST
def attribution_settings_update(request):
    form = AttributionSettingsForm(request.POST)
    if not form.is_valid():
        return _render_settings(request, attribution_form=form, status=400)
    try:
        attribution_settings_set(tenant=request.tenant, actor=request.user, **form.cleaned_data)
    except DomainError as error:
        logger.info(
            "tenant.attribution_settings_rejected tenant_id=%s field=%s",
            request.tenant.pk,
            error.field,
        )
        form.add_service_error(error)
        return _render_settings(request, attribution_form=form, status=400)

    tenant = request.tenant
    messages.success(
        request,
        f"Attribution now counts touches up to {tenant.attribution_window_days} days before a "
        f"deal closes, and the {tenant.attribution_touch} touch wins. Unbooked deals are "
        "attributed again in the background.",
    )
    return redirect("tenancy:settings")


@member_required
@require_POST
def tenant_switch(request):
    form = TenantSwitchForm(request.POST)
    if not form.is_valid():
        raise Http404("tenant_id is missing or invalid: send the id of one of your tenants.")
    tenant_id = form.cleaned_data["tenant_id"]

    membership = membership_for_user(user=request.user, tenant_id=tenant_id)
    if membership is None:
        logger.warning("tenant.switch_rejected tenant_id=%s user_id=%s", tenant_id, request.user.pk)
        raise Http404(
            f"You are not a member of tenant {tenant_id}: pick one of your tenants from the menu."
        )

    request.session[SESSION_TENANT_KEY] = membership.tenant_id
    messages.success(request, f"Switched to {membership.tenant.name}.")
    return redirect("reporting:dashboard")


def _render_api_keys(request, form: ApiKeyCreateForm, *, new_key=None, raw_key=None, status=200):
    context = {
        "keys": selectors.api_key_list(),
        "form": form,
        "new_key": new_key,
        "raw_key": raw_key,
        "default_rate": settings.TRACK360_API_RATE,
    }
    return render(request, "tenancy/api_keys.html", context, status=status)


@never_cache
@api_key_admin_required
def api_key_list(request):
    return _render_api_keys(request, ApiKeyCreateForm())


@never_cache
@api_key_admin_required
@require_POST
def api_key_create(request):
    form = ApiKeyCreateForm(request.POST)
    if not form.is_valid():
        return _render_api_keys(request, form, status=400)

    days = form.cleaned_data["expires_in_days"]
    expires_at = timezone.now() + datetime.timedelta(days=days) if days else None
    try:
        key, raw_key = services.api_key_create(
            tenant=request.tenant,
            name=form.cleaned_data["name"],
            actor=request.user,
            scopes=form.cleaned_data["scopes"],
            expires_at=expires_at,
            rate=form.cleaned_data["rate"],
        )
    except DomainError as error:
        logger.info(
            "api_key.create_rejected tenant_id=%s name=%s field=%s error=%s",
            request.tenant.pk,
            form.cleaned_data["name"],
            error.field,
            error.message,
        )
        field = {"expires_at": "expires_in_days"}.get(error.field, error.field)
        form.add_error(field if field in form.fields else None, f"{error.message} {error.fix}")
        return _render_api_keys(request, form, status=400)

    # Rendered instead of redirected: the raw key exists only in this response,
    # because the database stores its digest.
    return _render_api_keys(request, ApiKeyCreateForm(), new_key=key, raw_key=raw_key)


@api_key_admin_required
@require_POST
def api_key_revoke(request, pk: int):
    key = get_for_tenant_or_404(ApiKey, pk=pk)
    question = Question(
        f"Revoke the API key '{key.name}'?",
        "Clients that send it get 401 from their next request on. A revoked key cannot be "
        "restored; create a new one and give it to the client.",
        "Revoke key",
    )
    if page := ask_unless_confirmed(request, question, cancel_url=reverse("tenancy:api_key_list")):
        return page
    services.api_key_revoke(key=key, actor=request.user)
    messages.success(request, f"Revoked the API key '{key.name}'.")
    return redirect("tenancy:api_key_list")
