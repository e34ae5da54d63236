"""Exchange rates: lookup rules, conversion rounding, bulk upsert, validation and deletion."""

from __future__ import annotations

import datetime
import decimal
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from commissions import fx
from commissions.fx_models import ExchangeRate
from crm.parsing import currency_exponent
from tenancy.errors import DomainError, NotFound
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tests.factories import TenantFactory

D = Decimal
MARCH_1 = datetime.date(2026, 3, 1)


def rate(currency: str, rate_date: datetime.date, value: str, **extra) -> ExchangeRate:
    return ExchangeRate.objects.create(
        currency=currency, rate_date=rate_date, rate=D(value), **extra
    )


def quote(tenant, currency: str, on_date: datetime.date) -> fx.ExchangeRateQuote:
    return fx.exchange_rate_for(tenant=tenant, currency=currency, on_date=on_date)


def test_exact_date_rate_used(scoped):
    rate("EUR", MARCH_1, "1.08340000")

    found = quote(scoped, "EUR", MARCH_1)

    assert found == fx.ExchangeRateQuote(
        currency="EUR", base_currency="USD", rate=D("1.08340000"), rate_date=MARCH_1
    )


def test_latest_earlier_rate_used(scoped):
    rate("EUR", datetime.date(2026, 2, 1), "1.05")
    rate("EUR", datetime.date(2026, 2, 27), "1.07")
    rate("GBP", datetime.date(2026, 2, 28), "1.27")

    found = quote(scoped, "eur", MARCH_1)

    assert found.rate == D("1.07")
    assert found.rate_date == datetime.date(2026, 2, 27)
    assert found.currency == "EUR"


def test_rate_31_days_old_still_used(scoped):
    rate("EUR", datetime.date(2026, 1, 1), "1.04")

    found = quote(scoped, "EUR", datetime.date(2026, 2, 1))

    assert found.rate == D("1.04")
    assert (datetime.date(2026, 2, 1) - found.rate_date).days == fx.MAX_RATE_AGE_DAYS


def test_rate_32_days_old_missing(scoped):
    rate("EUR", datetime.date(2026, 1, 1), "1.04")

    with pytest.raises(fx.MissingExchangeRate) as raised:
        quote(scoped, "EUR", datetime.date(2026, 2, 2))

    error = raised.value
    assert isinstance(error, DomainError)
    assert error.status_code == 404
    assert error.field == "currency"
    assert error.value == "EUR"
    assert "EUR→USD" in error.message
    assert "2026-02-02" in error.message
    assert "2026-01-01" in error.message
    assert "/ledger/exchange-rates/" in error.fix
    assert "POST /api/v1/exchange-rates/" in error.fix


def test_later_rate_never_used(scoped):
    rate("EUR", datetime.date(2026, 3, 2), "1.09")

    with pytest.raises(fx.MissingExchangeRate) as raised:
        quote(scoped, "EUR", MARCH_1)

    assert raised.value.on_date == MARCH_1
    assert raised.value.base_currency == "USD"


def test_no_rate_at_all_missing(scoped):
    with pytest.raises(fx.MissingExchangeRate) as raised:
        quote(scoped, "JPY", MARCH_1)

    assert "JPY→USD exchange rate for 2026-03-01" in raised.value.message
    assert "latest earlier" not in raised.value.message


def test_same_currency_rate_one(scoped):
    found = quote(scoped, "USD", MARCH_1)

    assert found.rate == D(1)
    assert found.rate_date == MARCH_1
    assert found.base_currency == "USD"


def test_unknown_currency_rejected(scoped):
    with pytest.raises(DomainError) as raised:
        quote(scoped, "XYZ", MARCH_1)

    assert raised.value.field == "currency"
    assert raised.value.value == "XYZ"
    assert "ISO 4217" in raised.value.fix


def test_other_tenants_rate_not_used(tenant, other_tenant):
    with tenant_scope(other_tenant):
        rate("EUR", MARCH_1, "1.08")

    with tenant_scope(tenant), pytest.raises(fx.MissingExchangeRate):
        quote(tenant, "EUR", MARCH_1)


