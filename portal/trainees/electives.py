"""Electives (菜单式选学): trainees choose one of 2–4 stops for a slot of their class's route.

Each option is booked in the scheduling engine for part of the class (its ``seats``), as a
squad is, with every rule checked (capacity, opening hours, guides, teachers, members'
rules) under the engine's locks. A choice is taken under the elective's row lock
(``SELECT … FOR UPDATE`` / ``BEGIN IMMEDIATE``), where the option's choices are counted,
so an option never gets more trainees than its seats. At the choosing deadline
``place_due`` (part of ``flask portal process-open-runs``) claims the elective with a
conditional UPDATE and places those who did not choose where the most seats are free,
keeping the options balanced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from portal.audit.services import record
from portal.catalog.models import Course, TeachingSite
from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.extensions import SQLITE_IMMEDIATE, db
from portal.notifications.services import member_staff, notify
from portal.scheduling.booking import ActorRef, begin_locked, cancel_booking
from portal.scheduling.fitting import BookingRefused, PlannedStop, check_plan
from portal.scheduling.history import (
    booking_changed,
    notify_hosts,
    record_event,
    refresh_booking_status,
)
from portal.scheduling.models import Booking, Reservation, TrainingClass
from portal.timeutil import LOCAL_TZ, utcnow, within_range
from portal.trainees import roster
from portal.trainees.access import require_manager
from portal.trainees.models import Elective, ElectiveChoice, ElectiveOption, RosterEntry
from portal.trainees.open_runs import locks_enabled

MIN_OPTIONS, MAX_OPTIONS = 2, 4


@dataclass(frozen=True)
class OptionSpec:
    site_id: int
    course_id: int | None
    seats: int


def _book_option(
    training_class: TrainingClass,
    title: str,
    starts_at: datetime,
    minutes: int,
    spec: OptionSpec,
    actor: Any,
) -> Booking:
    """Book one option for ``spec.seats`` of the class, with every scheduling rule. Commits."""
    site = db.session.get(TeachingSite, spec.site_id)
    course = db.session.get(Course, spec.course_id) if spec.course_id else None
    if site is None:
        raise ValidationFailed({"options": _("请选择教学点。")})
    teacher = course.teachers[0] if course is not None and course.teachers else None
    plan = [
        PlannedStop(
            index=0,
            kind="course" if course else "visit",
            starts_at=starts_at,
            minutes=minutes,
            site=site,
            course=course,
            teacher=teacher,
            guide_requested=course is None,
        )
    ]
    problems = check_plan(plan, spec.seats, class_name=training_class.name)
    if problems:
        raise BookingRefused(problems)
    class_id, actor_id = training_class.id, actor.id
    # Plan review on and the class's plan not approved: an automatic site waits too.
    from portal.reports.review import confirm_blocked

    auto_allowed = not (site.auto_confirm and confirm_blocked(training_class))
    who = ActorRef(actor.id, actor.display_name)
    site_id, course_id = site.id, course.id if course else None
    teacher_id = teacher.id if teacher else None
    name = _(
        "选学：%(title)s（%(option)s）", title=title, option=course.name if course else site.name
    )
    begin_locked([site_id], [teacher_id] if teacher_id else [])
    try:
        site = db.session.get(TeachingSite, site_id)
        plan[0].site = site
        plan[0].course = db.session.get(Course, course_id) if course_id else None
        problems = check_plan(plan, spec.seats, class_name=name)
        if problems:
            raise BookingRefused(problems)
        status = "confirmed" if site.auto_confirm and auto_allowed else "pending"
        now = utcnow()
        reservation = Reservation(
            site=site,
            course_id=course_id,
            teacher_id=teacher_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            group_size=spec.seats,
            squad=1,
            guide_requested=site.needs_guide or course_id is None,
            status=status,
            decided_at=now if status == "confirmed" else None,
        )
        booking = Booking(
            class_id=class_id,
            name=name[:128],
            start_date=starts_at.date(),
            created_by_id=actor_id,
            status="pending",
            reservations=[reservation],
        )
        db.session.add(booking)
        record_event(booking, "create", who, new="pending")
        record_event(booking, status, who, reservation, "", status)
        refresh_booking_status(booking, who)
        if status == "pending":
            booking.training_class = db.session.get(TrainingClass, class_id)
            notify_hosts(booking, _("新的预约待确认：%(name)s", name=name), [reservation])
        owners = {site.member.plugin}
        new_status = booking.status
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    booking_changed(booking, "", new_status=new_status, owners=owners)
    return booking


def validate_elective(training_class: TrainingClass, values: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    title = str(values.get("title") or "").strip()
    if not title or len(title) > 100 or "\x00" in title:
        errors["title"] = _("请填写选学名称（不超过 100 个字符）。")
    day, at, minutes = values.get("day"), values.get("starts"), values.get("minutes")
    starts_at = None
    if day is None or at is None:
        errors["day"] = _("请填写选学的日期和开始时间。")
    elif not within_range(day) or not training_class.starts_on <= day <= training_class.ends_on:
        errors["day"] = _(
            "选学日期须在培训班日期内（%(start)s 至 %(end)s）。",
            start=training_class.starts_on.isoformat(),
            end=training_class.ends_on.isoformat(),
        )
    else:
        starts_at = datetime.combine(day, at, tzinfo=LOCAL_TZ)
    if not isinstance(minutes, int) or not 15 <= minutes <= 480:
        errors["minutes"] = _("时长须在 15 到 480 分钟之间。")
    choose_by = values.get("choose_by")
    if choose_by is None or not within_range(choose_by):
        errors["choose_by"] = _("请填写选择截止日期。")
    elif starts_at is not None and not (
        datetime.now(LOCAL_TZ).date() <= choose_by < starts_at.date()
    ):
        errors["choose_by"] = _("选择截止日期须在今天及以后、选学当天之前。")
    options: list[OptionSpec] = []
    for raw in values.get("options") or []:
        site_id, course_id, seats = raw.get("site_id"), raw.get("course_id"), raw.get("seats")
        if not site_id:
            continue
        if not isinstance(seats, int) or not 1 <= seats <= 2000:
            errors["options"] = _("每个备选项须填写 1 到 2000 之间的名额。")
            break
        options.append(OptionSpec(site_id, course_id or None, seats))
    if "options" not in errors and not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        errors["options"] = _("请设置 2 到 4 个备选项。")
    if "options" not in errors and len({o.site_id for o in options}) != len(options):
        errors["options"] = _("备选项的教学点不能重复。")
    count = roster.roster_count(training_class.id)
    if "options" not in errors and sum(o.seats for o in options) < count:
        errors["options"] = _(
            "各备选项名额合计须不少于名单人数（%(count)s 人），否则有人无处可去。", count=count
        )
    if errors:
        raise ValidationFailed(errors)
    return {
        "title": title,
        "starts_at": starts_at,
        "minutes": minutes,
        # The end of the choosing day, local time.
        "choose_by": datetime.combine(choose_by, datetime.max.time(), tzinfo=LOCAL_TZ).replace(
            microsecond=0
        ),
        "options": options,
    }


def create_elective(
    training_class: TrainingClass, actor: Any, values: Mapping[str, Any]
) -> Elective:
    """Mark a slot elective and book each option for its seats. Commits.

    When an option does not fit, the options already booked are cancelled and the
    BookingRefused names the problem.
    """
    require_manager(training_class, actor)
    v = validate_elective(training_class, values)
    class_id, actor_id = training_class.id, actor.id
    bookings: list[Booking] = []
    try:
        for spec in v["options"]:
            klass = db.session.get(TrainingClass, class_id)
            bookings.append(
                _book_option(klass, v["title"], v["starts_at"], v["minutes"], spec, actor)
            )
    except Exception:
        db.session.rollback()
        for booking in bookings:
            cancel_booking(
                db.session.get(Booking, booking.id), actor, _("选学未能全部预约，撤回。")
            )
        raise
    elective = Elective(
        class_id=class_id,
        title=v["title"],
        starts_at=v["starts_at"],
        ends_at=v["starts_at"] + timedelta(minutes=v["minutes"]),
        choose_by=v["choose_by"],
        created_by_id=actor_id,
        options=[
            ElectiveOption(site_id=s.site_id, course_id=s.course_id, seats=s.seats, booking_id=b.id)
            for s, b in zip(v["options"], bookings, strict=True)
        ],
    )
    db.session.add(elective)
    training_class = db.session.get(TrainingClass, class_id)
    entries = roster.entries_of(training_class)
    notify(
        [e.user for e in entries],
        _("请选择选学内容：%(title)s", title=v["title"]),
        _("请在 %(day)s 前选择。", day=v["choose_by"].date().isoformat()),
        f"/me/classes/{class_id}",
    )
    record(actor, "elective.create", v["title"])
    db.session.commit()
    return elective


def electives_of(training_class: TrainingClass) -> list[Elective]:
    return list(
        db.session.scalars(
            select(Elective)
            .where(Elective.class_id == training_class.id)
            .order_by(Elective.starts_at)
        )
    )


def counts(elective: Elective) -> dict[int, int]:
    """Option id → trainees who take it."""
    return dict(
        db.session.execute(
            select(ElectiveChoice.option_id, func.count())
            .where(ElectiveChoice.elective_id == elective.id)
            .group_by(ElectiveChoice.option_id)
        ).all()
    )


def choice_of(elective: Elective, entry: RosterEntry) -> ElectiveChoice | None:
    return db.session.scalar(
        select(ElectiveChoice).where(
            ElectiveChoice.elective_id == elective.id, ElectiveChoice.entry_id == entry.id
        )
    )


def lock_elective(elective_id: int) -> Elective:
    locking = locks_enabled()
    db.session.rollback()
    db.session.connection(execution_options={SQLITE_IMMEDIATE: locking})
    query = select(Elective).where(Elective.id == elective_id)
    elective = db.session.scalar(query.with_for_update() if locking else query)
    if elective is None:
        raise NotFound(_("没有找到该选学。"))
    return elective


def choose(elective_id: int, entry_id: int, option_id: int) -> ElectiveChoice:
    """The trainee takes an option (or changes their choice) before the deadline. Commits."""
    elective = lock_elective(elective_id)
    try:
        entry = db.session.get(RosterEntry, entry_id)
        if entry is None or entry.class_id != elective.class_id:
            raise NotFound(_("没有找到该选学。"))
        option = db.session.get(ElectiveOption, option_id)
        if option is None or option.elective_id != elective.id:
            raise ValidationFailed({"option_id": _("请选择一个备选项。")})
        if elective.status != "open" or utcnow() > elective.choose_by:
            raise ServiceError(_("选择已截止。"))
        choice = choice_of(elective, entry)
        if choice is not None and choice.option_id == option.id:
            db.session.rollback()
            return choice
        taken = db.session.scalar(
            select(func.count())
            .select_from(ElectiveChoice)
            .where(ElectiveChoice.option_id == option.id)
        )
        if taken >= option.seats:
            raise ServiceError(_("“%(option)s”名额已满，请选择其他内容。", option=option.label))
        if choice is None:
            choice = ElectiveChoice(elective_id=elective.id, entry_id=entry.id, option_id=option.id)
            db.session.add(choice)
        else:
            choice.option_id = option.id
            choice.chosen_at = utcnow()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return choice


def place(elective_id: int) -> int:
    """Place everyone who did not choose, where most seats are free; claimed once. Commits."""
    elective = lock_elective(elective_id)
    try:
        claimed = db.session.execute(
            update(Elective)
            .where(Elective.id == elective_id, Elective.status == "open")
            .values(status="placed", placed_at=utcnow())
        ).rowcount
        if not claimed:
            db.session.rollback()
            return 0
        db.session.refresh(elective)
        taken = counts(elective)
        free = {o.id: o.seats - taken.get(o.id, 0) for o in elective.options}
        chosen = set(
            db.session.scalars(
                select(ElectiveChoice.entry_id).where(ElectiveChoice.elective_id == elective.id)
            )
        )
        placed = 0
        for entry in roster.entries_of(elective.training_class):
            if entry.id in chosen:
                continue
            # The option with the most free seats relative to its size: options fill evenly.
            best = max(
                elective.options,
                key=lambda o: (free[o.id] / o.seats if o.seats else 0, free[o.id], -o.id),
            )
            if free[best.id] <= 0:
                break
            free[best.id] -= 1
            db.session.add(
                ElectiveChoice(
                    elective_id=elective.id,
                    entry_id=entry.id,
                    option_id=best.id,
                    placed_by_portal=True,
                )
            )
            notify(
                [entry.user],
                _("选学已安排：%(title)s → %(option)s", title=elective.title, option=best.label),
                "",
                f"/me/classes/{elective.class_id}",
            )
            placed += 1
        db.session.flush()
        final = counts(elective)
        for option in elective.options:
            notify(
                member_staff([option.site.member_id]),
                _(
                    "选学人数：%(klass)s “%(option)s” %(count)s 人",
                    klass=elective.training_class.name,
                    option=option.label,
                    count=final.get(option.id, 0),
                ),
                "",
                "/inbox",
            )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return placed


def place_due(now: datetime | None = None) -> int:
    """Place the electives whose choosing deadline has passed (the deadline job)."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Elective.id)
        .where(Elective.status == "open", Elective.choose_by < now)
        .order_by(Elective.id)
    ).all()
    return sum(place(elective_id) for elective_id in due)


@dataclass
class HostView:
    """What a hosting member sees of an elective option at its site: how many come."""

    elective: Elective
    option: ElectiveOption
    count: int


def hosting_counts(member_id: int | None) -> list[HostView]:
    """Elective options at the member's sites (every member's: None, for the office)."""
    rows = []
    query = (
        select(ElectiveOption)
        .join(TeachingSite, TeachingSite.id == ElectiveOption.site_id)
        .order_by(ElectiveOption.id)
    )
    if member_id is not None:
        query = query.where(TeachingSite.member_id == member_id)
    for option in db.session.scalars(query):
        rows.append(HostView(option.elective, option, counts(option.elective).get(option.id, 0)))
    return rows


def option_fill(elective: Elective) -> list[tuple[ElectiveOption, int]]:
    taken = counts(elective)
    return [(o, taken.get(o.id, 0)) for o in elective.options]
