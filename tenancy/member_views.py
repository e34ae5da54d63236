"""Settings → Users: the tenant's staff members, invitations, role changes and removal."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tenancy import members
from tenancy.errors import DomainError, NotFound
from tenancy.form_errors import form_error_add
from tenancy.invitations import MAX_EMAIL_LENGTH
from tenancy.models import Membership
from tenancy.permissions import role_required

logger = logging.getLogger(__name__)

# Only admins see and manage the tenant's users.
USER_ADMIN_ROLES = (Membership.Role.ADMIN,)
STAFF_ROLE_CHOICES = [
    (role.value, role.label) for role in Membership.Role if role in Membership.STAFF_ROLES
]

admin_required = role_required(*USER_ADMIN_ROLES)


class StaffInviteForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address",
        max_length=MAX_EMAIL_LENGTH,
        help_text="The person gets a link to choose a password, then logs in with this address.",
    )
    role = forms.ChoiceField(
        choices=STAFF_ROLE_CHOICES,
        initial=Membership.Role.ANALYST,
        help_text="Admins manage users, keys and settings. Partner managers change partners, "
        "links and commissions. Analysts read every staff page.",
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=STAFF_ROLE_CHOICES)


def _member_or_404(request, pk: int) -> Membership:
    try:
        return members.staff_member_get(tenant=request.tenant, pk=pk)
    except NotFound as error:
        raise Http404(error.message) from None


def _render_users(request, invite_form=None, *, role_errors=None, status=200):
    rows = [
        {
            "membership": membership,
            "form": RoleForm(initial={"role": membership.role}, prefix=f"member-{membership.pk}"),
            "error": (role_errors or {}).get(membership.pk, ""),
        }
        for membership in members.staff_member_list(tenant=request.tenant)
    ]
    context = {
        "rows": rows,
        "invite_form": invite_form or StaffInviteForm(),
    }
    return render(request, "tenancy/users.html", context, status=status)


@admin_required
def user_list(request):
    return _render_users(request)


@admin_required
@require_POST
def user_invite(request):
    form = StaffInviteForm(request.POST)
    if not form.is_valid():
        return _render_users(request, form, status=400)
    try:
        membership = members.staff_user_invite(
            tenant=request.tenant,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            actor=request.user,
        )
    except DomainError as error:
        logger.info(
            "membership.staff_invite_rejected tenant_id=%s field=%s",
            request.tenant.pk,
            error.field,
        )
        form_error_add(form, error)
        return _render_users(request, form, status=error.status_code)

    messages.success(
        request,
        f"Invited {membership.user.email} as {membership.get_role_display().lower()}. "
        "They get an e-mail with a link to choose a password.",
    )
    return redirect("tenancy:user_list")


@admin_required
@require_POST
def user_role_change(request, pk: int):
    membership = _member_or_404(request, pk)
    form = RoleForm(request.POST, prefix=f"member-{membership.pk}")
    if not form.is_valid():
        # The only field is a fixed choice, so the request was not sent by the page.
        errors = {membership.pk: " ".join(form.errors["role"])}
        return _render_users(request, role_errors=errors, status=400)
    try:
        members.staff_member_role_set(
            membership=membership, role=form.cleaned_data["role"], actor=request.user
        )
    except DomainError as error:
        errors = {membership.pk: f"{error.message} {error.fix}".strip()}
        return _render_users(request, role_errors=errors, status=400)

    membership.refresh_from_db(fields=["role"])
    messages.success(
        request,
        f"{membership.user.get_username()} is now {membership.get_role_display().lower()}.",
    )
    if membership.user_id == request.user.pk and membership.role not in USER_ADMIN_ROLES:
        # An admin who gave up the role may no longer open the users page.
        return redirect("tenancy:settings")
    return redirect("tenancy:user_list")


@admin_required
@require_http_methods(["GET", "POST"])
def user_remove(request, pk: int):
    membership = _member_or_404(request, pk)
    context = {"membership": membership, "is_self": membership.user_id == request.user.pk}
    if request.method == "GET":
        return render(request, "tenancy/user_remove.html", context)
    try:
        members.staff_member_remove(membership=membership, actor=request.user)
    except DomainError as error:
        context["error"] = f"{error.message} {error.fix}".strip()
        return render(request, "tenancy/user_remove.html", context, status=400)

    messages.success(
        request,
        f"Removed {membership.user.get_username()} from {request.tenant.name}. "
        "Their account and any other programs they belong to stay.",
    )
    if context["is_self"]:
        # The user just left this tenant, so its users page would be a 403. The
        # dashboard opens the next tenant they belong to, or shows that they have none.
        return redirect("reporting:dashboard")
    return redirect("tenancy:user_list")
