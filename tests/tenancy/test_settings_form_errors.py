"""Every form on the settings page shows its errors next to the field they are about."""

from __future__ import annotations

import pytest

ATTRIBUTION = {"attribution_window_days": "365", "attribution_touch": "first", "link_domains": ""}


@pytest.mark.parametrize(
    ("url", "data", "field", "message"),
    [
        pytest.param(
            "/settings/icp-review/",
            {"icp_review_days": "soon"},
            "icp_review_days",
            "&#x27;soon&#x27; is not a whole number of days.",
            id="review-not-a-number",
        ),
        pytest.param(
            "/settings/icp-review/",
            {"icp_review_days": "100000"},
            "icp_review_days",
            "100000",
            id="review-out-of-range",
        ),
        pytest.param(
            "/settings/max-commission-share/",
            {"max_commission_share": "lots"},
            "max_commission_share",
            "&#x27;lots&#x27; is not a decimal number.",
            id="share-not-a-number",
        ),
        pytest.param(
            "/settings/max-commission-share/",
            {"max_commission_share": "1.5"},
            "max_commission_share",
            "1.5",
            id="share-out-of-range",
        ),
        pytest.param(
            "/settings/mapping-visibility/",
            {"mapping_visibility": "everything"},
            "mapping_visibility",
            "everything is not one of the available choices.",
            id="visibility-unknown",
        ),
        pytest.param(
            "/settings/attribution/",
            {**ATTRIBUTION, "attribution_window_days": "0"},
            "attribution_window_days",
            "greater than or equal to 1",
            id="window-too-short",
        ),
        pytest.param(
            "/settings/attribution/",
            {**ATTRIBUTION, "attribution_touch": "middle"},
            "attribution_touch",
            "middle is not one of the available choices.",
            id="touch-unknown",
        ),
        pytest.param(
            "/settings/attribution/",
            {**ATTRIBUTION, "link_domains": "localhost"},
            "link_domains",
            "Link host &#x27;localhost&#x27;",
            id="link-host-invalid",
        ),
    ],
)
def test_error_shown_at_its_field(staff_client, url, data, field, message):
    response = staff_client.post(url, data)

    content = response.content.decode()
    assert response.status_code == 400
    error_start = content.index(f'id="id_{field}_error"')
    form_start = content.rindex("<form", 0, error_start)
    form_end = content.index("</form>", error_start)
    input_at = content.index(f'name="{field}"', form_start)
    assert form_start < input_at < error_start < form_end
    error = content[error_start : content.index("</p>", error_start)]
    assert message in error
    assert 'class="warning"' not in content[form_start:form_end]
