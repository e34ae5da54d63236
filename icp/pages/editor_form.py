"""The ICP criteria editor form: parse posted rows strictly, validate them, place errors.

Each criterion is a row of inputs named `criteria-<index>-<part>`, such as
`criteria-0-min`. Only the parts of the row's kind are read, so inputs that the page
shows without JavaScript for other kinds are ignored. Rows ticked for removal and
rows left blank are skipped. Errors go next to the input they concern and into a
summary at the top of the form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from icp.models import IcpVersion
from icp.scoring import (
    FIELD_LABELS,
    FIELDS_BY_KIND,
    KIND_LABELS,
    TECH_MATCHES,
    TIERS,
    validate_criteria,
    validate_tier_cutoffs,
)
from icp.services import _validate_name
from tenancy.errors import DomainError

ROW_PARTS = (
    "key",
    "label",
    "kind",
    "field",
    "values",
    "min",
    "max",
    "match",
    "count",
    "trigger",
    "within_days",
    "weight",
)
FLAG_PARTS = ("knockout", "negate", "remove")
# The inputs each kind reads besides key, label, kind, field, weight and the flags.
PARTS_BY_KIND = {
    "category": ("values",),
    "range": ("min", "max"),
    "tech_stack": ("values", "match", "count"),
    "trigger": ("trigger", "within_days"),
    "willingness_to_pay": ("min", "max"),
}
MATCH_LABELS = {"any": "Any of them", "all": "All of them", "at_least": "At least count of them"}
DEFAULT_CUTOFFS = {"A": 75, "B": 50, "C": 25}
# More rows than a person writes by hand. The cap bounds the work one request causes.
MAX_ROWS = 200
_ROW_INPUT = re.compile(r"criteria-(\d+)-([a-z_]+)")
_DECIMAL = re.compile(r"[+-]?\d+(\.\d+)?")
_WHOLE = re.compile(r"[+-]?\d+")


@dataclass
class Part:
    """One input of the form: its name and id, the text to show and its error."""

    name: str
    value: str = ""
    checked: bool = False
    error: str = ""

    @property
    def id(self) -> str:
        return self.name

    @property
    def error_id(self) -> str:
        return f"{self.name}-error"


@dataclass
class CriterionRow:
    """One criterion row as posted, with its errors by part and row-wide."""

    index: int
    text: dict[str, str]
    flags: dict[str, bool]
    errors: dict[str, str] = field(default_factory=dict)
    # 1-based place among the rows that are saved, as validation messages count them.
    position: int | None = None

    @property
    def kind(self) -> str:
        return self.text.get("kind") or "category"

    @property
    def blank(self) -> bool:
        typed = ("key", "label", "values", "min", "max", "trigger", "within_days", "count")
        return not any(self.text.get(part, "").strip() for part in (*typed, "weight"))

    @property
    def kept(self) -> bool:
        return not self.flags.get("remove") and not self.blank

    @property
    def key(self) -> str:
        return self.text.get("key", "").strip()

    @property
    def parts(self) -> SimpleNamespace:
        """The row's inputs by part, as attributes so templates can read `parts.values`."""
        inputs = {}
        for part in (*ROW_PARTS, *FLAG_PARTS):
            inputs[part] = Part(
                name=f"criteria-{self.index}-{part}",
                value=self.text.get(part, ""),
                checked=self.flags.get(part, False),
                error=self.errors.get(part, ""),
            )
        return SimpleNamespace(**inputs)

    @property
    def row_error(self) -> str:
        return self.errors.get("", "")

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)


