"""Property-based requests from the OpenAPI schema against the app, in process.

Schemathesis builds requests from /api/schema/ and sends them through Django's
WSGI handler (no network) with the API key of a tenant filled by
`program_create`. Every response must not be a 5xx, and a response whose status
the schema documents must match its documented body.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.web.data import program_create

# Examples per operation. Reads get more because they are cheap and their query
# parameters vary most; writes fewer to bound the run.
READ_EXAMPLES = 6
WRITE_EXAMPLES = 3
# Invalid requests (wrong types, missing fields) per operation; they must get a 4xx.
INVALID_EXAMPLES = 2
VALID_CHECKS = [not_a_server_error, response_schema_conformance]
INVALID_CHECKS = [not_a_server_error]
# Valid requests per operation on an object that exists, so a detail or action
# runs past its 404.
SEEDED_EXAMPLES = 2

# Path before {id} → attribute of `program_create`'s result that the id names.
SEEDED_OBJECTS = {
    "/api/v1/accounts/": "account",
    "/api/v1/billing/connections/": "billing_connection",
    "/api/v1/billing/events/": "billing_event",
    "/api/v1/commission-plans/": "plan",
    "/api/v1/deals/": "deal",
    "/api/v1/exchange-rates/": "exchange_rate",
    "/api/v1/fraud-signals/": "fraud_signal",
    "/api/v1/icp/versions/": "version",
    "/api/v1/imports/": "run",
    "/api/v1/jobs/": "job",
    "/api/v1/ledger/": "entry",
    "/api/v1/links/": "link",
    "/api/v1/mdf/budgets/": "mdf_budget",
    "/api/v1/mdf/proofs/": "mdf_proof",
    "/api/v1/mdf/requests/": "mdf_request",
    "/api/v1/partners/": "partner",
    "/api/v1/payouts/": "payout",
    "/api/v1/recalculations/": "recalculation",
    "/api/v1/referrals/": "referral",
    "/api/v1/revenue-events/": "revenue_event",
    "/api/v1/webhooks/deliveries/": "webhook_delivery",
    "/api/v1/webhooks/endpoints/": "webhook_endpoint",
}
# Routes that only an admin's session may use: every API key gets 403, so there is
# no stored object worth aiming at.
SESSION_ONLY_PREFIXES = ("/api/v1/api-keys/",)


@pytest.fixture
def api_schema(client, db):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = schemathesis.openapi.from_dict(response.json())
    # Partner-portal operations take a partner user's session, which an API key
    # never has; they answer 403 and are left out.
    return schema.exclude(path_regex=r"^/api/v1/portal/")


@pytest.fixture
def wsgi_app():
    """Return Django's WSGI handler, kept from closing the test's database connection.

    The handler closes old connections around each request, which would end the
    test's transaction; Django's own test client disconnects the same receivers.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _operations(schema):
    for result in schema.get_all_operations():
        yield result.ok()


def _run(
    operation,
    app,
    headers: dict,
    mode: GenerationMode,
    max_examples: int,
    path_parameters: dict | None = None,
) -> str | None:
    """Send `max_examples` generated requests for `operation`; return the failure, if any."""
    checks = VALID_CHECKS if mode == GenerationMode.POSITIVE else INVALID_CHECKS
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):
        case.call_and_validate(app=app, headers=headers, checks=checks)

    try:
        check()
    except Unsatisfiable:
        # An operation without parameters or body has no invalid request to send.
        if mode == GenerationMode.NEGATIVE:
            return None
        raise
    except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - collected and reported
        label = f"{mode.value}, id {path_parameters['id']}" if path_parameters else mode.value
        return f"{operation.method.upper()} {operation.path} ({label}): {error}"
    return None


@pytest.mark.django_db
def test_api_answers_generated_requests(api_schema, wsgi_app, tenant, api_key):
    program = program_create(tenant, label="Acme")
    app = wsgi_app
    headers = {"Authorization": f"Api-Key {api_key}"}

    failures = []
    for operation in _operations(api_schema):
        examples = READ_EXAMPLES if operation.method.lower() == "get" else WRITE_EXAMPLES
        runs = [(GenerationMode.POSITIVE, examples), (GenerationMode.NEGATIVE, INVALID_EXAMPLES)]
        for mode, max_examples in runs:
            failure = _run(operation, app, headers, mode, max_examples)
            if failure:
                failures.append(failure)
        if "{id}" in operation.path:
            prefix = operation.path[: operation.path.index("{id}")]
            if prefix in SESSION_ONLY_PREFIXES:
                continue
            seeded = {"id": getattr(program, SEEDED_OBJECTS[prefix]).pk}
            failure = _run(
                operation, app, headers, GenerationMode.POSITIVE, SEEDED_EXAMPLES, seeded
            )
            if failure:
                failures.append(failure)

    assert not failures, "\n\n".join(failures)
