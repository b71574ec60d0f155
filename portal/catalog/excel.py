"""Excel export of the catalogue lists, and the file format that export and import share.

Export functions turn rows into the bytes of an .xlsx (openpyxl, write-only) with Chinese
headers: ``sites_xlsx``, ``teachers_xlsx`` and ``courses_xlsx`` for the catalogue, and
``workbook`` and ``safe_cell`` (text that could start a formula is defused) for every
other export of the portal. The column headers and the words for values (是/否, statuses,
kinds) are a file format shared by export and import: they are Chinese whatever the UI
language. Reading uploaded files is in excel_reading.py, importing sites and teachers in
excel_import.py.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from datetime import time
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from portal.catalog.models import Course, Teacher, TeachingSite
from portal.specs import WEEKDAY_NAMES

# ---------------------------------------------------------------- vocabulary

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

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
