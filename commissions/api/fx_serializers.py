"""Query parameters and response shapes of the exchange rate API."""

from __future__ import annotations

from rest_framework import serializers

from commissions.fx import MAX_RATE_AGE_DAYS


class ExchangeRateFilterSerializer(serializers.Serializer):
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$", required=False, help_text="ISO 4217 code, such as EUR."
    )
    # "from" is a Python keyword, so the fields are named in `get_fields`.

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(
            required=False, help_text="Earliest rate_date, as YYYY-MM-DD."
        )
        fields["to"] = serializers.DateField(
            required=False, help_text="Latest rate_date, as YYYY-MM-DD."
        )
        return fields


class ExchangeRateInputSerializer(serializers.Serializer):
    """One rate; the endpoint also takes a list of these. The service checks every field."""

    currency = serializers.CharField(help_text="ISO 4217 code, not the tenant's base currency.")
    rate_date = serializers.DateField(help_text="The date the rate applies from.")
    rate = serializers.DecimalField(
        max_digits=18,
        decimal_places=8,
        help_text="Units of the tenant's base currency per 1 unit of currency; above 0.",
    )
    source = serializers.CharField(
        required=False, max_length=40, help_text='Such as "ECB"; "api" when left out.'
    )


class ExchangeRateOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    currency = serializers.CharField()
    rate_date = serializers.DateField()
    rate = serializers.DecimalField(
        max_digits=18,
        decimal_places=8,
        help_text="Units of the tenant's base currency per 1 unit of currency.",
    )
    source = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ExchangeRateUpsertSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField(help_text="Stored rates whose rate or source changed.")
    unchanged = serializers.IntegerField(help_text="Rows equal to the stored rate.")
    rates = ExchangeRateOutputSerializer(many=True, help_text="The batch's rates as stored.")


class ExchangeRateQuoteQuerySerializer(serializers.Serializer):
    currency = serializers.CharField(max_length=3, help_text="ISO 4217 code, such as EUR.")
    date = serializers.DateField(help_text="The day to convert on, as YYYY-MM-DD.")


class ExchangeRateQuoteSerializer(serializers.Serializer):
    currency = serializers.CharField()
    base_currency = serializers.CharField()
    rate = serializers.DecimalField(
        max_digits=18,
        decimal_places=8,
        help_text="Units of base_currency per 1 unit of currency; 1 for the base currency.",
    )
    rate_date = serializers.DateField(
        help_text=f"The stored rate's date, up to {MAX_RATE_AGE_DAYS} days before the date "
        "asked for; the date asked for when currency is the base currency."
    )