def _quote(rate_value: str, base: str) -> fx.ExchangeRateQuote:
    return fx.ExchangeRateQuote(
        currency="EUR", base_currency=base, rate=D(rate_value), rate_date=MARCH_1
    )


@pytest.mark.parametrize(
    ("amount", "rate_value", "base", "expected"),
    [
        ("100.00", "1.08345", "USD", "108.35"),
        ("100.00", "1.08344", "USD", "108.34"),
        ("1.00", "0.005", "USD", "0.01"),
        ("10.00", "162.35", "JPY", "1624"),
        ("1.00", "162.5", "JPY", "163"),
        ("1.00", "161.5", "JPY", "162"),
        ("100.00", "0.3310005", "KWD", "33.100"),
        ("100.00", "0.3310015", "KWD", "33.100"),
        ("1.00", "0.3765", "BHD", "0.377"),
        ("-1.00", "0.3765", "BHD", "-0.377"),
    ],
)
def test_conversion_rounds_half_up(amount, rate_value, base, expected):
    converted = fx.amount_convert(amount=D(amount), quote=_quote(rate_value, base))

    assert converted == D(expected)
    assert converted.as_tuple().exponent == -currency_exponent(base)


def test_conversion_keeps_large_amounts_exact():
    # The exact product has 32 digits and ends in .00499999…; at the default context
    # precision of 28 it would round to .005 first and then half up to .01.
    converted = fx.amount_convert(
        amount=D("571071593254.77"), quote=_quote("4337601078.96426408", "USD")
    )

    assert converted == D("2477080759067731705126.00")


amounts = st.decimals(min_value=D("-999999999999.99"), max_value=D("999999999999.99"), places=2)
rates = st.decimals(min_value=D("0.00000001"), max_value=D("9999999999.99999999"), places=8)
bases = st.sampled_from(["USD", "EUR", "JPY", "KRW", "KWD", "BHD", "CLF"])


@given(amount=amounts, rate_value=rates, base=bases)
@example(amount=D("0.05"), rate_value=D("0.1"), base="JPY")
def test_conversion_decimals_match_minor_unit(amount, rate_value, base):
    converted = fx.amount_convert(amount=amount, quote=_quote(str(rate_value), base))

    exponent = currency_exponent(base)
    assert converted.as_tuple().exponent == -exponent
    with decimal.localcontext() as context:
        context.prec = 60
        exact = amount * rate_value
        # Half up: the result is within half a minor unit of the exact product.
        assert abs(converted - exact) <= D(1).scaleb(-exponent) / 2


@given(amount=amounts, rate_value=rates)
def test_conversion_is_odd_symmetric(amount, rate_value):
    quote_usd = _quote(str(rate_value), "USD")

    assert fx.amount_convert(amount=-amount, quote=quote_usd) == -fx.amount_convert(
        amount=amount, quote=quote_usd
    )


def upsert(tenant, rows, **kwargs) -> fx.UpsertResult:
    return fx.exchange_rates_upsert(tenant=tenant, rows=rows, **kwargs)


ROWS = [
    {"currency": "EUR", "rate_date": "2026-03-01", "rate": "1.0834"},
    {"currency": "gbp", "rate_date": datetime.date(2026, 3, 1), "rate": D("1.2712")},
    {"currency": "JPY", "rate_date": "2026-03-01", "rate": 0.0067, "source": "ECB"},
]


