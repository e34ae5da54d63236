"""The django-allauth adapter, which closes public sign-up, and the logging of 2FA changes.

Accounts come from three places only: admins, partner-manager invitations
(`tenancy.invitations`) and the applicant sign-up link (`partners.signup`), so
allauth's own sign-up page stays closed.
"""

from __future__ import annotations

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset
from django.dispatch import receiver

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False


@receiver(authenticator_added, dispatch_uid="tenancy.accounts.mfa_added")
def _log_authenticator_added(sender, request, user, authenticator, **kwargs) -> None:
    logger.info(
        "account.mfa_enabled user_id=%s authenticator_id=%s type=%s",
        user.pk,
        authenticator.pk,
        authenticator.type,
    )


@receiver(authenticator_removed, dispatch_uid="tenancy.accounts.mfa_removed")
def _log_authenticator_removed(sender, request, user, authenticator, **kwargs) -> None:
    logger.info(
        "account.mfa_disabled user_id=%s authenticator_id=%s type=%s",
        user.pk,
        authenticator.pk,
        authenticator.type,
    )


@receiver(authenticator_reset, dispatch_uid="tenancy.accounts.mfa_reset")
def _log_authenticator_reset(sender, request, user, authenticator, **kwargs) -> None:
    logger.info(
        "account.recovery_codes_regenerated user_id=%s authenticator_id=%s",
        user.pk,
        authenticator.pk,
    )
