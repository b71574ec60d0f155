"""Import of sites and teachers from an uploaded .xlsx or .csv: columns, preview, apply.

``SPECS`` says, per kind (sites, teachers), which columns a file may have, which are
required and how each cell is read; ``template_xlsx`` is the file to fill in.
``parse_upload`` reads an uploaded file (through excel_reading.py) into an
``ImportPreview`` (one ``RowResult`` per data row, with its errors in Chinese) without
writing anything; a row named like an item of the member updates it, the others create
items. ``apply_import`` writes a preview without errors through the catalogue services,
so every item gets its history.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.catalog import services
from portal.catalog.excel import YES, workbook
from portal.catalog.excel_reading import (
    MAX_UPLOAD_BYTES,
    XLSX_MAGIC,
    CellError,
    _check_xlsx_zip,
    _collect_rows,
    _csv_rows,
    _decode_csv,
    _header_key,
    _xlsx_rows,
    is_blank,
    parse_float,
    parse_int,
    parse_teacher_kind,
    parse_text,
    parse_time,
    parse_weekdays,
    parse_yes_no,
)
from portal.catalog.models import Teacher, TeachingSite
from portal.errors import ServiceError, ValidationFailed
from portal.extensions import db

KINDS = ("sites", "teachers")
ACTION_CREATE = "新建"
ACTION_UPDATE = "更新"
IMPORT_REASON = "批量导入"


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
