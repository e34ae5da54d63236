"""Logging filters of the project's log configuration."""

from __future__ import annotations

import logging


class ClientErrorWithoutTraceback(logging.Filter):
    """Drop the traceback from django.request records of 4xx responses.

    Django logs a refused permission or a missing object with the exception that
    caused it. Those are the client's mistakes, so one line with the path and status
    is enough. Server errors (5xx) keep their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status_code = getattr(record, "status_code", None)
        if status_code is not None and 400 <= status_code < 500:
            record.exc_info = None
            record.exc_text = None
        return True
