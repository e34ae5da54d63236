"""Saved column mappings and declared file formats, one per tenant, kind and source."""

from __future__ import annotations

import codecs
import logging
import re

from crm import parsing
from crm.importing.csvfile import FileFormat
from crm.models import ImportMapping, ImportRun
from tenancy.errors import DomainError, NotFound
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

SOURCE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# Delimiters as requests may name them.
DELIMITER_NAMES = {",": ",", ";": ";", "\t": "\t", "tab": "\t", "\\t": "\t", "|": "|"}


def source_check(source: str) -> str:
    source = (source or "").strip()
    if not SOURCE_PATTERN.fullmatch(source):
        raise DomainError(
            "Invalid source name.",
            field="source",
            value=source,
            fix="Use 1 to 100 letters, digits, dots, dashes or underscores, such as "
            "'salesforce-export'.",
        )
    return source


def format_options_check(
    *, encoding: str = "", delimiter: str = "", locale: str = "", date_order: str = ""
) -> dict[str, str]:
    """Return the options normalized, or raise DomainError naming the invalid one."""
    options = {"encoding": "", "delimiter": "", "locale": "", "date_order": ""}
    if encoding:
        try:
            options["encoding"] = codecs.lookup(encoding.strip()).name
        except LookupError:
            raise DomainError(
                "Unknown encoding.",
                field="encoding",
                value=encoding,
                fix="Use an encoding such as utf-8, utf-16, cp1252 or latin-1.",
            ) from None
    if delimiter:
        if delimiter not in DELIMITER_NAMES and delimiter.lower() not in DELIMITER_NAMES:
            raise DomainError(
                "Unsupported delimiter.",
                field="delimiter",
                value=delimiter,
                fix="Use ',', ';', '|' or 'tab'.",
            )
        name = delimiter if delimiter in DELIMITER_NAMES else delimiter.lower()
        options["delimiter"] = DELIMITER_NAMES[name]
    if locale:
        if locale.lower() not in parsing.NUMBER_LOCALES:
            raise DomainError(
                "Unsupported number locale.",
                field="locale",
                value=locale,
                fix="Use en (1,234.56), de (1.234,56), fr (1 234,56) or ch (1'234.56).",
            )
        options["locale"] = locale.lower()
    if date_order:
        if date_order.upper() not in parsing.DATE_ORDERS:
            raise DomainError(
                "Unsupported date format.",
                field="date_format",
                value=date_order,
                fix="Use DMY (31/12/2026), MDY (12/31/2026) or YMD (2026/12/31).",
            )
        options["date_order"] = date_order.upper()
    return options


def mapping_check(kind: str, mapping) -> dict[str, str]:
    """Return the mapping {file header: column name or ""} or raise DomainError."""
    from crm.importing import importer_get

    columns = [column.name for column in importer_get(kind).columns]
    if not isinstance(mapping, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in mapping.items()
    ):
        raise DomainError(
            "The column mapping must be an object of file header to column name.",
            field="mapping",
            value=str(mapping)[:200],
            fix='Send an object such as {"Opportunity ID": "external_id", "Notes": ""}.',
        )
    checked: dict[str, str] = {}
    for header, target in mapping.items():
        if not header.strip():
            raise DomainError(
                "A file header in the column mapping is empty.",
                field="mapping",
                value=header,
                fix="Name each header as it appears in the file.",
            )
        if target and target not in columns:
            raise DomainError(
                f"Unknown column {target!r} for {kind} in the mapping of {header!r}.",
                field="mapping",
                value=target,
                fix=f'Map each header to one of {", ".join(columns)}, or to "" to ignore it.',
            )
        checked[header.strip()] = target
    return checked


def mapping_save(
    *, tenant, kind: str, source: str, mapping: dict, actor=None, **options: str
) -> ImportMapping:
    """Create or replace the tenant's mapping for (kind, source); return it."""
    if kind not in ImportRun.Kind.values:
        raise DomainError(
            "Unknown import kind.",
            field="kind",
            value=kind,
            fix=f"Use one of {', '.join(ImportRun.Kind.values)}.",
        )
    source = source_check(source)
    values = {"mapping": mapping_check(kind, mapping), **format_options_check(**options)}
    with tenant_scope(tenant):
        saved, created = ImportMapping.objects.update_or_create(
            tenant=tenant, kind=kind, source=source, defaults=values
        )
    logger.info(
        "import_mapping.saved tenant_id=%s import_mapping_id=%s kind=%s created=%s",
        tenant.pk,
        saved.pk,
        kind,
        created,
    )
    return saved


def mapping_get(*, tenant, kind: str, source: str) -> ImportMapping:
    with tenant_scope(tenant):
        saved = ImportMapping.objects.filter(kind=kind, source=source).first()
    if saved is None:
        raise NotFound(
            f"No saved {kind} mapping has the source {source!r}.",
            field="source",
            value=source,
            fix="Send the mapping with this source once to save it, or check the name.",
        )
    return saved


def mappings_list(*, tenant):
    with tenant_scope(tenant):
        return list(ImportMapping.objects.order_by("kind", "source"))


def file_format_resolve(
    *, tenant, kind: str, source: str = "", mapping: dict | None = None, **options: str
) -> FileFormat:
    """Build the file format of a request: its own options over the source's saved ones.

    With both a source and a mapping, the mapping and options are saved under the
    source first, so the next file of that source needs only the source's name.
    """
    declared = format_options_check(**options)
    if source and mapping is not None:
        saved = mapping_save(tenant=tenant, kind=kind, source=source, mapping=mapping, **declared)
    elif source:
        saved = mapping_get(tenant=tenant, kind=kind, source=source_check(source))
    else:
        return FileFormat(
            encoding=declared["encoding"] or None,
            delimiter=declared["delimiter"] or None,
            locale=declared["locale"] or None,
            date_order=declared["date_order"] or None,
            mapping=mapping_check(kind, mapping) if mapping else {},
        )
    return FileFormat(
        encoding=declared["encoding"] or saved.encoding or None,
        delimiter=declared["delimiter"] or saved.delimiter or None,
        locale=declared["locale"] or saved.locale or None,
        date_order=declared["date_order"] or saved.date_order or None,
        mapping=dict(saved.mapping),
    )


def file_format_to_json(file_format: FileFormat) -> dict:
    return {
        "encoding": file_format.encoding or "",
        "delimiter": file_format.delimiter or "",
        "locale": file_format.locale or "",
        "date_order": file_format.date_order or "",
        "mapping": file_format.mapping,
    }


def file_format_from_json(values: dict) -> FileFormat:
    return FileFormat(
        encoding=values.get("encoding") or None,
        delimiter=values.get("delimiter") or None,
        locale=values.get("locale") or None,
        date_order=values.get("date_order") or None,
        mapping=values.get("mapping") or {},
    )
