"""The rescore outside a transaction, where a second thread reads the next chunk ahead."""

from __future__ import annotations

import threading

import pytest

from icp import rescoring
from icp.rescoring import accounts_rescore_all
from jobs.models import Job
from jobs.services import job_create, job_start
from tests.icp.test_rescoring import active_version, four_accounts  # noqa: F401
from tests.icp.test_services import fits

pytestmark = pytest.mark.django_db(transaction=True)


def record_threads(monkeypatch, fail_on_call: int | None = None, on_call=None) -> list[str]:
    """Wrap rescoring.score_frame to record the thread of each call, and fail or act on one."""
    original = rescoring.score_frame
    threads: list[str] = []

    def score_frame(frame, *args, **kwargs):
        threads.append(threading.current_thread().name)
        if len(threads) == fail_on_call:
            raise RuntimeError("scoring failed")
        if on_call is not None:
            on_call(len(threads))
        return original(frame, *args, **kwargs)

    monkeypatch.setattr(rescoring, "score_frame", score_frame)
    return threads


def test_read_ahead_scores_in_second_thread(tenant, four_accounts, monkeypatch):  # noqa: F811
    monkeypatch.setattr(rescoring, "CHUNK_SIZE", 1)
    version = active_version(tenant)
    job = job_create(tenant=tenant, kind=Job.Kind.ICP_RESCORE)
    job_start(job_id=job.pk, tenant_id=tenant.pk)
    threads = record_threads(monkeypatch)

    result = accounts_rescore_all(tenant=tenant, version=version, job_id=job.pk)

    assert (result.scanned, result.changed, result.superseded) == (4, 4, False)
    assert threads == ["icp-rescore-read-ahead"] * 4
    assert [fit[1] for fit in fits(four_accounts)] == ["A", "B", "C", "D"]
    job.refresh_from_db()
    assert (job.done, job.total) == (4, 4)
    assert not any(t.name == "icp-rescore-read-ahead" for t in threading.enumerate())


def test_read_ahead_error_reaches_caller(tenant, four_accounts, monkeypatch):  # noqa: F811
    monkeypatch.setattr(rescoring, "CHUNK_SIZE", 2)
    version = active_version(tenant)
    record_threads(monkeypatch, fail_on_call=2)

    with pytest.raises(RuntimeError, match="scoring failed"):
        accounts_rescore_all(tenant=tenant, version=version)

    # The first chunk was committed before the error; a rerun finishes the rest.
    assert [fit[2] for fit in fits(four_accounts)] == [version.pk, version.pk, None, None]
    monkeypatch.undo()
    rerun = accounts_rescore_all(tenant=tenant, version=version)
    assert (rerun.scanned, rerun.changed) == (4, 2)
    assert not any(t.name == "icp-rescore-read-ahead" for t in threading.enumerate())


def test_read_ahead_stops_when_superseded(tenant, four_accounts, monkeypatch):  # noqa: F811
    monkeypatch.setattr(rescoring, "CHUNK_SIZE", 2)
    first = active_version(tenant)

    def activate_newer(call: int) -> None:
        if call == 2:
            active_version(tenant, name="v2")

    record_threads(monkeypatch, on_call=activate_newer)

    result = accounts_rescore_all(tenant=tenant, version=first)

    # The second chunk is read after the newer activation, so it is never written. The
    # first may or may not be, depending on whether its write began before.
    assert result.superseded is True
    assert [fit[2] for fit in fits(four_accounts)][2:] == [None, None]
    assert not any(t.name == "icp-rescore-read-ahead" for t in threading.enumerate())
