"""The ICP editor pages: write, edit, preview, copy, delete and activate versions."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from icp import services
from icp.models import IcpVersion
from icp.scoring import validate_criteria
from jobs.models import Job
from jobs.services import job_create
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory
from tests.icp.editor_data import CUTOFFS, EVERY_KIND
from tests.web.data import icp_version_create

NEW_URL = reverse("icp:version_new")
PREVIEW_URL = reverse("icp:version_preview")


class FormReader(HTMLParser):
    """Collect what a browser would post from the form with id `form_id`.

    Text and hidden inputs post their value, checkboxes post only when checked, and a
    select posts its selected option (else its first one). Inputs inside <template>
    are skipped, as browsers do.
    """

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.in_form = False
        self.in_template = 0
        self.select_name = None
        self.select_first = None
        self.data: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and attributes.get("id") == self.form_id:
            self.in_form = True
        if not self.in_form:
            return
        if tag == "template":
            self.in_template += 1
        if self.in_template:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind == "checkbox":
                if "checked" in attributes:
                    self.data[name] = attributes.get("value", "on")
            else:
                self.data[name] = attributes.get("value") or ""
        elif tag == "select":
            self.select_name, self.select_first = name, None
        elif tag == "option" and self.select_name:
            value = attributes.get("value", "")
            if self.select_first is None:
                self.select_first = value
                self.data[self.select_name] = value
            if "selected" in attributes:
                self.data[self.select_name] = value

    def handle_endtag(self, tag):
        if tag == "template" and self.in_form:
            self.in_template -= 1
        elif tag == "select":
            self.select_name = None
        elif tag == "form" and self.in_form:
            self.in_form = False


def form_data(response) -> dict[str, str]:
    reader = FormReader("icp-editor")
    reader.feed(response.content.decode())
    return reader.data


def row_data(index: int, **parts) -> dict[str, str]:
    """Return one criterion row as posted, with every input a browser sends."""
    defaults = {"key": "", "label": "", "kind": "category", "field": "industry", "values": "",
                "min": "", "max": "", "match": "any", "count": "", "trigger": "",
                "within_days": "", "weight": ""}  # fmt: skip
    data = {f"criteria-{index}-{part}": value for part, value in {**defaults, **parts}.items()}
    for flag in ("knockout", "negate", "remove"):
        if data.pop(f"criteria-{index}-{flag}", False):
            data[f"criteria-{index}-{flag}"] = "on"
    return data


def post_data(*rows: dict, name="Hand-written", cutoffs=("75", "50", "25")) -> dict:
    data = {"name": name}
    data.update({f"tier_cutoffs-{tier}": value for tier, value in zip("ABC", cutoffs, strict=True)})
    for row in rows:
        data.update(row)
    return data


EVERY_KIND_ROWS = [
    row_data(0, key="industry", kind="category", field="industry", values="software, fintech",
             weight="30"),
    row_data(1, key="size", kind="range", field="employees", min="100", max="1000", weight="20"),
    row_data(2, key="stack", label="Modern data stack", kind="tech_stack", field="tech_stack",
             values="python, postgres, redis", match="at_least", count="2", weight="20"),
    row_data(3, key="funding", kind="trigger", field="triggers", trigger="funding",
             within_days="180", weight="15"),
    row_data(4, key="budget", kind="willingness_to_pay", field="budget", min="10000.5",
             weight="15"),
    row_data(5, key="outside_us", kind="category", field="country", values="US", weight="10",
             negate=True),
    row_data(6, key="antarctica", kind="category", field="region", values="Antarctica",
             knockout=True),
]  # fmt: skip


def versions(tenant):
    with tenant_scope(tenant):
        return list(IcpVersion.objects.order_by("number"))


@pytest.fixture
def draft(program):
    with tenant_scope(program.tenant):
        return services.icp_version_create(
            tenant=program.tenant, name="Every kind", criteria=EVERY_KIND, tier_cutoffs=CUTOFFS
        )


def test_new_page_shows_blank_form(staff_client, program):
    response = staff_client.get(NEW_URL)

    assert response.status_code == 200
    data = form_data(response)
    assert data["name"] == ""
    assert data["tier_cutoffs-A"] == "75"
    assert data["criteria-0-key"] == ""
    assert "criteria-1-key" not in data
    page = response.content.decode()
    assert 'id="criterion-template"' in page
    assert "js/icp_editor.js" in page
    assert '<label for="criteria-0-min">' in page
    shown_for = set(re.findall(r'data-kinds="([^"]*)"', page))
    assert shown_for == {"category tech_stack", "range willingness_to_pay", "tech_stack", "trigger"}


def test_new_page_creates_every_kind(manager_client, program):
    response = manager_client.post(NEW_URL, post_data(*EVERY_KIND_ROWS, name="Every kind"))

    assert response.status_code == 302
    created = versions(program.tenant)[-1]
    assert response.url == reverse("icp:version_detail", args=[created.pk])
    assert created.status == IcpVersion.Status.DRAFT
    assert created.provenance == IcpVersion.Provenance.MANUAL
    assert created.criteria == validate_criteria(EVERY_KIND)
    assert created.tier_cutoffs == {"A": 75, "B": 50, "C": 25}


def test_edit_form_round_trips_every_kind(staff_client, draft):
    edit_url = reverse("icp:version_edit", args=[draft.pk])
    shown = form_data(staff_client.get(edit_url))

    copied = staff_client.post(NEW_URL, {**shown, "name": "Same again"})
    saved = staff_client.post(edit_url, shown)

    assert copied.status_code == 302
    assert saved.status_code == 302
    stored = versions(draft.tenant)
    assert stored[-1].name == "Same again"
    assert stored[-1].criteria == draft.criteria
    assert stored[-1].tier_cutoffs == CUTOFFS
    assert next(v for v in stored if v.pk == draft.pk).criteria == draft.criteria
    assert not AuditEvent.all_tenants.filter(event="icp_version.updated").exists()


def test_edit_saves_changes(staff_client, draft):
    edit_url = reverse("icp:version_edit", args=[draft.pk])
    data = form_data(staff_client.get(edit_url))
    data["criteria-1-max"] = "5000"
    data["criteria-0-remove"] = "on"
    data["name"] = "Bigger companies"

    response = staff_client.post(edit_url, data)

    assert response.status_code == 302
    stored = next(v for v in versions(draft.tenant) if v.pk == draft.pk)
    assert stored.name == "Bigger companies"
    assert [c["key"] for c in stored.criteria][:2] == ["size", "stack"]
    assert stored.criteria[0]["max"] == 5000


@pytest.mark.parametrize("typed", ["1,000", "1e3", "ten", "10 000"])
def test_strict_number_error_sits_next_to_input(staff_client, program, typed):
    rows = [row_data(0, key="size", kind="range", field="employees", min=typed, weight="10")]

    response = staff_client.post(NEW_URL, post_data(*rows))

    assert response.status_code == 400
    page = response.content.decode()
    assert '<p class="field-error" id="criteria-0-min-error">Criterion &#x27;size&#x27;' in page
    assert f"min &#x27;{typed}&#x27; is not a plain number" in page
    assert 'aria-describedby="criteria-0-min-error"' in page
    assert 'href="#criteria-0-min"' in page
    assert form_data(response)["criteria-0-min"] == typed
    assert len(versions(program.tenant)) == 1


@pytest.mark.parametrize(
    ("row", "part", "expected"),
    [
        ({"kind": "tech_stack", "field": "tech_stack", "values": "a, b", "match": "at_least",
          "count": "3", "weight": "5"}, "count", "count 3 is not a whole number from 1 to 2"),
        ({"kind": "range", "field": "employees", "min": "500", "max": "100", "weight": "5"},
         "min", "Make min smaller than max."),
        ({"kind": "range", "field": "industry", "min": "1", "weight": "5"},
         "field", "field &quot;industry&quot; is not an account field"),
        ({"kind": "trigger", "trigger": "funding", "within_days": "99999", "weight": "5"},
         "within_days", "within_days 99999 is not a whole number of days"),
        ({"kind": "trigger", "trigger": "funding", "weight": "5"},
         "within_days", "within_days is empty"),
        ({"kind": "category", "values": "", "weight": "5"}, "values", "values is empty"),
        ({"kind": "category", "values": "x", "weight": ""}, "weight", "weight is empty"),
        ({"kind": "category", "values": "x", "weight": "5000"}, "weight", "is above 1,000"),
    ],
)  # fmt: skip
def test_validation_error_names_criterion_next_to_input(staff_client, program, row, part, expected):
    response = staff_client.post(NEW_URL, post_data(row_data(0, key="probe", **row)))

    assert response.status_code == 400
    page = response.content.decode()
    error_start = page.index(f'id="criteria-0-{part}-error"')
    error = page[error_start : page.index("</p>", error_start)]
    assert "Criterion &#x27;probe&#x27;" in error
    assert expected in error
    assert 'class="warning warning-strong error-summary"' in page


def test_duplicate_key_error_on_later_row(staff_client, program):
    rows = [
        row_data(0, key="industry", values="software", weight="10"),
        row_data(1, key="industry", values="retail", weight="10"),
    ]

    page = staff_client.post(NEW_URL, post_data(*rows)).content.decode()

    assert 'id="criteria-1-key-error"' in page
    assert 'id="criteria-0-key-error"' not in page
    assert "is used by two criteria" in page


def test_duplicate_key_shown_with_other_errors(staff_client, program):
    rows = [
        row_data(0, key="industry", values="software", weight="10"),
        row_data(1, key="Industry", values="retail", weight=""),
    ]

    page = staff_client.post(NEW_URL, post_data(*rows)).content.decode()

    assert 'id="criteria-1-key-error"' in page
    assert 'id="criteria-1-weight-error"' in page
    assert "keys ignore case" in page


def test_missing_key_error_counts_position(staff_client, program):
    rows = [
        row_data(0, key="industry", values="software", weight="10"),
        row_data(1, key="", values="retail", weight="10"),
    ]

    page = staff_client.post(NEW_URL, post_data(*rows)).content.decode()

    assert 'id="criteria-1-key-error">Criterion 2 is invalid: its key is missing.' in page


def test_only_knockouts_error_shows_at_criteria(staff_client, program):
    rows = [row_data(0, key="ko", values="retail", knockout=True)]

    response = staff_client.post(NEW_URL, post_data(*rows))

    assert response.status_code == 400
    assert 'id="criteria">Every criterion is a knock-out' in response.content.decode()


@pytest.mark.parametrize(
    ("cutoffs", "error_id", "expected"),
    [
        (("80", "fifty", "20"), "tier_cutoffs-B-error", "Tier cut-off B &#x27;fifty&#x27;"),
        (("80", "1e1", "20"), "tier_cutoffs-B-error", "is not a whole number"),
        (("40", "50", "20"), "tier_cutoffs-error", "are not in order"),
    ],
)
def test_cutoff_errors_next_to_input(staff_client, program, cutoffs, error_id, expected):
    rows = [row_data(0, key="industry", values="software", weight="10")]

    response = staff_client.post(NEW_URL, post_data(*rows, cutoffs=cutoffs))

    assert response.status_code == 400
    page = response.content.decode()
    error_start = page.index(f'id="{error_id}"')
    assert expected in page[error_start : page.index("</p>", error_start)]
    assert form_data(response)["tier_cutoffs-B"] == cutoffs[1]


def test_name_error_next_to_input(staff_client, program):
    rows = [row_data(0, key="industry", values="software", weight="10")]

    page = staff_client.post(NEW_URL, post_data(*rows, name="  ")).content.decode()

    assert 'id="name-error">ICP version name' in page


def test_errors_keep_all_rows_and_blank_extra_row(staff_client, program):
    rows = [*EVERY_KIND_ROWS, row_data(7, key="bad", values="x", weight="x")]

    response = staff_client.post(NEW_URL, post_data(*rows))

    data = form_data(response)
    assert data["criteria-2-values"] == "python, postgres, redis"
    assert data["criteria-5-negate"] == "on"
    assert data["criteria-6-knockout"] == "on"
    assert data["criteria-7-weight"] == "x"
    assert data["criteria-8-key"] == ""


def test_removed_and_blank_rows_are_skipped(staff_client, program):
    rows = [
        row_data(0, key="industry", values="software", weight="10"),
        row_data(1, key="gone", values="", weight="", remove=True),
        row_data(2),
    ]

    response = staff_client.post(NEW_URL, post_data(*rows))

    assert response.status_code == 302
    assert [c["key"] for c in versions(program.tenant)[-1].criteria] == ["industry"]


def test_edit_of_active_version_redirects(staff_client, program):
    url = reverse("icp:version_edit", args=[program.version.pk])

    response = staff_client.get(url, follow=True)
    posted = staff_client.post(url, post_data(row_data(0, key="x", values="y", weight="1")))

    detail_url = reverse("icp:version_detail", args=[program.version.pk])
    assert response.redirect_chain[-1][0] == detail_url
    assert "Copy it into a new draft" in response.content.decode()
    assert posted.status_code == 302
    assert versions(program.tenant)[0].name == "Acme profile"


def test_preview_fragment_counts_tiers(staff_client, program):
    with tenant_scope(program.tenant):
        AccountFactory(tenant=program.tenant, industry="software")
    rows = [row_data(0, key="industry", values="software", weight="10")]

    response = staff_client.post(PREVIEW_URL, post_data(*rows), headers={"HX-Request": "true"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page
    assert "How the tenant's 3 accounts would fall into tiers" in page
    assert ">2</td>" in page
    assert "66.7%" in page
    assert "33.3%" in page
    assert len(versions(program.tenant)) == 1


def test_preview_fragment_shows_validation_error(staff_client, program):
    rows = [row_data(0, key="size", kind="range", field="employees", min="1e3", weight="10")]

    response = staff_client.post(PREVIEW_URL, post_data(*rows), headers={"HX-Request": "true"})

    page = response.content.decode()
    assert "No preview: the criteria or cut-offs are invalid." in page
    assert "min &#x27;1e3&#x27; is not a plain number" in page


def test_preview_without_htmx_renders_whole_page(staff_client, draft):
    data = form_data(staff_client.get(reverse("icp:version_edit", args=[draft.pk])))

    response = staff_client.post(PREVIEW_URL, data)

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="preview-heading"' in page
    assert f'action="{reverse("icp:version_edit", args=[draft.pk])}"' in page
    assert form_data(response)["criteria-6-knockout"] == "on"


def test_add_row_without_javascript(staff_client, program):
    rows = [row_data(0, key="industry", values="software", weight="")]

    response = staff_client.post(PREVIEW_URL, {**post_data(*rows), "add_row": "1"})

    assert response.status_code == 200
    data = form_data(response)
    assert data["criteria-0-key"] == "industry"
    assert data["criteria-1-key"] == ""
    assert "field-error" not in response.content.decode()


def test_new_from_version_keeps_lineage_and_evidence(staff_client, program):
    source = program.version
    page = staff_client.get(f"{NEW_URL}?from={source.pk}")
    data = form_data(page)
    data["criteria-1-min"] = "300"

    response = staff_client.post(f"{NEW_URL}?from={source.pk}", data)

    assert data["name"] == f"Copy of v1 {source.name}"
    assert data["from"] == str(source.pk)
    assert response.status_code == 302
    created = versions(program.tenant)[-1]
    assert created.provenance == IcpVersion.Provenance.COPIED
    assert created.based_on_id == source.pk
    assert created.criteria[0]["support"] == {"deals": 30, "accounts": 12}
    assert "support" not in created.criteria[1]
    assert created.criteria[1]["min"] == 300


def test_new_from_other_tenant_version_is_404(staff_client, program, other_program):
    response = staff_client.get(f"{NEW_URL}?from={other_program.version.pk}")

    assert response.status_code == 404


def test_copy_button_makes_draft(staff_client, program):
    response = staff_client.post(reverse("icp:version_copy", args=[program.version.pk]))

    copy = versions(program.tenant)[-1]
    assert response.status_code == 302
    assert response.url == reverse("icp:version_edit", args=[copy.pk])
    assert copy.provenance == IcpVersion.Provenance.COPIED
    assert copy.based_on_id == program.version.pk
    assert copy.criteria == program.version.criteria


def test_delete_asks_then_deletes(staff_client, draft):
    url = reverse("icp:version_delete", args=[draft.pk])

    confirm = staff_client.get(url)
    response = staff_client.post(url)

    assert "deleted for good" in confirm.content.decode()
    assert response.status_code == 302
    assert response.url == reverse("icp:version_list")
    assert draft.pk not in [v.pk for v in versions(draft.tenant)]


def test_delete_of_active_version_is_refused(staff_client, program):
    response = staff_client.post(reverse("icp:version_delete", args=[program.version.pk]))

    assert response.status_code == 302
    assert len(versions(program.tenant)) == 1


def test_activate_confirmation_explains(staff_client, draft, program):
    page = staff_client.get(reverse("icp:version_activate", args=[draft.pk])).content.decode()

    assert "retires the active version" in page
    assert "Acme profile" in page
    assert "rescores all accounts and partners" in page
    assert "Commissions already earned keep" in page
    assert f"?left={program.version.pk}&amp;right={draft.pk}" in page
    assert "No signal" not in page


def test_activate_confirmation_warns_without_signal(staff_client, draft):
    IcpVersion.all_tenants.filter(pk=draft.pk).update(signal=IcpVersion.Signal.NONE)

    page = staff_client.get(reverse("icp:version_activate", args=[draft.pk])).content.decode()

    assert "No signal: this profile cannot be trusted" in page


def test_activate_retires_live_version(staff_client, draft, program):
    response = staff_client.post(reverse("icp:version_activate", args=[draft.pk]), follow=True)

    assert f"Activated v{draft.number}" in response.content.decode()
    statuses = {v.pk: v.status for v in versions(program.tenant)}
    assert statuses[draft.pk] == IcpVersion.Status.ACTIVE
    assert statuses[program.version.pk] == IcpVersion.Status.RETIRED


def test_activate_redirects_to_rescore_job(staff_client, draft):
    response = staff_client.post(reverse("icp:version_activate", args=[draft.pk]))

    with tenant_scope(draft.tenant):
        job = Job.objects.get(subject=f"icp_version:{draft.pk}")
    assert response.status_code == 302
    assert response.url == reverse("jobs:job_detail", args=[job.pk])


def test_activate_ignores_older_job(staff_client, draft):
    old = job_create(
        tenant=draft.tenant, kind=Job.Kind.ICP_RESCORE, subject=f"icp_version:{draft.pk}"
    )

    response = staff_client.post(reverse("icp:version_activate", args=[draft.pk]))

    with tenant_scope(draft.tenant):
        new = Job.objects.exclude(pk=old.pk).get(subject=f"icp_version:{draft.pk}")
    assert response.url == reverse("jobs:job_detail", args=[new.pk])


def test_activate_active_version_changes_nothing(staff_client, program):
    response = staff_client.post(
        reverse("icp:version_activate", args=[program.version.pk]), follow=True
    )

    assert "already active" in response.content.decode()
    assert not AuditEvent.all_tenants.filter(event="icp_version.activated").exists()


def test_detail_shows_actions_and_flags(staff_client, draft):
    page = staff_client.get(reverse("icp:version_detail", args=[draft.pk])).content.decode()

    assert reverse("icp:version_edit", args=[draft.pk]) in page
    assert reverse("icp:version_copy", args=[draft.pk]) in page
    assert reverse("icp:version_activate", args=[draft.pk]) in page
    assert reverse("icp:version_delete", args=[draft.pk]) in page
    assert "<th>Knock-out</th>" in page
    assert "<td>Buying trigger with recency</td>" in page
    assert page.count('<span class="yes">Yes</span>') == 2
    assert "js/icp_editor.js" not in page


def test_detail_of_active_version_offers_copy_only(staff_client, program):
    page = staff_client.get(reverse("icp:version_detail", args=[program.version.pk]))
    text = page.content.decode()

    assert reverse("icp:version_copy", args=[program.version.pk]) in text
    assert reverse("icp:version_edit", args=[program.version.pk]) not in text
    assert reverse("icp:version_activate", args=[program.version.pk]) not in text
    assert reverse("icp:version_delete", args=[program.version.pk]) not in text


def test_list_offers_new_version_to_editors(staff_client, analyst_client, program):
    editor_page = staff_client.get(reverse("icp:version_list")).content.decode()
    analyst_page = analyst_client.get(reverse("icp:version_list")).content.decode()

    assert NEW_URL in editor_page
    assert NEW_URL not in analyst_page


def test_analyst_sees_no_actions(analyst_client, draft):
    page = analyst_client.get(reverse("icp:version_detail", args=[draft.pk])).content.decode()

    assert reverse("icp:version_copy", args=[draft.pk]) not in page
    assert reverse("icp:version_edit", args=[draft.pk]) not in page


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("get", "icp:version_new"),
        ("post", "icp:version_new"),
        ("post", "icp:version_preview"),
        ("get", "icp:version_edit"),
        ("post", "icp:version_edit"),
        ("post", "icp:version_copy"),
        ("get", "icp:version_activate"),
        ("post", "icp:version_activate"),
        ("get", "icp:version_delete"),
        ("post", "icp:version_delete"),
    ],
)
def test_analyst_is_forbidden(analyst_client, draft, method, route):
    needs_id = route not in ("icp:version_new", "icp:version_preview")
    url = reverse(route, args=[draft.pk]) if needs_id else reverse(route)

    response = getattr(analyst_client, method)(url, post_data(*EVERY_KIND_ROWS))

    assert response.status_code == 403
    assert len(versions(draft.tenant)) == 2
    assert versions(draft.tenant)[-1].status == IcpVersion.Status.DRAFT


def test_learned_draft_warns_about_figures(staff_client, program):
    with tenant_scope(program.tenant):
        learned = icp_version_create(number=5, status=IcpVersion.Status.DRAFT)

    page = staff_client.get(reverse("icp:version_edit", args=[learned.pk])).content.decode()

    assert "clears its signal, summary and figures" in page
