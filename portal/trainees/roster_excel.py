"""Rosters in Excel: the import template, reading a .xlsx/.csv into a preview, export.

The file reading (limits, zip checks, encodings) is the catalogue's
(portal/catalog/excel_reading.py); this module knows the roster's columns. Importing is two
steps: ``preview_upload`` writes only the stored upload (a ``RosterImport`` row, so any app
server can confirm it), and ``confirm_import`` parses the stored file again and applies it
in one transaction.
Re-importing a file updates the rows it matches (same mobile number or identity card):
it never duplicates a trainee.
"""

from __future__ import annotations

import csv
import hashlib
import secrets
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select

from portal.audit.services import record
from portal.catalog import excel, excel_reading
from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.extensions import db
from portal.scheduling.models import TrainingClass
from portal.timeutil import LOCAL_TZ, utcnow
from portal.trainees import roster
from portal.trainees.access import require_manager
from portal.trainees.models import RosterImport

# The file format: Chinese headers whatever the UI language. 手机号 and 姓名 are required.
COLUMNS: dict[str, str] = {
    "姓名": "name",
    "性别": "gender",
    "单位": "unit",
    "职务": "position",
    "职级": "rank",
    "手机号": "phone",
    "民族": "ethnicity",
    "政治面貌": "political_status",
    "身份证号": "id_card",
}
ALIASES = {"工作单位": "unit", "手机": "phone", "手机号码": "phone", "联系电话": "phone"}
EXAMPLE = (
    "王明",
    "男",
    "某县发展改革局",
    "副局长",
    "四级调研员",
    "13812345678",
    "汉族",
    "中共党员",
    "",
)
WIDTHS = (12, 6, 30, 16, 14, 16, 8, 12, 22)
EXPORT_HEADERS = (*COLUMNS.keys(), "账号", "已确认学前纪律")
IMPORT_TTL = timedelta(hours=2)

ACTION_CREATE = "新增"
ACTION_UPDATE = "更新"
ACTION_LINK = "新增（关联已有账号）"


@dataclass
class RosterRow:
    row: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    action: str = ACTION_CREATE

    @property
    def name(self) -> str:
        return str(self.values.get("name") or "")


@dataclass
class RosterPreview:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ignored_headers: list[str] = field(default_factory=list)

    @property
    def error_rows(self) -> int:
        return sum(1 for r in self.rows if r.errors)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or self.error_rows > 0 or not self.rows

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action and not r.errors)


def template_xlsx() -> bytes:
    return excel.workbook("学员名单导入模板", tuple(COLUMNS), WIDTHS, [EXAMPLE])


def _rows(filename: str, data: bytes) -> tuple[Iterator[tuple[int, list[Any]]] | None, str | None]:
    """The file's rows, or why it cannot be read (the catalogue's checks)."""
    name = (filename or "").strip().lower()
    if not data:
        return None, _("文件是空的，请选择填好名单的 Excel 或 CSV 文件。")
    if len(data) > excel_reading.MAX_UPLOAD_BYTES:
        return None, _("文件不能超过 %(size)s MB。", size=excel_reading.MAX_UPLOAD_BYTES >> 20)
    if name.endswith(".xlsx"):
        if not data.startswith(excel_reading.XLSX_MAGIC):
            return None, _("该文件不是有效的 Excel（.xlsx）文件。")
        problem = excel_reading._check_xlsx_zip(data)
        if problem:
            return None, problem
        return excel_reading._xlsx_rows(data), None
    if name.endswith(".csv"):
        text = excel_reading._decode_csv(data)
        if text is None:
            return None, _("无法识别 CSV 文件的编码，请保存为 UTF-8 编码的 CSV。")
        return excel_reading._csv_rows(text), None
    if name.endswith((".xls", ".et", ".xlsm", ".ods", ".numbers")):
        return None, _("不支持该表格格式，请在表格软件中另存为 .xlsx 或 .csv 后上传。")
    return None, _("只能上传 .xlsx 或 .csv 文件。")


