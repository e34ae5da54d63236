"""A queued import's page shows the counts in a real browser once the worker finishes."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.importing import FileFormat, uploads
from crm.models import ImportRun
from crm.tasks import csv_import_task
from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.browser.test_manager_journey import log_in
from tests.factories import MembershipFactory, UserFactory

ACCOUNTS_CSV = (
    b"external_id,name,domain,industry,employees,country\n"
    b"acc-100,Hooli,hooli.com,software,1200,US\n"
    b"acc-101,Pied Piper,piedpiper.com,software,40,US\n"
)


@pytest.mark.django_db(transaction=True)
def test_import_page_updates_on_finish(page, live_server, tenant, monkeypatch):
    user = UserFactory(username="browser-importer")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER_MANAGER)
    # No worker runs in tests, so the test runs the task itself once the page is open.
    monkeypatch.setattr(uploads, "enqueue_on_commit", lambda *args, **kwargs: None)
    with tenant_scope(tenant):
        run = uploads.import_request(
            tenant=tenant,
            kind=ImportRun.Kind.ACCOUNTS,
            upload=SimpleUploadedFile("accounts.csv", ACCOUNTS_CSV, "text/csv"),
            filename="accounts.csv",
            file_format=FileFormat(),
            background=True,
        )

    log_in(page, live_server, "browser-importer")
    page.goto(f"{live_server.url}/accounts/imports/{run.pk}/")
    assert page.locator("progress.job-bar").count() == 1
    assert page.locator(".card", has_text="Created").count() == 0

    csv_import_task.apply(args=(tenant.pk, run.pk, run.job_id))

    created = page.locator(".card", has_text="Created").locator(".card-value")
    created.wait_for(timeout=10_000)
    assert created.inner_text() == "2"
    assert page.locator("progress.job-bar").count() == 0
    assert page.get_by_text("No errors: every line was valid.").is_visible()
    assert page.locator(".status-succeeded").count() == 1
