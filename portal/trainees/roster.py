"""Rosters (学员名单): adding trainees by hand or from a file, linking them to accounts.

A trainee is one account (role ``trainee``) for life, found by mobile number: a roster row
whose number belongs to a trainee account is linked to it, never a second account. The
roster row keeps what the class knew of the person (unit, post, rank …). An identity-card
number is never stored: only its last four characters and an HMAC keyed with the
deployment's secret (enough to recognise the same person on a re-import, useless to
anyone who copies the database without the key).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.audit.services import record
from portal.auth.models import User
from portal.errors import NotFound, ServiceError, ValidationFailed
from portal.extensions import db
from portal.scheduling.models import TrainingClass
from portal.trainees.access import require_manager
from portal.trainees.models import GENDERS, RosterEntry

PHONE_RE = re.compile(r"1[3-9]\d{9}")
ID_CARD_RE = re.compile(r"\d{17}[\dX]|\d{15}")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
MAX_ROSTER = 2000

# Field → (label, limit); the same names are used by the form, the import and the export.
TEXT_FIELDS: dict[str, tuple[str, int]] = {
    "unit": ("单位", 128),
    "position": ("职务", 64),
    "rank": ("职级", 32),
    "ethnicity": ("民族", 16),
    "political_status": ("政治面貌", 16),
}


def normalise_phone(value: Any) -> str | None:
    """A mainland mobile number as 11 digits (spaces, dashes and +86 removed), or None."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if text.endswith(".0"):  # a number Excel stored as a float
        text = text[:-2]
    text = re.sub(r"[\s\-()]", "", text)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    return text if PHONE_RE.fullmatch(text) else None


def normalise_id_card(value: Any) -> str | None:
    """A resident identity-card number (18 with a valid check digit, or 15 digits), or None."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip().upper().replace(" ", "")
    if not ID_CARD_RE.fullmatch(text):
        return None
    if len(text) == 18:
        total = sum(int(d) * w for d, w in zip(text[:17], ID_WEIGHTS, strict=True))
        if ID_CHECK[total % 11] != text[17]:
            return None
    return text


def id_card_hash(number: str) -> str:
    key = current_app.secret_key
    key_bytes = key.encode() if isinstance(key, str) else bytes(key)
    return hmac.new(key_bytes, b"id-card:" + number.encode(), hashlib.sha256).hexdigest()


@dataclass
class TraineeValues:
    """A roster row's values, checked and normalised (the id card as last 4 + hash only)."""

    name: str
    phone: str
    gender: str = ""
    unit: str = ""
    position: str = ""
    rank: str = ""
    ethnicity: str = ""
    political_status: str = ""
    id_card_last4: str = ""
    id_card_hash: str = ""


def validate_trainee(values: Mapping[str, Any]) -> TraineeValues:
    """Check one trainee's values; raise ValidationFailed naming every bad field (Chinese)."""
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    name = str(values.get("name") or "").strip()
    if not name:
        errors["name"] = _("请填写姓名。")
    elif len(name) > 64 or "\x00" in name:
        errors["name"] = _("姓名不能超过 64 个字符。")
    raw_phone = values.get("phone")
    phone = normalise_phone(raw_phone)
    if phone is None:
        errors["phone"] = (
            _("请填写手机号。")
            if not str(raw_phone or "").strip()
            else _("手机号须为 11 位大陆手机号码，例如 13812345678。")
        )
    gender = str(values.get("gender") or "").strip()
    if gender and gender not in GENDERS:
        errors["gender"] = _("性别请填写“男”或“女”。")
    for field, (label, limit) in TEXT_FIELDS.items():
        text = str(values.get(field) or "").strip()
        if "\x00" in text or len(text) > limit:
            errors[field] = _("%(label)s不能超过 %(limit)s 个字符。", label=label, limit=limit)
        cleaned[field] = text
    last4 = digest = ""
    raw_card = str(values.get("id_card") or "").strip()
    if raw_card:
        card = normalise_id_card(raw_card)
        if card is None:
            errors["id_card"] = _("身份证号格式不正确（18 位，末位可为 X），请核对。")
        else:
            last4, digest = card[-4:], id_card_hash(card)
    if errors:
        raise ValidationFailed(errors)
    return TraineeValues(
        name=name,
        phone=phone or "",
        gender=gender,
        id_card_last4=last4,
        id_card_hash=digest,
        **cleaned,
    )


def trainee_account(phone: str) -> User | None:
    """The trainee account of this mobile number, if there is one."""
    return db.session.scalar(
        select(User).where(User.role == "trainee", User.phone == phone).order_by(User.id).limit(1)
    )


def ensure_account(values: TraineeValues) -> tuple[User, bool]:
    """The trainee's account (found by phone, else created without a usable password)."""
    found = trainee_account(values.phone)
    if found is not None:
        return found, False
    username = values.phone
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username)):
        username = f"t{values.phone}"
    user = User(
        username=username,
        display_name=values.name,
        role="trainee",
        phone=values.phone,
        unit_name=values.unit or None,
        active=True,
    )
    # Nobody knows this password: the trainee sets theirs through an activation link.
    user.set_password(secrets.token_urlsafe(32))
    db.session.add(user)
    db.session.flush()
    return user, True


def entries_of(training_class: TrainingClass) -> list[RosterEntry]:
    return list(
        db.session.scalars(
            select(RosterEntry)
            .options(selectinload(RosterEntry.user))
            .where(RosterEntry.class_id == training_class.id)
            .order_by(RosterEntry.id)
        )
    )


def roster_count(class_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(RosterEntry).where(RosterEntry.class_id == class_id)
    )


