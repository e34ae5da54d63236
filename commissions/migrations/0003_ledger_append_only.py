"""Make the ledger append-only in the database itself.

Deletes are rejected, and an update may change only `status` and `updated_at`.
Corrections are written as new entries.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION commissions_ledger_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION USING ERRCODE = 'restrict_violation',
            MESSAGE = format('ledger entries are append-only: write a reversal instead of deleting entry %s', OLD.id);
    END IF;
    IF (to_jsonb(NEW) - 'status' - 'updated_at') IS DISTINCT FROM (to_jsonb(OLD) - 'status' - 'updated_at') THEN
        RAISE EXCEPTION USING ERRCODE = 'restrict_violation',
            MESSAGE = format('ledger entry %s is append-only: only its status may change', OLD.id);
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER commissions_ledger_append_only
BEFORE UPDATE OR DELETE ON commissions_ledgerentry
FOR EACH ROW EXECUTE FUNCTION commissions_ledger_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS commissions_ledger_append_only ON commissions_ledgerentry;
DROP FUNCTION IF EXISTS commissions_ledger_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("commissions", "0002_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