def _format_number(value) -> str:
    """Write a stored number back as plain digits, which the strict parser accepts."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f") if isinstance(value, float) else str(value)


def _row_from_criterion(index: int, criterion: dict) -> CriterionRow:
    text = {
        "key": str(criterion.get("key", "")),
        "label": str(criterion.get("label", "")),
        "kind": str(criterion.get("kind", "category")),
        "field": str(criterion.get("field", "")),
        "values": ", ".join(str(value) for value in criterion.get("values") or []),
        "min": _format_number(criterion.get("min")),
        "max": _format_number(criterion.get("max")),
        "match": str(criterion.get("match") or "any"),
        "count": _format_number(criterion.get("count")),
        "trigger": str(criterion.get("trigger") or ""),
        "within_days": _format_number(criterion.get("within_days")),
        "weight": _format_number(criterion.get("weight")),
    }
    flags = {
        "knockout": bool(criterion.get("knockout")),
        "negate": bool(criterion.get("negate")),
        "remove": False,
    }
    return CriterionRow(index=index, text=text, flags=flags)


def blank_row(index) -> CriterionRow:
    return CriterionRow(
        index=index,
        text={"kind": "category", "field": "industry", "match": "any"},
        flags={},
    )


class EditorForm:
    """The editor's name, tier cut-offs and criterion rows, with errors placed on inputs."""

    def __init__(self, *, name: str, cutoffs: dict[str, str], rows: list[CriterionRow]):
        self.name = name
        self.cutoffs = cutoffs
        self.rows = rows
        self.errors: dict[str, str] = {}
        self.summary: list[dict] = []
        self.cleaned: dict | None = None

    @classmethod
    def blank(cls) -> EditorForm:
        cutoffs = {tier: str(value) for tier, value in DEFAULT_CUTOFFS.items()}
        return cls(name="", cutoffs=cutoffs, rows=[])

    @classmethod
    def from_version(cls, version: IcpVersion, *, name: str | None = None) -> EditorForm:
        cutoffs = version.tier_cutoffs or DEFAULT_CUTOFFS
        rows = [
            _row_from_criterion(index, criterion)
            for index, criterion in enumerate(version.criteria or [])
            if isinstance(criterion, dict)
        ]
        return cls(
            name=version.name if name is None else name,
            cutoffs={tier: _format_number(cutoffs.get(tier)) for tier in TIERS},
            rows=rows,
        )

    @classmethod
    def from_post(cls, data) -> EditorForm:
        """Read the name, cut-offs and rows from POST data, in the order of their indexes.

        Blank rows are dropped and the rest numbered from 0, so error targets match
        the rows as they are rendered again.
        """
        by_index: dict[int, dict] = {}
        for name in data:
            matched = _ROW_INPUT.fullmatch(name)
            if matched and matched.group(2) in (*ROW_PARTS, *FLAG_PARTS):
                by_index.setdefault(int(matched.group(1)), {})[matched.group(2)] = data.get(name)
        rows = []
        for index in sorted(by_index):
            values = by_index[index]
            text = {part: str(values.get(part) or "") for part in ROW_PARTS}
            flags = {part: part in values for part in FLAG_PARTS}
            row = CriterionRow(index=len(rows), text=text, flags=flags)
            if not row.blank:
                rows.append(row)
        form = cls(
            name=str(data.get("name", "")),
            cutoffs={tier: str(data.get(f"tier_cutoffs-{tier}", "")) for tier in TIERS},
            rows=rows,
        )
        if len(rows) > MAX_ROWS:
            form.add_error(
                DomainError(
                    f"The form has {len(rows)} criterion rows, more than {MAX_ROWS}.",
                    field="criteria",
                    value=len(rows),
                    fix=f"Keep at most {MAX_ROWS} criteria in one version.",
                )
            )
        return form

    # Display

    @property
    def display_rows(self) -> list[CriterionRow]:
        """Return the rows to render: the stored or posted ones, plus one blank row."""
        return [*self.rows, blank_row(len(self.rows))]

    @property
    def next_index(self) -> int:
        return len(self.display_rows)

    @property
    def cutoff_parts(self) -> list[dict]:
        return [
            {
                "tier": tier,
                "part": Part(
                    name=f"tier_cutoffs-{tier}",
                    value=self.cutoffs.get(tier, ""),
                    error=self.errors.get(f"tier_cutoffs.{tier}", ""),
                ),
            }
            for tier in TIERS
        ]

    @property
    def has_errors(self) -> bool:
        return bool(self.summary)

    # Validation

    def clean(self) -> dict | None:
        """Return {"name", "criteria", "tier_cutoffs"} ready for the services, or None.

        Every row is checked on its own first, so each invalid row shows its error at
        once. Checks across rows (duplicate keys, only knock-outs) run when each row is
        valid.
        """
        if self.has_errors:
            return None
        name = self._clean_name()
        cutoffs = self._clean_cutoffs()
        criteria = []
        kept = [row for row in self.rows if row.kept]
        for position, row in enumerate(kept, start=1):
            row.position = position
            criterion = self._clean_row(row)
            if criterion is not None:
                criteria.append(criterion)
        self._check_repeated_keys(kept)
        if not kept:
            self._capture(validate_criteria, [])
        elif len(criteria) == len(kept) and not self.has_errors:
            self._capture(validate_criteria, criteria)
        if self.has_errors:
            return None
        self.cleaned = {"name": name, "criteria": criteria, "tier_cutoffs": cutoffs}
        return self.cleaned

    def _check_repeated_keys(self, kept: list[CriterionRow]) -> None:
        """Flag each row whose key an earlier row already uses, even while others have errors."""
        seen = set()
        for row in kept:
            folded = row.key.strip().casefold()
            if folded and folded in seen:
                self._row_error(
                    row,
                    "key",
                    DomainError(
                        f"Criterion {row.key.strip()!r} is invalid: key {row.key.strip()!r} is "
                        "used by two criteria (keys ignore case).",
                        field=f"criteria.{row.position}.key",
                        value=row.key.strip(),
                        fix="Give each criterion its own key.",
                    ),
                )
            seen.add(folded)

    def _capture(self, check, *args):
        try:
            return check(*args)
        except DomainError as error:
            self.add_error(error)
            return None

    def _clean_name(self) -> str | None:
        return self._capture(_validate_name, self.name)

    def _clean_cutoffs(self) -> dict | None:
        parsed = {}
        for tier in TIERS:
            text = self.cutoffs.get(tier, "").strip()
            if not _WHOLE.fullmatch(text):
                self.add_error(
                    DomainError(
                        f"Tier cut-off {tier} {text!r} is not a whole number.",
                        field=f"tier_cutoffs.{tier}",
                        value=text,
                        fix="Write the lowest score of the tier as digits from 0 to 100.",
                    )
                )
                continue
            parsed[tier] = int(text)
        if len(parsed) < len(TIERS):
            return None
        return self._capture(validate_tier_cutoffs, parsed)

    def _clean_row(self, row: CriterionRow) -> dict | None:
        """Parse one row strictly and validate it alone, recording errors on the row."""
        label = repr(row.key) if row.key else str(row.position)
        reference = row.key or str(row.position)
        if not row.key:
            self._row_error(
                row,
                "key",
                DomainError(
                    f"Criterion {row.position} is invalid: its key is missing.",
                    field=f"criteria.{row.position}.key",
                    value="",
                    fix="Give the criterion a short unique key such as 'employees'.",
                ),
            )
            return None

        kind = row.text.get("kind", "")
        criterion = {
            "key": row.key,
            "label": row.text.get("label", "").strip(),
            "kind": kind,
            "field": row.text.get("field") or None,
            "knockout": row.flags.get("knockout", False),
            "negate": row.flags.get("negate", False),
        }
        fields = FIELDS_BY_KIND.get(kind, ())
        if len(fields) == 1:
            criterion["field"] = fields[0]

        numbers = {"weight": "whole"}
        for part in PARTS_BY_KIND.get(kind, ()):
            if part in ("min", "max"):
                numbers[part] = "decimal"
            elif part == "within_days" or (part == "count" and row.text.get("match") == "at_least"):
                numbers[part] = "whole"
            elif part == "count":
                continue
            elif part == "values":
                text = row.text.get("values", "")
                criterion["values"] = [value.strip() for value in text.split(",") if value.strip()]
            else:
                criterion[part] = row.text.get(part, "").strip()

        failed = False
        for part, shape in numbers.items():
            text = row.text.get(part, "").strip()
            if not text:
                criterion[part] = None
                continue
            pattern = _WHOLE if shape == "whole" else _DECIMAL
            if not pattern.fullmatch(text):
                example = "180" if shape == "whole" else "1000 or 2500.5"
                self._row_error(
                    row,
                    part,
                    DomainError(
                        f"Criterion {label} is invalid: {part} {text!r} is not a plain "
                        f"{'whole number' if shape == 'whole' else 'number'}.",
                        field=f"criteria.{reference}.{part}",
                        value=text,
                        fix=f"Write digits only, such as {example}, without thousands "
                        "separators, units or exponents.",
                    ),
                )
                failed = True
                continue
            criterion[part] = int(text) if shape == "whole" or "." not in text else float(text)
        missing = None if failed else self._missing_part(criterion)
        if missing is not None:
            part, fix = missing
            self._row_error(
                row,
                part,
                DomainError(
                    f"Criterion {label} is invalid: {part} is empty.",
                    field=f"criteria.{reference}.{part}",
                    value="",
                    fix=fix,
                ),
            )
            failed = True
        if failed:
            return None

        if not criterion["label"]:
            del criterion["label"]
        if criterion["weight"] is None:
            # Only a knock-out gets here without a weight, and the validator gives it 0.
            del criterion["weight"]
        if criterion["field"] is None:
            del criterion["field"]
        try:
            validate_criteria([criterion])
        except DomainError as error:
            # One knock-out alone fails the "some criterion earns points" rule, which only
            # applies to the whole list.
            if error.field != "criteria":
                self._row_error(row, _part_of(error.field), error)
                return None
        return criterion

    @staticmethod
    def _missing_part(criterion: dict) -> tuple[str, str] | None:
        kind = criterion["kind"]
        if criterion["weight"] is None and not criterion["knockout"]:
            return "weight", "Give a whole number of points from 1 to 1,000, or tick knock-out."
        if kind in ("category", "tech_stack") and not criterion.get("values"):
            return "values", "List the values to match, separated by commas."
        at_least = kind == "tech_stack" and criterion.get("match") == "at_least"
        if at_least and criterion.get("count") is None:
            return "count", "Say how many of the listed technologies an account must use."
        if kind == "trigger" and criterion.get("within_days") is None:
            return "within_days", "Say how recent the trigger must be in days, such as 180."
        return None

    # Errors

    def _row_error(self, row: CriterionRow, part: str, error: DomainError) -> None:
        part = part if part in (*ROW_PARTS, *FLAG_PARTS) else ""
        if part not in row.errors:
            row.errors[part] = _error_text(error)
        target = f"criteria-{row.index}-{part or 'key'}"
        self.summary.append({"message": error.message, "fix": error.fix, "target": target})

    def add_error(self, error: DomainError) -> None:
        """Place a service's error on the input its `field` names, and in the summary.

        `field` is "name", "tier_cutoffs", "tier_cutoffs.<tier>", "criteria",
        "criteria.<key>.<part>" or "criteria.<position>.<part>". Anything else goes
        to the summary alone.
        """
        name = error.field or ""
        if name.startswith("criteria."):
            reference, _, part = name.removeprefix("criteria.").rpartition(".")
            if not reference:
                reference, part = part, ""
            row = self._row_for(reference, part, error)
            if row is not None:
                self._row_error(row, part, error)
                return
            name = "criteria"
        target = {
            "name": "name",
            "criteria": "criteria",
            "tier_cutoffs": "tier_cutoffs-A",
        }.get(name, "")
        if name.startswith("tier_cutoffs."):
            target = f"tier_cutoffs-{name.rpartition('.')[2]}"
        if name and name not in self.errors:
            self.errors[name] = _error_text(error)
        self.summary.append({"message": error.message, "fix": error.fix, "target": target})

    def _row_for(self, reference: str, part: str, error: DomainError) -> CriterionRow | None:
        kept = [row for row in self.rows if row.kept]
        same_key = [row for row in kept if row.key == reference]
        if part == "key" and len(same_key) > 1:
            # A repeated key: the later row is the one to change.
            return same_key[-1]
        if same_key and not (part == "key" and not error.value):
            return same_key[0]
        if reference.isdigit() and 1 <= int(reference) <= len(kept):
            return kept[int(reference) - 1]
        return None


def _part_of(field_name: str | None) -> str:
    return (field_name or "").rpartition(".")[2]


def _error_text(error: DomainError) -> str:
    return f"{error.message} {error.fix}".strip()


def kind_choices() -> list[tuple[str, str]]:
    return list(KIND_LABELS.items())


def field_groups() -> list[dict]:
    """Return the account fields grouped by the kind that can test them, for the select."""
    return [
        {
            "kind": kind,
            "label": KIND_LABELS[kind],
            "fields": [(name, FIELD_LABELS.get(name, name)) for name in fields],
        }
        for kind, fields in FIELDS_BY_KIND.items()
    ]


def match_choices() -> list[tuple[str, str]]:
    return [(match, MATCH_LABELS[match]) for match in TECH_MATCHES]
