"""Outgoing e-mail, and the base URL that links in e-mails are built from.

The default backend prints each message to the console, so local runs need no
SMTP server. Production sets EMAIL_BACKEND to
"django.core.mail.backends.smtp.EmailBackend" and the EMAIL_HOST variables.
"""

from track360.settings.env import env_bool, env_int, env_str

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds an SMTP connection may block, so a stuck mail server cannot hang a worker.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Track360 <track360@localhost>")

# Scheme, host and optional port of the dashboard as users reach it, without a
# trailing slash; e-mails build absolute links from it.
TRACK360_BASE_URL = env_str("TRACK360_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
