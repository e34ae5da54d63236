"""Settings for running Track360; tests use `track360.settings.test`."""

from track360.settings.accounts import *  # noqa: F403
from track360.settings.attribution import *  # noqa: F403
from track360.settings.base import *  # noqa: F403
from track360.settings.cache import *  # noqa: F403
from track360.settings.celery import *  # noqa: F403
from track360.settings.email import *  # noqa: F403
from track360.settings.logging import *  # noqa: F403
from track360.settings.rest import *  # noqa: F403
from track360.settings.webhooks import *  # noqa: F403
