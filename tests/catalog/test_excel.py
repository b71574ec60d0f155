"""Excel: lists export to .xlsx; member staff import sites and teachers with a preview."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import time
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from portal.auth.models import User
from portal.catalog import excel, excel_import, excel_reading, services
from portal.catalog.models import CatalogChange, Course, Teacher, TeachingSite
from portal.extensions import db
from portal.members.models import Member
from tests.conftest import login

pytestmark = pytest.mark.db

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SITE_HEADER = [
    "名称",
    "主题",
    "每场容量",
    "单场时长（分钟）",
    "开放日",
    "开放时间",
    "关闭时间",
    "需要讲解员",
    "地址",
    "简介",
]
TEACHER_HEADER = ["姓名", "类型", "职称", "研究方向", "共享", "简介"]


# ---------------------------------------------------------------- helpers


def member_id(key: str) -> int:
    return db.session.scalar(select(Member.id).where(Member.key == key))


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def read_xlsx(data: bytes) -> list[tuple]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return list(wb.worksheets[0].iter_rows(values_only=True))


def make_xlsx(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def make_csv(rows: list[list], encoding: str) -> bytes:
    lines = [",".join(str(v) for v in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def upload(client, kind: str, data: bytes, filename: str, **fields):
    return client.post(
        f"/{kind}/import",
        data={"file": (io.BytesIO(data), filename), **fields},
        content_type="multipart/form-data",
    )


def token_of(response) -> str:
    match = re.search(
        r'name="token" type="hidden" value="([^"]+)"', response.get_data(as_text=True)
    )
    assert match, "no confirm form on the page"
    return match.group(1)


def confirm(client, kind: str, token: str):
    return client.post(f"/{kind}/import/confirm", data={"token": token})


def flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def site_named(name: str) -> TeachingSite | None:
    db.session.expire_all()
    return db.session.scalar(select(TeachingSite).where(TeachingSite.name == name))


def good_site(name: str, **overrides) -> list:
    row = {
        "名称": name,
        "主题": "革命传统",
        "每场容量": 40,
        "单场时长（分钟）": 60,
        "开放日": "周一至周五",
        "开放时间": "09:00",
        "关闭时间": "17:30",
        "需要讲解员": "是",
        "地址": "保山市隆阳区",
        "简介": "红色驿站",
    }
    row.update(overrides)
    return [row[h] for h in SITE_HEADER]


# ---------------------------------------------------------------- unit: cells


def test_safe_cell_guards_formulas():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")'):
        assert excel.safe_cell(text).startswith("'"), text
    assert excel.safe_cell("\x00=cmd") == "'=cmd"
    assert excel.safe_cell("党性教育") == "党性教育"
    assert excel.safe_cell("a=b") == "a=b"
    assert excel.safe_cell(5) == 5
    assert excel.safe_cell(-5) == -5
    assert excel.safe_cell(2.5) == 2.5
    assert excel.safe_cell(None) is None
    assert excel.safe_cell("bad\x01char") == "badchar"


def test_cell_parsers():
    assert excel_reading.parse_weekdays("每天") == "1234567"
    assert excel_reading.parse_weekdays("周一、周三，周五") == "135"
    assert excel_reading.parse_weekdays("星期二至星期日") == "234567"
    assert excel_reading.parse_weekdays(12345) == "12345"
    assert excel.weekdays_text("123456") == "周一至周六"
    assert excel.weekdays_text("1357") == "周一、周三、周五、周日"
    for text in ("每天", "周一至周五", "周一、周三、周五、周日", "周二、周三"):
        assert excel.weekdays_text(excel_reading.parse_weekdays(text)) == text
    with pytest.raises(excel_reading.CellError):
        excel_reading.parse_weekdays("周八")
    assert excel_reading.parse_time("9:05") == time(9, 5)
    assert excel_reading.parse_time("０９：３０") == time(9, 30)
    assert excel_reading.parse_time(time(8, 0)) == time(8, 0)
    with pytest.raises(excel_reading.CellError):
        excel_reading.parse_time("25:00")
    assert excel_reading.parse_int("１２") == 12
    assert excel_reading.parse_int(40.0) == 40
    with pytest.raises(excel_reading.CellError):
        excel_reading.parse_int("四十")
    assert excel_reading.parse_yes_no("是") is True and excel_reading.parse_yes_no("否") is False
    assert excel_reading.parse_teacher_kind("兼职") == "part_time"


# ---------------------------------------------------------------- export


def test_export_sites_with_chinese_headers_and_filters(demo, client):
    response = client.get("/sites/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == XLSX_TYPE
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''%E6%95%99%E5%AD%A6%E7%82%B9_" in disposition  # 教学点_
    rows = read_xlsx(response.data)
    assert list(rows[0]) == list(excel.SITE_HEADERS)
    assert rows[0][:4] == ("名称", "成员单位", "主题", "每场容量")
    active = db.session.scalar(
        select(func.count()).select_from(TeachingSite).where(TeachingSite.status == "active")
    )
    assert len(rows) - 1 == active

    party = member_id("party_school")
    rows = read_xlsx(client.get(f"/sites/export.xlsx?member={party}").data)
    names = {r[0] for r in rows[1:]}
    expected = set(
        db.session.scalars(select(TeachingSite.name).where(TeachingSite.member_id == party))
    )
    assert names == expected and len(rows) == 5
    assert {r[1] for r in rows[1:]} == {"市委党校"}
    first = rows[1]
    assert re.fullmatch(r"\d\d:\d\d", first[6]) and first[8] in ("是", "否")

    rows = read_xlsx(client.get("/sites/export.xlsx?q=纪念馆").data)
    assert rows[1:] and all("纪念馆" in (r[0] + (r[14] or "") + (r[9] or "")) for r in rows[1:])


def test_export_sheet_is_formatted(demo, client):
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/courses/export.xlsx").data))
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.b
    assert ws.column_dimensions["A"].width >= 20


def test_export_bad_filters_are_400(demo, client):
    assert client.get("/sites/export.xlsx?status=bogus").status_code == 400
    assert client.get("/sites/export.xlsx?min_capacity=abc").status_code == 400
    assert client.get("/teachers/export.xlsx?kind=nobody").status_code == 400
    assert client.get("/courses/export.xlsx?page=0").status_code == 400


def test_export_teachers_respects_visibility(demo, client):
    rows = read_xlsx(client.get("/teachers/export.xlsx").data)
    assert list(rows[0]) == list(excel.TEACHER_HEADERS)
    shared = set(
        db.session.scalars(
            select(Teacher.name).where(Teacher.shared.is_(True), Teacher.status == "active")
        )
    )
    assert {r[0] for r in rows[1:]} == shared
    assert {r[5] for r in rows[1:]} == {"是"}
    assert {r[2] for r in rows[1:]} <= {"专职", "兼职"}

    login(client, "party_school_staff")
    rows = read_xlsx(client.get("/teachers/export.xlsx").data)
    party = member_id("party_school")
    own = set(db.session.scalars(select(Teacher.name).where(Teacher.member_id == party)))
    assert {r[0] for r in rows[1:]} == shared | own
    # A filter of the list page applies: only the member's part-time teachers.
    rows = read_xlsx(client.get(f"/teachers/export.xlsx?member={party}&kind=part_time").data)
    assert [r[0] for r in rows[1:]] == ["陈志远"]


def test_export_courses(demo, client):
    response = client.get("/courses/export.xlsx")
    assert response.status_code == 200
    assert "%E8%AF%BE%E7%A8%8B_" in response.headers["Content-Disposition"]  # 课程_
    rows = read_xlsx(response.data)
    assert list(rows[0]) == list(excel.COURSE_HEADERS)
    active = db.session.scalar(
        select(func.count()).select_from(Course).where(Course.status == "active")
    )
    assert len(rows) - 1 == active
    assert {r[6] for r in rows[1:]} <= {"是", "否"}
    songshan = member_id("songshan_base")
    rows = read_xlsx(client.get(f"/courses/export.xlsx?member={songshan}").data)
    assert len(rows) > 1 and {r[1] for r in rows[1:]} == {"松山基地"}


def test_export_guards_against_formula_injection(demo, client):
    office = user("office")
    services.create_item(
        TeachingSite,
        office,
        member_id("party_school"),
        {
            "name": '=HYPERLINK("http://evil.example","点我")',
            "theme": "党性教育",
            "description": "+cmd|' /C calc'!A0",
            "address": "@SUM(1+1)",
            "capacity": 30,
            "session_minutes": 60,
            "open_weekdays": "12345",
            "opens": time(9, 0),
            "closes": time(17, 0),
        },
    )
    db.session.commit()
    rows = read_xlsx(client.get("/sites/export.xlsx?q=HYPERLINK").data)
    assert len(rows) == 2
    name, address, description = rows[1][0], rows[1][9], rows[1][14]
    assert name == '\'=HYPERLINK("http://evil.example","点我")'
    assert description.startswith("'+") and address.startswith("'@")
    # The cell holds text, not a formula.
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/sites/export.xlsx?q=HYPERLINK").data))
    assert wb.worksheets[0]["A2"].data_type == "s"


# ---------------------------------------------------------------- import: happy paths


def test_import_template(demo, client):
    login(client, "party_school_staff")
    response = client.get("/sites/import/template.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX_TYPE
    rows = read_xlsx(response.data)
    assert list(rows[0]) == list(excel_import.SPECS["sites"].headers) and len(rows) == 2
    rows = read_xlsx(client.get("/teachers/import/template.xlsx").data)
    assert rows[0][:2] == ("姓名", "类型") and len(rows) == 2


def test_import_page_explains_the_file(demo, client):
    login(client, "party_school_staff")
    page = client.get("/sites/import").get_data(as_text=True)
    assert 'type="file"' in page and 'for="file"' in page
    assert "名称、主题、每场容量、开放时间、关闭时间" in page
    assert "/sites/import/template.xlsx" in page
    assert 'name="member_id"' not in page  # staff import into their own member only
    client.post("/logout")
    login(client, "office")
    assert 'name="member_id"' in client.get("/teachers/import").get_data(as_text=True)


def test_import_sites_xlsx_preview_then_confirm(demo, client):
    login(client, "party_school_staff")
    before = count(TeachingSite)
    data = make_xlsx(
        [
            SITE_HEADER + ["状态", "备注"],
            good_site("怒江红色驿站"),
            good_site("高黎贡山生态教育点", 开放时间=time(8, 30), 开放日="每天", 需要讲解员="否"),
        ]
    )
    response = upload(client, "sites", data, "教学点.xlsx")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "共 2 行，0 行有错误。" in page
    assert "将新建 2 条，更新 0 条。" in page
    assert "怒江红色驿站" in page and "确认导入" in page
    assert count(TeachingSite) == before  # nothing written by the preview

    token = token_of(response)
    response = confirm(client, "sites", token)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/sites")
    assert "已导入：新建 2 条，更新 0 条。" in flashes(client)

    assert count(TeachingSite) == before + 2
    site = site_named("高黎贡山生态教育点")
    assert site.member_id == member_id("party_school")
    assert site.opens == time(8, 30) and site.closes == time(17, 30)
    assert site.open_weekdays == "1234567" and site.needs_guide is False
    assert site.capacity == 40 and site.session_minutes == 60
    first = site_named("怒江红色驿站")
    assert first.open_weekdays == "12345" and first.needs_guide is True
    entries = db.session.scalars(
        select(CatalogChange).where(
            CatalogChange.item_type == "site", CatalogChange.item_id == site.id
        )
    ).all()
    assert [e.action for e in entries] == ["create"]
    assert entries[0].actor_id == user("party_school_staff").id
    assert entries[0].reason == "批量导入"
    # The stored upload is gone: the same token cannot be used twice.
    assert confirm(client, "sites", token).status_code == 404
    assert count(TeachingSite) == before + 2


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_import_teachers_csv(demo, client, encoding):
    login(client, "songshan_base_admin")
    before = count(Teacher)
    data = make_csv(
        [
            TEACHER_HEADER,
            ["许文娟", "专职", "讲师", "抗战史、党史", "是", "长期研究滇西抗战"],
            ["马骏", "兼职", "", "", "否", ""],
        ],
        encoding,
    )
    response = upload(client, "teachers", data, "师资.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "共 2 行，0 行有错误。" in page and "许文娟" in page
    response = confirm(client, "teachers", token_of(response))
    assert response.status_code == 302 and response.headers["Location"].endswith("/teachers")
    assert "已导入：新建 2 条，更新 0 条。" in flashes(client)
    assert count(Teacher) == before + 2
    db.session.expire_all()
    teacher = db.session.scalar(select(Teacher).where(Teacher.name == "许文娟"))
    assert teacher.kind == "full_time" and teacher.shared is True
    assert teacher.topics == "抗战史、党史" and teacher.member_id == member_id("songshan_base")
    other = db.session.scalar(select(Teacher).where(Teacher.name == "马骏"))
    assert other.kind == "part_time" and other.shared is False
    assert (
        db.session.scalar(
            select(CatalogChange.action).where(
                CatalogChange.item_type == "teacher", CatalogChange.item_id == teacher.id
            )
        )
        == "create"
    )


def test_import_updates_an_existing_site_by_name(demo, client):
    login(client, "party_school_staff")
    site = site_named("党校主报告厅")
    before = count(TeachingSite)
    old_capacity = site.capacity
    row = good_site("党校主报告厅", 每场容量=old_capacity + 11, 主题=site.theme)
    response = upload(client, "sites", make_xlsx([SITE_HEADER, row]), "update.xlsx")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "将新建 0 条，更新 1 条。" in page and "更新" in page
    response = confirm(client, "sites", token_of(response))
    assert "已导入：新建 0 条，更新 1 条。" in flashes(client)
    assert count(TeachingSite) == before
    site = site_named("党校主报告厅")
    assert site.capacity == old_capacity + 11 and site.edited_locally
    entry = db.session.scalar(
        select(CatalogChange)
        .where(CatalogChange.item_type == "site", CatalogChange.item_id == site.id)
        .order_by(CatalogChange.id.desc())
    )
    assert entry.action == "edit" and entry.reason == "批量导入"
    assert entry.changes["capacity"] == [str(old_capacity), str(old_capacity + 11)]


def test_exported_file_imports_back_unchanged(demo, client):
    login(client, "tengchong_college_staff")
    tengchong = member_id("tengchong_college")
    data = client.get(f"/sites/export.xlsx?member={tengchong}").data
    before = count(CatalogChange)
    response = upload(client, "sites", data, "教学点.xlsx")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "将新建 0 条，更新 5 条。" in page
    confirm(client, "sites", token_of(response))
    assert any(m.startswith("已导入：新建 0 条，更新 0 条。") for m in flashes(client))
    assert count(CatalogChange) == before


def test_office_chooses_the_member(demo, client):
    login(client, "office")
    data = make_xlsx([SITE_HEADER, good_site("环线办导入点")])
    response = upload(client, "sites", data, "a.xlsx")
    assert response.status_code == 400
    assert "请选择所属成员单位。" in response.get_data(as_text=True)
    yang = member_id("yangshanzhou_college")
    response = upload(client, "sites", data, "a.xlsx", member_id=str(yang))
    assert response.status_code == 200
    confirm(client, "sites", token_of(response))
    assert site_named("环线办导入点").member_id == yang


def test_staff_import_into_their_own_member_only(demo, client):
    login(client, "party_school_staff")
    other = member_id("songshan_base")
    data = make_xlsx([SITE_HEADER, good_site("松山基地（冒名）")])
    response = upload(client, "sites", data, "a.xlsx", member_id=str(other))
    assert response.status_code == 200
    confirm(client, "sites", token_of(response))
    assert site_named("松山基地（冒名）").member_id == member_id("party_school")
    # A name of another member's site does not update it: it is a new site of one's own.
    response = upload(
        client, "sites", make_xlsx([SITE_HEADER, good_site("松山战役遗址")]), "b.xlsx"
    )
    assert "将新建 1 条，更新 0 条。" in response.get_data(as_text=True)


# ---------------------------------------------------------------- import: errors


def test_bad_rows_are_shown_and_nothing_is_written(demo, client):
    login(client, "party_school_staff")
    before_sites, before_changes = count(TeachingSite), count(CatalogChange)
    data = make_xlsx(
        [
            SITE_HEADER,
            good_site("正常的一行"),
            good_site("容量为负", 每场容量=-5),
            good_site("时间颠倒", 开放时间="18:00", 关闭时间="09:00"),
            good_site(None),
            good_site("长" * 5001),
            good_site("乱写", 每场容量="很多", 开放日="周八", 需要讲解员="也许"),
        ]
    )
    response = upload(client, "sites", data, "bad.xlsx")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "共 6 行，5 行有错误。" in page
    assert "文件中有错误，请修改后重新上传，未导入任何数据。" in page
    assert "每场容量：每场容量须为 1 到 10000 之间的整数。" in page
    assert "关闭时间：关闭时间须晚于开放时间。" in page
    assert "名称：请填写名称。" in page
    assert "名称：名称不能超过 128 个字符。" in page
    assert "每场容量：“很多”不是有效的整数。" in page
    assert "开放日：“周八”不是有效的开放日。" in page
    assert "需要讲解员：请填写“是”或“否”。" in page
    assert page.count('class="table-danger"') == 5
    # Row numbers are those of the file (the header is row 1).
    assert re.search(r'class="table-danger" data-row="3"', page)
    assert 'name="token"' not in page and "确认导入" not in page
    # Confirming anyway finds no stored upload.
    assert confirm(client, "sites", "A" * 43).status_code == 404
    assert count(TeachingSite) == before_sites
    assert count(CatalogChange) == before_changes


def test_duplicate_names_in_the_file(demo, client):
    login(client, "party_school_staff")
    before = count(Teacher)
    data = make_csv(
        [TEACHER_HEADER, ["王一", "专职", "", "", "是", ""], ["王一", "兼职", "", "", "否", ""]],
        "utf-8",
    )
    response = upload(client, "teachers", data, "t.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "姓名：与第 2 行重名。" in page
    assert "共 2 行，1 行有错误。" in page
    assert count(Teacher) == before


def test_teacher_kind_is_checked(demo, client):
    login(client, "party_school_staff")
    data = make_csv(
        [TEACHER_HEADER, ["赵六", "临时工", "", "", "", ""], ["钱七", "", "", "", "", ""]], "utf-8"
    )
    page = upload(client, "teachers", data, "t.csv").get_data(as_text=True)
    assert "类型：请填写“专职”或“兼职”。" in page
    assert "类型：请选择专职或兼职。" in page


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("random.xlsx", bytes(range(256)) * 8, "该文件不是有效的 Excel（.xlsx）文件。"),
        (
            "fake.xlsx",
            b"PK\x03\x04" + b"\x00" * 200,
            "无法读取该文件，请确认它是有效的 Excel（.xlsx）文件。",
        ),
        ("notes.xlsx", _zip({"a.txt": b"hello"}), "该文件不是有效的 Excel（.xlsx）文件。"),
        (
            "broken.xlsx",
            _zip({"[Content_Types].xml": b"<nope", "xl/workbook.xml": b"<broken"}),
            "无法读取该文件，请确认它是有效的 Excel（.xlsx）文件。",
        ),
        (
            "bomb.xlsx",
            _zip(
                {
                    "[Content_Types].xml": b"x",
                    "xl/workbook.xml": b"x",
                    "xl/big.xml": b"\x00" * (51 * 1024 * 1024),
                }
            ),
            "该 Excel 文件解压后超过 50 MB，无法导入。",
        ),
        ("empty.xlsx", b"", "文件是空的"),
        ("empty.csv", b"", "文件是空的"),
        ("blank.csv", b"\r\n\r\n", "第 1 行须为表头"),
        (
            "missing.csv",
            "名称,地址\r\n某地,某处\r\n".encode(),
            "缺少必需的列：主题、每场容量、开放时间、关闭时间。",
        ),
        ("header-only.csv", ",".join(SITE_HEADER).encode(), "文件中没有数据行。"),
        ("binary.csv", b"\x81\xff\xfe\x00" * 50, "无法识别 CSV 文件的编码"),
        ("notes.txt", b"hello", "只能上传 .xlsx 或 .csv 文件。"),
        ("old.xls", b"\xd0\xcf\x11\xe0" * 10, "另存为 .xlsx 或 .csv"),
        ("noextension", b"hello", "只能上传 .xlsx 或 .csv 文件。"),
    ],
)
def test_malformed_files_get_a_clear_message(demo, client, filename, data, message):
    login(client, "party_school_staff")
    before = count(TeachingSite)
    response = upload(client, "sites", data, filename)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert "文件中有错误，请修改后重新上传，未导入任何数据。" in page
    assert 'name="token"' not in page
    assert count(TeachingSite) == before


def test_size_and_row_limits(demo, client):
    login(client, "party_school_staff")
    big = b"a" * (5 * 1024 * 1024 + 10)
    response = upload(client, "sites", big, "big.csv")
    assert response.status_code == 400
    assert "文件不能超过 5 MB。" in response.get_data(as_text=True)

    rows = [SITE_HEADER] + [good_site(f"点{i}") for i in range(2001)]
    response = upload(client, "sites", make_csv(rows, "utf-8"), "many.csv")
    assert response.status_code == 400
    assert "一个文件最多导入 2000 行数据" in response.get_data(as_text=True)


def test_no_file_chosen(demo, client):
    login(client, "party_school_staff")
    response = client.post("/sites/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "请选择要上传的文件。" in response.get_data(as_text=True)


# ---------------------------------------------------------------- import: access and tokens


@pytest.mark.parametrize("username", ["organizer", "trainee"])
def test_organizers_and_trainees_may_not_import(demo, client, username):
    login(client, username)
    assert client.get("/sites/import").status_code == 403
    assert client.get("/teachers/import").status_code == 403
    assert client.get("/sites/import/template.xlsx").status_code == 403
    data = make_xlsx([SITE_HEADER, good_site("不该出现")])
    assert upload(client, "sites", data, "a.xlsx").status_code == 403
    assert confirm(client, "sites", "A" * 43).status_code == 403
    assert site_named("不该出现") is None


def test_anonymous_is_sent_to_login(demo, client):
    response = client.get("/sites/import")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_token_of_another_user_is_404(demo, client, app):
    login(client, "party_school_staff")
    data = make_xlsx([SITE_HEADER, good_site("他人的上传")])
    token = token_of(upload(client, "sites", data, "a.xlsx"))
    stored = Path(app.instance_path) / "imports" / f"{token}.bin"
    assert stored.exists()
    client.post("/logout")

    login(client, "party_school_admin")
    assert confirm(client, "sites", token).status_code == 404
    client.post("/logout")
    login(client, "office")
    assert confirm(client, "sites", token).status_code == 404
    # Nor for the other kind of import.
    client.post("/logout")
    login(client, "party_school_staff")
    assert confirm(client, "teachers", token).status_code == 404
    assert site_named("他人的上传") is None
    # The owner still can.
    assert confirm(client, "sites", token).status_code == 302
    assert site_named("他人的上传") is not None
    assert not stored.exists()


@pytest.mark.parametrize(
    "token",
    ["../../etc/passwd", "../../etc", "..%2F..%2Fetc", "short", "a" * 65, "A" * 30 + "/x", ""],
)
def test_token_with_path_characters_is_404(demo, client, token):
    login(client, "party_school_staff")
    assert confirm(client, "sites", token).status_code == 404
