"""Log-in, applicant sign-up and two-factor authentication, provided by django-allauth.

Users log in at /login/ with their username or e-mail address. allauth's own
sign-up page is closed. Applicants get an account from the link that the public
application form e-mails them (partners.signup). Admins and partner managers
create staff and invited partner users. See docs/accounts.md.
"""

from track360.settings.env import env_int

AUTHENTICATION_BACKENDS = [
    # Session and test log-ins by username, such as `client.login` and the admin.
    "django.contrib.auth.backends.ModelBackend",
    # The /login/ page: username or e-mail address, then the TOTP code when 2FA is on.
    "allauth.account.auth_backends.AuthenticationBackend",
]

ACCOUNT_ADAPTER = "tenancy.accounts.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
# The sign-up page is closed, but allauth's system checks require every log-in
# method to be a required sign-up field.
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
# "optional": a user whose address is not verified may still log in. Staff and
# invited users have no verified address on record, and applicants verify theirs
# through the application e-mail before they can choose a password at all.
ACCOUNT_EMAIL_VERIFICATION = "optional"
# Days an applicant's sign-up link works; a later click offers a new link.
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = env_int("TRACK360_SIGNUP_LINK_DAYS", 3)
ACCOUNT_LOGOUT_ON_GET = False
# Seconds after the password prompt during which 2FA changes need no new prompt. A
# log-in does not count as a prompt in allauth 65.22, so every change prompts once.
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300

MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# The account name authenticator apps show next to the code.
MFA_TOTP_ISSUER = "Track360"
MFA_RECOVERY_CODE_COUNT = 10
