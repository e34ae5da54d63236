"""Spreadsheet exports as they arrive: encodings, delimiters, locales and date formats."""

import codecs
import datetime
from decimal import Decimal

import pytest

from crm.importing import FileFormat, csv_import
from crm.models import Account, ImportRun

HEADER = "external_id,name,annual_revenue,churned_on"


def _import(tenant, content: bytes, **file_format):
    return csv_import(
        tenant=tenant,
        kind="accounts",
        content=content,
        filename="export.csv",
        file_format=FileFormat(**file_format),
    )


def _utf16_le_tabs() -> bytes:
    text = "external_id\tname\tannual_revenue\r\nA1\tMüller GmbH\t1234.5\r\n"
    return text.encode("utf-16")  # little-endian with its byte-order mark


def _utf16_be() -> bytes:
    text = "external_id,name\nA1,Müller GmbH\n"
    return codecs.BOM_UTF16_BE + text.encode("utf-16-be")


# (case id, file bytes, declared format, expected {external_id: {field: value}})
READABLE_FILES = [
    ("utf16-le-bom-tabs", _utf16_le_tabs(), {}, {"A1": {"name": "Müller GmbH"}}),
    ("utf16-be-bom", _utf16_be(), {}, {"A1": {"name": "Müller GmbH"}}),
    (
        "utf8-bom",
        codecs.BOM_UTF8 + "external_id,name\nA1,Café\n".encode(),
        {},
        {"A1": {"name": "Café"}},
    ),
    (
        "cp1252-euro-accent",
        "external_id,name\nA1,Café €uro\n".encode("cp1252"),
        {"encoding": "cp1252"},
        {"A1": {"name": "Café €uro"}},
    ),
    (
        "latin1",
        "external_id,name\nA1,Señor Ñu\n".encode("latin-1"),
        {"encoding": "latin-1"},
        {"A1": {"name": "Señor Ñu"}},
    ),
    (
        "semicolon-german-numbers",
        b"external_id;name;annual_revenue\nA1;Acme;1.234,56\nA2;Globex;12,5\n",
        {"locale": "de"},
        {"A1": {"annual_revenue": Decimal("1234.56")}, "A2": {"annual_revenue": Decimal("12.5")}},
    ),
    (
        "french-narrow-nbsp",
        "external_id;name;annual_revenue\nA1;Acme;1\u202f234\u202f567,89\nA2;B;2\u00a0000,5\n".encode(),
        {"locale": "fr"},
        {
            "A1": {"annual_revenue": Decimal("1234567.89")},
            "A2": {"annual_revenue": Decimal("2000.5")},
        },
    ),
    (
        "swiss-apostrophe",
        b"external_id,name,annual_revenue\nA1,Acme,1'234.56\n",
        {"locale": "ch"},
        {"A1": {"annual_revenue": Decimal("1234.56")}},
    ),
    (
        "unambiguous-numbers-without-locale",
        b'external_id,name,annual_revenue\nA1,Acme,"1,234.56"\nA2,B,1.234.567\nA3,C,"12,5"\n',
        {},
        {
            "A1": {"annual_revenue": Decimal("1234.56")},
            "A2": {"annual_revenue": Decimal("1234567")},
            "A3": {"annual_revenue": Decimal("12.5")},
        },
    ),
    (
        "quoted-multiline-with-delimiters",
        b'external_id,name\nA1,"Acme, Inc.\nBerlin ""HQ"""\nA2,Globex\n',
        {},
        {"A1": {"name": 'Acme, Inc.\nBerlin "HQ"'}, "A2": {"name": "Globex"}},
    ),
    (
        "trailing-empty-columns",
        b"external_id,name,,,\nA1,Acme,,,\nA2,Globex,,\n",
        {},
        {"A1": {"name": "Acme"}, "A2": {"name": "Globex"}},
    ),
    ("crlf", b"external_id,name\r\nA1,Acme\r\nA2,Globex\r\n", {}, {"A2": {"name": "Globex"}}),
    (
        "serial-dates",
        f"{HEADER}\nA1,Acme,,45000\nA2,B,,61\nA3,C,,59\nA4,D,,45000.75\n".encode(),
        {},
        {
            "A1": {"churned_on": datetime.date(2023, 3, 15)},
            "A2": {"churned_on": datetime.date(1900, 3, 1)},
            "A3": {"churned_on": datetime.date(1900, 2, 28)},
            "A4": {"churned_on": datetime.date(2023, 3, 15)},
        },
    ),
    (
        "mixed-date-formats",
        f"{HEADER}\nA1,Acme,,2025-01-05\nA2,B,,31.12.2025\nA3,C,,25/12/2025\nA4,D,,12/25/2025\n".encode(),
        {},
        {
            "A1": {"churned_on": datetime.date(2025, 1, 5)},
            "A2": {"churned_on": datetime.date(2025, 12, 31)},
            "A3": {"churned_on": datetime.date(2025, 12, 25)},
            "A4": {"churned_on": datetime.date(2025, 12, 25)},
        },
    ),
    (
        "declared-day-first",
        f"{HEADER}\nA1,Acme,,03/04/2026\n".encode(),
        {"date_order": "DMY"},
        {"A1": {"churned_on": datetime.date(2026, 4, 3)}},
    ),
    (
        "declared-month-first",
        f"{HEADER}\nA1,Acme,,03/04/2026\n".encode(),
        {"date_order": "MDY"},
        {"A1": {"churned_on": datetime.date(2026, 3, 4)}},
    ),
    (
        "blank-lines",
        b"external_id,name\n\nA1,Acme\n,\n\r\nA2,Globex\n\n",
        {},
        {"A1": {"name": "Acme"}, "A2": {"name": "Globex"}},
    ),
    (
        "unknown-column-ignored-by-mapping",
        b"external_id,name,Notes\nA1,Acme,call back\n",
        {"mapping": {"Notes": ""}},
        {"A1": {"name": "Acme"}},
    ),
    (
        "declared-delimiter",
        b"external_id|name\nA1|Acme, Inc.\n",
        {"delimiter": "|"},
        {"A1": {"name": "Acme, Inc."}},
    ),
]


