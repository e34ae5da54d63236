"""Read a CSV file into checked rows, with an error per rejected line and column."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str], Any]
    required: bool = False
    aliases: tuple[str, ...] = ()


@dataclass
class ParsedFile:
    rows: list[tuple[int, dict]] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    total: int = 0
    columns: set[str] = field(default_factory=set)
    # Set when the file cannot be read past some point, such as a broken header.
    fatal: bool = False

    def reject(self, line: int, column: str, value: str, message: str) -> None:
        # PostgreSQL's jsonb cannot store NUL characters, so they are shown as \0.
        self.errors.append(
            {
                "line": line,
                "column": column.replace("\x00", "\\0"),
                "value": value.replace("\x00", "\\0"),
                "message": message.replace("\x00", "\\0"),
            }
        )

    @property
    def rejected_lines(self) -> set[int]:
        return {error["line"] for error in self.errors}


def _resolve_header(header: list[str], columns: tuple[Column, ...]) -> tuple[dict, list[dict]]:
    """Map header positions to column names; report unknown, repeated and missing columns."""
    names = {}
    for column in columns:
        names[column.name] = column.name
        for alias in column.aliases:
            names[alias] = column.name
    known = ", ".join(column.name for column in columns)
    positions: dict[int, str] = {}
    errors: list[dict] = []
    for index, cell in enumerate(header):
        key = cell.strip().lower().replace(" ", "_")
        name = names.get(key)
        if name is None:
            message = f"Unknown column '{cell}': rename it to one of {known}, or remove it."
        elif name in positions.values():
            message = f"Column '{name}' appears twice in the header: keep one of them."
        else:
            positions[index] = name
            continue
        errors.append({"line": 1, "column": cell, "value": cell, "message": message})
    for column in columns:
        if column.required and column.name not in positions.values():
            errors.append(
                {
                    "line": 1,
                    "column": column.name,
                    "value": "",
                    "message": f"Required column '{column.name}' is missing from the header.",
                }
            )
    return positions, errors


def _decode(content: bytes, parsed: ParsedFile) -> str | None:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        parsed.reject(
            line,
            "",
            content[error.start : error.start + 4].hex(" "),
            f"The file is not UTF-8 text: line {line} has the invalid bytes shown. "
            "Save the file as UTF-8 CSV.",
        )
        return None


def parse_csv(content: bytes, columns: tuple[Column, ...]) -> ParsedFile:
    """Parse and check every line; never touches the database.

    Header problems and broken quoting stop the parse, since no later line can be
    trusted; `ParsedFile.fatal` is then set.
    """
    parsed = ParsedFile()
    text = _decode(content, parsed)
    if text is None:
        parsed.fatal = True
        return parsed

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        parsed.reject(1, "", "", f"The header line is not valid CSV ({error}): fix its quotes.")
        parsed.fatal = True
        return parsed
    if not header:
        parsed.reject(1, "", "", "The file is empty: the first line must be the column header.")
        parsed.fatal = True
        return parsed
    positions, header_errors = _resolve_header(header, columns)
    if header_errors:
        for error in header_errors:
            parsed.reject(**error)
        parsed.fatal = True
        return parsed
    parsed.columns = set(positions.values())
    by_name = {column.name: column for column in columns}

    while True:
        # A quoted cell may span lines, so a broken row is reported where it starts.
        row_start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            parsed.reject(
                row_start,
                "",
                "",
                f"The line is not valid CSV ({error}): close every quote and escape quotes "
                "inside a cell by doubling them.",
            )
            parsed.fatal = True
            break
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        parsed.total += 1
        if len(cells) > len(header):
            parsed.reject(
                line,
                "",
                ",".join(cells[len(header) :])[:100],
                f"The line has {len(cells)} cells but the header has {len(header)}.",
            )
            continue
        row = _parse_cells(parsed, line, cells, positions, by_name)
        if row is not None:
            parsed.rows.append((line, row))
    return parsed


def _parse_cells(parsed: ParsedFile, line: int, cells: list[str], positions: dict, by_name: dict):
    row: dict = {}
    ok = True
    for index, name in positions.items():
        raw = cells[index] if index < len(cells) else ""
        column = by_name[name]
        if "\x00" in raw:
            parsed.reject(line, name, raw.replace("\x00", "\\0")[:200],
                          "Expected text without NUL characters: remove them.")  # fmt: skip
            ok = False
            continue
        if column.required and not raw.strip():
            parsed.reject(line, name, raw, f"'{name}' is required.")
            ok = False
            continue
        try:
            row[name] = column.parse(raw)
        except ValueError as error:
            parsed.reject(line, name, raw[:200], f"Expected {error}.")
            ok = False
    return row if ok else None


def reject_duplicates(parsed: ParsedFile, key: str, *, column: str = "", label: str = "") -> None:
    """Reject lines whose `key` value appeared on an earlier line of the file."""
    column = column or key
    label = label or key
    seen: dict[str, int] = {}
    valid_rows = []
    for line, row in parsed.rows:
        value = row.get(key)
        if value and value in seen:
            parsed.reject(
                line,
                column,
                row.get(column, value),
                f"Duplicate of line {seen[value]}: each {label} may appear once.",
            )
            continue
        if value:
            seen[value] = line
        valid_rows.append((line, row))
    parsed.rows = valid_rows
