import pytest
from django.core.management import CommandError, call_command

from crm.models import Account


def test_import_csv_command_imports(tenant, tmp_path, capsys):
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"external_id,name,domain\na1,Acme,acme.com\n")

    call_command("import_csv", str(path), "--tenant", tenant.slug, "--kind", "accounts")

    assert "1 created" in capsys.readouterr().out
    assert Account.all_tenants.filter(tenant=tenant, domain="acme.com").count() == 1


def test_import_csv_command_fails_on_bad_line(tenant, tmp_path, capsys):
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"external_id,name,employees\na1,Acme,lots\n")

    with pytest.raises(CommandError, match="failed"):
        call_command("import_csv", str(path), "--tenant", tenant.slug, "--kind", "accounts")

    assert "line 2, column employees, value 'lots'" in capsys.readouterr().err
    assert Account.all_tenants.count() == 0


def test_import_csv_command_unknown_tenant(db, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"external_id,name\n")

    with pytest.raises(CommandError, match="No tenant has the slug 'nope'"):
        call_command("import_csv", str(path), "--tenant", "nope", "--kind", "accounts")
