"""Turn each account's referrer into an approved registration with its touch.

Before registrations had their own table, `crm_account.referred_by` and
`referred_at` named the partner that introduced the account, and attribution read
them. Attribution now reads touches, so every such referral becomes an approved
registration made at midnight of `referred_at` in the tenant's time zone, with a
registration touch at that moment. Accounts without a domain are left out, because
registrations and touches are keyed by domain. Running it again adds nothing.
"""

from django.db import migrations

REGISTRATIONS = """
INSERT INTO attribution_referral (
    tenant_id, partner_id, domain, company_name, contact_email, notes, account_id,
    registered_at, expires_on, status, conflict, conflict_detail, fit_score, fit_tier,
    source, review_note, created_at, updated_at
)
SELECT a.tenant_id, a.referred_by_id, a.domain, a.name, '',
       'Registered before registrations had their own table.', a.id,
       a.referred_at::timestamp AT TIME ZONE t.time_zone,
       a.referred_at + t.attribution_window_days, 'approved', '', '{}', a.fit_score,
       a.fit_tier, 'import', '', now(), now()
  FROM crm_account AS a
  JOIN tenancy_tenant AS t ON t.id = a.tenant_id
 WHERE a.referred_by_id IS NOT NULL AND a.referred_at IS NOT NULL AND a.domain <> ''
ON CONFLICT DO NOTHING
"""

TOUCHES = """
INSERT INTO attribution_touch (
    tenant_id, partner_id, domain, kind, touched_at, referral_id, idempotency_key,
    created_at, updated_at
)
SELECT r.tenant_id, r.partner_id, r.domain, 'registration', r.registered_at, r.id,
       'registration:' || r.id, now(), now()
  FROM attribution_referral AS r
 WHERE r.status = 'approved'
ON CONFLICT DO NOTHING
"""


def registrations_from_account_referrals(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(REGISTRATIONS)
        cursor.execute(TOUCHES)


class Migration(migrations.Migration):
    dependencies = [
        ("attribution", "0002_visitor_conversion_and_status_index"),
    ]

    operations = [
        migrations.RunPython(registrations_from_account_referrals, migrations.RunPython.noop),
    ]
