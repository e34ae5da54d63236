"""The filter form of the delivery log page and the endpoint form."""

from __future__ import annotations

from django import forms

from tenancy.errors import DomainError
from tenancy.form_errors import validation_error
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint
from webhooks.services import url_validate


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


EVENT_TYPE_CHOICES = [
    (value, f"{value}: {label}") for value, label in EventType.choices if value != EventType.PING
]


class EndpointForm(forms.Form):
    """The fields of an endpoint that an admin enters.

    `clean_url` runs the service's URL check, so a rejected URL shows together with
    the form's other errors. The service checks the URL again before it writes.
    """

    url = forms.CharField(
        label="URL",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/track360"}),
        help_text="The http or https address that receives the signed POSTs. Its host must "
        "resolve only to public addresses.",
    )
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=EVENT_TYPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event to send to this endpoint."},
    )
    description = forms.CharField(
        max_length=200,
        required=False,
        help_text="What receives the events, such as 'ERP sync'. Optional.",
    )
    is_active = forms.BooleanField(
        label="Active",
        required=False,
        initial=True,
        help_text="An inactive endpoint gets nothing, and deliveries that fall due while it "
        "is inactive are marked dead.",
    )

    def clean_url(self) -> str:
        try:
            return url_validate(self.cleaned_data["url"])
        except DomainError as error:
            raise validation_error(error) from None