@pytest.mark.parametrize(
    ("content", "file_format", "expected"),
    [case[1:] for case in READABLE_FILES],
    ids=[case[0] for case in READABLE_FILES],
)
def test_messy_file_imports(scoped, content, file_format, expected):
    run = _import(scoped, content, **file_format)

    assert run.errors == []
    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.rows_created == Account.objects.count()
    for external_id, fields in expected.items():
        account = Account.objects.get(external_id=external_id)
        for name, value in fields.items():
            assert getattr(account, name) == value, name


# (case id, file bytes, declared format, line, column, part of the message)
REJECTED_FILES = [
    (
        "ambiguous-number",
        b'external_id,name,annual_revenue\nA1,Acme,"1,234"\n',
        {},
        2,
        "annual_revenue",
        "declare the file's number locale",
    ),
    (
        "ambiguous-number-dot",
        b"external_id,name,annual_revenue\nA1,Acme,1.234\n",
        {},
        2,
        "annual_revenue",
        "'1.234' is a thousand times larger",
    ),
    (
        "number-not-in-declared-locale",
        b"external_id,name,annual_revenue\nA1,Acme,1234.56\n",
        {"locale": "de"},
        2,
        "annual_revenue",
        "written as in locale 'de'",
    ),
    (
        "ambiguous-date",
        f"{HEADER}\nA1,Acme,,03/04/2026\n".encode(),
        {},
        2,
        "churned_on",
        "declare the file's date format (DMY or MDY)",
    ),
    (
        "day-first-date-with-month-first-declared",
        f"{HEADER}\nA1,Acme,,25/12/2026\n".encode(),
        {"date_order": "MDY"},
        2,
        "churned_on",
        "a day that exists",
    ),
    (
        "serial-60-leap-bug",
        f"{HEADER}\nA1,Acme,,60\n".encode(),
        {},
        2,
        "churned_on",
        "1900-02-29",
    ),
    (
        "serial-out-of-range",
        f"{HEADER}\nA1,Acme,,99999\n".encode(),
        {},
        2,
        "churned_on",
        "a serial date between 1 and 73415",
    ),
    (
        "cp1252-undeclared",
        "external_id,name\nA1,Acme\nA2,Café\n".encode("cp1252"),
        {},
        3,
        "",
        "line 3 has invalid bytes at byte 31",
    ),
    (
        "duplicate-headers",
        b"external_id,name,name\nA1,Acme,Acme\n",
        {},
        1,
        "name",
        "appears twice",
    ),
    (
        "unknown-column",
        b"external_id,name,Notes\nA1,Acme,x\n",
        {},
        1,
        "Notes",
        "map it to one of them in the source's column mapping",
    ),
    ("empty-file", b"", {}, 1, "", "The file is empty"),
    ("blank-header", b"\n\n", {}, 1, "", "The file is empty"),
    (
        "extra-cells",
        b"external_id,name\nA1,Acme,surplus\n",
        {},
        2,
        "",
        "the header has 2",
    ),
    (
        "unclosed-quote",
        b'external_id,name\nA1,"Acme\n',
        {},
        2,
        "",
        "close every quote",
    ),
]


