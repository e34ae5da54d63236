"""The exchange rates page: list and filter rates, add one, import CSV, delete."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from commissions import fx
from commissions.fx_models import ExchangeRate
from crm.importing import csv_import, upload_size_check
from crm.models import ImportRun
from tenancy.confirmation import Question, ask_unless_confirmed
from tenancy.errors import DomainError
from tenancy.permissions import editor_required, page_permissions, staff_required
from tenancy.shortcuts import get_for_tenant_or_404

RATES_PER_PAGE = 50


class ExchangeRateForm(forms.Form):
    currency = forms.CharField(max_length=3, help_text="ISO 4217 code, such as EUR.")
    rate_date = forms.DateField(
        label="Rate date",
        help_text="The date the rate applies from.",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a real date, such as 2017-03-01."},
    )
    rate = forms.CharField(max_length=40, help_text="Units of the base currency per 1 unit.")
    source = forms.CharField(max_length=fx.SOURCE_MAX_LENGTH, required=False, initial="manual")


class ExchangeRateCsvForm(forms.Form):
    file = forms.FileField(required=False, label="CSV file")
    text = forms.CharField(required=False, widget=forms.Textarea, label="Or paste CSV")

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        text = data.get("text", "")
        if upload is None and not text.strip():
            raise forms.ValidationError("Choose a CSV file or paste CSV lines.")
        if upload is not None:
            try:
                upload_size_check(upload)
            except DomainError as error:
                raise forms.ValidationError(f"{error.message} {error.fix}") from None
        elif len(text.encode()) > settings.TRACK360_MAX_IMPORT_BYTES:
            raise forms.ValidationError(
                f"The pasted text is larger than {settings.TRACK360_MAX_IMPORT_BYTES} bytes: "
                "upload it as a file in parts."
            )
        return data


def _page_url(currency: str = "") -> str:
    url = reverse("commissions:exchange_rates")
    return f"{url}?currency={currency}" if currency else url


@staff_required
def exchange_rates(request):
    return _render_rates(request)


def _render_rates(request, form: ExchangeRateForm | None = None, *, status: int = 200):
    currency = request.GET.get("currency", "").strip().upper()[:3]
    rates = fx.exchange_rate_list(currency=currency or None)
    context = {
        "page": Paginator(rates, RATES_PER_PAGE).get_page(request.GET.get("page")),
        "currency": currency,
        "currencies": ExchangeRate.objects.order_by("currency")
        .values_list("currency", flat=True)
        .distinct(),
        "base_currency": request.tenant.base_currency,
        "max_age_days": fx.MAX_RATE_AGE_DAYS,
        "form": form or ExchangeRateForm(),
        "csv_form": ExchangeRateCsvForm(),
        **page_permissions(request.membership),
    }
    return render(request, "commissions/exchange_rates.html", context, status=status)


@editor_required
@require_POST
def exchange_rate_add(request):
    form = ExchangeRateForm(request.POST)
    if not form.is_valid():
        return _render_rates(request, form, status=400)
    try:
        result = fx.exchange_rates_upsert(
            tenant=request.tenant, rows=[form.cleaned_data], actor=request.user, source="manual"
        )
    except DomainError as error:
        # One row was sent, so each of its errors belongs to a field of this form.
        for row_error in getattr(error, "errors", None) or [
            {"field": error.field, "message": f"{error.message} {error.fix}"}
        ]:
            # Batch errors name the field as "[0].currency".
            field = (row_error.get("field") or "").rpartition(".")[2] or None
            text = f"{row_error['message']} {row_error.get('fix', '')}".strip()
            form.add_error(field if field in form.fields else None, text)
        return _render_rates(request, form, status=400)
    rate = result.rates[0]
    if result.created:
        done = "Added"
    elif result.updated:
        done = "Updated"
    else:
        done = "Kept"
    messages.success(
        request, f"{done} the {rate.currency} rate of {rate.rate_date:%Y-%m-%d}: {rate.rate}."
    )
    return redirect(_page_url(rate.currency))


@editor_required
@require_POST
def exchange_rate_import(request):
    form = ExchangeRateCsvForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("commissions:exchange_rates")
    upload = form.cleaned_data.get("file")
    if upload is not None:
        content, filename = upload.read(), upload.name
    else:
        content, filename = form.cleaned_data["text"].encode(), "pasted-exchange-rates.csv"
    run = csv_import(
        tenant=request.tenant,
        kind=ImportRun.Kind.EXCHANGE_RATES,
        content=content,
        filename=filename,
        strict=True,
        actor=request.user,
    )
    if run.status == ImportRun.Status.FAILED:
        messages.error(
            request, "The import failed and wrote nothing: fix the problems listed below."
        )
        return redirect("crm:import_detail", pk=run.pk)
    messages.success(
        request,
        f"Imported {run.rows_created} new rates; {run.rows_updated} were stored already "
        "and are now up to date.",
    )
    return redirect("commissions:exchange_rates")


@editor_required
@require_POST
def exchange_rate_delete(request, pk: int):
    rate = get_for_tenant_or_404(ExchangeRate, pk=pk)
    question = Question(
        f"Delete the {rate.currency} rate of {rate.rate_date:%Y-%m-%d}?",
        "Ledger entries booked with it keep their rate. Deals that close later use the "
        "nearest older rate, or wait for a rate if none is at most 31 days older.",
        "Delete rate",
    )
    if page := ask_unless_confirmed(request, question, cancel_url=_page_url(rate.currency)):
        return page
    fx.exchange_rate_delete(tenant=request.tenant, rate_id=rate.pk, actor=request.user)
    messages.success(
        request,
        f"Deleted the {rate.currency} rate of {rate.rate_date:%Y-%m-%d}. Ledger entries "
        "booked with it keep their rate.",
    )
    return redirect(_page_url(rate.currency))
