"""Load accounts through the ORM as scoring frames, with every firmographic column.

`icp.rescoring.account_chunks` reads only the columns a set of criteria tests, with
COPY, which suits rescoring every account. Reports that also group accounts by
attributes no criterion tests, such as the drift report's segments, use this loader.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from django.db.models import Max

from crm.amounts import amount_in_base
from crm.models import Account, Deal
from icp.scoring import FRAME_COLUMNS, accounts_frame, criteria_need_deal_size, frame_trigger_names
from tenancy.scope import tenant_scope

CHUNK_SIZE = 5000


def deal_sizes(account_ids) -> dict[int, float]:
    """Return the largest open or won deal amount of each account that has one."""
    rows = (
        Deal.all_tenants.filter(
            account_id__in=list(account_ids), stage__in=[Deal.Stage.OPEN, Deal.Stage.WON]
        )
        .values("account_id")
        .annotate(largest=Max(amount_in_base()))
        .values_list("account_id", "largest")
    )
    return {account_id: float(largest) for account_id, largest in rows if largest is not None}


def account_frames(tenant, account_ids=None, criteria=()) -> Iterator[pd.DataFrame]:
    """Yield the tenant's accounts (all, or `account_ids`) as frames of at most CHUNK_SIZE rows.

    The frames carry every column of `icp.scoring.accounts_frame`, plus the buying
    triggers and deal sizes that `criteria` test.
    """
    with tenant_scope(tenant):
        accounts = Account.objects.order_by("pk")
    if account_ids is not None:
        accounts = accounts.filter(pk__in=list(account_ids))
    trigger_names = frame_trigger_names(criteria)
    need_deal_size = criteria_need_deal_size(criteria)
    last_id = 0
    while True:
        rows = list(accounts.filter(pk__gt=last_id).values(*FRAME_COLUMNS)[:CHUNK_SIZE])
        if not rows:
            return
        if need_deal_size:
            sizes = deal_sizes(row["id"] for row in rows)
            for row in rows:
                row["deal_size"] = sizes.get(row["id"])
        yield accounts_frame(rows, trigger_names=trigger_names)
        last_id = rows[-1]["id"]
