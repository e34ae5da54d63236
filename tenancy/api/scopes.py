"""API key scopes: which resource group each API view belongs to, and what a key may do.

A scope is `<group>:<access>`, such as `crm:read` or `commissions:write`, where the
group may be `*` for every group. `write` implies `read`. Safe methods (GET, HEAD,
OPTIONS) and POSTs that only compute a reply (views using `IsTenantReader`) need
`read`; every other method needs `write`.

Each view belongs to one group: its `scope_group` class attribute when set, else the
group of the longest entry of `MODULE_GROUPS` that prefixes the view's module. A view
of a module that no entry covers has no group, and API keys are rejected on it, so a
new endpoint in a new app is closed to keys until it is given a group here.
"""

from __future__ import annotations

from collections.abc import Iterable

from tenancy.errors import DomainError

READ = "read"
WRITE = "write"
ACCESS_LEVELS = (READ, WRITE)
ALL_GROUPS = "*"

# Group name → what it covers, shown on the key page and in the docs.
GROUPS = {
    "crm": "Accounts, deals and CSV imports",
    "icp": "ICP versions, reviews, drift and learning",
    "partners": (
        "Partners, reach, briefs, applications, referrals, tracking links, touches, "
        "attribution settings and fraud signals"
    ),
    "commissions": (
        "Commission plans, the ledger, revenue events, payouts, exchange rates, "
        "recalculations and unit economics"
    ),
    "mdf": "Market development fund budgets, requests and claims",
    "jobs": "Status and progress of background jobs",
    "webhooks": "Outgoing webhook endpoints and deliveries",
    "billing": "Billing",
}

# Group of the views that manage API keys, set as their `scope_group`. No scope names
# it, because keys may not manage keys (see `tenancy.api.key_views`).
API_KEYS_GROUP = "api_keys"

# Module prefix → group. The longest matching prefix wins, so a module of its own
# (such as MDF inside commissions) can sit in another group than its app.
MODULE_GROUPS = {
    "crm": "crm",
    "icp": "icp",
    "partners": "partners",
    "attribution": "partners",
    "commissions": "commissions",
    "commissions.api.mdf_views": "mdf",
    "jobs": "jobs",
    "webhooks": "webhooks",
    "billing": "billing",
}

# The scope of every key that existed before scopes: full access.
FULL_ACCESS = f"{ALL_GROUPS}:{WRITE}"

SCOPE_FIX = (
    "Send a list of scopes such as ['crm:read', 'partners:write'], or '*:read' / '*:write' "
    "for every group. Groups: " + ", ".join(GROUPS) + "."
)


class ScopeMissing(DomainError):
    """An API key lacks the scope that the request needs."""

    status_code = 403
    code = "scope_missing"


def scope_choices() -> list[tuple[str, str]]:
    """Return every scope a key may have, as (scope, label) pairs for forms."""
    choices = [
        (f"{ALL_GROUPS}:{READ}", "Read everything"),
        (f"{ALL_GROUPS}:{WRITE}", "Read and write everything"),
    ]
    for group, label in GROUPS.items():
        choices.append((f"{group}:{READ}", f"{label}: read"))
        choices.append((f"{group}:{WRITE}", f"{label}: read and write"))
    return choices


def scope_group_for(view_class: type) -> str | None:
    """Return the resource group of an API view class, or None when nothing covers it."""
    explicit = getattr(view_class, "scope_group", None)
    if explicit:
        return explicit
    module = view_class.__module__
    matches = [
        prefix for prefix in MODULE_GROUPS if module == prefix or module.startswith(prefix + ".")
    ]
    if not matches:
        return None
    return MODULE_GROUPS[max(matches, key=len)]


def scopes_validate(scopes) -> list[str]:
    """Return `scopes` deduplicated and sorted, or raise DomainError naming the bad entry."""
    if isinstance(scopes, str) or not isinstance(scopes, Iterable):
        raise DomainError(
            f"Scopes {scopes!r} are not a list.", field="scopes", value=scopes, fix=SCOPE_FIX
        )
    cleaned = set()
    for scope in scopes:
        if not isinstance(scope, str):
            raise DomainError(
                f"Scope {scope!r} is not text.", field="scopes", value=scope, fix=SCOPE_FIX
            )
        group, separator, access = scope.strip().partition(":")
        if not separator or access not in ACCESS_LEVELS:
            raise DomainError(
                f"Invalid scope {scope!r}: it needs the form <group>:read or <group>:write.",
                field="scopes",
                value=scope,
                fix=SCOPE_FIX,
            )
        if group != ALL_GROUPS and group not in GROUPS:
            raise DomainError(
                f"Unknown scope group {group!r} in {scope!r}.",
                field="scopes",
                value=scope,
                fix=SCOPE_FIX,
            )
        cleaned.add(f"{group}:{access}")
    if not cleaned:
        raise DomainError(
            "An API key needs at least one scope.", field="scopes", value=[], fix=SCOPE_FIX
        )
    return sorted(cleaned)


def scopes_allow(scopes: Iterable[str], *, group: str | None, access: str) -> bool:
    """Return True when one of `scopes` grants `access` to `group`; write grants read."""
    if group is None or group not in GROUPS:
        return False
    for scope in scopes:
        scope_group, _, scope_access = scope.partition(":")
        if scope_group not in (group, ALL_GROUPS):
            continue
        if scope_access in (WRITE, access):
            return True
    return False


def scope_require(*, key, view, method: str, path: str, access: str) -> None:
    """Raise ScopeMissing unless `key` has `access` to the group of `view`."""
    group = scope_group_for(type(view))
    if scopes_allow(key.scopes, group=group, access=access):
        return
    if group is None or group not in GROUPS:
        raise ScopeMissing(
            f"{method} {path} is not open to API keys.",
            field="scopes",
            value=None,
            fix="Log in as a tenant member to use this endpoint.",
        )
    required = f"{group}:{access}"
    alternative = f" (or {group}:{WRITE}, which includes read)" if access == READ else ""
    raise ScopeMissing(
        f"This API key lacks the scope {required}, which {method} {path} requires. "
        f"The key has: {', '.join(key.scopes) or 'no scopes'}.",
        field="scopes",
        value=required,
        fix=(
            f"Create a key with the {required} scope{alternative} under Settings → API keys "
            "or with POST /api/v1/api-keys/, and revoke this one."
        ),
    )
