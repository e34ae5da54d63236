"""The demo's real CRM data as a closed-deals frame, built without the database.

The rows go through the demo's own CSV transforms (`demo.sources`) and the import's
field parsers (`crm.parsing`), so the frame contains what `demo_load` stores and
`icp.services` then reads back, in a fraction of the time.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from crm import parsing
from crm.models import Deal
from demo import sources


def _rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def demo_accounts() -> pd.DataFrame:
    """Return the demo's CRM accounts with the values the accounts import stores."""
    records = []
    for row in _rows(sources.crm_accounts_csv()):
        records.append(
            {
                "account_id": row["external_id"],
                "industry": parsing.parse_text(row["industry"], max_length=100),
                "country": parsing.parse_country(row["country"]),
                "employees": parsing.parse_int(row["employees"]),
                "annual_revenue": parsing.parse_decimal(row["annual_revenue"]),
                "year_established": parsing.parse_int(row["year_established"]),
            }
        )
    return pd.DataFrame.from_records(records)


def demo_closed_deals() -> pd.DataFrame:
    """Return the demo's won and lost deals with an account, joined to its features."""
    records = []
    for row in _rows(sources.crm_deals_csv()):
        stage = parsing.parse_stage(row["stage"])
        if stage not in (Deal.Stage.WON, Deal.Stage.LOST) or not row["account_external_id"]:
            continue
        records.append(
            {
                "account_id": row["account_external_id"],
                "won": stage == Deal.Stage.WON,
                "amount": float(parsing.parse_decimal(row["amount"]) or 0),
                "close_date": parsing.parse_date(row["close_date"]),
            }
        )
    deals = pd.DataFrame.from_records(records)
    accounts = demo_accounts()
    accounts["annual_revenue"] = accounts["annual_revenue"].astype(float)
    return deals.merge(accounts, on="account_id", how="inner", validate="many_to_one")
