"""Form of the ICP list page that starts learning a draft from closed deals."""

from __future__ import annotations

from django import forms

from icp.learning.weighting import WEIGHTING_LABELS, WEIGHTING_NONE
from icp.models import IcpVersion


class LearnForm(forms.Form):
    weighting = forms.ChoiceField(
        label="Weighting",
        choices=list(WEIGHTING_LABELS.items()),
        initial=WEIGHTING_NONE,
        help_text=(
            "By value, a won deal counts by its amount over the median won amount, "
            "between 0.2 and 5 times. With churn, a won deal whose account churned within "
            "365 days counts as lost."
        ),
    )
    name = forms.CharField(
        label="Name",
        required=False,
        max_length=IcpVersion._meta.get_field("name").max_length,
        help_text="Optional. Without one, the draft is named after its number of closed deals.",
    )
