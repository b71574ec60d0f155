"""The directory's part of the living demo (SEASON_PARTS "directory"); idempotent.

* a site proposed by 松山基地 (songshan_base) awaiting the office's review;
* the 2026 assessment of 滇西抗战纪念馆 by the default weighted criteria;
* a rectification notice (整改通知) to 松山战役遗址 with its deadline three weeks on;
* a supervision visit to 和顺图书馆 and 艾思奇故居 a week ago, with an open finding;
* teacher sharing: 腾冲干部学院 asks to borrow the party school's 杨丽 (pending), and a
  loan of 松山基地's teacher to the party school already confirmed;
* the guide corps: three guides on the party school's roster with training, a certificate,
  a promotion, a reward and a penalty, one of them named for the party school's next
  confirmed group.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from portal.auth.models import User
from portal.catalog.models import SiteAssessment, TeachingSite
from portal.directory import assessment, services, supervision
from portal.directory.models import SiteProposal, SiteWarning, SupervisionVisit
from portal.extensions import db
from portal.guides.models import Guide, GuideEntry
from portal.members.models import Member
from portal.scheduling.models import Reservation
from portal.timeutil import LOCAL_TZ

PROPOSED_SITE = "由旺镇木榔村乡村振兴示范点"
VISIT_TITLE = "和顺片区现场教学点调研督查"
YEAR = 2026


def _site(key: str) -> TeachingSite | None:
    return db.session.scalar(select(TeachingSite).where(TeachingSite.key == key))


def load_demo_directory() -> None:
    """Add the directory's demo data that is not there yet. Commits."""
    office = db.session.scalar(select(User).where(User.username == "office"))
    staff = db.session.scalar(select(User).where(User.username == "songshan_base_staff"))
    if office is None:
        return
    _proposal(staff)
    _assessment(office)
    _warning(office)
    _visit(office)
    _loans()
    _guides(staff_of("party_school"))
    db.session.commit()


def staff_of(member_key: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == f"{member_key}_staff"))


# (name, phone, grade, [(kind, days ago, note, promoted to)])
GUIDES = [
    (
        "李红梅",
        "13887510001",
        "senior",
        [
            ("training", 400, "全省红色讲解员培训班结业", ""),
            ("certificate", 300, "高级讲解员资格证书", ""),
            ("promotion", 200, "", "senior"),
            ("reward", 60, "环线讲解比赛一等奖", ""),
        ],
    ),
    (
        "杨志军",
        "13887510002",
        "junior",
        [
            ("training", 120, "新进讲解员岗前培训", ""),
            ("penalty", 20, "讲解超时且未按路线引导，通报提醒", ""),
        ],
    ),
    ("段晓雯", "13887510003", "trainee", []),
]


def _guides(staff: User | None) -> None:
    if staff is None or staff.member_id is None:
        return
    if db.session.scalar(select(Guide.id).where(Guide.member_id == staff.member_id).limit(1)):
        return
    today = datetime.now(LOCAL_TZ).date()
    made = []
    for name, phone, grade, entries in GUIDES:
        guide = Guide(member_id=staff.member_id, name=name, phone=phone, grade=grade)
        db.session.add(guide)
        for kind, ago, note, promoted in entries:
            guide.entries.append(
                GuideEntry(
                    kind=kind,
                    on=today - timedelta(days=ago),
                    note=note,
                    grade=promoted,
                    created_by_id=staff.id,
                )
            )
        made.append(guide)
    db.session.flush()
    # The last confirmed group at the party school's sites without a guide takes 李红梅 (the
    # last, not "the next from now": at some hours of the day nothing is left to come).
    reservation = db.session.scalar(
        select(Reservation)
        .join(Reservation.site)
        .where(
            TeachingSite.member_id == staff.member_id,
            Reservation.status == "confirmed",
            Reservation.guide_id.is_(None),
        )
        .order_by(Reservation.starts_at.desc(), Reservation.id.desc())
        .limit(1)
    )
    if reservation is not None:
        reservation.guide_id, reservation.guide_name = made[0].id, made[0].name


