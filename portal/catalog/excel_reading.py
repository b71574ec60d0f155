"""Reading uploaded spreadsheets: the limits on a file, its rows, and the value of a cell.

The file readers (``_check_xlsx_zip``, ``_xlsx_rows``, ``_decode_csv``, ``_csv_rows``,
``_collect_rows``) open an uploaded .xlsx or .csv within bounds (size, unpacked size,
entries, rows) and yield its rows; the cell parsers (``parse_text``, ``parse_int``,
``parse_time``, ``parse_weekdays``, ``parse_yes_no`` …) read one cell the way people
write it and raise ``CellError`` with a message for the user. Shared by the catalogue's
import (excel_import.py) and the trainee roster's (portal/trainees/roster_excel.py).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from datetime import datetime, time
from typing import Any

from flask_babel import gettext as _
from openpyxl import load_workbook

from portal.catalog.excel import FORMULA_TRIGGERS, TEACHER_KIND_NAMES, yes_no_text
from portal.specs import WEEKDAY_NAMES

# ---------------------------------------------------------------- limits

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_DATA_ROWS = 2000
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_ZIP_ENTRIES = 1000
# Rows scanned at most (blank rows included) before a file is refused as too long.
MAX_SCANNED_ROWS = 100_000
XLSX_MAGIC = b"PK\x03\x04"


# ---------------------------------------------------------------- cell parsing


class CellError(ValueError):
    """A cell that cannot be read; the message is shown to the user."""


def _norm(value: str) -> str:
    """Full-width digits, colons and parentheses as ASCII; surrounding blanks removed."""
    return unicodedata.normalize("NFKC", value).strip()


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_text(value: Any) -> str:
    if isinstance(value, bool):
        return yes_no_text(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.strftime("%Y-%m-%d %H:%M")
    elif isinstance(value, time):
        value = value.strftime("%H:%M")
    text = str(value).strip()
    # Undo the export's formula guard, so that an exported file imports unchanged.
    if text.startswith("'") and text[1:2] and text[1:].startswith(FORMULA_TRIGGERS):
        text = text[1:]
    return text


def parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise CellError(_("须为整数。"))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CellError(_("须为整数。"))
    text = _norm(str(value))
    if re.fullmatch(r"[+-]?\d{1,9}(\.0+)?", text):
        return int(text.split(".")[0])
    raise CellError(_("“%(value)s”不是有效的整数。", value=str(value)[:40]))


def parse_float(value: Any) -> float:
    if isinstance(value, bool):
        raise CellError(_("须为数字。"))
    if isinstance(value, int | float):
        return float(value)
    text = _norm(str(value))
    if re.fullmatch(r"[+-]?(\d{1,4}(\.\d{0,12})?|\.\d{1,12})", text):
        return float(text)
    raise CellError(_("“%(value)s”不是有效的数字。", value=str(value)[:40]))


def parse_time(value: Any) -> time:
    if isinstance(value, datetime):
        return value.time().replace(second=0, microsecond=0, tzinfo=None)
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    if isinstance(value, float) and 0 <= value < 1:
        # A time that a spreadsheet kept as a fraction of a day.
        minutes = round(value * 24 * 60)
        if minutes < 24 * 60:
            return time(minutes // 60, minutes % 60)
    text = _norm(str(value))
    match = re.fullmatch(r"(\d{1,2})[:.](\d{2})(:\d{2})?", text)
    if match and int(match[1]) < 24 and int(match[2]) < 60:
        return time(int(match[1]), int(match[2]))
    raise CellError(
        _("“%(value)s”不是有效的时间，请写成 09:00 这样的格式。", value=str(value)[:40])
    )


DAY_NAMES = {
    **{name: str(number) for number, name in WEEKDAY_NAMES.items()},
    **{"星期" + name[1]: str(number) for number, name in WEEKDAY_NAMES.items()},
    "周天": "7",
    "星期天": "7",
}
ALL_DAYS = {"每天", "每日", "全周", "全天", "天天"}
DAY_RANGE = re.compile(r"(.+?)(?:至|到|~|～|-|—|–)(.+)")


def _day(token: str) -> str:
    if token in DAY_NAMES:
        return DAY_NAMES[token]
    if re.fullmatch(r"[1-7]", token):
        return token
    raise CellError(_("“%(value)s”不是有效的开放日。", value=token[:20]))


def parse_weekdays(value: Any) -> str:
    """开放日 as 周一、周二…, 1234567, 每天 or a range such as 周二至周日: ISO weekday digits."""
    if isinstance(value, bool):
        raise CellError(_("开放日无效。"))
    if isinstance(value, int | float):
        value = parse_text(value)
    text = _norm(str(value))
    if text in ALL_DAYS:
        return "1234567"
    days: set[str] = set()
    for token in re.split(r"[、,，;；/\s]+", text):
        if not token:
            continue
        if token in ALL_DAYS:
            days.update("1234567")
        elif re.fullmatch(r"[1-7]+", token):
            days.update(token)
        elif token in DAY_NAMES:
            days.add(DAY_NAMES[token])
        elif match := DAY_RANGE.fullmatch(token):
            first, last = int(_day(match[1])), int(_day(match[2]))
            if first > last:
                raise CellError(_("“%(value)s”不是有效的开放日。", value=token[:20]))
            days.update(str(d) for d in range(first, last + 1))
        else:
            raise CellError(_("“%(value)s”不是有效的开放日。", value=token[:20]))
    if not days:
        raise CellError(_("开放日无效。"))
    return "".join(sorted(days))


TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "需要", "共享", "有"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "×", "不需要", "不共享", "无"}


def parse_yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = _norm(str(value)).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError(_("请填写“是”或“否”。"))


def parse_teacher_kind(value: Any) -> str:
    text = _norm(str(value))
    for key, name in TEACHER_KIND_NAMES.items():
        if text in (name, key):
            return key
    raise CellError(_("请填写“专职”或“兼职”。"))


# ---------------------------------------------------------------- files


def _check_xlsx_zip(data: bytes) -> str | None:
    """Why this zip cannot be a workbook we open (too big unpacked, not an .xlsx), or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return _("无法读取该文件，请确认它是有效的 Excel（.xlsx）文件。")
    if len(infos) > MAX_ZIP_ENTRIES:
        return _("该 Excel 文件结构异常（包含的部件过多），无法读取。")
    if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
        return _("该 Excel 文件解压后超过 %(size)s MB，无法导入。", size=MAX_UNPACKED_BYTES >> 20)
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        return _("该文件不是有效的 Excel（.xlsx）文件。")
    return None


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cell values) of the first sheet, read with openpyxl in read-only mode."""
    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        if not wb.worksheets:
            return
        ws = wb.worksheets[0]
        # The stored dimensions may lie: read what is there instead.
        ws.reset_dimensions()
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        wb.close()


def _decode_csv(data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _csv_rows(text: str) -> Iterator[tuple[int, list[Any]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for number, row in enumerate(reader, start=1):
        yield number, list(row)


def _header_key(value: Any) -> str:
    return _norm(str(value)) if value is not None else ""


def _collect_rows(
    rows: Iterator[tuple[int, list[Any]]],
) -> tuple[list[Any], list[tuple[int, list[Any]]], str | None]:
    """The header and the non-blank data rows of a file, within the limits, or a problem."""
    first = next(rows, None)
    header = first[1] if first is not None else []
    data: list[tuple[int, list[Any]]] = []
    width = max(len(header), 1)
    for number, cells in rows:
        if number > MAX_SCANNED_ROWS:
            return (
                header,
                [],
                _(
                    "文件行数过多，请删除多余的空行，或拆分为每个不超过 %(max)s 行的文件。",
                    max=MAX_DATA_ROWS,
                ),
            )
        cells = cells[:width]
        if all(is_blank(v) for v in cells):
            continue
        if len(data) >= MAX_DATA_ROWS:
            return (
                header,
                [],
                _("一个文件最多导入 %(max)s 行数据，请拆分后分批导入。", max=MAX_DATA_ROWS),
            )
        data.append((number, cells))
    return header, data, None
