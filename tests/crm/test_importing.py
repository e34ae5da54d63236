from decimal import Decimal

import pytest

from commissions.fx import exchange_rates_upsert
from crm.importing import csv_import
from crm.models import Account, Deal, ImportRun
from tests.factories import AccountFactory, PartnerFactory

ACCOUNTS_CSV = b"""external_id,name,domain,industry,employees,annual_revenue,country
a1,Acme,https://www.Acme.co.uk/,software,1200,5000000.50,United Kingdom
a2,Globex,globex.com,retail,80,,DE
"""


def _import(tenant, kind, content, strict=True):
    return csv_import(tenant=tenant, kind=kind, content=content, filename="f.csv", strict=strict)


def test_accounts_import_creates_rows(scoped):
    run = _import(scoped, "accounts", ACCOUNTS_CSV)

    assert run.status == ImportRun.Status.SUCCEEDED
    assert (run.rows_total, run.rows_created, run.rows_updated) == (2, 2, 0)
    acme = Account.objects.get(external_id="a1")
    assert acme.domain == "acme.co.uk"
    assert acme.country == "GB"
    assert acme.employees == 1200
    assert acme.annual_revenue == Decimal("5000000.50")
    assert Account.objects.get(external_id="a2").annual_revenue is None


def test_accounts_import_twice_is_idempotent(scoped):
    _import(scoped, "accounts", ACCOUNTS_CSV)
    run = _import(scoped, "accounts", ACCOUNTS_CSV)

    assert (run.rows_created, run.rows_updated) == (0, 0)
    assert run.rows_unchanged == 2
    assert Account.objects.count() == 2


def test_accounts_reimport_keeps_columns_not_sent(scoped):
    _import(scoped, "accounts", ACCOUNTS_CSV)
    _import(scoped, "accounts", b"external_id,name\na1,Acme Ltd\n")

    acme = Account.objects.get(external_id="a1")
    assert acme.name == "Acme Ltd"
    assert acme.industry == "software"


def test_strict_import_writes_nothing_on_error(scoped):
    content = ACCOUNTS_CSV + b"a3,Initech,initech.com,software,many,10,US\n"

    run = _import(scoped, "accounts", content)

    assert run.status == ImportRun.Status.FAILED
    assert Account.objects.count() == 0
    assert run.errors == [
        {"line": 4, "column": "employees", "value": "many", "message": "Expected a whole number."}
    ]


def test_lenient_import_writes_valid_lines(scoped):
    content = ACCOUNTS_CSV + b"a3,Initech,initech,software,10,10,Atlantis\n"

    run = _import(scoped, "accounts", content, strict=False)

    assert run.status == ImportRun.Status.PARTIAL
    assert run.rows_created == 2
    assert run.rows_rejected == 1
    assert [(e["line"], e["column"], e["value"]) for e in run.errors] == [
        (4, "domain", "initech"),
        (4, "country", "Atlantis"),
    ]
    assert "acme.com" in run.errors[0]["message"]


def test_import_reports_missing_required_column(scoped):
    run = _import(scoped, "accounts", b"name,domain\nAcme,acme.com\n")

    assert run.status == ImportRun.Status.FAILED
    assert run.errors[0]["column"] == "external_id"
    assert "missing from the header" in run.errors[0]["message"]


def test_import_rejects_non_utf8(scoped):
    run = _import(scoped, "accounts", "external_id,name\na1,Caf\u00e9\n".encode("latin-1"))

    assert run.status == ImportRun.Status.FAILED
    assert "UTF-8" in run.errors[0]["message"]


def test_import_rejects_duplicate_external_id_in_file(scoped):
    run = _import(scoped, "accounts", b"external_id,name\na1,Acme\na1,Acme again\n")

    assert run.status == ImportRun.Status.FAILED
    assert run.errors[0]["line"] == 3
    assert "Duplicate of line 2" in run.errors[0]["message"]


def test_import_rejects_domain_owned_by_other_account(scoped):
    AccountFactory(tenant=scoped, external_id="x", domain="acme.co.uk")

    run = _import(scoped, "accounts", ACCOUNTS_CSV)

    assert run.status == ImportRun.Status.FAILED
    assert run.errors[0]["column"] == "domain"
    assert "'x'" in run.errors[0]["message"]


