"""Excel export of the catalogue lists and import of sites and teachers from .xlsx or .csv.

Export functions turn rows into the bytes of an .xlsx (openpyxl, write-only) with Chinese
headers. ``parse_upload`` reads an uploaded .xlsx or .csv into an ``ImportPreview`` (one
``RowResult`` per data row, with its errors in Chinese) without writing anything;
``apply_import`` writes a preview without errors through the catalogue services, so every
item gets its history. The column headers are a file format shared by export and import:
they are Chinese whatever the UI language.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from portal.catalog import services
from portal.catalog.models import Course, Teacher, TeachingSite
from portal.errors import ServiceError, ValidationFailed
from portal.extensions import db
from portal.specs import WEEKDAY_NAMES

# ---------------------------------------------------------------- limits and vocabulary

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_DATA_ROWS = 2000
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_ZIP_ENTRIES = 1000
# Rows scanned at most (blank rows included) before a file is refused as too long.
MAX_SCANNED_ROWS = 100_000
XLSX_MAGIC = b"PK\x03\x04"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

KINDS = ("sites", "teachers")
ACTION_CREATE = "新建"
ACTION_UPDATE = "更新"
IMPORT_REASON = "批量导入"

# The values as they appear in files: Chinese, not translated (the file is a data format).
YES, NO = "是", "否"
STATUS_NAMES = {"active": "启用", "suspended": "暂停", "retired": "退出"}
TEACHER_KIND_NAMES = {"full_time": "专职", "part_time": "兼职"}
COURSE_KIND_NAMES = {
    "lecture": "专题讲座",
    "onsite": "现场教学",
    "case": "案例教学",
    "seminar": "研讨",
}

SITE_HEADERS = (
    "名称",
    "成员单位",
    "主题",
    "每场容量",
    "单场时长（分钟）",
    "开放日",
    "开放时间",
    "关闭时间",
    "需要讲解员",
    "地址",
    "纬度",
    "经度",
    "状态",
    "最新考核分",
    "简介",
)
SITE_WIDTHS = (28, 14, 12, 10, 16, 34, 10, 10, 11, 36, 11, 11, 8, 12, 60)
TEACHER_HEADERS = ("姓名", "成员单位", "类型", "职称", "研究方向", "共享", "状态", "简介")
TEACHER_WIDTHS = (14, 14, 8, 16, 40, 8, 8, 60)
COURSE_HEADERS = (
    "课程名称",
    "成员单位",
    "课程类型",
    "学时",
    "教学点",
    "授课师资",
    "精品课程",
    "状态",
    "简介",
)
COURSE_WIDTHS = (32, 14, 12, 8, 28, 30, 10, 8, 60)

# Text that a spreadsheet could take for a formula (OWASP, CWE-1236).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")


# ---------------------------------------------------------------- export


def safe_cell(value: Any) -> Any:
    """A value ready for a cell: text that could start a formula gets a leading apostrophe.

    Characters that the .xlsx format cannot hold (control characters) are dropped; numbers,
    booleans and None pass through unchanged.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_TRIGGERS):
        value = "'" + value
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def yes_no_text(value: bool) -> str:
    return YES if value else NO


def time_text(value: time | None) -> str:
    return value.strftime("%H:%M") if value is not None else ""


def weekdays_text(days: str) -> str:
    """Open days as people write them: 每天, 周一至周五, 周一、周三、周五."""
    numbers = sorted({int(d) for d in days or "" if d in "1234567"})
    if len(numbers) == 7:
        return "每天"
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][-1] == number - 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{WEEKDAY_NAMES[run[0]]}至{WEEKDAY_NAMES[run[-1]]}")
        else:
            parts.extend(WEEKDAY_NAMES[n] for n in run)
    return "、".join(parts)


def workbook(
    title: str, headers: Sequence[str], widths: Sequence[int], rows: Iterable[Sequence[Any]]
) -> bytes:
    """An .xlsx of one sheet: a bold, frozen header row and then ``rows``."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(ws, value=header)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        ws.append([safe_cell(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _member_name(item: Any) -> str:
    member = getattr(item, "member", None)
    return member.short_name if member is not None else ""


def _number(value: Any) -> Any:
    """Whole floats as ints (学时 2.0 → 2), others unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def site_row(site: TeachingSite, score: float | None) -> list[Any]:
    return [
        site.name,
        _member_name(site),
        site.theme,
        site.capacity,
        site.session_minutes,
        weekdays_text(site.open_weekdays),
        time_text(site.opens),
        time_text(site.closes),
        yes_no_text(site.needs_guide),
        site.address or "",
        site.latitude,
        site.longitude,
        STATUS_NAMES.get(site.status, site.status),
        _number(score),
        site.description or "",
    ]


