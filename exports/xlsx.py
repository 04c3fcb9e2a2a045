"""Streaming .xlsx writing shared by every export (ledger, messaging statistics, ...).

openpyxl in write-only mode: rows go to a temporary XML stream as they come, so memory does not
grow with the number of rows. Each column declares its type, and cells get real numbers and
dates with number formats (money in the tenant's currency), a bold header row, frozen panes
under the header, and a new sheet past Excel's 1,048,576 rows.

No cell is ever a formula: every text cell is written as an explicit string (never `<f>`),
characters that XML cannot hold are dropped first, and text whose first visible character a
spreadsheet would read as the start of a formula (= + - @, their full-width and small forms, the
minus sign), once leading blanks, line breaks and invisible characters are skipped, gets a leading
apostrophe (OWASP CSV/formula injection advice), so that it stays text when re-typed or saved as
CSV too.

    columns = [XlsxColumn("Date", "datetime"), XlsxColumn("Amount", "money"), ...]
    with XlsxStreamWriter(path, columns=columns, title="Ledger", currency="EUR",
                          time_zone=tenant.zone) as writer:
        writer.write_rows(rows, on_progress=callback)
"""

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils.translation import gettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

EXCEL_MAX_ROWS = 1_048_576
MAX_DATA_ROWS_PER_SHEET = EXCEL_MAX_ROWS - 1  # one row for the header
FORMULA_SIGNS = frozenset("=+-@\u2212")  # with NFKC, also ＝＋－＠ and ﹦﹢﹣﹫
LEADING_BREAKS = ("\t", "\r")  # OWASP lists them as formula starters on their own
# Skipped before the first visible character: spreadsheets and CSV importers trim them.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})
SHEET_TITLE_MAX = 31

NUMBER_FORMATS = {
    "text": "@",
    "integer": "#,##0",
    "number": "#,##0.00",
    "decimal4": "#,##0.0000",
    "percent": "0.00%",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm:ss",
}


def money_format(currency: str) -> str:
    """E.g. #,##0.00 "EUR" — the currency shown in every money cell, the value a number."""
    code = "".join(ch for ch in (currency or "") if ch.isalnum())[:3]
    return f'#,##0.00 "{code}";-#,##0.00 "{code}"' if code else "#,##0.00"


def first_visible_character(value: str) -> str:
    """The character a spreadsheet would start reading at, or "" when there is none."""
    for ch in value:
        if not ch.isspace() and unicodedata.category(ch) not in INVISIBLE_CATEGORIES:
            return ch
    return ""


def starts_like_formula(value: str) -> bool:
    """Would a spreadsheet (or a CSV import of it) start a formula with this text?"""
    if value.startswith(LEADING_BREAKS):
        return True
    first = first_visible_character(value)
    return bool(first) and (
        first in FORMULA_SIGNS or unicodedata.normalize("NFKC", first)[:1] in FORMULA_SIGNS
    )