def parse_roster(filename: str, data: bytes, training_class: TrainingClass) -> RosterPreview:
    """What importing this file into the class's roster would do; writes nothing."""
    rows, problem = _rows(filename, data)
    if problem or rows is None:
        return RosterPreview(errors=[problem or ""])
    try:
        with closing(rows):
            header, data_rows, problem = excel_reading._collect_rows(rows)
    except csv.Error:
        return RosterPreview(errors=[_("无法读取该 CSV 文件，请检查文件内容。")])
    except Exception:  # openpyxl raises many kinds of errors on a broken file
        return RosterPreview(errors=[_("无法读取该文件，请确认它是有效的 Excel（.xlsx）文件。")])
    if problem:
        return RosterPreview(errors=[problem])
    positions: dict[str, int] = {}
    ignored = []
    for index, cell in enumerate(header):
        key = excel_reading._header_key(cell)
        target = COLUMNS.get(key) or ALIASES.get(key)
        if target and target not in positions:
            positions[target] = index
        elif key:
            ignored.append(key)
    missing = [h for h, f in COLUMNS.items() if f in ("name", "phone") and f not in positions]
    if missing:
        return RosterPreview(
            errors=[
                _(
                    "第 1 行须为表头，缺少必填列：%(columns)s。请使用下载的模板。",
                    columns="、".join(missing),
                )
            ]
        )
    preview = RosterPreview(ignored_headers=ignored)
    seen: dict[str, int] = {}
    for number, cells in data_rows:
        values = {
            f: excel_reading.parse_text(cells[i])
            if i < len(cells) and not excel_reading.is_blank(cells[i])
            else ""
            for f, i in positions.items()
        }
        result = RosterRow(number, values)
        try:
            cleaned = roster.validate_trainee(values)
        except ValidationFailed as failed:
            result.errors = list(failed.errors.values())
        else:
            if cleaned.phone in seen:
                result.errors.append(_("手机号与第 %(row)s 行重复。", row=seen[cleaned.phone]))
            seen[cleaned.phone] = number
            if roster.find_entry(training_class, cleaned) is not None:
                result.action = ACTION_UPDATE
            elif roster.trainee_account(cleaned.phone) is not None:
                result.action = ACTION_LINK
        preview.rows.append(result)
    if not preview.rows:
        preview.errors.append(_("文件中没有学员数据（第 1 行为表头，从第 2 行起每行一位学员）。"))
    return preview


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def preview_upload(
    training_class: TrainingClass, actor: Any, filename: str, data: bytes
) -> tuple[RosterPreview, str | None]:
    """Parse an upload; without errors, keep it for confirmation and return its token. Commits."""
    require_manager(training_class, actor)
    preview = parse_roster(filename, data, training_class)
    if preview.has_errors:
        return preview, None
    db.session.execute(delete(RosterImport).where(RosterImport.created_at < utcnow() - IMPORT_TTL))
    token = secrets.token_urlsafe(32)
    db.session.add(
        RosterImport(
            token_hash=_digest(token),
            class_id=training_class.id,
            user_id=actor.id,
            filename=(filename or "roster")[-128:],
            data=data,
        )
    )
    db.session.commit()
    return preview, token


def confirm_import(training_class: TrainingClass, actor: Any, token: str) -> dict[str, int]:
    """Apply a stored upload (parsed again) to the roster in one transaction. Commits."""
    require_manager(training_class, actor)
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        raise NotFound(_("导入已过期，请重新上传文件。"))
    # Claimed by deleting it: two clicks on 确认导入 import once.
    stored = db.session.scalar(
        select(RosterImport).where(
            RosterImport.token_hash == _digest(token),
            RosterImport.class_id == training_class.id,
            RosterImport.user_id == actor.id,
            RosterImport.created_at >= utcnow() - IMPORT_TTL,
        )
    )
    if stored is None:
        raise NotFound(_("导入已过期，请重新上传文件。"))
    filename, data = stored.filename, stored.data
    claimed = db.session.execute(delete(RosterImport).where(RosterImport.id == stored.id)).rowcount
    if not claimed:
        raise NotFound(_("导入已过期，请重新上传文件。"))
    preview = parse_roster(filename, data, training_class)
    if preview.has_errors:
        db.session.rollback()
        raise ServiceError(_("文件中有错误，请修改后重新上传。"))
    counts = {"created": 0, "updated": 0}
    try:
        for row in preview.rows:
            _entry, action = roster.upsert_entry(
                training_class, roster.validate_trainee(row.values), source="import"
            )
            counts[action] += 1
        record(actor, "roster.import", training_class.name, **counts)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return counts


def export_xlsx(training_class: TrainingClass, actor: Any) -> bytes:
    """The roster as .xlsx, for those who see it whole (the identity card masked)."""
    require_manager(training_class, actor)
    rows = []
    for e in roster.entries_of(training_class):
        acknowledged = e.rules_acknowledged_at
        rows.append(
            (
                e.name,
                e.gender,
                e.unit,
                e.position,
                e.rank,
                e.phone,
                e.ethnicity,
                e.political_status,
                e.id_card_masked,
                e.user.username,
                acknowledged.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
                if acknowledged
                else "否",
            )
        )
    return excel.workbook("学员名单", EXPORT_HEADERS, (*WIDTHS, 16, 16), rows)
