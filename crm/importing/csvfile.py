"""Read a CSV file into checked rows, with an error per rejected line and column."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from crm import parsing


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


@dataclass(frozen=True)
class FileFormat:
    """The declared format of a file, from the request or the source's saved mapping.

    None means: the encoding from the byte-order mark, else UTF-8; the delimiter
    sniffed from the first lines; numbers and dates only in forms that read one way.
    `mapping` maps a file header to a column name, and to "" to ignore the column.
    """

    encoding: str | None = None
    delimiter: str | None = None
    locale: str | None = None
    date_order: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)


DELIMITERS = (",", ";", "\t")
# Bytes read to sniff the delimiter.
SNIFF_BYTES = 64 * 1024
BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _header_key(cell: str) -> str:
    return cell.strip().lower().replace(" ", "_")


def _resolve_header(
    header: list[str], columns: tuple[Column, ...], mapping: dict[str, str]
) -> tuple[dict, list[dict]]:
    """Map header positions to column names; report unknown, repeated and missing columns.

    A saved mapping wins over the column names and their aliases. Header cells
    that are empty, such as the trailing columns of a spreadsheet export, are skipped.
    """
    names = {}
    for column in columns:
        names[column.name] = column.name
        for alias in column.aliases:
            names[alias] = column.name
    mapped = {source.strip().lower(): target for source, target in mapping.items()}
    known = ", ".join(column.name for column in columns)
    positions: dict[int, str] = {}
    errors: list[dict] = []
    for index, cell in enumerate(header):
        if not cell.strip():
            continue
        if cell.strip().lower() in mapped:
            name = mapped[cell.strip().lower()]
            if not name:
                continue
        else:
            name = names.get(_header_key(cell))
        if name is None:
            message = (
                f"Unknown column '{cell}': rename it to one of {known}, map it to one of "
                'them in the source\'s column mapping (or to "" to ignore it), or remove it.'
            )
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
                    "message": f"Required column '{column.name}' is missing from the header: "
                    f"rename the file's column to '{column.name}', or map it in the source's "
                    f'column mapping, such as {{"Your header": "{column.name}"}}.',
                }
            )
    return positions, errors


class DecodeError(Exception):
    """A line of the file is not text in the file's encoding."""

    def __init__(self, line: int, value: str, message: str):
        super().__init__(message)
        self.line = line
        self.value = value
        self.message = message


def _suggest_encoding(sample: bytes) -> str:
    """Name the encoding the bytes most likely are in, for an error message."""
    try:
        import charset_normalizer
    except ImportError:  # an optional package: without it, suggest the usual one
        return "cp1252"
    best = charset_normalizer.from_bytes(sample).best()
    if best is None or best.encoding.replace("_", "-") in ("utf-8", "ascii"):
        return "cp1252"
    return best.encoding


def _decoded_lines(binary: BinaryIO, encoding: str, first: bytes) -> Iterator[str]:
    """Yield the text lines of an ASCII-compatible file, naming the line of bad bytes."""
    offset = 0
    head = io.BytesIO(first)
    for number, raw in enumerate(itertools.chain(head, binary), start=1):
        try:
            yield raw.decode(encoding)
        except UnicodeDecodeError as error:
            bad = raw[error.start : error.start + 4]
            position = offset + error.start
            suggestion = _suggest_encoding(first + raw)
            raise DecodeError(
                number,
                bad.hex(" "),
                f"The file is not {encoding.upper()} text: line {number} has invalid bytes at "
                f"byte {position} of the file (shown as value). Declare the file's "
                f"encoding, most likely {suggestion}, or save it as UTF-8.",
            ) from None
        offset += len(raw)


def _detect_encoding(binary: BinaryIO, declared: str | None) -> tuple[str, bytes]:
    """Return the encoding and the bytes read past any byte-order mark."""
    start = binary.read(4)
    for bom, encoding in BOMS:
        # A byte-order mark wins over a declared encoding.
        if start.startswith(bom):
            return encoding, start[len(bom) :]
    return (declared or "utf-8"), start


