"""Find the rescore job that an activation started, for pages and the API to follow."""

from __future__ import annotations

from icp.models import IcpVersion
from jobs.models import Job
from jobs.selectors import job_latest


def rescore_job_since(tenant, version: IcpVersion, started_at) -> Job | None:
    """Return the rescore job of `version` created at or after `started_at`, or None.

    An older job belongs to an earlier activation of the same version, so it is not
    the one to follow. None also means the activation rescored without a job.
    """
    job = job_latest(tenant=tenant, kind=Job.Kind.ICP_RESCORE, subject=f"icp_version:{version.pk}")
    if job is None or job.created_at < started_at:
        return None
    return job
