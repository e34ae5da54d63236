"""Outgoing webhook settings."""

from track360.settings.env import env_bool

# True lets endpoints use private, loopback and link-local addresses, which
# otherwise are rejected to keep webhooks from reaching internal services.
# For local testing only.
TRACK360_WEBHOOKS_ALLOW_PRIVATE = env_bool("TRACK360_WEBHOOKS_ALLOW_PRIVATE", False)
