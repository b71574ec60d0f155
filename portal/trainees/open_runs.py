"""Open runs (开放班次): trainees book seats on a dated route themselves.

The office or a member publishes a run of a route template. Its stops are held in the
scheduling engine as an ordinary booking of a class the publisher owns (capacity, guides,
teachers and members' rules apply as to any class). Seats are a quota on the run's row:

* every seat change starts a transaction that locks that row (``SELECT … FOR UPDATE`` on
  PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite, see ``lock_run``) and counts the seats held,
  and the unit's seats when the run names sending units, under that one lock, so two
  trainees booking the last seat at once cannot both get it;
* a full run has a waiting list; a cancelled seat is offered at once to the first in line,
  who has ``waitlist_offer_hours`` (the scheduling setting) to take it;
* after the booking deadline ``process_open_runs`` (``flask portal process-open-runs``)
  cancels a run below its minimum, with notices, or confirms it and puts its participants
  on the class's roster. Each run is claimed with a conditional UPDATE first, so two app
  servers running the job at the same moment act on it once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import and_, func, literal, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from portal.audit.services import record
from portal.auth.models import User
from portal.errors import NotFound, PermissionDenied, ServiceError
from portal.extensions import SQLITE_IMMEDIATE, db
from portal.notifications.services import notify
from portal.notifications.sms import queue_sms
from portal.scheduling.booking import cancel_booking
from portal.scheduling.models import Booking
from portal.scheduling.settings import setting
from portal.timeutil import LOCAL_TZ, utcnow
from portal.trainees import roster
from portal.trainees.models import SEAT_HOLDING, OpenRun, OpenRunQuota, OpenRunSeat, RosterEntry

MAX_SEATS = 500


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


def locks_enabled() -> bool:
    """The same switch as the scheduling locks (a test turns it off to show the race)."""
    return not has_app_context() or current_app.config.get("SCHEDULING_LOCKS", True)


def lock_run(run_id: int) -> OpenRun:
    """Start a transaction holding the run's row lock; the run as it is under the lock.

    On PostgreSQL a transaction that only read goes on (its reads saw committed data, and
    each statement after the lock sees every booking committed before it): ending it would
    cost two round trips and reload every object, the user included. SQLite needs a new,
    immediate transaction to hold the lock.
    """
    locking = locks_enabled()
    session = db.session
    postgres = session.get_bind().dialect.name == "postgresql"
    if not (postgres and locking and not (session.new or session.dirty or session.deleted)):
        session.rollback()
        session.connection(execution_options={SQLITE_IMMEDIATE: locking})
    # The quotas come with it (one round trip less while the lock is held).
    query = select(OpenRun).options(joinedload(OpenRun.quotas)).where(OpenRun.id == run_id)
    if locking:
        query = query.with_for_update(of=OpenRun)
    run = db.session.execute(query).unique().scalar_one_or_none()
    if run is None:
        raise NotFound(_("没有找到该开放班次。"))
    return run


@dataclass(frozen=True)
class SystemActor:
    """The deadline job acting on the office's behalf (records say 系统)."""

    id: None = None
    display_name: str = "系统"
    is_authenticated: bool = True
    is_office: bool = True
    is_member_user: bool = False
    member_id: None = None
    role: str = "office"


SYSTEM = SystemActor()


# ---------------------------------------------------------------- who may do what


def can_publish(actor: Any) -> bool:
    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and not getattr(actor, "is_token", False)
        and (actor.is_office or actor.is_member_user)
    )


def can_manage(run: OpenRun, actor: Any) -> bool:
    """The office, the publisher, and the staff of the publishing member."""
    if not can_publish(actor):
        return False
    return (
        actor.is_office
        or run.publisher_id == actor.id
        or (run.member_id is not None and actor.member_id == run.member_id)
    )


def get_run(run_id: int) -> OpenRun:
    run = db.session.get(OpenRun, run_id)
    if run is None:
        raise NotFound(_("没有找到该开放班次。"))
    return run


