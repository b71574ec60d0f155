"""The meetings' part of the demo consortium (called from portal.demo.load_demo).

A joint meeting (联席会议) of all members held ten days before the day it is loaded, called
through the area's services (so the members were notified): its agenda, its minutes and
three decisions still open, one of them overdue. Idempotent: looked up by its title.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.meetings import decisions, meetings
from portal.meetings.models import Meeting
from portal.members.models import Member
from portal.timeutil import LOCAL_TZ

DEMO_MEETING = "环线联盟第四季度联席会议"
AGENDA = [
    ("通报本年度环线教学接待情况", None, "环线办汇总各成员单位接待班次与人数。"),
    ("明年精品环线线路调整方案", "tengchong_college", ""),
    ("联合讲解员大赛筹备情况", "songshan_base", ""),
]
MINUTES = """一、会议听取了环线办关于本年度环线教学接待情况的通报。
二、会议原则同意明年精品环线线路调整方案，请腾冲干部学院会后细化。
三、会议要求各成员单位做好联合讲解员大赛报送和评审准备工作。"""
# (text, member keys, due in days from today: negative is overdue)
DECISIONS = [
    ("报送本单位本年度接待统计表", ["party_school", "yangshanzhou_college"], -3),
    ("细化明年精品环线线路调整方案", ["tengchong_college"], 14),
    ("报送讲解员大赛参赛人选", ["songshan_base"], 7),
]
# A decision the member has already done (the office is told).
DONE = ("更新杨善洲精神现场教学课程介绍", "yangshanzhou_college", 5, "已更新课程介绍并上传课件。")


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


def load_demo_meetings() -> None:
    """Call and record the demo meeting if it is not there yet. The caller commits."""
    if db.session.scalar(select(Meeting.id).where(Meeting.title == DEMO_MEETING)):
        return
    office = db.session.scalar(select(User).where(User.username == "office"))
    if office is None:
        return
    members = {m.key: m for m in db.session.scalars(select(Member))}
    held_on = today() - timedelta(days=10)
    meeting = meetings.create_meeting(
        office,
        {
            "title": DEMO_MEETING,
            "kind": "joint",
            "description": "研究明年环线教学安排和联动活动。",
            "place_text": "市委党校第三会议室",
            "day": held_on,
            "start_time": time(9, 30),
            "end_time": time(11, 30),
            "member_ids": [m.id for m in members.values()],
        },
    )
    for title, presenter, note in AGENDA:
        member = members.get(presenter) if presenter else None
        meetings.add_agenda_item(meeting, office, title, member.id if member else None, note)
    decisions.save_minutes(meeting, office, MINUTES)
    for text, keys, due in DECISIONS:
        ids = [members[k].id for k in keys if k in members]
        if ids:
            decisions.add_decisions(meeting, office, ids, text, today() + timedelta(days=due))
    text, key, due, note = DONE
    if key in members:
        done = decisions.add_decisions(
            meeting, office, [members[key].id], text, today() + timedelta(days=due)
        )
        host = db.session.scalar(select(User).where(User.username == f"{key}_admin"))
        if host is not None:
            decisions.complete_decision(done[0], host, note)
    db.session.flush()
