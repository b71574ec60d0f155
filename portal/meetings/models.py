"""Joint meetings (联席会议) of the consortium: invitations, agenda, time poll, minutes, decisions.

The office calls a meeting and invites members; each invited member answers for itself
(who attends, or why not), answers the time poll, and later marks the decisions assigned
to it done. Members declare when their people are busy (``MemberBusyTime``), which the
scheduling assistant uses to propose times. Times are stored in UTC, shown in Asia/Shanghai.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.catalog.models import TeachingSite
from portal.extensions import db
from portal.members.models import Member
from portal.timeutil import UTCDateTime, utcnow

# Labels are lazy: translated into the current locale whenever they are shown.
MEETING_KINDS = {
    "joint": _l("联席会议"),
    "topic": _l("专题会议"),
    "inspection": _l("调研督查"),
    "seminar": _l("工作座谈"),
    "other": _l("其他会议"),
}
MEETING_STATUSES = {
    "planning": _l("待定时间"),
    "scheduled": _l("已定时间"),
    "held": _l("已召开"),
    "cancelled": _l("已取消"),
}
RESPONSES = {"pending": _l("未回复"), "attend": _l("出席"), "decline": _l("请假")}
ATTENDANCE = {"": _l("未记录"), "present": _l("出席"), "absent": _l("缺席")}
POLL_ANSWERS = {"yes": _l("可以"), "no": _l("不行"), "maybe": _l("待定")}
DECISION_STATUSES = {"open": _l("办理中"), "done": _l("已办结")}


class Meeting(db.Model):
    """A meeting the office calls; ``starts_at`` is empty until the time is fixed."""

    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint("status IN ('planning','scheduled','held','cancelled')", name="status"),
        CheckConstraint("kind IN ('joint','topic','inspection','seminar','other')", name="kind"),
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 1440", name="duration"),
        CheckConstraint(
            "starts_at IS NULL OR (ends_at IS NOT NULL AND starts_at < ends_at)", name="ordered"
        ),
        Index("ix_meetings_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), default="joint")
    description: Mapped[str] = mapped_column(Text, default="")
    # Where: a teaching site, and/or a room written out ("市委党校三楼会议室"), and/or a link.
    site_id: Mapped[int | None] = mapped_column(ForeignKey("teaching_sites.id"), index=True)
    place_text: Mapped[str] = mapped_column(String(256), default="")
    online_url: Mapped[str] = mapped_column(String(512), default="")
    # How long the meeting lasts: the assistant and the poll propose slots of this length.
    duration_minutes: Mapped[int] = mapped_column(default=120)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="planning")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    # Minutes (纪要), written in the portal after the meeting.
    minutes: Mapped[str] = mapped_column(Text, default="")
    minutes_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minutes_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Bumped whenever the time changes or the meeting is cancelled (iCalendar SEQUENCE).
    sequence: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    site: Mapped[TeachingSite | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    minutes_by: Mapped[User | None] = relationship(foreign_keys=[minutes_by_id])
    invitations: Mapped[list[MeetingInvitation]] = relationship(
        back_populates="meeting",
        order_by="MeetingInvitation.member_id",
        cascade="all, delete-orphan",
    )
    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting",
        order_by="(AgendaItem.position, AgendaItem.id)",
        cascade="all, delete-orphan",
    )
    slots: Mapped[list[PollSlot]] = relationship(
        back_populates="meeting",
        order_by="(PollSlot.starts_at, PollSlot.id)",
        cascade="all, delete-orphan",
    )
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="meeting",
        order_by="(Decision.due_on, Decision.id)",
        cascade="all, delete-orphan",
    )

    @property
    def kind_label(self) -> str:
        return str(MEETING_KINDS.get(self.kind, self.kind))

    @property
    def status_label(self) -> str:
        return str(MEETING_STATUSES.get(self.status, self.status))

    @property
    def place_label(self) -> str:
        """Where the meeting is, as one line (site and room, or the online link)."""
        site = self.site.name if self.site is not None else ""
        room = self.place_text.strip()
        # Said once: a room written out with the site's name in it ("党校主报告厅三楼") is
        # the whole place, and so is a site whose name holds the room.
        if site and room and (site in room or room in site):
            return room if len(room) >= len(site) else site
        return " · ".join(part for part in (site, room) if part)

    @property
    def member_ids(self) -> list[int]:
        return [i.member_id for i in self.invitations]

    def invitation_for(self, member_id: int | None) -> MeetingInvitation | None:
        return next((i for i in self.invitations if i.member_id == member_id), None)


class MeetingInvitation(db.Model):
    """An invited member: its reply (who attends, or why not) and, afterwards, its attendance."""

    __tablename__ = "meeting_invitations"
    __table_args__ = (
        UniqueConstraint("meeting_id", "member_id"),
        CheckConstraint("response IN ('pending','attend','decline')", name="response"),
        CheckConstraint("attendance IN ('','present','absent')", name="attendance"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    response: Mapped[str] = mapped_column(String(16), default="pending")
    # The member's delegates (参会人员), as the member writes them: "张三（副院长）、李四".
    attendees: Mapped[str] = mapped_column(Text, default="")
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remind_count: Mapped[int] = mapped_column(default=0)
    # Recorded by the office after the meeting.
    attendance: Mapped[str] = mapped_column(String(16), default="")
    attended_names: Mapped[str] = mapped_column(Text, default="")

    meeting: Mapped[Meeting] = relationship(back_populates="invitations")
    member: Mapped[Member] = relationship()
    replied_by: Mapped[User | None] = relationship()

    @property
    def response_label(self) -> str:
        return str(RESPONSES.get(self.response, self.response))

    @property
    def attendance_label(self) -> str:
        return str(ATTENDANCE.get(self.attendance, self.attendance))


class AgendaItem(db.Model):
    """One item of the agenda (议程), presented by a member (or by the office when empty)."""

    __tablename__ = "meeting_agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(256))
    presenter_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    meeting: Mapped[Meeting] = relationship(back_populates="agenda")
    presenter: Mapped[Member | None] = relationship()


class PollSlot(db.Model):
    """A candidate time the office puts to the invited members (at most five per meeting)."""

    __tablename__ = "meeting_poll_slots"
    __table_args__ = (
        UniqueConstraint("meeting_id", "starts_at"),
        CheckConstraint("starts_at < ends_at", name="ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="slots")
    answers: Mapped[list[PollAnswer]] = relationship(
        back_populates="slot", order_by="PollAnswer.member_id", cascade="all, delete-orphan"
    )

    def answer_of(self, member_id: int) -> str:
        return next((a.answer for a in self.answers if a.member_id == member_id), "")

    def count(self, answer: str) -> int:
        return sum(1 for a in self.answers if a.answer == answer)


class PollAnswer(db.Model):
    """A member's answer to one candidate time: 可以 / 不行 / 待定."""

    __tablename__ = "meeting_poll_answers"
    __table_args__ = (
        UniqueConstraint("slot_id", "member_id"),
        CheckConstraint("answer IN ('yes','no','maybe')", name="answer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_poll_slots.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    answer: Mapped[str] = mapped_column(String(8))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    slot: Mapped[PollSlot] = relationship(back_populates="answers")

    @property
    def label(self) -> str:
        return str(POLL_ANSWERS.get(self.answer, self.answer))


class Decision(db.Model):
    """A decision (议定事项) assigned to one member with a deadline; the member marks it done."""

    __tablename__ = "meeting_decisions"
    __table_args__ = (
        CheckConstraint("status IN ('open','done')", name="status"),
        Index("ix_meeting_decisions_open_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(8), default="open")
    done_note: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="decisions")
    member: Mapped[Member] = relationship()
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])

    @property
    def status_label(self) -> str:
        return str(DECISION_STATUSES.get(self.status, self.status))

    def overdue_on(self, today: date) -> bool:
        return self.status == "open" and self.due_on < today


class MemberBusyTime(db.Model):
    """A period when a member's people cannot attend meetings (declared by its staff)."""

    __tablename__ = "member_busy_times"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="ordered"),
        Index("ix_member_busy_times_member_time", "member_id", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(256), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship()
