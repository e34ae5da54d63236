"""Rules a deal must keep, shared by the API and CSV import."""

from __future__ import annotations

# Fields that decided a won deal's commission. Once the pipeline has processed the
# deal, they are frozen: the ledger entry would no longer match them.
BOOKED_FIELDS = (
    "stage",
    "amount",
    "currency",
    "close_date",
    "kind",
    "account_id",
    "partner_id",
)

# NOTE: there is no ledger adjustment workflow yet, so a booked deal cannot be
# corrected from the API or an import. The message states this to the caller.
BOOKED_DEAL_FIX = (
    "Send the value it was booked with; corrections to booked commissions are not supported yet."
)
BOOKED_DEAL_MESSAGE = (
    f"This won deal's commission is already booked, so this field cannot change. {BOOKED_DEAL_FIX}"
)


def booked_field_changes(existing: dict, incoming: dict) -> list[str]:
    """Return the booked fields whose incoming value differs from the stored one."""
    return [
        field for field in BOOKED_FIELDS if field in incoming and incoming[field] != existing[field]
    ]
