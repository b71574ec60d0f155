"""Rosters: accounts linked by phone, identity cards never stored whole, import and export."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from portal.auth.models import User
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.trainees import accounts, roster, roster_excel
from portal.trainees.models import RosterEntry
from tests.scheduling.helpers import new_class, user
from tests.trainees.helpers import class_with_roster, entries

pytestmark = pytest.mark.db

ID_CARD = "11010519491231002X"  # a valid check digit


def xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_phone_numbers_are_normalised_and_checked():
    assert roster.normalise_phone("+86 138-1234-5678") == "13812345678"
    assert roster.normalise_phone("13812345678.0") == "13812345678"
    assert roster.normalise_phone("１３８１２３４５６７８") == "13812345678"
    assert roster.normalise_phone("0875-1234567") is None
    assert roster.normalise_phone("12812345678") is None


def test_identity_card_is_kept_as_last_four_and_a_keyed_hash(demo):
    klass = new_class(20)
    entry = roster.add_trainee(
        klass, user("organizer"), {"name": "赵六", "phone": "13900000009", "id_card": ID_CARD}
    )
    assert entry.id_card_last4 == "002X"
    assert entry.id_card_masked.endswith("002X") and ID_CARD not in entry.id_card_masked
    assert len(entry.id_card_hash) == 64 and ID_CARD not in entry.id_card_hash
    # Nothing in the row holds the number.
    row = db.session.execute(select(RosterEntry.__table__).where(RosterEntry.id == entry.id)).one()
    assert all(ID_CARD[:14] not in str(value) for value in row)
    with pytest.raises(ValidationFailed) as bad:
        roster.add_trainee(
            klass,
            user("organizer"),
            {"name": "钱七", "phone": "13900000010", "id_card": "110105194912310021"},
        )
    assert "身份证号" in bad.value.errors["id_card"]


def test_a_trainee_with_an_account_is_linked_not_created_again(demo):
    first = class_with_roster()
    second = new_class(20, name="第二个班")
    entry = roster.add_trainee(
        second, user("organizer"), {"name": "张三", "phone": "139 0000 0001"}
    )
    assert entry.user_id == entries(first)[0].user_id
    assert (
        db.session.scalar(select(func.count()).select_from(User).where(User.phone == "13900000001"))
        == 1
    )
    assert [c.id for c in roster.classes_of_trainee(entry.user)] == sorted(
        [first.id, second.id], reverse=True
    )


def test_adding_the_same_phone_twice_updates_the_row(demo):
    klass = class_with_roster()
    roster.add_trainee(
        klass, user("organizer"), {"name": "张三", "phone": "13900000001", "position": "科长"}
    )
    assert len(entries(klass)) == 3
    assert entries(klass)[0].position == "科长"


def test_bad_rows_are_refused_with_every_field_named(demo):
    klass = new_class(20)
    with pytest.raises(ValidationFailed) as bad:
        roster.add_trainee(klass, user("organizer"), {"name": "", "phone": "123", "gender": "x"})
    assert set(bad.value.errors) == {"name", "phone", "gender"}


def test_only_the_organizer_and_the_office_manage_a_roster(demo):
    klass = class_with_roster()
    for name in ("trainee", "party_school_staff"):
        with pytest.raises(NotFound):
            roster.add_trainee(klass, user(name), {"name": "甲", "phone": "13900000099"})
    roster.add_trainee(klass, user("office"), {"name": "甲", "phone": "13900000099"})


def test_import_preview_shows_row_errors_and_writes_nothing(demo):
    klass = new_class(20)
    data = xlsx(
        [
            ("姓名", "性别", "单位", "手机号", "备注"),
            ("张三", "男", "甲县", "13900000001", ""),
            ("", "男", "甲县", "13900000002", ""),
            ("李四", "女", "乙县", "1390000", ""),
            ("王五", "男", "丙县", "13900000001", ""),
        ]
    )
    preview, token = roster_excel.preview_upload(klass, user("organizer"), "名单.xlsx", data)
    assert token is None and preview.has_errors
    assert [bool(r.errors) for r in preview.rows] == [False, True, True, True]
    assert "请填写姓名" in preview.rows[1].errors[0]
    assert "11 位" in preview.rows[2].errors[0]
    assert "第 2 行重复" in preview.rows[3].errors[0]
    assert preview.ignored_headers == ["备注"]
    assert entries(klass) == []


def test_import_then_reimport_updates_and_never_duplicates(demo):
    klass = class_with_roster(people=[("张三", "13900000001", "旧单位")])
    body = "姓名,单位,手机号,职务\n张三,新单位,13900000001,科长\n孙八,丁县,13900000008,\n".encode()
    preview, token = roster_excel.preview_upload(klass, user("organizer"), "roster.csv", body)
    assert not preview.has_errors
    assert [r.action for r in preview.rows] == [
        roster_excel.ACTION_UPDATE,
        roster_excel.ACTION_CREATE,
    ]
    assert roster_excel.confirm_import(klass, user("organizer"), token) == {
        "created": 1,
        "updated": 1,
    }
    # The token is used up: a second click imports nothing.
    with pytest.raises(NotFound):
        roster_excel.confirm_import(klass, user("organizer"), token)
    _preview, token = roster_excel.preview_upload(klass, user("organizer"), "roster.csv", body)
    assert roster_excel.confirm_import(klass, user("organizer"), token) == {
        "created": 0,
        "updated": 2,
    }
    rows = entries(klass)
    assert [(e.name, e.unit) for e in rows] == [("张三", "新单位"), ("孙八", "丁县")]


def test_a_gb18030_csv_and_a_file_without_the_columns(demo):
    klass = new_class(20)
    ok, _token = roster_excel.preview_upload(
        klass, user("organizer"), "a.csv", "姓名,手机号\n张三,13900000001\n".encode("gb18030")
    )
    assert not ok.has_errors
    bad, _token = roster_excel.preview_upload(
        klass, user("organizer"), "a.csv", b"name,phone\nx,1\n"
    )
    assert "缺少必填列" in bad.errors[0]
    other, _token = roster_excel.preview_upload(klass, user("organizer"), "a.xls", b"\xd0\xcf")
    assert ".xlsx" in other.errors[0]


def test_export_has_the_roster_and_only_the_masked_identity_card(demo):
    klass = new_class(20)
    roster.add_trainee(
        klass,
        user("organizer"),
        {"name": "=HYPERLINK(1)", "phone": "13900000009", "id_card": ID_CARD},
    )
    wb = load_workbook(io.BytesIO(roster_excel.export_xlsx(klass, user("organizer"))))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][:6] == ("姓名", "性别", "单位", "职务", "职级", "手机号")
    assert rows[1][0] == "'=HYPERLINK(1)"  # no formula
    assert rows[1][8].endswith("002X") and ID_CARD not in str(rows[1])
    with pytest.raises(NotFound):
        roster_excel.export_xlsx(klass, user("trainee"))
    template = load_workbook(io.BytesIO(roster_excel.template_xlsx()))
    assert "手机号" in [c.value for c in template.active[1]]


def test_an_activation_link_works_once(demo):
    klass = class_with_roster()
    account = entries(klass)[0].user
    assert accounts.needs_activation(account)
    sheet = accounts.class_sheet(klass, user("organizer"))
    token = sheet[0].url.rsplit("/", 1)[1]
    with pytest.raises(ValidationFailed):
        accounts.activate(token, "short", "short")
    done = accounts.activate(token, "xinmima2026", "xinmima2026")
    assert done.check_password("xinmima2026") and not accounts.needs_activation(done)
    with pytest.raises(NotFound):
        accounts.activate(token, "another2026", "another2026")
    with pytest.raises(NotFound):
        accounts.account_of(token[:-2] + "xx")


def test_sending_links_queues_an_sms_per_trainee_not_yet_activated(demo):
    from portal.notifications.models import OutboxSms
    from portal.notifications.sms import send_sms_outbox

    klass = class_with_roster()
    assert accounts.send_links(klass, user("organizer")) == 3
    texts = db.session.scalars(select(OutboxSms).order_by(OutboxSms.id)).all()
    assert [t.to_number for t in texts] == ["13900000001", "13900000002", "13900000003"]
    assert "/activate/" in texts[0].body

    class Gateway:
        sent: list = []

        def send(self, sms):
            self.sent.append(sms.to_number)

    gateway = Gateway()
    assert send_sms_outbox(gateway) == (3, 0)
    assert send_sms_outbox(gateway) == (0, 0)  # each message sent once
    assert len(gateway.sent) == 3