def _proposal(staff: User | None) -> None:
    member = db.session.scalar(select(Member).where(Member.key == "songshan_base"))
    if member is None or staff is None:
        return
    if db.session.scalar(select(TeachingSite.id).where(TeachingSite.name == PROPOSED_SITE)):
        return
    site = TeachingSite(
        member_id=member.id,
        name=PROPOSED_SITE,
        theme="乡村振兴",
        description="木榔村以核桃产业带动脱贫致富，村史馆讲述基层党组织带领群众发展产业的故事。",
        capacity=40,
        session_minutes=60,
        open_weekdays="12345",
        opens=time(9, 0),
        closes=time(17, 0),
        needs_guide=True,
        address="保山市施甸县由旺镇木榔村",
        admission="proposed",
    )
    db.session.add(site)
    db.session.flush()
    db.session.add(
        SiteProposal(
            site_id=site.id,
            materials="村史馆一座（约 300 平方米），可开设“产业振兴中的基层党组织”现场教学；"
            "村党总支书记可担任兼职教师，配备讲解员 2 名。",
            safety_notes="村道可通行大客车，停车场可停 3 辆；展馆设两处安全出口，配灭火器。",
            submitted_by_id=staff.id,
        )
    )
    services.log(site, "propose", staff)


def _assessment(office: User) -> None:
    site = _site("dianxi_memorial")
    if site is None or db.session.scalar(
        select(SiteAssessment.id).where(
            SiteAssessment.site_id == site.id, SiteAssessment.year == YEAR
        )
    ):
        return
    marks = {
        "teaching_quality": (92, "现场教学内容扎实，讲解与研讨结合好。"),
        "facilities": (88, "展陈更新及时，报告厅可容纳 120 人。"),
        "guide_service": (90, "讲解员队伍稳定，获全市讲解员大赛一等奖。"),
        "safety": (85, "应急预案齐全，旺季需加强客流引导。"),
        "use": (95, "全年接待环线班次最多。"),
    }
    scores = {c.id: marks.get(c.key, (80, "")) for c in assessment.active_criteria()}
    assessment.record(site, office, YEAR, scores, "综合表现优秀，继续列入年度目录。")


def _warning(office: User) -> None:
    site = _site("battlefield")
    if site is None or db.session.scalar(
        select(SiteWarning.id).where(SiteWarning.site_id == site.id)
    ):
        return
    today = services.today_local()
    services.warn(
        site,
        office,
        "部分步道护栏松动、讲解词未按新史料更新，请完成步道维护并更新讲解词。",
        today + timedelta(days=21),
        "keep",
        today=today,
    )


def _visit(office: User) -> None:
    if db.session.scalar(select(SupervisionVisit.id).where(SupervisionVisit.title == VISIT_TITLE)):
        return
    library, residence = _site("heshun_library"), _site("aisiqi_residence")
    if library is None or residence is None:
        return
    today = services.today_local()
    visit = supervision.plan_visit(
        office,
        VISIT_TITLE,
        today - timedelta(days=7),
        [library.id, residence.id],
        "检查现场教学点的安全管理、讲解服务和接待记录。",
    )
    db.session.flush()
    supervision.add_finding(
        visit,
        office,
        library.id,
        "接待登记簿缺少 11 月两批学员的记录。",
        "补齐接待登记，今后按批次当日登记并上传门户。",
        today + timedelta(days=14),
    )


def _loans() -> None:
    from portal.catalog.models import Teacher
    from portal.sharing.models import TeacherLoan
    from portal.sharing.services import decide_loan, request_loan

    if db.session.scalar(select(TeacherLoan.id).limit(1)) is not None:
        return
    users = {
        u.username: u
        for u in db.session.scalars(
            select(User).where(
                User.username.in_(
                    ["tengchong_college_staff", "party_school_staff", "songshan_base_staff"]
                )
            )
        )
    }
    teachers = {
        t.key: t
        for t in db.session.scalars(select(Teacher).where(Teacher.key.in_(["yang_li", "zhou_jun"])))
    }
    if len(users) < 3 or len(teachers) < 2:
        return
    today = services.today_local()
    request_loan(
        users["tengchong_college_staff"],
        teachers["yang_li"],
        today + timedelta(days=10),
        today + timedelta(days=40),
        "为省外委托班讲授“党的创新理论”专题。",
    )
    lent = request_loan(
        users["party_school_staff"],
        teachers["zhou_jun"],
        today,
        today + timedelta(days=60),
        "主体班松山战役专题教学。",
    )
    db.session.flush()
    decide_loan(lent, users["songshan_base_staff"], True, "同意，请提前一周确定课时。")
