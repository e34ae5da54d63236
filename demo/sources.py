"""Turn the bundled public data sets into Track360's CSV import format.

The CRM data set has no web domains, so each company gets a made-up but stable
domain: its name reduced to lowercase letters and digits, plus ".com". A few
known defects of the data are corrected here and nowhere else, so the import
itself stays strict.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

from django.conf import settings

DATA_DIR = Path(settings.BASE_DIR) / "data"
CRM_DIR = DATA_DIR / "crm-sales-opportunities"
INC5000_FILE = DATA_DIR / "inc5000" / "inc5000_data.csv"

SECTOR_FIXES = {"technolgy": "technology"}
COUNTRY_FIXES = {"Philipines": "Philippines", "Korea": "KR"}
PRODUCT_FIXES = {"GTXPro": "GTX Pro"}

# Inc. 5000 industries mapped onto the CRM data set's sectors, so one ICP can score
# both. Industries with no counterpart keep their own lowercase name.
INC5000_INDUSTRIES = {
    "IT Services": "technology",
    "Computer Hardware": "technology",
    "Software": "software",
    "Health": "medical",
    "Retail": "retail",
    "Consumer Products & Services": "retail",
    "Financial Services": "finance",
    "Insurance": "finance",
    "Advertising & Marketing": "marketing",
    "Media": "entertainment",
    "Telecommunications": "telecommunications",
    "Human Resources": "employment",
    "Business Products & Services": "services",
}

ACCOUNT_HEADER = [
    "external_id", "name", "domain", "industry", "employees", "annual_revenue",
    "country", "region", "year_established", "parent_name",
]  # fmt: skip
DEAL_HEADER = [
    "external_id", "account_external_id", "stage", "amount", "currency",
    "engage_date", "close_date", "product", "owner",
]  # fmt: skip


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower())


def demo_domain(name: str) -> str:
    return f"{slug(name)}.com"


def crm_account_id(name: str) -> str:
    return f"crm-{slug(name)}"


def _csv(header: list[str], rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def crm_accounts_csv() -> bytes:
    """Return the CRM data set's 85 accounts as an accounts import file."""
    rows = []
    with open(CRM_DIR / "accounts.csv", newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            name = record["account"].strip()
            revenue_millions = Decimal(record["revenue"]) if record["revenue"] else None
            rows.append(
                {
                    "external_id": crm_account_id(name),
                    # One account name is all lowercase in the data set.
                    "name": name if name[:1].isupper() else name.title(),
                    "domain": demo_domain(name),
                    "industry": SECTOR_FIXES.get(record["sector"], record["sector"]),
                    "employees": record["employees"],
                    "annual_revenue": (
                        (revenue_millions * 1_000_000).quantize(Decimal("0.01"))
                        if revenue_millions is not None
                        else ""
                    ),
                    "country": COUNTRY_FIXES.get(
                        record["office_location"], record["office_location"]
                    ),
                    "region": "",
                    "year_established": record["year_established"],
                    "parent_name": record["subsidiary_of"],
                }
            )
    return _csv(ACCOUNT_HEADER, rows)


def inc5000_records() -> list[dict]:
    """Return the Inc. 5000 companies with stable, de-duplicated demo domains."""
    records = []
    seen: set[str] = set()
    with open(INC5000_FILE, newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            name = record["Name"].strip()
            domain = demo_domain(name)
            if not slug(name) or domain in seen:
                domain = f"{slug(name) or 'company'}{record['Rank']}.com"
            seen.add(domain)
            records.append({**record, "Name": name, "domain": domain})
    return records


def inc5000_accounts_csv() -> bytes:
    """Return the Inc. 5000 list as prospect accounts (US companies, revenue in USD)."""
    rows = []
    seen_ids: set[str] = set()
    for record in inc5000_records():
        employees = record["Employees"]
        # A few ranks appear twice in the list (ties); the later row gets a suffix.
        external_id = f"inc5000-{record['Rank']}"
        while external_id in seen_ids:
            external_id += "b"
        seen_ids.add(external_id)
        rows.append(
            {
                "external_id": external_id,
                "name": record["Name"],
                "domain": record["domain"],
                "industry": INC5000_INDUSTRIES.get(record["Industry"], record["Industry"].lower()),
                "employees": str(int(float(employees))) if employees not in ("", "NA") else "",
                "annual_revenue": record["Revenue"],
                "country": "US",
                "region": record["State"],
                "year_established": "",
                "parent_name": "",
            }
        )
    return _csv(ACCOUNT_HEADER, rows)


def crm_deals_csv() -> bytes:
    """Return the 8,800 pipeline rows as a deals import file, in USD."""
    rows = []
    with open(CRM_DIR / "sales_pipeline.csv", newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            account = record["account"].strip()
            rows.append(
                {
                    "external_id": record["opportunity_id"],
                    "account_external_id": crm_account_id(account) if account else "",
                    "stage": record["deal_stage"],
                    "amount": record["close_value"] or "0",
                    "currency": "USD",
                    "engage_date": record["engage_date"],
                    "close_date": record["close_date"],
                    "product": PRODUCT_FIXES.get(record["product"], record["product"]),
                    "owner": record["sales_agent"],
                }
            )
    return _csv(DEAL_HEADER, rows)
