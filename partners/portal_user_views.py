"""Staff actions on a partner's portal users: invite by e-mail and remove access."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from partners import selectors as partner_selectors
from tenancy import invitations
from tenancy.confirmation import Question, ask_unless_confirmed
from tenancy.errors import DomainError
from tenancy.models import Membership
from tenancy.permissions import editor_required
from tenancy.shortcuts import get_for_tenant_or_404

logger = logging.getLogger(__name__)


class PortalUserInviteForm(forms.Form):
    email = forms.CharField(label="E-mail address", max_length=invitations.MAX_EMAIL_LENGTH)


@editor_required
@require_POST
def portal_user_invite(request, pk: int):
    partner = get_for_tenant_or_404(partner_selectors.partner_list(), pk=pk)
    form = PortalUserInviteForm(request.POST)
    if not form.is_valid():
        problems = " ".join(error for errors in form.errors.values() for error in errors)
        messages.error(request, f"The invitation was not sent: {problems}")
        return redirect("partners:partner_detail", pk=partner.pk)
    try:
        membership, created = invitations.partner_user_invite(
            tenant=request.tenant,
            partner=partner,
            email=form.cleaned_data["email"],
            actor=request.user,
        )
    except DomainError as error:
        logger.info(
            "membership.invite_rejected tenant_id=%s partner_id=%s field=%s",
            request.tenant.pk,
            partner.pk,
            error.field,
        )
        messages.error(request, f"{error.message} {error.fix}".strip())
        return redirect("partners:partner_detail", pk=partner.pk)
    address = membership.user.email
    if created:
        messages.success(request, f"Invitation sent to {address}.")
    else:
        messages.success(request, f"{address} already had access: a new invitation was sent.")
    return redirect("partners:partner_detail", pk=partner.pk)


@editor_required
@require_POST
def portal_user_remove(request, pk: int):
    membership = get_for_tenant_or_404(
        Membership.objects.filter(role=Membership.Role.PARTNER).select_related("user"),
        pk=pk,
    )
    partner_id = membership.partner_id
    question = Question(
        f"Remove {membership.user.get_username()}'s portal access?",
        "They can no longer log in to this partner's portal. Their referrals, links and "
        "commissions stay with the partner. You can invite them again later.",
        "Remove access",
    )
    cancel_url = reverse("partners:partner_detail", args=[partner_id])
    if page := ask_unless_confirmed(request, question, cancel_url=cancel_url):
        return page
    invitations.partner_user_remove(membership=membership, actor=request.user)
    messages.success(request, f"{membership.user.get_username()} no longer has portal access.")
    return redirect("partners:partner_detail", pk=partner_id)
