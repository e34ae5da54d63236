import pytest

from crm.models import Account
from tenancy.scope import TenantScopeMissing, tenant_scope
from tests.factories import AccountFactory


def test_scoped_query_without_tenant_raises(db):
    with pytest.raises(TenantScopeMissing, match="No tenant is active"):
        list(Account.objects.all())


def test_scoped_query_sees_only_active_tenant(tenant, other_tenant):
    with tenant_scope(tenant):
        AccountFactory(tenant=tenant, external_id="mine")
    with tenant_scope(other_tenant):
        AccountFactory(tenant=other_tenant, external_id="theirs")

    with tenant_scope(tenant):
        assert list(Account.objects.values_list("external_id", flat=True)) == ["mine"]
    with tenant_scope(other_tenant):
        assert list(Account.objects.values_list("external_id", flat=True)) == ["theirs"]


def test_save_takes_tenant_from_scope(tenant):
    with tenant_scope(tenant):
        account = Account(external_id="x", name="X")
        account.save()

    assert account.tenant_id == tenant.pk


def test_scope_resets_after_block(tenant):
    with tenant_scope(tenant):
        pass

    with pytest.raises(TenantScopeMissing):
        Account.objects.count()
