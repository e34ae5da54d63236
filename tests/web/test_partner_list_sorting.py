"""The partner list as a leaderboard: sort links, filters, bad input and tenant isolation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from partners.models import Partner, PartnerScore
from reporting.models import PartnerRollup
from tenancy.scope import tenant_scope
from tests.factories import PartnerFactory

PARTNERS = reverse("partners:partner_list")


def partner(tenant, name, *, overlap=None, won_revenue=None, **values):
    with tenant_scope(tenant):
        created = PartnerFactory(name=name, **values)
        if overlap is not None:
            PartnerScore.objects.create(
                partner=created,
                overlap_score=overlap,
                reach_count=overlap * 2,
                segment=PartnerScore.Segment.GROW if overlap >= 50 else "nurture",
            )
        if won_revenue is not None:
            PartnerRollup.objects.create(
                partner=created,
                won_deals=1,
                won_revenue=Decimal(won_revenue),
                on_profile_revenue=Decimal(won_revenue),
            )
    return created


@pytest.fixture
def board(tenant, other_tenant):
    return {
        "alpha": partner(
            tenant, "alpha Labs", overlap=30, won_revenue="500.00", status=Partner.Status.PROSPECT
        ),
        "bravo": partner(
            tenant,
            "Bravo Partners",
            overlap=80,
            won_revenue="100.00",
            status=Partner.Status.ACTIVE,
            kind=Partner.Kind.RESELLER,
        ),
        "charlie": partner(tenant, "Charlie Co", status=Partner.Status.PAUSED),
        "delta": partner(
            tenant, "Delta Group", overlap=55, won_revenue="900.00", status=Partner.Status.ACTIVE
        ),
        "stranger": partner(other_tenant, "Globex Partners", overlap=99, won_revenue="9999.00"),
    }


def names(response) -> list[str]:
    return [row.name for row in response.context["page"].object_list]


def first_words(response) -> list[str]:
    return [name.split()[0].lower() for name in names(response)]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        pytest.param("", ["bravo", "delta", "alpha", "charlie"], id="default"),
        pytest.param("-score", ["bravo", "delta", "alpha", "charlie"], id="score-desc"),
        pytest.param("score", ["alpha", "delta", "bravo", "charlie"], id="score-asc"),
        pytest.param("-won_revenue", ["delta", "alpha", "bravo", "charlie"], id="revenue-desc"),
        pytest.param("won_revenue", ["charlie", "bravo", "alpha", "delta"], id="revenue-asc"),
        pytest.param("-reach", ["bravo", "delta", "alpha", "charlie"], id="reach-desc"),
        pytest.param("name", ["alpha", "bravo", "charlie", "delta"], id="name-asc"),
        pytest.param("-name", ["delta", "charlie", "bravo", "alpha"], id="name-desc"),
    ],
)
def test_sort_orders_rows(staff_client, board, sort, expected):
    response = staff_client.get(PARTNERS, {"sort": sort} if sort else {})

    assert response.status_code == 200
    assert first_words(response) == expected


def test_sorted_header_has_aria_sort(staff_client, board):
    content = staff_client.get(PARTNERS, {"sort": "-won_revenue"}).content.decode()

    assert content.count("aria-sort=") == 1
    assert (
        '<th class="num" aria-sort="descending"><a class="sort" href="?sort=won_revenue">'
        in content
    )
    # Numeric columns sort highest first on the first click.
    assert 'href="?sort=-score"' in content
    assert 'href="?sort=name"' in content


def test_default_order_marks_score(staff_client, board):
    content = staff_client.get(PARTNERS).content.decode()

    assert content.count("aria-sort=") == 1
    assert '<th class="num" aria-sort="descending"><a class="sort" href="?sort=score">' in content


def test_sort_links_keep_filters(staff_client, board):
    content = staff_client.get(
        PARTNERS, {"status": "active", "q": "a", "sort": "score", "page": "1"}
    ).content.decode()

    assert 'href="?status=active&amp;q=a&amp;sort=-score"' in content
    assert 'href="?status=active&amp;q=a&amp;sort=-won_revenue"' in content
    # The filter form carries the sort to the next search.
    assert '<input type="hidden" name="sort" value="score">' in content


def test_pagination_keeps_filters_and_sort(staff_client, tenant):
    for index in range(27):
        partner(tenant, f"Reseller {index:02}", kind=Partner.Kind.RESELLER)
    partner(tenant, "Affiliate Only", kind=Partner.Kind.AFFILIATE)

    response = staff_client.get(PARTNERS, {"kind": "reseller", "sort": "-name"})

    content = response.content.decode()
    assert 'href="?kind=reseller&amp;sort=-name&amp;page=2"' in content
    assert names(response)[0] == "Reseller 26"
    second = staff_client.get(PARTNERS, {"kind": "reseller", "sort": "-name", "page": "2"})
    assert names(second) == ["Reseller 01", "Reseller 00"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({"status": "active"}, ["Bravo Partners", "Delta Group"], id="status"),
        pytest.param({"kind": "reseller"}, ["Bravo Partners"], id="kind"),
        pytest.param({"segment": "grow"}, ["Bravo Partners", "Delta Group"], id="segment"),
        pytest.param({"q": "ALPHA"}, ["alpha Labs"], id="search-name"),
        pytest.param({"q": "partners"}, ["Bravo Partners"], id="search-other-tenant-hidden"),
        pytest.param({"status": "active", "q": "delta"}, ["Delta Group"], id="combined"),
    ],
)
def test_filters(staff_client, board, filters, expected):
    response = staff_client.get(PARTNERS, filters)

    assert response.status_code == 200
    assert names(response) == expected


def test_search_matches_external_id(staff_client, tenant):
    partner(tenant, "Named Differently", external_id="ext-findme-7")
    partner(tenant, "Someone Else")

    response = staff_client.get(PARTNERS, {"q": "findme"})

    assert names(response) == ["Named Differently"]


def test_no_match_says_how_to_clear(staff_client, board):
    content = staff_client.get(PARTNERS, {"status": "terminated"}).content.decode()

    assert "No partner matches these filters." in content
    assert f'<a href="{PARTNERS}">Clear the filters</a>' in content


def test_bad_sort_is_a_clear_error(staff_client, board):
    response = staff_client.get(PARTNERS, {"sort": "-password", "status": "active"})

    content = response.content.decode()
    assert response.status_code == 400
    assert "Unknown sort “-password”." in content
    assert (
        "Use one of name, score, reach, matched, on_profile_share, target_coverage, "
        "won_deals, won_revenue, on_profile_revenue, commission"
    ) in content
    # The valid filter still applies, in the default order.
    assert names(response) == ["Bravo Partners", "Delta Group"]


@pytest.mark.parametrize(
    "filters",
    [{"status": "sleeping"}, {"kind": "pirate"}, {"segment": "gold"}],
    ids=["status", "kind", "segment"],
)
def test_bad_filter_value_is_an_error(staff_client, board, filters):
    response = staff_client.get(PARTNERS, filters)

    ((field, value),) = filters.items()
    label = field.capitalize()
    content = response.content.decode()
    assert response.status_code == 400
    assert (
        f'<p class="field-error" id="id_{field}_error">{label}: “{value}” is not a {field}. '
        "Choose one from the list.</p>"
    ) in content
    assert f'aria-describedby="id_{field}_error"' in content
    assert f"<strong>{field}</strong>" not in content


def test_other_tenant_never_listed(staff_client, board):
    for params in [{}, {"sort": "-score"}, {"sort": "-won_revenue"}, {"q": "Globex"}]:
        response = staff_client.get(PARTNERS, params)

        assert "Globex Partners" not in response.content.decode(), params
        assert board["stranger"].pk not in [row.pk for row in response.context["page"].object_list]


def test_bad_sort_named_by_label(staff_client, board):
    content = staff_client.get(PARTNERS, {"sort": "-password"}).content.decode()

    assert "<strong>Sort order</strong>: Unknown sort “-password”." in content
    assert "<strong>sort</strong>" not in content


def test_long_search_error_beside_field(staff_client, board):
    response = staff_client.get(PARTNERS, {"q": "x" * 101})

    content = response.content.decode()
    assert response.status_code == 400
    assert '<input type="search" name="q"' in content
    assert 'aria-describedby="id_q_error"' in content
    assert (
        '<p class="field-error" id="id_q_error">Name or external id: Ensure this value has at '
        "most 100 characters (it has 101).</p>"
    ) in content
