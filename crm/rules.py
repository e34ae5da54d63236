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

# A booked deal's commission is corrected in the ledger, which is append-only, not
# by changing the deal.
BOOKED_DEAL_FIX = (
    "Send the value it was booked with. Correct its commission with a manual adjustment "
    "(POST /api/v1/ledger/) or a recalculation instead."
)
BOOKED_DEAL_MESSAGE = (
    f"This won deal's commission is already booked, so this field cannot change. {BOOKED_DEAL_FIX}"
)


def booked_field_changes(existing: dict, incoming: dict) -> list[str]:
    """Return the booked fields whose incoming value differs from the stored one."""
    return [
        field for field in BOOKED_FIELDS if field in incoming and incoming[field] != existing[field]
    ]