def get_managed_run(run_id: int, actor: Any) -> OpenRun:
    run = db.session.get(OpenRun, run_id)
    if run is None or not can_manage(run, actor):
        raise NotFound(_("没有找到该开放班次。"))
    return run


def same_unit(a: str | None, b: str | None) -> bool:
    return bool(a and b and a.strip() == b.strip())


def quota_for(run: OpenRun, unit: str | None) -> OpenRunQuota | None:
    return next((q for q in run.quotas if same_unit(q.unit_name, unit)), None)


def may_book(run: OpenRun, actor: Any) -> bool:
    """Whether the 报名 button is for this user (a trainee or an organizer who may book)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if getattr(actor, "role", "") not in ("trainee", "organizer"):
        return False
    if run.status != "open" or today() > run.booking_deadline:
        return False
    return run.open_to == "all" or quota_for(run, actor.unit_name) is not None


# ---------------------------------------------------------------- reading


def held_seats(run_id: int, quota_id: int | None = None) -> int:
    query = (
        select(func.count())
        .select_from(OpenRunSeat)
        .where(OpenRunSeat.run_id == run_id, OpenRunSeat.status.in_(SEAT_HOLDING))
    )
    if quota_id is not None:
        query = query.where(OpenRunSeat.quota_id == quota_id)
    return db.session.scalar(query)


def _held_counts(run_id: int, quota_id: int | None, account_id: int) -> tuple[int, int, int | None]:
    """The run's held seats, those of one quota, and the id of the account's own seat row
    (of any status) if it has one, in one statement (under the run's lock every round trip
    keeps the next booking waiting)."""
    holding = OpenRunSeat.status.in_(SEAT_HOLDING)
    of_quota = func.count().filter(OpenRunSeat.quota_id == quota_id) if quota_id else literal(0)
    own = (
        select(OpenRunSeat.id)
        .where(OpenRunSeat.run_id == run_id, OpenRunSeat.user_id == account_id)
        .limit(1)
        .scalar_subquery()
    )
    total, quota, own_id = db.session.execute(
        select(func.count(), of_quota, own).where(OpenRunSeat.run_id == run_id, holding)
    ).one()
    return total, quota, own_id


def seats_left(run: OpenRun) -> int:
    return max(0, run.seats - held_seats(run.id))


def seats_left_of(runs: list[OpenRun]):
    """``seats_left`` for a list of runs in one grouped count (lists of runs: no N+1)."""
    ids = [r.id for r in runs]
    held: dict[int, int] = {}
    if ids:
        held = dict(
            db.session.execute(
                select(OpenRunSeat.run_id, func.count())
                .where(OpenRunSeat.run_id.in_(ids), OpenRunSeat.status.in_(SEAT_HOLDING))
                .group_by(OpenRunSeat.run_id)
            ).all()
        )
    return lambda run: max(0, run.seats - held.get(run.id, 0))


def bookable_runs(actor: Any = None) -> list[OpenRun]:
    """Runs still taking bookings, soonest first (for a user: only those open to them)."""
    runs = list(
        db.session.scalars(
            select(OpenRun)
            .options(selectinload(OpenRun.quotas))
            .where(OpenRun.status == "open", OpenRun.booking_deadline >= today())
            .order_by(OpenRun.starts_on, OpenRun.id)
        )
    )
    if actor is not None and getattr(actor, "role", "") in ("trainee", "organizer"):
        runs = [r for r in runs if may_book(r, actor)]
    return runs


def all_runs(actor: Any) -> list[OpenRun]:
    """Every run the actor manages (the office: all), newest first."""
    query = select(OpenRun).order_by(OpenRun.starts_on.desc(), OpenRun.id.desc())
    if not actor.is_office:
        query = query.where(
            or_(OpenRun.publisher_id == actor.id, OpenRun.member_id == actor.member_id)
        )
    return list(db.session.scalars(query))


def runs_of_template(template_id: int) -> list[OpenRun]:
    return list(
        db.session.scalars(
            select(OpenRun)
            .where(
                OpenRun.template_id == template_id,
                OpenRun.status == "open",
                OpenRun.booking_deadline >= today(),
            )
            .order_by(OpenRun.starts_on)
        )
    )


def seats_of(run: OpenRun) -> list[OpenRunSeat]:
    return list(
        db.session.scalars(
            select(OpenRunSeat)
            .where(OpenRunSeat.run_id == run.id)
            .order_by(OpenRunSeat.status, OpenRunSeat.waitlisted_at, OpenRunSeat.id)
        )
    )


def my_seats(user: Any) -> list[OpenRunSeat]:
    """The user's own seats and places on waiting lists (not cancelled), soonest run first."""
    return list(
        db.session.scalars(
            select(OpenRunSeat)
            .join(OpenRun, OpenRun.id == OpenRunSeat.run_id)
            .where(
                or_(OpenRunSeat.user_id == user.id, OpenRunSeat.booked_by_id == user.id),
                OpenRunSeat.status != "cancelled",
            )
            .order_by(OpenRun.starts_on, OpenRunSeat.id)
        )
    )