def find_entry(training_class: TrainingClass, values: TraineeValues) -> RosterEntry | None:
    """The class's entry for this person: same phone, or the same identity card."""
    account = trainee_account(values.phone)
    if account is not None:
        found = db.session.scalar(
            select(RosterEntry).where(
                RosterEntry.class_id == training_class.id, RosterEntry.user_id == account.id
            )
        )
        if found is not None:
            return found
    if values.id_card_hash:
        return db.session.scalar(
            select(RosterEntry).where(
                RosterEntry.class_id == training_class.id,
                RosterEntry.id_card_hash == values.id_card_hash,
            )
        )
    return None


def apply_values(entry: RosterEntry, values: TraineeValues) -> None:
    for field in ("name", "gender", "unit", "position", "rank", "ethnicity", "political_status"):
        setattr(entry, field, getattr(values, field))
    if values.id_card_last4:
        entry.id_card_last4, entry.id_card_hash = values.id_card_last4, values.id_card_hash


def upsert_entry(
    training_class: TrainingClass, values: TraineeValues, source: str = "manual"
) -> tuple[RosterEntry, str]:
    """Add the trainee to the roster or update their row; returns it and "created"/"updated".

    The caller checked who acts and commits.
    """
    entry = find_entry(training_class, values)
    if entry is not None:
        if entry.phone != values.phone:
            # A new number for the same person (matched by identity card): their account follows.
            other = trainee_account(values.phone)
            if other is not None and other.id != entry.user_id:
                raise ValidationFailed({"phone": _("该手机号已属于名单上的另一位学员。")})
            entry.phone = values.phone
            entry.user.phone = values.phone
        apply_values(entry, values)
        return entry, "updated"
    if roster_count(training_class.id) >= MAX_ROSTER:
        raise ServiceError(_("一个班的学员名单最多 %(max)s 人。", max=MAX_ROSTER))
    user, _created = ensure_account(values)
    entry = RosterEntry(
        class_id=training_class.id, user_id=user.id, phone=values.phone, source=source
    )
    apply_values(entry, values)
    db.session.add(entry)
    db.session.flush()
    return entry, "created"


def add_trainee(
    training_class: TrainingClass, actor: Any, values: Mapping[str, Any]
) -> RosterEntry:
    """The organizer adds (or updates) one trainee by hand. Commits."""
    require_manager(training_class, actor)
    entry, action = upsert_entry(training_class, validate_trainee(values))
    record(actor, "roster.add" if action == "created" else "roster.update", training_class.name)
    db.session.commit()
    return entry


def get_entry(training_class: TrainingClass, entry_id: int, actor: Any) -> RosterEntry:
    require_manager(training_class, actor)
    entry = db.session.get(RosterEntry, entry_id)
    if entry is None or entry.class_id != training_class.id:
        raise NotFound(_("没有找到该学员。"))
    return entry


def update_trainee(
    training_class: TrainingClass, entry_id: int, actor: Any, values: Mapping[str, Any]
) -> RosterEntry:
    """The organizer corrects a trainee's row. Commits."""
    entry = get_entry(training_class, entry_id, actor)
    cleaned = validate_trainee(values)
    if cleaned.phone != entry.phone:
        other = trainee_account(cleaned.phone)
        if other is not None and other.id != entry.user_id:
            taken = db.session.scalar(
                select(RosterEntry.id).where(
                    RosterEntry.class_id == training_class.id, RosterEntry.user_id == other.id
                )
            )
            if taken:
                raise ValidationFailed({"phone": _("该手机号已属于名单上的另一位学员。")})
            entry.user_id = other.id  # the number is a known trainee's: link to them
        else:
            entry.user.phone = cleaned.phone
        entry.phone = cleaned.phone
    apply_values(entry, cleaned)
    record(actor, "roster.update", training_class.name)
    db.session.commit()
    return entry


def remove_trainee(training_class: TrainingClass, entry_id: int, actor: Any) -> None:
    """Take a trainee off the roster (the account stays: it may be on other classes). Commits."""
    entry = get_entry(training_class, entry_id, actor)
    db.session.delete(entry)
    record(actor, "roster.remove", training_class.name)
    db.session.commit()


def classes_of_trainee(user: Any) -> list[TrainingClass]:
    """The classes whose rosters hold this account, newest first."""
    return list(
        db.session.scalars(
            select(TrainingClass)
            .join(RosterEntry, RosterEntry.class_id == TrainingClass.id)
            .where(RosterEntry.user_id == user.id, TrainingClass.cancelled.is_(False))
            .order_by(TrainingClass.starts_on.desc(), TrainingClass.id.desc())
        )
    )


def split_ended(classes: list[TrainingClass], today: date) -> tuple[list, list]:
    """The classes not ended by ``today`` and those ended (the trainee's history)."""
    return (
        [c for c in classes if c.ends_on >= today],
        [c for c in classes if c.ends_on < today],
    )


def entry_of(training_class_id: int, user: Any) -> RosterEntry | None:
    if user is None or not getattr(user, "is_authenticated", False) or user.id is None:
        return None
    return db.session.scalar(
        select(RosterEntry).where(
            RosterEntry.class_id == training_class_id, RosterEntry.user_id == user.id
        )
    )


def require_trainee_of(class_id: int, user: Any) -> tuple[TrainingClass, RosterEntry]:
    """The class and the user's own roster entry; NotFound unless the user is on the roster."""
    training_class = db.session.get(TrainingClass, class_id)
    entry = entry_of(class_id, user) if training_class is not None else None
    if training_class is None or entry is None or training_class.cancelled:
        raise NotFound(_("没有找到该培训班。"))
    return training_class, entry
