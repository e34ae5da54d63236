"""Logging: one line per event with key=value fields, to standard error."""

from track360.settings.env import env_str

LOG_LEVEL = env_str("TRACK360_LOG_LEVEL", "INFO")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "fields": {
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "filters": {
        "client_error_without_traceback": {
            "()": "track360.log_filters.ClientErrorWithoutTraceback",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "fields"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["client_error_without_traceback"]},
    },
}
