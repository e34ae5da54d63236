"""The filter that keeps 4xx request logs to one line."""

from __future__ import annotations

import logging
import sys

import pytest

from track360.log_filters import ClientErrorWithoutTraceback


def record_with_traceback(status_code: int | None) -> logging.LogRecord:
    try:
        raise PermissionError("not allowed")
    except PermissionError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "x", (), exc_info)
    if status_code is not None:
        record.status_code = status_code
    return record


@pytest.mark.parametrize("status_code", [400, 403, 404, 409])
def test_client_errors_lose_traceback(status_code):
    record = record_with_traceback(status_code)

    assert ClientErrorWithoutTraceback().filter(record) is True
    assert record.exc_info is None


@pytest.mark.parametrize("status_code", [500, None])
def test_server_errors_keep_traceback(status_code):
    record = record_with_traceback(status_code)

    assert ClientErrorWithoutTraceback().filter(record) is True
    assert record.exc_info is not None


def test_forbidden_page_logs_no_traceback(client, caplog, tenant):
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory(username="analyst-user")
    MembershipFactory(tenant=tenant, user=user, role="analyst")
    client.force_login(user)
    caplog.set_level(logging.WARNING, logger="django.request")

    response = client.post("/icp/versions/new/")

    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records
    assert all(r.exc_info is None for r in records)
