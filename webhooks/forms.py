"""The filter form of the delivery log page."""

from __future__ import annotations

from django import forms

from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint


class DeliveryFilterForm(forms.Form):
    endpoint = forms.ModelChoiceField(
        queryset=WebhookEndpoint.objects.none(), required=False, empty_label="Any endpoint"
    )
    status = forms.ChoiceField(
        choices=[("", "Any status"), *WebhookDelivery.Status.choices], required=False
    )
    type = forms.ChoiceField(choices=[("", "Any event"), *EventType.choices], required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request, inside the tenant scope the middleware activated.
        self.fields["endpoint"].queryset = WebhookEndpoint.objects.order_by("pk")
