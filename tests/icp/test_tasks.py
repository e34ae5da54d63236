"""The ICP Celery tasks (run eagerly) and the learn_icp management command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from crm.models import Account
from icp.models import IcpVersion
from icp.tasks import learn_icp_task, rescore_accounts_task
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory
from tests.icp.test_services import CRITERIA, CUTOFFS, create_closed_deals


def test_learn_icp_task_stores_draft(tenant, admin_user):
    create_closed_deals(tenant)

    version_id = learn_icp_task.delay(tenant.pk, admin_user.pk).get()

    version = IcpVersion.all_tenants.get(pk=version_id)
    assert version.tenant == tenant
    assert version.status == IcpVersion.Status.DRAFT
    assert version.created_by == admin_user


def test_learn_icp_task_with_too_few_deals(tenant):
    create_closed_deals(tenant, accounts=3)

    assert learn_icp_task.delay(tenant.pk).get() is None
    assert not IcpVersion.all_tenants.exists()


def test_learn_icp_task_missing_tenant(db):
    assert learn_icp_task.delay(999_999).get() is None


def test_rescore_accounts_task(tenant):
    from icp.services import icp_version_activate, icp_version_create

    with tenant_scope(tenant):
        account = AccountFactory(tenant=tenant, industry="software", employees=500)
    version = icp_version_create(tenant=tenant, name="v1", criteria=CRITERIA, tier_cutoffs=CUTOFFS)
    icp_version_activate(version=version)
    Account.all_tenants.update(fit_score=None, fit_tier="")

    assert rescore_accounts_task.delay(tenant.pk, [account.pk]).get() == 1
    account.refresh_from_db()
    assert (account.fit_score, account.fit_tier) == (100, "A")


def test_rescore_accounts_task_missing_tenant(db):
    assert rescore_accounts_task.delay(999_999).get() == 0


def test_learn_icp_command_activates(tenant):
    create_closed_deals(tenant)
    output = StringIO()

    call_command("learn_icp", "--tenant", "acme", "--activate", stdout=output)

    version = IcpVersion.all_tenants.get(tenant=tenant)
    assert version.status == IcpVersion.Status.ACTIVE
    text = output.getvalue()
    assert "ICP version 1 (active)" in text
    assert "Objective: won, signal: strong" in text
    assert "Industry: software" in text
    assert '"cv_auc_won"' in text
    assert Account.all_tenants.filter(fit_version=version).count() == 20


def test_learn_icp_command_unknown_tenant(db):
    with pytest.raises(CommandError, match="Tenant 'nobody' not found"):
        call_command("learn_icp", "--tenant", "nobody")


def test_learn_icp_command_too_few_deals(tenant):
    with pytest.raises(CommandError, match="Too few closed deals"):
        call_command("learn_icp", "--tenant", "acme")


def test_learn_icp_command_with_weighting(tenant):
    create_closed_deals(tenant)
    output = StringIO()

    call_command("learn_icp", "--tenant", "acme", "--weighting", "value", stdout=output)

    version = IcpVersion.all_tenants.get(tenant=tenant)
    assert version.status == IcpVersion.Status.DRAFT
    assert version.metrics["weighting"] == "value"
    text = output.getvalue()
    assert "Weighting: value, churned wins: 0" in text
    assert "lifetime value lift" in text


def test_learn_icp_command_rejects_unknown_weighting(tenant):
    with pytest.raises(CommandError, match="invalid choice: 'revenue'"):
        call_command("learn_icp", "--tenant", "acme", "--weighting", "revenue")