def seat_of(run: OpenRun, user: Any) -> OpenRunSeat | None:
    if user is None or not getattr(user, "is_authenticated", False) or user.id is None:
        return None
    return db.session.scalar(
        select(OpenRunSeat).where(OpenRunSeat.run_id == run.id, OpenRunSeat.user_id == user.id)
    )


# ---------------------------------------------------------------- booking a seat


@dataclass(frozen=True)
class Cadre:
    """Who the seat is for, as a unit's organizer names them."""

    name: str
    phone: str


def _who(actor: Any, cadre: Mapping[str, Any] | None) -> tuple[User, str, str]:
    """The trainee account the seat is for, their name and unit (the organizer's cadre)."""
    role = getattr(actor, "role", "")
    if role == "trainee":
        return actor, actor.display_name, (actor.unit_name or "").strip()
    if role == "organizer":
        values = roster.validate_trainee(
            {
                "name": (cadre or {}).get("name"),
                "phone": (cadre or {}).get("phone"),
                "unit": actor.unit_name,
            }
        )
        account, _created = roster.ensure_account(values)
        return account, values.name, (actor.unit_name or "").strip()
    raise PermissionDenied(_("只有学员本人或选派单位的联系人可以报名。"))


def _full_without_lock(run_id: int, account_id: int | None) -> bool:
    """Whether an open run taking bookings has no seat left, read without its lock, for an
    account that holds none (a taken seat's own message comes from the locked checks).

    One statement (the run, its held seats and the account's own seat): in a rush most
    attempts end here, and each statement is a round trip while the others wait.
    """
    seats = OpenRunSeat.__table__.c
    runs = OpenRun.__table__.c
    held = (
        select(func.count())
        .where(seats.run_id == runs.id, seats.status.in_(SEAT_HOLDING))
        .scalar_subquery()
    )
    mine = (
        select(seats.id)
        .where(seats.run_id == runs.id, seats.user_id == account_id, seats.status != "cancelled")
        .limit(1)
        .scalar_subquery()
    )
    row = db.session.execute(
        select(runs.status, runs.booking_deadline, runs.seats, held, mine).where(runs.id == run_id)
    ).first()
    if row is None or row[0] != "open" or today() > row[1]:
        return False
    return row[4] is None and row[3] >= row[2]


