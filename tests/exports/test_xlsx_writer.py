from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from exports.xlsx import XlsxColumn, XlsxStreamWriter, money_format, neutralise_text

COLUMNS = [
    XlsxColumn("No.", "integer"),
    XlsxColumn("When", "datetime"),
    XlsxColumn("Day", "date"),
    XlsxColumn("Amount", "money"),
    XlsxColumn("Price", "decimal4"),
    XlsxColumn("Text", "text"),
]


@pytest.mark.parametrize(
    "raw, safe",
    [
        ("=1+2", "'=1+2"),
        ("+49 30 1234", "'+49 30 1234"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("\0NUL", "NUL"),
        ("\x01=1+1", "'=1+1"),
        (" =1", "' =1"),
        ("\n@cmd", "'\n@cmd"),
        ("＝1+1", "'＝1+1"),
        ("\u200b-1", "'\u200b-1"),
        ("− 2", "'− 2"),
        ("a=1", "a=1"),
        ("plain = text", "plain = text"),
        ("", ""),
        ("bell\x07inside", "bellinside"),
    ],
)
def test_neutralise_text(raw, safe):
    assert neutralise_text(raw) == safe


def test_money_format_shows_currency():
    assert money_format("EUR") == '#,##0.00 "EUR";-#,##0.00 "EUR"'
    assert money_format('E"; x') == '#,##0.00 "Ex";-#,##0.00 "Ex"'


def write(path, rows, **kwargs):
    with XlsxStreamWriter(
        path,
        columns=COLUMNS,
        title="Ledger: test/1",
        currency="EUR",
        time_zone=ZoneInfo("Europe/Berlin"),
        **kwargs,
    ) as writer:
        writer.write_rows(rows)
    return writer


def test_cells_are_typed_formatted_and_safe(tmp_path):
    path = tmp_path / "out.xlsx"
    rows = [
        (
            1,
            datetime(2026, 1, 15, 11, 30, tzinfo=UTC),
            date(2026, 1, 15),
            Decimal("1234.50"),
            Decimal("0.0350"),
            '=HYPERLINK("http://evil")',
        ),
        (2, None, None, None, None, None),
    ]
    write(path, rows)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Ledger test1"]
    sheet = workbook.active
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == ["No.", "When", "Day", "Amount", "Price", "Text"]
    assert all(c.font.b for c in sheet[1])
    number, when, day, amount, price, text = sheet[2]
    assert (number.value, number.data_type, number.number_format) == (1, "n", "#,##0")
    assert when.value == datetime(2026, 1, 15, 12, 30)  # Berlin wall clock
    assert when.is_date and when.number_format == "yyyy-mm-dd hh:mm:ss"
    assert day.value == datetime(2026, 1, 15) and day.number_format == "yyyy-mm-dd"
    assert amount.value == 1234.5 and amount.data_type == "n"
    assert amount.number_format == money_format("EUR")
    assert price.value == 0.035 and price.number_format == "#,##0.0000"
    assert text.data_type == "s" and text.value == '\'=HYPERLINK("http://evil")'
    assert [c.value for c in sheet[3]] == [2, None, None, None, None, None]


def test_new_sheet_past_the_row_limit(tmp_path):
    path = tmp_path / "many.xlsx"
    rows = [(i, None, None, Decimal(i), None, f"r{i}") for i in range(1, 8)]
    writer = write(path, rows, rows_per_sheet=3)
    assert writer.rows_written == 7
    workbook = load_workbook(path)
    assert len(workbook.sheetnames) == 3
    counts = [ws.max_row - 1 for ws in workbook.worksheets]
    assert counts == [3, 3, 1]
    for ws in workbook.worksheets:
        assert ws.freeze_panes == "A2" and ws["A1"].value == "No."
    assert workbook.worksheets[2]["A2"].value == 7


def test_empty_export_has_header(tmp_path):
    path = tmp_path / "empty.xlsx"
    write(path, [])
    sheet = load_workbook(path).active
    assert sheet.max_row == 1 and sheet["A1"].value == "No."


def test_progress_callback(tmp_path):
    seen = []
    with XlsxStreamWriter(tmp_path / "p.xlsx", columns=COLUMNS[:1]) as writer:
        writer.write_rows(([i] for i in range(10)), on_progress=seen.append, progress_every=4)
    assert seen == [4, 8]


def test_excel_row_limit_is_the_default():
    writer = XlsxStreamWriter("unused.xlsx", columns=COLUMNS[:1])
    assert writer.rows_per_sheet == 1_048_575
    with pytest.raises(ValueError):
        XlsxStreamWriter("unused.xlsx", columns=COLUMNS[:1], rows_per_sheet=1_048_576)
