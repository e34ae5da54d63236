"""The pure overlap-score formula: share, coverage, the coverage cap, points and rounding."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from partners.overlap import FORMULA, PART_KEYS, overlap_parts, overlap_score


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # 60 × 2/4 + 40 × min(1, (1/3) / 0.25) = 30 + 40
        pytest.param(
            (2, 4, 1, 3),
            (Decimal("0.5000"), Decimal("0.3333"), Decimal("30.00"), Decimal("40.00"), 70),
            id="coverage-capped",
        ),
        # 60 × 1/3 + 40 × (1/10) / 0.25 = 20 + 16
        pytest.param(
            (1, 3, 1, 10),
            (Decimal("0.3333"), Decimal("0.1000"), Decimal("20.00"), Decimal("16.00"), 36),
            id="both-partial",
        ),
        # 60 × 1/8 + 40 × (1/32) / 0.25 = 7.5 + 5 = 12.5, rounded half to even
        pytest.param(
            (1, 8, 1, 32),
            (Decimal("0.1250"), Decimal("0.0312"), Decimal("7.50"), Decimal("5.00"), 12),
            id="half-to-even-down",
        ),
        # 60 × 1/8 + 40 × 0 = 7.5, rounded half to even
        pytest.param(
            (1, 8, 0, 40),
            (Decimal("0.1250"), Decimal("0.0000"), Decimal("7.50"), Decimal("0.00"), 8),
            id="half-to-even-up",
        ),
        pytest.param(
            (0, 0, 0, 0),
            (Decimal("0.0000"), Decimal("0.0000"), Decimal("0.00"), Decimal("0.00"), 0),
            id="zero-reach",
        ),
        # Assessed reach that is all off-profile, with targets the reach misses.
        pytest.param(
            (0, 5, 0, 5),
            (Decimal("0.0000"), Decimal("0.0000"), Decimal("0.00"), Decimal("0.00"), 0),
            id="all-off-profile",
        ),
        pytest.param(
            (5, 5, 5, 5),
            (Decimal("1.0000"), Decimal("1.0000"), Decimal("60.00"), Decimal("40.00"), 100),
            id="all-on-profile",
        ),
        # Exactly a quarter of the targets earns all 40.
        pytest.param(
            (0, 1, 1, 4),
            (Decimal("0.0000"), Decimal("0.2500"), Decimal("0.00"), Decimal("40.00"), 40),
            id="coverage-at-full-share",
        ),
        # The score comes from unrounded parts: 60 × 2/3 + 40 × (1/7)/0.25 = 40 + 22.857.
        pytest.param(
            (2, 3, 1, 7),
            (Decimal("0.6667"), Decimal("0.1429"), Decimal("40.00"), Decimal("22.86"), 63),
            id="unrounded-parts",
        ),
    ],
)
def test_overlap_score_formula(counts, expected):
    score = overlap_score(*counts)

    assert score.share == expected[0]
    assert score.coverage == expected[1]
    assert score.on_profile_points == expected[2]
    assert score.coverage_points == expected[3]
    assert score.points == expected[4]
    assert isinstance(score.points, int)


def stored_score(**values) -> SimpleNamespace:
    fields = {
        "reach_count": 10,
        "matched_count": 6,
        "on_profile_count": 4,
        "on_profile_share": Decimal("0.5000"),
        "target_count": 12,
        "target_overlap_count": 3,
        "target_coverage": Decimal("0.2500"),
        "pipeline_overlap_count": 2,
        "pipeline_overlap_amount": Decimal("1500.00"),
        "customer_overlap_count": 1,
        "fit_weighted_reach": Decimal("4.20"),
        "fit_weighted_per_entry": Decimal("0.4200"),
        "on_profile_points": Decimal("30.00"),
        "coverage_points": Decimal("40.00"),
    }
    return SimpleNamespace(**{**fields, **values})


def test_overlap_parts_points_add_up():
    parts = overlap_parts(stored_score())

    assert [part.key for part in parts] == list(PART_KEYS)
    by_key = {part.key: part for part in parts}
    assert (by_key["on_profile"].points, by_key["on_profile"].max_points) == (Decimal("30.00"), 60)
    assert (by_key["target_overlap"].points, by_key["target_overlap"].max_points) == (
        Decimal("40.00"),
        40,
    )
    assert sum(part.max_points for part in parts) == 100
    assert sum(part.points for part in parts) == Decimal("70.00")
    assert by_key["pipeline_overlap"].total == Decimal("1500.00")
    assert by_key["fit_weighted_reach"].total == Decimal("4.20")
    assert "12 tier A/B accounts" in by_key["target_overlap"].rule


def test_formula_names_both_parts():
    assert FORMULA == (
        "Overlap score = 60 × on-profile share + 40 × min(1, target coverage / 0.25), "
        "rounded to a whole number."
    )