def test_upsert_creates_then_unchanged(scoped, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = upsert(scoped, ROWS, actor=admin_user)
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    assert len(callbacks) == 1

    with django_capture_on_commit_callbacks() as callbacks:
        again = upsert(scoped, ROWS, actor=admin_user)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert callbacks == []
    assert [r.pk for r in again.rates] == [r.pk for r in first.rates]
    stored = {r.currency: r for r in ExchangeRate.objects.all()}
    assert set(stored) == {"EUR", "GBP", "JPY"}
    assert stored["JPY"].rate == D("0.0067")
    assert stored["JPY"].source == "ECB"
    assert stored["EUR"].source == "manual"
    assert stored["EUR"].created_by == admin_user
    created = AuditEvent.objects.filter(event="exchange_rate.created")
    assert created.count() == 3


def test_upsert_changed_rate_updates_and_audits(scoped, admin_user):
    upsert(scoped, ROWS[:1], actor=admin_user)

    result = upsert(
        scoped, [{**ROWS[0], "rate": "1.0901"}, ROWS[1]], actor=admin_user, source="ECB"
    )

    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    stored = ExchangeRate.objects.get(currency="EUR")
    assert stored.rate == D("1.0901")
    assert stored.source == "ECB"
    event = AuditEvent.objects.get(event="exchange_rate.updated")
    assert event.object_id == str(stored.pk)
    assert event.actor == admin_user
    assert event.before["rate"] == "1.08340000"
    assert event.after["rate"] == "1.09010000"
    assert event.before["source"] == "manual"
    assert event.after["source"] == "ECB"


def test_upsert_queues_pending_deals(scoped, monkeypatch, django_capture_on_commit_callbacks):
    from crm import tasks

    sent = []
    monkeypatch.setattr(
        tasks.process_pending_deals_task, "apply_async", lambda **kwargs: sent.append(kwargs)
    )
    with django_capture_on_commit_callbacks(execute=True):
        upsert(scoped, ROWS[:1])

    assert sent == [{"args": (scoped.pk,), "kwargs": {}}]


def bad_rows_error(tenant, rows) -> fx.ExchangeRateRowsInvalid:
    with pytest.raises(fx.ExchangeRateRowsInvalid) as raised:
        upsert(tenant, rows)
    return raised.value


@pytest.mark.parametrize(
    ("row", "field", "value", "fix_part"),
    [
        ({"currency": "EUX"}, "currency", "EUX", "ISO 4217"),
        ({"currency": None}, "currency", None, "ISO 4217"),
        ({"currency": "USD"}, "currency", "USD", "rate 1"),
        ({"rate": "0"}, "rate", "0", "positive"),
        ({"rate": "-1.2"}, "rate", "-1.2", "positive"),
        ({"rate": "abc"}, "rate", "abc", "such as 1.0834"),
        ({"rate": "NaN"}, "rate", "NaN", "such as 1.0834"),
        ({"rate": True}, "rate", True, "such as 1.0834"),
        ({"rate": "1.123456789"}, "rate", "1.123456789", "8 decimals"),
        ({"rate": "12345678901"}, "rate", "12345678901", "below 10^10"),
        ({"rate_date": "2026-02-30"}, "rate_date", "2026-02-30", "YYYY-MM-DD"),
        ({"rate_date": "03/01/2026"}, "rate_date", "03/01/2026", "YYYY-MM-DD"),
        ({"rate_date": "1850-01-01"}, "rate_date", "1850-01-01", "between 1900 and 2100"),
        ({"source": "x" * 41}, "source", "x" * 41, "ECB"),
    ],
)
def test_invalid_row_named(scoped, row, field, value, fix_part):
    error = bad_rows_error(scoped, [ROWS[0], {**ROWS[1], **row}])

    [item] = error.errors
    assert item["index"] == 1
    assert item["field"] == f"[1].{field}"
    assert item["value"] == value
    assert fix_part in item["fix"]
    assert item["message"]
    assert error.field == f"[1].{field}"
    assert "no rate was written" in error.message
    assert ExchangeRate.objects.count() == 0


def test_bad_batch_writes_nothing(scoped, admin_user):
    upsert(scoped, ROWS[:1], actor=admin_user)
    audits = AuditEvent.objects.count()
    rows = [
        {**ROWS[0], "rate": "2.00"},
        ROWS[1],
        {"currency": "EUR", "rate_date": "2026-03-02", "rate": "-1"},
        {"currency": "CHF", "rate_date": "bad", "rate": "1.1"},
    ]

    error = bad_rows_error(scoped, rows)

    assert [item["index"] for item in error.errors] == [2, 3]
    assert error.total == 2
    assert ExchangeRate.objects.get(currency="EUR").rate == D("1.0834")
    assert not ExchangeRate.objects.filter(currency="GBP").exists()
    assert AuditEvent.objects.count() == audits


def test_bad_rows_listed_up_to_100(scoped):
    rows = [
        {"currency": "EUR", "rate_date": f"2026-0{1 + i % 9}-{1 + i % 28:02d}", "rate": "0"}
        for i in range(150)
    ]

    error = bad_rows_error(scoped, rows)

    assert len(error.errors) == fx.MAX_REPORTED_ROW_ERRORS
    assert error.total == 150
    assert "first 100" in error.message
    assert error.as_dict()["errors"][0]["field"] == "[0].rate"


def test_duplicate_key_in_batch_rejected(scoped):
    error = bad_rows_error(scoped, [ROWS[0], {**ROWS[0], "currency": "eur", "rate": "1.2"}])

    [item] = error.errors
    assert item["index"] == 1
    assert item["field"] == "[1].rate_date"
    assert "Row 0" in item["message"]


def test_empty_batch_rejected(scoped):
    with pytest.raises(DomainError) as raised:
        upsert(scoped, [])

    assert raised.value.field == "rows"


def test_non_object_row_rejected(scoped):
    error = bad_rows_error(scoped, ["EUR,2026-03-01,1.08"])

    assert error.errors[0]["field"] == "[0].row"


def test_base_currency_follows_tenant(db):
    tenant = TenantFactory(slug="yen-co", base_currency="JPY")
    with tenant_scope(tenant):
        result = upsert(tenant, [{"currency": "USD", "rate_date": "2026-03-01", "rate": "150.25"}])
        found = quote(tenant, "USD", datetime.date(2026, 3, 15))
        converted = fx.amount_convert(amount=D("10.01"), quote=found)
        error = bad_rows_error(
            tenant, [{"currency": "JPY", "rate_date": "2026-03-01", "rate": "1"}]
        )

    assert result.created == 1
    assert converted == D("1504")
    assert error.errors[0]["field"] == "[0].currency"


def test_delete_audited(scoped, admin_user):
    [stored] = upsert(scoped, ROWS[:1]).rates

    fx.exchange_rate_delete(tenant=scoped, rate_id=stored.pk, actor=admin_user)

    assert not ExchangeRate.objects.exists()
    event = AuditEvent.objects.get(event="exchange_rate.deleted")
    assert event.before["rate"] == "1.08340000"
    assert event.actor == admin_user
    with pytest.raises(fx.MissingExchangeRate):
        quote(scoped, "EUR", MARCH_1)


def test_delete_other_tenants_rate_not_found(tenant, other_tenant):
    with tenant_scope(other_tenant):
        theirs = rate("EUR", MARCH_1, "1.08")

    with tenant_scope(tenant), pytest.raises(NotFound):
        fx.exchange_rate_delete(tenant=tenant, rate_id=theirs.pk)

    assert ExchangeRate.all_tenants.filter(pk=theirs.pk).exists()


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["EUR", "GBP", "CHF"]),
            st.integers(min_value=0, max_value=40),
            st.decimals(min_value=D("0.0001"), max_value=D("500"), places=4),
        ),
        min_size=1,
        max_size=8,
        unique_by=lambda row: (row[0], row[1]),
    )
)
def test_lookup_matches_brute_force(scoped, rows):
    ExchangeRate.objects.all().delete()
    upsert(
        scoped,
        [
            {"currency": c, "rate_date": MARCH_1 + datetime.timedelta(days=d), "rate": r}
            for c, d, r in rows
        ],
    )
    for day in range(0, 80, 7):
        on_date = MARCH_1 + datetime.timedelta(days=day)
        candidates = sorted(
            (d, r) for c, d, r in rows if c == "EUR" and day - fx.MAX_RATE_AGE_DAYS <= d <= day
        )
        if candidates:
            assert quote(scoped, "EUR", on_date).rate == candidates[-1][1]
        else:
            with pytest.raises(fx.MissingExchangeRate):
                quote(scoped, "EUR", on_date)