def _sniff_delimiter(sample: str) -> str:
    lines = sample.splitlines()
    if len(lines) > 1:
        sample = "\n".join(lines[:-1])
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        header = lines[0] if lines else ""
        counts = {delimiter: header.count(delimiter) for delimiter in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


class CsvReader:
    """Stream a CSV file's rows in chunks, never holding more than one chunk."""

    def __init__(self, binary: BinaryIO, columns: tuple[Column, ...], file_format: FileFormat):
        self.columns = columns
        self.file_format = file_format
        self.by_name = {column.name: column for column in columns}
        self.input_format = parsing.InputFormat(file_format.locale, file_format.date_order)
        self.header_errors: list[dict] = []
        self.positions: dict[int, str] = {}
        self.width = 0
        self._reader = None
        try:
            self._open(binary)
        except DecodeError as error:
            self._fail(error.line, error.value, error.message)

    def _fail(self, line: int, value: str, message: str) -> None:
        self.header_errors.append({"line": line, "column": "", "value": value, "message": message})

    def _open(self, binary: BinaryIO) -> None:
        encoding, first = _detect_encoding(binary, self.file_format.encoding)
        try:
            codec = codecs.lookup(encoding)
        except LookupError:
            self._fail(0, encoding, f"Unknown encoding {encoding!r}: use one such as "
                       "utf-8, utf-16, cp1252 or latin-1.")  # fmt: skip
            return
        if codec.name.startswith("utf-16") or codec.name.startswith("utf-32"):
            text = io.TextIOWrapper(_Prefixed(first, binary), encoding=codec.name, newline="")
            # Complete the last line, so the reader never sees half a line.
            sample = text.read(SNIFF_BYTES) + text.readline()
            lines: Iterator[str] = itertools.chain(io.StringIO(sample, newline=""), text)
        else:
            head = first + binary.read(SNIFF_BYTES)
            # Complete the last line, so no character is cut in two.
            head += binary.readline()
            lines = _decoded_lines(binary, codec.name, head)
            sample = head.decode(codec.name, errors="replace")
        delimiter = self.file_format.delimiter or _sniff_delimiter(sample)
        self.delimiter = delimiter
        self._reader = csv.reader(lines, delimiter=delimiter, strict=True)
        try:
            header = next(self._reader, None)
        except csv.Error as error:
            self._fail(1, "", f"The header line is not valid CSV ({error}): fix its quotes.")
            return
        if not header or not any(cell.strip() for cell in header):
            self._fail(1, "", "The file is empty: the first line must be the column header.")
            return
        self.width = len(header)
        self.positions, errors = _resolve_header(header, self.columns, self.file_format.mapping)
        self.header_errors.extend(errors)

    @property
    def fatal(self) -> bool:
        return bool(self.header_errors) or self._reader is None

    def header_result(self) -> ParsedFile:
        parsed = ParsedFile(fatal=True)
        for error in self.header_errors:
            parsed.reject(**error)
        return parsed

    def chunks(self, size: int) -> Iterator[ParsedFile]:
        """Yield ParsedFiles of at most `size` data lines each; the last one may be fatal."""
        if self.fatal:
            yield self.header_result()
            return
        parsed = self._new_chunk()
        with parsing.input_format(self.input_format):
            while True:
                stop = self._read_row(parsed)
                if stop or parsed.total >= size:
                    yield parsed
                    if stop:
                        return
                    parsed = self._new_chunk()

    def _new_chunk(self) -> ParsedFile:
        return ParsedFile(columns=set(self.positions.values()))

    def _read_row(self, parsed: ParsedFile) -> bool:
        """Read one data line into `parsed`; return True at the end of the file."""
        reader = self._reader
        while True:
            # A quoted cell may span lines, so a broken row is reported where it starts.
            row_start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return True
            except DecodeError as error:
                parsed.reject(error.line, "", error.value, error.message)
                parsed.fatal = True
                return True
            except UnicodeDecodeError as error:
                parsed.reject(
                    row_start,
                    "",
                    error.object[error.start : error.start + 4].hex(" "),
                    f"The file is not {error.encoding.upper()} text near line {row_start}: declare "
                    "the file's encoding or save it as UTF-8.",
                )
                parsed.fatal = True
                return True
            except csv.Error as error:
                parsed.reject(
                    row_start,
                    "",
                    "",
                    f"The line is not valid CSV ({error}): close every quote and escape "
                    "quotes inside a cell by doubling them.",
                )
                parsed.fatal = True
                return True
            if any(cell.strip() for cell in cells):
                break
        line = reader.line_num
        parsed.total += 1
        extra = cells[self.width :]
        if any(cell.strip() for cell in extra):
            parsed.reject(
                line,
                "",
                self.delimiter.join(extra)[:100],
                f"The line has {len(cells)} cells but the header has {self.width}.",
            )
            return False
        row = _parse_cells(parsed, line, cells, self.positions, self.by_name)
        if row is not None:
            parsed.rows.append((line, row))
        return False


class _Prefixed(io.RawIOBase):
    """A binary stream that returns `prefix` before the rest of `stream`."""

    def __init__(self, prefix: bytes, stream: BinaryIO):
        self._prefix = prefix
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._prefix:
            size = min(len(buffer), len(self._prefix))
            buffer[:size] = self._prefix[:size]
            self._prefix = self._prefix[size:]
            return size
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def parse_csv(
    content: bytes, columns: tuple[Column, ...], file_format: FileFormat | None = None
) -> ParsedFile:
    """Parse and check every line of an in-memory file; never touches the database.

    Header problems and broken quoting stop the parse, since no later line can be
    trusted; `ParsedFile.fatal` is then set.
    """
    reader = CsvReader(io.BytesIO(content), columns, file_format or FileFormat())
    parsed = ParsedFile(columns=set(reader.positions.values()))
    for chunk in reader.chunks(size=2**62):
        parsed.rows.extend(chunk.rows)
        parsed.errors.extend(chunk.errors)
        parsed.total += chunk.total
        parsed.fatal = parsed.fatal or chunk.fatal
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
