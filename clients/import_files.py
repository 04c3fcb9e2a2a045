"""Reading the file of a client import: .xlsx (openpyxl, read-only) or .csv (UTF-8).

A file is refused as a whole, with a message the operator can act on, before any row is
planned: not a spreadsheet, an old .xls, a workbook with macros (.xlsm or a VBA project), a
formula in any cell (its value would be whatever the spreadsheet last computed), larger than
MAX_FILE_BYTES, more than MAX_ROWS rows, text that is not UTF-8, no header row, no data rows,
or two columns with the same header. Rows are streamed (`iter_rows`), never held whole.

The preview reads the file once and keeps its rows, as read and checked, beside it
(`rows_kept`, one JSON line each): a preview again and the commit read those (`kept_rows`)
instead of parsing the workbook's XML once more, which was a sixth of a commit's time.
"""

import csv
import io
import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from core.formatting import format_count

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
OLE2_MAGIC = b"\xd0\xcf\x11\xe0"
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlsb", ".xlam")
CSV_DELIMITERS = ",;\t"


class ImportFileError(ValidationError):
    """The file cannot be imported; nothing was written. The message is for the operator."""


@dataclass(frozen=True)
class ImportFile:
    path: str
    name: str
    kind: str  # "xlsx" or "csv"


def too_large_message() -> str:
    """The refusal of a file over MAX_FILE_BYTES (the upload form says the same)."""
    return _("The file is larger than %(size)s MB; split it in parts.") % {
        "size": format_count(MAX_FILE_BYTES // (1024 * 1024))
    }


def too_many_message() -> str:
    return _("The file has more than %(rows)s rows; split it in parts.") % {
        "rows": format_count(MAX_ROWS)
    }


def normalize_header(text) -> str:
    """How headers are compared: case, spaces and punctuation do not matter."""
    return "".join(ch for ch in str(text or "").lower() if ch.isalnum())


def identify(path: str, name: str) -> ImportFile:
    """The kind of the file from its content (never from its name alone)."""
    with open(path, "rb") as handle:
        head = handle.read(8192)
        handle.seek(0, io.SEEK_END)
        size = handle.tell()
    if size == 0:
        raise ImportFileError(_("The file is empty."), code="empty")
    if size > MAX_FILE_BYTES:
        raise ImportFileError(too_large_message(), code="too_large")
    if name.lower().endswith(MACRO_SUFFIXES):
        raise ImportFileError(
            _("Workbooks with macros are not imported: save the sheet as .xlsx or .csv."),
            code="macro",
        )
    if head.startswith(OLE2_MAGIC):
        raise ImportFileError(
            _("This is an old Excel (.xls) file: save it as .xlsx or .csv."), code="xls"
        )
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise ImportFileError(
                _("Workbooks with macros are not imported: save the sheet as .xlsx or .csv."),
                code="macro",
            )
        if "xl/workbook.xml" not in names:
            raise ImportFileError(_("This file is not a spreadsheet (.xlsx or .csv)."), code="type")
        return ImportFile(path, name, "xlsx")
    if b"\x00" in head:
        raise ImportFileError(_("This file is not a spreadsheet (.xlsx or .csv)."), code="type")
    return ImportFile(path, name, "csv")


def iter_rows(source: ImportFile) -> Iterator[tuple[int, list]]:
    """(line number, cells) of every row after the header, the header first as line 1.
    Refuses the file (ImportFileError) at the first formula, past MAX_ROWS, or on text that is
    not UTF-8; fully blank rows are skipped."""
    rows = _xlsx_rows(source.path) if source.kind == "xlsx" else _csv_rows(source.path)
    for line, cells in enumerate(rows, start=1):
        if line > MAX_ROWS + 1:
            raise ImportFileError(too_many_message(), code="too_many")
        cells = [_cell(value, source.kind) for value in cells]
        if any(value not in (None, "") for value in cells):
            yield line, cells


def _cell(value, kind: str):
    if isinstance(value, str):
        if value.startswith("=") and (kind == "xlsx" or len(value) > 1):
            raise ImportFileError(
                _("The file has formulas: paste them as values and upload it again."),
                code="formula",
            )
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | bool) or value is None:
        return value
    return str(value)


def _xlsx_rows(path: str):
    try:
        workbook = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:
        raise ImportFileError(
            _("This .xlsx file cannot be read; open it and save it again."), code="broken"
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        if (sheet.max_row or 0) > MAX_ROWS + 1:
            raise ImportFileError(too_many_message(), code="too_many")
        yield from sheet.iter_rows(values_only=True)
    finally:
        workbook.close()


def _csv_rows(path: str):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        try:
            sample = handle.read(16384)
            handle.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS)
            except csv.Error:
                dialect = csv.excel
            yield from csv.reader(handle, dialect)
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                _("The file is not UTF-8 text: save it as “CSV UTF-8” and upload it again."),
                code="encoding",
            ) from exc
        except csv.Error as exc:
            raise ImportFileError(
                _("The CSV file cannot be read: %(error)s.") % {"error": exc}, code="broken"
            ) from exc


def read_headers(rows: Iterator[tuple[int, list]]) -> list[str]:
    """The header row (the file's first non-blank row), refused when two columns share a name
    or it is missing."""
    first = next(rows, None)
    if first is None:
        raise ImportFileError(_("The file is empty."), code="empty")
    headers = ["" if value is None else str(value).strip() for value in first[1]]
    seen: dict[str, str] = {}
    for header in headers:
        key = normalize_header(header)
        if not key:
            continue
        if key in seen:
            raise ImportFileError(
                _("Two columns are headed “%(first)s” and “%(second)s”: rename one of them.")
                % {"first": seen[key], "second": header},
                code="duplicate_header",
            )
        seen[key] = header
    if not seen:
        raise ImportFileError(_("The first row must name the columns."), code="no_header")
    return headers


# -- the rows as the preview read them -------------------------------------------------------
KEPT_ROWS_SUFFIX = ".rows.jsonl"


def kept_rows_path(path: str) -> str:
    return path + KEPT_ROWS_SUFFIX


def _cell_to_json(value):
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    return value


def _cell_from_json(document: dict):
    if "datetime" in document:
        return datetime.fromisoformat(document["datetime"])
    return date.fromisoformat(document["date"])


def rows_kept(rows: Iterator[tuple[int, list]], path: str) -> Iterator[tuple[int, list]]:
    """`rows` passed on, each also written to `path`, which appears only once every row was
    read: a file refused half-way leaves nothing behind."""
    partial = f"{path}.partial"
    try:
        with open(partial, "w", encoding="utf-8") as handle:
            for line, cells in rows:
                handle.write(json.dumps([line, [_cell_to_json(c) for c in cells]]))
                handle.write("\n")
                yield line, cells
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def kept_rows(path: str) -> Iterator[tuple[int, list]]:
    """The rows `rows_kept` wrote to `path`, as `iter_rows` gave them."""
    with open(path, encoding="utf-8") as handle:
        for text in handle:
            line, cells = json.loads(text, object_hook=_cell_from_json)
            yield line, cells
