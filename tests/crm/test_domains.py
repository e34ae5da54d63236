import pytest

from crm.domains import InvalidDomain, normalize_domain


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