@pytest.mark.parametrize(
    ("content", "file_format", "line", "column", "message_part"),
    [case[1:] for case in REJECTED_FILES],
    ids=[case[0] for case in REJECTED_FILES],
)
def test_messy_file_rejected(scoped, content, file_format, line, column, message_part):
    run = _import(scoped, content, **file_format)

    assert run.status == ImportRun.Status.FAILED
    assert run.errors[0]["line"] == line
    assert run.errors[0]["column"] == column
    assert message_part in run.errors[0]["message"]
    assert Account.objects.count() == 0


def test_undeclared_cp1252_suggests_encoding(scoped):
    content = "external_id,name\nA1,Café au lait, crème brûlée\n".encode("cp1252")

    run = _import(scoped, content)

    message = run.errors[0]["message"]
    assert "Declare the file's encoding, most likely" in message
    assert run.errors[0]["value"].startswith("e9")


def test_header_only_file_imports_nothing(scoped):
    run = _import(scoped, b"external_id,name\n")

    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.rows_total == 0
    assert Account.objects.count() == 0


def test_missing_required_column_names_mapping(scoped):
    run = _import(scoped, b"Account ID,Company\nA1,Acme\n", mapping={"Company": "name"})

    assert run.status == ImportRun.Status.FAILED
    messages = [error["message"] for error in run.errors]
    assert any("Unknown column 'Account ID'" in message for message in messages)
    assert any(
        "Required column 'external_id' is missing" in message and "column mapping" in message
        for message in messages
    )


def test_utf16_file_longer_than_sniff_sample(scoped):
    lines = ["external_id\tname"] + [
        f"A{number}\tCompany {number} ünd Söhne" for number in range(4000)
    ]
    content = "\r\n".join(lines).encode("utf-16") + "\r\n".encode("utf-16-le")

    run = _import(scoped, content)

    assert run.errors == []
    assert run.rows_created == 4000
    assert Account.objects.get(external_id="A3999").name == "Company 3999 ünd Söhne"


def test_cp1252_file_longer_than_sniff_sample(scoped):
    lines = ["external_id;name"] + [f"A{number};Café {number}" for number in range(6000)]
    content = ("\n".join(lines) + "\n").encode("cp1252")

    run = _import(scoped, content, encoding="cp1252")

    assert run.errors == []
    assert run.rows_created == 6000