def test_deals_import_links_accounts_and_marks_won_pending(scoped, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # keep the pipeline out of this test
    AccountFactory(tenant=scoped, external_id="a1", domain="acme.com")
    content = (
        b"opportunity_id,account_external_id,deal_stage,close_value,close_date\n"
        b"D1,a1,Won,1200.50,2017-03-01\n"
        b"D2,a1,Lost,0,2017-03-02\n"
        b"D3,,Engaging,,\n"
    )

    run = _import(scoped, "deals", content)

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    won = Deal.objects.get(external_id="D1")
    assert won.stage == Deal.Stage.WON
    assert won.amount == Decimal("1200.50")
    assert won.pipeline_status == Deal.PipelineStatus.PENDING
    assert Deal.objects.get(external_id="D2").pipeline_status == Deal.PipelineStatus.NOT_APPLICABLE
    assert Deal.objects.get(external_id="D3").account is None


@pytest.mark.parametrize(
    ("line", "column", "value"),
    [
        pytest.param(
            b"D1,nope,won,10,2017-01-01,", "account_external_id", "nope", id="unknown-account"
        ),
        pytest.param(b"D1,a1,maybe,10,2017-01-01,", "stage", "maybe", id="bad-stage"),
        pytest.param(b"D1,a1,won,-5,2017-01-01,", "amount", "-5", id="negative-amount"),
        pytest.param(b"D1,a1,won,10,01/02/2017,", "close_date", "01/02/2017", id="bad-date"),
        pytest.param(
            b"D1,,won,10,2017-01-01,", "account_external_id", "", id="won-without-account"
        ),
        pytest.param(
            b"D1,a1,won,10,2017-01-01,ghost", "partner_external_id", "ghost", id="unknown-partner"
        ),
    ],
)
def test_deals_import_line_errors(scoped, line, column, value):
    AccountFactory(tenant=scoped, external_id="a1")
    PartnerFactory(tenant=scoped, external_id="p1")
    header = b"external_id,account_external_id,stage,amount,close_date,partner_external_id\n"

    run = _import(scoped, "deals", header + line + b"\n")

    assert run.status == ImportRun.Status.FAILED
    assert Deal.objects.count() == 0
    error = run.errors[0]
    assert (error["line"], error["column"], error["value"]) == (2, column, value)


def test_import_is_scoped_to_tenant(tenant, other_tenant):
    csv_import(tenant=tenant, kind="accounts", content=ACCOUNTS_CSV, filename="a.csv")
    run = csv_import(tenant=other_tenant, kind="accounts", content=ACCOUNTS_CSV, filename="a.csv")

    assert run.rows_created == 2
    assert Account.all_tenants.filter(external_id="a1").count() == 2


def test_reach_import_merges_by_partner_and_domain(scoped):
    PartnerFactory(tenant=scoped, external_id="p1")
    content = (
        b"partner_external_id,domain,company_name\np1,www.acme.com,Acme\np1,globex.com,Globex\n"
    )

    first = _import(scoped, "reach", content)
    second = _import(scoped, "reach", content)

    assert (first.rows_created, first.rows_updated) == (2, 0)
    assert (second.rows_created, second.rows_updated) == (0, 2)
    from partners.models import ReachEntry

    assert sorted(ReachEntry.objects.values_list("domain", flat=True)) == ["acme.com", "globex.com"]


def test_reach_import_rejects_duplicate_and_unknown_partner(scoped):
    PartnerFactory(tenant=scoped, external_id="p1")
    content = b"partner_external_id,domain\np1,acme.com\np1,https://acme.com/x\nghost,globex.com\n"

    run = _import(scoped, "reach", content)

    assert run.status == ImportRun.Status.FAILED
    assert [(e["line"], e["column"], e["value"]) for e in run.errors] == [
        (3, "domain", "acme.com"),
        (4, "partner_external_id", "ghost"),
    ]


def test_import_rejects_unknown_kind(scoped):
    from tenancy.errors import DomainError

    with pytest.raises(DomainError) as error:
        _import(scoped, "invoices", b"a\n1\n")

    assert error.value.field == "kind"
    assert error.value.value == "invoices"


def _processed_won_deal(tenant):
    account = AccountFactory(tenant=tenant, external_id="a1")
    PartnerFactory(tenant=tenant, external_id="p1")
    from tests.factories import DealFactory

    return DealFactory(
        tenant=tenant,
        external_id="W1",
        account=account,
        amount=Decimal("5000.00"),
        pipeline_status=Deal.PipelineStatus.PROCESSED,
    )


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        pytest.param(b"W1,a1,won,9000000,2017-06-01,", "amount", "9000000", id="amount"),
        pytest.param(b"W1,a1,lost,5000,2017-06-01,", "stage", "lost", id="stage"),
        pytest.param(b"W1,a1,won,5000,2019-01-01,", "close_date", "2019-01-01", id="close-date"),
        pytest.param(b"W1,a1,won,5000,2017-06-01,p1", "partner_external_id", "p1", id="partner"),
    ],
)
def test_import_cannot_change_booked_deal(scoped, row, column, value):
    deal = _processed_won_deal(scoped)
    header = b"external_id,account_external_id,stage,amount,close_date,partner_external_id\n"

    run = _import(scoped, "deals", header + row + b"\n")

    deal.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert (run.errors[0]["column"], run.errors[0]["value"]) == (column, value)
    assert "already booked" in run.errors[0]["message"]
    assert deal.amount == Decimal("5000.00")