def book_seat(
    run_id: int, actor: Any, *, cadre: Mapping[str, Any] | None = None, waitlist: bool = False
) -> OpenRunSeat:
    """Book a seat (a trainee for themself, an organizer for a cadre of their unit). Commits.

    A full run (or unit quota) refuses, or with ``waitlist`` puts the trainee in line.
    """
    if getattr(actor, "role", "") not in ("trainee", "organizer") or getattr(
        actor, "is_token", False
    ):
        raise PermissionDenied(_("只有学员本人或选派单位的联系人可以报名。"))
    actor_id = actor.id
    account, name, unit = _who(actor, cadre)
    if not waitlist and _full_without_lock(run_id, account.id):
        # A rush: most attempts find the run full. Refused here without queueing on the
        # run's lock, they cost less than a booking (a seat freed meanwhile may be missed;
        # nothing is ever booked without the lock).
        raise ServiceError(_("名额已满，可以加入候补名单。"))
    account_id = account.id
    if account is not actor:
        db.session.commit()  # a new cadre account exists before the lock is taken
    run = lock_run(run_id)
    try:
        if run.status != "open":
            raise ServiceError(_("该班次已%(status)s，不再接受报名。", status=run.status_label))
        if today() > run.booking_deadline:
            raise ServiceError(_("报名已于 %(day)s 截止。", day=run.booking_deadline.isoformat()))
        quota = quota_for(run, unit)
        if run.open_to == "units" and quota is None:
            raise ServiceError(_("该班次只接受指定单位报名，您的单位不在其中。"))
        held, held_of_quota, own_id = _held_counts(
            run.id, quota.id if quota is not None else None, account_id
        )
        seat = db.session.get(OpenRunSeat, own_id) if own_id is not None else None
        if seat is not None and seat.status != "cancelled":
            raise ServiceError(
                _("%(name)s已在该班次中（%(status)s）。", name=name, status=seat.status_label)
            )
        full = held >= run.seats or (quota is not None and held_of_quota >= quota.seats)
        if full and not waitlist:
            raise ServiceError(_("名额已满，可以加入候补名单。"))
        now = utcnow()
        if seat is None:
            seat = OpenRunSeat(run_id=run.id, user_id=account_id)
            db.session.add(seat)
        seat.quota_id = quota.id if quota is not None else None
        seat.name, seat.unit, seat.booked_by_id = name, unit, actor_id
        seat.status = "waitlisted" if full else "booked"
        seat.created_at = now
        seat.waitlisted_at = now if full else None
        seat.offer_expires_at = seat.cancelled_at = None
        subject = (
            _("已加入候补：%(run)s", run=run.title)
            if full
            else _("报名成功：%(run)s", run=run.title)
        )
        notify(
            [db.session.get(User, account_id)],
            subject,
            _("开班日期：%(day)s", day=run.starts_on.isoformat()),
            f"/runs/{run.id}",
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return seat


def _offer_freed(run: OpenRun) -> list[OpenRunSeat]:
    """Offer free seats to those waiting, in line order, while the quotas allow (under the lock)."""
    offered = []
    hours = setting("waitlist_offer_hours")
    waiting = db.session.scalars(
        select(OpenRunSeat)
        .where(OpenRunSeat.run_id == run.id, OpenRunSeat.status == "waitlisted")
        .order_by(OpenRunSeat.waitlisted_at, OpenRunSeat.id)
    ).all()
    for seat in waiting:
        if held_seats(run.id) >= run.seats:
            break
        quota = db.session.get(OpenRunQuota, seat.quota_id) if seat.quota_id else None
        if quota is not None and held_seats(run.id, quota.id) >= quota.seats:
            continue
        seat.status = "offered"
        seat.offer_expires_at = utcnow() + timedelta(hours=hours)
        db.session.flush()
        notify(
            [seat.user],
            _("候补名额：%(run)s 有空位了，请在 %(hours)s 小时内确认", run=run.title, hours=hours),
            "",
            f"/runs/{run.id}",
        )
        queue_sms(
            seat.user.phone or "",
            _(
                "【环线培训门户】%(run)s 有空位了，请在 %(hours)s 小时内登录确认。",
                run=run.title,
                hours=hours,
            ),
        )
        offered.append(seat)
    return offered


def _seat_for(run: OpenRun, seat_id: int) -> OpenRunSeat:
    seat = db.session.get(OpenRunSeat, seat_id)
    if seat is None or seat.run_id != run.id:
        raise NotFound(_("没有找到该报名。"))
    return seat


def may_change_seat(run: OpenRun, seat: OpenRunSeat, actor: Any) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.id is None:
        return False
    return actor.id in (seat.user_id, seat.booked_by_id) or can_manage(run, actor)


def cancel_seat(run_id: int, seat_id: int, actor: Any) -> None:
    """Give up a seat (or a place in line); the seat is offered to the next in line at once."""
    run = lock_run(run_id)
    try:
        seat = _seat_for(run, seat_id)
        if not may_change_seat(run, seat, actor):
            raise NotFound(_("没有找到该报名。"))
        if seat.status == "cancelled":
            raise ServiceError(_("该报名已取消。"))
        if not can_manage(run, actor) and today() > run.cancel_deadline and seat.status == "booked":
            raise ServiceError(
                _(
                    "已过取消截止日期（%(day)s），请联系发布单位。",
                    day=run.cancel_deadline.isoformat(),
                )
            )
        was = seat.status
        seat.status = "cancelled"
        seat.cancelled_at = utcnow()
        seat.offer_expires_at = None
        db.session.flush()
        if was in SEAT_HOLDING and run.status == "open":
            _offer_freed(run)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def accept_offer(run_id: int, seat_id: int, actor: Any) -> None:
    """Take the seat offered from the waiting list before the offer expires. Commits."""
    run = lock_run(run_id)
    try:
        seat = _seat_for(run, seat_id)
        if (
            not may_change_seat(run, seat, actor)
            or can_manage(run, actor)
            and actor.id
            not in (
                seat.user_id,
                seat.booked_by_id,
            )
        ):
            raise NotFound(_("没有找到该报名。"))
        if seat.status != "offered":
            raise ServiceError(_("没有待确认的候补名额。"))
        if seat.offer_expires_at is not None and seat.offer_expires_at < utcnow():
            raise ServiceError(_("候补名额已过期。"))
        seat.status = "booked"
        seat.offer_expires_at = None
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def expire_offers(now: datetime | None = None) -> int:
    """Offers past their time are cancelled and offered on; each claimed once. Commits."""
    now = now or utcnow()
    run_ids = sorted(
        set(
            db.session.scalars(
                select(OpenRunSeat.run_id).where(
                    OpenRunSeat.status == "offered", OpenRunSeat.offer_expires_at < now
                )
            )
        )
    )
    expired = 0
    for run_id in run_ids:
        run = lock_run(run_id)
        try:
            claimed = db.session.execute(
                update(OpenRunSeat)
                .where(
                    OpenRunSeat.run_id == run_id,
                    OpenRunSeat.status == "offered",
                    OpenRunSeat.offer_expires_at < now,
                )
                .values(status="cancelled", cancelled_at=now)
            ).rowcount
            expired += claimed
            db.session.expire_all()
            if claimed and run.status == "open":
                _offer_freed(run)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return expired


# ---------------------------------------------------------------- the deadline


def cancel_run(run_id: int, actor: Any, reason: str = "") -> None:
    """The publisher (or the office) calls a run off: seats cancelled, everyone told. Commits."""
    run = get_managed_run(run_id, actor)
    if run.status != "open":
        raise ServiceError(_("该班次已%(status)s。", status=run.status_label))
    _close(run_id, "cancelled", reason or _("发布单位取消了该班次。"), actor)


def _close(run_id: int, outcome: str, reason: str, actor: Any) -> bool:
    """Claim an open run and close it as ``outcome``; False if another process already did."""
    run = lock_run(run_id)
    try:
        claimed = db.session.execute(
            update(OpenRun)
            .where(OpenRun.id == run_id, OpenRun.status == "open", OpenRun.processed_at.is_(None))
            .values(status=outcome, processed_at=utcnow())
        ).rowcount
        if not claimed:
            db.session.rollback()
            return False
        db.session.refresh(run)
        seats = seats_of(run)
        booked = [s for s in seats if s.status == "booked"]
        training_class = run.training_class
        if outcome == "confirmed":
            for seat in booked:
                user = seat.user
                values = roster.TraineeValues(
                    name=seat.name, phone=user.phone or "", unit=seat.unit
                )
                if not db.session.scalar(
                    select(RosterEntry.id).where(
                        RosterEntry.class_id == training_class.id, RosterEntry.user_id == user.id
                    )
                ):
                    entry = RosterEntry(
                        class_id=training_class.id,
                        user_id=user.id,
                        phone=user.phone or "",
                        source="open_run",
                    )
                    roster.apply_values(entry, values)
                    db.session.add(entry)
            subject = _("开放班次已成班：%(run)s", run=run.title)
            body = _("%(day)s 开班，请按时参加。行程见“我的”页面。", day=run.starts_on.isoformat())
        else:
            subject = _("开放班次已取消：%(run)s", run=run.title)
            body = reason
            training_class.cancelled = True
        for seat in seats:
            if (seat.status != "booked" or outcome == "cancelled") and seat.status != "cancelled":
                seat.status = "cancelled"
                seat.cancelled_at = utcnow()
                seat.offer_expires_at = None
        people = [s.user for s in booked]
        notify(people, subject, body, f"/runs/{run.id}")
        for user in people:
            queue_sms(user.phone or "", f"【环线培训门户】{subject}。{body}")
        notify([run.publisher], subject, body, f"/runs/{run.id}/manage")
        record(actor, f"open_run.{outcome}", run.title, booked=len(booked))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if outcome == "cancelled":
        release_booking(run_id)
    return True


def release_booking(run_id: int) -> None:
    """Cancel the scheduling booking of a cancelled run (idempotent: retried by the job)."""
    run = db.session.get(OpenRun, run_id)
    booking = run.booking if run is not None else None
    if booking is None or booking.status == "cancelled":
        return
    cancel_booking(booking, SYSTEM, _("开放班次未成班，取消预约。"))


@dataclass
class Processed:
    confirmed: list[int]
    cancelled: list[int]
    offers_expired: int
    electives_placed: int


def process_open_runs(on: date | None = None) -> Processed:
    """The deadline job: close every open run whose booking deadline has passed. Commits.

    Safe to run on several servers at once: ``_close`` claims each run with a conditional
    UPDATE (… WHERE status = 'open') under the run's lock and checks the row count.
    """
    from portal.trainees import electives

    on = on or today()
    expired = expire_offers()
    due = db.session.scalars(
        select(OpenRun.id)
        .where(OpenRun.status == "open", OpenRun.booking_deadline < on)
        .order_by(OpenRun.id)
    ).all()
    done = Processed([], [], expired, 0)
    for run_id in due:
        count = held_booked(run_id)
        run = db.session.get(OpenRun, run_id)
        outcome = "confirmed" if count >= run.min_participants else "cancelled"
        reason = _(
            "报名 %(count)s 人，未达到成班人数 %(min)s 人，班次取消。",
            count=count,
            min=run.min_participants,
        )
        if _close(run_id, outcome, reason, SYSTEM):
            (done.confirmed if outcome == "confirmed" else done.cancelled).append(run_id)
    # Cancelled runs whose booking a failed earlier run could not release.
    for run_id in db.session.scalars(
        select(OpenRun.id)
        .join(Booking, Booking.id == OpenRun.booking_id)
        .where(and_(OpenRun.status == "cancelled", Booking.status != "cancelled"))
    ).all():
        release_booking(run_id)
    done.electives_placed = electives.place_due()
    return done


def held_booked(run_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(OpenRunSeat)
        .where(OpenRunSeat.run_id == run_id, OpenRunSeat.status == "booked")
    )


def units_summary(run: OpenRun) -> list[tuple[str, int, int | None]]:
    """(unit, seats held, quota or None) per unit of the run."""
    counts: dict[str, int] = {}
    for seat in seats_of(run):
        if seat.status in SEAT_HOLDING:
            counts[seat.unit or "—"] = counts.get(seat.unit or "—", 0) + 1
    rows = [(q.unit_name, counts.pop(q.unit_name, 0), q.seats) for q in run.quotas]
    rows.extend((unit, n, None) for unit, n in sorted(counts.items()))
    return rows


def seat_rows(seats: Sequence[OpenRunSeat]) -> list[OpenRunSeat]:
    return [s for s in seats if s.status != "cancelled"]