def teacher_row(teacher: Teacher) -> list[Any]:
    return [
        teacher.name,
        _member_name(teacher),
        TEACHER_KIND_NAMES.get(teacher.kind, teacher.kind),
        teacher.title or "",
        teacher.topics or "",
        yes_no_text(teacher.shared),
        STATUS_NAMES.get(teacher.status, teacher.status),
        teacher.bio or "",
    ]


def course_row(course: Course, teachers: Sequence[Teacher] | None = None) -> list[Any]:
    """``teachers`` limits the teachers named (those the viewer may see); default all."""
    shown = course.teachers if teachers is None else teachers
    return [
        course.name,
        _member_name(course),
        COURSE_KIND_NAMES.get(course.kind, course.kind),
        _number(course.hours),
        course.site.name if course.site is not None else "",
        "、".join(t.name for t in shown),
        yes_no_text(course.excellent),
        STATUS_NAMES.get(course.status, course.status),
        course.description or "",
    ]


def sites_xlsx(rows: Iterable[TeachingSite], scores: dict[int, float] | None = None) -> bytes:
    """The sites as an .xlsx; ``scores`` maps a site id to its latest assessment score."""
    scores = scores or {}
    return workbook(
        "教学点", SITE_HEADERS, SITE_WIDTHS, (site_row(s, scores.get(s.id)) for s in rows)
    )


def teachers_xlsx(rows: Iterable[Teacher]) -> bytes:
    return workbook("师资", TEACHER_HEADERS, TEACHER_WIDTHS, (teacher_row(t) for t in rows))


def courses_xlsx(rows: Iterable[Course], visible: Callable[[Teacher], bool] | None = None) -> bytes:
    """The courses as an .xlsx; ``visible`` filters the teachers named in 授课师资."""

    def row(course: Course) -> list[Any]:
        teachers = None if visible is None else [t for t in course.teachers if visible(t)]
        return course_row(course, teachers)

    return workbook("课程", COURSE_HEADERS, COURSE_WIDTHS, (row(c) for c in rows))


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


# ---------------------------------------------------------------- import columns


@dataclass(frozen=True)
class Column:
    """An importable column: its header, the field it fills, how to read a cell.

    A blank cell gives ``blank`` (None for a required value, which validation then reports).
    """

    header: str
    field: str
    parse: Callable[[Any], Any]
    blank: Any = None


SITE_COLUMNS = (
    Column("名称", "name", parse_text),
    Column("主题", "theme", parse_text),
    Column("每场容量", "capacity", parse_int),
    Column("单场时长（分钟）", "session_minutes", parse_int, 90),
    Column("开放日", "open_weekdays", parse_weekdays, "1234567"),
    Column("开放时间", "opens", parse_time),
    Column("关闭时间", "closes", parse_time),
    Column("需要讲解员", "needs_guide", parse_yes_no, False),
    Column("地址", "address", parse_text, ""),
    Column("纬度", "latitude", parse_float),
    Column("经度", "longitude", parse_float),
    Column("简介", "description", parse_text, ""),
)
TEACHER_COLUMNS = (
    Column("姓名", "name", parse_text),
    Column("类型", "kind", parse_teacher_kind),
    Column("职称", "title", parse_text, ""),
    Column("研究方向", "topics", parse_text, ""),
    Column("共享", "shared", parse_yes_no, False),
    Column("简介", "bio", parse_text, ""),
)


@dataclass(frozen=True)
class ImportSpec:
    kind: str
    model: type
    columns: tuple[Column, ...]
    required: tuple[str, ...]
    validate: Callable[[dict[str, Any]], dict[str, Any]]
    example: tuple[Any, ...]

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)

    def header_of(self, field_name: str) -> str:
        for column in self.columns:
            if column.field == field_name:
                return column.header
        return field_name


SPECS = {
    "sites": ImportSpec(
        "sites",
        TeachingSite,
        SITE_COLUMNS,
        ("名称", "主题", "每场容量", "开放时间", "关闭时间"),
        services.validate_site,
        (
            "示例：和顺红色文化展馆",
            "革命传统",
            60,
            90,
            "周二至周日",
            "09:00",
            "17:00",
            YES,
            "保山市腾冲市和顺镇",
            25.0,
            98.46,
            "展示和顺侨乡的红色历史，适合开展现场教学。",
        ),
    ),
    "teachers": ImportSpec(
        "teachers",
        Teacher,
        TEACHER_COLUMNS,
        ("姓名", "类型"),
        services.validate_teacher,
        (
            "示例：王老师",
            "兼职",
            "副教授",
            "党史、乡村振兴",
            YES,
            "长期从事地方党史研究。",
        ),
    ),
}


