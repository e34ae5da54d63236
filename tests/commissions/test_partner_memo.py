"""Partner pages show entry memos without the program's internal segment names."""

from __future__ import annotations

from django.template import Context, Template

from commissions.templatetags.partner_memo import partner_memo


def test_segment_name_left_out():
    memo = "10% of 5,000.00 × 1.50 for tier A × 0.50 for the deprioritise segment"

    assert partner_memo(memo) == (
        "10% of 5,000.00 × 1.50 for tier A × 0.50 for your partner segment"
    )


def test_memo_without_segment_unchanged():
    assert partner_memo("Refund of 30% of deal D-1") == "Refund of 30% of deal D-1"
    assert partner_memo(None) == ""


def test_statement_template_uses_filter_for_portal():
    template = Template("{% load partner_memo %}{{ memo|partner_memo }}")

    text = template.render(Context({"memo": "× 1.00 for the strategic segment"}))

    assert text == "× 1.00 for your partner segment"