def neutralise_text(value: str) -> str:
    """Text safe to open in a spreadsheet: no characters XML refuses, then never a formula.

    The order matters: a character XML refuses in front of "=" would hide the sign from the
    check and then be dropped, leaving a live formula."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if starts_like_formula(value) else value


def text_cell(sheet, value: str) -> WriteOnlyCell:
    """A cell that holds text as text: openpyxl never infers a formula from it."""
    cell = WriteOnlyCell(sheet, value=neutralise_text(value))
    cell.data_type = "s"
    return cell


@dataclass(frozen=True)
class XlsxColumn:
    header: str
    kind: str = "text"  # text, integer, number, decimal4, money, percent, date, datetime
    width: float | None = None


class XlsxStreamWriter:
    """Write rows (sequences of values in column order) to an .xlsx file, streaming."""

    def __init__(
        self,
        target,
        *,
        columns: list[XlsxColumn],
        title: str = "Export",
        currency: str = "",
        time_zone: ZoneInfo | None = None,
        rows_per_sheet: int = MAX_DATA_ROWS_PER_SHEET,
    ):
        if not 0 < rows_per_sheet <= MAX_DATA_ROWS_PER_SHEET:
            raise ValueError(f"rows_per_sheet must be 1..{MAX_DATA_ROWS_PER_SHEET}")
        self.target = target
        self.columns = columns
        self.title = self._sheet_title(title)
        self.time_zone = time_zone
        self.rows_per_sheet = rows_per_sheet
        self.currency = currency
        self.workbook = Workbook(write_only=True)
        self.rows_written = 0
        self.sheet = None
        self.sheet_rows = 0
        self.sheet_count = 0
        self.header_font = Font(bold=True)
        self._set_columns(columns)

    def _set_columns(self, columns: list[XlsxColumn]) -> None:
        self.columns = columns
        self.formats = [
            money_format(self.currency) if c.kind == "money" else NUMBER_FORMATS[c.kind]
            for c in columns
        ]
        # Style a template cell per column once; every data cell shares its style array.
        self._converters = [self._converter(c.kind) for c in columns]
        self._template_styles = []
        probe = self.workbook.create_sheet("probe")
        for fmt in self.formats:
            cell = WriteOnlyCell(probe)
            cell.number_format = fmt
            self._template_styles.append(cell._style)
        self.workbook.remove(probe)

    def start_sheet(self, title: str, columns: list[XlsxColumn]) -> None:
        """Begin another sheet with its own title and columns (a workbook of several reports);
        the rows written next go there."""
        self.title = self._sheet_title(title)
        self.sheet_count = 0
        self._set_columns(columns)
        self._new_sheet()

    # -- life cycle ---------------------------------------------------------------------------
    def __enter__(self) -> "XlsxStreamWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()

    def close(self) -> None:
        if self.sheet is None:
            self._new_sheet()  # an empty export still has its header
        self.workbook.save(self.target)

    # -- writing ------------------------------------------------------------------------------
    @staticmethod
    def _sheet_title(title: str) -> str:
        """A name Excel accepts: no characters XML refuses, none of []:*?/\\, no apostrophe at
        either end."""
        title = ILLEGAL_CHARACTERS_RE.sub("", str(title))
        cleaned = "".join(ch for ch in title if ch not in "[]:*?/\\")
        return cleaned.strip().strip("'").strip()[:SHEET_TITLE_MAX].strip() or gettext("Export")

    def _new_sheet(self) -> None:
        self.sheet_count += 1
        name = self.title if self.sheet_count == 1 else f"{self.title[:26]} ({self.sheet_count})"
        sheet = self.workbook.create_sheet(name)
        sheet.freeze_panes = "A2"
        for index, column in enumerate(self.columns, start=1):
            width = column.width or max(12, min(60, len(str(column.header)) + 4))
            sheet.column_dimensions[get_column_letter(index)].width = width
        header = []
        for column in self.columns:
            cell = text_cell(sheet, str(column.header))
            cell.font = self.header_font
            cell.alignment = Alignment(vertical="center")
            header.append(cell)
        sheet.append(header)
        self.sheet = sheet
        self.sheet_rows = 0

    def _converter(self, kind: str) -> Callable:
        zone = self.time_zone

        def as_text(value):
            if value is None:
                return None
            return neutralise_text(value if isinstance(value, str) else str(value))

        def as_number(value):
            if value is None or value == "":
                return None
            if isinstance(value, bool):
                return int(value)
            if isinstance(value, int | float | Decimal):
                return value
            return Decimal(str(value))

        def as_datetime(value):
            if value is None:
                return None
            if isinstance(value, datetime):
                if value.tzinfo is not None:  # Excel has no time zones: the tenant's wall clock
                    value = value.astimezone(zone) if zone else value
                    value = value.replace(tzinfo=None)
                return value
            return value if isinstance(value, date) else as_text(value)

        def as_date(value):
            if isinstance(value, datetime):
                return as_datetime(value).date()
            return value if isinstance(value, date) or value is None else as_text(value)

        if kind == "text":
            return as_text
        if kind == "datetime":
            return as_datetime
        if kind == "date":
            return as_date
        return as_number

    def write_row(self, values) -> None:
        if self.sheet is None or self.sheet_rows >= self.rows_per_sheet:
            self._new_sheet()
        sheet = self.sheet
        cells = []
        for value, convert, style in zip(
            values, self._converters, self._template_styles, strict=True
        ):
            cell = WriteOnlyCell(sheet, value=convert(value))
            if isinstance(cell.value, str):  # text stays text, never an inferred formula
                cell.data_type = "s"
            cell._style = style
            cells.append(cell)
        sheet.append(cells)
        self.sheet_rows += 1
        self.rows_written += 1

    def write_rows(
        self,
        rows: Iterable,
        *,
        on_progress: Callable[[int], None] | None = None,
        progress_every: int = 5000,
    ) -> int:
        """Write every row; `on_progress(rows_written)` every `progress_every` rows."""
        for values in rows:
            self.write_row(values)
            if on_progress is not None and self.rows_written % progress_every == 0:
                on_progress(self.rows_written)
        return self.rows_written
