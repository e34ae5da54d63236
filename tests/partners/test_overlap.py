"""The pure overlap-score formula: share, coverage, the coverage cap and rounding."""

from decimal import Decimal

import pytest

from partners.overlap import overlap_score


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # 60 × 2/4 + 40 × min(1, (1/3) / 0.25) = 30 + 40
        ((2, 4, 1, 3), (Decimal("0.5000"), Decimal("0.3333"), 70)),
        # 60 × 1/3 + 40 × (1/10) / 0.25 = 20 + 16
        ((1, 3, 1, 10), (Decimal("0.3333"), Decimal("0.1000"), 36)),
        # 60 × 1/8 + 40 × (1/32) / 0.25 = 7.5 + 5 = 12.5, rounded half to even
        ((1, 8, 1, 32), (Decimal("0.1250"), Decimal("0.0312"), 12)),
        # 60 × 1/8 + 40 × 0 = 7.5, rounded half to even
        ((1, 8, 0, 40), (Decimal("0.1250"), Decimal("0.0000"), 8)),
        ((0, 0, 0, 0), (Decimal("0.0000"), Decimal("0.0000"), 0)),
        ((5, 5, 5, 5), (Decimal("1.0000"), Decimal("1.0000"), 100)),
    ],
)
def test_overlap_score_formula(counts, expected):
    score = overlap_score(*counts)

    assert score.share == expected[0]
    assert score.coverage == expected[1]
    assert score.points == expected[2]
    assert isinstance(score.points, int)