def template_xlsx(kind: str) -> bytes:
    """An import template: the header row and one example row."""
    spec = SPECS[kind]
    widths = [max(12, min(40, len(str(v)) * 2 + 4)) for v in spec.example]
    title = "教学点导入模板" if kind == "sites" else "师资导入模板"
    return workbook(title, spec.headers, widths, [spec.example])


# ---------------------------------------------------------------- preview


@dataclass
class RowResult:
    """One data row: its number in the file (the header is row 1) and what importing does."""

    row: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    action: str = ACTION_CREATE
    item_id: int | None = None

    @property
    def name(self) -> str:
        return str(self.values.get("name") or "")


@dataclass
class ImportPreview:
    """What importing a file would do; nothing may be written while ``has_errors``."""

    kind: str
    rows: list[RowResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ignored_headers: list[str] = field(default_factory=list)

    @property
    def error_rows(self) -> int:
        return sum(1 for r in self.rows if r.errors)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or self.error_rows > 0

    @property
    def creates(self) -> int:
        return sum(1 for r in self.rows if r.action == ACTION_CREATE)

    @property
    def updates(self) -> int:
        return sum(1 for r in self.rows if r.action == ACTION_UPDATE)


def _file_error(kind: str, message: str) -> ImportPreview:
    return ImportPreview(kind, errors=[message])


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


def parse_upload(
    filename: str, data: bytes, kind: str, member_id: int | None = None
) -> ImportPreview:
    """Read an uploaded .xlsx or .csv of sites or teachers; write nothing.

    A row whose name is that of an item of ``member_id`` (not retired) updates it; the other
    rows create items. Problems with the file as a whole are in ``errors``, problems with a
    row in its ``RowResult.errors``: never an exception.
    """
    if kind not in SPECS:
        raise ValueError(f"unknown import kind {kind!r}")
    name = (filename or "").strip().lower()
    if not data:
        return _file_error(kind, _("文件是空的，请选择填好数据的 Excel 或 CSV 文件。"))
    if len(data) > MAX_UPLOAD_BYTES:
        return _file_error(
            kind, _("文件不能超过 %(size)s MB。", size=MAX_UPLOAD_BYTES // (1024 * 1024))
        )
    if name.endswith(".xlsx"):
        if not data.startswith(XLSX_MAGIC):
            return _file_error(kind, _("该文件不是有效的 Excel（.xlsx）文件。"))
        problem = _check_xlsx_zip(data)
        if problem:
            return _file_error(kind, problem)
        rows: Iterator[tuple[int, list[Any]]] = _xlsx_rows(data)
    elif name.endswith(".csv"):
        text = _decode_csv(data)
        if text is None:
            return _file_error(kind, _("无法识别 CSV 文件的编码，请保存为 UTF-8 编码的 CSV。"))
        rows = _csv_rows(text)
    elif name.endswith((".xls", ".et", ".xlsm", ".ods", ".numbers")):
        return _file_error(kind, _("不支持该表格格式，请在表格软件中另存为 .xlsx 或 .csv 后上传。"))
    else:
        return _file_error(kind, _("只能上传 .xlsx 或 .csv 文件。"))
    try:
        with closing(rows):
            header, data_rows, problem = _collect_rows(rows)
    except csv.Error:
        return _file_error(kind, _("无法读取该 CSV 文件，请检查文件内容。"))
    except Exception:  # openpyxl raises many kinds of errors on a broken file
        return _file_error(kind, _("无法读取该文件，请确认它是有效的 Excel（.xlsx）文件。"))
    if problem:
        return _file_error(kind, problem)
    return _build_preview(SPECS[kind], header, data_rows, member_id)


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


def _existing_items(spec: ImportSpec, member_id: int | None) -> dict[str, list[Any]]:
    if member_id is None:
        return {}
    model = spec.model
    found: dict[str, list[Any]] = {}
    for item in db.session.scalars(
        select(model)
        .where(model.member_id == member_id, model.status != "retired")
        .order_by(model.id)
    ):
        found.setdefault(item.name.strip(), []).append(item)
    return found


def _build_preview(
    spec: ImportSpec,
    header: list[Any],
    data_rows: list[tuple[int, list[Any]]],
    member_id: int | None,
) -> ImportPreview:
    preview = ImportPreview(spec.kind)
    if all(is_blank(v) for v in header):
        preview.errors.append(
            _(
                "第 1 行须为表头，至少包括：%(headers)s。",
                headers="、".join(spec.required),
            )
        )
        return preview
    known = {_header_key(c.header): c for c in spec.columns}
    positions: dict[str, int] = {}
    for index, value in enumerate(header):
        key = _header_key(value)
        if not key:
            continue
        column = known.get(key)
        if column is None:
            preview.ignored_headers.append(key[:40])
        elif column.field in positions:
            preview.errors.append(_("表头“%(header)s”出现了不止一次。", header=column.header))
        else:
            positions[column.field] = index
    missing = [h for h in spec.required if known[_header_key(h)].field not in positions]
    if missing:
        preview.errors.append(_("缺少必需的列：%(headers)s。", headers="、".join(missing)))
    if preview.errors:
        return preview

    existing = _existing_items(spec, member_id)
    seen: dict[str, int] = {}
    for number, cells in data_rows:
        values = [cells[i] if i < len(cells) else None for i in positions.values()]
        if all(is_blank(v) for v in values):
            continue
        row = dict(zip(positions, values, strict=True))
        preview.rows.append(_parse_row(spec, number, row, existing, seen))
    if not preview.errors and not preview.rows:
        preview.errors.append(_("文件中没有数据行。"))
    if preview.errors:
        preview.rows = []
    return preview


def _parse_row(
    spec: ImportSpec,
    number: int,
    cells: dict[str, Any],
    existing: dict[str, list[Any]],
    seen: dict[str, int],
) -> RowResult:
    result = RowResult(number)
    parsed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for column in spec.columns:
        if column.field not in cells:
            continue
        value = cells[column.field]
        if is_blank(value):
            parsed[column.field] = column.blank
            continue
        try:
            parsed[column.field] = column.parse(value)
        except CellError as error:
            errors[column.field] = str(error)
            parsed[column.field] = column.blank

    name = str(parsed.get("name") or "").strip()
    matches = existing.get(name, []) if name else []
    if len(matches) > 1:
        errors.setdefault(
            "name", _("本单位已有多个名为“%(name)s”的条目，无法确定要更新哪一个。", name=name[:64])
        )
    if len(matches) == 1:
        item = matches[0]
        result.action, result.item_id = ACTION_UPDATE, item.id
        values = {f: getattr(item, f) for f in services.FIELDS[spec.model]}
    else:
        values = {c.field: c.blank for c in spec.columns}
    values.update(parsed)

    try:
        values = spec.validate(values)
    except ValidationFailed as failed:
        for key, message in failed.errors.items():
            errors.setdefault(key, message)
    if name and name in seen:
        errors.setdefault("name", _("与第 %(row)s 行重名。", row=seen[name]))
    elif name:
        seen[name] = number

    result.values = {f: values.get(f) for f in services.FIELDS[spec.model] if f in values}
    order = [c.field for c in spec.columns]
    for key in sorted(errors, key=lambda k: order.index(k) if k in order else len(order)):
        result.errors.append(f"{spec.header_of(key)}：{errors[key]}")
    return result


# ---------------------------------------------------------------- apply


def apply_import(preview: ImportPreview, actor: Any, member_id: int | None) -> dict[str, int]:
    """Create and update the items of an error-free preview for ``member_id``.

    Goes through the catalogue services, so permissions hold and every item gets its
    history (reason 批量导入). Raises ServiceError before writing anything if the preview
    has an error; the caller commits, or rolls back on an error.
    """
    if preview.has_errors or not preview.rows:
        raise ServiceError(_("文件中有错误，请修改后重新上传，未导入任何数据。"))
    spec = SPECS[preview.kind]
    owner = services.acting_member_id(actor, member_id)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in preview.rows:
        if row.action == ACTION_UPDATE:
            item = db.session.get(spec.model, row.item_id)
            if item is None or item.member_id != owner or item.status == "retired":
                raise ServiceError(_("第 %(row)s 行要更新的条目已不存在。", row=row.row))
            changed = services.update_item(item, actor, dict(row.values), reason=IMPORT_REASON)
            counts["updated" if changed else "unchanged"] += 1
        else:
            services.create_item(spec.model, actor, owner, dict(row.values), reason=IMPORT_REASON)
            counts["created"] += 1
    return counts
