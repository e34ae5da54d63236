import pytest

from crm.domains import InvalidDomain, domain_display, normalize_domain
from crm.freemail import is_personal_domain


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("www.Acme.co.uk.", "acme.co.uk", id="subdomain-and-trailing-dot"),
        pytest.param("https://www.Acme.co.uk./pricing?x=1", "acme.co.uk", id="url"),
        pytest.param("shop.example.com:8080", "example.com", id="port"),
        pytest.param("jane@mail.globex.com", "globex.com", id="email"),
        pytest.param("ACME.COM", "acme.com", id="upper-case"),
    ],
)
def test_normalize_domain_registrable(raw, expected):
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize("raw", ["acme", "localhost", "", "https://"])
def test_normalize_domain_rejects_no_suffix(raw):
    with pytest.raises(InvalidDomain):
        normalize_domain(raw)


# Tricky inputs and the stored key, or None when the value is rejected.
TRICKY_INPUTS = [
    ("  www.acme.io  ", "acme.io"),
    ("ACME.COM..", "acme.com"),
    ("http://user:secret@Shop.Acme.com:8443/x?y=1#z", "acme.com"),
    ("ftp://files.acme.org", "acme.org"),
    ("mailto:jane@acme.com", "acme.com"),
    ("jane.doe@sales.eu.acme.com.", "acme.com"),
    ("https://acme.com?email=someone@other.com", "acme.com"),
    ("acme.com/path@other.com", "acme.com"),
    ("acme.com#pricing", "acme.com"),
    ("a.b.acme.co.uk", "acme.co.uk"),
    ("www.acme.com.au", "acme.com.au"),
    ("shop.acme.co.jp", "acme.co.jp"),
    ("acme.com.br/contato", "acme.com.br"),
    ("münchen.de", "xn--mnchen-3ya.de"),
    ("www.xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
    ("jane@BÜCHER.ch", "xn--bcher-kva.ch"),
    ("пример.рф", "xn--e1afmkfd.xn--p1ai"),
    ("shop.example.рф", "example.xn--p1ai"),
    ("faß.de", "xn--fa-hia.de"),
    # Private suffixes are not registrable: the ICANN section of the list decides.
    ("acme.github.io", "github.io"),
    ("acme.blogspot.com", "blogspot.com"),
    ("acme.s3.amazonaws.com", "amazonaws.com"),
    ("co.uk", None),
    (".com", None),
    ("acme..com", None),
    ("-acme.com", None),
    ("acme-.com", None),
    ("acme_corp.com", None),
    ("not a domain", None),
    ("xn--zz.com", None),
    ("192.168.1.1", None),
    ("http://[::1]:80/", None),
    ("user@", None),
    ("acme.local", None),
    ("acme.invalid", None),
    ("acme.com\\foo", None),
    ("a" * 64 + ".com", None),
    (("a" * 60 + ".") * 5 + "com", None),
]


@pytest.mark.parametrize(("raw", "expected"), TRICKY_INPUTS, ids=[raw for raw, _ in TRICKY_INPUTS])
def test_normalize_domain_tricky_inputs(raw, expected):
    if expected is None:
        with pytest.raises(InvalidDomain):
            normalize_domain(raw)
    else:
        assert normalize_domain(raw) == expected


def test_normalize_domain_idn_forms_share_key():
    assert normalize_domain("München.de") == normalize_domain("xn--mnchen-3ya.de")


@pytest.mark.parametrize(
    ("domain", "personal"),
    [
        ("gmail.com", True),
        ("googlemail.com", True),
        ("yahoo.co.jp", True),
        ("yahoo.com", True),
        ("hotmail.co.uk", True),
        ("gmx.at", True),
        ("yandex.com.tr", True),
        ("web.de", True),
        ("proton.me", True),
        ("qq.com", True),
        ("163.com", True),
        ("GMAIL.COM.", True),
        ("acme.com", False),
        ("gmail.acme.com", False),
        ("mygmail.com", False),
        ("outlook.acme.io", False),
        ("", False),
    ],
)
def test_is_personal_domain(domain, personal):
    assert is_personal_domain(domain) is personal


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("xn--mnchen-3ya.de", "münchen.de"),
        ("xn--e1afmkfd.xn--p1ai", "пример.рф"),
        ("acme.co.uk", "acme.co.uk"),
        ("xn--zz.com", "xn--zz.com"),
    ],
)
def test_domain_display(stored, shown):
    assert domain_display(stored) == shown