def test_reimport_without_partner_column_keeps_partner(scoped):
    partner = PartnerFactory(tenant=scoped, external_id="p9")
    account = AccountFactory(tenant=scoped, external_id="a9")
    from tests.factories import DealFactory

    DealFactory(tenant=scoped, external_id="O1", stage=Deal.Stage.OPEN, account=account,
                partner=partner, partner_named=True, source=Deal.Source.PARTNER)  # fmt: skip

    _import(scoped, "deals", b"external_id,stage\nO1,open\n")

    deal = Deal.objects.get(external_id="O1")
    assert deal.partner == partner
    assert deal.account == account


def test_import_converts_currency_other_than_base(scoped):
    AccountFactory(tenant=scoped, external_id="a1")
    exchange_rates_upsert(
        tenant=scoped, rows=[{"currency": "GBP", "rate_date": "2024-01-01", "rate": "1.25"}]
    )

    run = _import(
        scoped,
        "deals",
        b"external_id,account_external_id,stage,amount,currency,close_date\n"
        b"D1,a1,open,80.00,GBP,2024-01-20\nD2,a1,open,80.00,EUR,2024-01-20\n",
    )

    assert run.status == ImportRun.Status.SUCCEEDED
    amounts = dict(Deal.objects.values_list("external_id", "amount_base"))
    assert amounts == {"D1": Decimal("100.00"), "D2": None}


@pytest.mark.parametrize(
    ("content", "line", "column", "message_part"),
    [
        pytest.param(b"external_id,name,anual_revenue\na1,Acme,10\n", 1, "anual_revenue",
                     "Unknown column 'anual_revenue'", id="unknown-column"),
        pytest.param(b"external_id,name,name\na1,Acme,Acme 2\n", 1, "name",
                     "appears twice", id="repeated-column"),
        pytest.param(b'external_id,name\na1,"Unclosed\n', 2, "",
                     "not valid CSV", id="unclosed-quote"),
        pytest.param(b"external_id,name\na1,Ac\x00me\n", 2, "name",
                     "NUL", id="nul-byte"),
        pytest.param(b"external_id,name\na1,Acme\na2,Caf\xe9\n", 3, "",
                     "not UTF-8", id="latin-1-byte"),
    ],
)  # fmt: skip
def test_import_rejects_malformed_csv(scoped, content, line, column, message_part):
    run = _import(scoped, "accounts", content, strict=False)

    assert run.status == ImportRun.Status.FAILED
    assert run.errors[0]["line"] == line
    assert run.errors[0]["column"] == column
    assert message_part in run.errors[0]["message"]
    assert Account.objects.count() == 0


@pytest.mark.parametrize(
    "value", ["Infinity", "-inf", "sNaN", "NaN", "1e1000000", "99999999999999999999999"]
)
def test_import_rejects_non_finite_or_huge_employees(scoped, value):
    content = f"external_id,name,employees\na1,Acme,{value}\n".encode()

    run = _import(scoped, "accounts", content)

    assert run.status == ImportRun.Status.FAILED
    assert (run.errors[0]["column"], run.errors[0]["value"]) == ("employees", value)


def test_import_rejects_overlong_domain(scoped):
    domain = "a" * 64 + ".com"

    run = _import(scoped, "accounts", f"external_id,name,domain\na1,Acme,{domain}\n".encode())

    assert run.status == ImportRun.Status.FAILED
    assert run.errors[0]["column"] == "domain"


@pytest.mark.parametrize(
    "content",
    [b"external_id,name,bad\x00col\na1,Acme,x\n", b"external_id,name\na1,Acme,extra\x00cell\n"],
)
def test_import_nul_in_rejected_value_is_stored(scoped, content):
    run = _import(scoped, "accounts", content)

    assert run.status == ImportRun.Status.FAILED
    assert "\\0" in run.errors[0]["value"]
